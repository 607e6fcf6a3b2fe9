//! PKCS#8 v1 (RFC 5208) wrappers around private keys held in their algorithm's own DER form:
//! SEC1 EC keys and PKCS#1 RSA keys as OpenSSL writes them, and Ed25519 seeds.
//!
//! v1 on purpose: it is what every tool reads. ring writes Ed25519 keys as PKCS#8 v2 (with the
//! public key), which OpenSSL 3.0 cannot load.
//!
//! Pure DER wrapping; it must not read files or keep key bytes beyond the returned buffer.

use yasna::models::ObjectIdentifier;
use zeroize::Zeroizing;

/// id-ecPublicKey (RFC 5480).
const EC_PUBLIC_KEY: &[u64] = &[1, 2, 840, 10045, 2, 1];
/// The named curves certtool uses (RFC 5480).
pub const P256: &[u64] = &[1, 2, 840, 10045, 3, 1, 7];
pub const P384: &[u64] = &[1, 3, 132, 0, 34];
/// rsaEncryption (RFC 8017).
const RSA_ENCRYPTION: &[u64] = &[1, 2, 840, 113_549, 1, 1, 1];
/// id-Ed25519 (RFC 8410).
const ED25519: &[u64] = &[1, 3, 101, 112];

/// The parameters of a key's `AlgorithmIdentifier`.
enum Parameters {
    /// Ed25519: no parameters at all (RFC 8410).
    Absent,
    /// RSA: an explicit NULL (RFC 8017).
    Null,
    /// EC: the named curve.
    Curve(&'static [u64]),
}

/// A SEC1 `ECPrivateKey` on `curve` (one of [`P256`], [`P384`]) as PKCS#8.
#[must_use]
pub fn from_sec1(curve: &'static [u64], sec1: &[u8]) -> Zeroizing<Vec<u8>> {
    wrap(EC_PUBLIC_KEY, &Parameters::Curve(curve), sec1)
}

/// A PKCS#1 `RSAPrivateKey` as PKCS#8.
#[must_use]
pub fn from_pkcs1(pkcs1: &[u8]) -> Zeroizing<Vec<u8>> {
    wrap(RSA_ENCRYPTION, &Parameters::Null, pkcs1)
}

/// An Ed25519 private key (its 32-byte seed) as PKCS#8 v1.
#[must_use]
pub fn from_ed25519_seed(seed: &[u8; 32]) -> Zeroizing<Vec<u8>> {
    // The private key is itself an OCTET STRING (CurvePrivateKey, RFC 8410 section 7).
    let inner = Zeroizing::new(yasna::construct_der(|w| w.write_bytes(seed)));
    wrap(ED25519, &Parameters::Absent, &inner)
}

fn wrap(algorithm: &[u64], parameters: &Parameters, key: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_u8(0);
            w.next().write_sequence(|w| {
                w.next().write_oid(&ObjectIdentifier::from_slice(algorithm));
                match parameters {
                    Parameters::Absent => {}
                    Parameters::Null => w.next().write_null(),
                    Parameters::Curve(curve) => {
                        w.next().write_oid(&ObjectIdentifier::from_slice(curve));
                    }
                }
            });
            w.next().write_bytes(key);
        });
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ed25519_is_the_rfc_8410_v1_form() {
        let seed = [7u8; 32];
        let der = from_ed25519_seed(&seed);
        // RFC 8410 section 10.3's example, with our seed.
        let mut expected = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        expected.extend_from_slice(&seed);
        assert_eq!(der.as_slice(), expected.as_slice());
        assert!(ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).is_ok());
    }
}
