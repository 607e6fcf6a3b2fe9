//! A small local certificate authority: creating one, loading one, and issuing leaves from it.
//!
//! Pure: takes file contents and the current time, returns certificates. The commands decide
//! where files go.
//!
//! Choices, and why:
//! - basicConstraints CA:TRUE (critical) with a path length (0 by default: it signs leaves only),
//!   keyUsage keyCertSign + cRLSign, subjectKeyIdentifier.
//! - `--permitted-dns` writes name constraints, so a leaked CA key cannot mint certificates for
//!   other domains. Name constraints apply per name type: a CA constrained to DNS names only
//!   could still sign for any IP address, so unless `--permitted-ip` ranges are given too, such a
//!   CA excludes all IP addresses (`0.0.0.0/0` and `::/0`), as CA/Browser rules require of a
//!   technically constrained CA.
//! - Every leaf is checked against the CA before it is written: signature, issuer name bytes and
//!   name constraints, so certtool never hands out a certificate that clients would refuse.

use std::fmt;
use std::net::IpAddr;

use anyhow::{Context, Result, anyhow};
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints,
};
use rustls_pki_types::CertificateDer;
use serde::Serialize;
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use super::cert::{self, Issued, LeafSpec};
use super::error::PkiError;
use super::keys::{self, KeyType};
use super::names::Host;
use super::parse::{CertInfo, Status};
use super::validity::Validity;
use crate::text::sanitize;

/// What a new CA certificate must say.
#[derive(Debug, Clone)]
pub struct CaSpec {
    pub common_name: String,
    pub validity: Validity,
    pub key_type: KeyType,
    pub path_len: u8,
    pub constraints: Constraints,
}

/// Generate a key and a self-signed CA certificate for `spec`.
pub fn init(spec: &CaSpec) -> Result<Issued> {
    let key = keys::generate(spec.key_type)?;
    let mut params = CertificateParams::default();
    params.not_before = spec.validity.not_before;
    params.not_after = spec.validity.not_after;
    params.serial_number = Some(cert::random_serial()?);
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, spec.common_name.as_str());
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(spec.path_len));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.name_constraints = spec.constraints.to_rcgen();
    cert::sign_self(&params, &key).context("cannot create the CA certificate")
}

/// An IP address range, `10.0.0.0/8` or `::1/128`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl IpRange {
    /// Parse `ADDR/PREFIX`, or a bare address meaning just that address.
    pub fn parse(input: &str) -> Result<IpRange, PkiError> {
        let bad = || PkiError::BadIpRange {
            input: sanitize(input),
        };
        let (addr, prefix) = match input.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (input, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(IpRange { addr, prefix })
    }

    /// Whether `ip` lies in this range.
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (net, ip, bits) = match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => (
                u128::from(u32::from(n)) << 96,
                u128::from(u32::from(i)) << 96,
                self.prefix,
            ),
            (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), self.prefix),
            _ => return false,
        };
        let mask = if bits == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(bits))
        };
        net & mask == ip & mask
    }

    fn everything(v6: bool) -> IpRange {
        let addr = if v6 {
            IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
        };
        IpRange { addr, prefix: 0 }
    }

    /// From a name constraint's address-and-mask bytes (8 for IPv4, 32 for IPv6).
    fn from_constraint_bytes(bytes: &[u8]) -> Option<IpRange> {
        let (addr, mask) = match bytes.len() {
            8 => (
                IpAddr::from(<[u8; 4]>::try_from(&bytes[..4]).ok()?),
                &bytes[4..],
            ),
            32 => (
                IpAddr::from(<[u8; 16]>::try_from(&bytes[..16]).ok()?),
                &bytes[16..],
            ),
            _ => return None,
        };
        let prefix = mask.iter().map(|b| b.count_ones()).sum::<u32>();
        Some(IpRange {
            addr,
            prefix: u8::try_from(prefix).ok()?,
        })
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Serialize for IpRange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Name constraints of a CA: which names its certificates may (and may not) hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Constraints {
    pub permitted_dns: Vec<String>,
    pub excluded_dns: Vec<String>,
    pub permitted_ip: Vec<IpRange>,
    pub excluded_ip: Vec<IpRange>,
}

impl Constraints {
    /// The constraints `ca init` writes for `--permitted-dns` and `--permitted-ip`.
    pub fn from_flags(dns: &[String], ips: &[String]) -> Result<Constraints, PkiError> {
        let mut constraints = Constraints::default();
        for domain in dns {
            let trimmed = domain.strip_prefix('.').unwrap_or(domain);
            match Host::parse(trimmed)? {
                Host::Dns(name) if !name.starts_with("*.") => {
                    constraints.permitted_dns.push(name);
                }
                _ => {
                    return Err(PkiError::BadConstraintDomain {
                        input: sanitize(domain),
                    });
                }
            }
        }
        for ip in ips {
            constraints.permitted_ip.push(IpRange::parse(ip)?);
        }
        if !constraints.permitted_dns.is_empty() && constraints.permitted_ip.is_empty() {
            constraints.excluded_ip = vec![IpRange::everything(false), IpRange::everything(true)];
        }
        Ok(constraints)
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self == &Constraints::default()
    }

    /// What a CA with these constraints may sign for, in words.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .permitted_dns
            .iter()
            .map(|d| format!("{d} and names below it"))
            .collect();
        parts.extend(self.permitted_ip.iter().map(ToString::to_string));
        if self.permitted_ip.is_empty() && !self.excluded_ip.is_empty() {
            parts.push("no IP addresses".to_owned());
        }
        parts.join("; ")
    }

    fn to_rcgen(&self) -> Option<NameConstraints> {
        if self.is_empty() {
            return None;
        }
        let subtrees = |dns: &[String], ips: &[IpRange]| {
            dns.iter()
                .map(|d| GeneralSubtree::DnsName(d.clone()))
                .chain(ips.iter().map(|r| {
                    GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(r.addr, r.prefix))
                }))
                .collect()
        };
        Some(NameConstraints {
            permitted_subtrees: subtrees(&self.permitted_dns, &self.permitted_ip),
            excluded_subtrees: subtrees(&self.excluded_dns, &self.excluded_ip),
        })
    }

    /// Read the DNS and IP name constraints of `cert` (other name types are left to clients).
    fn of(cert: &X509Certificate<'_>) -> Result<Constraints> {
        let mut constraints = Constraints::default();
        let Some(ext) = cert
            .name_constraints()
            .map_err(|e| anyhow!("invalid name constraints extension: {e}"))?
        else {
            return Ok(constraints);
        };
        let nc = ext.value;
        for (subtrees, dns, ips) in [
            (
                &nc.permitted_subtrees,
                &mut constraints.permitted_dns,
                &mut constraints.permitted_ip,
            ),
            (
                &nc.excluded_subtrees,
                &mut constraints.excluded_dns,
                &mut constraints.excluded_ip,
            ),
        ] {
            for subtree in subtrees.iter().flatten() {
                match &subtree.base {
                    GeneralName::DNSName(d) => dns.push(d.to_ascii_lowercase()),
                    GeneralName::IPAddress(bytes) => {
                        ips.extend(IpRange::from_constraint_bytes(bytes));
                    }
                    _ => {}
                }
            }
        }
        Ok(constraints)
    }

    /// Whether a certificate for `host` would satisfy these constraints (RFC 5280 4.2.1.10).
    #[must_use]
    pub fn permits(&self, host: &Host) -> bool {
        match host {
            Host::Dns(name) => {
                let name = name.strip_prefix("*.").unwrap_or(name);
                let hit = |c: &String| dns_within(name, c);
                !self.excluded_dns.iter().any(hit)
                    && (self.permitted_dns.is_empty() || self.permitted_dns.iter().any(hit))
            }
            // iPAddress is one name type for both families: once any range is permitted, an
            // address must lie in one, so ::1 is outside a CA that permits only 127.0.0.0/8
            // (OpenSSL, Go and webpki all judge it so).
            Host::Ip(ip) => {
                !self.excluded_ip.iter().any(|r| r.contains(*ip))
                    && (self.permitted_ip.is_empty()
                        || self.permitted_ip.iter().any(|r| r.contains(*ip)))
            }
        }
    }
}

/// Whether `name` is `constraint` or below it; a constraint with a leading dot means strictly
/// below.
fn dns_within(name: &str, constraint: &str) -> bool {
    if constraint.is_empty() {
        return true;
    }
    if constraint.starts_with('.') {
        return name.ends_with(constraint);
    }
    name == constraint
        || name
            .strip_suffix(constraint)
            .is_some_and(|head| head.ends_with('.'))
}

/// A CA certificate and its key, checked to belong together and able to sign now.
pub struct LoadedCa {
    /// Every certificate in the CA file, re-encoded as PEM: the chain that follows a leaf.
    pub chain_pem: String,
    pub info: CertInfo,
    pub constraints: Constraints,
    cert_der: Vec<u8>,
    key: KeyPair,
}

impl LoadedCa {
    /// Check a CA from its certificate file's certificates (the CA first, then any chain above
    /// it) and its signing key: a CA certificate, in date, allowed to sign, and the key's own.
    pub fn from_parts(
        chain: &[CertificateDer<'_>],
        key: KeyPair,
        now: OffsetDateTime,
    ) -> Result<LoadedCa> {
        let Some(cert_der) = chain.first().map(AsRef::<[u8]>::as_ref) else {
            return Err(PkiError::NoCaCertificate.into());
        };
        let info = CertInfo::from_der(cert_der, now).context("cannot read the CA certificate")?;
        let (_, x509) = X509Certificate::from_der(cert_der)
            .map_err(|e| anyhow!("cannot read the CA certificate: {e}"))?;
        check_can_sign(&x509, &info)?;
        if key.public_key_raw() != info.public_key.as_slice() {
            return Err(PkiError::CaKeyMismatch {
                subject: info.subject,
            }
            .into());
        }
        let constraints = Constraints::of(&x509)?;
        let chain_pem = chain.iter().map(|der| to_pem(der.as_ref())).collect();
        Ok(LoadedCa {
            chain_pem,
            info,
            constraints,
            cert_der: cert_der.to_vec(),
            key,
        })
    }

    /// `validity`, ending no later than the CA itself; the flag says whether it was shortened.
    #[must_use]
    pub fn clamp(&self, validity: Validity) -> (Validity, bool) {
        if validity.not_after <= self.info.not_after_time {
            return (validity, false);
        }
        let clamped = Validity {
            not_after: self.info.not_after_time,
            ..validity
        };
        (clamped, true)
    }

    /// Refuse hosts outside the CA's name constraints: clients would reject the certificate.
    pub fn check_hosts(&self, hosts: &[Host]) -> Result<(), PkiError> {
        if let Some(host) = hosts.iter().find(|h| !self.constraints.permits(h)) {
            return Err(PkiError::OutsideConstraints {
                host: host.to_string(),
                permitted: self.constraints.describe(),
            });
        }
        Ok(())
    }

    /// Issue a leaf for `spec` (server, or server and client with `client`), signed by this CA.
    pub fn issue(&self, spec: &LeafSpec, client: bool) -> Result<Issued> {
        let params = self.leaf_params(spec, client)?;
        let key = keys::generate(spec.key_type)?;
        self.sign(&params, &key)
    }

    /// The parameters of a leaf for `spec` under this CA (hosts checked against its name
    /// constraints), for a server, or a server and client with `client`.
    pub fn leaf_params(&self, spec: &LeafSpec, client: bool) -> Result<CertificateParams> {
        self.check_hosts(&spec.hosts)?;
        let mut params = cert::leaf_params(spec)?;
        self.choose_subject(&mut params, &spec.hosts);
        if client {
            params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::ClientAuth);
        }
        Ok(params)
    }

    /// Sign `params` for someone else's public key (a request's DER `SubjectPublicKeyInfo`),
    /// and check the result. Returns the certificate as PEM and DER.
    pub fn sign_for_key(
        &self,
        params: &CertificateParams,
        spki: &[u8],
    ) -> Result<(String, Vec<u8>)> {
        let public = rcgen::SubjectPublicKeyInfo::from_der(spki)
            .map_err(|e| anyhow!("cannot sign for the request's key: {e}"))?;
        let issuer =
            Issuer::from_ca_cert_der(&CertificateDer::from(self.cert_der.as_slice()), &self.key)
                .context("cannot use the CA certificate for signing")?;
        let leaf = params
            .signed_by(&public, &issuer)
            .context("cannot sign the certificate")?;
        self.check_issued(leaf.der())?;
        Ok((leaf.pem(), leaf.der().to_vec()))
    }

    /// The subject CN is the first DNS name. OpenSSL checks a CN that looks like a host name
    /// against DNS name constraints when the certificate has no DNS name, so under a CA with DNS
    /// constraints a certificate for IP addresses only gets an empty subject (its
    /// subjectAltName is then critical), which OpenSSL, Go and rustls all accept.
    fn choose_subject(&self, params: &mut CertificateParams, hosts: &[Host]) {
        let dns = hosts.iter().find(|h| matches!(h, Host::Dns(_)));
        let constrained =
            !self.constraints.permitted_dns.is_empty() || !self.constraints.excluded_dns.is_empty();
        params.distinguished_name = DistinguishedName::new();
        match (dns, hosts.first()) {
            (Some(name), _) => params
                .distinguished_name
                .push(DnType::CommonName, name.to_string()),
            (None, Some(ip)) if !constrained => params
                .distinguished_name
                .push(DnType::CommonName, ip.to_string()),
            _ => {}
        }
    }

    /// Sign `params` for `key` with this CA, and check the result.
    pub fn sign(&self, params: &CertificateParams, key: &KeyPair) -> Result<Issued> {
        let issuer =
            Issuer::from_ca_cert_der(&CertificateDer::from(self.cert_der.as_slice()), &self.key)
                .context("cannot use the CA certificate for signing")?;
        let leaf = params
            .signed_by(key, &issuer)
            .context("cannot sign the certificate")?;
        self.check_issued(leaf.der())?;
        Ok(Issued::new(&leaf, key, params))
    }

    /// Check that `leaf` names this CA as its issuer byte for byte (Go matches names as raw
    /// bytes) and carries a valid signature by its key.
    fn check_issued(&self, leaf: &[u8]) -> Result<()> {
        let (_, ca) = X509Certificate::from_der(&self.cert_der)
            .map_err(|e| anyhow!("cannot read the CA certificate: {e}"))?;
        let (_, leaf) = X509Certificate::from_der(leaf)
            .map_err(|e| anyhow!("cannot read the new certificate: {e}"))?;
        if leaf.issuer().as_raw() != ca.subject().as_raw() {
            anyhow::bail!(
                "the new certificate's issuer name does not match the CA's subject byte for byte; \
                 clients would not find the CA"
            );
        }
        leaf.verify_signature(Some(ca.public_key()))
            .map_err(|e| anyhow!("the new certificate's signature does not verify: {e}"))
    }
}

fn check_can_sign(x509: &X509Certificate<'_>, info: &CertInfo) -> Result<()> {
    if !x509.is_ca() {
        return Err(PkiError::NotACa {
            subject: info.subject.clone(),
        }
        .into());
    }
    let ku = x509
        .key_usage()
        .map_err(|e| anyhow!("invalid keyUsage extension in the CA certificate: {e}"))?;
    if ku.is_some_and(|ku| !ku.value.key_cert_sign()) {
        return Err(PkiError::CaCannotSign {
            subject: info.subject.clone(),
        }
        .into());
    }
    match info.status {
        Status::Valid => Ok(()),
        Status::Expired => Err(PkiError::CaExpired {
            not_after: info.not_after.clone(),
        }
        .into()),
        Status::NotYetValid => Err(PkiError::CaNotYetValid {
            not_before: info.not_before.clone(),
        }
        .into()),
    }
}

fn to_pem(der: &[u8]) -> String {
    let config = ::pem::EncodeConfig::new().set_line_ending(::pem::LineEnding::LF);
    ::pem::encode_config(&::pem::Pem::new("CERTIFICATE", der.to_vec()), config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::parse;

    impl LoadedCa {
        /// From PEM file contents, as `inputs::load_ca` reads them from files.
        fn load(cert_file: &[u8], key_file: &[u8], now: OffsetDateTime) -> Result<LoadedCa> {
            let chain: Vec<CertificateDer<'static>> = parse::parse_blocks(cert_file)?
                .into_iter()
                .filter(|b| b.label == "CERTIFICATE")
                .map(|b| CertificateDer::from(b.der.to_vec()))
                .collect();
            let key = parse::parse_blocks(key_file)?.remove(0);
            let (key, _) = keys::load_signing_key(&key.label, &key.der)?;
            LoadedCa::from_parts(&chain, key, now)
        }
    }

    fn ca(constraints: Constraints, days: u32) -> (Issued, OffsetDateTime) {
        let now = OffsetDateTime::now_utc();
        let issued = init(&CaSpec {
            common_name: "test CA".to_owned(),
            validity: Validity::new(now, Some(days), None, None, 3650).unwrap(),
            key_type: KeyType::EcdsaP256,
            path_len: 0,
            constraints,
        })
        .unwrap();
        (issued, now)
    }

    fn leaf(hosts: &[&str], days: u32) -> LeafSpec {
        LeafSpec {
            hosts: hosts.iter().map(|h| Host::parse(h).unwrap()).collect(),
            validity: Validity::new(OffsetDateTime::now_utc(), Some(days), None, None, 365)
                .unwrap(),
            key_type: KeyType::EcdsaP256,
        }
    }

    #[test]
    fn ca_certificate_has_ca_extensions() {
        let (issued, _) = ca(Constraints::default(), 3650);
        let (_, cert) = X509Certificate::from_der(&issued.cert_der).unwrap();
        let bc = cert.basic_constraints().unwrap().unwrap();
        assert!(bc.critical && bc.value.ca);
        assert_eq!(bc.value.path_len_constraint, Some(0));
        let ku = cert.key_usage().unwrap().unwrap().value;
        assert!(ku.key_cert_sign() && ku.crl_sign() && !ku.digital_signature());
        assert!(has_ski(&cert));
    }

    fn has_ski(cert: &X509Certificate<'_>) -> bool {
        cert.iter_extensions().any(|e| {
            matches!(
                e.parsed_extension(),
                x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(_)
            )
        })
    }

    #[test]
    fn issued_leaf_chains_to_the_ca_and_keeps_its_names() {
        let (ca_cert, now) = ca(Constraints::default(), 3650);
        let loaded =
            LoadedCa::load(ca_cert.cert_pem.as_bytes(), ca_cert.key_pem.as_bytes(), now).unwrap();
        let issued = loaded
            .issue(&leaf(&["*.example.com", "127.0.0.1"], 30), true)
            .unwrap();
        let (_, cert) = X509Certificate::from_der(&issued.cert_der).unwrap();
        assert_eq!(cert.issuer().to_string(), "CN=test CA");
        assert!(!cert.is_ca());
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.server_auth && eku.client_auth);
        assert_eq!(loaded.chain_pem, ca_cert.cert_pem.replace("\r\n", "\n"));
    }

    #[test]
    fn mismatched_expired_and_non_ca_certificates_are_refused() {
        let (a, now) = ca(Constraints::default(), 3650);
        let (b, _) = ca(Constraints::default(), 3650);
        let err = LoadedCa::load(a.cert_pem.as_bytes(), b.key_pem.as_bytes(), now)
            .err()
            .unwrap();
        assert!(err.to_string().contains("does not match"), "{err:#}");
        let later = now + time::Duration::days(4000);
        let err = LoadedCa::load(a.cert_pem.as_bytes(), a.key_pem.as_bytes(), later)
            .err()
            .unwrap();
        assert!(err.to_string().contains("expired"), "{err:#}");
        let server = cert::self_signed(&leaf(&["localhost"], 30)).unwrap();
        let err = LoadedCa::load(server.cert_pem.as_bytes(), server.key_pem.as_bytes(), now)
            .err()
            .unwrap();
        assert!(err.to_string().contains("not a CA"), "{err:#}");
    }

    #[test]
    fn leaves_never_outlive_the_ca() {
        let (ca_cert, now) = ca(Constraints::default(), 10);
        let loaded =
            LoadedCa::load(ca_cert.cert_pem.as_bytes(), ca_cert.key_pem.as_bytes(), now).unwrap();
        let (v, clamped) = loaded.clamp(leaf(&["a.test"], 365).validity);
        assert!(clamped);
        assert_eq!(v.not_after, loaded.info.not_after_time);
        let (_, clamped) = loaded.clamp(leaf(&["a.test"], 5).validity);
        assert!(!clamped);
    }

    #[test]
    fn name_constraints_are_written_read_back_and_enforced() {
        let constraints = Constraints::from_flags(&["example.com".to_owned()], &[]).unwrap();
        assert_eq!(constraints.excluded_ip.len(), 2);
        let (ca_cert, now) = ca(constraints.clone(), 3650);
        let loaded =
            LoadedCa::load(ca_cert.cert_pem.as_bytes(), ca_cert.key_pem.as_bytes(), now).unwrap();
        assert_eq!(loaded.constraints, constraints);
        assert!(
            loaded
                .issue(&leaf(&["influx.example.com", "*.example.com"], 30), false)
                .is_ok()
        );
        for outside in ["example.org", "badexample.com", "127.0.0.1"] {
            let err = loaded.issue(&leaf(&[outside], 30), false).err().unwrap();
            assert!(
                err.to_string().contains("may not sign"),
                "{outside}: {err:#}"
            );
        }
    }

    #[test]
    fn ip_ranges_parse_and_match() {
        let lo = IpRange::parse("127.0.0.0/8").unwrap();
        assert!(lo.contains("127.1.2.3".parse().unwrap()));
        assert!(!lo.contains("10.0.0.1".parse().unwrap()));
        assert!(!lo.contains("::1".parse().unwrap()));
        assert_eq!(IpRange::parse("::1").unwrap().to_string(), "::1/128");
        assert!(IpRange::parse("10.0.0.0/33").is_err());
        assert!(IpRange::parse("nope").is_err());
        let c = Constraints::from_flags(&[], &["127.0.0.0/8".to_owned()]).unwrap();
        assert!(c.permits(&Host::parse("127.0.0.1").unwrap()));
        assert!(!c.permits(&Host::parse("10.0.0.1").unwrap()));
        assert!(
            !c.permits(&Host::parse("::1").unwrap()),
            "iPAddress constraints cover both families"
        );
        assert!(c.permits(&Host::parse("anything.test").unwrap()));
    }

    #[test]
    fn dns_constraints_match_whole_labels() {
        assert!(dns_within("example.com", "example.com"));
        assert!(dns_within("a.b.example.com", "example.com"));
        assert!(!dns_within("badexample.com", "example.com"));
        assert!(!dns_within("example.com", ".example.com"));
        assert!(dns_within("a.example.com", ".example.com"));
    }
}
