//! The Discord front end: poise slash commands on serenity, answers to
//! mentions and "more" buttons. The bot only: [`crate::serve`] starts the
//! transcript pages beside it and stops both on SIGINT/SIGTERM.
//!
//! Thin by design: [`crate::app`] decides what every command answers (shared
//! with the console), [`convert`] turns that into Discord messages with no
//! pings, and the rest is Discord plumbing: who may do what
//! ([`permissions`]), how often ([`ratelimit`]), paging ([`pages`]), and
//! fetching uploads ([`download`]).
//!
//! [`start`] runs the bot in the current tokio runtime and returns a
//! [`BotHandle`] at once (tests start the real bot against a local Discord
//! this way; [`crate::serve`] waits for a signal, then shuts it down). With
//! `discord.api_base` set, REST and the gateway go to that server instead of
//! Discord (serenity's proxy, with its rate limiter off, which the proxy
//! requires).
//!
//! Connecting: `GET /gateway/bot` gives the gateway address and the shard
//! count Discord recommends; while it fails (Discord unreachable, 5xx, 429)
//! every retry is logged with its back-off, doubling from 1 s to 60 s. A
//! refused token (401/403) ends the bot. Then the shards of `discord.shards`
//! connect through serenity (`auto`: all recommended shards, in this
//! process). Everything a process keeps in memory (rate-limit windows,
//! "more" pages) is its own: a button handled by another process, or after a
//! restart, answers that the page expired.
//!
//! Stopping takes at most [`SHUTDOWN_GRACE`]: shards are closed cleanly when
//! they answer in time, and abandoned when they do not (or never connected).

mod commands;
pub mod convert;
mod download;
mod events;
pub mod pages;
pub mod permissions;
pub mod pictures;
pub mod ratelimit;

use crate::app;
use crate::engine::Engine;
use crate::reply::Reply;
use crate::search::Question;
use crate::settings::Settings;
use crate::settings::Shards;
use anyhow::Context as _;
use secrecy::ExposeSecret;
use serenity::all::{
    ClientBuilder, CreateActionRow, GatewayIntents, GuildId, Http, HttpBuilder, ShardManager,
};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use commands::MAX_LIMIT;

/// Shown when the bot is asked to run without a token.
pub const NO_TOKEN: &str = "no Discord token: set FORUMBOT__DISCORD__TOKEN (or DISCORD_TOKEN) in the environment to run the bot; `forumbot console` works without one";

/// State every command and event handler shares.
pub struct Data {
    engine: Arc<Engine>,
    limiter: ratelimit::RateLimiter,
    pages: pages::PageStore,
    /// For attachment downloads (serenity's own download has no size limit).
    http: reqwest::Client,
    moderator_role_ids: Vec<u64>,
    max_upload_bytes: u64,
    default_limit: usize,
    /// "Who spoke how much" as PNG, with the CJK font found at startup.
    pictures: Arc<pictures::Pictures>,
}

impl Data {
    /// Answers `q` off the async threads and adds the "more" buttons: the
    /// one ask → pager flow of `/ask`, mentions and button presses. A first
    /// answer (`key` is `None`) keeps its question under a new key only when
    /// there is a next page; a page of a kept question keeps its key.
    /// Refusals (ephemeral) get no buttons.
    async fn answer(
        &self,
        asker: u64,
        q: Question,
        key: Option<u64>,
    ) -> (Reply, Vec<CreateActionRow>) {
        let engine = self.engine.clone();
        let asked = q.clone();
        let r = match tokio::task::spawn_blocking(move || app::ask(&engine, &asked)).await {
            Ok(r) => r,
            Err(e) => app::internal(&anyhow::Error::new(e), "answering a question"),
        };
        if r.ephemeral || (key.is_none() && r.more.is_none()) {
            return (r, Vec::new());
        }
        let key = key.unwrap_or_else(|| self.pages.insert(asker, &q, std::time::Instant::now()));
        let buttons = convert::pager(asker, key, q.offset, q.limit, r.more.as_ref());
        (r, buttons)
    }
}

pub type Error = anyhow::Error;
pub type Context<'a> = poise::Context<'a, Data, Error>;

impl Data {
    fn new(engine: Arc<Engine>, settings: &Settings) -> anyhow::Result<Self> {
        let d = &settings.discord;
        Ok(Data {
            engine,
            limiter: ratelimit::RateLimiter::new(
                d.rate_limit_questions,
                Duration::from_secs(d.rate_limit_seconds),
            ),
            pages: pages::PageStore::new(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .context("building the HTTP client for attachments")?,
            moderator_role_ids: d.moderator_role_ids.clone(),
            max_upload_bytes: app::Limits::new(settings).max_upload_bytes,
            default_limit: settings
                .search
                .default_limit
                .clamp(1, usize::from(MAX_LIMIT)),
            pictures: Arc::new(pictures::Pictures::new(crate::chart::Painter::discover())),
        })
    }
}

/// The longest a shutdown takes: what has not stopped by then is abandoned.
pub const SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);
/// Back-off between attempts to reach Discord: doubles from the first to the
/// last, then stays there.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(60);
/// One attempt to reach Discord gives up after this long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A running bot.
pub struct BotHandle {
    /// Set once the client exists (after Discord answered).
    shard_manager: Arc<OnceLock<Arc<ShardManager>>>,
    client: JoinHandle<anyhow::Result<()>>,
    /// Tells the connecting task to stop.
    stop: watch::Sender<bool>,
}

impl BotHandle {
    /// Resolves when the Discord client stops by itself (a fatal error such
    /// as a rejected token); [`crate::serve`] treats that as the end.
    pub async fn stopped(&mut self) -> anyhow::Result<()> {
        match (&mut self.client).await {
            Ok(result) => result,
            Err(e) => Err(anyhow::Error::new(e).context("the Discord client task failed")),
        }
    }

    /// Closes the shards within [`SHUTDOWN_GRACE`];
    /// work already started (a reindex writes through a temporary name)
    /// finishes on its own thread.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        tracing::info!("closing the Discord connection");
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        self.stop.send_replace(true);
        if let Some(manager) = self.shard_manager.get() {
            // serenity waits up to 5 s for each shard that does not answer.
            if tokio::time::timeout_at(deadline, manager.shutdown_all())
                .await
                .is_err()
            {
                tracing::warn!("the shards did not close in time; leaving them");
            }
        }
        let mut client = self.client;
        match tokio::time::timeout_at(deadline, &mut client).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!("the Discord client ended with: {e:#}"),
            Ok(Err(e)) => tracing::warn!("the Discord client task failed: {e}"),
            Err(_) => {
                // Nothing was connected (serenity then never returns), or a
                // shard hangs: stop waiting.
                tracing::debug!("the Discord client did not stop in time; abandoning it");
                client.abort();
            }
        }
        Ok(())
    }
}

/// The REST client, to Discord or to `discord.api_base`.
fn http_client(settings: &Settings) -> anyhow::Result<Http> {
    let token = settings.discord.token.as_ref().context(NO_TOKEN)?;
    // A Discord that does not answer must not hold a connection attempt
    // (and the retries behind it) for minutes.
    let reqwest = reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(REQUEST_TIMEOUT)
        .build()
        .context("building the HTTP client for Discord")?;
    let mut http = HttpBuilder::new(token.expose_secret())
        .client(reqwest)
        .default_allowed_mentions(convert::no_pings());
    let api_base = api_base(settings);
    if !api_base.is_empty() {
        // serenity ignores the proxy unless its rate limiter is off.
        http = http.proxy(api_base).ratelimiter_disabled(true);
    }
    Ok(http.build())
}

fn api_base(settings: &Settings) -> &str {
    settings.discord.api_base.trim().trim_end_matches('/')
}

/// The wait before retry number `attempt` (1-based): 1 s, 2 s, 4 s … 60 s.
pub fn backoff(attempt: u32) -> Duration {
    RETRY_FIRST
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(RETRY_MAX)
}

/// Whether Discord refused us for good (a bad token, a banned bot), as
/// opposed to being out of reach for now.
fn is_fatal(error: &serenity::Error) -> bool {
    use serenity::http::HttpError;
    match error {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => {
            matches!(r.status_code.as_u16(), 401 | 403)
        }
        _ => false,
    }
}

/// An error and its causes, outermost first, joined by `: ` (each message
/// once: serenity repeats its own): "Error while sending HTTP request.:
/// error sending request for url (…): … Connection refused (os error
/// 111)", where the outermost alone says nothing about why.
fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let message = e.to_string();
        if parts.last() != Some(&message) {
            parts.push(message);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Asks Discord for the gateway until it answers, logging every retry with
/// its back-off. `None` when told to stop first.
async fn reach_discord(
    http: &Http,
    base: &str,
    stop: &mut watch::Receiver<bool>,
) -> anyhow::Result<Option<serenity::model::gateway::BotGateway>> {
    let mut attempt = 0u32;
    loop {
        let error = match tokio::time::timeout(REQUEST_TIMEOUT, http.get_bot_gateway()).await {
            Ok(Ok(gateway)) => return Ok(Some(gateway)),
            Ok(Err(e)) if is_fatal(&e) => {
                return Err(anyhow::Error::new(e)
                    .context("Discord refused the bot (is FORUMBOT__DISCORD__TOKEN right?)"));
            }
            Ok(Err(e)) => cause_chain(&e),
            Err(_) => format!("no answer within {REQUEST_TIMEOUT:?}"),
        };
        attempt += 1;
        let wait = backoff(attempt);
        tracing::warn!(
            attempt,
            retry_in_s = wait.as_secs(),
            "Discord is unreachable at {base} ({error}); retrying in {} s (attempt {attempt})",
            wait.as_secs()
        );
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => return Ok(None),
        }
    }
}

/// Connects once Discord answers, then runs the shards of `discord.shards`
/// until they stop. Returns early, `Ok`, when told to stop.
async fn connect(
    settings: &Settings,
    framework: poise::Framework<Data, Error>,
    manager_slot: &OnceLock<Arc<ShardManager>>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let base = match api_base(settings) {
        "" => "discord.com",
        base => base,
    };
    let probe = http_client(settings)?;
    let Some(gateway) = reach_discord(&probe, base, &mut stop).await? else {
        return Ok(());
    };
    let recommended = gateway.shards.max(1);
    let (first, last, total) = match settings.discord.shards {
        Shards::Auto => (0, recommended - 1, recommended),
        Shards::Range { first, last, total } => {
            if total < recommended {
                tracing::warn!(
                    total,
                    recommended,
                    "discord.shards names a total of {total}, Discord recommends {recommended}: it may refuse to connect"
                );
            }
            (first, last, total)
        }
    };
    // Mentions carry their text without the privileged MESSAGE_CONTENT intent.
    let intents =
        GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES | GatewayIntents::DIRECT_MESSAGES;
    let mut client = ClientBuilder::new_with_http(http_client(settings)?, intents)
        .framework(framework)
        .await
        .context("creating the Discord client")?;
    // The client asked for the gateway once more and, had that failed,
    // would fall back to Discord's own: use the address that just answered.
    *client.ws_url.lock().await = gateway.url;
    let _ = manager_slot.set(client.shard_manager.clone());
    if *stop.borrow() {
        return Ok(());
    }
    tracing::info!(
        shards = %format!("{first}-{last}/{total}"),
        recommended,
        "connecting the gateway shards"
    );
    // serenity 0.12 runs `range.start..=range.end` (the end is included).
    client
        .start_shard_range(first..last, total)
        .await
        .context("the Discord client stopped")
}

fn framework_options() -> poise::FrameworkOptions<Data, Error> {
    poise::FrameworkOptions {
        commands: commands::all(),
        on_error: |error| Box::pin(on_error(error)),
        event_handler: |fw, event| Box::pin(events::handle(fw, event)),
        // Belt and braces: every reply sets its own empty allowed_mentions.
        allowed_mentions: Some(convert::no_pings()),
        prefix_options: poise::PrefixFrameworkOptions {
            // Mentions are questions (see `events`), not a command prefix.
            mention_as_prefix: false,
            ..Default::default()
        },
        // Owners get no special treatment: /reindex checks everyone.
        initialize_owners: false,
        ..Default::default()
    }
}

/// Connects to Discord (or `discord.api_base`) in the background and
/// registers the commands once connected (in the process that runs shard 0).
pub async fn start(settings: Settings, engine: Arc<Engine>) -> anyhow::Result<BotHandle> {
    // Refuse a missing token or a bad client now, not in the background.
    http_client(&settings)?;
    let data = Data::new(engine, &settings)?;
    let guild_id = settings.discord.guild_id;
    let register = settings.discord.shards.runs_shard_zero();
    let framework = poise::Framework::builder()
        .options(framework_options())
        .setup(move |ctx, _ready, framework| {
            Box::pin(async move {
                let commands = &framework.options().commands;
                if !register {
                    tracing::info!("commands are registered by the process that runs shard 0");
                } else if guild_id != 0 {
                    poise::builtins::register_in_guild(ctx, commands, GuildId::new(guild_id))
                        .await
                        .context("registering the commands in the guild")?;
                    tracing::info!(guild_id, "commands registered in the guild");
                } else {
                    poise::builtins::register_globally(ctx, commands)
                        .await
                        .context("registering the commands")?;
                    tracing::info!("commands registered globally (may take a while to appear)");
                }
                Ok(data)
            })
        })
        .build();

    if !api_base(&settings).is_empty() {
        tracing::info!(
            api_base = api_base(&settings),
            "using a Discord-compatible server"
        );
    }
    tracing::info!(shards = %settings.discord.shards, "starting the Discord bot");
    let (stop, _) = watch::channel(false);
    let shard_manager = Arc::new(OnceLock::new());
    let client = {
        let settings = settings.clone();
        let slot = shard_manager.clone();
        let stop = stop.subscribe();
        tokio::spawn(async move { connect(&settings, framework, &slot, stop).await })
    };

    Ok(BotHandle {
        shard_manager,
        client,
        stop,
    })
}

async fn on_error(error: poise::FrameworkError<'_, Data, Error>) {
    use poise::FrameworkError as E;
    match error {
        E::Command { error, ctx, .. } => {
            let during = format!("/{}", ctx.command().name);
            let r = app::internal(&error, &during);
            if let Err(e) = ctx.send(convert::create_reply(&r, Vec::new())).await {
                tracing::warn!("could not send the apology: {e}");
            }
        }
        E::CommandPanic { payload, ctx, .. } => {
            let during = format!("/{}", ctx.command().name);
            let error = anyhow::anyhow!("panic: {}", payload.as_deref().unwrap_or("(no message)"));
            let r = app::internal(&error, &during);
            let _ = ctx.send(convert::create_reply(&r, Vec::new())).await;
        }
        E::ArgumentParse {
            error, input, ctx, ..
        } => {
            tracing::debug!(?input, "bad command options: {error}");
            let r = crate::reply::user_error(&format!(
                "無法讀取選項:{error}。請用指令的選項重新輸入。\nCould not read the options ({error}): use the command's options and try again."
            ));
            let _ = ctx.send(convert::create_reply(&r, Vec::new())).await;
        }
        E::Setup { error, .. } => tracing::error!("setting up the bot failed: {error:#}"),
        E::EventHandler { error, .. } => tracing::error!("handling an event failed: {error:#}"),
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                tracing::warn!("could not report an error: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_one_second_to_a_minute() {
        let waits: Vec<u64> = (1..=9).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(backoff(u32::MAX), RETRY_MAX);
    }

    #[test]
    fn the_retry_log_names_the_cause_not_only_the_wrapper() {
        #[derive(Debug)]
        struct Wrapper(std::io::Error);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("Error while sending HTTP request.")
            }
        }
        impl std::error::Error for Wrapper {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let refused =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        assert_eq!(
            cause_chain(&Wrapper(refused)),
            "Error while sending HTTP request.: Connection refused"
        );
    }
}
