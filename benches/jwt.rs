//! In-process cost of minting and verifying InfluxDB tokens.

use std::hint::black_box;

use certtool::jwt::{Alg, Expectations, Signer, verify};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::Map;

const SECRET: &[u8] = b"k3Xv9qP2mL7wR4tY8uZ1aB6cD0eF5gH2jK9nM3pQ7sT";

fn jwt(c: &mut Criterion) {
    let signer = Signer::new(Alg::Hs256, SECRET);
    let extra = Map::new();
    c.bench_function("jwt/mint", |b| {
        b.iter(|| signer.mint(black_box("telegraf"), black_box(4_000_000_000), &extra));
    });
    let token = signer.mint("telegraf", 4_000_000_000, &extra);
    let expect = Expectations {
        now: 1_900_000_000,
        leeway: 0,
        username: Some("telegraf"),
    };
    c.bench_function("jwt/verify", |b| {
        b.iter(|| verify(black_box(&token), SECRET, &expect).is_ok());
    });
}

criterion_group!(benches, jwt);
criterion_main!(benches);
