//! The typed client of the `/api/v1` API, shared by rt-tui and rt-sim. Every answer is decoded
//! into the rt-core wire types (no untyped JSON); the server's JSON error body becomes a
//! [`ClientError`] whose messages say what to do and whose [`ClientError::exit_code`] scripts
//! rely on. (The agent's upload transport keeps its own state machine in rt-agent.)

use crate::credstore::Secret;
use chrono::{DateTime, Utc};
use rt_core::ErrorBody;
use rt_core::api::{
    ApiTokenCreated, ApiTokenInfo, CreateApiTokenRequest, CreateEnrollmentTokenRequest,
    CreateUserRequest, DeviceDetail, DeviceEvent, DevicePatch, DeviceSummary, EnrollRequest,
    EnrollResponse, EnrollmentTokenCreated, EnrollmentTokenInfo, FleetSummary, LoginRequest,
    LoginResponse, MetricsResponse, Page, Resolution, TelemetryAck, TelemetryBatch,
    UpdateUserRequest, UserInfo,
};
use rt_core::{ApiTokenId, DeviceId, EnrollmentTokenId, UserId, error::codes};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Exit codes of every scripted command.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILURE: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const AUTH: u8 = 3;
}

/// What can go wrong talking to the server.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("not logged in: run `rt-tui login --server URL` or set RT_TOKEN")]
    NoToken,
    #[error(
        "no server configured: run `rt-tui login --server URL`, pass --server or set RT_SERVER_URL"
    )]
    NoServer,
    #[error("invalid server URL {0:?}: use e.g. http://127.0.0.1:8080")]
    BadUrl(String),
    #[error(
        "not authenticated ({0}): your session expired or the token is wrong; run `rt-tui login` or set RT_TOKEN"
    )]
    Unauthorized(String),
    #[error("forbidden ({0}): this needs an admin account; ask an admin or log in as one")]
    Forbidden(String),
    #[error("{message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        field: Option<String>,
        /// The server's `Retry-After` (429, 503), in seconds.
        retry_after: Option<u64>,
    },
    #[error(
        "cannot reach the server at {url}: {detail}; check that rt-server runs and the URL is right (--server / RT_SERVER_URL)"
    )]
    Network { url: String, detail: String },
    #[error(
        "unexpected answer from the server at {url}: {detail}; is this a ResourceTracker server of the same version?"
    )]
    Decode { url: String, detail: String },
    #[error("cannot encode the request: {0}")]
    Encode(String),
    /// `--ca-file` cannot be used (the message names the file and the fix).
    #[error("{0}")]
    CaFile(String),
}

impl ClientError {
    /// 3 for authentication/authorization problems, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            ClientError::NoToken
            | ClientError::NoServer
            | ClientError::Unauthorized(_)
            | ClientError::Forbidden(_) => exit::AUTH,
            _ => exit::FAILURE,
        }
    }

    /// Worth trying again later: the network failed, the server is overloaded (429) or failed
    /// (5xx). Everything else is final.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Network { .. } => true,
            ClientError::Api { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }

    /// The server's `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ClientError::Api { retry_after, .. } => retry_after.map(Duration::from_secs),
            _ => None,
        }
    }

    /// Short one-line text for the TUI status line.
    pub fn short(&self) -> String {
        match self {
            ClientError::Network { detail, .. } => detail.clone(),
            ClientError::Api { message, field, .. } => match field {
                Some(f) => format!("{message} ({f})"),
                None => message.clone(),
            },
            other => other.to_string(),
        }
    }

    fn from_reqwest(
        url: &str,
        e: reqwest::Error,
        ca_file: Option<&std::path::Path>,
    ) -> ClientError {
        if e.is_decode() {
            return ClientError::Decode {
                url: url.to_string(),
                detail: e.to_string(),
            };
        }
        // reqwest's Display includes the URL but never headers, so no token leaks here.
        let mut chain = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(inner) = src {
            chain.push_str(": ");
            chain.push_str(&inner.to_string());
            src = inner.source();
        }
        // A refused certificate is a "connect" error to reqwest; say what to do about it.
        let detail = if let Some(hint) = crate::tls::untrusted_certificate_hint(&chain, ca_file) {
            hint
        } else if e.is_timeout() {
            "timed out".to_string()
        } else if e.is_connect() {
            "connection refused or unreachable".to_string()
        } else {
            chain
        };
        ClientError::Network {
            url: url.to_string(),
            detail,
        }
    }
}

/// API client bound to one server and (optionally) one bearer token.
#[derive(Clone)]
pub struct Client {
    base: reqwest::Url,
    token: Option<Secret>,
    http: reqwest::Client,
    /// `--ca-file`, for the error hint when the server's certificate is refused.
    ca_file: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Normalises a server URL: adds `http://` when no scheme is given, drops a trailing `/`.
pub fn normalize_server(s: &str) -> Result<reqwest::Url, ClientError> {
    let s = s.trim();
    let with_scheme = if s.contains("://") {
        s.to_string()
    } else {
        format!("http://{s}")
    };
    let url = reqwest::Url::parse(with_scheme.trim_end_matches('/'))
        .map_err(|_| ClientError::BadUrl(s.into()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ClientError::BadUrl(s.into()));
    }
    Ok(url)
}

/// Query parameters of GET /devices.
#[derive(Debug, Clone, Default)]
pub struct DeviceQuery {
    pub q: Option<String>,
    pub state: Option<String>,
    pub health: Option<String>,
    pub assignee: Option<String>,
}

impl Client {
    /// A client with the console's defaults (5 s connect timeout), trusting the system's CAs
    /// or, with `ca_file`, exactly the CAs in that PEM file ([`crate::tls::configure`]).
    pub fn new(
        server: &str,
        token: Option<Secret>,
        ca_file: Option<&std::path::Path>,
    ) -> Result<Client, ClientError> {
        let builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("rt-client/", env!("CARGO_PKG_VERSION")));
        let http = crate::tls::configure(builder, ca_file)
            .map_err(|e| ClientError::CaFile(e.to_string()))?
            .build()
            .map_err(|e| ClientError::Network {
                url: server.to_string(),
                detail: e.to_string(),
            })?;
        let mut client = Client::with_http(server, token, http)?;
        client.ca_file = ca_file.map(std::path::Path::to_path_buf);
        Ok(client)
    }

    /// A client over a caller-built `reqwest::Client` (the simulator sizes its pool and
    /// timeouts for load).
    pub fn with_http(
        server: &str,
        token: Option<Secret>,
        http: reqwest::Client,
    ) -> Result<Client, ClientError> {
        let base = normalize_server(server)?;
        Ok(Client {
            base,
            token,
            http,
            ca_file: None,
        })
    }

    pub fn base(&self) -> &reqwest::Url {
        &self.base
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    pub fn url(&self, path: &str) -> String {
        format!(
            "{}/api/v1/{}",
            self.base.as_str().trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }

    fn req(
        &self,
        method: reqwest::Method,
        path: &str,
    ) -> Result<reqwest::RequestBuilder, ClientError> {
        self.req_q::<&str, &str>(method, path, &[])
    }

    /// A bearer-authenticated request with query parameters (reqwest's `query` needs a feature
    /// we do not build, so the URL is assembled here).
    fn req_q<K: AsRef<str>, V: AsRef<str>>(
        &self,
        method: reqwest::Method,
        path: &str,
        params: &[(K, V)],
    ) -> Result<reqwest::RequestBuilder, ClientError> {
        let token = self.token.as_ref().ok_or(ClientError::NoToken)?;
        let mut url = reqwest::Url::parse(&self.url(path))
            .map_err(|_| ClientError::BadUrl(self.url(path)))?;
        if !params.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in params {
                q.append_pair(k.as_ref(), v.as_ref());
            }
        }
        Ok(self.http.request(method, url).bearer_auth(token.expose()))
    }

    /// Sends `rb` with a timeout and turns non-2xx answers into [`ClientError`].
    pub async fn send(
        &self,
        rb: reqwest::RequestBuilder,
        timeout: Duration,
    ) -> Result<reqwest::Response, ClientError> {
        let rb = rb.timeout(timeout);
        let (_, req) = rb.build_split();
        let req = req.map_err(|e| ClientError::BadUrl(e.to_string()))?;
        let url = req.url().to_string();
        let resp = self
            .http
            .execute(req)
            .await
            .map_err(|e| ClientError::from_reqwest(&url, e, self.ca_file.as_deref()))?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        Err(error_from_response(resp).await)
    }

    async fn json<T: DeserializeOwned>(
        &self,
        rb: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        self.json_within(rb, Duration::from_secs(20)).await
    }

    async fn json_within<T: DeserializeOwned>(
        &self,
        rb: reqwest::RequestBuilder,
        timeout: Duration,
    ) -> Result<T, ClientError> {
        let resp = self.send(rb, timeout).await?;
        let url = resp.url().to_string();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ClientError::from_reqwest(&url, e, self.ca_file.as_deref()))?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
            url,
            detail: e.to_string(),
        })
    }

    pub async fn login(
        &self,
        username: &str,
        password: &str,
    ) -> Result<LoginResponse, ClientError> {
        let body = LoginRequest {
            username: username.into(),
            password: password.into(),
        };
        let rb = self.http.post(self.url("auth/login")).json(&body);
        self.json(rb).await
    }

    /// The signed-in user. Tries `GET /auth/me`.
    pub async fn whoami(&self) -> Result<UserInfo, ClientError> {
        self.json(self.req(reqwest::Method::GET, "auth/me")?).await
    }

    pub async fn devices_page(
        &self,
        q: &DeviceQuery,
        offset: u64,
        limit: u64,
    ) -> Result<Page<DeviceSummary>, ClientError> {
        let mut params: Vec<(&str, String)> =
            vec![("offset", offset.to_string()), ("limit", limit.to_string())];
        for (k, v) in [
            ("q", &q.q),
            ("state", &q.state),
            ("health", &q.health),
            ("assignee", &q.assignee),
        ] {
            if let Some(v) = v {
                params.push((k, v.clone()));
            }
        }
        self.json(self.req_q(reqwest::Method::GET, "devices", &params)?)
            .await
    }

    /// One page of `GET /alerts` (filters as the API takes them: `state`, `severity`,
    /// `device`, `rule`; comma lists allowed).
    pub async fn alerts_page(
        &self,
        filters: &[(&str, String)],
        offset: u64,
        limit: u64,
    ) -> Result<Page<rt_core::alert::api::AlertInfo>, ClientError> {
        let mut params: Vec<(&str, String)> =
            vec![("offset", offset.to_string()), ("limit", limit.to_string())];
        params.extend(filters.iter().cloned());
        self.json(self.req_q(reqwest::Method::GET, "alerts", &params)?)
            .await
    }

    /// Every alert matching `filters`, page by page, newest first.
    pub async fn all_alerts(
        &self,
        filters: &[(&str, String)],
    ) -> Result<Vec<rt_core::alert::api::AlertInfo>, ClientError> {
        const PAGE: u64 = 1000;
        let mut out = Vec::new();
        loop {
            let page = self.alerts_page(filters, out.len() as u64, PAGE).await?;
            let got = page.items.len();
            out.extend(page.items);
            if got == 0 || out.len() as u64 >= page.total {
                return Ok(out);
            }
        }
    }

    /// `POST /alerts/{id}/ack` (admin).
    pub async fn ack_alert(
        &self,
        id: i64,
        req: &rt_core::alert::api::AckRequest,
    ) -> Result<rt_core::alert::api::AlertInfo, ClientError> {
        self.json(
            self.req(reqwest::Method::POST, &format!("alerts/{id}/ack"))?
                .json(req),
        )
        .await
    }

    /// `POST /alerts/{id}/silence` (admin).
    pub async fn silence_alert(
        &self,
        id: i64,
        req: &rt_core::alert::api::SilenceRequest,
    ) -> Result<rt_core::alert::api::AlertInfo, ClientError> {
        self.json(
            self.req(reqwest::Method::POST, &format!("alerts/{id}/silence"))?
                .json(req),
        )
        .await
    }

    /// Every device, page by page.
    pub async fn all_devices(&self, q: &DeviceQuery) -> Result<Vec<DeviceSummary>, ClientError> {
        const PAGE: u64 = 500;
        let mut out = Vec::new();
        loop {
            let page = self.devices_page(q, out.len() as u64, PAGE).await?;
            let got = page.items.len();
            out.extend(page.items);
            if got == 0 || out.len() as u64 >= page.total {
                return Ok(out);
            }
        }
    }

    pub async fn device(&self, id: DeviceId) -> Result<DeviceDetail, ClientError> {
        self.json(self.req(reqwest::Method::GET, &format!("devices/{id}"))?)
            .await
    }

    pub async fn patch_device(
        &self,
        id: DeviceId,
        patch: &DevicePatch,
    ) -> Result<DeviceDetail, ClientError> {
        self.json(
            self.req(reqwest::Method::PATCH, &format!("devices/{id}"))?
                .json(patch),
        )
        .await
    }

    pub async fn metrics(
        &self,
        id: DeviceId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        resolution: Resolution,
    ) -> Result<MetricsResponse, ClientError> {
        let params = [
            (
                "from",
                from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
            ("to", to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            ("resolution", resolution.as_str().to_string()),
        ];
        self.json(self.req_q(
            reqwest::Method::GET,
            &format!("devices/{id}/metrics"),
            &params,
        )?)
        .await
    }

    /// The newest `limit` events of a device (`GET /devices/{id}/events` answers a page).
    pub async fn events(&self, id: DeviceId, limit: u32) -> Result<Vec<DeviceEvent>, ClientError> {
        let rb = self.req_q(
            reqwest::Method::GET,
            &format!("devices/{id}/events"),
            &[("limit", limit.to_string())],
        )?;
        let page: Page<DeviceEvent> = self.json(rb).await?;
        Ok(page.items)
    }

    pub async fn fleet_summary(&self) -> Result<FleetSummary, ClientError> {
        self.json(self.req(reqwest::Method::GET, "fleet/summary")?)
            .await
    }

    pub async fn users(&self) -> Result<Vec<UserInfo>, ClientError> {
        self.json(self.req(reqwest::Method::GET, "users")?).await
    }

    pub async fn create_user(&self, req: &CreateUserRequest) -> Result<UserInfo, ClientError> {
        self.json(self.req(reqwest::Method::POST, "users")?.json(req))
            .await
    }

    pub async fn create_enrollment_token(
        &self,
        req: &CreateEnrollmentTokenRequest,
    ) -> Result<EnrollmentTokenCreated, ClientError> {
        self.json(
            self.req(reqwest::Method::POST, "enrollment-tokens")?
                .json(req),
        )
        .await
    }

    pub async fn update_user(
        &self,
        id: UserId,
        req: &UpdateUserRequest,
    ) -> Result<UserInfo, ClientError> {
        self.json(
            self.req(reqwest::Method::PATCH, &format!("users/{id}"))?
                .json(req),
        )
        .await
    }

    pub async fn enrollment_tokens(&self) -> Result<Vec<EnrollmentTokenInfo>, ClientError> {
        self.json(self.req(reqwest::Method::GET, "enrollment-tokens")?)
            .await
    }

    pub async fn revoke_enrollment_token(&self, id: EnrollmentTokenId) -> Result<(), ClientError> {
        let rb = self.req(reqwest::Method::DELETE, &format!("enrollment-tokens/{id}"))?;
        self.send(rb, Duration::from_secs(20)).await.map(drop)
    }

    pub async fn create_api_token(
        &self,
        req: &CreateApiTokenRequest,
    ) -> Result<ApiTokenCreated, ClientError> {
        self.json(self.req(reqwest::Method::POST, "api-tokens")?.json(req))
            .await
    }

    pub async fn api_tokens(&self) -> Result<Vec<ApiTokenInfo>, ClientError> {
        self.json(self.req(reqwest::Method::GET, "api-tokens")?)
            .await
    }

    pub async fn revoke_api_token(&self, id: ApiTokenId) -> Result<(), ClientError> {
        let rb = self.req(reqwest::Method::DELETE, &format!("api-tokens/{id}"))?;
        self.send(rb, Duration::from_secs(20)).await.map(drop)
    }

    /// `POST /enroll` (authenticated by the enrollment token or the user credentials in the
    /// body, not by this client's token).
    pub async fn enroll(&self, req: &EnrollRequest) -> Result<EnrollResponse, ClientError> {
        let rb = self.http.post(self.url("enroll")).json(req);
        self.json(rb).await
    }

    /// `POST /telemetry` as one device, gzip-compressed.
    pub async fn send_telemetry(
        &self,
        device_token: &Secret,
        batch: &TelemetryBatch,
    ) -> Result<TelemetryAck, ClientError> {
        use std::io::Write;
        let json = serde_json::to_vec(batch).map_err(|e| ClientError::Encode(e.to_string()))?;
        let mut gz = flate2::write::GzEncoder::new(
            Vec::with_capacity(json.len() / 6),
            flate2::Compression::fast(),
        );
        gz.write_all(&json)
            .map_err(|e| ClientError::Encode(e.to_string()))?;
        let body = gz
            .finish()
            .map_err(|e| ClientError::Encode(e.to_string()))?;
        let rb = self
            .http
            .post(self.url("telemetry"))
            .bearer_auth(device_token.expose())
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(body);
        // A large batch on a loaded server may queue behind others' group commits.
        self.json_within(rb, Duration::from_secs(120)).await
    }

    /// Starts an export; the caller streams the body.
    pub async fn export(
        &self,
        what: &str,
        params: &[(&str, String)],
    ) -> Result<reqwest::Response, ClientError> {
        let rb = self.req_q(reqwest::Method::GET, &format!("export/{what}"), params)?;
        // Exports may run long; only the connection and the first byte are bounded by `send`.
        self.send(rb, Duration::from_secs(3600)).await
    }
}

/// Reads an error response into a [`ClientError`].
pub async fn error_from_response(resp: reqwest::Response) -> ClientError {
    let status = resp.status().as_u16();
    let url = resp.url().to_string();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let body = resp.bytes().await.unwrap_or_default();
    let parsed: Option<ErrorBody> = serde_json::from_slice(&body).ok();
    let (code, message, field) = match parsed {
        Some(b) => (b.error.code, b.error.message, b.error.field),
        None => {
            let text = String::from_utf8_lossy(&body);
            let text = text.trim();
            let code = match status {
                401 => codes::UNAUTHORIZED,
                403 => codes::FORBIDDEN,
                404 => codes::NOT_FOUND,
                _ => "http_error",
            };
            let msg = if text.is_empty() || text.len() > 200 {
                format!("HTTP {status} from {url}")
            } else {
                format!("HTTP {status}: {text}")
            };
            (code.to_string(), msg, None)
        }
    };
    match status {
        401 => ClientError::Unauthorized(message),
        403 => ClientError::Forbidden(message),
        _ => ClientError::Api {
            status,
            code,
            message,
            field,
            retry_after,
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn server_urls() {
        assert_eq!(
            normalize_server("127.0.0.1:8080").unwrap().as_str(),
            "http://127.0.0.1:8080/"
        );
        assert_eq!(
            normalize_server("https://rt.example/").unwrap().as_str(),
            "https://rt.example/"
        );
        assert!(normalize_server("ftp://x").is_err());
        assert!(normalize_server("").is_err());
        let c = Client::new("http://h:1/", Some(Secret::new("tok")), None).unwrap();
        assert_eq!(c.url("/devices"), "http://h:1/api/v1/devices");
        assert!(!format!("{c:?}").contains("tok\""));
    }

    #[test]
    fn exit_codes_and_fixes() {
        assert_eq!(ClientError::NoToken.exit_code(), exit::AUTH);
        assert!(
            ClientError::NoToken
                .to_string()
                .contains("rt-tui login --server URL")
        );
        assert_eq!(ClientError::Forbidden("x".into()).exit_code(), exit::AUTH);
        let n = ClientError::Network {
            url: "u".into(),
            detail: "d".into(),
        };
        assert_eq!(n.exit_code(), exit::FAILURE);
        assert!(n.to_string().contains("RT_SERVER_URL"));
    }
}
