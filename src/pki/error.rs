//! What the PKI core refuses, as typed errors in words that name no command-line flag.
//!
//! The command layer turns each into advice that does (`crate::error::hint_for`), so `pki`
//! stays usable from tests, benches and later callers (provisioning, ACME) that have no flags.
//! Every value quoted here is sanitised where it is made.
//!
//! It must not name a flag or a command: hints belong to the command layer.

/// Why a host name, date, constraint, key or CA was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkiError {
    #[error("at least one host name is required")]
    NoHosts,

    #[error("invalid host name '{input}': {why}")]
    InvalidHost { input: String, why: String },

    #[error("'{input}' is not an RFC 3339 date")]
    BadDate { input: String },

    #[error("the certificate would expire ({not_after}) before it becomes valid ({not_before})")]
    EndsBeforeStart {
        not_before: String,
        not_after: String,
    },

    #[error("the expiry date would be after the year 9999")]
    After9999,

    #[error("a validity of {days} days is out of range (1 to {max})")]
    DaysOutOfRange { days: u32, max: u32 },

    #[error("'{input}' is not a domain for a name constraint")]
    BadConstraintDomain { input: String },

    #[error("'{input}' is not an IP address range")]
    BadIpRange { input: String },

    #[error("the CA may not sign for {host}: its name constraints permit only {permitted}")]
    OutsideConstraints { host: String, permitted: String },

    #[error("the CA certificate file holds no certificate")]
    NoCaCertificate,

    #[error("'{subject}' is not a CA certificate (basicConstraints does not say CA:TRUE)")]
    NotACa { subject: String },

    #[error(
        "the CA certificate '{subject}' may not sign certificates (keyUsage lacks keyCertSign)"
    )]
    CaCannotSign { subject: String },

    #[error("the CA certificate expired on {not_after}")]
    CaExpired { not_after: String },

    #[error("the CA certificate is not valid until {not_before}")]
    CaNotYetValid { not_before: String },

    #[error("the CA key does not match the CA certificate ({subject})")]
    CaKeyMismatch { subject: String },

    #[error("cannot renew a certificate with a {algorithm} ({bits} bits) key")]
    UnrenewableKey { algorithm: String, bits: u32 },

    #[error("the certificate has no DNS or IP subjectAltName to renew it for")]
    NoNamesToRenew,

    #[error("this key is encrypted with a passphrase, which influxd and Prometheus cannot read")]
    EncryptedKey,

    #[error("this is an OpenSSH key, not a TLS private key")]
    OpenSshKey,

    #[error(
        "this CPU lacks instructions that RSA key generation needs (AES, PCLMULQDQ, AVX2, BMI2, ADX)"
    )]
    RsaUnsupportedCpu,

    #[error("RSA key generation is available on x86_64 and aarch64 only")]
    RsaUnsupportedArch,
}
