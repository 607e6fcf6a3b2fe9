//! Private keys: generating them per key type and reading existing ones.
//!
//! Pure: no file or terminal I/O. Generated keys are serialised as PKCS#8 PEM and held in
//! `Zeroizing` buffers. Reading accepts the forms operators have lying around: PKCS#8
//! (`PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`) and PKCS#1 (`RSA PRIVATE KEY`).

use anyhow::{Context, Result, anyhow};
use ring::signature::{self as ring_sig, KeyPair as _};
use rustls_pki_types::PrivatePkcs8KeyDer;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::error::Error;

/// The key types certtool generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize)]
pub enum KeyType {
    /// ECDSA on P-256 (default): small, fast, accepted everywhere.
    #[default]
    #[value(name = "ecdsa-p256")]
    #[serde(rename = "ecdsa-p256")]
    EcdsaP256,
    /// ECDSA on P-384.
    #[value(name = "ecdsa-p384")]
    #[serde(rename = "ecdsa-p384")]
    EcdsaP384,
    /// Ed25519: fast, but not supported by every client (no TLS 1.2 in some stacks).
    #[value(name = "ed25519")]
    #[serde(rename = "ed25519")]
    Ed25519,
    /// RSA 2048 bits, for old clients.
    #[value(name = "rsa-2048")]
    #[serde(rename = "rsa-2048")]
    Rsa2048,
    /// RSA 3072 bits.
    #[value(name = "rsa-3072")]
    #[serde(rename = "rsa-3072")]
    Rsa3072,
    /// RSA 4096 bits.
    #[value(name = "rsa-4096")]
    #[serde(rename = "rsa-4096")]
    Rsa4096,
}

impl KeyType {
    pub const ALL: [KeyType; 6] = [
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::Ed25519,
        KeyType::Rsa2048,
        KeyType::Rsa3072,
        KeyType::Rsa4096,
    ];

    /// The name used on the command line and in JSON.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            KeyType::EcdsaP256 => "ecdsa-p256",
            KeyType::EcdsaP384 => "ecdsa-p384",
            KeyType::Ed25519 => "ed25519",
            KeyType::Rsa2048 => "rsa-2048",
            KeyType::Rsa3072 => "rsa-3072",
            KeyType::Rsa4096 => "rsa-4096",
        }
    }

    /// The signature algorithm certificates signed by this key use.
    #[must_use]
    pub fn signature_algorithm(self) -> &'static rcgen::SignatureAlgorithm {
        match self {
            KeyType::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyType::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyType::Ed25519 => &rcgen::PKCS_ED25519,
            KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => &rcgen::PKCS_RSA_SHA256,
        }
    }

    #[must_use]
    pub fn is_rsa(self) -> bool {
        matches!(self, KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096)
    }
}

impl std::fmt::Display for KeyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Generate a new key pair of `key_type`.
pub fn generate(key_type: KeyType) -> Result<rcgen::KeyPair> {
    let failed = || anyhow!("cannot generate a {key_type} key");
    let pkcs8 = match key_type {
        KeyType::EcdsaP256 | KeyType::EcdsaP384 => {
            return rcgen::KeyPair::generate_for(key_type.signature_algorithm())
                .map_err(|_| failed());
        }
        // ring writes Ed25519 keys as PKCS#8 v2 (with the public key), which OpenSSL 3.0 cannot
        // load; aws-lc-rs writes the plain v1 form (RFC 8410) that every tool reads. The seed
        // comes from ring's RNG: seeding aws-lc's own RNG costs ~30 ms of start-up.
        KeyType::Ed25519 => {
            let mut seed = Zeroizing::new([0u8; 32]);
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), seed.as_mut())
                .map_err(|_| failed())?;
            aws_lc_rs::signature::Ed25519KeyPair::from_seed_unchecked(seed.as_ref())
                .map_err(|_| failed())?
                .to_pkcs8v1()
                .map_err(|_| failed())?
                .as_ref()
                .to_vec()
        }
        // ring signs with RSA keys but cannot generate them; aws-lc-rs generates them in about
        // half of OpenSSL's time (the pure-Rust `rsa` crate takes about 1.5 times as long).
        KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => {
            let size = match key_type {
                KeyType::Rsa2048 => aws_lc_rs::rsa::KeySize::Rsa2048,
                KeyType::Rsa3072 => aws_lc_rs::rsa::KeySize::Rsa3072,
                _ => aws_lc_rs::rsa::KeySize::Rsa4096,
            };
            let rsa = aws_lc_rs::rsa::KeyPair::generate(size).map_err(|_| failed())?;
            aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&rsa)
                .map_err(|_| failed())?
                .as_ref()
                .to_vec()
        }
    };
    let pkcs8 = Zeroizing::new(pkcs8);
    rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
        &PrivatePkcs8KeyDer::from(pkcs8.as_slice()),
        key_type.signature_algorithm(),
    )
    .with_context(|| format!("cannot load the generated {key_type} key"))
}

/// The PKCS#8 PEM of a key pair, zeroized when dropped.
#[must_use]
pub fn to_pem(key: &rcgen::KeyPair) -> Zeroizing<String> {
    Zeroizing::new(key.serialize_pem())
}

/// What we know about a private key read from a file. Holds no secret material.
#[derive(Debug, Clone, Serialize)]
pub struct PrivateKeyInfo {
    /// e.g. "ECDSA P-256", "Ed25519", "RSA".
    pub algorithm: String,
    pub bits: u32,
    /// "PKCS#8", "SEC1" or "PKCS#1".
    pub format: &'static str,
    /// The public key, in the form of a certificate's subjectPublicKey bit string.
    #[serde(skip)]
    pub public_key: Vec<u8>,
}

/// Read a private key from a PEM block's label and DER contents.
pub fn parse_private_key(label: &str, der: &[u8]) -> Result<PrivateKeyInfo> {
    match label {
        "PRIVATE KEY" => parse_pkcs8(der),
        "EC PRIVATE KEY" => parse_sec1(der),
        "RSA PRIVATE KEY" => {
            let key = ring_sig::RsaKeyPair::from_der(der)
                .map_err(|e| anyhow!("not a usable PKCS#1 RSA private key ({e})"))?;
            Ok(rsa_info(&key, "PKCS#1"))
        }
        "ENCRYPTED PRIVATE KEY" => Err(Error::invalid(
            "the private key is encrypted",
            "decrypt it first: openssl pkey -in KEY -out KEY.plain (keep KEY.plain at mode 0600)",
        )
        .into()),
        "OPENSSH PRIVATE KEY" => Err(Error::invalid(
            "this is an OpenSSH key, not a TLS private key",
            "TLS keys start with -----BEGIN PRIVATE KEY-----",
        )
        .into()),
        other => Err(anyhow!("unsupported private key type '{other}'")),
    }
}

/// Load a private key (PKCS#8, SEC1 or PKCS#1 DER) so it can sign, with what we know of it.
///
/// ring signs only from PKCS#8, so SEC1 and PKCS#1 keys (as `openssl ecparam -genkey` and old
/// `openssl genrsa` write them) are re-encoded as PKCS#8 in memory first, through aws-lc-rs.
pub fn load_signing_key(label: &str, der: &[u8]) -> Result<(rcgen::KeyPair, PrivateKeyInfo)> {
    let info = parse_private_key(label, der)?;
    let failed = || anyhow!("cannot use the {} private key for signing", info.algorithm);
    let pkcs8 = Zeroizing::new(match label {
        "EC PRIVATE KEY" => {
            let alg = if info.bits == 384 {
                &aws_lc_rs::signature::ECDSA_P384_SHA384_ASN1_SIGNING
            } else {
                &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING
            };
            aws_lc_rs::signature::EcdsaKeyPair::from_private_key_der(alg, der)
                .map_err(|_| failed())?
                .to_pkcs8v1()
                .map_err(|_| failed())?
                .as_ref()
                .to_vec()
        }
        "RSA PRIVATE KEY" => {
            let rsa = aws_lc_rs::rsa::KeyPair::from_der(der).map_err(|_| failed())?;
            aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&rsa)
                .map_err(|_| failed())?
                .as_ref()
                .to_vec()
        }
        _ => der.to_vec(),
    });
    let key = rcgen::KeyPair::try_from(&rustls_pki_types::PrivateKeyDer::Pkcs8(
        PrivatePkcs8KeyDer::from(pkcs8.as_slice()),
    ))
    .map_err(|_| failed())?;
    Ok((key, info))
}

/// The key type of a public key described as `algorithm` with `bits`, for re-issuing a
/// certificate with the same kind of key.
#[must_use]
pub fn key_type_of(algorithm: &str, bits: u32) -> Option<KeyType> {
    match (algorithm, bits) {
        ("ECDSA P-256", _) => Some(KeyType::EcdsaP256),
        ("ECDSA P-384", _) => Some(KeyType::EcdsaP384),
        ("Ed25519", _) => Some(KeyType::Ed25519),
        ("RSA", 2048) => Some(KeyType::Rsa2048),
        ("RSA", 3072) => Some(KeyType::Rsa3072),
        ("RSA", 4096) => Some(KeyType::Rsa4096),
        _ => None,
    }
}

fn parse_pkcs8(der: &[u8]) -> Result<PrivateKeyInfo> {
    if let Ok(key) = ring_sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
        return Ok(PrivateKeyInfo {
            algorithm: "Ed25519".to_owned(),
            bits: 256,
            format: "PKCS#8",
            public_key: key.public_key().as_ref().to_vec(),
        });
    }
    let rng = ring::rand::SystemRandom::new();
    for (alg, name, bits) in [
        (
            &ring_sig::ECDSA_P256_SHA256_ASN1_SIGNING,
            "ECDSA P-256",
            256,
        ),
        (
            &ring_sig::ECDSA_P384_SHA384_ASN1_SIGNING,
            "ECDSA P-384",
            384,
        ),
    ] {
        if let Ok(key) = ring_sig::EcdsaKeyPair::from_pkcs8(alg, der, &rng) {
            return Ok(PrivateKeyInfo {
                algorithm: name.to_owned(),
                bits,
                format: "PKCS#8",
                public_key: key.public_key().as_ref().to_vec(),
            });
        }
    }
    match ring_sig::RsaKeyPair::from_pkcs8(der) {
        Ok(key) => Ok(rsa_info(&key, "PKCS#8")),
        Err(e) => Err(anyhow!(
            "not a supported private key (ECDSA P-256/P-384, Ed25519 or RSA >= 2048 bits): {e}"
        )),
    }
}

fn parse_sec1(der: &[u8]) -> Result<PrivateKeyInfo> {
    use aws_lc_rs::signature::{self as lc_sig, KeyPair as _};
    for (alg, name, bits) in [
        (&lc_sig::ECDSA_P256_SHA256_ASN1_SIGNING, "ECDSA P-256", 256),
        (&lc_sig::ECDSA_P384_SHA384_ASN1_SIGNING, "ECDSA P-384", 384),
    ] {
        if let Ok(key) = lc_sig::EcdsaKeyPair::from_private_key_der(alg, der) {
            return Ok(PrivateKeyInfo {
                algorithm: name.to_owned(),
                bits,
                format: "SEC1",
                public_key: key.public_key().as_ref().to_vec(),
            });
        }
    }
    Err(anyhow!(
        "not a supported EC private key (only P-256 and P-384 are supported)"
    ))
}

fn rsa_info(key: &ring_sig::RsaKeyPair, format: &'static str) -> PrivateKeyInfo {
    PrivateKeyInfo {
        algorithm: "RSA".to_owned(),
        bits: u32::try_from(key.public().modulus_len() * 8).unwrap_or(u32::MAX),
        format,
        public_key: key.public_key().as_ref().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_back_with_the_right_type() {
        for (key_type, algorithm, bits) in [
            (KeyType::EcdsaP256, "ECDSA P-256", 256),
            (KeyType::EcdsaP384, "ECDSA P-384", 384),
            (KeyType::Ed25519, "Ed25519", 256),
            (KeyType::Rsa2048, "RSA", 2048),
        ] {
            let key = generate(key_type).unwrap();
            let pem = pem::parse(to_pem(&key).as_bytes()).unwrap();
            assert_eq!(pem.tag(), "PRIVATE KEY");
            let info = parse_private_key(pem.tag(), pem.contents()).unwrap();
            assert_eq!(info.algorithm, algorithm);
            assert_eq!(info.bits, bits);
            assert_eq!(info.format, "PKCS#8");
            assert_eq!(info.public_key, key.public_key_raw(), "{key_type}");
        }
    }

    #[test]
    fn encrypted_and_ssh_keys_get_hints() {
        for label in ["ENCRYPTED PRIVATE KEY", "OPENSSH PRIVATE KEY"] {
            let err = parse_private_key(label, b"x").unwrap_err();
            assert!(crate::error::hint_for(&err).is_some(), "{label}");
        }
    }

    #[test]
    fn garbage_der_is_an_error_not_a_panic() {
        for label in ["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"] {
            assert!(parse_private_key(label, &[0x30, 0x03, 0x02, 0x01]).is_err());
        }
    }

    #[test]
    fn sec1_keys_load_for_signing() {
        use aws_lc_rs::encoding::AsDer;
        let ec = aws_lc_rs::signature::EcdsaKeyPair::generate(
            &aws_lc_rs::signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        )
        .unwrap();
        let sec1 = ec.private_key().as_der().unwrap();
        let (key, info) = load_signing_key("EC PRIVATE KEY", sec1.as_ref()).unwrap();
        assert_eq!(info.algorithm, "ECDSA P-384");
        assert_eq!(key.public_key_raw(), info.public_key.as_slice());
        assert_eq!(key_type_of("RSA", 2048), Some(KeyType::Rsa2048));
        assert_eq!(key_type_of("RSA", 1024), None);
    }

    #[test]
    fn key_type_names_match_clap_values() {
        use clap::ValueEnum;
        for kt in KeyType::ALL {
            let value = kt.to_possible_value().unwrap();
            assert_eq!(value.get_name(), kt.name());
        }
    }
}
