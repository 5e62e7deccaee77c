//! Plain aligned text tables for terminal output, and the short figures shown in them.

use chrono::{DateTime, Local, TimeZone, Utc};

use crate::printable::escape;

/// Renders rows under a header, columns padded to their widest cell. Cells are printed
/// with control characters escaped: they may hold text from a job file.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|c| escape(c).into_owned()).collect())
        .collect();
    let rows = &rows;
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let text: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(text.join("  ").trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// Bytes as a short human figure (`1.5G`, `300M`, `12K`).
pub fn bytes(n: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("T", 1 << 40),
        ("G", 1 << 30),
        ("M", 1 << 20),
        ("K", 1 << 10),
    ];
    for (unit, size) in UNITS {
        if n >= size {
            let value = n as f64 / size as f64;
            return if value >= 100.0 || value.fract() == 0.0 {
                format!("{value:.0}{unit}")
            } else {
                format!("{value:.1}{unit}")
            };
        }
    }
    format!("{n}B")
}

/// Milliseconds as a short duration (`850ms`, `12.3s`, `4m05s`).
pub fn millis(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms}ms"),
        1_000..60_000 => format!("{:.1}s", ms as f64 / 1000.0),
        _ => format!("{}m{:02}s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// What the pressure response did to a run, in a table cell: `-` if nothing; else where it
/// holds the run now, if anywhere, then how long it was throttled and frozen
/// (`frozen (throttled 30.0s, frozen 12.0s)`, in history `throttled 30.0s, frozen 12.0s`).
pub fn pressure(view: Option<&crate::model::PressureView>) -> String {
    let Some(view) = view else {
        return "-".into();
    };
    let times = format!(
        "throttled {}, frozen {}",
        millis(view.throttled_ms),
        millis(view.frozen_ms)
    );
    match view.state {
        Some(state) => format!("{} ({times})", state.as_str()),
        None => times,
    }
}

/// An instant as shown in tables, to the second, in `tz`.
pub fn time_in<Tz: TimeZone>(t: &DateTime<Utc>, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    t.with_timezone(tz).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// An instant as shown in tables, in the local time zone.
pub fn local_time(t: &DateTime<Utc>) -> String {
    time_in(t, &Local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures() {
        assert_eq!(bytes(3 << 30), "3G");
        assert_eq!(bytes(1536 << 20), "1.5G");
        assert_eq!(bytes(512), "512B");
        assert_eq!(millis(850), "850ms");
        assert_eq!(millis(12_340), "12.3s");
        assert_eq!(millis(245_000), "4m05s");
    }

    #[test]
    fn pressure_cells() {
        use crate::model::{PressureState, PressureTimes, PressureView};
        assert_eq!(pressure(None), "-");
        let ended = PressureView::ended(PressureTimes {
            throttled_ms: 30_000,
            frozen_ms: 12_000,
        });
        assert_eq!(pressure(Some(&ended)), "throttled 30.0s, frozen 12.0s");
        let live = PressureView {
            state: Some(PressureState::Frozen),
            ..ended
        };
        assert_eq!(
            pressure(Some(&live)),
            "frozen (throttled 30.0s, frozen 12.0s)"
        );
    }

    #[test]
    fn columns_align() {
        let text = render(&["a", "bb"], &[vec!["long".into(), "x".into()]]);
        assert_eq!(text, "a     bb\nlong  x\n");
    }
}
