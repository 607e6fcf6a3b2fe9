//! Certificate signing requests (PKCS#10): made for a key (`certtool csr`), and read and
//! checked (`inspect`, `ca sign`).
//!
//! A request names what its key's owner asks for; a CA decides what to grant. So a request is
//! read with x509-parser (every extension is shown, none refused), and `ca sign` builds the
//! certificate from certtool's own leaf profile, taking only the names from the request.

use anyhow::{Context as _, Result, anyhow};
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use serde::Serialize;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;

use super::cert::{LeafSpec, leaf_params};
use super::names::{Host, San};
use super::parse::{describe_public_key, extended_key_usage_names, key_type_label, sans_of};
use crate::error::Error;
use crate::text::sanitize;

/// Subject attributes `--subject` may set, by their usual short names. CN is not among them:
/// it is the first host, as in every certificate certtool makes.
const SUBJECT_ATTRIBUTES: &[(&str, DnType)] = &[
    ("C", DnType::CountryName),
    ("ST", DnType::StateOrProvinceName),
    ("L", DnType::LocalityName),
    ("O", DnType::OrganizationName),
    ("OU", DnType::OrganizationalUnitName),
];

/// `O=Example Corp,OU=Ops,C=DE` as subject attributes, in the order given.
pub fn parse_subject(input: &str) -> Result<Vec<(DnType, String)>> {
    let mut out = Vec::new();
    for part in input.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, value)) = part.split_once('=') else {
            return Err(bad_subject(part, "each part is NAME=VALUE"));
        };
        let name = name.trim();
        let value = value.trim();
        if name.eq_ignore_ascii_case("CN") {
            return Err(bad_subject(part, "the CN is the first --host"));
        }
        let Some((_, kind)) = SUBJECT_ATTRIBUTES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        else {
            return Err(bad_subject(part, "the names are C, ST, L, O and OU"));
        };
        if value.is_empty() || value.chars().any(char::is_control) {
            return Err(bad_subject(
                part,
                "the value is empty or holds control characters",
            ));
        }
        if matches!(kind, DnType::CountryName) && value.len() != 2 {
            return Err(bad_subject(part, "C is a two-letter country code"));
        }
        out.push((kind.clone(), value.to_owned()));
    }
    Ok(out)
}

fn bad_subject(part: &str, why: &str) -> anyhow::Error {
    Error::invalid(
        format!("--subject: '{}': {why}", sanitize(part)),
        "e.g. --subject 'O=Example Corp,OU=Operations,C=DE'",
    )
    .into()
}

/// A new request.
pub struct Csr {
    pub pem: String,
    pub der: Vec<u8>,
}

/// A request for a server certificate for `spec.hosts` (CN the first host, every host a
/// subjectAltName, keyUsage and extendedKeyUsage serverAuth, as certtool's own leaves have),
/// signed by `key`.
pub fn request(spec: &LeafSpec, subject: &[(DnType, String)], key: &KeyPair) -> Result<Csr> {
    let mut params: CertificateParams = leaf_params(spec)?;
    // What only a CA sets: a request must not carry them (rcgen refuses them in requests).
    params.serial_number = None;
    params.use_authority_key_identifier_extension = false;
    let mut name = DistinguishedName::new();
    for (kind, value) in subject {
        name.push(kind.clone(), value.as_str());
    }
    if let Some(first) = spec.hosts.first() {
        name.push(DnType::CommonName, first.to_string());
    }
    params.distinguished_name = name;
    let csr = params
        .serialize_request(key)
        .context("cannot make the certificate signing request")?;
    Ok(Csr {
        pem: csr.pem().context("cannot encode the request")?,
        der: csr.der().to_vec(),
    })
}

/// What a request holds and asks for.
#[derive(Debug, Clone, Serialize)]
pub struct CsrInfo {
    pub subject: String,
    /// The subjectAltNames asked for; `hosts` in JSON, as for certificates.
    #[serde(rename = "hosts")]
    pub sans: Vec<San>,
    pub key_type: &'static str,
    #[serde(skip)]
    pub key_algorithm: String,
    pub key_bits: u32,
    pub signature_algorithm: String,
    /// The request's signature checks out with its own key (it was made by the key's owner).
    pub signature_valid: bool,
    pub key_usage: Vec<&'static str>,
    pub extended_key_usage: Vec<String>,
    /// basicConstraints CA:TRUE asked for (a CA never grants it to a server).
    pub requests_ca: bool,
    /// Requested extensions other than subjectAltName, keyUsage, extendedKeyUsage and
    /// basicConstraints, by name or OID.
    pub other_extensions: Vec<String>,
    /// The DER `SubjectPublicKeyInfo`, for signing.
    #[serde(skip)]
    pub spki: Vec<u8>,
    /// The raw public key, to compare with a private key's.
    #[serde(skip)]
    pub public_key: Vec<u8>,
}

impl CsrInfo {
    /// Read a DER request. A bad signature is reported in `signature_valid`, not an error.
    pub fn from_der(der: &[u8]) -> Result<CsrInfo> {
        let (rest, csr) = X509CertificationRequest::from_der(der)
            .map_err(|e| anyhow!("not a certificate signing request: {e}"))?;
        if !rest.is_empty() {
            return Err(anyhow!(
                "trailing bytes after the certificate signing request"
            ));
        }
        let info = &csr.certification_request_info;
        let (key_algorithm, key_bits) = describe_public_key(&info.subject_pki);
        let mut out = CsrInfo {
            subject: sanitize(&info.subject.to_string()),
            sans: Vec::new(),
            key_type: key_type_label(&key_algorithm, key_bits),
            key_algorithm,
            key_bits,
            signature_algorithm: signature_name(&csr),
            signature_valid: csr.verify_signature().is_ok(),
            key_usage: Vec::new(),
            extended_key_usage: Vec::new(),
            requests_ca: false,
            other_extensions: Vec::new(),
            spki: info.subject_pki.raw.to_vec(),
            public_key: info.subject_pki.subject_public_key.data.to_vec(),
        };
        for ext in csr.requested_extensions().into_iter().flatten() {
            match ext {
                ParsedExtension::SubjectAlternativeName(san) => {
                    out.sans = sans_of(&san.general_names);
                }
                ParsedExtension::KeyUsage(ku) => out.key_usage = super::parse::key_usage_names(*ku),
                ParsedExtension::ExtendedKeyUsage(eku) => {
                    out.extended_key_usage = extended_key_usage_names(eku);
                }
                ParsedExtension::BasicConstraints(bc) => out.requests_ca = bc.ca,
                ParsedExtension::SubjectKeyIdentifier(_) => {
                    out.other_extensions.push("subjectKeyIdentifier".to_owned());
                }
                other => out.other_extensions.push(extension_name(other)),
            }
        }
        Ok(out)
    }

    /// The hosts of the request: its DNS and IP subjectAltNames, or its CN when it has none
    /// (as old requests do). Other names (e-mail, URI) are not hosts and are left out.
    pub fn hosts(&self) -> Result<Vec<Host>> {
        let mut hosts = Vec::new();
        for san in &self.sans {
            match san {
                San::Dns(name) => hosts.push(Host::parse(name)?),
                San::Ip(ip) => hosts.push(Host::Ip(*ip)),
                _ => {}
            }
        }
        if hosts.is_empty()
            && let Some(cn) = self.common_name()
        {
            hosts.push(Host::parse(cn)?);
        }
        Ok(hosts)
    }

    /// The CN of the subject, if it has one.
    #[must_use]
    pub fn common_name(&self) -> Option<&str> {
        self.subject
            .split(", ")
            .find_map(|part| part.strip_prefix("CN="))
    }
}

fn signature_name(csr: &X509CertificationRequest<'_>) -> String {
    let oid = &csr.signature_algorithm.algorithm;
    x509_parser::objects::oid2sn(oid, x509_parser::objects::oid_registry())
        .map_or_else(|_| oid.to_id_string(), str::to_owned)
}

fn extension_name(ext: &ParsedExtension<'_>) -> String {
    let name = format!("{ext:?}");
    let name = name.split(['(', ' ', '{']).next().unwrap_or("unknown");
    sanitize(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::keys::{self, KeyType};
    use crate::pki::validity::Validity;
    use time::OffsetDateTime;

    fn spec(hosts: &[&str], key_type: KeyType) -> LeafSpec {
        LeafSpec {
            hosts: hosts.iter().map(|h| Host::parse(h).unwrap()).collect(),
            validity: Validity::new(OffsetDateTime::now_utc(), Some(1), None, None, 1).unwrap(),
            key_type,
        }
    }

    #[test]
    fn a_request_reads_back_with_its_names_usage_and_a_valid_signature() {
        for key_type in [KeyType::EcdsaP256, KeyType::Ed25519] {
            let key = keys::generate(key_type).unwrap();
            let subject = parse_subject("O=Example Corp, C=DE").unwrap();
            let csr = request(
                &spec(&["influx.example.com", "127.0.0.1"], key_type),
                &subject,
                &key,
            )
            .unwrap();
            let info = CsrInfo::from_der(&csr.der).unwrap();
            assert!(info.signature_valid);
            assert_eq!(info.key_type, key_type.name());
            assert_eq!(
                info.subject, "O=Example Corp, C=DE, CN=influx.example.com",
                "{info:?}"
            );
            assert_eq!(info.common_name(), Some("influx.example.com"));
            assert_eq!(info.extended_key_usage, ["serverAuth"]);
            assert!(!info.requests_ca);
            let hosts: Vec<String> = info
                .hosts()
                .unwrap()
                .iter()
                .map(ToString::to_string)
                .collect();
            assert_eq!(hosts, ["influx.example.com", "127.0.0.1"]);
            assert_eq!(info.public_key, key.public_key_raw());
        }
    }

    #[test]
    fn a_tampered_request_has_an_invalid_signature() {
        let key = keys::generate(KeyType::EcdsaP256).unwrap();
        let mut der = request(&spec(&["a.test"], KeyType::EcdsaP256), &[], &key)
            .unwrap()
            .der;
        let at = der.windows(6).position(|w| w == b"a.test").unwrap();
        der[at] = b'b';
        assert!(!CsrInfo::from_der(&der).unwrap().signature_valid);
    }

    #[test]
    fn subjects_take_the_usual_names_and_refuse_the_rest() {
        assert_eq!(parse_subject("O=A,OU=B,L=C,ST=D,C=DE").unwrap().len(), 5);
        for bad in ["CN=x", "O", "X=1", "C=Germany", "O="] {
            assert!(parse_subject(bad).is_err(), "{bad}");
        }
    }
}
