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
//! Bounded under load ([`Limits`]): a connection must send its request
//! headers within `header_read_timeout` or is closed; at most
//! `max_connections` are served at once (more wait in the listen backlog);
//! stopping closes idle connections at once and drops the rest after
//! `shutdown_grace`. A transcript page is rendered once per generation and
//! shared by every request for it (concurrent ones wait for the one render),
//! with at most `page_cache_bytes` of pages kept: memory does not grow with
//! the number of people reading the same page.

pub mod page;

use crate::engine::Engine;
use crate::links;
use crate::settings::WebSettings;
use crate::transcript;
use anyhow::Context as _;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OnceCell, Semaphore};

/// The pages need no script, style only from the page itself and no other
/// origin: a policy this strict makes any escaping slip harmless.
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// What bounds the server's use of time and memory (settings `web.*`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A connection that has not sent a request's headers in this time is closed.
    pub header_read_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// How long stopping waits for requests in progress.
    pub shutdown_grace: Duration,
    /// Rendered pages kept for the current generation, in bytes.
    pub page_cache_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 256,
            shutdown_grace: Duration::from_secs(5),
            page_cache_bytes: 64 << 20,
        }
    }
}

impl Limits {
    pub fn from_settings(web: &WebSettings) -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(web.header_read_timeout_seconds.max(1)),
            max_connections: web.max_connections.max(1),
            shutdown_grace: Duration::from_secs(web.shutdown_grace_seconds),
            page_cache_bytes: web.page_cache_mb.saturating_mul(1 << 20),
        }
    }
}

/// Serves the transcript pages on `web.listen` until `shutdown` resolves.
pub async fn serve(
    engine: Arc<Engine>,
    web: &WebSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listen = &web.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (setting web.listen)"))?;
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
    let app = router_with(engine, limits.page_cache_bytes);
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (closing, closing_rx) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let permit = match permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                tracing::warn!(
                    max = limits.max_connections,
                    "connection limit reached; new connections wait"
                );
                tokio::select! {
                    _ = &mut shutdown => break,
                    p = permits.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                }
            }
        };
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
        let service = TowerToHyperService::new(app.clone());
        let mut closing = closing_rx.clone();
        let header_timeout = limits.header_read_timeout;
        connections.spawn(async move {
            let _permit = permit;
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let mut conn = std::pin::pin!(http.serve_connection(TokioIo::new(stream), service));
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
        });
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

/// The routes, for [`serve`] and for tests.
pub fn router(engine: Arc<Engine>) -> Router {
    router_with(engine, Limits::default().page_cache_bytes)
}

fn router_with(engine: Arc<Engine>, page_cache_bytes: usize) -> Router {
    let app = Arc::new(App {
        engine,
        pages: PageCache::new(page_cache_bytes),
        renders: Default::default(),
    });
    Router::new()
        .route("/", get(list))
        .route("/healthz", get(healthz))
        .route(links::TRANSCRIPT_ROUTE, get(transcript_page))
        .route(links::TRANSCRIPT_ROUTE_SLASH, get(transcript_page_slash))
        .fallback(not_found)
        .with_state(app)
}

/// What every handler shares.
struct App {
    engine: Arc<Engine>,
    pages: PageCache,
    /// Transcript pages rendered so far (to see that sharing works).
    renders: std::sync::atomic::AtomicUsize,
}

type Slot = Arc<OnceCell<Bytes>>;

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
}

impl PageCache {
    fn new(max_bytes: usize) -> Self {
        PageCache {
            max_bytes,
            inner: Mutex::new(CacheInner::default()),
        }
    }

    /// The slot of page `id` of `generation` (a new generation empties the cache).
    fn slot(&self, generation: &str, id: &str) -> Slot {
        let mut c = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if c.generation != generation {
            *c = CacheInner {
                generation: generation.to_owned(),
                ..CacheInner::default()
            };
        }
        c.slots.entry(id.to_owned()).or_default().clone()
    }

    /// Counts a page just rendered, evicting the oldest others over the cap.
    fn rendered(&self, generation: &str, id: &str, size: usize) {
        let mut c = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if c.generation != generation {
            return;
        }
        c.filled.push_back((id.to_owned(), size));
        c.bytes += size;
        while c.bytes > self.max_bytes && c.filled.len() > 1 {
            let Some((old, n)) = c.filled.pop_front() else {
                break;
            };
            c.bytes -= n;
            c.slots.remove(&old);
        }
        if c.bytes > self.max_bytes {
            // The page alone is over the cap: share it while it is being
            // asked for, keep nothing once the requests holding it are done.
            c.filled.clear();
            c.bytes = 0;
            c.slots.remove(id);
        }
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
    let engine = app.engine.clone();
    let Some(loaded) = blocking(move || engine.snapshot()).await else {
        return internal_error();
    };
    let g = &loaded.generation;
    let body = serde_json::json!({
        "status": "ok",
        "generation": g.name,
        "built_at": rfc3339_utc(g.manifest.built_at_unix),
        "built_at_unix": g.manifest.built_at_unix,
        "transcripts": g.manifest.transcripts,
        "passages": g.manifest.passages,
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
    let engine = app.engine.clone();
    let Some(loaded) = blocking(move || engine.snapshot()).await else {
        return internal_error();
    };
    let generation = loaded.generation.name.clone();
    if loaded.generation.catalog.transcript(&id).is_none() {
        return not_found(State(app)).await;
    }
    let slot = app.pages.slot(&generation, &id);
    let mut rendered_here = false;
    let body = slot
        .get_or_try_init(|| {
            rendered_here = true;
            app.renders
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let id = id.clone();
            async move {
                let rendered = blocking(move || {
                    let g = &loaded.generation;
                    let info = g.catalog.transcript(&id).ok_or("gone")?;
                    let passages = g.transcript_passages(&id).map_err(|e| {
                        tracing::error!(error = %e, "cannot read a transcript's passages");
                        "unreadable"
                    })?;
                    Ok::<_, &str>(Bytes::from(page::transcript(info, &passages)))
                })
                .await;
                rendered.unwrap_or(Err("render task failed"))
            }
        })
        .await;
    match body {
        Ok(body) => {
            let body = body.clone();
            if rendered_here {
                app.pages.rendered(&generation, &id, body.len());
            }
            html(StatusCode::OK, body)
        }
        Err(_) => internal_error(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineOptions;

    const SMALL: &str =
        "小論壇\n\n甲:我們談談營銷。\n\n乙:數據很重要。\n\n甲:謝謝。\n\n乙:不客氣。\n";

    fn app(files: &[(&str, &str)], cache_bytes: usize) -> (tempfile::TempDir, Arc<App>) {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("transcripts")).unwrap();
        for (name, text) in files {
            std::fs::write(tmp.path().join("transcripts").join(name), text).unwrap();
        }
        let engine = Engine::open(EngineOptions::new(tmp.path()), &|_| {})
            .unwrap()
            .engine;
        let app = Arc::new(App {
            engine: Arc::new(engine),
            pages: PageCache::new(cache_bytes),
            renders: Default::default(),
        });
        (tmp, app)
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
        // A cap smaller than any page keeps none: every request renders.
        assert_eq!(app.renders.load(std::sync::atomic::Ordering::Relaxed), 4);
        let c = app.pages.inner.lock().unwrap();
        assert_eq!(c.bytes, 0);
        assert!(c.slots.is_empty());
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
