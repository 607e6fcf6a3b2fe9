//! One in-process TLS handshake (and request/response) with the integrated server over
//! loopback, per key type: what `certtool verify` spends per check, without process start-up.

use std::hint::black_box;
use std::net::TcpListener;
use std::time::Duration;

use certtool::pki::cert::{LeafSpec, self_signed};
use certtool::pki::{Host, KeyType, Validity};
use certtool::verify::local::{self, ServedPair};
use certtool::verify::trust::PinnedVerifier;
use certtool::verify::{client, duplex};
use criterion::{Criterion, criterion_group, criterion_main};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::OffsetDateTime;

fn pair(key_type: KeyType) -> ServedPair {
    let issued = self_signed(&LeafSpec {
        hosts: vec![Host::parse("localhost").expect("valid host")],
        validity: Validity::new(OffsetDateTime::now_utc(), Some(30), None, None, 30)
            .expect("valid period"),
        key_type,
    })
    .expect("certificate");
    let key = pem::parse(issued.key_pem.as_bytes()).expect("PEM key");
    ServedPair {
        chain: vec![CertificateDer::from(issued.cert_der)],
        key: local::rustls_signing_key(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            key.contents().to_vec(),
        )))
        .expect("key"),
    }
}

fn handshake(c: &mut Criterion) {
    let mut group = c.benchmark_group("handshake");
    for key_type in [KeyType::EcdsaP256, KeyType::Ed25519, KeyType::Rsa2048] {
        let pair = pair(key_type);
        let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
        let server_config = pair.server_config().expect("server config");
        let verifier = PinnedVerifier::arc(pair.chain[0].clone());
        for (name, version) in [
            ("tls13", &rustls::version::TLS13),
            ("tls12", &rustls::version::TLS12),
        ] {
            let config = client::client_config(version, verifier.clone()).expect("client config");
            group.bench_function(format!("{}/{name}", key_type.name()), |b| {
                b.iter(|| {
                    duplex::check(
                        duplex::connect(&listener, Duration::from_secs(5)).expect("connect"),
                        server_config.clone(),
                        "localhost",
                        config.clone(),
                        "/",
                        Duration::from_secs(5),
                    )
                    .expect("handshake")
                });
            });
        }
        drop(black_box(listener));
    }
    group.finish();
}

criterion_group!(benches, handshake);
criterion_main!(benches);
