//! Text that came from a file, made safe to print: [`escape`] writes control characters
//! (terminal escape sequences among them) and bidirectional overrides as visible escapes,
//! and [`excerpt`] bounds what is quoted. Everything `check`, `jobs` and `status` print of a
//! job file goes through here, so a file cannot drive the terminal of whoever reads it.

use std::borrow::Cow;

/// `text` with every control character (C0, DEL, C1) and every bidirectional override
/// written as an escape: `\n`, `\r`, `\t`, else `\u{1b}`. Backslashes are left alone, so
/// escaping twice changes nothing more than escaping once.
///
/// ```
/// use slotcron::printable::escape;
/// assert_eq!(escape("red \u{1b}[31m\tx"), "red \\u{1b}[31m\\tx");
/// assert_eq!(escape(&escape("a\u{0}b")), "a\\u{0}b");
/// ```
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The first `max` bytes of `text` (at a character boundary), saying how much was left out.
///
/// ```
/// use slotcron::printable::excerpt;
/// assert_eq!(excerpt("abcdef", 3), "abc... (3 more bytes)");
/// assert_eq!(excerpt("abc", 3), "abc");
/// ```
pub fn excerpt(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!(
        "{}... ({} more bytes)",
        &text[..end],
        text.len() - end
    ))
}
