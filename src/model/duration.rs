//! How slotcron writes a duration (`1h30m`, `500ms`): the notation `slotcron.yaml` and the
//! job files use, so a message quotes a limit the way the user wrote it.

use std::time::Duration;

/// Formats a duration the way `config::parse_duration` reads it (`1h30m`, `500ms`).
pub fn format_duration(d: Duration) -> String {
    let mut millis = d.as_millis();
    if millis == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, size) in [
        ("d", 86_400_000u128),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        if millis >= size {
            out.push_str(&format!("{}{unit}", millis / size));
            millis %= size;
        }
    }
    out
}
