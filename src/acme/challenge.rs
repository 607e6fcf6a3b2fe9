//! Answering http-01 challenges (RFC 8555 §8.3): a built-in listener, or files under the
//! webroot of a web server that is already running.
//!
//! The CA fetches `http://NAME/.well-known/acme-challenge/TOKEN` and expects the key
//! authorization. Tokens come from the CA, so they are checked to be base64url before they
//! become a file name or a route: a hostile CA must not write outside the webroot.

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
}

impl Responder {
    /// Publish the key authorization for `token`.
    pub fn add(&mut self, token: &str, key_authorization: &str) -> Result<()> {
        check_token(token)?;
        match self {
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
        let listener = TcpListener::bind(addr).map_err(|e| bind_error(addr, &e))?;
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

fn bind_error(addr: SocketAddr, e: &std::io::Error) -> anyhow::Error {
    let port = addr.port();
    match e.kind() {
        std::io::ErrorKind::AddrInUse => Error::invalid(
            format!("port {port} is in use, so certtool cannot answer the http-01 challenge"),
            "pass --webroot DIR to answer through the web server that holds the port, or \
             --http-port PORT behind a redirect",
        )
        .into(),
        std::io::ErrorKind::PermissionDenied => Error::invalid(
            format!("listening on port {port} needs root (or CAP_NET_BIND_SERVICE)"),
            "run as root, or pass --webroot DIR, or --http-port PORT behind a redirect",
        )
        .into(),
        _ => anyhow::anyhow!("cannot listen on {addr} for the http-01 challenge: {e}"),
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
        responder.add("tok_1", "tok_1.thumb").unwrap();
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
