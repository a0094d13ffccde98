//! Transcript pages: the small HTTP server that the links in answers point
//! at (`{public_url}/t/{transcript_id}#turn-{N}:~:text=…`).
//!
//! `GET /t/{id}` renders one transcript, every turn an element with
//! `id="turn-N"`; `GET /` lists the transcripts; `GET /healthz` answers 200
//! while a generation is loaded, with a JSON body naming that generation and
//! when it was built (so a supervisor sees that every process of a bot has
//! caught up with `CURRENT`). Every request renders from
//! [`Engine::snapshot`], the very generation searches use, so a reindex
//! changes pages and answers at the same moment and a link never points at a
//! page that lacks its quote. The HTML itself is built in [`page`] (pure).

pub mod page;

use crate::search::Engine;
use crate::transcript;
use anyhow::Context as _;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::future::Future;
use std::sync::Arc;

/// The pages need no script, style only from the page itself and no other
/// origin: a policy this strict makes any escaping slip harmless.
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Serves the transcript pages on `listen` until `shutdown` resolves.
pub async fn serve(
    engine: Arc<Engine>,
    listen: &str,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (setting web.listen)"))?;
    serve_on(engine, listener, shutdown).await
}

/// As [`serve`], on a listener already bound (tests bind port 0 first to
/// learn the address their links must use).
pub async fn serve_on(
    engine: Arc<Engine>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let address = listener.local_addr().context("listener has no address")?;
    tracing::info!(%address, public_url = %engine.options().public_url, "serving transcript pages");
    axum::serve(listener, router(engine))
        .with_graceful_shutdown(shutdown)
        .await
        .context("the transcript page server failed")?;
    tracing::info!(%address, "transcript pages stopped");
    Ok(())
}

/// The routes, for [`serve`] and for tests.
pub fn router(engine: Arc<Engine>) -> Router {
    Router::new()
        .route("/", get(list))
        .route("/healthz", get(healthz))
        .route("/t/{id}", get(transcript_page))
        .fallback(not_found)
        .with_state(engine)
}

/// An HTML response with the headers every page carries.
fn html(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
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

async fn healthz(State(engine): State<Arc<Engine>>) -> Response {
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

async fn list(State(engine): State<Arc<Engine>>) -> Response {
    match blocking(move || page::transcript_list(&engine.snapshot().generation.catalog)).await {
        Some(body) => html(StatusCode::OK, body),
        None => internal_error(),
    }
}

async fn not_found(State(engine): State<Arc<Engine>>) -> Response {
    match blocking(move || page::not_found(&engine.snapshot().generation.catalog)).await {
        Some(body) => html(StatusCode::NOT_FOUND, body),
        None => internal_error(),
    }
}

async fn transcript_page(
    State(engine): State<Arc<Engine>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    // A path that does not even decode is just another page that is not here.
    let id = match id {
        Ok(Path(id)) if transcript::is_valid_id(&id) => id,
        _ => return not_found(State(engine)).await,
    };
    let for_page = engine.clone();
    let rendered = blocking(move || {
        let loaded = for_page.snapshot();
        let g = &loaded.generation;
        let Some(info) = g.catalog.transcript(&id) else {
            return Ok(None);
        };
        let passages = g.transcript_passages(&id)?;
        Ok::<_, crate::index::IndexError>(Some(page::transcript(info, &passages)))
    })
    .await;
    match rendered {
        Some(Ok(Some(body))) => html(StatusCode::OK, body),
        Some(Ok(None)) => not_found(State(engine)).await,
        Some(Err(e)) => {
            tracing::error!(error = %e, "cannot read a transcript's passages");
            internal_error()
        }
        None => internal_error(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn build_times_read_as_utc_dates() {
        assert_eq!(super::rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339_utc(1_795_634_558), "2026-11-25T19:22:38Z");
    }
}
