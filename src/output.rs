//! The output layer: data on stdout, messages on stderr, JSON when asked.
//!
//! Commands never print directly; they write through [`Output`] so that tests and benches can
//! capture everything, `--json` is handled in one place, and a closed pipe (`certtool inspect x |
//! head`) is not mistaken for an error. It must never be handed secret material to print.

use std::io::{self, Write};

use serde::Serialize;

use crate::text::{sanitize, sanitize_lines};

/// What a command concluded: one typed value that the output layer renders as text for people
/// or as one JSON object (with a top-level `ok`), so no command branches on `--json`.
pub trait Report: Serialize {
    /// Whether everything the command did or checked is fine: the JSON's top-level `ok`.
    fn ok(&self) -> bool;

    /// The text for people: data for stdout (a listing, a snippet) and a note for stderr (what
    /// was written, and where).
    fn text(&self) -> Text;
}

/// A report as text: what goes to stdout, and what goes to stderr.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Text {
    pub stdout: String,
    pub stderr: String,
}

impl Text {
    /// Text for stdout only.
    #[must_use]
    pub fn data(stdout: String) -> Text {
        Text {
            stdout,
            stderr: String::new(),
        }
    }

    /// Text for stderr only.
    #[must_use]
    pub fn note(stderr: String) -> Text {
        Text {
            stdout: String::new(),
            stderr,
        }
    }
}

/// `{"ok": ..., <the report's fields>}`.
#[derive(Serialize)]
struct WithOk<'r, R: Serialize> {
    ok: bool,
    #[serde(flatten)]
    report: &'r R,
}

/// `{"ok": false, "error": {...}}`: what `--json` prints on stdout when a command fails, as well
/// as the line on stderr, so that a script parsing stdout always gets JSON.
pub fn json_error(
    out: &mut dyn Write,
    message: &str,
    hint: Option<&str>,
    exit_code: u8,
) -> io::Result<()> {
    #[derive(Serialize)]
    struct Failure<'a> {
        ok: bool,
        error: Details<'a>,
    }
    #[derive(Serialize)]
    struct Details<'a> {
        message: &'a str,
        hint: Option<&'a str>,
        exit_code: u8,
    }
    let failure = Failure {
        ok: false,
        error: Details {
            message,
            hint,
            exit_code,
        },
    };
    serde_json::to_writer_pretty(&mut *out, &failure)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Where a command writes, and how.
pub struct Output<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    json: bool,
}

impl<'a> Output<'a> {
    pub fn new(out: &'a mut dyn Write, err: &'a mut dyn Write, json: bool) -> Self {
        Output { out, err, json }
    }

    /// Data for the user or a script (tokens, snippets, inspection results): stdout.
    pub fn data(&mut self, text: &str) -> io::Result<()> {
        let text = sanitize_lines(text);
        self.out.write_all(text.as_bytes())?;
        if !text.ends_with('\n') {
            self.out.write_all(b"\n")?;
        }
        self.out.flush()
    }

    /// Refuse `--json` for output that cannot be JSON (a secret on stdout, Prometheus metrics):
    /// the error says `why`, the hint says what to do instead.
    pub fn refuse_json(&self, why: &str, hint: &str) -> Result<(), crate::error::Error> {
        if self.json {
            return Err(crate::error::Error::invalid(why, hint));
        }
        Ok(())
    }

    /// Show `report`: its text, or (with `--json`) one JSON object with a top-level `ok`.
    pub fn report<R: Report>(&mut self, report: &R) -> io::Result<()> {
        if self.json {
            return self.json_value(&WithOk {
                ok: report.ok(),
                report,
            });
        }
        let text = report.text();
        if !text.stdout.is_empty() {
            self.data(&text.stdout)?;
        }
        if !text.stderr.is_empty() {
            self.note(&text.stderr)?;
        }
        Ok(())
    }

    /// One JSON object on stdout, pretty-printed and newline-terminated.
    pub fn json_value(&mut self, value: &impl Serialize) -> io::Result<()> {
        // Stdout is line-buffered: without this, every line of the JSON is one write(2).
        let mut buffered = io::BufWriter::with_capacity(64 * 1024, &mut *self.out);
        serde_json::to_writer_pretty(&mut buffered, value)?;
        buffered.write_all(b"\n")?;
        buffered.flush()
    }

    /// A summary or note for the human running the command: stderr.
    pub fn note(&mut self, text: &str) -> io::Result<()> {
        let text = sanitize_lines(text);
        self.err.write_all(text.as_bytes())?;
        if !text.ends_with('\n') {
            self.err.write_all(b"\n")?;
        }
        self.err.flush()
    }

    /// A warning: stderr, prefixed so that it stands out in logs. Shown in JSON mode too.
    pub fn warn(&mut self, text: &str) -> io::Result<()> {
        writeln!(self.err, "certtool: warning: {}", sanitize(text))?;
        self.err.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_goes_to_stdout_and_notes_to_stderr() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut o = Output::new(&mut out, &mut err, true);
        o.json_value(&serde_json::json!({"a": 1})).unwrap();
        o.note("hello").unwrap();
        o.warn("careful").unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "{\n  \"a\": 1\n}\n");
        assert_eq!(
            String::from_utf8(err).unwrap(),
            "hello\ncerttool: warning: careful\n"
        );
    }

    #[derive(Serialize)]
    struct Sample {
        name: &'static str,
    }

    impl Report for Sample {
        fn ok(&self) -> bool {
            false
        }

        fn text(&self) -> Text {
            Text {
                stdout: format!("data {}", self.name),
                stderr: "note".to_owned(),
            }
        }
    }

    #[test]
    fn reports_are_text_or_one_json_object_with_ok_first() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        Output::new(&mut out, &mut err, true)
            .report(&Sample { name: "x" })
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\n  \"ok\": false,\n  \"name\": \"x\"\n}\n"
        );
        assert!(err.is_empty());
        let (mut out, mut err) = (Vec::new(), Vec::new());
        Output::new(&mut out, &mut err, false)
            .report(&Sample { name: "x" })
            .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "data x\n");
        assert_eq!(String::from_utf8(err).unwrap(), "note\n");
    }
}
