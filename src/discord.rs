//! The Discord front end: poise slash commands on serenity, answers to
//! mentions, "more" buttons, and the transcript pages served beside the bot.
//!
//! Thin by design: [`replies`] decides what every command answers (shared
//! with the console), [`convert`] turns that into Discord messages with no
//! pings, and the rest is Discord plumbing: who may do what
//! ([`permissions`]), how often ([`ratelimit`]), paging ([`pages`]), and
//! fetching uploads ([`download`]).
//!
//! [`start`] runs the bot in the current tokio runtime and returns a
//! [`BotHandle`] (tests start the real bot against a local Discord this way);
//! [`run`] is `start` plus waiting for SIGINT/SIGTERM. With
//! `discord.api_base` set, REST and the gateway go to that server instead of
//! Discord (serenity's proxy, with its rate limiter off, which the proxy
//! requires).

mod commands;
pub mod convert;
mod download;
mod events;
pub mod pages;
pub mod permissions;
pub mod ratelimit;
pub mod replies;

use crate::search::Engine;
use crate::settings::Settings;
use anyhow::Context as _;
use secrecy::ExposeSecret;
use serenity::all::{ClientBuilder, GatewayIntents, GuildId, HttpBuilder, ShardManager};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use commands::MAX_LIMIT;

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
            max_upload_bytes: d.max_upload_bytes,
            default_limit: settings
                .search
                .default_limit
                .clamp(1, usize::from(MAX_LIMIT)),
        })
    }
}

/// How long a clean shutdown may take before the bot stops waiting.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A running bot (and the transcript pages, when enabled).
pub struct BotHandle {
    shard_manager: Arc<ShardManager>,
    client: JoinHandle<Result<(), serenity::Error>>,
    web: Option<JoinHandle<()>>,
    stop_web: watch::Sender<bool>,
}

impl BotHandle {
    /// Resolves when the Discord client stops by itself (a fatal error such
    /// as a rejected token); `run` treats that as the end.
    pub async fn stopped(&mut self) -> anyhow::Result<()> {
        match (&mut self.client).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(anyhow::Error::new(e).context("the Discord client stopped")),
            Err(e) => Err(anyhow::Error::new(e).context("the Discord client task failed")),
        }
    }

    /// Closes the shards and stops the pages; work already started (a
    /// reindex writes through a temporary name) finishes on its own thread.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        tracing::info!("closing the Discord connection");
        self.shard_manager.shutdown_all().await;
        self.stop_web.send_replace(true);
        match tokio::time::timeout(SHUTDOWN_GRACE, self.client).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!("the Discord client ended with: {e}"),
            Ok(Err(e)) => tracing::warn!("the Discord client task failed: {e}"),
            Err(_) => tracing::warn!("the Discord client did not stop in time"),
        }
        if let Some(web) = self.web {
            if tokio::time::timeout(SHUTDOWN_GRACE, web).await.is_err() {
                tracing::warn!("the transcript pages did not stop in time");
            }
        }
        Ok(())
    }
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

/// Connects to Discord (or `discord.api_base`), registers the commands once
/// connected, and serves the transcript pages when `web.enabled`.
pub async fn start(settings: Settings, engine: Arc<Engine>) -> anyhow::Result<BotHandle> {
    let token = settings
        .discord
        .token
        .as_ref()
        .context(crate::cli::NO_TOKEN)?;
    let data = Data::new(engine.clone(), &settings)?;
    let guild_id = settings.discord.guild_id;
    let framework = poise::Framework::builder()
        .options(framework_options())
        .setup(move |ctx, _ready, framework| {
            Box::pin(async move {
                let commands = &framework.options().commands;
                if guild_id != 0 {
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

    let mut http =
        HttpBuilder::new(token.expose_secret()).default_allowed_mentions(convert::no_pings());
    let api_base = settings.discord.api_base.trim().trim_end_matches('/');
    if !api_base.is_empty() {
        tracing::info!(api_base, "using a Discord-compatible server");
        // serenity ignores the proxy unless its rate limiter is off.
        http = http.proxy(api_base).ratelimiter_disabled(true);
    }
    // Mentions carry their text without the privileged MESSAGE_CONTENT intent.
    let intents =
        GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES | GatewayIntents::DIRECT_MESSAGES;
    let mut client = ClientBuilder::new_with_http(http.build(), intents)
        .framework(framework)
        .await
        .context("creating the Discord client")?;
    let shard_manager = client.shard_manager.clone();
    let client = tokio::spawn(async move { client.start().await });

    let (stop_web, mut stopping) = watch::channel(false);
    let web = settings.web.enabled.then(|| {
        let web = settings.web.clone();
        tokio::spawn(async move {
            let stop = async move {
                let _ = stopping.wait_for(|s| *s).await;
            };
            if let Err(e) = crate::web::serve(engine, &web, stop).await {
                tracing::error!("the transcript pages stopped: {e:#}");
            }
        })
    });
    Ok(BotHandle {
        shard_manager,
        client,
        web,
        stop_web,
    })
}

/// Runs the bot until SIGINT/SIGTERM, then shuts down cleanly.
pub async fn run(settings: Settings, engine: Arc<Engine>) -> anyhow::Result<()> {
    let mut bot = start(settings, engine).await?;
    tokio::select! {
        () = crate::cli::shutdown_signal() => bot.shutdown().await,
        ended = bot.stopped() => ended,
    }
}

async fn on_error(error: poise::FrameworkError<'_, Data, Error>) {
    use poise::FrameworkError as E;
    match error {
        E::Command { error, ctx, .. } => {
            let during = format!("/{}", ctx.command().name);
            let r = replies::internal(&error, &during);
            if let Err(e) = ctx.send(convert::create_reply(&r, Vec::new())).await {
                tracing::warn!("could not send the apology: {e}");
            }
        }
        E::CommandPanic { payload, ctx, .. } => {
            let during = format!("/{}", ctx.command().name);
            let error = anyhow::anyhow!("panic: {}", payload.as_deref().unwrap_or("(no message)"));
            let r = replies::internal(&error, &during);
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
