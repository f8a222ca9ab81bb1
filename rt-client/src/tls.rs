//! TLS on the client side (agent, console, simulator): the crypto provider and which
//! certificate authorities a client trusts.
//!
//! reqwest is built with `rustls-no-provider` (root Cargo.toml): its `rustls` feature would link
//! aws-lc-rs into every binary, about 1.3 MiB of machine code in the agent alone. Clients use
//! ring instead, installed as the process's default provider before a `reqwest::Client` is
//! built; without one, building the client panics.
//!
//! Trust: by default a client verifies the server with the operating system's verifier and
//! roots (rustls-platform-verifier; `SSL_CERT_FILE` works on Linux). With a CA file
//! (`--ca-file`, for a fleet's private CA) the client trusts exactly the certificates in that
//! file and verifies with rustls's own WebPKI verifier, like `curl --cacert`: no system root
//! is accepted, and no OS verifier is involved (so Windows revocation checks that cannot reach
//! a private CA's CRL, and Wine's partial CryptoAPI, do not fail the handshake).

use std::path::{Path, PathBuf};

/// The largest CA file read (a bundle of a few hundred certificates is well below this).
pub const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;

/// Installs ring as the process's rustls provider unless one is installed already (a test
/// process may hold an in-process server that installed its own); either serves a client.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err only when another thread installed one first, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// Why a CA file cannot be used. Each message names the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum CaFileError {
    #[error(
        "cannot read the CA file {path}: {source}; pass the PEM file of the CA that signed the server's certificate"
    )]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the CA file {path} is larger than {max} bytes; pass only the CA certificate(s) in PEM"
    )]
    TooLarge { path: PathBuf, max: u64 },
    #[error(
        "the CA file {path} holds no PEM certificate (a block starting with -----BEGIN CERTIFICATE-----); \
         pass the CA certificate, not a key or a DER file (convert with `openssl x509 -in ca.der -inform der -out ca.pem`)"
    )]
    NoCertificate { path: PathBuf },
    #[error("the CA file {path} is not valid PEM: {detail}")]
    Invalid { path: PathBuf, detail: String },
}

/// Reads a PEM bundle and checks that it holds at least one certificate; returns the bytes.
/// The one check every program runs on `--ca-file` (at enrollment/login, and again on use).
pub fn read_ca_file(path: &Path) -> Result<Vec<u8>, CaFileError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|source| CaFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut pem = Vec::new();
    file.take(MAX_CA_FILE_BYTES + 1)
        .read_to_end(&mut pem)
        .map_err(|source| CaFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    if pem.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(CaFileError::TooLarge {
            path: path.to_path_buf(),
            max: MAX_CA_FILE_BYTES,
        });
    }
    count_certificates(path, &pem)?;
    Ok(pem)
}

/// Number of certificates in a PEM bundle; an error when there is none or the PEM is broken.
fn count_certificates(path: &Path, pem: &[u8]) -> Result<usize, CaFileError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut n = 0;
    for cert in CertificateDer::pem_slice_iter(pem) {
        cert.map_err(|e| CaFileError::Invalid {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        n += 1;
    }
    if n == 0 {
        return Err(CaFileError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(n)
}

/// Applies the trust choice to a reqwest client: the system verifier without a CA file, only
/// the file's certificates with one. Installs the crypto provider first.
#[cfg(feature = "http")]
pub fn configure(
    builder: reqwest::ClientBuilder,
    ca_file: Option<&Path>,
) -> Result<reqwest::ClientBuilder, CaFileError> {
    install_crypto_provider();
    let Some(path) = ca_file else {
        return Ok(builder);
    };
    let pem = read_ca_file(path)?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| CaFileError::Invalid {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    Ok(builder.tls_certs_only(certs))
}

/// A hint for a failed request whose error chain (lower-cased text) shows the server's
/// certificate was not trusted; `None` for any other failure.
pub fn untrusted_certificate_hint(chain: &str, ca_file: Option<&Path>) -> Option<String> {
    let chain = chain.to_ascii_lowercase();
    let untrusted = chain.contains("unknownissuer")
        || chain.contains("unknown issuer")
        || chain.contains("invalid peer certificate")
        || chain.contains("certificate verify failed")
        || chain.contains("badsignature")
        || chain.contains("notvalidforname")
        || chain.contains("expired");
    if !untrusted {
        return None;
    }
    Some(match ca_file {
        None => "the server's certificate is not signed by a CA this machine trusts: pass \
                 --ca-file FILE with the PEM of the CA that signed it (or install that CA in the \
                 system store)"
            .to_string(),
        Some(p) => format!(
            "the server's certificate is not valid for the CA in {} (or not for this host name, \
             or expired): check that --ca-file names the CA that signed it and that the URL's \
             host is in the certificate",
            p.display()
        ),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_is_installed_after_the_call() {
        install_crypto_provider();
        install_crypto_provider();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }

    // A real self-signed CA certificate (made with openssl for this test; the key was discarded).
    const CA_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBfzCCASWgAwIBAgIUGJpud+/cts2aZ8fIx0t/+VQK8CgwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKcnQtdGVzdC1DQTAeFw0yNjEyMDMxMjUyMzBaFw0zNjExMzAx
MjUyMzBaMBUxEzARBgNVBAMMCnJ0LXRlc3QtQ0EwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAS2t0H24LqOijsVpnDNtleryrVnvMWhrSE+EFa0lGQ5+R1Wsa/M73ef
HUl16kANUTTHtyrzytH+bTydqqDmuJ8So1MwUTAdBgNVHQ4EFgQUhLhULXraKjeh
7RtADZT91YS98pkwHwYDVR0jBBgwFoAUhLhULXraKjeh7RtADZT91YS98pkwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEAzMuMqTwezUjWAGRdVcQf
ppK9zQtb+Gth+/WMOJiUmKcCICfcna7WwjQ9/wKRV7KRQa39om/DKyKtr3y91dLq
u5nA
-----END CERTIFICATE-----
";

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn ca_files_are_checked_with_messages_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let good = write(dir.path(), "ca.pem", CA_PEM.as_bytes());
        assert_eq!(read_ca_file(&good).unwrap(), CA_PEM.as_bytes());
        let two = write(
            dir.path(),
            "bundle.pem",
            format!("{CA_PEM}\n# comment\n{CA_PEM}").as_bytes(),
        );
        assert_eq!(
            count_certificates(&two, &std::fs::read(&two).unwrap()).unwrap(),
            2
        );

        let missing = dir.path().join("nope.pem");
        let e = read_ca_file(&missing).unwrap_err().to_string();
        assert!(e.contains("nope.pem") && e.contains("cannot read"), "{e}");

        let key = write(
            dir.path(),
            "key.pem",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        );
        let e = read_ca_file(&key).unwrap_err().to_string();
        assert!(
            e.contains("key.pem") && e.contains("no PEM certificate"),
            "{e}"
        );

        let der = write(dir.path(), "ca.der", &[0x30, 0x82, 0x01, 0x7d, 0x30]);
        let e = read_ca_file(&der).unwrap_err().to_string();
        assert!(e.contains("ca.der") && e.contains("openssl x509"), "{e}");

        let big = write(
            dir.path(),
            "big.pem",
            &vec![b'A'; MAX_CA_FILE_BYTES as usize + 1],
        );
        let e = read_ca_file(&big).unwrap_err().to_string();
        assert!(e.contains("big.pem") && e.contains("larger than"), "{e}");
    }

    #[test]
    fn hints_only_for_untrusted_certificates() {
        let chain = "error sending request: client error (Connect): invalid peer certificate: UnknownIssuer";
        let h = untrusted_certificate_hint(chain, None).unwrap();
        assert!(h.contains("--ca-file"), "{h}");
        let h = untrusted_certificate_hint(chain, Some(Path::new("/etc/rt/ca.pem"))).unwrap();
        assert!(h.contains("/etc/rt/ca.pem"), "{h}");
        assert!(untrusted_certificate_hint("connection refused", None).is_none());
    }
}
