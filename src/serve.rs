//! The wiring of the long-running program: open the engine (building the
//! index when needed), start the transcript pages and the Discord bot (or
//! the local console), and stop them on SIGINT/SIGTERM. The faces never
//! start one another: this module does. Stopping takes at most
//! [`discord::SHUTDOWN_GRACE`]: what has not stopped by then is abandoned
//! (a reindex already started finishes on its own thread).

use crate::discord;
use crate::engine::{Engine, Watcher, REFRESH_INTERVAL};
use crate::error::Failure;
use crate::index::Progress;
use crate::settings::{Settings, WebSettings};
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// A multi-threaded runtime for the long-running parts.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Internal(e.into()))
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

/// Prints build progress on stderr (a line that updates in a terminal).
pub fn progress_printer() -> impl Fn(Progress) {
    |p| {
        let line = match p {
            Progress::Parsed { transcripts } => format!("parsed {transcripts} transcript(s)"),
            Progress::Indexed { passages, of } => format!("indexing passages {passages}/{of}"),
            Progress::Committing => "writing the index".to_owned(),
            Progress::Embedded { passages, of } => format!("embedding passages {passages}/{of}"),
        };
        eprintln!("forumbot: {line}");
    }
}

/// Opens the engine, building the index when needed, and reports that.
pub fn open_engine(settings: &Settings) -> Result<Engine, Failure> {
    open_engine_with(settings.engine_options())
}

fn open_engine_with(opts: crate::engine::EngineOptions) -> Result<Engine, Failure> {
    let opened = Engine::open(opts, &progress_printer())?;
    if let Some(b) = &opened.built {
        eprintln!(
            "forumbot: indexed {} transcript(s), {} passages in {:.2} s",
            b.transcripts.len(),
            b.passages,
            b.elapsed.as_secs_f64()
        );
    }
    if let Some(why) = &opened.not_refreshed {
        eprintln!(
            "forumbot: warning: serving the previous index, not rebuilt: {}",
            crate::transcript::for_terminal(&why.to_string())
        );
    }
    Ok(opened.engine)
}

/// Opens the engine for a serving command, with the watcher that picks up
/// generations other processes build (a `forumbot index` run) while it
/// serves; one-shot commands open it without one. Keep the watcher alive
/// as long as the engine serves: dropping it stops the thread.
fn serving_engine(settings: &Settings) -> Result<(Arc<Engine>, Watcher), Failure> {
    // Vectors of a new generation are computed in the watcher's thread:
    // questions are answered by words meanwhile, never kept waiting.
    let mut opts = settings.engine_options();
    opts.semantic_in_background = true;
    let engine = Arc::new(open_engine_with(opts)?);
    let watcher = engine.watch(REFRESH_INTERVAL).map_err(|e| {
        Failure::Internal(anyhow::Error::new(e).context("starting the index watcher"))
    })?;
    Ok((engine, watcher))
}

/// Binds the pages' address, a failure being the user's to fix (exit 2,
/// with the address and what to do).
async fn bind_pages(web: &WebSettings, hint: &'static str) -> Result<TcpListener, Failure> {
    crate::web::bind(web)
        .await
        .map_err(|e| Failure::user(crate::web::BindError { hint, ..e }.to_string()))
}

/// The settings with links to the address actually bound when no
/// `web.public_url` is set (`web.listen` with port 0 picks a free port).
fn links_to(settings: &Settings, listener: &TcpListener) -> Settings {
    let mut settings = settings.clone();
    if settings.web.public_url.trim().is_empty() {
        if let Ok(address) = listener.local_addr() {
            settings.web.listen = address.to_string();
        }
    }
    settings
}

/// `forumbot web`: the transcript pages alone, until SIGINT/SIGTERM. The
/// port is bound before the pages are announced, at the address bound.
pub fn pages(settings: &Settings) -> Result<(), Failure> {
    let rt = runtime()?;
    let listener = rt.block_on(bind_pages(&settings.web, ""))?;
    let settings = &links_to(settings, &listener);
    let (engine, _watcher) = serving_engine(settings)?;
    let limits = crate::web::Limits::from_settings(&settings.web);
    rt.block_on(async move {
        let address = listener.local_addr()?;
        eprintln!("forumbot: transcript pages on http://{address}/ (Ctrl-C stops)");
        crate::web::serve_with(engine, listener, limits, shutdown_signal()).await
    })?;
    Ok(())
}

/// `forumbot console`: a local session on stdin and stdout, until `/quit`
/// or the end of the input.
pub fn console(settings: &Settings) -> Result<(), Failure> {
    let (engine, _watcher) = serving_engine(settings)?;
    crate::console::session(engine, settings)?;
    Ok(())
}

/// `forumbot run`: the bot, and the transcript pages when `web.enabled`,
/// until SIGINT/SIGTERM or until the bot stops by itself (a refused token).
pub fn bot(settings: &Settings) -> Result<(), Failure> {
    if settings.discord.token.is_none() {
        return Err(Failure::user(discord::NO_TOKEN));
    }
    let rt = runtime()?;
    // The pages' port first: a bot whose every link is dead must not start.
    let listener = if settings.web.enabled {
        Some(rt.block_on(bind_pages(&settings.web, crate::web::HINT_PAGES_OFF))?)
    } else {
        None
    };
    let settings = &match &listener {
        Some(l) => links_to(settings, l),
        None => settings.clone(),
    };
    let (engine, _watcher) = serving_engine(settings)?;
    let settings = settings.clone();
    rt.block_on(run_bot_on(settings, engine, listener, shutdown_signal()))?;
    Ok(())
}

/// Runs the bot and the pages until `shutdown` resolves or the bot stops
/// by itself, then stops both within [`discord::SHUTDOWN_GRACE`]. The
/// pages' address is bound first (when `web.enabled`): one that cannot be
/// is an error before the bot connects.
pub async fn run_bot(
    settings: Settings,
    engine: Arc<Engine>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let listener = if settings.web.enabled {
        Some(crate::web::bind(&settings.web).await?)
    } else {
        None
    };
    run_bot_on(settings, engine, listener, shutdown).await
}

/// As [`run_bot`], with the pages' listener already bound (`None`: no pages).
async fn run_bot_on(
    settings: Settings,
    engine: Arc<Engine>,
    listener: Option<TcpListener>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let mut bot = discord::start(settings.clone(), engine.clone()).await?;
    let (stop, stopping) = watch::channel(false);
    let limits = crate::web::Limits::from_settings(&settings.web);
    let web = listener.map(|l| spawn_pages(engine, l, limits, stopping));
    let ended = tokio::select! {
        () = shutdown => None,
        ended = bot.stopped() => Some(ended),
    };
    let deadline = Instant::now() + discord::SHUTDOWN_GRACE;
    stop.send_replace(true);
    let result = match ended {
        None => bot.shutdown().await,
        Some(ended) => ended,
    };
    if let Some(mut web) = web {
        if tokio::time::timeout_at(deadline, &mut web).await.is_err() {
            tracing::warn!("the transcript pages did not stop in time; closing them");
            web.abort();
        }
    }
    result
}

/// The transcript pages in the background until `stopping` turns true.
fn spawn_pages(
    engine: Arc<Engine>,
    listener: TcpListener,
    limits: crate::web::Limits,
    mut stopping: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let stop = async move {
            let _ = stopping.wait_for(|s| *s).await;
        };
        if let Err(e) = crate::web::serve_with(engine, listener, limits, stop).await {
            tracing::error!("the transcript pages stopped: {e:#}");
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bot_without_a_token_is_bad_input_and_opens_nothing() {
        let mut settings = Settings::load(None).unwrap();
        settings.discord.token = None;
        let missing = tempfile::tempdir().unwrap();
        settings.data.dir = missing.path().join("nothing-here");
        let f = bot(&settings).unwrap_err();
        assert_eq!(f.exit_code(), 2, "{f}");
        assert!(f.to_string().contains("FORUMBOT__DISCORD__TOKEN"), "{f}");
        assert!(!settings.data.dir.exists(), "the engine was opened");
    }
}
