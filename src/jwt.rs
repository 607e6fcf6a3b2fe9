//! HMAC-signed JWTs exactly as InfluxDB 1.x shared-secret authentication expects them.
//!
//! Pure: tokens in, tokens out; the current time is passed in. Minting writes the payload
//! `{"username":NAME,"exp":SECONDS}` and nothing else unless asked (some InfluxDB releases reject
//! a future `iat` or any `aud`). Verification mirrors what influxd enforces (an HMAC algorithm, a
//! valid signature, a numeric non-zero `exp` in the future, a string `username`, and `nbf`/`iat`
//! not in the future) and compares signatures in constant time (ring).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use serde_json::{Map, Value};

/// HMAC algorithms InfluxDB accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Alg {
    #[default]
    #[value(name = "HS256")]
    Hs256,
    #[value(name = "HS384")]
    Hs384,
    #[value(name = "HS512")]
    Hs512,
}

impl Alg {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Alg::Hs256 => "HS256",
            Alg::Hs384 => "HS384",
            Alg::Hs512 => "HS512",
        }
    }

    fn from_name(name: &str) -> Option<Alg> {
        match name {
            "HS256" => Some(Alg::Hs256),
            "HS384" => Some(Alg::Hs384),
            "HS512" => Some(Alg::Hs512),
            _ => None,
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            Alg::Hs256 => hmac::HMAC_SHA256,
            Alg::Hs384 => hmac::HMAC_SHA384,
            Alg::Hs512 => hmac::HMAC_SHA512,
        }
    }

    fn encoded_header(self) -> &'static str {
        // base64url of {"alg":"HSxxx","typ":"JWT"}
        match self {
            Alg::Hs256 => "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
            Alg::Hs384 => "eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9",
            Alg::Hs512 => "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9",
        }
    }
}

/// A signing key, prepared once and reused for many tokens.
pub struct Signer {
    alg: Alg,
    key: hmac::Key,
}

impl Signer {
    #[must_use]
    pub fn new(alg: Alg, secret: &[u8]) -> Self {
        Signer {
            alg,
            key: hmac::Key::new(alg.hmac(), secret),
        }
    }

    /// A token for `username` expiring at `exp` (Unix seconds), with `extra` claims appended.
    #[must_use]
    pub fn mint(&self, username: &str, exp: i64, extra: &Map<String, Value>) -> String {
        let mut payload = String::with_capacity(48 + username.len());
        payload.push_str("{\"username\":");
        payload.push_str(&Value::String(username.to_owned()).to_string());
        payload.push_str(",\"exp\":");
        payload.push_str(&exp.to_string());
        for (key, value) in extra {
            payload.push(',');
            payload.push_str(&Value::String(key.clone()).to_string());
            payload.push(':');
            payload.push_str(&value.to_string());
        }
        payload.push('}');
        let mut token = String::with_capacity(64 + payload.len() * 4 / 3 + 90);
        token.push_str(self.alg.encoded_header());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload.as_bytes(), &mut token);
        let tag = hmac::sign(&self.key, token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(tag.as_ref(), &mut token);
        token
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    Malformed(String),
    AlgNotHmac(String),
    BadSignature,
    Expired { seconds_ago: i64 },
    ExpMissing,
    ExpNotNumber,
    NotYetValid(&'static str),
    UsernameMissing,
    WrongUser { expected: String, found: String },
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Invalid::Malformed(why) => write!(f, "malformed token: {why}"),
            Invalid::AlgNotHmac(alg) => write!(
                f,
                "algorithm '{}' is not HS256/HS384/HS512 (InfluxDB accepts only HMAC)",
                crate::text::sanitize(alg)
            ),
            Invalid::BadSignature => f.write_str(
                "bad signature; the usual causes: the token was signed with another secret (influxd \
                 uses [http] shared-secret or INFLUXDB_HTTP_SHARED_SECRET), the secret file's \
                 trailing spaces or a second line were part of the key, the secret was changed \
                 and influxd not restarted, or the token was cut when pasted",
            ),
            Invalid::Expired { seconds_ago } => {
                write!(f, "expired {} ago", crate::duration::describe(*seconds_ago))
            }
            Invalid::ExpMissing => f.write_str("exp claim missing or zero (InfluxDB requires it)"),
            Invalid::ExpNotNumber => f.write_str("exp claim is not a number"),
            Invalid::NotYetValid(claim) => write!(f, "{claim} claim is in the future"),
            Invalid::UsernameMissing => {
                f.write_str("username claim missing or not a string (InfluxDB requires it)")
            }
            Invalid::WrongUser { expected, found } => write!(
                f,
                "username is '{}', expected '{}'",
                crate::text::sanitize(found),
                crate::text::sanitize(expected)
            ),
        }
    }
}

/// The decoded, unverified parts of a token.
pub struct Decoded {
    pub header: Map<String, Value>,
    pub payload: Map<String, Value>,
    signing_input_len: usize,
    signature: Vec<u8>,
}

/// Split and decode a token without checking anything.
pub fn decode(token: &str) -> Result<Decoded, Invalid> {
    let token = token.trim();
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Invalid::Malformed(
            "a JWT has three dot-separated parts".into(),
        ));
    };
    let header = json_object(h, "header")?;
    let payload = json_object(p, "payload")?;
    let signature = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| Invalid::Malformed("signature is not base64url".into()))?;
    Ok(Decoded {
        header,
        payload,
        signing_input_len: h.len() + 1 + p.len(),
        signature,
    })
}

fn json_object(part: &str, what: &str) -> Result<Map<String, Value>, Invalid> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| Invalid::Malformed(format!("{what} is not base64url")))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Invalid::Malformed(format!("{what} is not a JSON object"))),
    }
}

/// What verification checks beyond the signature.
pub struct Expectations<'a> {
    pub now: i64,
    pub leeway: i64,
    pub username: Option<&'a str>,
}

/// Verify `token` with `secret` the way influxd does; returns the payload.
pub fn verify(token: &str, secret: &[u8], expect: &Expectations) -> Result<Decoded, Invalid> {
    let token = token.trim();
    let decoded = decode(token)?;
    let alg_name = decoded
        .header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or("");
    let alg = Alg::from_name(alg_name).ok_or_else(|| Invalid::AlgNotHmac(alg_name.to_owned()))?;
    let key = hmac::Key::new(alg.hmac(), secret);
    hmac::verify(
        &key,
        &token.as_bytes()[..decoded.signing_input_len],
        &decoded.signature,
    )
    .map_err(|_| Invalid::BadSignature)?;
    check_claims(&decoded.payload, expect)?;
    Ok(decoded)
}

fn check_claims(payload: &Map<String, Value>, expect: &Expectations) -> Result<(), Invalid> {
    let exp = match payload.get("exp") {
        None => return Err(Invalid::ExpMissing),
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(_) => return Err(Invalid::ExpNotNumber),
    };
    if exp == 0.0 {
        return Err(Invalid::ExpMissing);
    }
    #[allow(
        clippy::cast_possible_truncation,
        reason = "exp is whole seconds in practice"
    )]
    let exp = exp as i64;
    if expect.now > exp.saturating_add(expect.leeway) {
        return Err(Invalid::Expired {
            seconds_ago: expect.now.saturating_sub(exp),
        });
    }
    for claim in ["nbf", "iat"] {
        if let Some(t) = payload.get(claim).and_then(Value::as_f64) {
            #[allow(clippy::cast_possible_truncation, reason = "whole seconds")]
            if t as i64 > expect.now.saturating_add(expect.leeway) {
                return Err(Invalid::NotYetValid(claim));
            }
        }
    }
    let found = payload
        .get("username")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .ok_or(Invalid::UsernameMissing)?;
    if let Some(expected) = expect.username
        && expected != found
    {
        return Err(Invalid::WrongUser {
            expected: expected.to_owned(),
            found: found.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn expect(now: i64) -> Expectations<'static> {
        Expectations {
            now,
            leeway: 0,
            username: None,
        }
    }

    #[test]
    fn minted_tokens_verify_and_have_the_influxdb_payload() {
        let token = Signer::new(Alg::Hs256, SECRET).mint("admin", 2_000_000_000, &Map::new());
        let d = verify(&token, SECRET, &expect(1_900_000_000)).unwrap();
        assert_eq!(
            Value::Object(d.header).to_string(),
            r#"{"alg":"HS256","typ":"JWT"}"#
        );
        assert_eq!(d.payload.len(), 2);
        assert_eq!(d.payload["username"], "admin");
        assert_eq!(d.payload["exp"], 2_000_000_000);
        assert!(!token.contains('='));
    }

    #[test]
    fn known_vector_matches_an_independent_hs256() {
        // Same inputs as: python3 -c 'import hmac,hashlib,base64;...' (see tests/cli/jwt.rs).
        let token = Signer::new(Alg::Hs256, b"secret").mint("u", 1, &Map::new());
        assert_eq!(
            token.split('.').nth(1).unwrap(),
            URL_SAFE_NO_PAD.encode(br#"{"username":"u","exp":1}"#)
        );
    }

    #[test]
    fn every_failure_has_its_reason() {
        let s = Signer::new(Alg::Hs512, SECRET);
        let token = s.mint("admin", 1000, &Map::new());
        assert_eq!(
            verify(&token, b"other secret", &expect(10)).err(),
            Some(Invalid::BadSignature)
        );
        assert_eq!(
            verify(&token, SECRET, &expect(1060)).err(),
            Some(Invalid::Expired { seconds_ago: 60 })
        );
        let lenient = Expectations {
            now: 1060,
            leeway: 60,
            username: Some("bob"),
        };
        assert!(matches!(
            verify(&token, SECRET, &lenient),
            Err(Invalid::WrongUser { .. })
        ));
        assert!(matches!(
            verify("a.b", SECRET, &expect(0)),
            Err(Invalid::Malformed(_))
        ));
        let mut tampered = token.clone();
        tampered.insert(token.rfind('.').unwrap() + 1, 'A');
        assert!(verify(&tampered, SECRET, &expect(10)).is_err());
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            token.split('.').nth(1).unwrap()
        );
        assert_eq!(
            verify(&none, SECRET, &expect(10)).err(),
            Some(Invalid::AlgNotHmac("none".into()))
        );
        let mut extra = Map::new();
        extra.insert("iat".into(), Value::from(5000));
        let future_iat = s.mint("admin", 9000, &extra);
        assert_eq!(
            verify(&future_iat, SECRET, &expect(10)).err(),
            Some(Invalid::NotYetValid("iat"))
        );
    }
}
