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
    /// InfluxDB 1.x user: `username`, with `password = "${INFLUX_PASSWORD}"` from Telegraf's
    /// environment (never the password itself).
    pub username: Option<String>,
    /// Add a block even when others exist and none points at this host and port.
    pub append: bool,
}

/// What `apply` did to the output blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Updated,
    Unchanged,
    Appended,
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
            ("username", &self.username),
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

    /// Put the snippet's output into `doc`. One block of the plugin: it is updated (its URL
    /// too: a plain-HTTP URL would keep Telegraf writing in the clear). Several: the one whose
    /// URL has our host and port (whatever the scheme) is updated; none of them is an error
    /// listing them, unless `append`. None: a new block after the last output block.
    pub fn apply(&self, doc: &mut DocumentMut, snippet: &str) -> Result<Applied> {
        check_is_telegraf(doc)?;
        let end_of_outputs = last_position(doc.get("outputs"));
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
        let target = match (array.len(), self.append) {
            (0, _) => None,
            (1, false) => Some(0),
            _ => match array.iter().position(|t| has_host_port(t, &self.url)) {
                Some(i) => Some(i),
                None if self.append => None,
                None => {
                    let listed: Vec<String> = array.iter().map(describe_urls).collect();
                    bail!(crate::error::Error::invalid(
                        format!(
                            "{} [[outputs.{}]] blocks, none for this host and port: {}",
                            array.len(),
                            self.plugin(),
                            listed.join("; ")
                        ),
                        "give --url with the host:port of the one to update, or --append to add another",
                    ));
                }
            },
        };
        let Some(target) = target else {
            let Some(end) = end_of_outputs else {
                let mut new = new;
                new.set_position(None);
                array.push(new);
                return Ok(Applied::Appended);
            };
            self.insert_after(doc, new, end)?;
            return Ok(Applied::Appended);
        };
        let existing = array
            .get_mut(target)
            .context("the output block disappeared")?;
        let mut changed = replace_url(existing, &self.url);
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
        Ok(if changed {
            Applied::Updated
        } else {
            Applied::Unchanged
        })
    }

    /// Insert `new` right after the document position `end` (the last output block's last
    /// table), after that block's own trailing comments (its indented commented-out keys),
    /// which toml_edit keeps as the prefix of whatever follows.
    fn insert_after(&self, doc: &mut DocumentMut, mut new: Table, end: isize) -> Result<()> {
        // Make room: every table after `end` moves down one place.
        let mut next_position: Option<isize> = None;
        for_each_table(doc.as_table_mut(), &mut |table| {
            if let Some(position) = table.position().filter(|p| *p > end) {
                table.set_position(Some(position + 1));
                next_position = Some(next_position.map_or(position + 1, |n| n.min(position + 1)));
            }
        });
        // The comments after the block: its own (indented) ones stay with it, above the new
        // block; the rest (blank lines, the next section's header) stay below it.
        let mut own = String::new();
        let mut split = |prefix: &str| {
            let (mine, rest) = split_block_comments(prefix);
            own = mine;
            rest
        };
        if let Some(next) = next_position {
            for_each_table(doc.as_table_mut(), &mut |table| {
                if table.position() == Some(next) {
                    let prefix = raw(table.decor().prefix());
                    table.decor_mut().set_prefix(split(&prefix));
                }
            });
        } else {
            let trailing = doc.trailing().as_str().unwrap_or("").to_owned();
            doc.set_trailing(split(&trailing));
        }
        let template_comments = raw(new.decor().prefix());
        new.decor_mut()
            .set_prefix(format!("{own}\n{template_comments}"));
        new.set_position(Some(end + 1));
        doc["outputs"][self.plugin()]
            .as_array_of_tables_mut()
            .context("outputs")?
            .push(new);
        Ok(())
    }
}

fn raw(text: Option<&toml_edit::RawString>) -> String {
    text.and_then(toml_edit::RawString::as_str)
        .unwrap_or("")
        .to_owned()
}

/// Call `f` on every table below `table`, depth first (array-of-tables entries included).
fn for_each_table(table: &mut Table, f: &mut dyn FnMut(&mut Table)) {
    for (_, item) in table.iter_mut() {
        match item {
            Item::Table(t) => {
                f(t);
                for_each_table(t, f);
            }
            Item::ArrayOfTables(a) => {
                for t in a.iter_mut() {
                    f(t);
                    for_each_table(t, f);
                }
            }
            _ => {}
        }
    }
}

/// The last document position of `item`'s tables (all of `[outputs.*]`), if any has one.
fn last_position(item: Option<&Item>) -> Option<isize> {
    match item? {
        Item::Table(t) => t
            .iter()
            .filter_map(|(_, i)| last_position(Some(i)))
            .chain(t.position())
            .max(),
        Item::ArrayOfTables(a) => a
            .iter()
            .flat_map(|t| {
                t.iter()
                    .filter_map(|(_, i)| last_position(Some(i)))
                    .chain(t.position())
            })
            .max(),
        _ => None,
    }
}

/// Split the text after a block into the block's own trailing comments (indented lines, as
/// Telegraf's sample config writes commented-out keys) and the rest.
fn split_block_comments(text: &str) -> (String, String) {
    let mut own = String::new();
    let mut rest = text;
    while let Some(line_end) = rest.find('\n') {
        let line = &rest[..line_end];
        let indented = line.starts_with([' ', '\t']) && line.trim_start().starts_with('#');
        if !indented {
            break;
        }
        own.push_str(&rest[..=line_end]);
        rest = &rest[line_end + 1..];
    }
    (own, rest.to_string())
}

/// The host:port of an `http(s)://` URL, lower-cased, the scheme's default port filled in.
fn host_port(url: &str) -> Option<String> {
    let parsed = crate::url::parse(url).ok()?;
    Some(format!(
        "{}:{}",
        parsed.host.to_ascii_lowercase(),
        parsed.port
    ))
}

fn has_host_port(table: &Table, url: &str) -> bool {
    let ours = host_port(url);
    urls(table)
        .iter()
        .any(|u| host_port(u) == ours && ours.is_some())
}

fn urls(table: &Table) -> Vec<String> {
    table
        .get("urls")
        .and_then(Item::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|u| u.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn describe_urls(table: &Table) -> String {
    let urls = urls(table);
    if urls.is_empty() {
        "(no urls)".to_owned()
    } else {
        crate::text::sanitize(&urls.join(", "))
    }
}

/// Point the block at `url`: the entry with its host and port is replaced (others stay); a
/// block with no such entry gets `urls = [url]`. Returns whether anything changed.
fn replace_url(table: &mut Table, url: &str) -> bool {
    let current = urls(table);
    let ours = host_port(url);
    let mut replaced = false;
    let new: Vec<String> = current
        .iter()
        .map(|u| {
            if ours.is_some() && host_port(u) == ours {
                replaced = true;
                url.to_owned()
            } else {
                u.clone()
            }
        })
        .collect();
    let new = if replaced { new } else { vec![url.to_owned()] };
    if new == current {
        return false;
    }
    let array: toml_edit::Array = new.iter().map(String::as_str).collect();
    toml_keys::set_in_table(table, "urls", Value::Array(array))
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
