//! Property tests over every parser certtool exposes: PEM and DER certificates, keys, chains
//! and bundles; JWTs; TOML configs; durations, days, dates; hosts and IP ranges. Whatever the
//! input (random bytes, or a valid file mutated), a parser returns a value or an error — never a
//! panic — and no error quotes a private key's bytes.
//!
//! 130,000 cases per run (13 properties, `CASES` each); `PROPTEST_CASES` changes it. The total is
//! published in docs/reliability.md (its row is checked in tests/cli/reliability.rs).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly by design"
)]

use std::collections::HashSet;
use std::sync::LazyLock;

use certtool::config::influxdb::Kind;
use certtool::config::{apply_snippet, toml_keys};
use certtool::duration::{parse, parse_timeout};
use certtool::jwt;
use certtool::pki::KeyType;
use certtool::pki::ca::IpRange;
use certtool::pki::cert::{LeafSpec, self_signed};
use certtool::pki::names::{Host, San, parse_hosts, sans_cover};
use certtool::pki::parse::{describe_file, parse_blocks};
use certtool::pki::validity::{Validity, parse_days, parse_time};
use proptest::prelude::*;
use time::OffsetDateTime;

/// Cases per property; 13 properties make 130,000 per run.
const CASES: u32 = 10_000;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(CASES);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A certificate and its key, made once.
struct Corpus {
    cert: String,
    key: String,
    /// A certificate signing request for the same key.
    csr: String,
    key_runs: HashSet<String>,
}

static CORPUS: LazyLock<Corpus> = LazyLock::new(|| {
    let now = OffsetDateTime::now_utc();
    let issued = self_signed(&LeafSpec {
        hosts: vec![Host::parse("p.test").unwrap(), Host::parse("::1").unwrap()],
        validity: Validity::new(now, Some(30), None, None, 365).unwrap(),
        key_type: KeyType::EcdsaP256,
    })
    .unwrap();
    let key = issued.key_pem.as_str().to_owned();
    let signing = rcgen::KeyPair::from_pem(&key).unwrap();
    let spec = LeafSpec {
        hosts: vec![Host::parse("p.test").unwrap()],
        validity: Validity::new(now, Some(30), None, None, 365).unwrap(),
        key_type: KeyType::EcdsaP256,
    };
    let csr = certtool::pki::csr::request(&spec, &[], &signing)
        .unwrap()
        .pem;
    let body: String = key.lines().filter(|l| !l.starts_with("-----")).collect();
    let chars: Vec<char> = body.chars().collect();
    let key_runs = chars.windows(16).map(|w| w.iter().collect()).collect();
    Corpus {
        cert: issued.cert_pem.clone(),
        key,
        csr,
        key_runs,
    }
});

fn quotes_key(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars
        .windows(16)
        .any(|w| CORPUS.key_runs.contains(&w.iter().collect::<String>()))
}

/// A valid file (certificate, key, bundle, chain) with edits at random places.
fn mutated_pem() -> impl Strategy<Value = Vec<u8>> {
    let base = prop_oneof![
        Just(CORPUS.cert.clone()),
        Just(CORPUS.key.clone()),
        Just(format!("{}{}", CORPUS.cert, CORPUS.key)),
        Just(format!("{}{}", CORPUS.cert, CORPUS.cert)),
        Just(CORPUS.csr.clone()),
        Just(format!("{}{}", CORPUS.csr, CORPUS.key)),
    ];
    let edit = (any::<usize>(), any::<u8>(), 0..4u8);
    (base, prop::collection::vec(edit, 1..6)).prop_map(|(text, edits)| {
        let mut bytes = text.into_bytes();
        for (pos, byte, kind) in edits {
            if bytes.is_empty() {
                break;
            }
            let at = pos % bytes.len();
            match kind {
                0 => bytes[at] = byte,
                1 => {
                    bytes.remove(at);
                }
                2 => bytes.insert(at, byte),
                _ => bytes.truncate(at),
            }
        }
        bytes
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn pem_and_der_files_never_panic_or_leak(bytes in mutated_pem()) {
        let now = OffsetDateTime::now_utc();
        if let Err(e) = parse_blocks(&bytes) {
            prop_assert!(!quotes_key(&format!("{e:#}")), "{e:#}");
        }
        if let Err(e) = describe_file(&bytes, now) {
            prop_assert!(!quotes_key(&format!("{e:#}")), "{e:#}");
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_blocks(&bytes);
        let _ = describe_file(&bytes, OffsetDateTime::now_utc());
    }

    #[test]
    fn der_like_bytes_never_panic(mut bytes in prop::collection::vec(any::<u8>(), 2..400)) {
        bytes[0] = 0x30;
        let _ = describe_file(&bytes, OffsetDateTime::now_utc());
        for label in ["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"] {
            let _ = certtool::pki::keys::parse_private_key(label, &bytes);
        }
    }

    #[test]
    fn jwts_never_panic(token in "[A-Za-z0-9_.=-]{0,200}", secret in prop::collection::vec(any::<u8>(), 1..64)) {
        let _ = jwt::decode(&token);
        let expect = jwt::Expectations { now: 1_800_000_000, leeway: 30, username: None };
        let _ = jwt::verify(&token, &secret, &expect);
    }

    #[test]
    fn mutated_jwts_never_panic(pos in any::<usize>(), byte in any::<u8>()) {
        let token = jwt::Signer::new(jwt::Alg::Hs256, b"0123456789abcdef0123456789abcdef")
            .mint("telegraf", 1_900_000_000, &serde_json::Map::new());
        let mut bytes = token.into_bytes();
        let at = pos % bytes.len();
        bytes[at] = byte;
        let text = String::from_utf8_lossy(&bytes);
        let _ = jwt::decode(&text);
    }

    #[test]
    fn toml_configs_never_panic(text in "(\\[[a-z.\\[\\]\"]{0,12}\\]\n|[a-z-]{1,12} = (\"[^\"\n]{0,12}\"|[0-9]{1,5}|true|\\[\\]|\\{\\})\n|# [^\n]{0,20}\n){0,12}") {
        if let Ok(mut doc) = text.parse::<toml_edit::DocumentMut>() {
            let _ = Kind::of(&doc);
            let _ = toml_keys::set(&mut doc, &["http"], "https-enabled", true.into());
            let _ = apply_snippet(&mut doc, "[http]\n  https-enabled = true\n");
        }
    }

    #[test]
    fn durations_never_panic(input in "[0-9]{0,25}[smhdx]?|\\PC{0,12}") {
        if let Ok(d) = parse(&input) {
            prop_assert!(d.as_secs() <= 100 * 365 * 86_400);
        }
        if let Ok(d) = parse_timeout(&input) {
            prop_assert!(!d.is_zero());
        }
    }

    #[test]
    fn days_never_panic(input in "-?[0-9]{0,25}|\\PC{0,12}") {
        if let Ok(days) = parse_days(&input) {
            prop_assert!(days >= 1);
            let now = OffsetDateTime::now_utc();
            let _ = Validity::new(now, Some(days), None, None, 365);
        }
    }

    #[test]
    fn dates_never_panic(y in 0..100_000i32, m in 0..14u8, d in 0..33u8, h in 0..26u8, tail in "(Z|[+-][0-9]{2}:[0-9]{2})?") {
        let date = format!("{y:04}-{m:02}-{d:02}");
        let stamp = format!("{date}T{h:02}:00:00{tail}");
        let now = OffsetDateTime::now_utc();
        for text in [&date, &stamp] {
            if let Ok(t) = parse_time(text) {
                let _ = Validity::new(now, None, Some(t), None, 365);
                let _ = Validity::new(now, Some(36_500), Some(t), None, 365);
                let _ = Validity::new(now, None, None, Some(t), 365);
            }
        }
    }

    #[test]
    fn hosts_never_panic(input in "\\PC{0,80}|[a-z0-9*.-]{0,300}|\\[?[0-9a-f:.%]{0,50}\\]?") {
        if let Ok(host) = Host::parse(&input) {
            let _ = host.file_base();
            let san = match &host {
                Host::Dns(d) => San::Dns(d.clone()),
                Host::Ip(ip) => San::Ip(*ip),
            };
            prop_assert!(sans_cover(&[san], &input) || host.is_wildcard() || input.ends_with('.'));
        }
        let _ = parse_hosts(&[input.clone(), input]);
    }

    #[test]
    fn ipv6_zones_and_long_labels_never_panic(zone in "[0-9a-f:]{2,39}%[a-z0-9]{0,12}", label in "[a-z0-9-]{60,70}", n in 1..6usize) {
        let _ = Host::parse(&zone);
        let _ = Host::parse(&format!("[{zone}]"));
        let _ = Host::parse(&vec![label.as_str(); n].join("."));
    }

    #[test]
    fn unicode_and_idn_hosts_never_panic(labels in prop::collection::vec("[a-zé\u{4e00}-\u{4e10}xn-]{0,70}", 1..6)) {
        let _ = Host::parse(&labels.join("."));
    }

    #[test]
    fn requests_and_chains_never_panic(pem in mutated_pem()) {
        if let Ok(blocks) = parse_blocks(&pem) {
            let ders: Vec<Vec<u8>> = blocks.iter().map(|b| b.der.to_vec()).collect();
            for der in &ders {
                if let Ok(info) = certtool::pki::csr::CsrInfo::from_der(der) {
                    let _ = info.hosts();
                }
            }
            if !ders.is_empty() {
                let _ = certtool::pki::chain::build(&ders, 0, &ders, || ders.clone());
            }
        }
    }

    #[test]
    fn subjects_never_panic(input in "\\PC{0,60}|([A-Za-z]{1,3}=[^,]{0,10},?){0,6}") {
        let _ = certtool::pki::csr::parse_subject(&input);
    }

    #[test]
    fn ip_ranges_never_panic(input in "[0-9a-f:.]{0,45}(/[0-9]{0,4})?") {
        if let Ok(range) = IpRange::parse(&input) {
            let _ = range.contains("127.0.0.1".parse().unwrap());
            let _ = range.contains("::1".parse().unwrap());
        }
    }
}
