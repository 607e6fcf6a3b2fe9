//! Adding or updating one scrape job in prometheus.yml, keeping every comment and the file's
//! indentation.
//!
//! A careful textual edit, re-parsed for validation: the YAML parser (yaml-rust2) finds where
//! `scrape_configs:` and its jobs are (line numbers from its event markers); the edit replaces
//! or inserts whole lines at the file's own indentation; the result is parsed again and must
//! hold the job as asked. A serde round-trip would drop the comments operators rely on.
//!
//! Pure: it must not read or write files; the command does.

use anyhow::{Result, bail};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;
use yaml_rust2::{Yaml, YamlLoader};

use crate::error::Error;

/// What the edit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// An existing job got the keys of the rendered one (scheme, `tls_config`, `basic_auth`).
    Updated,
    /// A new job was added at the end of `scrape_configs`.
    Added,
}

/// The keys of a job that certtool owns on update; everything else (targets, intervals,
/// relabelling, comments) is the operator's.
const OWNED_KEYS: [&str; 3] = ["scheme", "tls_config", "basic_auth"];

/// Where the jobs are: the 0-based line of each job's first line (`- job_name: ...`) with its
/// name and key column, and the line where the list ends.
#[derive(Debug, Default)]
struct Layout {
    jobs: Vec<JobAt>,
    list_end: Option<usize>,
    has_scrape_configs: bool,
    flow_style: bool,
}

#[derive(Debug)]
struct JobAt {
    line: usize,
    key_col: usize,
    name: Option<String>,
}

#[allow(
    clippy::struct_excessive_bools,
    reason = "the parser's state while it walks events: each flag is one question"
)]
/// An event receiver that follows the nesting and records the layout of `scrape_configs`.
#[derive(Default)]
struct Finder {
    depth: usize,
    /// At depth 1 (the top mapping): whether the next scalar is a key.
    top_key_next: bool,
    in_scrape_configs: bool,
    list_depth: usize,
    /// Inside a job mapping: whether the next scalar is a key, and whether it was `job_name`.
    job_key_next: bool,
    after_job_name: bool,
    layout: Layout,
}

impl MarkedEventReceiver for Finder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let line = mark.line().saturating_sub(1);
        match event {
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let is_sequence = matches!(event, Event::SequenceStart(..));
                if self.depth == 1 && self.in_scrape_configs && self.list_depth == 0 {
                    if is_sequence {
                        self.list_depth = 2;
                    } else {
                        self.in_scrape_configs = false;
                    }
                } else if self.depth == 1 {
                    self.top_key_next = true;
                }
                self.depth += 1;
                if self.in_scrape_configs && self.depth == 3 && !is_sequence {
                    self.layout.jobs.push(JobAt {
                        line,
                        key_col: mark.col(),
                        name: None,
                    });
                    self.job_key_next = true;
                }
                if self.depth == 1 {
                    self.top_key_next = true;
                }
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if self.in_scrape_configs && self.depth == 2 {
                    self.layout.list_end = Some(line);
                    self.in_scrape_configs = false;
                }
                self.depth = self.depth.saturating_sub(1);
                if self.depth == 1 {
                    self.top_key_next = true;
                }
                if self.depth == 3 {
                    self.job_key_next = !self.job_key_next;
                }
            }
            Event::Scalar(value, ..) => self.scalar(value),
            _ => {}
        }
    }
}

impl Finder {
    fn scalar(&mut self, value: String) {
        if self.depth == 1 {
            if self.top_key_next && value == "scrape_configs" {
                self.in_scrape_configs = true;
                self.layout.has_scrape_configs = true;
            } else if !self.top_key_next && self.in_scrape_configs {
                // `scrape_configs:` with no list (null) or a flow list on one line.
                self.in_scrape_configs = false;
            }
            self.top_key_next = !self.top_key_next;
            return;
        }
        if self.in_scrape_configs && self.depth == 3 {
            if self.after_job_name {
                if let Some(job) = self.layout.jobs.last_mut() {
                    job.name = Some(value);
                }
                self.after_job_name = false;
            } else if self.job_key_next && value == "job_name" {
                self.after_job_name = true;
            }
            self.job_key_next = !self.job_key_next;
        }
    }
}

fn layout(text: &str) -> Result<Layout> {
    let mut finder = Finder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut finder, false).map_err(|e| {
        Error::invalid(
            format!("cannot parse it as YAML: {e}"),
            "fix the file first (promtool check config); certtool left it untouched",
        )
    })?;
    let mut layout = finder.layout;
    // The parser's marks give the line of each job; its key column is read off that line
    // (`  - job_name: x`: the first character after the dash and its spaces).
    let lines: Vec<&str> = text.lines().collect();
    for job in &mut layout.jobs {
        if let Some(line) = lines.get(job.line) {
            let dash = indent_of(line);
            let after = line[dash..].strip_prefix('-').unwrap_or(&line[dash..]);
            job.key_col = line.len() - after.trim_start_matches(' ').len();
        }
    }
    layout.flow_style = layout.has_scrape_configs
        && layout.jobs.is_empty()
        && text
            .lines()
            .any(|l| l.trim_start().starts_with("scrape_configs: ["));
    Ok(layout)
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Whether `line` carries content (not blank, not only a comment).
fn is_content(line: &str) -> bool {
    let t = line.trim_start();
    !t.is_empty() && !t.starts_with('#')
}

/// `job` (the rendered template: a `- job_name:` item at column 0, keys at 2) into `text`.
/// Returns the new text and what was done; the caller compares it with the old text to tell
/// "unchanged".
pub fn set_job(text: &str, name: &str, job: &str) -> Result<(String, Applied)> {
    let layout = layout(text)?;
    if layout.flow_style {
        bail!(Error::invalid(
            "scrape_configs is a flow-style list ([...]); certtool edits block-style lists only",
            "write it as a block list (- job_name: ...), or paste the job printed without --in-place",
        ));
    }
    let lines: Vec<&str> = text.lines().collect();
    let rendered: Vec<&str> = job.lines().filter(|l| is_content(l)).collect();
    let found = layout
        .jobs
        .iter()
        .position(|j| j.name.as_deref() == Some(name));
    let (new_lines, applied) = match found {
        Some(i) => {
            let start = layout.jobs[i].line;
            let end = job_end(&lines, &layout, i);
            let key_col = layout.jobs[i].key_col;
            let mut item: Vec<String> = lines[start..end].iter().map(|l| (*l).to_owned()).collect();
            for key in OWNED_KEYS {
                if let Some(block) = rendered_block(&rendered, key, key_col) {
                    set_block(&mut item, key_col, key, &block);
                }
            }
            let mut out: Vec<String> = lines[..start].iter().map(|l| (*l).to_owned()).collect();
            out.extend(item);
            out.extend(lines[end..].iter().map(|l| (*l).to_owned()));
            (out, Applied::Updated)
        }
        None => (add_job(&lines, &layout, job), Applied::Added),
    };
    let mut new_text = new_lines.join("\n");
    if text.ends_with('\n') || text.is_empty() {
        new_text.push('\n');
    }
    check_result(&new_text, name)?;
    Ok((new_text, applied))
}

/// The line after job `i`: the next job's first line, or the end of the list with the
/// comments and blank lines before it left outside (they belong to what follows).
fn job_end(lines: &[&str], layout: &Layout, i: usize) -> usize {
    let limit = layout
        .jobs
        .get(i + 1)
        .map(|j| j.line)
        .or(layout.list_end)
        .unwrap_or(lines.len())
        .min(lines.len());
    let key_col = layout.jobs[i].key_col;
    let mut end = limit;
    while end > layout.jobs[i].line + 1 {
        let line = lines[end - 1];
        let belongs = is_content(line) || (!line.trim().is_empty() && indent_of(line) >= key_col);
        if belongs {
            break;
        }
        end -= 1;
    }
    end
}

/// The lines of `key`'s block in the rendered job, re-indented from column 2 to `key_col`.
fn rendered_block(rendered: &[&str], key: &str, key_col: usize) -> Option<Vec<String>> {
    let start = rendered
        .iter()
        .position(|l| indent_of(l) == 2 && l.trim_start().starts_with(&format!("{key}:")))?;
    let mut block = vec![rendered[start]];
    block.extend(
        rendered[start + 1..]
            .iter()
            .take_while(|l| indent_of(l) > 2),
    );
    let pad = " ".repeat(key_col.saturating_sub(2));
    Some(block.iter().map(|l| format!("{pad}{l}")).collect())
}

/// Replace `key`'s block in the job's lines (its line and the deeper lines after it), or
/// insert it after the job's first line.
fn set_block(item: &mut Vec<String>, key_col: usize, key: &str, block: &[String]) {
    let at_key =
        |l: &String| indent_of(l) == key_col && l[key_col..].starts_with(&format!("{key}:"));
    if let Some(start) = item.iter().skip(1).position(at_key).map(|p| p + 1) {
        let mut end = start + 1;
        while end < item.len() && (!is_content(&item[end]) || indent_of(&item[end]) > key_col) {
            end += 1;
        }
        // Blank lines and comments at the end belong to what follows the block.
        while end > start + 1 && !is_content(&item[end - 1]) {
            end -= 1;
        }
        item.splice(start..end, block.iter().cloned());
        return;
    }
    // After the owned keys already there (scheme before tls_config), else after job_name.
    let after = item
        .iter()
        .skip(1)
        .position(|l| at_key_of(l, key_col, &OWNED_KEYS[..]))
        .map_or(1, |p| p + 1 + block_len(&item[p + 1..], key_col));
    let after = after.min(item.len());
    item.splice(after..after, block.iter().cloned());
}

fn at_key_of(line: &str, key_col: usize, keys: &[&str]) -> bool {
    indent_of(line) == key_col
        && keys
            .iter()
            .any(|k| line[key_col..].starts_with(&format!("{k}:")))
}

/// How many lines the block starting at `lines[0]` spans.
fn block_len(lines: &[String], key_col: usize) -> usize {
    1 + lines[1..]
        .iter()
        .take_while(|l| is_content(l) && indent_of(l) > key_col)
        .count()
}

/// A new job at the end of the list, at the list's indentation (or a new `scrape_configs:`).
fn add_job(lines: &[&str], layout: &Layout, job: &str) -> Vec<String> {
    let mut out: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    let Some(last) = layout.jobs.len().checked_sub(1) else {
        let indented = job.lines().map(|l| format!("  {l}"));
        if !layout.has_scrape_configs {
            out.push(String::new());
            out.push("scrape_configs:".to_owned());
            out.extend(indented);
            return out;
        }
        let at = lines
            .iter()
            .position(|l| l.starts_with("scrape_configs:"))
            .map_or(out.len(), |p| p + 1);
        out.splice(at..at, indented);
        return out;
    };
    let end = job_end(lines, layout, last);
    let dash_col = layout.jobs[last].key_col.saturating_sub(2);
    let pad = " ".repeat(dash_col);
    let mut new: Vec<String> = vec![String::new()];
    new.extend(job.lines().map(|l| format!("{pad}{l}")));
    out.splice(end..end, new);
    out
}

/// The edited text must parse, and hold exactly one job called `name` with scheme https.
fn check_result(text: &str, name: &str) -> Result<()> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| {
        Error::invalid(
            format!("the edit would not parse ({e}); the file is left untouched"),
            "please report this, with the file; meanwhile paste the job printed without --in-place",
        )
    })?;
    let jobs = docs
        .first()
        .map(|d| &d["scrape_configs"])
        .and_then(Yaml::as_vec)
        .map(|jobs| {
            jobs.iter()
                .filter(|j| j["job_name"].as_str() == Some(name))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    match jobs.as_slice() {
        [job]
            if job["scheme"].as_str() == Some("https")
                && job["tls_config"]["ca_file"].as_str().is_some() =>
        {
            Ok(())
        }
        [] | [_] => bail!(Error::invalid(
            format!(
                "the edit did not give job {name} scheme https and a tls_config; the file is left untouched"
            ),
            "please report this, with the file; meanwhile paste the job printed without --in-place",
        )),
        _ => bail!(Error::invalid(
            format!("prometheus.yml has more than one job called {name}"),
            "job names must be unique (promtool says so too): rename one",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN: &str = "global:\n  scrape_interval: 15s\n\n# A scrape configuration:\nscrape_configs:\n  # The job name is added as a label.\n  - job_name: 'prometheus'\n\n    # Override the global default.\n    scrape_interval: 5s\n\n    # scheme defaults to 'http'.\n\n    static_configs:\n      - targets: ['localhost:9090']\n\n  - job_name: node\n    # If prometheus-node-exporter is installed.\n    static_configs:\n      - targets: ['localhost:9100']\n";

    const JOB: &str = "- job_name: \"prometheus\"\n  scheme: https\n  tls_config:\n    ca_file: \"/ca.crt\"\n  static_configs:\n    - targets: [\"localhost:9090\"]\n";

    #[test]
    fn an_existing_job_gets_scheme_and_tls_config_and_keeps_everything_else() {
        let (text, applied) = set_job(DEBIAN, "prometheus", JOB).unwrap();
        assert_eq!(applied, Applied::Updated);
        for line in DEBIAN.lines() {
            assert!(text.contains(line), "lost {line:?}:\n{text}");
        }
        assert!(text.contains("  - job_name: 'prometheus'\n    scheme: https\n    tls_config:\n      ca_file: \"/ca.crt\"\n"), "{text}");
        // Idempotent.
        let (again, _) = set_job(&text, "prometheus", JOB).unwrap();
        assert_eq!(again, text);
    }

    #[test]
    fn a_new_job_goes_after_the_last_one_at_its_indentation() {
        let job = JOB.replace("\"prometheus\"", "\"tls\"");
        let (text, applied) = set_job(DEBIAN, "tls", &job).unwrap();
        assert_eq!(applied, Applied::Added);
        assert!(text.ends_with("      - targets: ['localhost:9100']\n\n  - job_name: \"tls\"\n    scheme: https\n    tls_config:\n      ca_file: \"/ca.crt\"\n    static_configs:\n      - targets: [\"localhost:9090\"]\n"), "{text}");
        let (again, applied) = set_job(&text, "tls", &job).unwrap();
        assert_eq!((again.as_str(), applied), (text.as_str(), Applied::Updated));
        // A file without scrape_configs gets one.
        let (text, _) = set_job("global:\n  scrape_interval: 15s\n", "tls", &job).unwrap();
        assert!(
            text.contains("scrape_configs:\n  - job_name: \"tls\""),
            "{text}"
        );
    }

    #[test]
    fn broken_and_flow_style_files_are_refused() {
        assert!(set_job("scrape_configs: [\n", "x", JOB).is_err());
        assert!(set_job("scrape_configs: []\n", "x", JOB).is_err());
    }
}
