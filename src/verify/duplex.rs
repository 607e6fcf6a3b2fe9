//! Both ends of one loopback TLS connection, driven in lock-step by one thread: the integrated
//! server accepts the client's connection on its 127.0.0.1 listener, and each turn moves what
//! one side wrote to the other. No thread is spawned and no wake-up crosses cores, which were
//! most of the cost of a check against a threaded server.
//!
//! It must not start threads or decide what is checked.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, ConnectionCommon, ServerConfig, ServerConnection};

use super::client::Handshake;
use super::local::http_response;
use super::trust::describe_tls_error;

/// A client's loopback connection to the integrated server and the server's end of it.
pub struct Loopback {
    client: TcpStream,
    server: TcpStream,
}

/// Connect to the integrated server's `listener` and accept that connection.
pub fn connect(listener: &TcpListener, timeout: Duration) -> Result<Loopback, String> {
    connect_pair(listener, Instant::now() + timeout)
        .map(|(client, server)| Loopback { client, server })
        .map_err(|e| format!("cannot connect to itself: {e}"))
}

/// Handshake as a client for `host` over `loopback`, send `GET path`, answer it as the server
/// and read the answer. An error is the handshake's failure as the client saw it, in words.
pub fn check(
    loopback: Loopback,
    server_config: Arc<ServerConfig>,
    host: &str,
    client_config: Arc<ClientConfig>,
    path: &str,
    timeout: Duration,
) -> Result<Handshake, String> {
    let name =
        ServerName::try_from(host.to_owned()).map_err(|e| format!("invalid host name: {e}"))?;
    let started = Instant::now();
    let client = ClientConnection::new(client_config, name).map_err(|e| describe_tls_error(&e))?;
    let server = ServerConnection::new(server_config).map_err(|e| describe_tls_error(&e))?;
    let mut ends = Ends {
        client,
        client_sock: loopback.client,
        server,
        server_sock: loopback.server,
        server_stopped: None,
        deadline: started + timeout,
    };

    ends.pump(|e| !e.client.is_handshaking())?;
    let mut handshake = Handshake::of(&ends.client, started.elapsed());
    handshake.response_ok = ends.exchange(host, path).unwrap_or(false);
    Ok(handshake)
}

/// A connected client socket and the server's end of it, accepted from `listener`.
fn connect_pair(
    listener: &TcpListener,
    deadline: Instant,
) -> std::io::Result<(TcpStream, TcpStream)> {
    let client = TcpStream::connect_timeout(&listener.local_addr()?, remaining(deadline))?;
    let ours = client.local_addr()?;
    listener.set_nonblocking(true)?;
    let accepted = loop {
        match listener.accept() {
            // Anyone else on this host may connect to the port too: only our client counts.
            Ok((stream, peer)) if peer == ours => break Ok(stream),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if !wait_readable(&[listener.as_fd()], deadline) {
                    break Err(std::io::Error::from(ErrorKind::TimedOut));
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    listener.set_nonblocking(false)?;
    let server = accepted?;
    for sock in [&client, &server] {
        sock.set_nonblocking(true)?;
        // Handshake messages are small and interleaved: Nagle's algorithm would hold them back.
        sock.set_nodelay(true)?;
    }
    Ok((client, server))
}

struct Ends {
    client: ClientConnection,
    client_sock: TcpStream,
    server: ServerConnection,
    server_sock: TcpStream,
    /// Why the server stopped; its alert then reaches the client, whose view is reported.
    server_stopped: Option<String>,
    deadline: Instant,
}

impl Ends {
    /// Move bytes both ways until `done` holds.
    fn pump(&mut self, mut done: impl FnMut(&mut Self) -> bool) -> Result<(), String> {
        loop {
            if done(self) {
                return Ok(());
            }
            let client = turn(&mut self.client, &mut self.client_sock).map_err(|e| match e {
                Fault::Tls(e) => describe_tls_error(&e),
                Fault::Io(e) => e.to_string(),
            })?;
            if client.closed {
                return if done(self) {
                    Ok(())
                } else {
                    Err(self.server_gave_up("the server closed the connection"))
                };
            }
            let server_moved = self.server_turn();
            if client.moved || server_moved {
                continue;
            }
            // A stopped server reads no more, so its socket may stay readable: wait on the client.
            let fds = if self.server_stopped.is_some() {
                vec![self.client_sock.as_fd()]
            } else {
                vec![self.client_sock.as_fd(), self.server_sock.as_fd()]
            };
            if Instant::now() >= self.deadline || !wait_readable(&fds, self.deadline) {
                return Err(self.server_gave_up("timed out"));
            }
        }
    }

    /// The server's turn, unless it already stopped; true when bytes moved.
    fn server_turn(&mut self) -> bool {
        if self.server_stopped.is_some() {
            return false;
        }
        match turn(&mut self.server, &mut self.server_sock) {
            Ok(Turn { closed: true, .. }) => {
                self.server_stopped = Some("the client closed the connection".to_owned());
                true
            }
            Ok(Turn { moved, .. }) => moved,
            Err(fault) => {
                // Send the server's alert so the client learns why, and report the client's view.
                let _ = self.server.write_tls(&mut self.server_sock);
                self.server_stopped = Some(match fault {
                    Fault::Tls(e) => describe_tls_error(&e),
                    Fault::Io(e) => e.to_string(),
                });
                true
            }
        }
    }

    fn server_gave_up(&self, otherwise: &str) -> String {
        self.server_stopped.as_ref().map_or_else(
            || otherwise.to_owned(),
            |why| format!("the server gave up: {why}"),
        )
    }

    /// Send the request, answer it, and say whether the client read a 200 response.
    fn exchange(&mut self, host: &str, path: &str) -> Result<bool, String> {
        let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        self.client
            .writer()
            .write_all(request.as_bytes())
            .map_err(|e| e.to_string())?;
        let mut received = Vec::new();
        self.pump(|e| {
            drain(&mut e.server.reader(), &mut received);
            received.windows(4).any(|w| w == b"\r\n\r\n")
        })?;
        self.server
            .writer()
            .write_all(http_response().as_bytes())
            .map_err(|e| e.to_string())?;
        self.server.send_close_notify();
        let mut response = Vec::new();
        self.pump(|e| drain(&mut e.client.reader(), &mut response))?;
        Ok(response.starts_with(b"HTTP/1.1 200"))
    }
}

enum Fault {
    Tls(rustls::Error),
    Io(std::io::Error),
}

/// What one side's turn did.
struct Turn {
    /// Bytes were written or read.
    moved: bool,
    /// The peer closed the connection (or sent `close_notify`).
    closed: bool,
}

/// One side's turn: write what it has queued, read and process what arrived.
fn turn<D>(conn: &mut ConnectionCommon<D>, sock: &mut TcpStream) -> Result<Turn, Fault> {
    let mut moved = false;
    while conn.wants_write() {
        match conn.write_tls(sock) {
            Ok(_) => moved = true,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(Fault::Io(e)),
        }
    }
    loop {
        match conn.read_tls(sock) {
            Ok(0) => {
                return Ok(Turn {
                    moved,
                    closed: true,
                });
            }
            Ok(_) => {
                moved = true;
                conn.process_new_packets().map_err(Fault::Tls)?;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                return Ok(Turn {
                    moved,
                    closed: false,
                });
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(Fault::Io(e)),
        }
    }
}

/// Append the plaintext available from `reader` to `into`; true at the end of the stream.
fn drain(reader: &mut impl Read, into: &mut Vec<u8>) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return true,
            Ok(n) => into.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // The peer closed without close_notify: what arrived is all there is.
            Err(_) => return true,
        }
    }
}

/// Wait until one of `fds` is readable; false when the deadline passed first.
fn wait_readable(fds: &[std::os::fd::BorrowedFd<'_>], deadline: Instant) -> bool {
    let mut polled: Vec<PollFd<'_>> = fds
        .iter()
        .map(|fd| PollFd::new(*fd, PollFlags::POLLIN))
        .collect();
    let wait = PollTimeout::try_from(remaining(deadline)).unwrap_or(PollTimeout::MAX);
    matches!(poll(&mut polled, wait), Ok(n) if n > 0)
}

fn remaining(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1))
}
