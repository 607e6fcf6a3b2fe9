//! Reading certificates and keys from file contents, and describing them.
//!
//! Pure: takes bytes and the current time, returns plain data. Strings taken from certificates
//! are sanitised here, once, so no caller can print a forged line by accident.

use ::time::OffsetDateTime;
use anyhow::{Context, Result, anyhow, bail};
use serde::Serialize;
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_NIST_EC_P521,
    OID_PKCS1_RSAENCRYPTION, OID_SIG_ED25519,
};
use x509_parser::prelude::*;
use zeroize::Zeroizing;

use super::keys::{self, PrivateKeyInfo};
use super::names::San;
use super::validity::{days_until, format_time};
use crate::text::{colon_hex, sanitize};

/// One PEM block (or a whole DER file).
pub struct Block {
    pub label: String,
    pub der: Zeroizing<Vec<u8>>,
}

/// Split file contents into PEM blocks; a file with no PEM at all is tried as one DER
/// certificate or private key. Garbage and truncated PEM are errors, never panics.
///
/// No error quotes the file's contents: a damaged key file would otherwise have its base64
/// lines (the key itself) echoed into a terminal, a log or `--json`. At most a sanitised,
/// truncated label is named.
pub fn parse_blocks(bytes: &[u8]) -> Result<Vec<Block>> {
    let begins = count_occurrences(bytes, b"-----BEGIN ");
    if begins == 0 {
        return parse_der(bytes).map(|block| vec![block]);
    }
    let blocks =
        ::pem::parse_many(bytes).map_err(|e| anyhow!("malformed PEM: {}", pem_error(&e)))?;
    if blocks.len() < begins {
        bail!("malformed or truncated PEM: a -----BEGIN line has no matching -----END line");
    }
    check_framing(bytes, blocks.len())?;
    blocks
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let n = i + 1;
            if !is_valid_label(p.tag()) {
                bail!("malformed PEM: block {n} has an invalid label");
            }
            if p.headers()
                .get("Proc-Type")
                .is_some_and(|v| v.contains("ENCRYPTED"))
            {
                return Err(keys::encrypted_key_error());
            }
            Ok(Block {
                label: p.tag().to_owned(),
                der: Zeroizing::new(p.into_contents()),
            })
        })
        .collect()
}

/// What went wrong in PEM, in words that never quote the file (the `pem` crate's own messages
/// quote labels and headers, which for a damaged key run into the key's base64 lines).
fn pem_error(e: &::pem::PemError) -> &'static str {
    match e {
        ::pem::PemError::MismatchedTags(..) => {
            "a -----BEGIN line and its -----END line name different labels"
        }
        ::pem::PemError::MissingBeginTag | ::pem::PemError::MalformedFraming => {
            "a -----BEGIN line is damaged"
        }
        ::pem::PemError::MissingEndTag => "a -----BEGIN line has no matching -----END line",
        ::pem::PemError::MissingData => "a block holds no data",
        ::pem::PemError::InvalidData(_) => "a block's base64 is damaged",
        ::pem::PemError::InvalidHeader(_) => "a block has a damaged header line",
        ::pem::PemError::NotUtf8(_) => "a block is not text",
    }
}

/// RFC 7468 labels: printable ASCII but `-`, words separated by single spaces.
fn is_valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 64
        && label
            .split(' ')
            .all(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_graphic() && b != b'-'))
}

/// Every line that starts with five dashes must be the BEGIN or END line of a parsed block:
/// a chain cut inside its next `-----BEGIN` line would otherwise pass as a shorter chain.
fn check_framing(bytes: &[u8], blocks: usize) -> Result<()> {
    let (mut begin, mut end) = (0usize, 0usize);
    for line in bytes.split(|&b| b == b'\n') {
        let line = line.trim_ascii_end();
        // What is left of a BEGIN or END line cut short ("---", "-----BEG").
        let cut = |whole: &[u8]| line.len() >= 2 && whole.starts_with(line);
        if cut(b"-----BEGIN ") || cut(b"-----END ") {
            bail!("malformed or truncated PEM: the file ends inside a BEGIN or END line");
        }
        if !line.starts_with(b"-----") {
            continue;
        }
        let framed = |prefix: &[u8]| {
            line.strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(b"-----"))
                .and_then(|label| std::str::from_utf8(label).ok())
                .is_some_and(is_valid_label)
        };
        if framed(b"-----BEGIN ") {
            begin += 1;
        } else if framed(b"-----END ") {
            end += 1;
        } else {
            bail!(
                "malformed or truncated PEM: a line starting with ----- is not a BEGIN or END line"
            );
        }
    }
    if begin != blocks || end != blocks {
        bail!("malformed or truncated PEM: the BEGIN and END lines do not pair up");
    }
    Ok(())
}

/// A file without PEM: one DER certificate, or one DER private key (PKCS#8, SEC1 or PKCS#1, as
/// `openssl pkey -outform DER` writes them).
fn parse_der(bytes: &[u8]) -> Result<Block> {
    let block = |label: &str| Block {
        label: label.to_owned(),
        der: Zeroizing::new(bytes.to_vec()),
    };
    if bytes.first() == Some(&0x30) {
        if X509Certificate::from_der(bytes).is_ok_and(|(rest, _)| rest.is_empty()) {
            return Ok(block("CERTIFICATE"));
        }
        if let Some(label) = der_key_label(bytes) {
            return Ok(block(label));
        }
        if x509_parser::certification_request::X509CertificationRequest::from_der(bytes)
            .is_ok_and(|(rest, _)| rest.is_empty())
        {
            return Ok(block("CERTIFICATE REQUEST"));
        }
    }
    bail!("not a PEM or DER certificate, private key or certificate request");
}

/// The PEM label a DER private key would have, if `der` is one certtool can read.
#[must_use]
pub fn der_key_label(der: &[u8]) -> Option<&'static str> {
    ["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"]
        .into_iter()
        .find(|label| keys::parse_private_key(label, der).is_ok())
}

/// A label from a file, safe to quote in a message: sanitised and at most 40 characters.
#[must_use]
pub fn quoted_label(label: &str) -> String {
    let short: String = label.chars().take(40).collect();
    let ellipsis = if short.len() < label.len() { "..." } else { "" };
    format!("{}{ellipsis}", sanitize(&short))
}

fn count_occurrences(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

/// Whether a PEM label names a private key of any kind.
#[must_use]
pub fn is_private_key_label(label: &str) -> bool {
    label.ends_with("PRIVATE KEY")
}

/// Everything `inspect` shows about one certificate.
#[derive(Debug, Clone, Serialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// The subjectAltNames; `hosts` in JSON, like the hosts of every other command.
    #[serde(rename = "hosts")]
    pub sans: Vec<San>,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    pub days_left: i64,
    pub status: Status,
    /// The key as `--key-type` names it (`ecdsa-p256`, ..., or `other`).
    pub key_type: &'static str,
    /// e.g. "ECDSA P-256", for people.
    #[serde(skip)]
    pub key_algorithm: String,
    pub key_bits: u32,
    pub signature_algorithm: String,
    pub is_ca: bool,
    /// basicConstraints pathLenConstraint: how many CAs may follow this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_len: Option<u32>,
    /// keyUsage bits by their RFC 5280 names (`digitalSignature`, `keyCertSign`, ...).
    pub key_usage: Vec<&'static str>,
    /// extendedKeyUsage purposes (`serverAuth`, `clientAuth`, ... or a dotted OID).
    pub extended_key_usage: Vec<String>,
    /// nameConstraints, as `DNS:example.com` and `IP:127.0.0.0/8`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_constraints: Option<Constraints>,
    pub self_signed: bool,
    pub sha256_fingerprint: String,
    #[serde(skip)]
    pub public_key: Vec<u8>,
    #[serde(skip)]
    pub not_before_time: OffsetDateTime,
    #[serde(skip)]
    pub not_after_time: OffsetDateTime,
}

/// A CA's name constraints: the names it may (permitted) and may not (excluded) sign for.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Constraints {
    pub permitted: Vec<String>,
    pub excluded: Vec<String>,
}

/// keyUsage, extendedKeyUsage, basicConstraints' path length and nameConstraints, as `inspect`
/// shows them (so a user can confirm `--client` or `--permitted-dns`). A malformed extension
/// reads as absent: parsing the certificate has already accepted it.
fn usage_of(
    cert: &X509Certificate<'_>,
) -> (
    Vec<&'static str>,
    Vec<String>,
    Option<u32>,
    Option<Constraints>,
) {
    let key_usage = cert
        .key_usage()
        .ok()
        .flatten()
        .map(|ku| key_usage_names(*ku.value))
        .unwrap_or_default();
    let extended = cert
        .extended_key_usage()
        .ok()
        .flatten()
        .map(|eku| extended_key_usage_names(eku.value))
        .unwrap_or_default();
    let path_len = cert
        .basic_constraints()
        .ok()
        .flatten()
        .and_then(|bc| bc.value.path_len_constraint);
    let constraints = cert.name_constraints().ok().flatten().map(|nc| {
        let names = |subtrees: &Option<Vec<x509_parser::extensions::GeneralSubtree<'_>>>| {
            subtrees
                .iter()
                .flatten()
                .map(|s| general_name(&s.base))
                .collect()
        };
        Constraints {
            permitted: names(&nc.value.permitted_subtrees),
            excluded: names(&nc.value.excluded_subtrees),
        }
    });
    (key_usage, extended, path_len, constraints)
}

/// keyUsage bits by their RFC 5280 names.
pub(super) fn key_usage_names(ku: KeyUsage) -> Vec<&'static str> {
    [
        (ku.digital_signature(), "digitalSignature"),
        (ku.non_repudiation(), "nonRepudiation"),
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
        (ku.encipher_only(), "encipherOnly"),
        (ku.decipher_only(), "decipherOnly"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect()
}

/// extendedKeyUsage purposes by name (a dotted OID for others).
pub(super) fn extended_key_usage_names(eku: &ExtendedKeyUsage<'_>) -> Vec<String> {
    let mut names: Vec<String> = [
        (eku.any, "anyExtendedKeyUsage"),
        (eku.server_auth, "serverAuth"),
        (eku.client_auth, "clientAuth"),
        (eku.code_signing, "codeSigning"),
        (eku.email_protection, "emailProtection"),
        (eku.time_stamping, "timeStamping"),
        (eku.ocsp_signing, "OCSPSigning"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, name)| name.to_owned())
    .collect();
    names.extend(eku.other.iter().map(|oid| sanitize(&oid.to_id_string())));
    names
}

/// A name constraint's base: `DNS:example.com`, `IP:10.0.0.0/8` (address and mask).
fn general_name(name: &x509_parser::extensions::GeneralName<'_>) -> String {
    use x509_parser::extensions::GeneralName;
    match name {
        GeneralName::DNSName(d) => format!("DNS:{}", sanitize(d)),
        GeneralName::IPAddress(bytes) => {
            let (addr, mask) = bytes.split_at(bytes.len() / 2);
            let prefix: u32 = mask.iter().map(|b| b.count_ones()).sum();
            let addr = match addr.len() {
                4 => <[u8; 4]>::try_from(addr).map(|a| std::net::IpAddr::from(a).to_string()),
                16 => <[u8; 16]>::try_from(addr).map(|a| std::net::IpAddr::from(a).to_string()),
                _ => Ok(colon_hex(addr)),
            }
            .unwrap_or_default();
            format!("IP:{addr}/{prefix}")
        }
        other => sanitize(&other.to_string()),
    }
}

/// `ecdsa-p256` and the like: the name `--key-type` gives a key of this algorithm and size, or
/// `other` for one certtool does not make.
#[must_use]
pub fn key_type_label(algorithm: &str, bits: u32) -> &'static str {
    keys::key_type_of(algorithm, bits).map_or("other", keys::KeyType::name)
}

/// Where a certificate stands in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Valid,
    Expired,
    NotYetValid,
}

impl CertInfo {
    /// Describe the DER certificate `der` as of `now`.
    pub fn from_der(der: &[u8], now: OffsetDateTime) -> Result<CertInfo> {
        Self::describe(der, now, None)
    }

    /// [`CertInfo::from_der`] for a certificate certtool has just made, whose self-signedness it
    /// knows: the signature is not checked again (that check is most of the cost).
    pub fn of_new(der: &[u8], now: OffsetDateTime, self_signed: bool) -> Result<CertInfo> {
        Self::describe(der, now, Some(self_signed))
    }

    fn describe(der: &[u8], now: OffsetDateTime, self_signed: Option<bool>) -> Result<CertInfo> {
        let (rest, cert) =
            X509Certificate::from_der(der).map_err(|e| anyhow!("not a valid certificate: {e}"))?;
        if !rest.is_empty() {
            bail!("not a valid certificate: trailing data after it");
        }
        let not_before = asn1_time(cert.validity().not_before)?;
        let not_after = asn1_time(cert.validity().not_after)?;
        let status = if now < not_before {
            Status::NotYetValid
        } else if now > not_after {
            Status::Expired
        } else {
            Status::Valid
        };
        let (key_algorithm, key_bits) = describe_public_key(cert.public_key());
        let self_signed = self_signed.unwrap_or_else(|| {
            cert.subject() == cert.issuer() && cert.verify_signature(None).is_ok()
        });
        let (key_usage, extended_key_usage, path_len, name_constraints) = usage_of(&cert);
        Ok(CertInfo {
            subject: sanitize(&cert.subject().to_string()),
            issuer: sanitize(&cert.issuer().to_string()),
            sans: subject_alt_names(&cert)?,
            serial: colon_hex(cert.raw_serial()),
            not_before: format_time(not_before),
            not_after: format_time(not_after),
            days_left: days_until(now, not_after),
            status,
            key_type: key_type_label(&key_algorithm, key_bits),
            key_algorithm,
            key_bits,
            signature_algorithm: signature_name(&cert),
            is_ca: cert.is_ca(),
            path_len,
            key_usage,
            extended_key_usage,
            name_constraints,
            self_signed,
            sha256_fingerprint: fingerprint_sha256(der),
            public_key: cert.public_key().subject_public_key.data.to_vec(),
            not_before_time: not_before,
            not_after_time: not_after,
        })
    }

    /// Refuse a certificate whose EC public key is not a point on its curve (a damaged file that
    /// OpenSSL refuses too). ring checks the point when it is used in an ECDH agreement with a
    /// throw-away key, the one validation it exposes; other key types are checked when used.
    pub fn check_public_key(&self) -> Result<()> {
        let curve = match self.key_algorithm.as_str() {
            "ECDSA P-256" => &ring::agreement::ECDH_P256,
            "ECDSA P-384" => &ring::agreement::ECDH_P384,
            _ => return Ok(()),
        };
        let rng = ring::rand::SystemRandom::new();
        let ours = ring::agreement::EphemeralPrivateKey::generate(curve, &rng)
            .map_err(|_| anyhow!("the system random number generator failed"))?;
        let theirs = ring::agreement::UnparsedPublicKey::new(curve, &self.public_key);
        ring::agreement::agree_ephemeral(ours, &theirs, |_| ()).map_err(|_| {
            anyhow!(
                "the certificate's public key is not a valid {} point: the file is damaged",
                self.key_algorithm
            )
        })
    }

    /// Whether `key` is the private half of this certificate's public key.
    #[must_use]
    pub fn matches_key(&self, key: &PrivateKeyInfo) -> bool {
        !self.public_key.is_empty() && self.public_key == key.public_key
    }
}

/// What expiry monitoring needs of a certificate, read without checking its signature or
/// parsing its extensions, so that `check` stays fast on bundles of 100,000 certificates.
#[derive(Debug, Clone)]
pub struct Summary {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

impl Summary {
    pub fn from_der(der: &[u8]) -> Result<Summary> {
        let (rest, cert) =
            X509Certificate::from_der(der).map_err(|e| anyhow!("not a valid certificate: {e}"))?;
        if !rest.is_empty() {
            bail!("not a valid certificate: trailing data after it");
        }
        Ok(Summary {
            subject: sanitize(&cert.subject().to_string()),
            issuer: sanitize(&cert.issuer().to_string()),
            serial: colon_hex(cert.raw_serial()),
            not_before: asn1_time(cert.validity().not_before)?,
            not_after: asn1_time(cert.validity().not_after)?,
        })
    }

    /// Where the certificate stands at `now`.
    #[must_use]
    pub fn status(&self, now: OffsetDateTime) -> Status {
        if now < self.not_before {
            Status::NotYetValid
        } else if now > self.not_after {
            Status::Expired
        } else {
            Status::Valid
        }
    }
}

/// SHA-256 over the DER, as `openssl x509 -fingerprint -sha256` prints it.
#[must_use]
pub fn fingerprint_sha256(der: &[u8]) -> String {
    colon_hex(ring::digest::digest(&ring::digest::SHA256, der).as_ref())
}

fn asn1_time(t: ASN1Time) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(t.timestamp()).context("certificate date out of range")
}

fn subject_alt_names(cert: &X509Certificate<'_>) -> Result<Vec<San>> {
    let Some(ext) = cert
        .subject_alternative_name()
        .map_err(|e| anyhow!("invalid subjectAltName extension: {e}"))?
    else {
        return Ok(Vec::new());
    };
    Ok(sans_of(&ext.value.general_names))
}

/// subjectAltNames as certtool shows them (text sanitized, IP addresses parsed).
pub(super) fn sans_of(names: &[GeneralName<'_>]) -> Vec<San> {
    names
        .iter()
        .map(|name| match name {
            GeneralName::DNSName(d) => San::Dns(sanitize(d)),
            GeneralName::IPAddress(bytes) => ip_of(bytes).map_or_else(
                || San::Other(format!("IP:invalid({})", colon_hex(bytes))),
                San::Ip,
            ),
            GeneralName::RFC822Name(e) => San::Email(sanitize(e)),
            GeneralName::URI(u) => San::Uri(sanitize(u)),
            other => San::Other(sanitize(&format!("{other:?}"))),
        })
        .collect()
}

fn ip_of(bytes: &[u8]) -> Option<std::net::IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        Some(std::net::Ipv4Addr::from(v4).into())
    } else if let Ok(v6) = <[u8; 16]>::try_from(bytes) {
        Some(std::net::Ipv6Addr::from(v6).into())
    } else {
        None
    }
}

pub(super) fn describe_public_key(spki: &SubjectPublicKeyInfo<'_>) -> (String, u32) {
    let alg = &spki.algorithm.algorithm;
    if *alg == OID_SIG_ED25519 {
        return ("Ed25519".to_owned(), 256);
    }
    if *alg == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok());
        return match curve {
            Some(c) if c == OID_EC_P256 => ("ECDSA P-256".to_owned(), 256),
            Some(c) if c == OID_NIST_EC_P384 => ("ECDSA P-384".to_owned(), 384),
            Some(c) if c == OID_NIST_EC_P521 => ("ECDSA P-521".to_owned(), 521),
            Some(c) => (format!("ECDSA (curve {c})"), 0),
            None => ("ECDSA (unknown curve)".to_owned(), 0),
        };
    }
    if *alg == OID_PKCS1_RSAENCRYPTION {
        let bits = spki.parsed().map_or(0, |k| k.key_size());
        return ("RSA".to_owned(), u32::try_from(bits).unwrap_or(0));
    }
    (format!("unknown ({alg})"), 0)
}

fn signature_name(cert: &X509Certificate<'_>) -> String {
    let oid = &cert.signature_algorithm.algorithm;
    x509_parser::objects::oid2sn(oid, x509_parser::objects::oid_registry())
        .map_or_else(|_| oid.to_id_string(), str::to_owned)
}

/// The contents of one file: its certificates (in order), private keys and signing requests.
#[derive(Debug)]
pub struct FileContents {
    pub certificates: Vec<CertInfo>,
    pub private_keys: Vec<PrivateKeyInfo>,
    pub certificate_requests: Vec<super::csr::CsrInfo>,
}

/// Describe every certificate, key and signing request in file contents. Unknown PEM blocks
/// are an error, so a public key given by mistake is named rather than silently skipped.
pub fn describe_file(bytes: &[u8], now: OffsetDateTime) -> Result<FileContents> {
    let mut contents = FileContents {
        certificates: Vec::new(),
        private_keys: Vec::new(),
        certificate_requests: Vec::new(),
    };
    for (i, block) in parse_blocks(bytes)?.iter().enumerate() {
        let n = i + 1;
        match block.label.as_str() {
            "CERTIFICATE" => contents.certificates.push(
                CertInfo::from_der(&block.der, now)
                    .with_context(|| format!("PEM block {n} (CERTIFICATE)"))?,
            ),
            label if is_private_key_label(label) => contents.private_keys.push(
                keys::parse_private_key(label, &block.der)
                    .with_context(|| format!("PEM block {n} ({label})"))?,
            ),
            label if label.ends_with("CERTIFICATE REQUEST") => contents.certificate_requests.push(
                super::csr::CsrInfo::from_der(&block.der)
                    .with_context(|| format!("PEM block {n} ({label})"))?,
            ),
            other => bail!(
                "PEM block {n} is a '{}', not a certificate, private key or certificate request",
                quoted_label(other)
            ),
        }
    }
    Ok(contents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::cert::{LeafSpec, self_signed};
    use crate::pki::keys::KeyType;
    use crate::pki::names::Host;
    use crate::pki::validity::Validity;

    fn issue(key_type: KeyType) -> crate::pki::cert::Issued {
        let now = OffsetDateTime::now_utc();
        self_signed(&LeafSpec {
            hosts: vec![
                Host::parse("localhost").unwrap(),
                Host::parse("::1").unwrap(),
            ],
            validity: Validity::new(now, Some(30), None, None, 365).unwrap(),
            key_type,
        })
        .unwrap()
    }

    #[test]
    fn describes_a_certificate_and_its_key() {
        for key_type in [KeyType::EcdsaP256, KeyType::EcdsaP384, KeyType::Ed25519] {
            let issued = issue(key_type);
            let bundle = format!("{}{}", issued.cert_pem, issued.key_pem.as_str());
            let now = OffsetDateTime::now_utc();
            let contents = describe_file(bundle.as_bytes(), now).unwrap();
            let cert = &contents.certificates[0];
            assert_eq!(cert.subject, "CN=localhost");
            assert_eq!(
                super::super::names::sans_line(&cert.sans),
                "DNS:localhost, IP:::1"
            );
            assert!(cert.self_signed && !cert.is_ca);
            assert_eq!(cert.status, Status::Valid);
            assert!((29..=30).contains(&cert.days_left), "{}", cert.days_left);
            assert!(cert.matches_key(&contents.private_keys[0]), "{key_type}");
            assert_eq!(cert.sha256_fingerprint.len(), 32 * 3 - 1);
        }
    }

    #[test]
    fn a_different_key_does_not_match() {
        let a = issue(KeyType::EcdsaP256);
        let b = issue(KeyType::EcdsaP256);
        let now = OffsetDateTime::now_utc();
        let cert = &describe_file(a.cert_pem.as_bytes(), now)
            .unwrap()
            .certificates[0];
        let key = &describe_file(b.key_pem.as_bytes(), now)
            .unwrap()
            .private_keys[0];
        assert!(!cert.matches_key(key));
    }

    #[test]
    fn der_certificates_are_read_too() {
        let issued = issue(KeyType::EcdsaP256);
        let contents = describe_file(&issued.cert_der, OffsetDateTime::now_utc()).unwrap();
        assert_eq!(contents.certificates.len(), 1);
    }

    #[test]
    fn garbage_and_truncation_are_errors() {
        let now = OffsetDateTime::now_utc();
        assert!(describe_file(b"hello", now).is_err());
        assert!(describe_file(b"", now).is_err());
        assert!(describe_file(&[0x30, 0x82, 0xff], now).is_err());
        let issued = issue(KeyType::EcdsaP256);
        let cut = &issued.cert_pem[..issued.cert_pem.len() / 2];
        let err = describe_file(cut.as_bytes(), now).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err:#}");
        let csr = "-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n";
        let err = describe_file(csr.as_bytes(), now).unwrap_err();
        assert!(err.to_string().contains("CERTIFICATE REQUEST"), "{err:#}");
        let bad_body = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
        assert!(describe_file(bad_body.as_bytes(), now).is_err());
    }
}
