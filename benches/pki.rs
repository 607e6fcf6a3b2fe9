//! In-process cost of the crypto and certificate work, per key type.
//!
//! Whole-process comparisons against openssl live in `benches/compare.sh`; this bench isolates
//! what certtool itself spends, so a regression in key generation or signing shows up here.

use std::hint::black_box;

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
        validity: Validity::from_flags(OffsetDateTime::now_utc(), Some(365), None, None, 365)
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

criterion_group!(benches, selfsigned);
criterion_main!(benches);
