//! Integration tests of the `certtool` binary, against real tools and servers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    clippy::missing_panics_doc,
    reason = "tests fail loudly by design"
)]
#![allow(
    clippy::disallowed_methods,
    reason = "tests write fixtures and spoil modes on purpose; the product writes only via files.rs"
)]

mod acme;
mod ansible;
mod audit;
mod ca;
mod check;
mod config;
mod docs;
mod first_use;
mod hardening;
mod init;
mod inspect;
mod interop;
mod json;
mod jwt;
mod perms;
mod provision;
mod readme;
mod real_ca;
mod reliability;
mod renew;
mod schema;
mod selfsigned;
mod snapshots;
mod support;
mod verify;
mod verify_words;
