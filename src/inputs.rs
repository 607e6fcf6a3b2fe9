//! The one input loader: certificates, chains, private keys, pairs and CAs read from files.
//!
//! Every command reads its inputs through here, so a file is recognised one way (PEM with
//! PKCS#8, SEC1 or PKCS#1 keys, DER, bundles of key and certificates, encrypted keys refused
//! with the command that decrypts them), limited to one size (`files::MAX_INPUT_BYTES`), and a
//! file that holds no certificate or no private key gets one wording. Errors name the file and
//! what it was given as, and never quote its contents (`pki::parse` sees to that).
//!
//! It must not decide what a command does with what it read, nor print anything.

use std::path::Path;

use anyhow::{Context, Result};
use rustls_pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::files;
use crate::pki::ca::LoadedCa;
use crate::pki::keys::{self, PrivateKeyInfo};
use crate::pki::parse::{self, Block, CertInfo, Summary};

/// One certificate of a file: its DER and what it says.
#[derive(Debug, Clone)]
pub struct Cert {
    pub der: CertificateDer<'static>,
    pub info: CertInfo,
}

/// A private key read from a file, with what is known of it. The DER is wiped when dropped.
pub struct Key {
    /// The PEM label it had (or would have, for DER): `PRIVATE KEY`, `EC PRIVATE KEY`, ...
    pub label: String,
    pub der: Zeroizing<Vec<u8>>,
    pub info: PrivateKeyInfo,
}

impl Key {
    /// The key in the form rustls loads.
    #[must_use]
    pub fn rustls_der(&self) -> PrivateKeyDer<'static> {
        let der = self.der.to_vec();
        match self.label.as_str() {
            "EC PRIVATE KEY" => PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(der)),
            "RSA PRIVATE KEY" => PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der)),
            _ => PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der)),
        }
    }

    /// The key ready to sign certificates (SEC1 and PKCS#1 keys are wrapped as PKCS#8).
    pub fn signing_key(&self) -> Result<rcgen::KeyPair> {
        keys::load_signing_key(&self.label, &self.der).map(|(key, _)| key)
    }
}

/// A certificate (with the rest of its chain) and the key that belongs to it.
pub struct Pair {
    pub certs: Vec<Cert>,
    pub key: Key,
}

impl Pair {
    /// The leaf: the first certificate of the file.
    #[must_use]
    pub fn leaf(&self) -> &Cert {
        &self.certs[0]
    }
}

/// The PEM blocks (or the one DER object) of `path`, given as `what`.
fn read_blocks(path: &Path, what: &str) -> Result<Vec<Block>> {
    let bytes = files::read_input(path)?;
    parse::parse_blocks(&bytes)
        .with_context(|| format!("cannot read the {what} '{}'", path.display()))
}

fn no_certificate(path: &Path, what: &str) -> anyhow::Error {
    Error::invalid(
        format!("'{}' holds no certificate", path.display()),
        format!("give the {what} file (PEM or DER)"),
    )
    .into()
}

/// Every certificate in `path` (given as `what`: "certificate", "CA certificate", ...), in
/// order, as DER only: for trust anchors and chains that need no description.
pub fn load_chain(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let chain: Vec<CertificateDer<'static>> = read_blocks(path, what)?
        .into_iter()
        .filter(|b| b.label == "CERTIFICATE")
        .map(|b| CertificateDer::from(b.der.to_vec()))
        .collect();
    if chain.is_empty() {
        return Err(no_certificate(path, what));
    }
    Ok(chain)
}

/// Every certificate in `path`, in order, described as of `now`.
pub fn load_certs(path: &Path, what: &str, now: OffsetDateTime) -> Result<Vec<Cert>> {
    load_chain(path, what)?
        .into_iter()
        .map(|der| {
            let info = CertInfo::from_der(der.as_ref(), now)
                .with_context(|| format!("cannot read the {what} '{}'", path.display()))?;
            Ok(Cert { der, info })
        })
        .collect()
}

/// The first private key in `path` (a key file, or a bundle). `hint` says which key to give
/// when the file holds none.
pub fn load_key(path: &Path, hint: &str) -> Result<Key> {
    let blocks = read_blocks(path, "key")?;
    let block = blocks
        .into_iter()
        .find(|b| parse::is_private_key_label(&b.label))
        .ok_or_else(|| {
            Error::invalid(format!("'{}' holds no private key", path.display()), hint)
        })?;
    let info = keys::parse_private_key(&block.label, &block.der)
        .with_context(|| format!("cannot read the key '{}'", path.display()))?;
    Ok(Key {
        label: block.label,
        der: block.der,
        info,
    })
}

/// A certificate file and its key, checked to belong together.
pub fn load_pair(cert: &Path, key: &Path, now: OffsetDateTime) -> Result<Pair> {
    let certs = load_certs(cert, "certificate", now)?;
    let key_file = load_key(key, "give the certificate's private key with --key")?;
    if !certs[0].info.matches_key(&key_file.info) {
        return Err(Error::invalid(
            format!(
                "the key '{}' does not belong to the certificate '{}': their public keys do not match",
                key.display(),
                cert.display()
            ),
            "a server with this pair would fail every handshake; give the key made with the certificate",
        )
        .into());
    }
    Ok(Pair {
        certs,
        key: key_file,
    })
}

/// Everything a file holds: its certificates (in order) and private keys.
pub struct Bundle {
    pub certs: Vec<Cert>,
    pub keys: Vec<Key>,
}

/// The certificates and keys of `path` (given as `what`), described as of `now`.
pub fn load_bundle(path: &Path, what: &str, now: OffsetDateTime) -> Result<Bundle> {
    let context = || format!("cannot read the {what} '{}'", path.display());
    let mut bundle = Bundle {
        certs: Vec::new(),
        keys: Vec::new(),
    };
    for block in read_blocks(path, what)? {
        if block.label == "CERTIFICATE" {
            let der = CertificateDer::from(block.der.to_vec());
            let info = CertInfo::from_der(der.as_ref(), now).with_context(context)?;
            bundle.certs.push(Cert { der, info });
        } else if parse::is_private_key_label(&block.label) {
            let info = keys::parse_private_key(&block.label, &block.der).with_context(context)?;
            bundle.keys.push(Key {
                label: block.label,
                der: block.der,
                info,
            });
        }
    }
    Ok(bundle)
}

/// The dates and names of every certificate in `path`, for expiry monitoring: a bundle may be
/// as large as `files::MAX_BUNDLE_BYTES` (100,000 certificates and more), and no signature is
/// checked. An error names the file as `cannot check '...'`.
pub fn load_summaries(path: &Path) -> Result<Vec<Summary>> {
    let context = || format!("cannot check '{}'", path.display());
    let bytes = files::read_input_up_to(path, files::MAX_BUNDLE_BYTES)?;
    parse::parse_blocks(&bytes)
        .with_context(context)?
        .iter()
        .filter(|b| b.label == "CERTIFICATE")
        .map(|b| Summary::from_der(&b.der).with_context(context))
        .collect()
}

/// Everything `inspect` shows of `path`: each certificate and key, in order; a block that is
/// neither (a CSR, a public key) is named as an error rather than skipped.
pub fn describe(path: &Path, now: OffsetDateTime) -> Result<parse::FileContents> {
    let bytes = files::read_input(path)?;
    parse::describe_file(&bytes, now)
        .with_context(|| format!("cannot inspect '{}'", path.display()))
}

/// The system's trust store on Debian (ca-certificates), unless `$SSL_CERT_FILE` names another.
const SYSTEM_ROOTS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The certificates of the system's trust store, as DER (none if it cannot be read: then
/// nothing is trusted, which is the safe way to fail).
#[must_use]
pub fn system_roots() -> Vec<Vec<u8>> {
    let path = std::env::var_os("SSL_CERT_FILE").map_or_else(
        || std::path::PathBuf::from(SYSTEM_ROOTS),
        std::path::PathBuf::from,
    );
    let Ok(bytes) = files::read_input_up_to(&path, files::MAX_BUNDLE_BYTES) else {
        return Vec::new();
    };
    parse::parse_blocks(&bytes)
        .map(|blocks| {
            blocks
                .into_iter()
                .filter(|b| b.label == "CERTIFICATE")
                .map(|b| b.der.to_vec())
                .collect()
        })
        .unwrap_or_default()
}

/// The certificate signing request in `path` (PEM or DER), and what it asks for.
pub fn load_request(path: &Path) -> Result<(Vec<u8>, crate::pki::csr::CsrInfo)> {
    let context = || {
        format!(
            "cannot read the certificate signing request '{}'",
            path.display()
        )
    };
    let block = read_blocks(path, "certificate signing request")?
        .into_iter()
        .find(|b| b.label.ends_with("CERTIFICATE REQUEST"))
        .ok_or_else(|| {
            Error::invalid(
                format!("'{}' holds no certificate signing request", path.display()),
                "give the .csr file (PEM 'CERTIFICATE REQUEST', or DER)",
            )
        })?;
    let der = block.der.to_vec();
    let info = crate::pki::csr::CsrInfo::from_der(&der).with_context(context)?;
    Ok((der, info))
}

/// A CA certificate and its key, checked to belong together and able to sign at `now`.
pub fn load_ca(cert: &Path, key: &Path, now: OffsetDateTime) -> Result<LoadedCa> {
    let context = || format!("cannot use the CA '{}'", cert.display());
    let chain = load_chain(cert, "CA certificate").with_context(context)?;
    let key =
        load_key(key, "pass the CA's private key (ca.key) with --ca-key").with_context(context)?;
    let signing = key.signing_key().with_context(context)?;
    LoadedCa::from_parts(&chain, signing, now).with_context(context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::Host;
    use crate::pki::cert::{LeafSpec, self_signed};
    use crate::pki::validity::Validity;

    #[allow(clippy::disallowed_methods, reason = "test fixtures")]
    fn fixture(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn issued() -> crate::pki::cert::Issued {
        let now = OffsetDateTime::now_utc();
        self_signed(&LeafSpec {
            hosts: vec![Host::parse("l.test").unwrap()],
            validity: Validity::new(now, Some(30), None, None, 365).unwrap(),
            key_type: crate::pki::KeyType::EcdsaP256,
        })
        .unwrap()
    }

    #[test]
    fn one_wording_for_missing_certificates_and_keys() {
        let dir = tempfile::tempdir().unwrap();
        let a = issued();
        let key = fixture(dir.path(), "a.key", a.key_pem.as_str());
        let crt = fixture(dir.path(), "a.crt", &a.cert_pem);
        let now = OffsetDateTime::now_utc();
        let err = load_certs(&key, "certificate", now).err().unwrap();
        assert!(err.to_string().contains("holds no certificate"), "{err:#}");
        let err = load_key(&crt, "give it").err().unwrap();
        assert!(err.to_string().contains("holds no private key"), "{err:#}");
        let pair = load_pair(&crt, &key, now).unwrap();
        assert_eq!(pair.leaf().info.subject, "CN=l.test");
        let other = issued();
        let other_key = fixture(dir.path(), "b.key", other.key_pem.as_str());
        let err = load_pair(&crt, &other_key, now).err().unwrap();
        assert!(err.to_string().contains("does not belong"), "{err:#}");
    }

    #[test]
    fn bundles_give_both_halves() {
        let dir = tempfile::tempdir().unwrap();
        let a = issued();
        let both = fixture(
            dir.path(),
            "b.pem",
            &format!("{}{}", a.cert_pem, a.key_pem.as_str()),
        );
        let pair = load_pair(&both, &both, OffsetDateTime::now_utc()).unwrap();
        assert_eq!(pair.certs.len(), 1);
        assert!(matches!(pair.key.rustls_der(), PrivateKeyDer::Pkcs8(_)));
    }
}
