//! Ordering what a CA sent into the chain a server sends: leaf, then each issuer in turn.
//!
//! CAs deliver certificates in every order, as bundles with extras, and sometimes without the
//! intermediate. A link counts only when the child names the parent as issuer (byte for byte,
//! as Go and OpenSSL match), the key identifiers agree where both are present, and the parent's
//! key verifies the child's signature: names alone are not proof.

use serde::Serialize;
use x509_parser::prelude::*;

use crate::text::{colon_hex, sanitize};

/// Where the root the chain ends at was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RootSource {
    /// Among the certificates given to import.
    Inputs,
    /// The `--root` file.
    RootFile,
    /// The system's trust store.
    System,
}

/// A certificate given as input and not put in the chain, and why.
#[derive(Debug, Clone, Serialize)]
pub struct LeftOut {
    pub subject: String,
    pub reason: &'static str,
}

/// The issuer a chain stops short of.
#[derive(Debug, Clone, Serialize)]
pub struct Missing {
    /// The issuer name of the last certificate in the chain.
    pub issuer: String,
    /// Its authorityKeyIdentifier, when it has one: the key the missing certificate holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

/// The chain built from a leaf and candidates.
#[derive(Debug)]
pub struct Built {
    /// Indexes into the candidates: the leaf first, then each issuer, without the root.
    pub chain: Vec<usize>,
    /// The root: an index into the candidates (`Inputs`) or into the roots given (`RootFile`,
    /// `System`).
    pub root: Option<(RootSource, usize)>,
    /// Candidates left out: duplicates, the root (when not wanted), unrelated certificates.
    pub left_out: Vec<(usize, &'static str)>,
    /// Set when the chain reaches no root.
    pub missing: Option<Missing>,
}

/// Build the chain up from `candidates[leaf]`, with certificates from `candidates` (any order),
/// ending at a self-signed root among them, in `root_file`, or in `system` (tried in that order;
/// `system` is only called when needed, as reading the trust store costs time).
pub fn build(
    candidates: &[Vec<u8>],
    leaf: usize,
    root_file: &[Vec<u8>],
    system: impl FnOnce() -> Vec<Vec<u8>>,
) -> Built {
    let parsed: Vec<Option<X509Certificate<'_>>> = candidates
        .iter()
        .map(|der| X509Certificate::from_der(der).ok().map(|(_, c)| c))
        .collect();
    let mut left_out = Vec::new();
    let mut used = vec![false; candidates.len()];
    // Duplicates (byte for byte) of an earlier certificate.
    for i in 0..candidates.len() {
        if (0..i).any(|j| candidates[j] == candidates[i]) {
            used[i] = true;
            left_out.push((i, "a duplicate"));
        }
    }
    used[leaf] = true;
    let mut chain = vec![leaf];
    let mut root = None;
    let mut current = leaf;
    while let Some(child) = parsed[current].as_ref() {
        if is_self_signed(child) {
            // Only the leaf can be here: a self-signed issuer ends the loop below.
            break;
        }
        let parent = (0..candidates.len())
            .find(|&i| !used[i] && parsed[i].as_ref().is_some_and(|p| issued_by(child, p)));
        let Some(parent) = parent else {
            root = find_root(child, root_file, RootSource::RootFile)
                .or_else(|| find_root(child, &system(), RootSource::System));
            break;
        };
        used[parent] = true;
        if parsed[parent].as_ref().is_some_and(is_self_signed) {
            root = Some((RootSource::Inputs, parent));
            break;
        }
        chain.push(parent);
        current = parent;
    }
    for (i, was_used) in used.iter().enumerate() {
        if !was_used {
            left_out.push((i, "not part of this certificate's chain"));
        }
    }
    left_out.sort_unstable();
    let last = parsed[*chain.last().unwrap_or(&leaf)].as_ref();
    let missing = match (root, last) {
        (None, Some(last)) if !is_self_signed(last) => Some(Missing {
            issuer: sanitize(&last.issuer().to_string()),
            key_id: authority_key_id(last).map(colon_hex),
        }),
        _ => None,
    };
    Built {
        chain,
        root,
        left_out,
        missing,
    }
}

fn find_root(
    child: &X509Certificate<'_>,
    roots: &[Vec<u8>],
    source: RootSource,
) -> Option<(RootSource, usize)> {
    roots
        .iter()
        .position(|der| {
            X509Certificate::from_der(der)
                .ok()
                .is_some_and(|(_, root)| issued_by(child, &root))
        })
        .map(|i| (source, i))
}

/// Whether `parent` issued `child`: by name, key identifier and signature.
fn issued_by(child: &X509Certificate<'_>, parent: &X509Certificate<'_>) -> bool {
    if child.issuer().as_raw() != parent.subject().as_raw() {
        return false;
    }
    if let (Some(aki), Some(ski)) = (authority_key_id(child), subject_key_id(parent))
        && aki != ski
    {
        return false;
    }
    child.verify_signature(Some(parent.public_key())).is_ok()
}

fn is_self_signed(cert: &X509Certificate<'_>) -> bool {
    cert.subject().as_raw() == cert.issuer().as_raw() && cert.verify_signature(None).is_ok()
}

fn authority_key_id<'a>(cert: &'a X509Certificate<'_>) -> Option<&'a [u8]> {
    cert.extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                aki.key_identifier.as_ref().map(|k| k.0)
            }
            _ => None,
        })
}

fn subject_key_id<'a>(cert: &'a X509Certificate<'_>) -> Option<&'a [u8]> {
    cert.extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(ski) => Some(ski.0),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };

    fn ca_params(name: &str) -> CertificateParams {
        let mut p = CertificateParams::default();
        p.distinguished_name.push(DnType::CommonName, name);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        p
    }

    /// root → intermediate → leaf, as DER.
    fn hierarchy() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let (root_key, inter_key, leaf_key) = (
            KeyPair::generate().unwrap(),
            KeyPair::generate().unwrap(),
            KeyPair::generate().unwrap(),
        );
        let root_params = ca_params("Root");
        let root = root_params.self_signed(&root_key).unwrap();
        let root_issuer = Issuer::new(root_params, &root_key);
        let mut inter_params = ca_params("Intermediate");
        inter_params.use_authority_key_identifier_extension = true;
        let inter = inter_params.signed_by(&inter_key, &root_issuer).unwrap();
        let inter_issuer = Issuer::new(inter_params, &inter_key);
        let mut leaf_params = CertificateParams::new(vec!["a.test".to_owned()]).unwrap();
        leaf_params.use_authority_key_identifier_extension = true;
        let leaf = leaf_params.signed_by(&leaf_key, &inter_issuer).unwrap();
        (
            root.der().to_vec(),
            inter.der().to_vec(),
            leaf.der().to_vec(),
        )
    }

    #[test]
    fn any_order_with_duplicates_and_strangers_gives_leaf_then_intermediate() {
        let (root, inter, leaf) = hierarchy();
        let (_, _, stranger) = hierarchy();
        let inputs = vec![root.clone(), inter.clone(), stranger, leaf, inter.clone()];
        let built = build(&inputs, 3, &[], Vec::new);
        assert_eq!(built.chain, [3, 1]);
        assert_eq!(built.root, Some((RootSource::Inputs, 0)));
        assert_eq!(
            built.left_out,
            [
                (2, "not part of this certificate's chain"),
                (4, "a duplicate")
            ]
        );
        assert!(built.missing.is_none());
    }

    #[test]
    fn the_root_may_come_from_the_root_file_or_the_system() {
        let (root, inter, leaf) = hierarchy();
        let built = build(
            &[leaf.clone(), inter.clone()],
            0,
            std::slice::from_ref(&root),
            Vec::new,
        );
        assert_eq!(built.root, Some((RootSource::RootFile, 0)));
        let built = build(&[leaf, inter], 0, &[], || vec![b"junk".to_vec(), root]);
        assert_eq!(built.root, Some((RootSource::System, 1)));
    }

    #[test]
    fn a_missing_intermediate_is_named_with_its_key_id() {
        let (root, _, leaf) = hierarchy();
        let built = build(&[leaf, root], 0, &[], Vec::new);
        assert_eq!(built.chain, [0]);
        assert!(built.root.is_none());
        let missing = built.missing.unwrap();
        assert_eq!(missing.issuer, "CN=Intermediate");
        assert!(missing.key_id.is_some_and(|k| k.contains(':')));
        assert_eq!(
            built.left_out,
            [(1, "not part of this certificate's chain")]
        );
    }
}
