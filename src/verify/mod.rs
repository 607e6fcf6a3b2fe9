//! End-to-end verification: the checks of a pair ([`pair`]) with the integrated server
//! ([`local`]) and the client ([`client`]), probes of running servers ([`probe`], which use the
//! same client but never the integrated server) and launching a real influxd or prometheus to
//! probe ([`launch`]).
//!
//! Every check is reported on its own, named, so a failure says which part is wrong.

pub mod client;
pub mod duplex;
pub mod launch;
pub mod local;
pub mod pair;
pub mod probe;
pub mod trust;

pub use pair::{LocalPlan, run_local};

use rustls::pki_types::CertificateDer;
use serde::Serialize;
use time::OffsetDateTime;

use crate::pki::parse::CertInfo;

/// One named check and its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was checked: `key`, `validity`, `chain`, `name`, `handshake`, `tls`, ...
    #[serde(rename = "name")]
    pub check: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub ok: bool,
    /// Passed, but with something the user should know (`warn` in the text).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub warning: bool,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher_suite: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Milliseconds, rounded to 0.01.
    #[serde(serialize_with = "round_ms")]
    pub handshake_ms: Option<f64>,
}

impl Check {
    #[must_use]
    pub fn new(check: &'static str, ok: bool, detail: impl Into<String>) -> Check {
        Check {
            check,
            host: None,
            ok,
            warning: false,
            detail: detail.into(),
            protocol: None,
            cipher_suite: None,
            handshake_ms: None,
        }
    }

    /// A check that passed with a warning.
    #[must_use]
    pub fn warning(check: &'static str, detail: impl Into<String>) -> Check {
        Check {
            warning: true,
            ..Check::new(check, true, detail)
        }
    }

    /// `ok  `, `warn` or `FAIL`: the word a listing of checks starts each line with.
    #[must_use]
    pub fn status_word(&self) -> &'static str {
        match (self.ok, self.warning) {
            (true, false) => "ok  ",
            (true, true) => "warn",
            (false, _) => "FAIL",
        }
    }

    #[must_use]
    pub fn for_host(mut self, host: &str) -> Check {
        self.host = Some(host.to_owned());
        self
    }
}

/// One certificate of a served chain, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct ChainEntry {
    pub subject: String,
    pub issuer: String,
    #[serde(rename = "hosts")]
    pub sans: Vec<crate::pki::names::San>,
    pub not_after: String,
    pub days_left: i64,
}

#[allow(
    clippy::ref_option,
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's serialize_with signature"
)]
fn round_ms<S: serde::Serializer>(ms: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => s.serialize_f64((ms * 100.0).round() / 100.0),
        None => s.serialize_none(),
    }
}

impl From<&CertInfo> for ChainEntry {
    fn from(c: &CertInfo) -> ChainEntry {
        ChainEntry {
            subject: c.subject.clone(),
            issuer: c.issuer.clone(),
            sans: c.sans.clone(),
            not_after: c.not_after.clone(),
            days_left: c.days_left,
        }
    }
}

/// Describe a served chain.
#[must_use]
pub fn describe_chain(chain: &[CertificateDer<'_>], now: OffsetDateTime) -> Vec<ChainEntry> {
    chain
        .iter()
        .filter_map(|der| CertInfo::from_der(der.as_ref(), now).ok())
        .map(|c| ChainEntry::from(&c))
        .collect()
}

/// The host names to check when none is given: every SAN, a wildcard as one name under it.
#[must_use]
pub fn hosts_from_sans(sans: &[crate::pki::names::San]) -> Vec<String> {
    use crate::pki::names::San;
    sans.iter()
        .filter_map(|s| match s {
            San::Dns(d) => Some(d.replacen('*', "wildcard-check", 1)),
            San::Ip(ip) => Some(ip.to_string()),
            _ => None,
        })
        .collect()
}
