//! The ACME account: registered once per CA directory, its credentials (which hold the account
//! key) kept in `--account-dir/<directory>/account.json`, mode 0600, and reused.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use instant_acme::{Account, AccountCredentials, HttpClient, NewAccount};

use super::refused;
use crate::files::{self, FileKind, PlannedFile, WriteOptions};

/// The directory kept for the CA at `directory`, named after its URL.
#[must_use]
pub fn state_dir(account_dir: &Path, directory: &str) -> PathBuf {
    let slug: String = directory
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    account_dir.join(slug)
}

fn credentials_path(account_dir: &Path, directory: &str) -> PathBuf {
    state_dir(account_dir, directory).join("account.json")
}

/// The account for `directory`: the stored one, or a new registration (agreeing to the CA's
/// terms, with `email` as contact). Says whether it was created.
pub async fn open(
    account_dir: &Path,
    directory: &str,
    email: Option<&str>,
    http: Box<dyn HttpClient>,
) -> Result<(Account, bool)> {
    let path = credentials_path(account_dir, directory);
    if path.exists() {
        let account = restore(&path, http)
            .await
            .map_err(|e| refused(e, directory))?;
        return Ok((account, false));
    }
    let contact = email.map(|e| format!("mailto:{e}"));
    let contacts: Vec<&str> = contact.iter().map(String::as_str).collect();
    let (account, credentials) = Account::builder_with_http(http)
        .create(
            &NewAccount {
                contact: &contacts,
                terms_of_service_agreed: true,
                only_return_existing: false,
            },
            directory.to_owned(),
            None,
        )
        .await
        .map_err(|e| refused(e, directory))?;
    let json = zeroize::Zeroizing::new(serde_json::to_vec(&credentials)?);
    files::write_all(
        &[PlannedFile::new(path, FileKind::Secret, &json)],
        WriteOptions::default(),
    )
    .context("cannot keep the new ACME account")?;
    Ok((account, true))
}

/// The stored account for `directory`, if there is one.
pub async fn existing(
    account_dir: &Path,
    directory: &str,
    http: Box<dyn HttpClient>,
) -> Result<Option<Account>> {
    let path = credentials_path(account_dir, directory);
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(
        restore(&path, http)
            .await
            .map_err(|e| refused(e, directory))?,
    ))
}

async fn restore(path: &Path, http: Box<dyn HttpClient>) -> Result<Account, instant_acme::Error> {
    let bytes = files::read_input(path).map_err(|e| instant_acme::Error::Other(e.into()))?;
    let credentials: AccountCredentials = serde_json::from_slice(&bytes)?;
    Account::builder_with_http(http)
        .from_credentials(credentials)
        .await
}
