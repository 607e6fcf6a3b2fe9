//! In-process cost of the crypto and certificate work, per key type.
//!
//! Whole-process comparisons against openssl live in `benches/compare.sh`; this bench isolates
//! what certtool itself spends, so a regression in key generation or signing shows up here.

use std::hint::black_box;

use certtool::files::{FileKind, PlannedFile, WriteOptions};
use certtool::inputs::load_ca;
use certtool::pki::ca::{CaSpec, Constraints};
use certtool::pki::cert::{LeafSpec, self_signed};
use certtool::pki::{Host, KeyType, Validity};
use criterion::{Criterion, criterion_group, criterion_main};
use time::OffsetDateTime;

fn spec(key_type: KeyType) -> LeafSpec {
    LeafSpec {
        hosts: vec![
            Host::parse("localhost").expect("valid host"),
            Host::parse("127.0.0.1").expect("valid host"),
        ],
        validity: Validity::new(OffsetDateTime::now_utc(), Some(365), None, None, 365)
            .expect("valid period"),
        key_type,
    }
}

fn selfsigned(c: &mut Criterion) {
    let mut group = c.benchmark_group("selfsigned");
    for key_type in KeyType::ALL {
        if key_type.is_rsa() {
            // RSA key generation takes tens to hundreds of milliseconds with a wide spread.
            group.sample_size(10);
        }
        let spec = spec(key_type);
        group.bench_function(key_type.name(), |b| {
            b.iter(|| self_signed(black_box(&spec)).expect("issued"));
        });
    }
    group.finish();
}

/// `ca issue` without writing: a leaf of each key type from an ECDSA P-256 CA loaded from its
/// files by the input loader (as the command does), signed and checked against the CA.
fn ca_issue(c: &mut Criterion) {
    let now = OffsetDateTime::now_utc();
    let ca = certtool::pki::ca::init(&CaSpec {
        common_name: "bench CA".to_owned(),
        validity: Validity::new(now, Some(3650), None, None, 3650).expect("valid period"),
        key_type: KeyType::EcdsaP256,
        path_len: 0,
        constraints: Constraints::default(),
    })
    .expect("CA");
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert, key) = (dir.path().join("ca.crt"), dir.path().join("ca.key"));
    certtool::files::write_all(
        &[
            PlannedFile::new(cert.clone(), FileKind::Certificate, ca.cert_pem.as_bytes()),
            PlannedFile::new(key.clone(), FileKind::PrivateKey, ca.key_pem.as_bytes()),
        ],
        WriteOptions::default(),
    )
    .expect("CA files");
    let loaded = load_ca(&cert, &key, now).expect("loaded CA");
    let mut group = c.benchmark_group("ca_issue");
    group.bench_function("load_ca", |b| {
        b.iter(|| load_ca(black_box(&cert), black_box(&key), now).expect("loaded CA"));
    });
    for key_type in KeyType::ALL {
        if key_type.is_rsa() {
            group.sample_size(10);
        }
        let spec = spec(key_type);
        group.bench_function(key_type.name(), |b| {
            b.iter(|| loaded.issue(black_box(&spec), false).expect("issued"));
        });
    }
    group.finish();
}

criterion_group!(benches, selfsigned, ca_issue);
criterion_main!(benches);
