//! Public-key infrastructure: keys, names, validity periods, certificates and their inspection.
//!
//! Everything here is pure: it takes values (and the current time) and returns values. No file,
//! terminal or network I/O happens below this module, so it is shared by commands, tests and
//! benches alike.

pub mod ca;
pub mod cert;
pub mod chain;
pub mod csr;
pub mod error;
pub mod keys;
pub mod names;
pub mod parse;
pub mod pkcs8;
pub mod validity;

pub use error::PkiError;
pub use keys::KeyType;
pub use names::Host;
pub use validity::Validity;
