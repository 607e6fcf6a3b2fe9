//! Config snippets and in-place edits for InfluxDB, Telegraf and Prometheus.
//!
//! Pure: the snippets come from the templates in `templates/` (see [`template`]), and edits
//! take a parsed document and return whether it changed ([`edit`] turns a file's text into the
//! edited text and a diff). Reading and writing files is the `config` command's job.

pub mod edit;
pub mod influxdb;
pub mod prometheus;
pub mod scrape_yml;
pub mod service_args;
pub mod telegraf;
pub mod template;
pub mod toml_keys;

use anyhow::{Context, Result};
use toml_edit::DocumentMut;

/// Copy every key of `snippet` (top-level keys and keys of top-level tables) into `doc`, each
/// where [`toml_keys::set`] puts it. Returns whether `doc` changed.
pub fn apply_snippet(doc: &mut DocumentMut, snippet: &str) -> Result<bool> {
    let snippet: DocumentMut = snippet
        .parse()
        .context("the snippet is not valid TOML (check --template-dir)")?;
    let mut changed = false;
    for (name, item) in snippet.iter() {
        if let Some(value) = item.as_value() {
            changed |= toml_keys::set(doc, &[], name, clean(value))?;
        } else if let Some(table) = item.as_table() {
            for (key, inner) in table {
                if let Some(value) = inner.as_value() {
                    changed |= toml_keys::set(doc, &[name], key, clean(value))?;
                }
            }
        }
    }
    Ok(changed)
}

fn clean(value: &toml_edit::Value) -> toml_edit::Value {
    let mut value = value.clone();
    value.decor_mut().clear();
    value
}
