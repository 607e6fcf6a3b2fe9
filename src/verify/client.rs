//! The TLS client certtool verifies with: client configs (one protocol version, or both) with a
//! given verifier and no session resumption, and a connect-and-handshake that reports what was
//! negotiated. Shared by the integrated checks of a pair and by probes of running servers.
//!
//! It must not decide what to trust: the caller passes the verifier.

use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use super::trust::{self, describe_tls_error};

/// One client handshake and exchange.
#[derive(Debug, Clone)]
pub struct Handshake {
    pub protocol: String,
    pub cipher_suite: String,
    pub handshake: Duration,
    pub response_ok: bool,
}

impl Handshake {
    /// What `conn` negotiated in its completed handshake, which took `elapsed`; no response yet.
    #[must_use]
    pub fn of(conn: &ClientConnection, elapsed: Duration) -> Handshake {
        Handshake {
            protocol: conn
                .protocol_version()
                .map_or_else(|| "unknown".to_owned(), |v| protocol_name(v).to_owned()),
            cipher_suite: conn
                .negotiated_cipher_suite()
                .map_or_else(|| "unknown".to_owned(), |s| format!("{:?}", s.suite())),
            handshake: elapsed,
            response_ok: false,
        }
    }
}

/// A client config with one protocol version and `verifier`.
pub fn client_config(
    version: &'static rustls::SupportedProtocolVersion,
    verifier: Arc<dyn ServerCertVerifier>,
) -> Result<Arc<ClientConfig>> {
    build_client_config(&[version], verifier)
}

fn build_client_config(
    versions: &[&'static rustls::SupportedProtocolVersion],
    verifier: Arc<dyn ServerCertVerifier>,
) -> Result<Arc<ClientConfig>> {
    let mut config = ClientConfig::builder_with_provider(trust::provider())
        .with_protocol_versions(versions)
        .context("cannot configure TLS")?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    // Each check must be a full handshake, never a resumed session.
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(config))
}

/// A client config offering TLS 1.2 and 1.3 with `verifier`.
pub fn client_config_any(verifier: Arc<dyn ServerCertVerifier>) -> Result<Arc<ClientConfig>> {
    build_client_config(
        &[&rustls::version::TLS13, &rustls::version::TLS12],
        verifier,
    )
}

/// Connect to `addr` and handshake as a client for `host`, without sending anything.
pub fn handshake_only(
    addr: SocketAddr,
    host: &str,
    config: Arc<ClientConfig>,
    timeout: Duration,
) -> Result<Handshake, String> {
    connect(addr, host, config, timeout).map(|(_, h)| h)
}

fn connect(
    addr: SocketAddr,
    host: &str,
    config: Arc<ClientConfig>,
    timeout: Duration,
) -> Result<(StreamOwned<ClientConnection, TcpStream>, Handshake), String> {
    let name =
        ServerName::try_from(host.to_owned()).map_err(|e| format!("invalid host name: {e}"))?;
    let started = Instant::now();
    let sock = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let _ = sock.set_nodelay(true);
    let _ = sock.set_read_timeout(Some(timeout));
    let _ = sock.set_write_timeout(Some(timeout));
    let conn = ClientConnection::new(config, name).map_err(|e| describe_tls_error(&e))?;
    let mut tls = StreamOwned::new(conn, sock);
    while tls.conn.is_handshaking() {
        if let Err(e) = tls.conn.complete_io(&mut tls.sock) {
            return Err(io_error_reason(&e));
        }
    }
    let handshake = Handshake::of(&tls.conn, started.elapsed());
    Ok((tls, handshake))
}

/// rustls reports certificate problems as an `io::Error` wrapping its own error.
fn io_error_reason(err: &std::io::Error) -> String {
    err.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .map_or_else(|| err.to_string(), describe_tls_error)
}

/// `TLSv1.3`, as OpenSSL and curl name it.
#[must_use]
pub fn protocol_name(version: rustls::ProtocolVersion) -> &'static str {
    match version {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3",
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2",
        _ => "other",
    }
}
