//! Text that certtool prints: the one sanitiser for strings from files, file names, servers
//! and configs, and the few formats every layer shares (file modes, colon hex).
//!
//! Pure and small, so that `pki`, `files` and `output` can all use it without depending on
//! each other. It must not print anything.

use std::fmt::Write as _;

/// Escape control characters (and other non-printing characters) in a string that came from an
/// untrusted file, such as a certificate's subject, so it cannot move the cursor or forge lines.
#[must_use]
pub fn sanitize(text: &str) -> String {
    let mut clean = String::with_capacity(text.len());
    for c in text.chars() {
        if is_dangerous(c) {
            let _ = write!(clean, "\\u{{{:x}}}", u32::from(c));
        } else {
            clean.push(c);
        }
    }
    clean
}

/// Whether `c` must be escaped before it reaches a terminal: control characters (ESC, BEL, CR,
/// the C1 range) and the invisible or direction-changing marks that can disguise text.
fn is_dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// [`sanitize`] for text made of lines: line feeds and tabs stay, everything else dangerous
/// is escaped. Every text on stdout and stderr passes here, so a string from a file, a file
/// name, a server or a config can never reach the terminal as an escape sequence.
#[must_use]
pub fn sanitize_lines(text: &str) -> std::borrow::Cow<'_, str> {
    if !text
        .chars()
        .any(|c| c != '\n' && c != '\t' && is_dangerous(c))
    {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut clean = String::with_capacity(text.len());
    for c in text.chars() {
        if c != '\n' && c != '\t' && is_dangerous(c) {
            let _ = write!(clean, "\\u{{{:x}}}", u32::from(c));
        } else {
            clean.push(c);
        }
    }
    std::borrow::Cow::Owned(clean)
}

/// A file mode as `0644`.
#[must_use]
pub fn mode_string(mode: u32) -> String {
    format!("{:04o}", mode & 0o7777)
}

/// Bytes as colon-separated upper-case hex, the way `openssl x509 -fingerprint` shows them.
#[must_use]
pub fn colon_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = write!(s, "{b:02X}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_escapes_control_characters() {
        assert_eq!(sanitize("CN=a\nb\x1b[31m"), "CN=a\\u{a}b\\u{1b}[31m");
        assert_eq!(sanitize("plain ünïcode"), "plain ünïcode");
        assert_eq!(sanitize("rtl\u{202e}x"), "rtl\\u{202e}x");
    }

    #[test]
    fn sanitize_lines_keeps_lines_and_tabs_only() {
        assert_eq!(sanitize_lines("a\tb\nc"), "a\tb\nc");
        assert_eq!(
            sanitize_lines("x\x1b]0;title\x07\r\n"),
            "x\\u{1b}]0;title\\u{7}\\u{d}\n"
        );
        assert_eq!(sanitize_lines("\u{9b}2J"), "\\u{9b}2J");
    }

    #[test]
    fn colon_hex_matches_openssl_style() {
        assert_eq!(colon_hex(&[0x0a, 0xff, 0x00]), "0A:FF:00");
        assert_eq!(colon_hex(&[]), "");
    }

    #[test]
    fn mode_string_is_four_octal_digits() {
        assert_eq!(mode_string(0o100_600), "0600");
        assert_eq!(mode_string(0o644), "0644");
    }
}
