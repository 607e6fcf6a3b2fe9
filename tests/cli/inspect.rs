//! `certtool inspect`: certificates, chains, keys, key matching and bad input.

use std::fs;
use std::process::Command;

use serde_json::Value;

use crate::support::{TestEnv, assert_input_error, require_tool, run, stderr, stdout};

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

#[test]
fn shows_everything_about_a_certificate() {
    let env = TestEnv::new();
    env.selfsigned(&[
        "--host",
        "influx.test",
        "--host",
        "10.1.2.3",
        "--days",
        "90",
    ]);
    let out = env
        .cmd()
        .args(["inspect", "influx.test.crt"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for expected in [
        "certificate 1 of 1",
        "subject:     CN=influx.test",
        "issuer:      CN=influx.test",
        "SANs:        DNS:influx.test, IP:10.1.2.3",
        "key:         ECDSA P-256 (256 bits)",
        "signature:   ecdsa-with-SHA256",
        "CA:          no",
        "self-signed: yes",
        "(90 days left)",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn fingerprint_and_serial_agree_with_openssl() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost"]);
    let v = json(
        &env.cmd()
            .args(["inspect", "localhost.crt", "--json"])
            .output()
            .unwrap(),
    );
    let cert = &v["certificates"][0];
    let fp = stdout(&run(Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(env.path("localhost.crt"))));
    assert_eq!(
        fp.trim(),
        format!(
            "sha256 Fingerprint={}",
            cert["sha256_fingerprint"].as_str().unwrap()
        )
    );
    let serial = stdout(&run(Command::new("openssl")
        .args(["x509", "-noout", "-serial", "-in"])
        .arg(env.path("localhost.crt"))));
    assert_eq!(
        serial.trim(),
        format!(
            "serial={}",
            cert["serial"].as_str().unwrap().replace(':', "")
        )
    );
}

#[test]
fn key_match_and_mismatch() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "a.test"]);
    env.selfsigned(&["--host", "b.test"]);
    let out = env
        .cmd()
        .args(["inspect", "a.test.crt", "--key", "a.test.key"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("key matches certificate: yes"));
    let out = env
        .cmd()
        .args(["inspect", "a.test.crt", "--key", "b.test.key"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "mismatch is a 'no', exit 1");
    assert!(stdout(&out).contains("key matches certificate: NO"));
    let out = env
        .cmd()
        .args(["inspect", "a.test.crt", "--key", "b.test.key", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["key_matches"], false);
}

#[test]
fn bundles_and_chains_show_each_block() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "a.test", "--bundle", "a.pem"]);
    env.selfsigned(&["--host", "b.test"]);
    let out = env.cmd().args(["inspect", "a.pem"]).output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("private key: ECDSA P-256 (256 bits, PKCS#8)"),
        "{text}"
    );
    assert!(text.contains("key matches certificate: yes"), "{text}");

    let chain = format!(
        "{}{}",
        fs::read_to_string(env.path("a.test.crt")).unwrap(),
        fs::read_to_string(env.path("b.test.crt")).unwrap()
    );
    env.write("chain.crt", chain);
    let v = json(
        &env.cmd()
            .args(["inspect", "chain.crt", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(v["certificates"].as_array().unwrap().len(), 2);
    assert_eq!(v["certificates"][1]["subject"], "CN=b.test");
    assert!(v["key_matches"].is_null());
}

#[test]
fn keys_made_by_openssl_in_every_format_are_recognised() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    let cases: [(&str, &[&str], &str); 4] = [
        (
            "sec1.key",
            &[
                "ecparam",
                "-genkey",
                "-name",
                "prime256v1",
                "-noout",
                "-out",
            ],
            "ECDSA P-256 (256 bits, SEC1)",
        ),
        (
            "pkcs1.key",
            &["genrsa", "-traditional", "-out"],
            "RSA (2048 bits, PKCS#1)",
        ),
        (
            "p384.key",
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-384",
                "-out",
            ],
            "ECDSA P-384 (384 bits, PKCS#8)",
        ),
        (
            "ed.key",
            &["genpkey", "-algorithm", "ED25519", "-out"],
            "Ed25519 (256 bits, PKCS#8)",
        ),
    ];
    for (name, args, expected) in cases {
        let mut cmd = Command::new("openssl");
        cmd.args(args).arg(env.path(name));
        if name == "pkcs1.key" {
            cmd.arg("2048");
        }
        assert!(run(&mut cmd).status.success(), "openssl {args:?}");
        let out = env.cmd().args(["inspect", name]).output().unwrap();
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert!(stdout(&out).contains(expected), "{name}: {}", stdout(&out));
    }
    // A certificate made by openssl for the SEC1 key matches it.
    let out = run(Command::new("openssl")
        .args(["req", "-x509", "-new", "-key"])
        .arg(env.path("sec1.key"))
        .args(["-subj", "/CN=legacy", "-days", "1", "-out"])
        .arg(env.path("legacy.crt")));
    assert!(out.status.success());
    let out = env
        .cmd()
        .args(["inspect", "legacy.crt", "--key", "sec1.key"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // openssl req -x509 marks its certificates CA:TRUE; inspect says so.
    assert!(
        stdout(&out).contains("CA:          yes"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn der_certificates_are_read() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost"]);
    let out = run(Command::new("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(env.path("localhost.crt"))
        .arg("-out")
        .arg(env.path("localhost.der")));
    assert!(out.status.success());
    let out = env
        .cmd()
        .args(["inspect", "localhost.der"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("CN=localhost"));
}

#[test]
fn expired_certificates_are_reported_not_errors() {
    let env = TestEnv::new();
    env.selfsigned(&[
        "--host",
        "old.test",
        "--not-before",
        "2020-01-01",
        "--not-after",
        "2020-06-01",
    ]);
    let out = env
        .cmd()
        .args(["inspect", "old.test.crt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("EXPIRED"), "{}", stdout(&out));
    let v = json(
        &env.cmd()
            .args(["inspect", "old.test.crt", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(v["certificates"][0]["status"], "expired");
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let env = TestEnv::new();
    env.selfsigned(&["--host", "localhost"]);
    let cert = fs::read_to_string(env.path("localhost.crt")).unwrap();
    env.write("garbage.pem", "this is not a certificate\n");
    env.write("empty.pem", "");
    env.write("truncated.pem", &cert[..cert.len() / 2]);
    env.write("binary.bin", [0x30u8, 0x82, 0x01, 0x00, 0xde, 0xad]);
    env.write(
        "csr.pem",
        "-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n",
    );
    env.write(
        "badbody.pem",
        "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
    );
    fs::create_dir(env.path("adir")).unwrap();
    for (file, expected) in [
        ("garbage.pem", "not a PEM or DER"),
        ("empty.pem", "not a PEM or DER"),
        ("truncated.pem", "truncated"),
        ("binary.bin", "not a PEM or DER"),
        ("csr.pem", "CERTIFICATE REQUEST"),
        ("badbody.pem", "PEM"),
        ("missing.pem", "No such file"),
        ("adir", "is a directory"),
    ] {
        let out = env.cmd().args(["inspect", file]).output().unwrap();
        let err = assert_input_error(&out);
        assert!(err.contains(expected), "{file}: {err}");
        assert!(stdout(&out).is_empty(), "{file}");
    }
    // --key naming a file without a key.
    let out = env
        .cmd()
        .args(["inspect", "localhost.crt", "--key", "localhost.crt"])
        .output()
        .unwrap();
    assert!(assert_input_error(&out).contains("holds no private key"));
}

#[test]
fn control_characters_in_subjects_are_escaped() {
    if !require_tool("openssl") {
        return;
    }
    let env = TestEnv::new();
    let out = run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .args(["-keyout"])
        .arg(env.path("evil.key"))
        .args(["-out"])
        .arg(env.path("evil.crt"))
        .args([
            "-days",
            "1",
            "-multivalue-rdn",
            "-utf8",
            "-subj",
            "/CN=evil\u{1b}[2J",
        ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.cmd().args(["inspect", "evil.crt"]).output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(!text.contains('\u{1b}'), "raw escape printed: {text:?}");
}
