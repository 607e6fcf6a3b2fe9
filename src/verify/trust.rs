//! Who the client trusts, and why a certificate was refused, in words.
//!
//! Three ways to trust a server: the roots in `--ca` (or the Mozilla roots when none is given),
//! checked by webpki as rustls clients do; a self-signed certificate pinned as exactly itself
//! (webpki refuses a CA:TRUE certificate as a server certificate, and `openssl req -x509` makes
//! exactly those, so pinning is the honest check: the very same bytes, in date, for the name);
//! and, with `--insecure`, anything. A recording wrapper keeps the chain the server presented
//! and the verdict, so a refused handshake can still say what was served and why it failed.
//!
//! It must not connect anywhere: it only decides what a client accepts.

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error as TlsError, SignatureScheme};
use time::OffsetDateTime;

/// The crypto provider for every connection certtool makes: ring, like the rest of certtool.
#[must_use]
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A verifier trusting the certificates in `roots`, as rustls clients verify.
pub fn roots_verifier(roots: &[CertificateDer<'static>]) -> Result<Arc<dyn ServerCertVerifier>> {
    let mut store = rustls::RootCertStore::empty();
    for root in roots {
        store
            .add(root.clone())
            .map_err(|e| anyhow!("cannot use the CA certificate as a trust anchor: {e}"))?;
    }
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider())
        .build()
        .context("cannot build the certificate verifier")?;
    Ok(verifier)
}

/// A verifier trusting the Mozilla roots (for `--url` without `--ca`).
pub fn public_roots_verifier() -> Result<Arc<dyn ServerCertVerifier>> {
    let store = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    Ok(
        WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider())
            .build()
            .context("cannot build the certificate verifier")?,
    )
}

/// The handshake-signature checks every verifier here does the usual way, whatever it decides
/// about the certificate.
#[derive(Debug)]
struct Signatures(Arc<CryptoProvider>);

impl Signatures {
    fn new() -> Signatures {
        Signatures(provider())
    }

    fn tls12(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn tls13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Trust exactly one certificate, by its bytes: still checked for the name and its dates, and
/// the handshake signature is checked as usual. Without a pinned certificate (`--insecure`) it
/// accepts any certificate, still checking the handshake signature.
#[derive(Debug)]
pub struct PinnedVerifier {
    pinned: Option<CertificateDer<'static>>,
    signatures: Signatures,
}

impl PinnedVerifier {
    #[must_use]
    pub fn arc(pinned: CertificateDer<'static>) -> Arc<dyn ServerCertVerifier> {
        Arc::new(PinnedVerifier {
            pinned: Some(pinned),
            signatures: Signatures::new(),
        })
    }

    /// Accept any certificate: `--insecure`.
    #[must_use]
    pub fn accept_anything() -> Arc<dyn ServerCertVerifier> {
        Arc::new(PinnedVerifier {
            pinned: None,
            signatures: Signatures::new(),
        })
    }
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        let Some(pinned) = &self.pinned else {
            return Ok(ServerCertVerified::assertion());
        };
        if end_entity.as_ref() != pinned.as_ref() {
            return Err(TlsError::InvalidCertificate(
                CertificateError::UnknownIssuer,
            ));
        }
        let cert = webpki::EndEntityCert::try_from(end_entity)
            .map_err(|_| TlsError::InvalidCertificate(CertificateError::BadEncoding))?;
        cert.verify_is_valid_for_subject_name(server_name)
            .map_err(|_| TlsError::InvalidCertificate(CertificateError::NotValidForName))?;
        check_dates(end_entity, now)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.signatures.tls12(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.signatures.tls13(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.signatures.schemes()
    }
}

fn check_dates(der: &CertificateDer<'_>, now: UnixTime) -> Result<(), TlsError> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let (_, cert) = X509Certificate::from_der(der.as_ref())
        .map_err(|_| TlsError::InvalidCertificate(CertificateError::BadEncoding))?;
    let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let validity = cert.validity();
    if now < validity.not_before.timestamp() {
        return Err(TlsError::InvalidCertificate(CertificateError::NotValidYet));
    }
    if now > validity.not_after.timestamp() {
        return Err(TlsError::InvalidCertificate(CertificateError::Expired));
    }
    Ok(())
}

/// What the server presented, and what the inner verifier said about it.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    pub chain: Vec<CertificateDer<'static>>,
    pub verdict: Option<Result<(), String>>,
}

/// Wraps a verifier to record the presented chain and its verdict.
#[derive(Debug)]
pub struct Recording {
    inner: Arc<dyn ServerCertVerifier>,
    pub seen: Mutex<Seen>,
}

impl Recording {
    #[must_use]
    pub fn new(inner: Arc<dyn ServerCertVerifier>) -> Arc<Recording> {
        Arc::new(Recording {
            inner,
            seen: Mutex::new(Seen::default()),
        })
    }

    /// What was seen during the last handshake.
    #[must_use]
    pub fn seen(&self) -> Seen {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        let verdict =
            self.inner
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now);
        if let Ok(mut seen) = self.seen.lock() {
            seen.chain = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.clone().into_owned())
                .collect();
            seen.verdict = Some(verdict.as_ref().map(|_| ()).map_err(describe_tls_error));
        }
        verdict
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// What a client says when the chain it was given does not end at a CA it trusts; callers that
/// know the chain add which certificate is missing (see [`missing_issuer_hint`]).
pub const UNKNOWN_ISSUER: &str = "not trusted: the chain does not lead to a trusted CA";

/// Why a chain (`subjects`/`issuers`, leaf first) does not reach the CA, in words: the
/// self-signed server certificate that only needs to be given as the CA, or the issuer whose
/// certificate is missing from the server's file.
#[must_use]
pub fn missing_issuer_hint(
    chain: &[(String, String)],
    ca_subjects: Option<&[String]>,
) -> Option<String> {
    let (last_subject, last_issuer) = chain.last()?;
    if chain.len() == 1 && last_subject == last_issuer {
        return Some(match ca_subjects {
            None => format!(
                "the certificate is self-signed ({last_subject}): clients trust it as their CA; \
                 pass it with --ca (the server's .crt file)"
            ),
            Some(_) => format!(
                "the chain does not lead to the CA: the certificate is self-signed \
                 ({last_subject}) and the --ca file holds other certificates; clients trust it \
                 when given this certificate itself as their CA"
            ),
        });
    }
    if last_subject == last_issuer {
        return None;
    }
    let ca_has_it = ca_subjects.is_some_and(|cas| cas.iter().any(|s| s == last_issuer));
    if ca_has_it {
        return None;
    }
    Some(match ca_subjects {
        Some(_) => format!(
            "the chain ends with {last_subject}, issued by {last_issuer}, which is neither in the \
             chain nor the --ca file: append {last_issuer}'s certificate (the intermediate) to \
             the server's certificate file, or pass the CA that issued it with --ca"
        ),
        None => format!(
            "issued by {last_issuer}: pass that CA with --ca (without it only the public web roots \
             are trusted)"
        ),
    })
}

/// A TLS error in the words a user acts on.
#[must_use]
pub fn describe_tls_error(err: &TlsError) -> String {
    match err {
        TlsError::InvalidCertificate(e) => describe_certificate_error(e),
        TlsError::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => {
            "the server did not answer in TLS: this port serves plain HTTP (use http://, or turn \
             HTTPS on: certtool config influxdb --in-place influxdb.conf, or Prometheus's \
             --web.config.file from certtool config prometheus)"
                .to_owned()
        }
        TlsError::AlertReceived(alert) => format!("the server refused the handshake ({alert:?})"),
        TlsError::NoCertificatesPresented => "the server presented no certificate".to_owned(),
        other => other.to_string(),
    }
}

fn describe_certificate_error(err: &CertificateError) -> String {
    match err {
        CertificateError::UnknownIssuer => UNKNOWN_ISSUER.to_owned(),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            "name mismatch: the certificate does not cover the host".to_owned()
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "expired: the certificate is past its notAfter".to_owned()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "not yet valid: the certificate is before its notBefore".to_owned()
        }
        CertificateError::Other(other) if format!("{other:?}").contains("NameConstraintViolation") => {
            "not trusted: the certificate is outside its CA's name constraints (the CA may not \
             sign for its names; certtool inspect on the CA shows what it may sign for)"
                .to_owned()
        }
        CertificateError::Other(other) if other.to_string().contains("CaUsedAsEndEntity") => {
            "not trusted: a CA certificate (CA:TRUE) used as the server certificate; rustls clients \
             refuse it"
                .to_owned()
        }
        other => format!("not trusted: {other:?}"),
    }
}

/// A webpki error in the same words.
#[must_use]
pub fn describe_webpki_error(err: &webpki::Error) -> String {
    match err {
        webpki::Error::UnknownIssuer => "the chain does not lead to the CA".to_owned(),
        webpki::Error::CaUsedAsEndEntity => {
            "a CA certificate (CA:TRUE) is used as the server certificate; rustls clients refuse it"
                .to_owned()
        }
        webpki::Error::NameConstraintViolation => {
            "the certificate is outside its CA's name constraints (the CA may not sign for its \
             names; certtool inspect on the CA shows what it may sign for)"
                .to_owned()
        }
        webpki::Error::CertExpired { .. } => "the certificate is expired".to_owned(),
        webpki::Error::CertNotValidYet { .. } => "the certificate is not valid yet".to_owned(),
        webpki::Error::RequiredEkuNotFoundContext(_) => {
            "the certificate is not for TLS servers (extendedKeyUsage lacks serverAuth)".to_owned()
        }
        other => format!("{other}"),
    }
}

/// A Unix time for webpki from a `time` value.
#[must_use]
pub fn unix_time(t: OffsetDateTime) -> UnixTime {
    UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        u64::try_from(t.unix_timestamp()).unwrap_or(0),
    ))
}
