//! Certificate parameters and signing.
//!
//! Pure: builds rcgen parameters from a validated spec and signs them; no file or terminal I/O.
//!
//! Extension choices for a server certificate, and why:
//! - subjectAltName for every host: Go clients (influx CLI, Telegraf, Prometheus) ignore the CN.
//! - basicConstraints CA:FALSE. An `openssl req -x509` certificate says CA:TRUE, and
//!   rustls/webpki then rejects it as a server certificate (`CaUsedAsEndEntity`) even when it is
//!   the trusted anchor itself; without CA:TRUE, rustls, OpenSSL and Go all accept a self-signed
//!   certificate as its own trust anchor.
//! - keyUsage digitalSignature (+ keyEncipherment for RSA, for TLS 1.2 RSA key exchange), and
//!   extendedKeyUsage serverAuth: webpki checks the EKU, and OpenSSL's strict mode (Python 3.13's
//!   default) wants keyUsage present. No keyCertSign: strict mode rejects it on a non-CA.
//! - subjectKeyIdentifier and authorityKeyIdentifier: strict verification wants both.

use anyhow::{Context, Result};
use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber,
};
use ring::rand::SecureRandom;
use zeroize::Zeroizing;

use super::error::PkiError;
use super::keys::{self, KeyType};
use super::names::Host;
use super::validity::Validity;

/// What a new server (leaf) certificate must say.
#[derive(Debug, Clone)]
pub struct LeafSpec {
    pub hosts: Vec<Host>,
    pub validity: Validity,
    pub key_type: KeyType,
}

/// A freshly signed certificate and its new private key.
pub struct Issued {
    pub cert_pem: String,
    pub cert_der: Vec<u8>,
    pub key_pem: Zeroizing<String>,
    pub serial: Vec<u8>,
}

impl Issued {
    /// SHA-256 fingerprint of the certificate, as `openssl x509 -fingerprint -sha256` shows it.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        super::parse::fingerprint_sha256(&self.cert_der)
    }
}

/// Generate a key and a self-signed server certificate for `spec`.
pub fn self_signed(spec: &LeafSpec) -> Result<Issued> {
    let key = keys::generate(spec.key_type)?;
    sign_self(&leaf_params(spec)?, &key)
}

/// Sign `params` with `key` itself.
pub fn sign_self(params: &CertificateParams, key: &KeyPair) -> Result<Issued> {
    let cert = params
        .self_signed(key)
        .context("cannot sign the certificate")?;
    Ok(Issued::new(&cert, key, params))
}

impl Issued {
    /// The result of signing `params` for `key`.
    #[must_use]
    pub fn new(cert: &rcgen::Certificate, key: &KeyPair, params: &CertificateParams) -> Issued {
        Issued {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key_pem: keys::to_pem(key),
            serial: params
                .serial_number
                .as_ref()
                .map(SerialNumber::to_bytes)
                .unwrap_or_default(),
        }
    }
}

/// rcgen parameters for a server certificate covering `spec.hosts`.
pub fn leaf_params(spec: &LeafSpec) -> Result<CertificateParams> {
    let mut params = CertificateParams::default();
    params.not_before = spec.validity.not_before;
    params.not_after = spec.validity.not_after;
    params.serial_number = Some(random_serial()?);
    params.distinguished_name = DistinguishedName::new();
    if let Some(first) = spec.hosts.first() {
        params
            .distinguished_name
            .push(DnType::CommonName, first.to_string());
    }
    params.subject_alt_names = spec.hosts.iter().map(san_for).collect::<Result<Vec<_>>>()?;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if spec.key_type.is_rsa() {
        params.key_usages.push(KeyUsagePurpose::KeyEncipherment);
    }
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

fn san_for(host: &Host) -> Result<SanType> {
    Ok(match host {
        Host::Dns(name) => SanType::DnsName(
            name.clone()
                .try_into()
                .with_context(|| format!("'{name}' is not a valid DNS name"))?,
        ),
        Host::Ip(ip) => SanType::IpAddress(*ip),
    })
}

/// A positive serial number with 127 bits from the OS random number generator (RFC 5280 wants
/// at most 20 bytes; CA/Browser rules want at least 64 random bits).
pub fn random_serial() -> Result<SerialNumber> {
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("the system random number generator failed"))?;
    // Clear the top bit so the DER INTEGER is positive, and set the next one so the serial
    // always has its full length (no leading zero byte to strip).
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

/// What a renewed certificate keeps from the one it replaces.
#[derive(Debug, Clone)]
pub struct Renewal {
    /// The subjectAltNames, as hosts.
    pub hosts: Vec<Host>,
    /// The subject, attribute by attribute.
    pub subject: DistinguishedName,
    /// The kind of key the old certificate has.
    pub key_type: KeyType,
    /// Whether it was also for TLS clients (extendedKeyUsage clientAuth).
    pub client: bool,
    /// notAfter minus notBefore.
    pub lifetime: time::Duration,
}

impl Renewal {
    /// Read what to keep from the DER certificate `der`.
    pub fn of(der: &[u8], info: &super::parse::CertInfo) -> Result<Renewal> {
        use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
        let (_, cert) = X509Certificate::from_der(der)
            .map_err(|e| anyhow::anyhow!("not a valid certificate: {e}"))?;
        let key_type = keys::key_type_of(&info.key_algorithm, info.key_bits).ok_or_else(|| {
            PkiError::UnrenewableKey {
                algorithm: info.key_algorithm.clone(),
                bits: info.key_bits,
            }
        })?;
        let mut hosts = Vec::new();
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for name in &san.value.general_names {
                let host = match name {
                    GeneralName::DNSName(d) => Host::parse(d)?,
                    GeneralName::IPAddress(b) => Host::Ip(ip_from_bytes(b)?),
                    other => anyhow::bail!(
                        "cannot renew a certificate with a subjectAltName of this kind: {}",
                        crate::text::sanitize(&format!("{other:?}"))
                    ),
                };
                hosts.push(host);
            }
        }
        if hosts.is_empty() {
            return Err(PkiError::NoNamesToRenew.into());
        }
        let client = cert
            .extended_key_usage()
            .ok()
            .flatten()
            .is_some_and(|eku| eku.value.client_auth);
        Ok(Renewal {
            hosts,
            subject: subject_of(&cert)?,
            key_type,
            client,
            lifetime: info.not_after_time - info.not_before_time,
        })
    }

    /// Parameters for the new certificate, valid for `validity`.
    pub fn params(&self, validity: Validity) -> Result<CertificateParams> {
        let mut params = leaf_params(&LeafSpec {
            hosts: self.hosts.clone(),
            validity,
            key_type: self.key_type,
        })?;
        params.distinguished_name = self.subject.clone();
        if self.client {
            params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::ClientAuth);
        }
        Ok(params)
    }
}

fn ip_from_bytes(bytes: &[u8]) -> Result<std::net::IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Ok(v4.into());
    }
    <[u8; 16]>::try_from(bytes)
        .map(Into::into)
        .map_err(|_| anyhow::anyhow!("invalid IP address in subjectAltName"))
}

/// The subject as rcgen parameters, keeping the attributes in order.
fn subject_of(cert: &x509_parser::prelude::X509Certificate<'_>) -> Result<DistinguishedName> {
    let mut dn = DistinguishedName::new();
    for attr in cert.subject().iter_attributes() {
        let oid = attr.attr_type();
        let value = attr
            .as_str()
            .map_err(|_| anyhow::anyhow!("cannot read the subject attribute {oid}"))?;
        let ty = match oid.to_id_string().as_str() {
            "2.5.4.3" => DnType::CommonName,
            "2.5.4.6" => DnType::CountryName,
            "2.5.4.7" => DnType::LocalityName,
            "2.5.4.8" => DnType::StateOrProvinceName,
            "2.5.4.10" => DnType::OrganizationName,
            "2.5.4.11" => DnType::OrganizationalUnitName,
            _ => DnType::CustomDnType(
                oid.iter()
                    .map(Iterator::collect)
                    .ok_or_else(|| anyhow::anyhow!("unsupported subject attribute {oid}"))?,
            ),
        };
        dn.push(ty, value);
    }
    Ok(dn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::time::OffsetDateTime;
    use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

    fn spec(key_type: KeyType) -> LeafSpec {
        let now = OffsetDateTime::now_utc();
        LeafSpec {
            hosts: vec![
                Host::parse("localhost").unwrap(),
                Host::parse("*.example.com").unwrap(),
                Host::parse("127.0.0.1").unwrap(),
                Host::parse("::1").unwrap(),
            ],
            validity: Validity::new(now, Some(10), None, None, 365).unwrap(),
            key_type,
        }
    }

    #[test]
    fn self_signed_leaf_has_the_extensions_clients_need() {
        let issued = self_signed(&spec(KeyType::EcdsaP256)).unwrap();
        let (_, cert) = X509Certificate::from_der(&issued.cert_der).unwrap();
        assert_eq!(cert.subject().to_string(), "CN=localhost");
        assert_eq!(cert.subject(), cert.issuer());
        let bc = cert.basic_constraints().unwrap().unwrap().value;
        assert!(!bc.ca);
        let ku = cert.key_usage().unwrap().unwrap().value;
        assert!(ku.digital_signature() && !ku.key_cert_sign());
        assert!(
            cert.extended_key_usage()
                .unwrap()
                .unwrap()
                .value
                .server_auth
        );
        let sans = &cert
            .subject_alternative_name()
            .unwrap()
            .unwrap()
            .value
            .general_names;
        assert_eq!(sans.len(), 4);
        assert!(matches!(sans[1], GeneralName::DNSName("*.example.com")));
        assert!(matches!(sans[2], GeneralName::IPAddress([127, 0, 0, 1])));
        assert!(cert.verify_signature(None).is_ok());
        let validity = cert.validity();
        assert_eq!(
            validity.not_after.timestamp() - validity.not_before.timestamp(),
            10 * 86_400
        );
    }

    #[test]
    fn serials_are_random_positive_and_full_length() {
        let a = random_serial().unwrap().to_bytes();
        let b = random_serial().unwrap().to_bytes();
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
        assert_eq!(a[0] & 0xc0, 0x40);
    }

    #[test]
    fn rsa_leaf_allows_key_encipherment() {
        let issued = self_signed(&spec(KeyType::Rsa2048)).unwrap();
        let (_, cert) = X509Certificate::from_der(&issued.cert_der).unwrap();
        assert!(cert.key_usage().unwrap().unwrap().value.key_encipherment());
    }
}
