//! The integrated server: a rustls server on 127.0.0.1 serving the pair under test (the
//! client that checks it is in `client`, the checks in `pair`).
//!
//! It serves on loopback only and must not decide what is checked.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::{CertifiedKey, SigningKey};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use super::trust;

/// The response every request to the integrated server gets.
pub const RESPONSE_BODY: &str = "certtool verify: TLS OK\n";

/// The pair under test, ready for rustls. The key is loaded once (loading an ECDSA key
/// recomputes its public key: the costliest step of a cold start).
pub struct ServedPair {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: Arc<dyn SigningKey>,
}

/// Load a private key for rustls.
pub fn rustls_signing_key(der: PrivateKeyDer<'static>) -> Result<Arc<dyn SigningKey>> {
    trust::provider()
        .key_provider
        .load_private_key(der)
        .map_err(|e| anyhow!("rustls cannot use this private key: {e}"))
}

/// Serves the one certificate whatever the client asks for.
#[derive(Debug)]
struct Single(Arc<CertifiedKey>);

impl ResolvesServerCert for Single {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }
}

impl ServedPair {
    /// The public key of the private key, as a certificate's subjectPublicKey bits.
    #[must_use]
    pub fn key_public_bits(&self) -> Option<Vec<u8>> {
        use x509_parser::prelude::{FromDer, SubjectPublicKeyInfo};
        let spki = self.key.public_key()?;
        let (_, parsed) = SubjectPublicKeyInfo::from_der(spki.as_ref()).ok()?;
        Some(parsed.subject_public_key.data.to_vec())
    }

    /// A server config offering TLS 1.2 and 1.3 with this pair.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>> {
        let certified = CertifiedKey::new(self.chain.clone(), Arc::clone(&self.key));
        let provider = rustls::crypto::CryptoProvider {
            cipher_suites: go_preference(),
            ..rustls::crypto::ring::default_provider()
        };
        let mut config = ServerConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])
            .context("cannot configure TLS")?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Single(Arc::new(certified))));
        // Every check is a fresh full handshake: session tickets would only cost time.
        config.send_tls13_tickets = 0;
        config.ignore_client_order = true;
        Ok(Arc::new(config))
    }
}

/// The cipher suites in the order Go's crypto/tls prefers them on hardware with AES
/// instructions, choosing regardless of the client's order, as Go servers do. influxd,
/// prometheus and telegraf are Go programs: the integrated server negotiates what they would.
fn go_preference() -> Vec<rustls::SupportedCipherSuite> {
    use rustls::crypto::ring::cipher_suite::{
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        TLS13_AES_128_GCM_SHA256, TLS13_AES_256_GCM_SHA384, TLS13_CHACHA20_POLY1305_SHA256,
    };
    vec![
        TLS13_AES_128_GCM_SHA256,
        TLS13_CHACHA20_POLY1305_SHA256,
        TLS13_AES_256_GCM_SHA384,
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]
}

/// A running integrated server; stopped when dropped.
pub struct Server {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serve on `listener` until dropped.
    #[must_use]
    pub fn start(listener: TcpListener, config: Arc<ServerConfig>) -> Server {
        let addr = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let config = Arc::clone(&config);
                thread::spawn(move || {
                    let _ = serve_one(stream, config);
                });
            }
        });
        Server {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answer one connection: read the request head, send a small HTTP response, close cleanly.
fn serve_one(stream: TcpStream, config: Arc<ServerConfig>) -> Result<()> {
    // Handshake messages are small and interleaved: without TCP_NODELAY, Nagle's algorithm
    // and delayed ACKs add 40 ms to a TLS 1.2 handshake.
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let conn = ServerConnection::new(config)?;
    let mut tls = StreamOwned::new(conn, stream);
    let mut request = Vec::with_capacity(512);
    let mut buf = [0u8; 512];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16_384 {
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => request.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    tls.write_all(http_response().as_bytes())?;
    tls.conn.send_close_notify();
    tls.flush()?;
    Ok(())
}

/// The integrated server's answer to any request.
#[must_use]
pub fn http_response() -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{RESPONSE_BODY}",
        RESPONSE_BODY.len()
    )
}
