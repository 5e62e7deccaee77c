//! Figures in words with the precision that shows a difference: `10.0 s` against
//! `12.3 s`, `4.41 MiB` against `4.45 MiB`, never "4.4 MiB against a usual 4.4 MiB". One
//! home for alert messages and evidence, so every place that shows them agrees.

use crate::model::Figure;

/// A figure's amount: a duration in milliseconds or a size in bytes.
///
/// ```
/// use slotcron::baseline::effect::Figure;
/// use slotcron::baseline::units::amount;
///
/// assert_eq!(amount(Figure::Duration, 4.5), "4.5 ms");
/// assert_eq!(amount(Figure::Duration, 250.0), "250 ms");
/// assert_eq!(amount(Figure::Duration, 12_345.0), "12.3 s");
/// assert_eq!(amount(Figure::Duration, 1_212_000.0), "20m 12s");
/// assert_eq!(amount(Figure::Duration, 7_805_000.0), "2h 10m 05s");
/// assert_eq!(amount(Figure::Memory, 512.0), "512 B");
/// assert_eq!(amount(Figure::Memory, 4_620_000.0), "4.41 MiB");
/// assert_eq!(amount(Figure::Memory, 33_554_432.0), "32.0 MiB");
/// assert_eq!(amount(Figure::Memory, 1_288_490_189.0), "1.20 GiB");
/// ```
pub fn amount(figure: Figure, value: f64) -> String {
    match figure {
        Figure::Duration => duration(value),
        Figure::Memory => bytes(value),
    }
}

/// A change, with its sign: `+10.0 s`, `-12.0 KiB`.
///
/// ```
/// use slotcron::baseline::effect::Figure;
/// use slotcron::baseline::units::signed;
///
/// assert_eq!(signed(Figure::Memory, -12_288.0), "-12.0 KiB");
/// assert_eq!(signed(Figure::Duration, 10_000.0), "+10.0 s");
/// ```
pub fn signed(figure: Figure, change: f64) -> String {
    let sign = if change < 0.0 { "-" } else { "+" };
    format!("{sign}{}", amount(figure, change.abs()))
}

/// A ratio as it reads before "the baseline median": `2.00x`, `0.45x`, `1/600 of`.
///
/// ```
/// use slotcron::baseline::units::ratio_text;
///
/// assert_eq!(ratio_text(2.0), "2.00x");
/// assert_eq!(ratio_text(0.45), "0.45x");
/// assert_eq!(ratio_text(1.0 / 600.0), "1/600 of");
/// ```
pub fn ratio_text(ratio: f64) -> String {
    if ratio >= 0.1 || ratio <= 0.0 {
        format!("{ratio:.2}x")
    } else {
        format!("1/{:.0} of", 1.0 / ratio)
    }
}

fn duration(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 1_000.0 {
        format!("{ms:.0} ms")
    } else if ms < 60_000.0 {
        format!("{:.1} s", ms / 1_000.0)
    } else {
        let secs = (ms / 1_000.0).round() as u64;
        let (h, m, s) = (secs / 3_600, secs / 60 % 60, secs % 60);
        if h > 0 {
            format!("{h}h {m:02}m {s:02}s")
        } else {
            format!("{m}m {s:02}s")
        }
    }
}

fn bytes(b: f64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if b < 1024.0 {
        return format!("{b:.0} B");
    }
    let mut value = b;
    let mut unit = "B";
    for next in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    match value {
        v if v < 10.0 => format!("{v:.2} {unit}"),
        v if v < 100.0 => format!("{v:.1} {unit}"),
        v => format!("{v:.0} {unit}"),
    }
}
