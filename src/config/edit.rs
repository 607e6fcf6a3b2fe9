//! In-place TOML edits, pure: parse a file's text (keeping a byte-order mark, which is not
//! TOML but is the user's byte), let the caller change the document, render it back with every
//! byte it did not touch, and show the change as a unified diff.
//!
//! No files here: the command reads and writes them. It must not decide which keys change.

use toml_edit::DocumentMut;
use zeroize::Zeroizing;

/// Where and why a file does not parse as TOML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Why an edit did not happen.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{0}")]
    Parse(ParseError),
    /// The caller's change refused the document.
    #[error(transparent)]
    Apply(anyhow::Error),
}

/// The text of `text` after `apply` changed its document. The result is zeroized when dropped,
/// as a config may hold a shared secret.
pub fn edit(
    text: &str,
    apply: impl FnOnce(&mut DocumentMut) -> anyhow::Result<()>,
) -> Result<Zeroizing<String>, EditError> {
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(body) => ("\u{feff}", body),
        None => ("", text),
    };
    let mut doc: DocumentMut = body.parse().map_err(|e: toml_edit::TomlError| {
        let (line, column) = e
            .span()
            .map_or((0, 0), |span| line_and_column(body, span.start));
        EditError::Parse(ParseError {
            line,
            column,
            message: e.message().trim().to_owned(),
        })
    })?;
    apply(&mut doc).map_err(EditError::Apply)?;
    Ok(Zeroizing::new(format!("{bom}{doc}")))
}

/// The line and column (from 1) of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// `old` to `new` as a unified diff headed `name`, with `redact` (a secret) shown as
/// `<secret>`.
#[must_use]
pub fn unified_diff(name: &str, old: &str, new: &str, redact: Option<&str>) -> String {
    let diff = similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(name, name)
        .to_string();
    match redact.filter(|r| !r.is_empty()) {
        Some(secret) => diff.replace(secret, "<secret>"),
        None => diff,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_from_one() {
        assert_eq!(line_and_column("a\nbc\n", 3), (2, 2));
    }

    #[test]
    fn edits_keep_every_byte_they_do_not_own() {
        let text = "\u{feff}# top\n[http]\n  # https-enabled = false\n  bind-address = \":8086\"\n";
        let new = edit(text, |doc| {
            doc["http"]["https-enabled"] = toml_edit::value(true);
            Ok(())
        })
        .unwrap();
        assert!(new.starts_with("\u{feff}# top\n[http]\n"), "{new:?}");
        assert!(new.contains("  bind-address = \":8086\"\n"), "{new:?}");
        assert!(new.contains("https-enabled = true"), "{new:?}");
        let same = edit(text, |_| Ok(())).unwrap();
        assert_eq!(same.as_str(), text);
    }

    #[test]
    fn parse_errors_say_where() {
        let err = edit("[http]\nx = = 1\n", |_| Ok(())).unwrap_err();
        let EditError::Parse(p) = err else {
            panic!("{err}")
        };
        assert_eq!(p.line, 2);
        let refused = edit("", |_| Err(anyhow::anyhow!("no"))).unwrap_err();
        assert!(matches!(refused, EditError::Apply(_)));
    }

    #[test]
    fn diffs_hide_the_secret() {
        let diff = unified_diff("f", "a\n", "a\nsecret = \"s3cr3t\"\n", Some("s3cr3t"));
        assert!(diff.contains("+secret = \"<secret>\""), "{diff}");
        assert!(!diff.contains("s3cr3t"));
    }
}
