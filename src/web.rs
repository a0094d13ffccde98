//! Transcript pages: the small HTTP server that the links in answers point
//! at (`{public_url}/t/{transcript_id}#turn-{N}:~:text=…`, built by
//! [`crate::links`], whose route this router serves).
//!
//! `GET /t/{id}` renders one transcript, every turn an element with
//! `id="turn-N"` (`/t/{id}/` redirects there); `GET /` lists the transcripts; `GET /healthz` answers 200
//! while a generation is loaded, with a JSON body naming that generation and
//! when it was built (so a supervisor sees that every process of a bot has
//! caught up with `CURRENT`). Every request renders from
//! [`Engine::snapshot`], the very generation searches use, so a reindex
//! changes pages and answers at the same moment and a link never points at a
//! page that lacks its quote. The HTML itself is built in [`page`] (pure).
//!
//! # A fixed budget per client and in total ([`Limits`])
//!
//! - **Connections**: at most `max_connections` are served pages at once,
//!   and at most `max_connections_per_client` from one peer address.
//! - **Health first**: a connection past either cap is not left waiting in
//!   the listen backlog (where it would wait behind every slow one) but
//!   accepted into a small *reserve* of [`RESERVE_CONNECTIONS`], which
//!   answers `/healthz` and says `503` with `Retry-After` to anything else,
//!   one request per connection, each step within [`RESERVE_TIMEOUT`]. When
//!   the reserve is full, the reserved connection that has waited longest
//!   without sending a request is closed to make room (idle sockets cannot
//!   hold it); when every reserved connection is busy answering (a burst),
//!   the newcomer waits up to [`RESERVE_TIMEOUT`] for a seat, and past
//!   [`RESERVE_QUEUE`] waiting it is closed at once. `/healthz` never waits for page work: it reads the
//!   snapshot (an `Arc` clone) on the async worker.
//! - **Time**: a connection must send its request headers within
//!   `header_read_timeout` (idle keep-alive ones too), and every write of a
//!   response must make progress within `write_timeout`: a reader that
//!   stops reading is dropped, and its slot with it ([`WriteTimeout`]).
//! - **Pipelining**: hyper's HTTP/1 answers a connection's requests one at a
//!   time and reads at most [`READ_BUFFER`] bytes ahead, so one response per
//!   connection is in flight; after `max_requests_per_connection` requests
//!   the response says `Connection: close` and the connection ends.
//! - **Memory**: a transcript page is rendered once per generation and
//!   shared by every request for it (concurrent ones wait for the one
//!   render), with at most `page_cache_bytes` of pages kept; a page over
//!   that, or evicted, is still shared for as long as any response is
//!   sending it (the cache keeps a weak reference), so memory does not grow
//!   with the number of people reading the same page. At most
//!   [`renders_at_once`] pages are rendered at once.
//! - **Stopping** closes idle connections at once and drops the rest after
//!   `shutdown_grace`.
//!
//! Why this mechanism: it is what hyper and tokio give a server that owns
//! its accept loop, the pattern of hyper's and axum's own "serve with
//! graceful shutdown" examples: hyper's `header_read_timeout` for slow
//! headers, a semaphore-like count per lane for connections (as tower's
//! `ConcurrencyLimit`, but at accept time, where the file descriptor is
//! spent), load shedding with a 503 instead of queueing (tower's
//! `LoadShed`), and a timeout on the I/O object for writes (as the
//! `tokio-io-timeout` wrapper that `hyper-timeout` uses), since neither
//! hyper 1 nor tower has a write timeout for servers. Request timeouts at
//! the tower level (`tower-http`'s `TimeoutLayer`) would not help: a
//! response stuck in the socket has left the service already. Health
//! checks get a reserve instead of a second port so a supervisor needs no
//! other setting.

pub mod page;

use crate::engine::Engine;
use crate::links;
use crate::settings::WebSettings;
use crate::transcript;
use anyhow::Context as _;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{oneshot, OnceCell, Semaphore};

/// The pages need no script, style only from the page itself and no other
/// origin: a policy this strict makes any escaping slip harmless.
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Connections beyond the page caps that are still answered: `/healthz`,
/// or a quick 503.
pub const RESERVE_CONNECTIONS: usize = 64;
/// How long a reserved connection may take to send its request, and each
/// write of the answer to make progress; also the longest a connection
/// waits for a reserve seat while every one is busy answering.
pub const RESERVE_TIMEOUT: Duration = Duration::from_secs(1);
/// Connections that may wait for a reserve seat at once; past them a new
/// connection is closed at once.
pub const RESERVE_QUEUE: usize = 4 * RESERVE_CONNECTIONS;
/// Bytes hyper reads ahead of the request it is answering (its minimum is
/// 8 KB): what a pipelining client can queue on one connection.
pub const READ_BUFFER: usize = 16 * 1024;

/// What bounds the server's use of time and memory (settings `web.*`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A connection that has not sent a request's headers in this time is closed.
    pub header_read_timeout: Duration,
    /// A connection whose response makes no progress for this long is dropped.
    pub write_timeout: Duration,
    /// Connections served pages at once.
    pub max_connections: usize,
    /// Connections served pages at once from one peer address.
    pub max_connections_per_client: usize,
    /// Requests one connection is served before it is closed.
    pub max_requests_per_connection: usize,
    /// How long stopping waits for requests in progress.
    pub shutdown_grace: Duration,
    /// Rendered pages kept for the current generation, in bytes.
    pub page_cache_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(15),
            max_connections: 256,
            max_connections_per_client: 32,
            max_requests_per_connection: 100,
            shutdown_grace: Duration::from_secs(5),
            page_cache_bytes: 64 << 20,
        }
    }
}

impl Limits {
    /// The limits the settings give (their ranges are checked when the
    /// settings load; the floors here only keep a hand-made value sane).
    pub fn from_settings(web: &WebSettings) -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(web.header_read_timeout_seconds.max(1)),
            write_timeout: Duration::from_secs(web.write_timeout_seconds.max(1)),
            max_connections: web.max_connections.max(1),
            max_connections_per_client: web.max_connections_per_client.max(1),
            max_requests_per_connection: web.max_requests_per_connection.max(1),
            shutdown_grace: Duration::from_secs(web.shutdown_grace_seconds),
            page_cache_bytes: web.page_cache_mb.saturating_mul(1 << 20),
        }
    }
}

/// The pages' address could not be bound: the user's to fix (another
/// program holds the port, or the address is not this machine's).
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {address} (setting web.listen): {source}; another program (or another forumbot) may be using that port: stop it, or give web.listen another address (FORUMBOT__WEB__LISTEN=127.0.0.1:8081){hint}")]
pub struct BindError {
    pub address: String,
    pub source: std::io::Error,
    /// Said only where pages can be switched off (`forumbot run`).
    pub hint: &'static str,
}

/// The hint `forumbot run` adds to a [`BindError`].
pub const HINT_PAGES_OFF: &str =
    ", or run the bot without pages (web.enabled = false, FORUMBOT__WEB__ENABLED=false)";

/// Binds `web.listen`. Done before anything announces the pages, so an
/// address that cannot be served is reported instead of links to nowhere.
pub async fn bind(web: &WebSettings) -> Result<tokio::net::TcpListener, BindError> {
    let address = web.listen.trim().to_owned();
    tokio::net::TcpListener::bind(address.as_str())
        .await
        .map_err(|source| BindError {
            address,
            source,
            hint: "",
        })
}

/// Serves the transcript pages on `web.listen` until `shutdown` resolves.
pub async fn serve(
    engine: Arc<Engine>,
    web: &WebSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = bind(web).await?;
    serve_with(engine, listener, Limits::from_settings(web), shutdown).await
}

/// As [`serve`], on a listener already bound (tests bind port 0 first to
/// learn the address their links must use), with the default [`Limits`].
pub async fn serve_on(
    engine: Arc<Engine>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_with(engine, listener, Limits::default(), shutdown).await
}

/// As [`serve_on`], with the limits given.
pub async fn serve_with(
    engine: Arc<Engine>,
    listener: tokio::net::TcpListener,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let address = listener.local_addr().context("listener has no address")?;
    tracing::info!(%address, public_url = %engine.options().public_url, ?limits, "serving transcript pages");
    let app = new_app(engine, limits.page_cache_bytes);
    let router = routes(app.clone());
    let pages = Lane::new(
        limits.max_connections.max(1),
        limits
            .max_connections_per_client
            .clamp(1, limits.max_connections.max(1)),
        false,
    );
    let reserve = Lane::new(RESERVE_CONNECTIONS, RESERVE_CONNECTIONS, true);
    let (closing, closing_rx) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut warned_full = false;
    loop {
        while connections.try_join_next().is_some() {}
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off, retry.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let closing = closing_rx.clone();
        if let Some(seat) = pages.seat(peer.ip()) {
            warned_full = false;
            let connection = PageConnection {
                router: router.clone(),
                limits,
                seat,
            };
            connections.spawn(connection.serve(stream, peer, closing));
        } else if reserve.queued.load(Ordering::Acquire) < RESERVE_QUEUE {
            if !warned_full {
                tracing::warn!(
                    %peer,
                    max = limits.max_connections,
                    per_client = limits.max_connections_per_client,
                    "connection limit reached; answering /healthz and 503 from the reserve"
                );
                warned_full = true;
            }
            let (app, reserve) = (app.clone(), reserve.clone());
            connections.spawn(async move {
                match reserve
                    .wait_seat(peer.ip(), RESERVE_TIMEOUT, RESERVE_QUEUE)
                    .await
                {
                    Some(seat) => serve_reserved(app, seat, stream, peer, closing).await,
                    None => tracing::debug!(%peer, "no room in the reserve; connection closed"),
                }
            });
        } else {
            // Every budget is spent on connections that are being answered
            // and as many wait: closing this one at once tells its client
            // more than a queue.
            tracing::debug!(%peer, "no room even in the reserve; connection closed");
            drop(stream);
        }
    }
    drop(listener);
    let _ = closing.send(true);
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "connections still open after the grace period; closing them"
        );
        connections.shutdown().await;
    }
    tracing::info!(%address, "transcript pages stopped");
    Ok(())
}

/// One connection served pages.
struct PageConnection {
    router: Router,
    limits: Limits,
    /// Released when the connection ends.
    seat: Seat,
}

impl PageConnection {
    async fn serve(
        self,
        stream: tokio::net::TcpStream,
        peer: std::net::SocketAddr,
        mut closing: tokio::sync::watch::Receiver<bool>,
    ) {
        let PageConnection {
            router,
            limits,
            seat,
        } = self;
        let served = Arc::new(AtomicUsize::new(0));
        let max_requests = limits.max_requests_per_connection.max(1);
        let service = hyper::service::service_fn(move |request| {
            let router = router.clone();
            let n = served.fetch_add(1, Ordering::Relaxed) + 1;
            async move {
                use tower::ServiceExt as _;
                let mut response = router.oneshot(request).await?;
                if n >= max_requests {
                    // hyper ends the connection after this response, and
                    // reads no further pipelined request.
                    response
                        .headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .max_buf_size(READ_BUFFER);
        let io = TokioIo::new(WriteTimeout::new(stream, limits.write_timeout));
        let mut conn = std::pin::pin!(http.serve_connection(io, service));
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(%peer, error = %e, "connection ended");
                }
            }
            _ = closing.changed() => {
                // Idle connections close now; a request in progress
                // finishes (within the grace period).
                conn.as_mut().graceful_shutdown();
                let _ = conn.as_mut().await;
            }
        }
        drop(seat);
    }
}

/// A connection past the page caps: one request, `/healthz` answered, any
/// other 503; closed when the reserve needs its seat before it asked.
async fn serve_reserved(
    app: Arc<App>,
    mut seat: Seat,
    stream: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    mut closing: tokio::sync::watch::Receiver<bool>,
) {
    let evicted = seat.evicted.take();
    let asked = seat.asked();
    let service = hyper::service::service_fn(move |request: axum::http::Request<_>| {
        asked.store(true, Ordering::Relaxed);
        let app = app.clone();
        async move {
            let health = matches!(*request.method(), Method::GET | Method::HEAD)
                && request.uri().path() == "/healthz";
            let response = if health {
                health_response(&app.engine)
            } else {
                busy()
            };
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(RESERVE_TIMEOUT)
        .keep_alive(false)
        .max_buf_size(8 * 1024);
    let io = TokioIo::new(WriteTimeout::new(stream, RESERVE_TIMEOUT));
    let conn = http.serve_connection(io, service);
    let evicted = async move {
        match evicted {
            Some(rx) => {
                let _ = rx.await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        done = conn => {
            if let Err(e) = done {
                tracing::debug!(%peer, error = %e, "reserved connection ended");
            }
        }
        () = evicted => tracing::debug!(%peer, "reserved connection closed to make room"),
        _ = closing.changed() => {}
    }
    drop(seat);
}

/// The answer to a page request past the connection caps.
fn busy() -> Response {
    let mut r = (
        StatusCode::SERVICE_UNAVAILABLE,
        "busy: too many connections; try again in a few seconds\n",
    )
        .into_response();
    let h = r.headers_mut();
    h.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A budget of connections: so many in all, so many per peer address.
struct Lane {
    capacity: usize,
    per_client: usize,
    /// When full, close the connection that has waited longest without
    /// sending a request, to seat a new one (the reserve does).
    evict_waiting: bool,
    state: Mutex<LaneState>,
    /// Told whenever a seat is given back.
    freed: tokio::sync::Notify,
    /// Connections waiting for a seat ([`Lane::wait_seat`]).
    queued: AtomicUsize,
}

#[derive(Default)]
struct LaneState {
    open: usize,
    per_client: HashMap<IpAddr, usize>,
    /// Seats whose connection has not sent a request yet, oldest first,
    /// with the switch that closes it (only when `evict_waiting`).
    waiting: VecDeque<(u64, Arc<AtomicBool>, oneshot::Sender<()>)>,
    next: u64,
}

/// A connection's place in a [`Lane`], given back when dropped.
struct Seat {
    lane: Arc<Lane>,
    ip: IpAddr,
    id: u64,
    /// Resolves when the lane closes this connection to make room.
    evicted: Option<oneshot::Receiver<()>>,
    asked: Arc<AtomicBool>,
}

impl Lane {
    fn new(capacity: usize, per_client: usize, evict_waiting: bool) -> Arc<Lane> {
        Arc::new(Lane {
            capacity,
            per_client,
            evict_waiting,
            state: Mutex::new(LaneState::default()),
            freed: tokio::sync::Notify::new(),
            queued: AtomicUsize::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LaneState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A seat for a connection from `ip`, if the budget has one.
    fn seat(self: &Arc<Self>, ip: IpAddr) -> Option<Seat> {
        let mut st = self.lock();
        let from_ip = st.per_client.get(&ip).copied().unwrap_or(0);
        if st.open >= self.capacity || from_ip >= self.per_client {
            if !self.evict_waiting {
                return None;
            }
            // The longest-waiting connection that has still asked nothing
            // makes room (it counts until its task has ended).
            loop {
                let (_, asked, close) = st.waiting.pop_front()?;
                if !asked.load(Ordering::Relaxed) {
                    let _ = close.send(());
                    break;
                }
            }
        }
        st.open += 1;
        *st.per_client.entry(ip).or_default() += 1;
        let id = st.next;
        st.next += 1;
        let asked = Arc::new(AtomicBool::new(false));
        let evicted = self.evict_waiting.then(|| {
            let (close, evicted) = oneshot::channel();
            st.waiting.push_back((id, asked.clone(), close));
            evicted
        });
        Some(Seat {
            lane: self.clone(),
            ip,
            id,
            evicted,
            asked,
        })
    }
}

impl Lane {
    /// A seat for a connection from `ip`, waiting at most `within` for one
    /// to be given back when the lane is full of connections being
    /// answered (a burst of them finishes in milliseconds); `None` at once
    /// when `max_queued` others are waiting already.
    async fn wait_seat(
        self: &Arc<Self>,
        ip: IpAddr,
        within: Duration,
        max_queued: usize,
    ) -> Option<Seat> {
        if let Some(seat) = self.seat(ip) {
            return Some(seat);
        }
        if self.queued.fetch_add(1, Ordering::AcqRel) >= max_queued {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        let waited = tokio::time::timeout(within, async {
            loop {
                let freed = self.freed.notified();
                tokio::pin!(freed);
                freed.as_mut().enable();
                if let Some(seat) = self.seat(ip) {
                    return seat;
                }
                freed.await;
            }
        })
        .await;
        self.queued.fetch_sub(1, Ordering::AcqRel);
        waited.ok()
    }
}

impl Seat {
    /// The flag the connection sets once it has sent a request (it can no
    /// longer be closed to make room).
    fn asked(&self) -> Arc<AtomicBool> {
        self.asked.clone()
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut st = self.lane.lock();
        st.open = st.open.saturating_sub(1);
        if let Some(n) = st.per_client.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                st.per_client.remove(&self.ip);
            }
        }
        let id = self.id;
        st.waiting.retain(|(w, _, _)| *w != id);
        drop(st);
        self.lane.freed.notify_waiters();
    }
}

/// A stream whose writes must make progress within `timeout`: when the
/// peer stops reading, the socket buffer fills, the write waits, and after
/// `timeout` without a byte accepted it fails, which ends the connection.
/// (hyper has a timeout for reading headers, none for writing.)
pub struct WriteTimeout<S> {
    inner: S,
    timeout: Duration,
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> WriteTimeout<S> {
    pub fn new(inner: S, timeout: Duration) -> Self {
        WriteTimeout {
            inner,
            timeout,
            stalled: None,
        }
    }

    /// Passes a write's result on, failing a write that has waited too long.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        r: Poll<std::io::Result<T>>,
    ) -> Poll<std::io::Result<T>> {
        match r {
            Poll::Pending => {
                let timeout = self.timeout;
                let stalled = self
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                if stalled.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the response was not read in time",
                    )));
                }
                Poll::Pending
            }
            ready => {
                self.stalled = None;
                ready
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteTimeout<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteTimeout<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, r)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, r)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, r)
    }
}

/// The routes, for [`serve`] and for tests.
pub fn router(engine: Arc<Engine>) -> Router {
    routes(new_app(engine, Limits::default().page_cache_bytes))
}

fn new_app(engine: Arc<Engine>, page_cache_bytes: usize) -> Arc<App> {
    Arc::new(App {
        engine,
        pages: PageCache::new(page_cache_bytes),
        rendering: Semaphore::new(renders_at_once()),
        renders: Default::default(),
    })
}

fn routes(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(list))
        .route("/healthz", get(healthz))
        .route(links::TRANSCRIPT_ROUTE, get(transcript_page))
        .route(links::TRANSCRIPT_ROUTE_SLASH, get(transcript_page_slash))
        .fallback(not_found)
        .with_state(app)
}

/// Transcript pages rendered at once: one per core (a render is CPU work
/// and holds the transcript's passages and the page being built).
pub fn renders_at_once() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// What every handler shares.
struct App {
    engine: Arc<Engine>,
    pages: PageCache,
    /// Bounds the renders running at once.
    rendering: Semaphore,
    /// Transcript pages rendered so far (to see that sharing works).
    renders: AtomicUsize,
}

type Slot = Arc<OnceCell<Bytes>>;

/// The bytes of a rendered page: a response holds it through [`Bytes`], the
/// cache through a weak reference once it no longer keeps the page itself.
struct PageBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for PageBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Rendered transcript pages of one generation. Each page is rendered once
/// (requests arriving meanwhile wait for that render) and then shared.
struct PageCache {
    max_bytes: usize,
    inner: Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    generation: String,
    slots: HashMap<String, Slot>,
    /// Pages rendered, oldest first, with their sizes (for eviction).
    filled: VecDeque<(String, usize)>,
    bytes: usize,
    /// Pages no longer kept (over the cap, or evicted) that responses may
    /// still be sending: shared until the last one is done.
    sending: HashMap<String, Weak<Vec<u8>>>,
}

/// A page to serve: already rendered, or the slot to render it in.
enum Cached {
    Page(Bytes),
    Slot(Slot),
}

impl PageCache {
    fn new(max_bytes: usize) -> Self {
        PageCache {
            max_bytes,
            inner: Mutex::new(CacheInner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Page `id` of `generation` if some response still holds it, else its
    /// slot (a new generation empties the cache).
    fn page(&self, generation: &str, id: &str) -> Cached {
        let mut c = self.lock();
        if c.generation != generation {
            *c = CacheInner {
                generation: generation.to_owned(),
                ..CacheInner::default()
            };
        }
        if !c.slots.contains_key(id) {
            if let Some(page) = c.sending.get(id).and_then(Weak::upgrade) {
                return Cached::Page(Bytes::from_owner(PageBytes(page)));
            }
        }
        Cached::Slot(c.slots.entry(id.to_owned()).or_default().clone())
    }

    /// Counts a page just rendered, evicting the oldest others over the cap.
    fn rendered(&self, generation: &str, id: &str, page: &Arc<Vec<u8>>) {
        let mut c = self.lock();
        if c.generation != generation {
            return;
        }
        let size = page.len();
        c.sending.retain(|_, w| w.strong_count() > 0);
        c.filled.push_back((id.to_owned(), size));
        c.bytes += size;
        while c.bytes > self.max_bytes && c.filled.len() > 1 {
            let Some((old, n)) = c.filled.pop_front() else {
                break;
            };
            c.bytes -= n;
            // Still shared through `sending` while a response holds it.
            c.slots.remove(&old);
        }
        if c.bytes > self.max_bytes {
            // The page alone is over the cap: share it while it is being
            // sent, keep nothing once the responses holding it are done.
            c.filled.clear();
            c.bytes = 0;
            c.slots.remove(id);
        }
        c.sending.insert(id.to_owned(), Arc::downgrade(page));
    }
}

/// An HTML response with the headers every page carries.
fn html(status: StatusCode, body: impl Into<axum::body::Body>) -> Response {
    let mut r = (status, body.into()).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // A reindex can change any page at any moment: always revalidate.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// Runs `f` off the async workers: reading a transcript's passages and
/// (every few seconds) looking for a new generation touch the disk.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::error!(error = %e, "page rendering task failed");
            None
        }
    }
}

fn internal_error() -> Response {
    html(StatusCode::INTERNAL_SERVER_ERROR, page::internal_error())
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    health_response(&app.engine)
}

/// The health answer: read from the snapshot (an `Arc` clone, no disk, no
/// waiting on page work), so it is answered on the async worker at once.
fn health_response(engine: &Engine) -> Response {
    let loaded = engine.snapshot();
    let g = &loaded.generation;
    let body = serde_json::json!({
        "status": "ok",
        "generation": g.name,
        "built_at": rfc3339_utc(g.manifest.built_at_unix),
        "built_at_unix": g.manifest.built_at_unix,
        "transcripts": g.manifest.transcripts,
        "passages": g.manifest.passages,
        "semantic": loaded.semantic_status(),
    });
    let mut r = axum::Json(body).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `2026-11-25T20:42:38Z` for a Unix time (UTC, proleptic Gregorian).
fn rfc3339_utc(unix: u64) -> String {
    let (days, secs) = (unix / 86_400, unix % 86_400);
    // Howard Hinnant's days-to-civil, shifted to start the year in March.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

async fn list(State(app): State<Arc<App>>) -> Response {
    let engine = app.engine.clone();
    match blocking(move || page::transcript_list(&engine.snapshot().generation.catalog)).await {
        Some(body) => html(StatusCode::OK, body),
        None => internal_error(),
    }
}

async fn not_found(State(app): State<Arc<App>>) -> Response {
    let engine = app.engine.clone();
    match blocking(move || page::not_found(&engine.snapshot().generation.catalog)).await {
        Some(body) => html(StatusCode::NOT_FOUND, body),
        None => internal_error(),
    }
}

/// `/t/{id}/`, as people type or paste it: sent on to the page with a
/// relative redirect (`../{id}`), so a prefix a proxy adds in front of
/// `/t/` is kept; the browser keeps the `#turn-N` fragment across it.
async fn transcript_page_slash(
    State(app): State<Arc<App>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    match id {
        Ok(Path(id)) if transcript::is_valid_id(&id) => {
            axum::response::Redirect::permanent(&format!("../{id}")).into_response()
        }
        _ => not_found(State(app)).await,
    }
}

async fn transcript_page(
    State(app): State<Arc<App>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    // A path that does not even decode is just another page that is not here.
    let id = match id {
        Ok(Path(id)) if transcript::is_valid_id(&id) => id,
        _ => return not_found(State(app)).await,
    };
    let loaded = app.engine.snapshot();
    let generation = loaded.generation.name.clone();
    if loaded.generation.catalog.transcript(&id).is_none() {
        return not_found(State(app)).await;
    }
    let slot = match app.pages.page(&generation, &id) {
        Cached::Page(body) => return html(StatusCode::OK, body),
        Cached::Slot(slot) => slot,
    };
    let mut rendered = None;
    let body = slot
        .get_or_try_init(|| {
            let app = app.clone();
            let id = id.clone();
            let rendered = &mut rendered;
            async move {
                let Ok(_turn) = app.rendering.acquire().await else {
                    return Err("closed");
                };
                app.renders.fetch_add(1, Ordering::Relaxed);
                let page = blocking(move || {
                    let g = &loaded.generation;
                    let info = g.catalog.transcript(&id).ok_or("gone")?;
                    let passages = g.transcript_passages(&id).map_err(|e| {
                        tracing::error!(error = %e, "cannot read a transcript's passages");
                        "unreadable"
                    })?;
                    let mut page = page::transcript(info, &passages).into_bytes();
                    drop(passages);
                    // No copy: the page is shared as it was built, less its slack.
                    page.shrink_to_fit();
                    Ok::<_, &str>(Arc::new(page))
                })
                .await
                .unwrap_or(Err("render task failed"))?;
                *rendered = Some(page.clone());
                Ok(Bytes::from_owner(PageBytes(page)))
            }
        })
        .await;
    match body {
        Ok(body) => {
            let body = body.clone();
            if let Some(page) = rendered {
                app.pages.rendered(&generation, &id, &page);
            }
            html(StatusCode::OK, body)
        }
        Err(_) => internal_error(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str =
        "小論壇\n\n甲:我們談談營銷。\n\n乙:數據很重要。\n\n甲:謝謝。\n\n乙:不客氣。\n";

    fn app(files: &[(&str, &str)], cache_bytes: usize) -> (tempfile::TempDir, Arc<App>) {
        let (tmp, engine) = crate::test_support::engine(files);
        (tmp, new_app(Arc::new(engine), cache_bytes))
    }

    async fn body_of(r: Response) -> Bytes {
        assert_eq!(r.status(), StatusCode::OK);
        axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_for_a_page_share_one_render() {
        let (_t, app) = app(&[("a.txt", SMALL)], 1 << 20);
        let requests = (0..8).map(|_| {
            let app = app.clone();
            tokio::spawn(async move { transcript_page(State(app), Ok(Path("a".to_owned()))).await })
        });
        let mut bodies = Vec::new();
        for r in futures::future::join_all(requests).await {
            bodies.push(body_of(r.unwrap()).await);
        }
        assert_eq!(app.renders.load(std::sync::atomic::Ordering::Relaxed), 1);
        assert!(bodies.iter().all(|b| b == &bodies[0]));
        assert!(String::from_utf8_lossy(&bodies[0]).contains("turn-1"));
        // Later requests of the same generation are not rendered again.
        body_of(transcript_page(State(app.clone()), Ok(Path("a".to_owned()))).await).await;
        assert_eq!(app.renders.load(std::sync::atomic::Ordering::Relaxed), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_page_cache_stays_under_its_cap() {
        let (_t, app) = app(&[("a.txt", SMALL), ("b.txt", SMALL), ("c.txt", SMALL)], 1);
        for id in ["a", "b", "c", "a"] {
            body_of(transcript_page(State(app.clone()), Ok(Path(id.to_owned()))).await).await;
        }
        // A cap smaller than any page keeps none: once its response is
        // sent, the next request renders again.
        assert_eq!(app.renders.load(std::sync::atomic::Ordering::Relaxed), 4);
        let c = app.pages.inner.lock().unwrap();
        assert_eq!(c.bytes, 0);
        assert!(c.slots.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_page_over_the_cache_cap_is_shared_while_it_is_being_sent() {
        let (_t, app) = app(&[("a.txt", SMALL)], 1);
        let page = |app: &Arc<App>| transcript_page(State(app.clone()), Ok(Path("a".to_owned())));
        // Slow readers: their responses are still being sent.
        let mut held = Vec::new();
        for _ in 0..12 {
            held.push(page(&app).await);
        }
        assert_eq!(
            app.renders.load(std::sync::atomic::Ordering::Relaxed),
            1,
            "every reader got a page of its own"
        );
        let mut bodies = Vec::new();
        for r in held {
            bodies.push(body_of(r).await);
        }
        assert!(bodies.iter().all(|b| b == &bodies[0]));
        // Once nobody holds it, nothing keeps it.
        drop(bodies);
        body_of(page(&app).await).await;
        assert_eq!(app.renders.load(std::sync::atomic::Ordering::Relaxed), 2);
    }
}

#[cfg(test)]
mod dates {
    #[test]
    fn build_times_read_as_utc_dates() {
        assert_eq!(super::rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339_utc(1_795_634_558), "2026-11-25T19:22:38Z");
    }
}
