//! `certtool audit telegraf`: its `[[outputs.influxdb]]` blocks: https, verification on, a CA
//! file that exists (and, with `--url`, is the one the server's chain leads to), and
//! passwords from the environment rather than written in the file.

use anyhow::Result;
use toml_edit::DocumentMut;

use super::Finding;
use crate::cli::AuditTelegrafArgs;
use crate::error::Error;
use crate::files;

pub(super) fn audit(args: &AuditTelegrafArgs) -> Result<Vec<Finding>> {
    let bytes = files::read_input(&args.config)?;
    let text = String::from_utf8_lossy(&bytes);
    let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        Error::invalid(
            format!("cannot parse '{}': {}", args.config.display(), e.message()),
            "give Telegraf's config file (TOML), e.g. /etc/telegraf/telegraf.conf",
        )
    })?;
    let config = args.config.display().to_string();
    let mut findings = Vec::new();
    let outputs = doc
        .get("outputs")
        .and_then(|o| o.get("influxdb"))
        .and_then(|i| i.as_array_of_tables());
    let Some(outputs) = outputs.filter(|o| !o.is_empty()) else {
        findings.push(Finding::pass(
            "telegraf.outputs",
            "no [[outputs.influxdb]] block",
        ));
        return Ok(findings);
    };
    for (i, block) in outputs.iter().enumerate() {
        let n = i + 1;
        let urls: Vec<String> = block
            .get("urls")
            .and_then(|u| u.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let fix = |url: &str| {
            format!(
                "certtool config telegraf --url {} --ca CA --in-place {config}",
                https_of(url)
            )
        };
        for url in &urls {
            let url = crate::text::sanitize(url);
            findings.push(if url.starts_with("https://") {
                Finding::pass("telegraf.url", format!("output {n}: {url}"))
            } else if serves_https(&url) {
                Finding::warn(
                    "telegraf.url",
                    format!("output {n}: {url}, but the server serves https"),
                )
                .why("metrics and the password go in clear text to a server that offers TLS")
                .fix(fix(&url))
            } else {
                Finding::warn("telegraf.url", format!("output {n}: {url} (plain http)"))
                    .why("metrics and the password cross the network in clear text")
                    .fix(fix(&url))
            });
        }
        if block
            .get("insecure_skip_verify")
            .and_then(toml_edit::Item::as_bool)
            == Some(true)
        {
            findings.push(
                Finding::fail(
                    "telegraf.insecure-skip-verify",
                    format!("output {n}: insecure_skip_verify = true"),
                )
                .why("anyone in between can pose as InfluxDB and collect the password")
                .fix(format!(
                    "certtool config telegraf --url URL --ca CA --in-place {config}"
                )),
            );
        }
        if let Some(ca) = block.get("tls_ca").and_then(|v| v.as_str()) {
            findings.push(tls_ca(n, ca, args.url.as_deref(), args.timeout));
        }
        if let Some(password) = block.get("password").and_then(|v| v.as_str())
            && !password.is_empty()
        {
            findings.push(if password.starts_with("${") && password.ends_with('}') {
                Finding::pass("telegraf.password", format!("output {n}: password from the environment"))
            } else {
                Finding::warn("telegraf.password", format!("output {n}: the password is written in {config}"))
                    .why("configs get copied and diffed; Telegraf reads ${INFLUX_PASSWORD} from its environment")
                    .fix(format!("certtool config telegraf --url URL --ca CA --username USER --in-place {config}"))
            });
        }
    }
    Ok(findings)
}

fn https_of(url: &str) -> String {
    url.strip_prefix("http://")
        .map_or_else(|| url.to_owned(), |rest| format!("https://{rest}"))
}

/// Whether the server behind an `http://` URL also answers https on the same port.
fn serves_https(url: &str) -> bool {
    crate::verify::probe::Target::parse(&https_of(url))
        .ok()
        .and_then(|t| t.addr(std::time::Duration::from_secs(1)).ok())
        .is_some_and(super::web::speaks_tls_at)
}

/// The CA file exists and holds certificates; with `--url`, the server's chain leads to it.
fn tls_ca(n: usize, ca: &str, url: Option<&str>, timeout: std::time::Duration) -> Finding {
    let path = std::path::Path::new(ca);
    let roots = match crate::inputs::load_chain(path, "CA file") {
        Ok(roots) => roots,
        Err(e) => {
            return Finding::fail(
                "telegraf.tls-ca",
                format!("output {n}: {}", crate::text::sanitize(&format!("{e:#}"))),
            )
            .why("Telegraf cannot verify the server and will not connect");
        }
    };
    let Some(url) = url else {
        return Finding::pass("telegraf.tls-ca", format!("output {n}: tls_ca {ca}"));
    };
    let probe = crate::verify::probe::Probe {
        target: match crate::verify::probe::Target::parse(url) {
            Ok(t) => t,
            Err(e) => return Finding::fail("telegraf.tls-ca", e.to_string()),
        },
        ca: Some(roots),
        insecure: false,
        kind: crate::verify::probe::ProbeKind::Tls,
        auth: None,
        require_auth: false,
        timeout,
    };
    match probe.run(time::OffsetDateTime::now_utc()) {
        Ok(outcome) if outcome.checks.iter().all(|c| c.ok) => Finding::pass(
            "telegraf.tls-ca",
            format!("output {n}: {url} chains to tls_ca {ca}"),
        ),
        Ok(outcome) => {
            let why = outcome
                .checks
                .iter()
                .find(|c| !c.ok)
                .map(|c| c.detail.clone())
                .unwrap_or_default();
            Finding::fail(
                "telegraf.tls-ca",
                format!("output {n}: {url} with tls_ca {ca}: {why}"),
            )
            .why("Telegraf will refuse the server: its chain does not lead to this CA")
        }
        Err(e) => Finding::fail(
            "telegraf.tls-ca",
            format!(
                "output {n}: {url}: {}",
                crate::text::sanitize(&format!("{e:#}"))
            ),
        ),
    }
}
