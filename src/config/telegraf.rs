//! Telegraf's `[[outputs.influxdb]]` and `[[outputs.influxdb_v2]]`.
//!
//! Pure: it must not read or write files; the command does.

use anyhow::{Context, Result, bail};
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, Value};
use zeroize::Zeroizing;

use super::template::{Template, Values, render};
use super::toml_keys;

/// Tables a telegraf.conf may have at the top.
const TELEGRAF_TABLES: [&str; 6] = [
    "agent",
    "global_tags",
    "inputs",
    "outputs",
    "processors",
    "aggregators",
];

/// One InfluxDB output.
#[derive(Debug, Clone)]
pub struct InfluxOutput {
    pub url: String,
    pub ca: Option<String>,
    pub insecure: bool,
    pub server_name: Option<String>,
    pub database: Option<String>,
    /// Organization and bucket, for InfluxDB 2.x.
    pub v2: Option<(String, String)>,
}

impl InfluxOutput {
    #[must_use]
    pub fn template(&self) -> Template {
        if self.v2.is_some() {
            Template::TelegrafInfluxdbV2
        } else {
            Template::TelegrafInfluxdb
        }
    }

    fn plugin(&self) -> &'static str {
        if self.v2.is_some() {
            "influxdb_v2"
        } else {
            "influxdb"
        }
    }

    /// The snippet text.
    pub fn snippet(&self, template: &str) -> Result<Zeroizing<String>> {
        let mut values = Values::default();
        values
            .toml("url", &self.url)
            .flag("insecure", self.insecure);
        for (name, value) in [
            ("ca", &self.ca),
            ("server_name", &self.server_name),
            ("database", &self.database),
        ] {
            if let Some(v) = value {
                values.toml(name, v);
            }
        }
        if let Some((org, bucket)) = &self.v2 {
            values.toml("org", org).toml("bucket", bucket);
        }
        render(template, &values, self.template().file_name())
    }

    /// Put the snippet's output into `doc`: update the output whose `urls` hold our URL, or
    /// append a new one. Returns whether anything changed.
    pub fn apply(&self, doc: &mut DocumentMut, snippet: &str) -> Result<bool> {
        check_is_telegraf(doc)?;
        let snippet: DocumentMut = snippet.parse().context("the snippet is not valid TOML")?;
        let new = snippet["outputs"][self.plugin()]
            .as_array_of_tables()
            .and_then(|a| a.get(0))
            .context("the template has no output table")?
            .clone();
        let outputs = doc
            .as_table_mut()
            .entry("outputs")
            .or_insert_with(|| {
                let mut t = Table::new();
                t.set_implicit(true);
                Item::Table(t)
            })
            .as_table_mut()
            .context("'outputs' is not a table")?;
        let array = outputs
            .entry(self.plugin())
            .or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()))
            .as_array_of_tables_mut()
            .with_context(|| format!("'outputs.{}' is not an array of tables", self.plugin()))?;
        let existing = array.iter_mut().find(|t| has_url(t, &self.url));
        let Some(existing) = existing else {
            // Keep the template's comments (why tls_ca, what skipping verification means).
            let mut new = new;
            let comments = new
                .decor()
                .prefix()
                .and_then(toml_edit::RawString::as_str)
                .unwrap_or("")
                .to_owned();
            new.decor_mut().set_prefix(format!("\n{comments}"));
            new.set_position(None);
            array.push(new);
            return Ok(true);
        };
        let mut changed = false;
        for (key, item) in &new {
            if key == "urls" {
                continue;
            }
            if let Some(value) = item.as_value() {
                let mut value = value.clone();
                value.decor_mut().clear();
                changed |= toml_keys::set_in_table(existing, key, value);
            }
        }
        let skips = existing
            .get("insecure_skip_verify")
            .and_then(Item::as_bool)
            .unwrap_or(false);
        if !self.insecure && skips {
            changed |=
                toml_keys::set_in_table(existing, "insecure_skip_verify", Value::from(false));
        }
        Ok(changed)
    }
}

fn has_url(table: &Table, url: &str) -> bool {
    let trim = |u: &str| u.trim_end_matches('/').to_ascii_lowercase();
    table
        .get("urls")
        .and_then(Item::as_array)
        .is_some_and(|urls| {
            urls.iter()
                .any(|u| u.as_str().is_some_and(|u| trim(u) == trim(url)))
        })
}

fn check_is_telegraf(doc: &DocumentMut) -> Result<()> {
    let foreign: Vec<&str> = doc
        .as_table()
        .iter()
        .filter(|(_, item)| item.is_table() || item.is_array_of_tables())
        .map(|(name, _)| name)
        .filter(|name| !TELEGRAF_TABLES.contains(name))
        .collect();
    if let Some(name) = foreign.first() {
        bail!(crate::error::Error::invalid(
            format!("this does not look like telegraf.conf: it has a [{name}] section"),
            "give the Telegraf config (it has [agent], [[inputs.*]] and [[outputs.*]] sections)",
        ));
    }
    Ok(())
}
