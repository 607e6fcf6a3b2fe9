//! `certtool jwt mint | verify | decode`: InfluxDB shared-secret tokens.
//!
//! It must not print the secret, nor take it from argv.

use std::io::{BufRead, Read};

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::cli::{JwtCommand, JwtDecodeArgs, JwtMintArgs, JwtVerifyArgs};
use crate::error::{Error, ExitStatus};
use crate::files;
use crate::jwt::{self, Expectations, Signer};
use crate::output::{Output, Report, Text};
use crate::pki::validity::{format_time, parse_time};
use crate::secret::read_secret;

/// Run `certtool jwt ...`.
pub fn run(cmd: &JwtCommand, out: &mut Output) -> Result<ExitStatus> {
    match cmd {
        JwtCommand::Mint(args) => mint(args, out),
        JwtCommand::Verify(args) => verify(args, out),
        JwtCommand::Decode(args) => decode(args, out),
    }
}

/// The expiry as Unix seconds: `--exp` (Unix seconds or RFC 3339) or now + `--ttl`.
fn expiry(args: &JwtMintArgs, now: i64) -> Result<i64> {
    let exp = match &args.exp {
        Some(text) => match text.parse::<i64>() {
            Ok(unix) => unix,
            Err(_) => parse_time(text).context("--exp")?.unix_timestamp(),
        },
        None => now.saturating_add(crate::duration::whole_seconds(args.ttl)),
    };
    if exp <= now && !args.allow_expired {
        return Err(Error::invalid(
            "--exp is in the past: the token would already be expired",
            "pass --allow-expired to mint it anyway (to test that a server rejects it)",
        )
        .into());
    }
    Ok(exp)
}

fn extra_claims(claims: &[String]) -> Result<Map<String, Value>> {
    let mut map = Map::new();
    for claim in claims {
        let (key, value) = claim.split_once('=').ok_or_else(|| {
            Error::invalid(
                format!("--claim '{claim}' is not KEY=VALUE"),
                "e.g. --claim role=reader",
            )
        })?;
        if key.is_empty() || key == "username" || key == "exp" {
            return Err(Error::invalid(
                format!("--claim cannot set '{key}'"),
                "use --user and --ttl/--exp for username and exp",
            )
            .into());
        }
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        map.insert(key.to_owned(), value);
    }
    Ok(map)
}

#[derive(Serialize)]
struct MintReport<'a> {
    token: &'a str,
    header: Value,
    payload: Value,
    expires_at: String,
}

fn mint(args: &JwtMintArgs, out: &mut Output) -> Result<ExitStatus> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let exp = expiry(args, now)?;
    let extra = extra_claims(&args.claims)?;
    let users = match (&args.user, &args.users_file) {
        (_, Some(path)) => Some(read_users(path)?),
        (Some(user), None) => {
            check_user(user)?;
            None
        }
        (None, None) => {
            return Err(Error::invalid(
                "--user or --users-file is required",
                "name the InfluxDB user",
            )
            .into());
        }
    };
    let secret = read_secret(&args.secret.source(), out)?;
    let signer = Signer::new(args.alg, &secret);
    drop(secret);
    if let Some(users) = users {
        let mut text = String::with_capacity(users.len() * 200);
        for user in &users {
            text.push_str(user);
            text.push('\t');
            text.push_str(&signer.mint(user, exp, &extra));
            text.push('\n');
        }
        out.data(&text)?;
        return Ok(ExitStatus::Success);
    }
    let user = args.user.as_deref().unwrap_or_default();
    let token = signer.mint(user, exp, &extra);
    let decoded = jwt::decode(&token).map_err(|e| anyhow::anyhow!("{e}"))?;
    out.report(&MintReport {
        token: &token,
        header: Value::Object(decoded.header),
        payload: Value::Object(decoded.payload),
        expires_at: OffsetDateTime::from_unix_timestamp(exp)
            .map_or_else(|_| exp.to_string(), format_time),
    })?;
    Ok(ExitStatus::Success)
}

fn check_user(user: &str) -> Result<()> {
    if user.trim().is_empty() {
        return Err(Error::invalid("--user is empty", "name an existing InfluxDB user").into());
    }
    Ok(())
}

fn read_users(path: &std::path::Path) -> Result<Vec<String>> {
    let bytes = files::read_input(path)?;
    let mut users = Vec::new();
    for line in bytes.lines() {
        let line = line.with_context(|| format!("'{}' is not text", path.display()))?;
        let user = line.trim();
        if !user.is_empty() && !user.starts_with('#') {
            users.push(user.to_owned());
        }
    }
    if users.is_empty() {
        return Err(Error::invalid(
            format!("'{}' names no users", path.display()),
            "one user per line",
        )
        .into());
    }
    Ok(users)
}

fn read_token(arg: &str) -> Result<String> {
    if arg != "-" {
        return Ok(arg.trim().to_owned());
    }
    let mut token = String::new();
    std::io::stdin()
        .lock()
        .take(1024 * 1024)
        .read_to_string(&mut token)
        .context("cannot read the token from stdin")?;
    Ok(token.trim().to_owned())
}

#[derive(Serialize)]
struct VerifyReport {
    valid: bool,
    reason: Option<String>,
    header: Option<Value>,
    payload: Option<Value>,
}

fn verify(args: &JwtVerifyArgs, out: &mut Output) -> Result<ExitStatus> {
    let token = read_token(&args.token)?;
    let secret = read_secret(&args.secret.source(), out)?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let expect = Expectations {
        now,
        leeway: crate::duration::whole_seconds(args.leeway),
        username: args.user.as_deref(),
    };
    let result = jwt::verify(&token, &secret, &expect);
    drop(secret);
    let report = match &result {
        Ok(d) => VerifyReport {
            valid: true,
            reason: None,
            header: Some(Value::Object(d.header.clone())),
            payload: Some(Value::Object(d.payload.clone())),
        },
        Err(e) => VerifyReport {
            valid: false,
            reason: Some(e.to_string()),
            header: None,
            payload: None,
        },
    };
    out.report(&report)?;
    Ok(ExitStatus::from_ok(report.valid))
}

fn decode(args: &JwtDecodeArgs, out: &mut Output) -> Result<ExitStatus> {
    let token = read_token(&args.token)?;
    let decoded = jwt::decode(&token).map_err(|e| {
        Error::invalid(
            e.to_string(),
            "give the whole token: HEADER.PAYLOAD.SIGNATURE",
        )
    })?;
    out.report(&DecodeReport {
        verified: false,
        header: Value::Object(decoded.header),
        payload: Value::Object(decoded.payload),
    })?;
    Ok(ExitStatus::Success)
}

/// What `jwt decode` shows: the token's parts, marked as not verified.
#[derive(Serialize)]
struct DecodeReport {
    verified: bool,
    header: Value,
    payload: Value,
}

impl Report for DecodeReport {
    fn ok(&self) -> bool {
        true
    }

    fn text(&self) -> Text {
        let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
        Text::data(format!(
            "NOT VERIFIED (decode does not check the signature; use `certtool jwt verify`)\nheader:\n{}\npayload:\n{}",
            pretty(&self.header),
            pretty(&self.payload)
        ))
    }
}

impl Report for MintReport<'_> {
    fn ok(&self) -> bool {
        true
    }

    fn text(&self) -> Text {
        Text::data(self.token.to_owned())
    }
}

impl Report for VerifyReport {
    fn ok(&self) -> bool {
        self.valid
    }

    fn text(&self) -> Text {
        if let Some(reason) = &self.reason {
            return Text::listing(format!("invalid: {reason}"));
        }
        let user = self
            .payload
            .as_ref()
            .and_then(|p| p["username"].as_str())
            .unwrap_or_default();
        Text::listing(format!(
            "valid: token for '{}'",
            crate::text::sanitize(user)
        ))
    }
}
