//! The one parser of `http(s)://HOST[:PORT][/PATH]` URLs given on the command line (`verify
//! --url`, `config telegraf --url`).
//!
//! A URL with `user:password@` is refused without being quoted: the password would be in argv
//! (visible to every user) and would end up in our messages. It must not resolve or connect.

use crate::error::Error;
use crate::text::sanitize;

/// A parsed URL: scheme, host (without brackets) and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    pub https: bool,
    pub host: String,
    /// The port, or the scheme's default (443, 80).
    pub port: u16,
}

const HINT: &str = "write it as https://influx.example.com:8086";

/// Parse `url`, given as `--url`.
pub fn parse(url: &str) -> Result<HttpUrl, Error> {
    // Checked before anything quotes the URL, whatever its scheme.
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(userinfo());
    }
    let bad = |why: &str| Error::invalid(format!("--url '{}' {why}", sanitize(url)), HINT);
    let https = if url.starts_with("https://") {
        true
    } else if url.starts_with("http://") {
        false
    } else {
        return Err(bad("is not an http(s) URL"));
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("has an unclosed [ ]"))?;
        (h, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(bad("has no host"));
    }
    let port = match port {
        Some(p) => p.parse().map_err(|_| bad("has an invalid port"))?,
        None if https => 443,
        None => 80,
    };
    Ok(HttpUrl {
        https,
        host: host.to_owned(),
        port,
    })
}

fn userinfo() -> Error {
    Error::invalid(
        "--url holds a user name or password (user:password@); refusing to use or show it",
        "pass the user with --user and the secret with --secret-file, --secret-env or \
         --secret-stdin; and change that password, since argv is visible to every user",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str) -> (bool, String, u16) {
        let u = parse(url).unwrap();
        (u.https, u.host, u.port)
    }

    #[test]
    fn hosts_ports_and_schemes() {
        assert_eq!(ok("https://h.test:8086/x"), (true, "h.test".into(), 8086));
        assert_eq!(ok("https://[::1]:8086"), (true, "::1".into(), 8086));
        assert_eq!(ok("http://127.0.0.1"), (false, "127.0.0.1".into(), 80));
        assert_eq!(ok("https://h.test"), (true, "h.test".into(), 443));
        for bad in [
            "ftp://x",
            "https://:8086",
            "https://[::1",
            "https://h:99999",
            "h.test",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_are_refused_and_never_quoted() {
        for url in [
            "https://admin:hunter2@h.test/",
            "http://u:hunter2@h:1",
            "ftp://u:hunter2@h/",
            "https://u@h/",
        ] {
            let err = parse(url).unwrap_err();
            assert!(!err.to_string().contains("hunter2"), "{err}");
            assert!(err.to_string().contains("user name or password"), "{err}");
        }
    }
}
