//! Prometheus: the web config (`--web.config.file`) and a scrape job's `tls_config`.
//!
//! Pure: it must not read or write files; the command does.

use anyhow::Result;
use zeroize::Zeroizing;

use super::template::{Template, Values, render};

/// `tls_server_config` with the certificate, key and (for mutual TLS) the client CA.
pub fn web_config(
    template: &str,
    cert: &str,
    key: &str,
    client_ca: Option<&str>,
) -> Result<Zeroizing<String>> {
    let mut values = Values::default();
    values.yaml("cert", cert).yaml("key", key);
    if let Some(ca) = client_ca {
        values.yaml("client_ca", ca);
    }
    render(template, &values, Template::PrometheusWebConfig.file_name())
}

/// What a scrape job over HTTPS needs.
#[derive(Debug, Clone)]
pub struct Scrape {
    pub job: String,
    pub ca: String,
    pub target: String,
    pub server_name: Option<String>,
    pub client_cert: Option<String>,
    pub client_key: Option<String>,
    /// User and password file, for targets behind basic auth.
    pub basic_auth: Option<(String, String)>,
}

/// A scrape job with `scheme: https` and `tls_config`.
pub fn scrape_job(template: &str, scrape: &Scrape) -> Result<Zeroizing<String>> {
    let mut values = Values::default();
    values
        .yaml("job", &scrape.job)
        .yaml("ca", &scrape.ca)
        .yaml("target", &scrape.target);
    for (name, value) in [
        ("server_name", &scrape.server_name),
        ("cert", &scrape.client_cert),
        ("key", &scrape.client_key),
    ] {
        if let Some(v) = value {
            values.yaml(name, v);
        }
    }
    if let Some((user, password_file)) = &scrape.basic_auth {
        values
            .yaml("username", user)
            .yaml("password_file", password_file);
    }
    render(template, &values, Template::PrometheusScrape.file_name())
}
