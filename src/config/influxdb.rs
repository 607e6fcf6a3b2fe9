//! InfluxDB 1.x (`[http]` in influxdb.conf) and 2.x (flat `tls-*` keys in config.toml).
//!
//! Pure: it must not read or write files; the command does.

use std::path::Path;

use anyhow::Result;
use toml_edit::DocumentMut;
use zeroize::Zeroizing;

use super::template::{Template, Values, render};
use crate::error::Error;

/// Tables only an InfluxDB 1.x config has.
const V1_TABLES: [&str; 13] = [
    "meta",
    "data",
    "coordinator",
    "retention",
    "shard-precreation",
    "monitor",
    "http",
    "subscriber",
    "continuous_queries",
    "graphite",
    "collectd",
    "opentsdb",
    "udp",
];

/// Top-level keys only an InfluxDB 2.x config has.
const V2_KEYS: [&str; 8] = [
    "bolt-path",
    "engine-path",
    "http-bind-address",
    "tls-cert",
    "tls-key",
    "tls-min-version",
    "tls-strict-ciphers",
    "sqlite-path",
];

/// What a config file is for, decided by its keys: 1.x has sections such as `[meta]`, `[data]`
/// and `[http]`; 2.x is flat, with keys such as `bolt-path`, `engine-path` and
/// `http-bind-address`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    V1,
    V2,
    /// Neither: empty, or something else entirely.
    Unknown,
}

impl Kind {
    #[must_use]
    pub fn of(doc: &DocumentMut) -> Kind {
        let root = doc.as_table();
        if V1_TABLES.iter().any(|t| root.contains_key(t)) {
            Kind::V1
        } else if V2_KEYS.iter().any(|k| root.contains_key(k)) {
            Kind::V2
        } else {
            Kind::Unknown
        }
    }

    /// The keys that gave it away, for error messages.
    #[must_use]
    pub fn evidence(doc: &DocumentMut) -> String {
        let root = doc.as_table();
        let v1 = V1_TABLES
            .iter()
            .filter(|t| root.contains_key(t))
            .map(|t| format!("[{t}]"));
        let v2 = V2_KEYS
            .iter()
            .filter(|k| root.contains_key(k))
            .map(|k| (*k).to_owned());
        v1.chain(v2).take(3).collect::<Vec<_>>().join(", ")
    }

    /// Refuse to edit `doc` (the file `name`) unless it is an InfluxDB 1.x config.
    pub fn require_v1(doc: &DocumentMut, name: &Path) -> Result<(), Error> {
        match Kind::of(doc) {
            Kind::V1 => Ok(()),
            Kind::V2 => Err(Error::invalid(
                format!(
                    "'{}' is an InfluxDB 2.x config (it has {})",
                    name.display(),
                    Kind::evidence(doc)
                ),
                "use certtool config influxdb2 for InfluxDB 2.x",
            )),
            Kind::Unknown => Err(Error::invalid(
                format!(
                    "'{}' does not look like an InfluxDB 1.x config: it has none of the \
                     [meta], [data], [http] or [coordinator] sections",
                    name.display()
                ),
                "check the path (e.g. /etc/influxdb/influxdb.conf), or print the snippet without --in-place",
            )),
        }
    }

    /// Refuse to edit `doc` (the file `name`) unless it could be an InfluxDB 2.x config: not
    /// 1.x, and flat (influxd 2.x will not start with sections).
    pub fn require_v2(doc: &DocumentMut, name: &Path) -> Result<(), Error> {
        if Kind::of(doc) == Kind::V1 {
            return Err(Error::invalid(
                format!(
                    "'{}' is an InfluxDB 1.x config (it has {}); InfluxDB 2.x refuses to start with it",
                    name.display(),
                    Kind::evidence(doc)
                ),
                "use certtool config influxdb for InfluxDB 1.x",
            ));
        }
        if let Some((section, _)) = doc
            .iter()
            .find(|(_, item)| item.is_table() || item.is_array_of_tables())
        {
            return Err(Error::invalid(
                format!(
                    "'{}' has a [{section}] section; an InfluxDB 2.x config has none",
                    name.display()
                ),
                "check the path (e.g. /etc/influxdb/config.toml)",
            ));
        }
        Ok(())
    }
}

/// The `[http]` snippet for InfluxDB 1.x. `secret` is written only with --secret-in-config.
pub fn v1_snippet(
    template: &str,
    cert: &str,
    key: &str,
    auth: bool,
    secret: Option<&str>,
) -> Result<Zeroizing<String>> {
    let mut values = Values::default();
    values
        .toml("cert", cert)
        .toml("key", key)
        .flag("auth", auth);
    if let Some(secret) = secret {
        values.toml("secret", secret);
    }
    render(template, &values, Template::InfluxdbHttp.file_name())
}

/// The TLS keys for InfluxDB 2.x.
pub fn v2_snippet(
    template: &str,
    cert: &str,
    key: &str,
    strict: bool,
) -> Result<Zeroizing<String>> {
    let mut values = Values::default();
    values
        .toml("cert", cert)
        .toml("key", key)
        .flag("strict", strict);
    render(template, &values, Template::Influxdb2Tls.file_name())
}

/// The equivalent `influxd` flags for 2.x.
#[must_use]
pub fn v2_flags(cert: &str, key: &str, strict: bool) -> String {
    let quote = |s: &str| {
        if s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:@".contains(c))
        {
            s.to_owned()
        } else {
            format!("'{}'", s.replace('\'', r"'\''"))
        }
    };
    let strict = if strict { " --tls-strict-ciphers" } else { "" };
    format!(
        "influxd --tls-cert {} --tls-key {} --tls-min-version 1.2{strict}",
        quote(cert),
        quote(key)
    )
}
