//! The load generator's retries over rt-client's API client: 429 and 5xx (honouring
//! Retry-After up to 30 s) and network errors are retried with exponential backoff; any other
//! answer is final. (The agent has its own upload state machine; this is only for rt-sim.)

use rt_client::api::ClientError;
use std::future::Future;
use std::time::Duration;

/// Attempts per request (the first plus retries).
pub const ATTEMPTS: u32 = 5;

/// The HTTP connection pool of a run: many concurrent devices against one server.
pub fn http_client(ca_file: Option<&std::path::Path>) -> Result<reqwest::Client, ClientError> {
    let builder = reqwest::Client::builder()
        .user_agent(concat!("rt-sim/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(256);
    rt_client::tls::configure(builder, ca_file)
        .map_err(|e| ClientError::CaFile(e.to_string()))?
        .build()
        .map_err(|e| ClientError::Network {
            url: String::new(),
            detail: e.to_string(),
        })
}

/// Runs `call` until it succeeds, fails for good, or [`ATTEMPTS`] are used up.
pub async fn with_retries<T, F, Fut>(mut call: F) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ClientError>>,
{
    let mut delay = Duration::from_millis(200);
    let mut attempt = 1;
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_transient() && attempt < ATTEMPTS => {
                let wait = e
                    .retry_after()
                    .map_or(delay, |d| d.min(Duration::from_secs(30)));
                tokio::time::sleep(wait).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn api(status: u16) -> ClientError {
        ClientError::Api {
            status,
            code: "x".into(),
            message: "m".into(),
            field: None,
            retry_after: Some(0),
        }
    }

    #[tokio::test]
    async fn retries_transient_errors_and_stops_on_final_ones() {
        let calls = AtomicU32::new(0);
        let r = with_retries(|| async {
            let n = calls.fetch_add(1, Ordering::Relaxed);
            if n < 2 { Err(api(503)) } else { Ok(n) }
        })
        .await;
        assert!(matches!(r, Ok(2)));
        assert_eq!(calls.load(Ordering::Relaxed), 3);

        let calls = AtomicU32::new(0);
        let r: Result<(), _> = with_retries(|| async {
            calls.fetch_add(1, Ordering::Relaxed);
            Err(api(400))
        })
        .await;
        assert!(matches!(r, Err(ClientError::Api { status: 400, .. })));
        assert_eq!(calls.load(Ordering::Relaxed), 1, "a 400 is final");

        let calls = AtomicU32::new(0);
        let r: Result<(), _> = with_retries(|| async {
            calls.fetch_add(1, Ordering::Relaxed);
            Err(api(429))
        })
        .await;
        assert!(r.is_err());
        assert_eq!(calls.load(Ordering::Relaxed), ATTEMPTS);
    }
}
