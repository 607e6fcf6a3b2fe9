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
    /// Whether stdout is a listing of results (checks, files, fields), which `--quiet` leaves
    /// out, rather than what the command exists to print (a token, a snippet, metrics, a diff).
    pub listing: bool,
}

impl Text {
    /// What the command exists to print, for stdout: printed even with `--quiet`.
    #[must_use]
    pub fn data(stdout: String) -> Text {
        Text {
            stdout,
            ..Text::default()
        }
    }

    /// Results for people (one line per check or file), for stdout: not with `--quiet`.
    #[must_use]
    pub fn listing(stdout: String) -> Text {
        Text {
            stdout,
            listing: true,
            ..Text::default()
        }
    }

    /// Text for stderr only (what was written, and where): not with `--quiet`.
    #[must_use]
    pub fn note(stderr: String) -> Text {
        Text {
            stderr,
            ..Text::default()
        }
    }
}

/// How text is shown: `--quiet`, and colour for the status words (`ok`, `FAIL`, `EXPIRED`, ...).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub quiet: bool,
    pub colour: bool,
}

impl Style {
    /// Colour only on a terminal, and never when `NO_COLOR` is set (no-color.org) or the
    /// terminal is dumb: piped output stays plain text for scripts and logs.
    #[must_use]
    pub fn for_terminal(quiet: bool, stdout_is_terminal: bool) -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        Style {
            quiet,
            colour: stdout_is_terminal && !no_color && !dumb,
        }
    }
}

/// The status words reports put at the start or the end of a line, and their colours.
const STATUS_COLOURS: [(&str, &str); 7] = [
    ("ok", "32"),
    ("FAIL", "1;31"),
    ("EXPIRED", "1;31"),
    ("NOT YET VALID", "1;31"),
    ("MISMATCH", "1;31"),
    ("EXPIRES SOON", "33"),
    ("warn", "33"),
];

/// `line` with its leading or trailing status word coloured (ANSI SGR), if it has one. Applied
/// after sanitising, so no text from a file or a server can bring escape sequences of its own.
fn colour_status(line: &str) -> String {
    let indent = line.len() - line.trim_start().len();
    let body = &line[indent..];
    for (word, sgr) in STATUS_COLOURS {
        if body
            .strip_prefix(word)
            .is_some_and(|rest| rest.starts_with(' '))
        {
            return format!(
                "{}\x1b[{sgr}m{word}\x1b[0m{}",
                &line[..indent],
                &body[word.len()..]
            );
        }
        if let Some(head) = line.strip_suffix(word)
            && head.ends_with(' ')
        {
            return format!("{head}\x1b[{sgr}m{word}\x1b[0m");
        }
    }
    line.to_string()
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
    style: Style,
    /// Warnings shown only once the command has succeeded, so that an error stays alone.
    pending: Vec<String>,
}

impl<'a> Output<'a> {
    pub fn new(out: &'a mut dyn Write, err: &'a mut dyn Write, json: bool) -> Self {
        Output {
            out,
            err,
            json,
            style: Style::default(),
            pending: Vec::new(),
        }
    }

    /// A warning about something that is not wrong yet (a service that will not be able to
    /// read its key): shown when the command succeeds, never in front of its error.
    pub fn warn_on_success(&mut self, text: String) {
        self.pending.push(text);
    }

    /// The command succeeded: show the warnings it kept for the end.
    pub fn finish(&mut self) -> io::Result<()> {
        for text in std::mem::take(&mut self.pending) {
            self.warn(&text)?;
        }
        Ok(())
    }

    /// The same output with `--quiet` and colour as `style` says.
    #[must_use]
    pub fn styled(self, style: Style) -> Self {
        Output { style, ..self }
    }

    /// Data for the user or a script (tokens, snippets, inspection results): stdout.
    pub fn data(&mut self, text: &str) -> io::Result<()> {
        let mut text = sanitize_lines(text);
        if self.style.colour {
            text = text
                .lines()
                .map(colour_status)
                .collect::<Vec<_>>()
                .join("\n")
                .into();
        }
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
        let left_out = self.style.quiet && text.listing;
        if !text.stdout.is_empty() && !left_out {
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

    /// A summary or note for the human running the command: stderr (not with `--quiet`).
    pub fn note(&mut self, text: &str) -> io::Result<()> {
        if self.style.quiet {
            return Ok(());
        }
        let text = sanitize_lines(text);
        self.err.write_all(text.as_bytes())?;
        if !text.ends_with('\n') {
            self.err.write_all(b"\n")?;
        }
        self.err.flush()
    }

    /// An error the command has reported in full elsewhere (a failed `provision` step): the one
    /// `certtool: error:` line on stderr, also with `--quiet` and `--json`.
    pub fn error(&mut self, text: &str) -> io::Result<()> {
        let line = format!("certtool: error: {}\n", sanitize(text));
        self.err.write_all(line.as_bytes())?;
        self.err.flush()
    }

    /// The error line and its hint, as `lib::run` prints an error, for a command that has
    /// reported a failure itself and exits 1.
    pub fn error_with_hint(&mut self, text: &str, hint: &str) -> io::Result<()> {
        let lines = format!(
            "certtool: error: {}\n  hint: {}\n",
            sanitize(text),
            sanitize(hint)
        );
        self.err.write_all(lines.as_bytes())?;
        self.err.flush()
    }

    /// A warning: stderr, prefixed so that it stands out in logs. Shown in JSON mode too.
    pub fn warn(&mut self, text: &str) -> io::Result<()> {
        // One write(2) per warning: lines from concurrent runs do not interleave in a log.
        let line = format!("certtool: warning: {}\n", sanitize(text));
        self.err.write_all(line.as_bytes())?;
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

    #[test]
    fn status_words_are_coloured_at_the_start_or_end_of_a_line_only() {
        assert_eq!(
            colour_status("ok    key  fine"),
            "\x1b[32mok\x1b[0m    key  fine"
        );
        assert_eq!(
            colour_status("a.crt  CN=a  3 days left  EXPIRED"),
            "a.crt  CN=a  3 days left  \x1b[1;31mEXPIRED\x1b[0m"
        );
        assert_eq!(
            colour_status("  FAIL  chain"),
            "  \x1b[1;31mFAIL\x1b[0m  chain"
        );
        assert_eq!(colour_status("okay then"), "okay then");
        assert_eq!(
            colour_status("the word ok in the middle"),
            "the word ok in the middle"
        );
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let style = Style {
            quiet: true,
            colour: false,
        };
        let mut o = Output::new(&mut out, &mut err, false).styled(style);
        o.report(&Sample { name: "x" }).unwrap();
        o.warn("still said").unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "data x\n", "data stays");
        assert_eq!(
            String::from_utf8(err).unwrap(),
            "certtool: warning: still said\n"
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
                listing: false,
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
