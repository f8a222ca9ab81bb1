//! Start-up and the connection loop: open the store, start the writer and the background jobs,
//! serve the warp filter over hyper (plain or TLS), and shut down in order: stop accepting,
//! let in-flight requests finish, then let the writer commit what is queued.

use crate::api::{AppState, ClientAddr, State, filters};
use crate::auth::Passwords;
use crate::config::Config;
use crate::jobs;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::writer::Writer;
use anyhow::Context;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use warp::hyper::service::Service as HyperService;

/// How long a client may take to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
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
    let (writer, writer_thread) = Writer::start(&store, metrics.clone(), config.health.clone())?;
    let state: State = Arc::new(AppState {
        store,
        writer,
        config,
        metrics,
        passwords: Passwords::default(),
    });
    let (stop, stop_rx) = watch::channel(false);
    let jobs = jobs::spawn(state.clone(), stop_rx.clone());
    let filter = filters::routes(state.clone());
    let is_tls = tls.is_some();
    let task = tokio::spawn(async move {
        accept_loop(listener, tls, filter, stop_rx).await;
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

async fn accept_loop(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    filter: warp::filters::BoxedFilter<(warp::reply::Response,)>,
    mut stop: watch::Receiver<bool>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
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
        let _ = stream.set_nodelay(true);
        let svc = TowerToHyperService::new(warp::service(filter.clone()));
        let svc = warp::hyper::service::service_fn(
            move |mut req: warp::hyper::Request<warp::hyper::body::Incoming>| {
                req.extensions_mut().insert(ClientAddr(peer));
                svc.call(req)
            },
        );
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            let mut builder = Builder::new(TokioExecutor::new());
            // A client that does not finish its request headers in time (slowloris) is cut off.
            builder
                .http1()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT);
            let result = match tls {
                None => {
                    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), svc);
                    watcher.watch(conn.into_owned()).await
                }
                Some(acceptor) => {
                    let tls_stream = match tokio::time::timeout(
                        Duration::from_secs(10),
                        acceptor.accept(stream),
                    )
                    .await
                    {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, %peer, "TLS handshake failed");
                            return;
                        }
                        Err(_) => return,
                    };
                    let conn =
                        builder.serve_connection_with_upgrades(TokioIo::new(tls_stream), svc);
                    watcher.watch(conn.into_owned()).await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish within {DRAIN_TIMEOUT:?}; closing them");
    }
}
