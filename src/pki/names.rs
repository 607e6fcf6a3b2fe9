//! Host names and addresses that become subjectAltName entries.
//!
//! Pure validation: every `--host` is either an IP address (an IP SAN, never a DNS SAN: clients
//! compare addresses against IP SANs only) or a DNS name with a possible wildcard as the whole
//! left-most label.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use super::error::PkiError;

/// One subjectAltName.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum Host {
    Dns(String),
    Ip(IpAddr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Dns(name) => f.write_str(name),
            Host::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

impl Host {
    /// Parse one `--host` value.
    pub fn parse(input: &str) -> Result<Host, PkiError> {
        // Accept the bracketed form people copy from URLs: [::1].
        let unbracketed = input
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .unwrap_or(input);
        if let Ok(ip) = unbracketed.parse::<IpAddr>() {
            return Ok(Host::Ip(ip));
        }
        validate_dns_name(input).map(|()| Host::Dns(input.to_ascii_lowercase()))
    }

    /// Whether this is a wildcard name such as `*.example.com`.
    #[must_use]
    pub fn is_wildcard(&self) -> bool {
        matches!(self, Host::Dns(name) if name.starts_with("*."))
    }

    /// The file name base for this host: a leading `*` becomes `_wildcard`, and the colons of an
    /// IPv6 address become underscores so the name is usable in shells and config files.
    #[must_use]
    pub fn file_base(&self) -> String {
        match self {
            Host::Dns(name) => match name.strip_prefix('*') {
                Some(rest) => format!("_wildcard{rest}"),
                None => name.clone(),
            },
            Host::Ip(ip) => ip.to_string().replace(':', "_"),
        }
    }
}

/// Parse all `--host` values, dropping exact duplicates. At least one is required.
pub fn parse_hosts(inputs: &[String]) -> Result<Vec<Host>, PkiError> {
    if inputs.is_empty() {
        return Err(PkiError::NoHosts);
    }
    let mut hosts: Vec<Host> = Vec::with_capacity(inputs.len());
    for input in inputs {
        let host = Host::parse(input)?;
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    Ok(hosts)
}

/// One subjectAltName as a certificate lists it: typed, so no caller parses `DNS:` strings back.
/// Shown (and, until the JSON schema changes, serialised) as OpenSSL writes it: `DNS:name`,
/// `IP:address`, `email:...`, `URI:...`. Values from certificates are sanitised when made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum San {
    Dns(String),
    Ip(IpAddr),
    Email(String),
    Uri(String),
    /// Another kind of name, described.
    Other(String),
}

impl fmt::Display for San {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            San::Dns(d) => write!(f, "DNS:{d}"),
            San::Ip(ip) => write!(f, "IP:{ip}"),
            San::Email(e) => write!(f, "email:{e}"),
            San::Uri(u) => write!(f, "URI:{u}"),
            San::Other(o) => f.write_str(o),
        }
    }
}

/// In JSON, `{"type": "dns" | "ip" | "email" | "uri" | "other", "value": "..."}`, like the
/// hosts given on the command line.
impl Serialize for San {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let (kind, value) = match self {
            San::Dns(d) => ("dns", d.clone()),
            San::Ip(ip) => ("ip", ip.to_string()),
            San::Email(e) => ("email", e.clone()),
            San::Uri(u) => ("uri", u.clone()),
            San::Other(o) => ("other", o.clone()),
        };
        let mut host = s.serialize_struct("San", 2)?;
        host.serialize_field("type", kind)?;
        host.serialize_field("value", &value)?;
        host.end()
    }
}

/// The SANs as one line: `DNS:a, IP:b`.
#[must_use]
pub fn sans_line(sans: &[San]) -> String {
    sans.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a certificate with subjectAltNames `sans` covers `host`, the way TLS clients match:
/// IP addresses only against IP SANs, and a wildcard covering exactly one left-most label.
#[must_use]
pub fn sans_cover(sans: &[San], host: &str) -> bool {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = host.parse::<IpAddr>() {
        return sans.contains(&San::Ip(ip));
    }
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    sans.iter()
        .filter_map(|s| match s {
            San::Dns(d) => Some(d.to_ascii_lowercase()),
            _ => None,
        })
        .any(|san| match san.strip_prefix("*.") {
            Some(parent) => host
                .split_once('.')
                .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
            None => san == host,
        })
}

fn invalid_name(input: &str, why: impl Into<String>) -> PkiError {
    PkiError::InvalidHost {
        input: crate::text::sanitize(input),
        why: why.into(),
    }
}

fn validate_dns_name(input: &str) -> Result<(), PkiError> {
    if input.is_empty() {
        return Err(invalid_name(input, "it is empty"));
    }
    if input.len() > 253 {
        return Err(invalid_name(input, "longer than 253 characters"));
    }
    let labels: Vec<&str> = input.split('.').collect();
    for (i, label) in labels.iter().enumerate() {
        if label.is_empty() {
            return Err(invalid_name(input, "it has an empty label"));
        }
        if *label == "*" {
            if i != 0 {
                return Err(invalid_name(
                    input,
                    "a wildcard may only be the whole left-most label",
                ));
            }
            if labels.len() < 3 {
                return Err(invalid_name(
                    input,
                    "a wildcard needs at least two labels after it (*.example.com)",
                ));
            }
            continue;
        }
        validate_label(input, label)?;
    }
    if labels
        .last()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(invalid_name(
            input,
            "it looks like an incomplete IP address",
        ));
    }
    Ok(())
}

fn validate_label(input: &str, label: &str) -> Result<(), PkiError> {
    if label.len() > 63 {
        return Err(invalid_name(input, "a label is longer than 63 characters"));
    }
    if label.contains('*') {
        return Err(invalid_name(
            input,
            "a wildcard may only be the whole left-most label",
        ));
    }
    if let Some(bad) = label
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        let why = if bad.is_whitespace() {
            "it contains a space".to_owned()
        } else if bad.is_ascii() {
            format!("it contains '{}'", bad.escape_default())
        } else {
            "it contains a non-ASCII character (use the punycode form, xn--...)".to_owned()
        };
        return Err(invalid_name(input, why));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(invalid_name(
            input,
            "a label may not start or end with a hyphen",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sans_cover_like_tls_clients() {
        let sans = [
            San::Dns("localhost".to_owned()),
            San::Dns("*.example.com".to_owned()),
            San::Ip("127.0.0.1".parse().unwrap()),
            San::Ip("::1".parse().unwrap()),
            San::Email("a@b.test".to_owned()),
        ];
        for yes in [
            "localhost",
            "LOCALHOST",
            "a.example.com",
            "127.0.0.1",
            "::1",
            "[::1]",
        ] {
            assert!(sans_cover(&sans, yes), "{yes}");
        }
        for no in ["example.com", "a.b.example.com", "127.0.0.2", "other.test"] {
            assert!(!sans_cover(&sans, no), "{no}");
        }
    }

    fn ok(s: &str) -> Host {
        Host::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn err(s: &str) -> String {
        Host::parse(s).unwrap_err().to_string()
    }

    #[test]
    fn accepts_names_wildcards_and_addresses() {
        assert_eq!(ok("localhost"), Host::Dns("localhost".into()));
        assert_eq!(
            ok("Influx.Example.COM"),
            Host::Dns("influx.example.com".into())
        );
        assert_eq!(ok("*.example.com"), Host::Dns("*.example.com".into()));
        assert_eq!(ok("127.0.0.1"), Host::Ip("127.0.0.1".parse().unwrap()));
        assert_eq!(ok("::1"), Host::Ip("::1".parse().unwrap()));
        assert_eq!(ok("[::1]"), Host::Ip("::1".parse().unwrap()));
        assert_eq!(ok("my_host.local"), Host::Dns("my_host.local".into()));
    }

    #[test]
    fn rejects_bad_names_with_reasons() {
        assert!(err("").contains("empty"));
        assert!(err("a b").contains("space"));
        assert!(err("a..b").contains("empty label"));
        assert!(err("example.com.").contains("empty label"));
        assert!(err("www.*.example.com").contains("left-most"));
        assert!(err("w*.example.com").contains("left-most"));
        assert!(err("*.com").contains("two labels"));
        assert!(err("-a.example.com").contains("hyphen"));
        assert!(err("a/b").contains("'/'"));
        assert!(err("bücher.de").contains("punycode"));
        assert!(err("10.0.0").contains("IP address"));
        assert!(err(&"a".repeat(64)).contains("63"));
    }

    #[test]
    fn file_base_names() {
        assert_eq!(ok("*.example.com").file_base(), "_wildcard.example.com");
        assert_eq!(ok("localhost").file_base(), "localhost");
        assert_eq!(ok("::1").file_base(), "__1");
        assert!(ok("*.example.com").is_wildcard());
    }

    #[test]
    fn parse_hosts_requires_one_and_dedups() {
        assert!(parse_hosts(&[]).is_err());
        let hosts = parse_hosts(&["a.example".into(), "A.example".into(), "::1".into()]).unwrap();
        assert_eq!(hosts.len(), 2);
    }
}
