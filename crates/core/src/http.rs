//! Outgoing HTTP (remediation webhooks, single sign-on): one place that readies TLS before a
//! client is built. TLS is rustls with the `ring` provider and the system's CA roots.

use std::sync::Once;

/// Makes rustls' `ring` provider the process default (once; harmless when already done).
pub fn install_tls() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client builder with TLS ready.
pub fn client() -> reqwest::ClientBuilder {
    install_tls();
    reqwest::Client::builder()
}
