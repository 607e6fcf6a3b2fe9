//! The snippets in `templates/`: embedded in the binary, overridable with `--template-dir`, and
//! filled with values escaped for their format.
//!
//! The template language is two rules, so that a template stays a readable config file:
//! `{{name}}` is replaced by a value (already escaped as a TOML or YAML string), and a line that
//! starts with `{{?name}}` is kept only when `name` has a value.
//!
//! It reads template files only (for `--template-dir`); it must not write anything.

use std::path::Path;

use anyhow::{Context, Result, bail};
use zeroize::Zeroizing;

use crate::files;

/// One snippet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    InfluxdbHttp,
    Influxdb2Tls,
    TelegrafInfluxdb,
    TelegrafInfluxdbV2,
    PrometheusWebConfig,
    PrometheusScrape,
}

impl Template {
    /// The file name in `templates/` (and in a `--template-dir`).
    #[must_use]
    pub fn file_name(self) -> &'static str {
        match self {
            Template::InfluxdbHttp => "influxdb-http.toml",
            Template::Influxdb2Tls => "influxdb2-tls.toml",
            Template::TelegrafInfluxdb => "telegraf-output-influxdb.toml",
            Template::TelegrafInfluxdbV2 => "telegraf-output-influxdb-v2.toml",
            Template::PrometheusWebConfig => "prometheus-web-config.yml",
            Template::PrometheusScrape => "prometheus-scrape-tls.yml",
        }
    }

    fn builtin(self) -> &'static str {
        match self {
            Template::InfluxdbHttp => include_str!("../../templates/influxdb-http.toml"),
            Template::Influxdb2Tls => include_str!("../../templates/influxdb2-tls.toml"),
            Template::TelegrafInfluxdb => {
                include_str!("../../templates/telegraf-output-influxdb.toml")
            }
            Template::TelegrafInfluxdbV2 => {
                include_str!("../../templates/telegraf-output-influxdb-v2.toml")
            }
            Template::PrometheusWebConfig => {
                include_str!("../../templates/prometheus-web-config.yml")
            }
            Template::PrometheusScrape => include_str!("../../templates/prometheus-scrape-tls.yml"),
        }
    }

    /// The template text: `DIR/FILE` when a template directory is given and has the file,
    /// otherwise the built-in one.
    pub fn load(self, dir: Option<&Path>) -> Result<String> {
        let Some(dir) = dir else {
            return Ok(self.builtin().to_owned());
        };
        let path = dir.join(self.file_name());
        if !path.exists() {
            return Ok(self.builtin().to_owned());
        }
        let bytes = files::read_input(&path)?;
        String::from_utf8(bytes.to_vec())
            .with_context(|| format!("template '{}' is not UTF-8", path.display()))
    }
}

/// Values for a template, each already escaped for the template's format; a name without a
/// value drops the lines marked `{{?name}}`.
#[derive(Default)]
pub struct Values {
    entries: Vec<(&'static str, Zeroizing<String>)>,
}

impl Values {
    /// Set `name` to `escaped` text.
    pub fn set(&mut self, name: &'static str, escaped: String) -> &mut Self {
        self.entries.push((name, Zeroizing::new(escaped)));
        self
    }

    /// Set `name` to a TOML string holding `text`.
    pub fn toml(&mut self, name: &'static str, text: &str) -> &mut Self {
        self.set(name, toml_string(text))
    }

    /// Set `name` to a YAML string holding `text`.
    pub fn yaml(&mut self, name: &'static str, text: &str) -> &mut Self {
        self.set(name, yaml_string(text))
    }

    /// Mark `name` present (for `{{?name}}` lines) without text.
    pub fn flag(&mut self, name: &'static str, on: bool) -> &mut Self {
        if on {
            self.set(name, String::new());
        }
        self
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A TOML string literal for `text` (toml_edit picks the quoting and escapes).
#[must_use]
pub fn toml_string(text: &str) -> String {
    toml_edit::Value::from(text).to_string().trim().to_owned()
}

/// A YAML double-quoted string for `text`. JSON strings are valid YAML 1.2 double-quoted
/// scalars, escapes included, so serde_json does the escaping.
#[must_use]
pub fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// Fill `template` with `values`.
pub fn render(template: &str, values: &Values, name: &str) -> Result<Zeroizing<String>> {
    let mut out = Zeroizing::new(String::with_capacity(template.len() + 256));
    for line in template.split_inclusive('\n') {
        let line = match conditional(line) {
            Some((flag, rest)) if values.get(flag).is_some() => rest,
            Some(_) => continue,
            None => line,
        };
        fill_line(line, values, name, &mut out)?;
    }
    Ok(out)
}

/// `{{?flag}}rest` → (flag, rest).
fn conditional(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("{{?")?;
    let end = rest.find("}}")?;
    Some((&rest[..end], &rest[end + 2..]))
}

fn fill_line(line: &str, values: &Values, name: &str, out: &mut String) -> Result<()> {
    let mut rest = line;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            bail!("template {name}: '{{{{' without '}}}}'");
        };
        let key = &after[..end];
        match values.get(key) {
            Some(value) => out.push_str(value),
            None => bail!("template {name} uses {{{{{key}}}}}, which has no value here"),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_conditional_lines() {
        let mut values = Values::default();
        values.toml("cert", "/a b/c\"d\\e.crt").flag("auth", true);
        let out = render(
            "x = {{cert}}\n{{?auth}}auth = true\n{{?secret}}s = {{secret}}\n",
            &values,
            "t",
        )
        .unwrap();
        let parsed: toml_edit::DocumentMut = out.parse().unwrap();
        assert_eq!(parsed["x"].as_str(), Some("/a b/c\"d\\e.crt"));
        assert_eq!(parsed["auth"].as_bool(), Some(true));
        assert!(!out.contains("s ="));
    }

    #[test]
    fn a_placeholder_without_a_value_is_an_error() {
        let err = render("x = {{nope}}\n", &Values::default(), "t").unwrap_err();
        assert!(err.to_string().contains("{{nope}}"), "{err}");
    }

    #[test]
    fn yaml_strings_escape_quotes_backslashes_and_newlines() {
        assert_eq!(yaml_string("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
    }

    #[test]
    fn builtin_templates_have_their_files() {
        for t in [
            Template::InfluxdbHttp,
            Template::Influxdb2Tls,
            Template::TelegrafInfluxdb,
            Template::TelegrafInfluxdbV2,
            Template::PrometheusWebConfig,
            Template::PrometheusScrape,
        ] {
            assert!(t.load(None).unwrap().starts_with("# certtool:"), "{t:?}");
        }
    }
}
