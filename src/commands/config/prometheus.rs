//! `certtool config prometheus` (`web-config.yml`) and `config prometheus-scrape` (a job
//! that scrapes over HTTPS).
//!
//! It must not build YAML itself: `config::prometheus` does.

use std::path::PathBuf;

use anyhow::{Context as _, Result};

use super::{print_snippet, read_certificates};
use crate::cli::{ConfigPrometheusArgs, ConfigPrometheusScrapeArgs};
use crate::commands::absolute;
use crate::config::prometheus::{self, Scrape};
use crate::config::template::Template;
use crate::files::{self, FileKind, PlannedFile, WriteOptions};
use crate::output::Output;
use crate::pki::names::sans_cover;

/// `config prometheus`: `web-config.yml`, printed or written to `--out`.
pub(super) fn web(args: &ConfigPrometheusArgs, out: &mut Output) -> Result<()> {
    let pair = crate::commands::configured_pair(&args.pair, "prometheus", out)?;
    if let Some(host) = &args.host
        && !sans_cover(&pair.info.sans, host)
    {
        out.warn(&format!(
            "the certificate does not cover {host} (it has {}); clients will refuse it",
            crate::pki::names::sans_line(&pair.info.sans)
        ))?;
    }
    let client_ca = match &args.client_ca {
        Some(path) => {
            read_certificates(path, "client CA certificate")?;
            Some(absolute(path)?)
        }
        None => None,
    };
    let template = Template::PrometheusWebConfig.load(args.templates.template_dir.as_deref())?;
    let snippet = prometheus::web_config(&template, &pair.cert, &pair.key, client_ca.as_deref())?;
    let Some(path) = &args.out else {
        return print_snippet(
            out,
            Template::PrometheusWebConfig,
            &snippet,
            super::Extra::default(),
        );
    };
    let written = files::write_all(
        &[PlannedFile::new(
            path.clone(),
            FileKind::Config,
            snippet.as_bytes(),
        )],
        WriteOptions {
            force: args.replace.force,
            ..WriteOptions::default()
        },
    )?;
    out.report(&WebConfigWritten {
        files: &written,
        absolute: absolute(path)?,
    })?;
    Ok(())
}

/// `config prometheus --out`: the web config written.
#[derive(serde::Serialize)]
struct WebConfigWritten<'a> {
    files: &'a [crate::files::Written],
    #[serde(skip)]
    absolute: String,
}

impl crate::output::Report for WebConfigWritten<'_> {
    fn ok(&self) -> bool {
        true
    }

    fn text(&self) -> crate::output::Text {
        let path = self
            .files
            .first()
            .map(|w| w.path.display().to_string())
            .unwrap_or_default();
        crate::output::Text::note(format!(
            "{path}: written (0644). Start Prometheus with --web.config.file={}",
            self.absolute
        ))
    }
}

/// `config prometheus-scrape`: a scrape job over HTTPS that trusts the CA.
pub(super) fn scrape(args: &ConfigPrometheusScrapeArgs, out: &mut Output) -> Result<()> {
    read_certificates(&args.ca, "CA certificate")?;
    let client = |p: &Option<PathBuf>| p.as_deref().map(absolute).transpose();
    let password_file = args.password_file.as_deref().map(absolute).transpose()?;
    let scrape = Scrape {
        job: args.job.clone(),
        ca: absolute(&args.ca)?,
        target: args.target.clone(),
        server_name: args.server_name.clone(),
        client_cert: client(&args.client_cert)?,
        client_key: client(&args.client_key)?,
        basic_auth: args.username.clone().zip(password_file),
    };
    let template = Template::PrometheusScrape.load(args.edit.templates.template_dir.as_deref())?;
    let snippet = prometheus::scrape_job(&template, &scrape)?;
    let Some(config) = &args.edit.in_place else {
        return print_snippet(
            out,
            Template::PrometheusScrape,
            &snippet,
            super::Extra::default(),
        );
    };
    let (edited, planned) = super::plan_text_edit(config, &args.edit, 0o777, None, |text| {
        let (new, _) = crate::config::scrape_yml::set_job(text, &args.job, &snippet)
            .with_context(|| format!("'{}'", config.display()))?;
        Ok(zeroize::Zeroizing::new(new))
    })?;
    let edited = super::write_edit(edited, &planned.into_iter().collect::<Vec<_>>())?;
    super::report_edit(out, &edited, super::Extra::default())
}
