//! Connection bookkeeping for the accept loop: which connections are open, which of them are
//! idle (no request being answered), and since when. It enforces the connection cap (the
//! oldest idle connection makes room for a new one), the idle timeout, and the drain at
//! shutdown. Unauthenticated clients can therefore hold a socket only while it does work.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// One open connection.
#[derive(Debug)]
pub struct Conn {
    id: u64,
    /// Milliseconds since the registry started at the last byte read or written.
    last_active_ms: AtomicU64,
    /// Requests whose response is being produced.
    in_flight: AtomicUsize,
    /// Asks the connection task to close the connection.
    pub close: Notify,
    epoch: Instant,
}

impl Conn {
    fn touch(&self) {
        self.last_active_ms
            .store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// Idle for longer than `limit`: no request in flight and no byte moved.
    pub fn idle_for(&self) -> Option<Duration> {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return None;
        }
        let now = self.epoch.elapsed().as_millis() as u64;
        Some(Duration::from_millis(
            now.saturating_sub(self.last_active_ms.load(Ordering::Relaxed)),
        ))
    }

    /// Mark a request as being answered until the guard is dropped.
    pub fn request(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.touch();
        RequestGuard(self.clone())
    }
}

/// See [`Conn::request`].
#[derive(Debug)]
pub struct RequestGuard(Arc<Conn>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

/// Every open connection.
#[derive(Debug)]
pub struct Registry {
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    next: AtomicU64,
    epoch: Instant,
    pub max: usize,
}

/// What to do with a newly accepted socket.
#[derive(Debug)]
pub enum Admission {
    /// Serve it (registered; dropping the [`Registered`] unregisters it).
    Serve(Registered),
    /// At the cap with every connection busy: answer 503 and close.
    Refuse,
}

impl Registry {
    pub fn new(max: usize) -> Arc<Registry> {
        Arc::new(Registry {
            conns: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
            epoch: Instant::now(),
            max: max.max(1),
        })
    }

    /// Open connections.
    pub fn open(&self) -> usize {
        self.conns.lock().map_or(0, |m| m.len())
    }

    /// Admit a new connection. At the cap, the connection idle for longest is asked to close
    /// to make room; when none is idle, the new one is refused.
    pub fn admit(self: &Arc<Self>) -> Admission {
        let Ok(mut map) = self.conns.lock() else {
            return Admission::Refuse;
        };
        if map.len() >= self.max {
            let oldest = map
                .values()
                .filter_map(|c| c.idle_for().map(|d| (d, c.clone())))
                .max_by_key(|(d, _)| *d);
            match oldest {
                Some((_, c)) => {
                    map.remove(&c.id);
                    c.close.notify_one();
                }
                None => return Admission::Refuse,
            }
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            id,
            last_active_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            close: Notify::new(),
            epoch: self.epoch,
        });
        conn.touch();
        map.insert(id, conn.clone());
        Admission::Serve(Registered {
            conn,
            registry: self.clone(),
        })
    }

    /// Wait until every connection is gone or `limit` passed; true when all are gone.
    pub async fn drained(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.open() == 0 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.open() == 0
    }
}

/// A registered connection; unregisters on drop.
#[derive(Debug)]
pub struct Registered {
    pub conn: Arc<Conn>,
    registry: Arc<Registry>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        if let Ok(mut map) = self.registry.conns.lock() {
            map.remove(&self.conn.id);
        }
    }
}

/// A socket that records when bytes last moved on it.
#[derive(Debug)]
pub struct Tracked<T> {
    inner: T,
    conn: Arc<Conn>,
}

impl<T> Tracked<T> {
    pub fn new(inner: T, conn: Arc<Conn>) -> Self {
        Tracked { inner, conn }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Tracked<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.conn.touch();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Tracked<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.conn.touch();
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The soft limit on open files of this process (Linux), to keep the connection cap below it.
pub fn open_files_limit() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn at_the_cap_the_longest_idle_connection_makes_room() {
        let r = Registry::new(2);
        let Admission::Serve(a) = r.admit() else {
            panic!("refused")
        };
        std::thread::sleep(Duration::from_millis(5));
        let Admission::Serve(b) = r.admit() else {
            panic!("refused")
        };
        let _busy = b.conn.request();
        let Admission::Serve(_c) = r.admit() else {
            panic!("refused")
        };
        assert_eq!(r.open(), 2);
        // `a` was idle and got its close signal; `b` is answering a request and stays.
        assert!(r.conns.lock().unwrap().get(&a.conn.id).is_none());
        assert!(r.conns.lock().unwrap().get(&b.conn.id).is_some());
        let _busy_c = _c.conn.request();
        assert!(matches!(r.admit(), Admission::Refuse));
    }
}
