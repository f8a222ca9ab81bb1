//! Start-up and the connection loop: open the store, start the writer and the background jobs,
//! serve the warp filter over hyper (plain or TLS), and shut down in order: stop accepting,
//! let in-flight requests finish, then let the writer commit what is queued.

use crate::api::error::ApiError;
use crate::api::gates::Gates;
use crate::api::{AppState, ClientAddr, State, filters};
use crate::auth::Passwords;
use crate::config::{Config, Limits};
use crate::conns::{self, Admission, Registry, Tracked};
use crate::jobs;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::writer::Writer;
use anyhow::Context;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use rt_core::error::codes;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use warp::http::StatusCode;
use warp::hyper::service::Service as HyperService;

/// How long shutdown waits for in-flight requests before closing connections.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// A running server.
#[derive(Debug)]
pub struct RunningServer {
    pub addr: SocketAddr,
    pub tls: bool,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// `http://addr` or `https://addr`.
    pub fn url(&self) -> String {
        format!(
            "{}://{}",
            if self.tls { "https" } else { "http" },
            self.addr
        )
    }

    /// Graceful shutdown; returns when every pending write is committed.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.task.await.context("server task failed")?
    }
}

/// Prepare the data directory and database (also used by the CLI).
pub fn open_store(config: &Config) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    let db = crate::store::database_file(&config.database_url);
    crate::store::make_private(&config.data_dir, db.as_deref()).with_context(|| {
        format!(
            "cannot make the data directory {} private (0700, database 0600)",
            config.data_dir.display()
        )
    })?;
    Store::open(&config.database_url)
        .with_context(|| format!("cannot open database {}", config.database_url))
}

/// Start serving `config` in the background; the returned handle knows the bound address.
pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
    let store = open_store(&config)?;
    std::fs::create_dir_all(&config.downloads_dir).with_context(|| {
        format!(
            "cannot create downloads directory {}",
            config.downloads_dir.display()
        )
    })?;
    let tls = match &config.tls {
        Some(t) => Some(crate::tls::acceptor(&t.cert, &t.key)?),
        None => None,
    };
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let metrics = Arc::new(Metrics::default());
    // Rows stored before the findings column existed (or under another health policy) get their
    // latest sample's findings now, before the fleet list reads them.
    let refreshed =
        store.run_sync(|c| crate::store::devices::refresh_latest_findings(c, &config.health))?;
    if refreshed > 0 {
        tracing::info!(devices = refreshed, "latest health findings recomputed");
    }
    let notifier = crate::notify::Notifier::start(&config.alerts);
    let (writer, writer_thread) = Writer::start(
        &store,
        metrics.clone(),
        config.health.clone(),
        crate::writer::Alerting {
            rules: config.alerts.rules.clone(),
            notifier: notifier.clone(),
        },
    )?;
    let limits = config.limits;
    let state: State = Arc::new(AppState {
        store,
        writer,
        config,
        metrics,
        passwords: Passwords::default(),
        gates: Gates::new(&limits),
        notifier,
    });
    let (stop, stop_rx) = watch::channel(false);
    let jobs = jobs::spawn(state.clone(), stop_rx.clone());
    let filter = filters::routes(state.clone());
    let is_tls = tls.is_some();
    let task = tokio::spawn(async move {
        accept_loop(listener, tls, filter, limits, stop_rx).await;
        let _ = jobs.await;
        drop(state);
        writer_thread.shutdown().await;
        tracing::info!("server stopped");
        Ok(())
    });
    Ok(RunningServer {
        addr,
        tls: is_tls,
        stop,
        task,
    })
}

/// Run until `shutdown` resolves (the binary passes SIGINT/SIGTERM).
pub async fn serve(config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let server = start(config).await?;
    tracing::info!(url = %server.url(), "rt-server listening");
    eprintln!("rt-server listening on {}", server.url());
    shutdown.await;
    tracing::info!("shutting down: finishing in-flight requests and pending writes");
    server.shutdown().await
}

/// The effective connection cap: the configured one, kept below the open-files limit so that
/// `accept` never fails for want of descriptors (the database and logs need some too).
fn connection_cap(limits: &Limits) -> usize {
    const RESERVED_FDS: usize = 64;
    match conns::open_files_limit() {
        Some(n) if n > RESERVED_FDS * 2 => limits.max_connections.min(n - RESERVED_FDS),
        Some(n) => limits.max_connections.min(n / 2).max(1),
        None => limits.max_connections,
    }
}

/// Request-line and header limits checked before routing, so that the answer is JSON (hyper's
/// own refusals, a backstop for requests over its 400 KiB read buffer, have an empty body).
const MAX_URI_BYTES: usize = 8 * 1024;
const MAX_HEADER_BYTES: usize = 16 * 1024;
const MAX_HEADERS: usize = 100;

/// Requests answered before routing: an over-long URI (414), too many or too large headers
/// (431), and a path with an encoded NUL, which names no resource (404; the file system
/// would otherwise fail on it).
fn refuse_early<B>(req: &warp::hyper::Request<B>) -> Option<warp::reply::Response> {
    if req.uri().path().to_ascii_lowercase().contains("%00") {
        return Some(ApiError::not_found("no such resource").into_response());
    }
    if req.uri().to_string().len() > MAX_URI_BYTES {
        return Some(
            ApiError::new(
                StatusCode::URI_TOO_LONG,
                codes::URI_TOO_LONG,
                format!("the request URI exceeds {MAX_URI_BYTES} bytes"),
            )
            .into_response(),
        );
    }
    let headers = req.headers();
    let bytes: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return Some(
            ApiError::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                codes::HEADERS_TOO_LARGE,
                format!(
                    "the request headers exceed {MAX_HEADERS} fields or {MAX_HEADER_BYTES} bytes"
                ),
            )
            .into_response(),
        );
    }
    None
}

/// At the connection cap with every connection busy: a plain-HTTP client gets a JSON 503
/// (TLS clients are closed; a response would need a handshake first).
async fn refuse(mut stream: tokio::net::TcpStream, tls: bool) {
    use tokio::io::AsyncWriteExt;
    if tls {
        return;
    }
    let body = serde_json::json!({"error": {
        "code": codes::UNAVAILABLE,
        "message": "the server has too many open connections; retry shortly",
    }})
    .to_string();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 5\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    filter: warp::filters::BoxedFilter<(warp::reply::Response,)>,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let registry = Registry::new(connection_cap(&limits));
    let header_timeout = Duration::from_secs(limits.header_timeout_s.max(1));
    let idle_timeout = Duration::from_secs(limits.idle_timeout_s.max(1));
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let registered = match registry.admit() {
            Admission::Serve(r) => r,
            Admission::Refuse => {
                tokio::spawn(refuse(stream, tls.is_some()));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let conn = registered.conn.clone();
        let svc = TowerToHyperService::new(warp::service(filter.clone()));
        let svc = warp::hyper::service::service_fn(
            move |mut req: warp::hyper::Request<warp::hyper::body::Incoming>| {
                let guard = conn.request();
                let early = refuse_early(&req);
                req.extensions_mut().insert(ClientAddr(peer));
                let call = early.is_none().then(|| svc.call(req));
                async move {
                    let _guard = guard;
                    match (early, call) {
                        (Some(resp), _) => Ok(resp),
                        (None, Some(call)) => call.await,
                        (None, None) => Ok(ApiError::internal().into_response()),
                    }
                }
            },
        );
        let tls = tls.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let conn_info = registered.conn.clone();
            let mut builder = Builder::new(TokioExecutor::new());
            // A client that does not finish its request headers in time (slowloris) is cut off.
            builder
                .http1()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_headers(MAX_HEADERS * 2);
            let io = match tls {
                None => Io::Plain(Tracked::new(stream, conn_info.clone())),
                Some(acceptor) => {
                    match tokio::time::timeout(header_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(s)) => Io::Tls(Box::new(Tracked::new(s, conn_info.clone()))),
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, %peer, "TLS handshake failed");
                            return;
                        }
                        Err(_) => return,
                    }
                }
            };
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), svc);
            let mut conn = std::pin::pin!(conn);
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            // Until the connection ends by itself: an idle connection (no request being
            // answered) is dropped when the cap needs its place or when it has been idle too
            // long; at shutdown every connection finishes the response in progress first.
            let mut grace: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
            let result = loop {
                tokio::select! {
                    r = conn.as_mut() => break r,
                    _ = conn_info.close.notified(), if grace.is_none() => break Ok(()),
                    _ = tick.tick(), if grace.is_none() => {
                        if conn_info.idle_for().is_some_and(|d| d >= idle_timeout) {
                            break Ok(());
                        }
                    }
                    _ = stop.changed(), if grace.is_none() => {
                        conn.as_mut().graceful_shutdown();
                        grace = Some(Box::pin(tokio::time::sleep(DRAIN_TIMEOUT)));
                    }
                    () = async { if let Some(g) = grace.as_mut() { g.await } else { std::future::pending().await } } => {
                        break Ok(());
                    }
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop(registered);
        });
    }
    drop(listener);
    if !registry
        .drained(DRAIN_TIMEOUT + Duration::from_secs(1))
        .await
    {
        tracing::warn!("some connections did not finish within {DRAIN_TIMEOUT:?}; closing them");
    }
}

/// A plain or TLS socket (one type for hyper).
enum Io {
    Plain(Tracked<tokio::net::TcpStream>),
    Tls(Box<Tracked<tokio_rustls::server::TlsStream<tokio::net::TcpStream>>>),
}

impl tokio::io::AsyncRead for Io {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => std::pin::Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl tokio::io::AsyncWrite for Io {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => std::pin::Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => std::pin::Pin::new(s).poll_flush(cx),
            Io::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => std::pin::Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
