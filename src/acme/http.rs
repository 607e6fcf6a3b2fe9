//! instant-acme's HTTP client, over the ureq 3 already in the tree (rather than its default
//! hyper-rustls stack: 33 more crates and slower here, FACTS.md).
//!
//! ureq is blocking: each request runs to completion inside the future, which is fine on the
//! current-thread runtime the ACME commands use, where nothing else runs concurrently.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use instant_acme::{BodyWrapper, BytesResponse, Error, HttpClient};
use rustls_pki_types::CertificateDer;
use ureq::http::{Request, Response};

/// An ACME HTTP client trusting `roots`: the system's, or a test or internal CA's root.
pub struct UreqClient {
    agent: ureq::Agent,
}

impl UreqClient {
    #[must_use]
    pub fn new(roots: &[CertificateDer<'static>], timeout: Duration) -> UreqClient {
        let certs = roots
            .iter()
            .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
            .collect();
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs)));
        let config = ureq::Agent::config_builder()
            .tls_config(tls.build())
            .timeout_global(Some(timeout))
            // ACME answers errors as problem documents: instant-acme reads them.
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("certtool/", env!("CARGO_PKG_VERSION")))
            .build();
        UreqClient {
            agent: ureq::Agent::new_with_config(config),
        }
    }
}

impl HttpClient for UreqClient {
    fn request(
        &self,
        req: Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, Error>> + Send>> {
        let agent = self.agent.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let Ok(body) = body.collect().await;
            let body = body.to_bytes();
            let req = Request::from_parts(parts, body.to_vec());
            let response = agent.run(req).map_err(|e| Error::Other(Box::new(e)))?;
            let (parts, mut body) = response.into_parts();
            let bytes = body.read_to_vec().map_err(|e| Error::Other(Box::new(e)))?;
            Ok(BytesResponse::from(Response::from_parts(
                parts,
                Full::new(Bytes::from(bytes)),
            )))
        })
    }
}
