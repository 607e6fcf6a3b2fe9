//! Setting keys in a TOML document the way a careful person would by hand.
//!
//! toml_edit keeps every comment, blank line and key order; what it cannot know is where a new
//! key belongs. Config files shipped by packages list their defaults as comments
//! (`  # https-enabled = false`), so a new key replaces its own commented default, in place,
//! keeping the comment lines above it. Without one, the key goes at the end of its table,
//! indented like its neighbours.
//!
//! Where the text lives, in toml_edit's model: comment lines before a key are that key's prefix
//! decor; comment lines after the last key of a table (or in a table with no keys at all) are the
//! prefix of the next table header in the document, or the document's trailing text.
//!
//! It must not read or write files, nor decide which keys a service needs.

use anyhow::{Result, anyhow};
use toml_edit::{DocumentMut, Item, Key, RawString, Table, Value};

/// Set `key = value` in the table at `path` (created at the end of the document if missing).
/// Returns whether the document changed; an equal value is left untouched, formatting and all.
pub fn set(doc: &mut DocumentMut, path: &[&str], key: &str, value: Value) -> Result<bool> {
    ensure_table(doc, path);
    let table = table_at(doc, path)?;
    if let Some(item) = table.get_mut(key) {
        return Ok(replace_value(item, value));
    }
    let indent = indentation(table);
    let position = table.position();
    if let Some((owner, pre, post)) = commented_default_in_keys(table, key) {
        insert_before(table, key, value, &owner, (pre, post));
        return Ok(true);
    }
    let following = following_decor(doc, position, path.is_empty());
    let table = table_at(doc, path)?;
    match following.and_then(|text| split_at_comment(&text, key)) {
        Some((pre, comment_indent, post)) => {
            append(table, key, value, format!("{pre}{comment_indent}"));
            set_following_decor(doc, position, path.is_empty(), post);
        }
        None => append(table, key, value, indent),
    }
    Ok(true)
}

fn table_at<'d>(doc: &'d mut DocumentMut, path: &[&str]) -> Result<&'d mut Table> {
    table_mut(doc, path).ok_or_else(|| anyhow!("'{}' in the config is not a table", path.join(".")))
}

/// Set a key in one table (an entry of an array of tables, say), without the document-level
/// search for commented defaults.
pub fn set_in_table(table: &mut Table, key: &str, value: Value) -> bool {
    if let Some(item) = table.get_mut(key) {
        return replace_value(item, value);
    }
    if let Some((owner, pre, post)) = commented_default_in_keys(table, key) {
        insert_before(table, key, value, &owner, (pre, post));
        return true;
    }
    let indent = indentation(table);
    append(table, key, value, indent);
    true
}

fn replace_value(item: &mut Item, value: Value) -> bool {
    if let Some(old) = item.as_value() {
        if same_value(old, &value) {
            return false;
        }
        let decor = old.decor().clone();
        let mut value = value;
        *value.decor_mut() = decor;
        *item = Item::Value(value);
    } else {
        *item = Item::Value(value);
    }
    true
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.value() == y.value(),
        (Value::Integer(x), Value::Integer(y)) => x.value() == y.value(),
        (Value::Boolean(x), Value::Boolean(y)) => x.value() == y.value(),
        (Value::Float(x), Value::Float(y)) => x.value().to_bits() == y.value().to_bits(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| same_value(a, b))
        }
        _ => false,
    }
}

fn ensure_table(doc: &mut DocumentMut, path: &[&str]) {
    let mut table = doc.as_table_mut();
    for name in path {
        if !table.contains_key(name) {
            let mut new = Table::new();
            new.decor_mut().set_prefix("\n");
            table.insert(name, Item::Table(new));
        }
        table = match table.get_mut(name).and_then(Item::as_table_mut) {
            Some(t) => t,
            None => return,
        };
    }
}

fn table_mut<'d>(doc: &'d mut DocumentMut, path: &[&str]) -> Option<&'d mut Table> {
    let mut table = doc.as_table_mut();
    for name in path {
        table = table.get_mut(name)?.as_table_mut()?;
    }
    Some(table)
}

/// The indentation of the table's keys (or "" for none/the root): new keys line up with them.
fn indentation(table: &Table) -> String {
    table
        .iter()
        .filter_map(|(k, _)| table.key(k))
        .filter_map(|k| k.leaf_decor().prefix().and_then(RawString::as_str))
        .map(|p| p.rsplit('\n').next().unwrap_or(""))
        .find(|last| last.chars().all(|c| c == ' ' || c == '\t'))
        .map_or_else(String::new, str::to_owned)
}

/// Split `text` at the line `# KEY = ...`: (lines before, the comment's indentation, lines after).
fn split_at_comment(text: &str, key: &str) -> Option<(String, String, String)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        if let Some(rest) = trimmed.strip_prefix('#') {
            let rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix(key)
                && after.trim_start().starts_with('=')
            {
                return Some((
                    text[..offset].to_owned(),
                    indent.to_owned(),
                    text[offset + line.len()..].to_owned(),
                ));
            }
        }
        offset += line.len();
    }
    None
}

/// A key of `table` whose prefix holds the commented default of `key`, with the split prefix.
fn commented_default_in_keys(table: &Table, key: &str) -> Option<(String, String, String)> {
    table.iter().find_map(|(name, _)| {
        let prefix = table.key(name)?.leaf_decor().prefix()?.as_str()?;
        let (pre, indent, post) = split_at_comment(prefix, key)?;
        Some((name.to_owned(), format!("{pre}{indent}"), post))
    })
}

/// Insert `key` right before `owner`, giving it `pre` as prefix and `owner` the rest.
fn insert_before(table: &mut Table, key: &str, value: Value, owner: &str, split: (String, String)) {
    let entries: Vec<(Key, Item)> = table
        .iter()
        .filter_map(|(k, _)| table.get_key_value(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    table.clear();
    let mut pending = Some((value, split));
    for (mut k, v) in entries {
        if k.get() == owner
            && let Some((value, (pre, post))) = pending.take()
        {
            let mut new_key = Key::new(key);
            new_key.leaf_decor_mut().set_prefix(pre);
            table.insert_formatted(&new_key, Item::Value(spaced(value)));
            k.leaf_decor_mut().set_prefix(post);
        }
        table.insert_formatted(&k, v);
    }
}

fn append(table: &mut Table, key: &str, value: Value, prefix: String) {
    let mut new_key = Key::new(key);
    new_key.leaf_decor_mut().set_prefix(prefix);
    table.insert_formatted(&new_key, Item::Value(spaced(value)));
}

/// `key = value` with one space either side of `=`.
fn spaced(mut value: Value) -> Value {
    value.decor_mut().set_prefix(" ");
    value.decor_mut().set_suffix("");
    value
}

/// The text after the table at `position`: the prefix of the next table header, or the
/// document's trailing text.
fn following_decor(doc: &DocumentMut, position: Option<isize>, root: bool) -> Option<String> {
    match next_table_position(doc, position, root) {
        Some(next) => with_table_at(doc, next, |t| {
            t.decor()
                .prefix()
                .and_then(RawString::as_str)
                .unwrap_or("")
                .to_owned()
        }),
        None => doc.trailing().as_str().map(str::to_owned),
    }
}

fn set_following_decor(doc: &mut DocumentMut, position: Option<isize>, root: bool, text: String) {
    match next_table_position(doc, position, root) {
        Some(next) => {
            with_table_at_mut(doc, next, |t| t.decor_mut().set_prefix(text));
        }
        None => doc.set_trailing(text),
    }
}

/// The smallest table position after `position` (for the root: the first table).
fn next_table_position(doc: &DocumentMut, position: Option<isize>, root: bool) -> Option<isize> {
    let mut positions = Vec::new();
    collect_positions(doc.as_table(), &mut positions);
    let after = if root { isize::MIN } else { position? };
    positions.into_iter().filter(|p| *p > after).min()
}

fn collect_positions(table: &Table, out: &mut Vec<isize>) {
    for (_, item) in table {
        match item {
            Item::Table(t) => {
                if !t.is_implicit() {
                    out.extend(t.position());
                }
                collect_positions(t, out);
            }
            Item::ArrayOfTables(a) => {
                for t in a {
                    out.extend(t.position());
                    collect_positions(t, out);
                }
            }
            _ => {}
        }
    }
}

fn find_table(table: &Table, position: isize) -> Option<&Table> {
    for (_, item) in table {
        let candidates: Vec<&Table> = match item {
            Item::Table(t) => vec![t],
            Item::ArrayOfTables(a) => a.iter().collect(),
            _ => continue,
        };
        for t in candidates {
            if t.position() == Some(position) && !t.is_implicit() {
                return Some(t);
            }
            if let Some(found) = find_table(t, position) {
                return Some(found);
            }
        }
    }
    None
}

fn find_table_mut(table: &mut Table, position: isize) -> Option<&mut Table> {
    for (_, item) in table.iter_mut() {
        let candidates: Vec<&mut Table> = match item {
            Item::Table(t) => vec![t],
            Item::ArrayOfTables(a) => a.iter_mut().collect(),
            _ => continue,
        };
        for t in candidates {
            if t.position() == Some(position) && !t.is_implicit() {
                return Some(t);
            }
            if find_table(t, position).is_some() {
                return find_table_mut(t, position);
            }
        }
    }
    None
}

fn with_table_at<R>(doc: &DocumentMut, position: isize, f: impl Fn(&Table) -> R) -> Option<R> {
    find_table(doc.as_table(), position).map(f)
}

fn with_table_at_mut(doc: &mut DocumentMut, position: isize, f: impl FnOnce(&mut Table)) {
    if let Some(t) = find_table_mut(doc.as_table_mut(), position) {
        f(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(text: &str, path: &[&str], key: &str, value: impl Into<Value>) -> String {
        let mut doc: DocumentMut = text.parse().unwrap();
        set(&mut doc, path, key, value.into()).unwrap();
        doc.to_string()
    }

    #[test]
    fn a_commented_default_after_the_last_key_is_replaced_in_place() {
        let text = "[http]\n  enabled = true\n  # Whether HTTPS is on.\n  # https-enabled = false\n\n  # other = 1\n\n[next]\n  a = 1\n";
        assert_eq!(
            edit(text, &["http"], "https-enabled", true),
            "[http]\n  enabled = true\n  # Whether HTTPS is on.\n  https-enabled = true\n\n  # other = 1\n\n[next]\n  a = 1\n"
        );
    }

    #[test]
    fn a_commented_default_before_a_key_is_replaced_in_place() {
        let text = "[http]\n  # auth-enabled = false\n  # note\n  realm = \"x\"\n";
        assert_eq!(
            edit(text, &["http"], "auth-enabled", true),
            "[http]\n  auth-enabled = true\n  # note\n  realm = \"x\"\n"
        );
    }

    #[test]
    fn a_commented_default_in_an_all_comment_table_at_the_end() {
        let text = "[a]\nx = 1\n[http]\n  # https-enabled = false\n  # tail\n";
        assert_eq!(
            edit(text, &["http"], "https-enabled", true),
            "[a]\nx = 1\n[http]\n  https-enabled = true\n  # tail\n"
        );
    }

    #[test]
    fn existing_keys_keep_their_comments_and_equal_values_are_untouched() {
        let text = "[http]\n  https-enabled = false # was off\n  path = 'literal'\n";
        assert_eq!(
            edit(text, &["http"], "https-enabled", true),
            "[http]\n  https-enabled = true # was off\n  path = 'literal'\n"
        );
        let mut doc: DocumentMut = text.parse().unwrap();
        assert!(!set(&mut doc, &["http"], "path", Value::from("literal")).unwrap());
        assert_eq!(doc.to_string(), text);
    }

    #[test]
    fn without_a_default_keys_go_to_the_end_of_their_table_indented() {
        let text = "[http]\n  enabled = true\n\n[other]\nz = 1\n";
        assert_eq!(
            edit(text, &["http"], "https-enabled", true),
            "[http]\n  enabled = true\n  https-enabled = true\n\n[other]\nz = 1\n"
        );
        assert_eq!(
            edit("[meta]\ndir = \"/x\"\n", &["http"], "https-enabled", true),
            "[meta]\ndir = \"/x\"\n\n[http]\nhttps-enabled = true\n"
        );
    }

    #[test]
    fn root_keys_find_their_defaults_before_the_first_table() {
        let text = "# tls-cert = \"\"\nbolt-path = \"/b\"\n";
        assert_eq!(
            edit(text, &[], "tls-cert", "/c.crt"),
            "tls-cert = \"/c.crt\"\nbolt-path = \"/b\"\n"
        );
        assert_eq!(
            edit("bolt-path = \"/b\"\n", &[], "tls-key", "/k"),
            "bolt-path = \"/b\"\ntls-key = \"/k\"\n"
        );
    }
}
