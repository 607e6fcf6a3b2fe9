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

use super::error::PkiError;
use super::pkcs8::{self, P256, P384};

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
        // ring would write Ed25519 keys as PKCS#8 v2, which OpenSSL 3.0 cannot load: take a
        // seed from ring's RNG and write the v1 form.
        KeyType::Ed25519 => {
            let mut seed = Zeroizing::new([0u8; 32]);
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), seed.as_mut())
                .map_err(|_| failed())?;
            pkcs8::from_ed25519_seed(&seed)
        }
        KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => generate_rsa(key_type)?,
    };
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

/// What we know about a private key read from a file. Holds no secret material. In JSON:
/// `{"key_type": "ecdsa-p256", "key_bits": 256, "format": "PKCS#8"}`, as certificates say it.
#[derive(Debug, Clone)]
pub struct PrivateKeyInfo {
    /// e.g. "ECDSA P-256", "Ed25519", "RSA".
    pub algorithm: String,
    pub bits: u32,
    /// "PKCS#8", "SEC1" or "PKCS#1".
    pub format: &'static str,
    /// The public key, in the form of a certificate's subjectPublicKey bit string.
    pub public_key: Vec<u8>,
}

impl Serialize for PrivateKeyInfo {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut key = s.serialize_struct("PrivateKeyInfo", 3)?;
        key.serialize_field(
            "key_type",
            key_type_of(&self.algorithm, self.bits).map_or("other", KeyType::name),
        )?;
        key.serialize_field("key_bits", &self.bits)?;
        key.serialize_field("format", self.format)?;
        key.end()
    }
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
        "ENCRYPTED PRIVATE KEY" => Err(encrypted_key_error()),
        "OPENSSH PRIVATE KEY" => Err(PkiError::OpenSshKey.into()),
        other => Err(anyhow!(
            "unsupported private key type '{}'",
            super::parse::quoted_label(other)
        )),
    }
}

/// The error for a key encrypted with a passphrase (PKCS#8 `ENCRYPTED PRIVATE KEY`, or a
/// traditional key with a `Proc-Type: 4,ENCRYPTED` header): services cannot read it either.
#[must_use]
pub fn encrypted_key_error() -> anyhow::Error {
    PkiError::EncryptedKey.into()
}

/// Load a private key (PKCS#8, SEC1 or PKCS#1 DER) so it can sign, with what we know of it.
///
/// ring signs only from PKCS#8, so SEC1 and PKCS#1 keys (as `openssl ecparam -genkey` and old
/// `openssl genrsa` write them) are wrapped as PKCS#8 in memory first.
pub fn load_signing_key(label: &str, der: &[u8]) -> Result<(rcgen::KeyPair, PrivateKeyInfo)> {
    let info = parse_private_key(label, der)?;
    let failed = || anyhow!("cannot use the {} private key for signing", info.algorithm);
    let pkcs8 = match label {
        "EC PRIVATE KEY" => pkcs8::from_sec1(if info.bits == 384 { P384 } else { P256 }, der),
        "RSA PRIVATE KEY" => pkcs8::from_pkcs1(der),
        _ => Zeroizing::new(der.to_vec()),
    };
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
    let rng = ring::rand::SystemRandom::new();
    for (curve, alg, name, bits) in [
        (
            P256,
            &ring_sig::ECDSA_P256_SHA256_ASN1_SIGNING,
            "ECDSA P-256",
            256,
        ),
        (
            P384,
            &ring_sig::ECDSA_P384_SHA384_ASN1_SIGNING,
            "ECDSA P-384",
            384,
        ),
    ] {
        // ring checks the curve named inside the key against the wrapper's and the key's length.
        if let Ok(key) =
            ring_sig::EcdsaKeyPair::from_pkcs8(alg, &pkcs8::from_sec1(curve, der), &rng)
        {
            return Ok(PrivateKeyInfo {
                algorithm: name.to_owned(),
                bits,
                format: "SEC1",
                public_key: key.public_key().as_ref().to_vec(),
            });
        }
    }
    Err(anyhow!(
        "not a supported EC private key (only P-256 and P-384 keys that include their public key are supported)"
    ))
}

/// A new RSA key as PKCS#8. ring signs with RSA keys but cannot generate them; graviola
/// generates them in about a quarter of OpenSSL's time and costs nothing at start-up (aws-lc-rs,
/// used before, added about 0.1 ms to every run; the pure-Rust `rsa` crate takes about 1.5
/// times as long as OpenSSL).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn generate_rsa(key_type: KeyType) -> Result<Zeroizing<Vec<u8>>> {
    use graviola::signing::rsa::{KeySize, SigningKey};
    if !rsa_instructions_present() {
        return Err(PkiError::RsaUnsupportedCpu.into());
    }
    let size = match key_type {
        KeyType::Rsa2048 => KeySize::Rsa2048,
        KeyType::Rsa3072 => KeySize::Rsa3072,
        _ => KeySize::Rsa4096,
    };
    let failed = || anyhow!("cannot generate a {key_type} key");
    let key = SigningKey::generate(size).map_err(|_| failed())?;
    let mut buf = Zeroizing::new(vec![0u8; 8192]);
    let len = key.to_pkcs8_der(&mut buf).map_err(|_| failed())?.len();
    buf.truncate(len);
    Ok(buf)
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn generate_rsa(_key_type: KeyType) -> Result<Zeroizing<Vec<u8>>> {
    Err(PkiError::RsaUnsupportedArch.into())
}

/// graviola asserts these at its first use: check first, so a missing one is an error, not a panic.
#[cfg(target_arch = "x86_64")]
fn rsa_instructions_present() -> bool {
    is_x86_feature_detected!("aes")
        && is_x86_feature_detected!("pclmulqdq")
        && is_x86_feature_detected!("ssse3")
        && is_x86_feature_detected!("avx")
        && is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("bmi1")
        && is_x86_feature_detected!("bmi2")
        && is_x86_feature_detected!("adx")
}

#[cfg(target_arch = "aarch64")]
fn rsa_instructions_present() -> bool {
    std::arch::is_aarch64_feature_detected!("aes")
        && std::arch::is_aarch64_feature_detected!("sha2")
        && std::arch::is_aarch64_feature_detected!("pmull")
        && std::arch::is_aarch64_feature_detected!("neon")
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
    fn encrypted_and_ssh_keys_are_named() {
        for (label, want) in [
            ("ENCRYPTED PRIVATE KEY", PkiError::EncryptedKey),
            ("OPENSSH PRIVATE KEY", PkiError::OpenSshKey),
        ] {
            let err = parse_private_key(label, b"x").unwrap_err();
            assert_eq!(err.downcast_ref::<PkiError>(), Some(&want), "{label}");
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
        // A throwaway key from `openssl ecparam -name secp384r1 -genkey -noout`.
        const SEC1_P384: &str = "-----BEGIN EC PRIVATE KEY-----
MIGkAgEBBDCA2gaxxFLzQHZy0Ca1JW35YPE0ym7GSQNBFAxeEmx6hHlzkJpn/mnH
zNyCnMYymgygBwYFK4EEACKhZANiAARbrl/gFQSLDzoD/oT9NFWBGcewGD7tSD6J
IO5EinmU/OkjCt8kVO62QHiLTaXYyvh2Nh503Ufw2zlIufftkaCzkJgU8cL4sOhD
o62pI4hEkXjjc40rSU47l+Dw6rBaIZc=
-----END EC PRIVATE KEY-----
";
        let sec1 = pem::parse(SEC1_P384).unwrap().into_contents();
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
