//! `certtool config telegraf`: an `[[outputs.influxdb]]` (or `influxdb_v2`) that trusts the CA.
//!
//! It must not edit TOML text itself: `config::edit` and `config::telegraf` do.

use std::path::Path;

use anyhow::Result;

use super::{edit_in_place, print_snippet, read_certificates, report_edit};
use crate::cli::ConfigTelegrafArgs;
use crate::commands::absolute;
use crate::config::telegraf;
use crate::output::Output;
use crate::pki::names::sans_cover;

/// A warning when the server certificate (`--cert`, or the `--ca` file itself when it is a
/// self-signed server certificate) does not cover the name Telegraf will check.
fn coverage_warning(args: &ConfigTelegrafArgs, ca: &Path, host: &str) -> Result<Option<String>> {
    let certs = read_certificates(ca, "CA certificate")?;
    let server = match &args.cert {
        Some(cert) => Some(read_certificates(cert, "certificate")?.remove(0)),
        None => certs.into_iter().next().filter(|c| !c.is_ca),
    };
    let Some(server) = server else {
        return Ok(None);
    };
    let name = args.server_name.as_deref().unwrap_or(host);
    if sans_cover(&server.sans, name) {
        return Ok(None);
    }
    let hint = if args.server_name.is_some() {
        ""
    } else {
        "; add --server-name with one of them (tls_server_name)"
    };
    Ok(Some(format!(
        "the server certificate does not cover {name} (it has {}){hint}",
        crate::pki::names::sans_line(&server.sans)
    )))
}

/// `config telegraf`: the output printed, or edited into `--in-place` (never a duplicate).
pub(super) fn run(args: &ConfigTelegrafArgs, out: &mut Output) -> Result<()> {
    // Warnings are shown once the command has succeeded: an error stays one clear line.
    let mut warnings = Vec::new();
    let url = crate::url::parse(&args.url)?;
    let host = url.host;
    if !url.https {
        warnings.push(
            "the URL is http://: Telegraf ignores the TLS settings and sends data in the clear"
                .to_owned(),
        );
    }
    let ca = match &args.ca {
        Some(path) => {
            warnings.extend(coverage_warning(args, path, &host)?);
            Some(absolute(path)?)
        }
        None => None,
    };
    if args.insecure_skip_verify {
        warnings.push(
            "insecure_skip_verify = true disables server authentication: anyone on the network \
             path can read and change the data; prefer --ca"
                .to_owned(),
        );
    }
    let output = telegraf::InfluxOutput {
        url: args.url.clone(),
        ca,
        insecure: args.insecure_skip_verify,
        server_name: args.server_name.clone(),
        database: args.database.clone(),
        v2: args.org.clone().zip(args.bucket.clone()),
        username: args.username.clone(),
        append: args.append,
    };
    let template = output
        .template()
        .load(args.edit.templates.template_dir.as_deref())?;
    let snippet = output.snippet(&template)?;
    match &args.edit.in_place {
        None => print_snippet(out, output.template(), &snippet, super::Extra::default())?,
        Some(config) => {
            let edited = edit_in_place(config, &args.edit, 0o777, None, |doc| {
                output.apply(doc, &snippet).map(|_| ())
            })?;
            report_edit(out, &edited, super::Extra::default())?;
        }
    }
    for warning in warnings {
        out.warn(&warning)?;
    }
    Ok(())
}
