//! Answering challenges: http-01 (RFC 8555 §8.3) by a built-in listener or by files under the
//! webroot of a web server that is already running, and tls-alpn-01 (RFC 8737) by a built-in
//! TLS listener.
//!
//! For http-01 the CA fetches `http://NAME/.well-known/acme-challenge/TOKEN` and expects the
//! key authorization. Tokens come from the CA, so they are checked to be base64url before they
//! become a file name or a route: a hostile CA must not write outside the webroot. For
//! tls-alpn-01 the CA connects with ALPN `acme-tls/1` and the name as SNI (an IP address as its
//! reverse name, RFC 8738), and expects a self-signed certificate for the name carrying the
//! key authorization's digest in a critical acmeIdentifier extension.

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Result;

use crate::error::Error;

const PREFIX: &str = "/.well-known/acme-challenge/";

/// Where challenge answers go.
pub enum Responder {
    Listener(HttpListener),
    Webroot(Webroot),
    TlsAlpn(TlsAlpnListener),
}

impl Responder {
    /// Publish the answer for `name` (a DNS name or an IP address): the key authorization for
    /// `token` (http-01), or a certificate with its `digest` (tls-alpn-01).
    pub fn add(
        &mut self,
        name: &str,
        token: &str,
        key_authorization: &str,
        digest: &[u8],
    ) -> Result<()> {
        check_token(token)?;
        match self {
            Responder::TlsAlpn(l) => l.add(name, digest),
            Responder::Listener(l) => {
                l.answers
                    .lock()
                    .map_err(|_| anyhow::anyhow!("the challenge listener failed"))?
                    .insert(token.to_owned(), key_authorization.to_owned());
                Ok(())
            }
            Responder::Webroot(w) => w.add(token, key_authorization),
        }
    }
}

fn check_token(token: &str) -> Result<()> {
    if token.is_empty()
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(anyhow::anyhow!(
            "the CA sent a challenge token that is not base64url; refusing to serve it"
        ));
    }
    Ok(())
}

/// A small HTTP server for challenge answers, on its own thread until dropped.
pub struct HttpListener {
    answers: Arc<Mutex<HashMap<String, String>>>,
    stop: Arc<AtomicBool>,
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl HttpListener {
    /// Listen on `addr` (the CA connects to port 80 of each name, unless it was told
    /// otherwise, as test CAs are).
    pub fn bind(addr: SocketAddr) -> Result<HttpListener> {
        let listener = TcpListener::bind(addr).map_err(|e| bind_error(addr, &e, "http-01"))?;
        let addr = listener.local_addr()?;
        let answers = Arc::new(Mutex::new(HashMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (answers, stop) = (answers.clone(), stop.clone());
            std::thread::spawn(move || serve(&listener, &answers, &stop))
        };
        Ok(HttpListener {
            answers,
            stop,
            addr,
            thread: Some(thread),
        })
    }
}

impl Drop for HttpListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept() up; the connection is dropped at once.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn bind_error(addr: SocketAddr, e: &std::io::Error, challenge: &str) -> anyhow::Error {
    let port = addr.port();
    let other = if challenge == "http-01" {
        "pass --webroot DIR to answer through the web server that holds the port, or \
         --http-port PORT behind a redirect"
    } else {
        "stop the server that holds the port for the second the exchange takes, or use \
         --challenge http-01"
    };
    match e.kind() {
        std::io::ErrorKind::AddrInUse => Error::invalid(
            format!("port {port} is in use, so certtool cannot answer the {challenge} challenge"),
            other,
        )
        .into(),
        std::io::ErrorKind::PermissionDenied => Error::invalid(
            format!("listening on port {port} needs root (or CAP_NET_BIND_SERVICE)"),
            format!("run as root, or: {other}"),
        )
        .into(),
        _ => anyhow::anyhow!("cannot listen on {addr} for the {challenge} challenge: {e}"),
    }
}

fn serve(listener: &TcpListener, answers: &Arc<Mutex<HashMap<String, String>>>, stop: &AtomicBool) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let answers = answers.clone();
        // One thread per connection: a slow or silent client must not hold up the CA's.
        std::thread::spawn(move || answer(stream, &answers));
    }
}

fn answer(mut stream: TcpStream, answers: &Mutex<HashMap<String, String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 8192 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&request);
    let mut words = line.lines().next().unwrap_or_default().split(' ');
    let (method, path) = (
        words.next().unwrap_or_default(),
        words.next().unwrap_or_default(),
    );
    let body = path
        .strip_prefix(PREFIX)
        .filter(|_| method == "GET")
        .and_then(|token| answers.lock().ok()?.get(token).cloned());
    let response = match body {
        Some(body) => format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        ),
        None => {
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
        }
    };
    let _ = stream.write_all(response.as_bytes());
}

/// The tls-alpn-01 listener: a TLS server offering only `acme-tls/1`, with one challenge
/// certificate per name; on its own thread until dropped.
pub struct TlsAlpnListener {
    certs: Arc<Mutex<HashMap<String, Arc<rustls::sign::CertifiedKey>>>>,
    stop: Arc<AtomicBool>,
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

impl TlsAlpnListener {
    pub fn bind(addr: SocketAddr) -> Result<TlsAlpnListener> {
        let listener = TcpListener::bind(addr).map_err(|e| bind_error(addr, &e, "tls-alpn-01"))?;
        let addr = listener.local_addr()?;
        let certs = Arc::new(Mutex::new(HashMap::new()));
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(ChallengeCerts(certs.clone())));
        config.alpn_protocols = vec![ACME_TLS_ALPN.to_vec()];
        let config = Arc::new(config);
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(stream) = stream else { continue };
                    let config = config.clone();
                    std::thread::spawn(move || handshake(stream, config));
                }
            })
        };
        Ok(TlsAlpnListener {
            certs,
            stop,
            addr,
            thread: Some(thread),
        })
    }

    /// The challenge certificate for `name`, found by the SNI the CA sends.
    fn add(&self, name: &str, digest: &[u8]) -> Result<()> {
        let (san, sni) = match name.parse::<std::net::IpAddr>() {
            Ok(ip) => (rcgen::SanType::IpAddress(ip), reverse_name(ip)),
            Err(_) => (
                rcgen::SanType::DnsName(name.to_owned().try_into()?),
                name.to_ascii_lowercase(),
            ),
        };
        let mut params = rcgen::CertificateParams::default();
        params.subject_alt_names = vec![san];
        params.custom_extensions = vec![rcgen::CustomExtension::new_acme_identifier(digest)];
        let key = rcgen::KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        let key_der = rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
        let signing = rustls::crypto::ring::sign::any_supported_type(&key_der)?;
        let certified = rustls::sign::CertifiedKey::new(vec![cert.der().clone()], signing);
        self.certs
            .lock()
            .map_err(|_| anyhow::anyhow!("the challenge listener failed"))?
            .insert(sni, Arc::new(certified));
        Ok(())
    }
}

impl Drop for TlsAlpnListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The SNI a CA sends for an IP address (RFC 8738 §6): its reverse-DNS name.
fn reverse_name(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        std::net::IpAddr::V6(v6) => {
            let nibbles: Vec<String> = v6
                .octets()
                .iter()
                .rev()
                .map(|byte| format!("{:x}.{:x}.", byte & 0xf, byte >> 4))
                .collect();
            nibbles.concat() + "ip6.arpa"
        }
    }
}

/// Only `acme-tls/1` connections for a name with a challenge get a certificate.
#[derive(Debug)]
struct ChallengeCerts(Arc<Mutex<HashMap<String, Arc<rustls::sign::CertifiedKey>>>>);

impl rustls::server::ResolvesServerCert for ChallengeCerts {
    fn resolve(
        &self,
        hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        let acme = hello.alpn()?.any(|p| p == ACME_TLS_ALPN);
        let name = hello.server_name()?.to_ascii_lowercase();
        acme.then(|| self.0.lock().ok()?.get(&name).cloned())
            .flatten()
    }
}

fn handshake(mut stream: TcpStream, config: Arc<rustls::ServerConfig>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let Ok(mut conn) = rustls::ServerConnection::new(config) else {
        return;
    };
    while conn.is_handshaking() {
        if conn.complete_io(&mut stream).is_err() {
            return;
        }
    }
    conn.send_close_notify();
    let _ = conn.complete_io(&mut stream);
}

/// Challenge files under a running web server's document root; removed when dropped.
pub struct Webroot {
    dir: PathBuf,
    written: Vec<PathBuf>,
}

impl Webroot {
    /// `root` must exist: it is the web server's, not certtool's to create.
    pub fn new(root: &Path) -> Result<Webroot> {
        if !root.is_dir() {
            return Err(Error::invalid(
                format!("--webroot '{}' is not a directory", root.display()),
                "give the document root of the web server that answers on port 80",
            )
            .into());
        }
        Ok(Webroot {
            dir: root.join(".well-known/acme-challenge"),
            written: Vec::new(),
        })
    }

    fn add(&mut self, token: &str, key_authorization: &str) -> Result<()> {
        let path = self.dir.join(token);
        // Readable by the web server's user: the key authorization is public by design.
        crate::files::write_all(
            &[crate::files::PlannedFile::new(
                path.clone(),
                crate::files::FileKind::Config,
                key_authorization.as_bytes(),
            )],
            crate::files::WriteOptions {
                force: true,
                ..crate::files::WriteOptions::default()
            },
        )?;
        self.written.push(path);
        Ok(())
    }
}

impl Drop for Webroot {
    fn drop(&mut self) {
        for path in &self.written {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_addresses_are_named_by_their_reverse_names() {
        assert_eq!(
            reverse_name("127.0.0.1".parse().unwrap()),
            "1.0.0.127.in-addr.arpa"
        );
        let v6 = reverse_name("::1".parse().unwrap());
        assert!(
            v6.starts_with("1.0.0.0.") && v6.ends_with(".0.ip6.arpa"),
            "{v6}"
        );
        assert_eq!(v6.matches('.').count(), 33);
    }

    #[test]
    fn tokens_that_could_name_another_file_are_refused() {
        for bad in ["", "../x", "a/b", "a.b", "a b", "%2e"] {
            assert!(check_token(bad).is_err(), "{bad}");
        }
        assert!(check_token("LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0").is_ok());
    }

    #[test]
    fn the_listener_answers_its_tokens_and_nothing_else() {
        let listener = HttpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.addr;
        let mut responder = Responder::Listener(listener);
        responder
            .add("x.test", "tok_1", "tok_1.thumb", &[0; 32])
            .unwrap();
        let get = |path: &str| {
            let mut s = TcpStream::connect(addr).unwrap();
            write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            out
        };
        let ok = get("/.well-known/acme-challenge/tok_1");
        assert!(
            ok.starts_with("HTTP/1.1 200") && ok.ends_with("tok_1.thumb"),
            "{ok}"
        );
        assert!(get("/.well-known/acme-challenge/other").starts_with("HTTP/1.1 404"));
        assert!(get("/").starts_with("HTTP/1.1 404"));
    }
}
