//! `ARGS=` in a service's environment file (Debian's `/etc/default/prometheus`,
//! `/etc/default/prometheus-node-exporter`, which the units pass as `ExecStart=... $ARGS`): one
//! flag set in place, every other line and flag kept.
//!
//! systemd splits an unquoted `$ARGS` at whitespace and does not expand it further, so the
//! value is a list of words in one pair of double quotes. Anything cleverer (quotes inside,
//! `$`, backslashes, continuation lines) is refused rather than guessed at.

use anyhow::Result;

use crate::error::Error;

/// `text` with `flag=value` in its `ARGS=` line (added, or replacing the flag's old value);
/// an `ARGS=` line is added at the end when there is none.
pub fn set_flag(text: &str, name: &str, flag: &str, value: &str) -> Result<String> {
    if value.is_empty() || value.contains(|c: char| c.is_whitespace() || "\"'$\\`".contains(c)) {
        return Err(Error::invalid(
            format!("'{value}' cannot be passed in {name}'s ARGS (systemd splits it at spaces)"),
            "use a path without spaces, quotes, '$' or '\\'",
        )
        .into());
    }
    let wanted = format!("{flag}={value}");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let Some(at) = lines.iter().rposition(|l| is_args_line(l)) else {
        let mut out = text.to_owned();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str("ARGS=\"");
        out.push_str(&wanted);
        out.push_str("\"\n");
        return Ok(out);
    };
    let words = words_of(&lines[at], name)?;
    let mut new: Vec<String> = Vec::with_capacity(words.len() + 1);
    let mut found = false;
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        if word == flag {
            // `--flag value`: the value is the next word.
            words.next();
        } else if !word.starts_with(&format!("{flag}=")) {
            new.push(word);
            continue;
        }
        if !found {
            new.push(wanted.clone());
            found = true;
        }
    }
    if !found {
        new.push(wanted);
    }
    let indent: String = lines[at]
        .chars()
        .take_while(|c| c.is_whitespace())
        .collect();
    lines[at] = format!("{indent}ARGS=\"{}\"", new.join(" "));
    let mut out = lines.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

fn is_args_line(line: &str) -> bool {
    line.trim_start().starts_with("ARGS=")
}

/// The words of an `ARGS=` line: `ARGS=""`, `ARGS="a b"`, `ARGS='a b'` or `ARGS=a`.
fn words_of(line: &str, name: &str) -> Result<Vec<String>> {
    let value = line.trim().trim_start_matches("ARGS=");
    let inner = match value.as_bytes() {
        [q @ (b'"' | b'\''), .., last] if last == q && value.len() >= 2 => {
            &value[1..value.len() - 1]
        }
        _ => value,
    };
    if inner.contains(|c: char| "\"'$\\`".contains(c)) || inner.ends_with('\\') {
        return Err(Error::invalid(
            format!("{name} has an ARGS= line certtool cannot edit safely: {line}"),
            "make it one double-quoted list of flags (ARGS=\"--flag=value ...\"), then run again",
        )
        .into());
    }
    Ok(inner.split_whitespace().map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAG: &str = "--web.config.file";

    fn set(text: &str, value: &str) -> String {
        set_flag(text, "f", FLAG, value).unwrap()
    }

    #[test]
    fn debians_empty_args_gets_the_flag_and_keeps_the_comments() {
        let text = "# Set the command-line arguments\nARGS=\"\"\n";
        assert_eq!(
            set(text, "/etc/prometheus/web.yml"),
            "# Set the command-line arguments\nARGS=\"--web.config.file=/etc/prometheus/web.yml\"\n"
        );
    }

    #[test]
    fn other_flags_stay_and_an_old_value_is_replaced_in_both_spellings() {
        assert_eq!(
            set("ARGS=\"--a=1 --web.config.file=/old --b\"\n", "/new"),
            "ARGS=\"--a=1 --web.config.file=/new --b\"\n"
        );
        assert_eq!(
            set("ARGS='--web.config.file /old --b'\n", "/new"),
            "ARGS=\"--web.config.file=/new --b\"\n"
        );
    }

    #[test]
    fn setting_it_twice_changes_nothing_the_second_time() {
        let once = set("ARGS=\"--a\"\n", "/w.yml");
        assert_eq!(set(&once, "/w.yml"), once);
    }

    #[test]
    fn a_file_without_args_gets_a_line_and_the_last_args_line_wins() {
        assert_eq!(set("# x", "/w"), "# x\nARGS=\"--web.config.file=/w\"\n");
        assert_eq!(
            set("ARGS=\"--a\"\n# ARGS=\"\"\nARGS=\"--b\"\n", "/w"),
            "ARGS=\"--a\"\n# ARGS=\"\"\nARGS=\"--b --web.config.file=/w\"\n"
        );
    }

    #[test]
    fn what_cannot_be_edited_safely_is_refused() {
        for text in [
            "ARGS=\"$EXTRA --a\"",
            "ARGS=\"--a \\\n --b\"",
            "ARGS=\"--a='x y'\"",
        ] {
            assert!(set_flag(text, "f", FLAG, "/w").is_err(), "{text}");
        }
        assert!(set_flag("ARGS=\"\"", "f", FLAG, "/a path").is_err());
    }
}
