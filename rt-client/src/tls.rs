//! The TLS crypto provider of the client side (agent, console, simulator).
//!
//! reqwest is built with `rustls-no-provider` (root Cargo.toml): its `rustls` feature would link
//! aws-lc-rs into every binary, about 1.3 MiB of machine code in the agent alone. Clients use
//! ring instead, installed as the process's default provider before a `reqwest::Client` is
//! built; without one, building the client panics.

/// Installs ring as the process's rustls provider unless one is installed already (a test
/// process may hold an in-process server that installed its own); either serves a client.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err only when another thread installed one first, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_provider_is_installed_after_the_call() {
        super::install_crypto_provider();
        super::install_crypto_provider();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
