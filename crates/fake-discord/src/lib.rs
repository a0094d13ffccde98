//! A Discord look-alike on 127.0.0.1 for end-to-end tests of the bot: the REST
//! API under `/api/v10`, a gateway websocket, and a file host for attachments.
//!
//! The bot under test reaches it through
//! `HttpBuilder::new(token).proxy(fake.base_url()).ratelimiter_disabled(true)`
//! (without `ratelimiter_disabled` serenity silently ignores the proxy) and
//! `ClientBuilder::new_with_http`. Every HTTP request is recorded, so a test
//! pushes an interaction, waits for the bot's answer and asserts on its JSON.
//!
//! Payloads the fake builds (READY, GUILD_CREATE, interactions, messages and
//! its own REST answers) are run through serenity 0.12.5's deserializers before
//! they leave: serenity drops a dispatch it cannot parse with nothing but a log
//! line, which would turn a harness mistake into a baffling timeout.
//!
//! The Discord rules that matter to a bot are imitated: an interaction is
//! acknowledged at most once (40060 otherwise), follow-ups and edits need an
//! acknowledged interaction (10015), an optional deadline stands in for
//! Discord's 3 s limit (10062), and unknown routes get Discord's 404 body.
//! Requests the fake has no route for are recorded with `handled == false`, so
//! a test can insist that nothing unexpected happened.
//!
//! Sharding: `GET /gateway/bot` recommends [`FakeDiscordConfig::shards`]
//! shards, and the gateway takes any number of connections, each identified
//! with its `[shard_id, total]` (recorded, see [`FakeDiscord::identified_shards`]).
//! A dispatch goes to one shard: the one Discord would pick for the payload's
//! guild (`(guild_id >> 22) % total`, shard 0 without a guild), or the one a
//! test names ([`FakeDiscord::send_interaction_on`]). The fake's one guild is
//! announced on every shard (a simplification: Discord announces it on its
//! own shard only). An IDENTIFY for a shard that does not exist in its total
//! is closed with 4010, as Discord does.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures::{SinkExt, StreamExt};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use serenity::model::Permissions;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How long the convenience waits (`send_interaction`, `send_dispatch`) give
/// the bot before failing the test.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// A token for tests; the fake accepts any token and records the one used.
pub const TEST_TOKEN: &str = "fake-discord-test-token";
/// `flags` bit of an ephemeral message.
pub const EPHEMERAL: u64 = 1 << 6;
/// `flags` bit of a deferred ("is thinking…") original response.
pub const LOADING: u64 = 1 << 7;

/// Interaction callback types (`body.type` of `POST .../callback`).
pub mod callback {
    pub const PONG: u64 = 1;
    pub const CHANNEL_MESSAGE: u64 = 4;
    pub const DEFERRED_CHANNEL_MESSAGE: u64 = 5;
    pub const DEFERRED_UPDATE_MESSAGE: u64 = 6;
    pub const UPDATE_MESSAGE: u64 = 7;
    pub const AUTOCOMPLETE_RESULT: u64 = 8;
    pub const MODAL: u64 = 9;
}

// Application and bot user differ on purpose, so code that confuses them fails.
const APPLICATION_ID: u64 = 1_100_000_000_000_000_001;
const BOT_USER_ID: u64 = 1_100_000_000_000_000_002;
const OWNER_USER_ID: u64 = 1_100_000_000_000_000_003;
const GUILD_ID: u64 = 1_100_000_000_000_000_010;
const CHANNEL_ID: u64 = 1_100_000_000_000_000_020;
const FIRST_GENERATED_ID: u64 = 1_200_000_000_000_000_000;
const BOT_NAME: &str = "forumbot";
// One fixed instant keeps payloads deterministic.
const TIMESTAMP: &str = "2024-05-01T12:00:00.000000+00:00";
const ATTACHMENT_SIZE_LIMIT: u64 = 10 * 1024 * 1024;
// Path-safe file names in attachment URLs; `/` stays so names can nest.
const FILE_NAME: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'_')
    .remove(b'/');

/// Knobs for [`FakeDiscord::start_with`].
#[derive(Clone, Debug)]
pub struct FakeDiscordConfig {
    /// Sent in HELLO. Discord's is 41.25 s; a short one exercises heartbeats.
    pub heartbeat_interval: Duration,
    /// When set, a callback later than this after the dispatch is refused
    /// with 10062 "Unknown interaction", as Discord does after 3 s. Off by
    /// default because a loaded test machine would make it flaky.
    pub interaction_deadline: Option<Duration>,
    /// Send GUILD_CREATE for the test guild after READY (fills serenity's
    /// cache, which then checks the bot's channel permissions).
    pub send_guild_create: bool,
    /// `locale` and `guild_locale` of built interactions.
    pub locale: String,
    /// Shards `GET /gateway/bot` recommends.
    pub shards: u32,
}

impl Default for FakeDiscordConfig {
    fn default() -> Self {
        Self {
            heartbeat_interval: Duration::from_millis(41_250),
            interaction_deadline: None,
            send_guild_create: true,
            locale: "zh-TW".to_owned(),
            shards: 1,
        }
    }
}

/// One HTTP request the bot made, with the fake's answer.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// Position in the log (0-based), usable with [`FakeDiscord::wait_for_since`].
    pub index: usize,
    pub method: String,
    /// Decoded path, e.g. `/api/v10/interactions/123/tok/callback`.
    pub path: String,
    pub query: Option<String>,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    /// The JSON body; for multipart requests the `payload_json` part; `Null`
    /// when there is no JSON.
    pub body: Value,
    pub raw_body: Vec<u8>,
    /// File parts of a multipart request.
    pub files: Vec<UploadedFile>,
    /// Status the fake answered with.
    pub status: u16,
    /// The JSON the fake answered with, if any.
    pub response: Option<Value>,
    /// False when no route matched (answered with the 404 fallback) or the
    /// fake could not build a valid answer; see `note`.
    pub handled: bool,
    /// Why the fake refused or failed the request, when it did.
    pub note: Option<String>,
    /// For interaction callbacks: time since the interaction was dispatched.
    pub since_interaction: Option<Duration>,
}

/// A file part of a multipart request.
#[derive(Clone, Debug)]
pub struct UploadedFile {
    /// Form field name, e.g. `files[0]`.
    pub field: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

impl RecordedRequest {
    pub fn is_callback(&self) -> bool {
        self.method == "POST"
            && self.path.starts_with("/api/v10/interactions/")
            && self.path.ends_with("/callback")
    }

    pub fn is_followup(&self) -> bool {
        self.method == "POST"
            && self.segments().len() == 3
            && self.path.starts_with("/api/v10/webhooks/")
    }

    pub fn is_edit_original(&self) -> bool {
        self.method == "PATCH"
            && self.path.starts_with("/api/v10/webhooks/")
            && self.path.ends_with("/messages/@original")
    }

    pub fn is_channel_message(&self) -> bool {
        let segments = self.segments();
        self.method == "POST"
            && segments.len() == 3
            && segments[0] == "channels"
            && segments[2] == "messages"
    }

    /// Path segments after `/api/v10/`.
    pub fn segments(&self) -> Vec<&str> {
        self.path
            .strip_prefix("/api/v10/")
            .map(|rest| rest.split('/').collect())
            .unwrap_or_default()
    }

    /// `type` of an interaction callback (4 message, 5 deferred, 8 autocomplete…).
    pub fn callback_type(&self) -> Option<u64> {
        if self.is_callback() {
            self.body.get("type").and_then(Value::as_u64)
        } else {
            None
        }
    }

    /// The message part of the body: `data` of a callback, the body itself
    /// for follow-ups, edits and channel messages.
    pub fn message(&self) -> &Value {
        if self.is_callback() {
            self.body.get("data").unwrap_or(&Value::Null)
        } else {
            &self.body
        }
    }

    pub fn content(&self) -> Option<&str> {
        self.message().get("content").and_then(Value::as_str)
    }

    pub fn embeds(&self) -> &[Value] {
        self.message()
            .get("embeds")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    pub fn flags(&self) -> u64 {
        self.message()
            .get("flags")
            .and_then(Value::as_u64)
            .unwrap_or(0)
    }

    pub fn is_ephemeral(&self) -> bool {
        self.flags() & EPHEMERAL != 0
    }

    pub fn allowed_mentions(&self) -> Option<&Value> {
        self.message()
            .get("allowed_mentions")
            .filter(|value| !value.is_null())
    }

    /// True when `allowed_mentions` is present and lets nobody be pinged.
    pub fn pings_nobody(&self) -> bool {
        let Some(allowed) = self.allowed_mentions() else {
            return false;
        };
        let empty = |key: &str| {
            allowed
                .get(key)
                .is_none_or(|v| v.as_array().is_some_and(Vec::is_empty))
        };
        empty("parse")
            && empty("users")
            && empty("roles")
            && allowed.get("replied_user") != Some(&json!(true))
    }

    /// Choices of an autocomplete callback.
    pub fn choices(&self) -> &[Value] {
        self.message()
            .get("choices")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    /// Every piece of text a user would read: content, embed titles,
    /// descriptions, field names and values, footers, authors.
    pub fn all_text(&self) -> String {
        message_text(self.message())
    }

    fn summary(&self) -> String {
        let mut line = format!(
            "#{} {} {} -> {}",
            self.index, self.method, self.path, self.status
        );
        if !self.handled {
            line.push_str(" (unhandled)");
        }
        if let Some(note) = &self.note {
            line.push_str(&format!(" [{note}]"));
        }
        line
    }
}

/// The custom ids of a message's buttons, in order.
pub fn buttons(message: &Value) -> Vec<String> {
    message["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().into_iter().flatten())
        .filter_map(|b| b["custom_id"].as_str().map(str::to_owned))
        .collect()
}

/// Text a user would read in a message JSON (content plus embeds).
pub fn message_text(message: &Value) -> String {
    let mut parts = Vec::new();
    let mut push = |value: Option<&Value>| {
        if let Some(text) = value.and_then(Value::as_str) {
            parts.push(text.to_owned());
        }
    };
    push(message.get("content"));
    for embed in message
        .get("embeds")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        push(embed.get("title"));
        push(embed.get("description"));
        push(embed.get("author").and_then(|a| a.get("name")));
        for field in embed
            .get("fields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            push(field.get("name"));
            push(field.get("value"));
        }
        push(embed.get("footer").and_then(|f| f.get("text")));
    }
    parts.join("\n")
}

/// Who triggers an interaction or writes a message.
#[derive(Clone, Debug)]
pub struct Invoker {
    pub user_id: u64,
    pub username: String,
    pub global_name: Option<String>,
    pub nick: Option<String>,
    pub roles: Vec<u64>,
    /// Permissions in the channel, sent as `member.permissions`.
    pub permissions: Permissions,
}

impl Invoker {
    /// An ordinary member: read, write, embed, attach, use commands.
    pub fn member(user_id: u64) -> Self {
        Self {
            user_id,
            username: format!("user{user_id}"),
            global_name: None,
            nick: None,
            roles: Vec::new(),
            permissions: everyday_permissions(),
        }
    }

    /// A member who may also manage messages, threads, the guild and timeouts.
    pub fn moderator(user_id: u64) -> Self {
        Self::member(user_id).with_permissions(
            everyday_permissions()
                | Permissions::MANAGE_MESSAGES
                | Permissions::MANAGE_THREADS
                | Permissions::MANAGE_GUILD
                | Permissions::MODERATE_MEMBERS,
        )
    }

    /// Discord sends an administrator every permission bit.
    pub fn admin(user_id: u64) -> Self {
        Self::member(user_id).with_permissions(Permissions::all())
    }

    pub fn named(mut self, username: &str) -> Self {
        self.username = username.to_owned();
        self
    }

    pub fn with_global_name(mut self, name: &str) -> Self {
        self.global_name = Some(name.to_owned());
        self
    }

    pub fn with_nick(mut self, nick: &str) -> Self {
        self.nick = Some(nick.to_owned());
        self
    }

    pub fn with_roles(mut self, roles: &[u64]) -> Self {
        self.roles = roles.to_vec();
        self
    }

    pub fn with_permissions(mut self, permissions: Permissions) -> Self {
        self.permissions = permissions;
        self
    }

    pub fn user_json(&self) -> Value {
        json!({
            "id": self.user_id.to_string(),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": null,
            "bot": false,
            "public_flags": 0,
        })
    }

    /// Guild member object as in an interaction (`with_user`) or alongside a
    /// MESSAGE_CREATE (without).
    pub fn member_json(&self, with_user: bool) -> Value {
        let mut member = json!({
            "roles": self.roles.iter().map(u64::to_string).collect::<Vec<_>>(),
            "nick": self.nick,
            "avatar": null,
            "joined_at": TIMESTAMP,
            "premium_since": null,
            "deaf": false,
            "mute": false,
            "flags": 0,
            "pending": false,
            "communication_disabled_until": null,
            "permissions": self.permissions.bits().to_string(),
        });
        if with_user {
            member["user"] = self.user_json();
        }
        member
    }
}

/// Permissions of an everyday member, and of the bot in the test guild.
pub fn everyday_permissions() -> Permissions {
    Permissions::VIEW_CHANNEL
        | Permissions::SEND_MESSAGES
        | Permissions::SEND_MESSAGES_IN_THREADS
        | Permissions::EMBED_LINKS
        | Permissions::ATTACH_FILES
        | Permissions::READ_MESSAGE_HISTORY
        | Permissions::ADD_REACTIONS
        | Permissions::USE_EXTERNAL_EMOJIS
        | Permissions::USE_APPLICATION_COMMANDS
}

/// Raw command options as Discord sends them in `data.options`.
pub mod opt {
    use serde_json::{json, Value};

    pub fn string(name: &str, value: &str) -> Value {
        json!({"name": name, "type": 3, "value": value})
    }

    pub fn integer(name: &str, value: i64) -> Value {
        json!({"name": name, "type": 4, "value": value})
    }

    pub fn boolean(name: &str, value: bool) -> Value {
        json!({"name": name, "type": 5, "value": value})
    }

    pub fn user(name: &str, user_id: u64) -> Value {
        json!({"name": name, "type": 6, "value": user_id.to_string()})
    }

    pub fn channel(name: &str, channel_id: u64) -> Value {
        json!({"name": name, "type": 7, "value": channel_id.to_string()})
    }

    pub fn role(name: &str, role_id: u64) -> Value {
        json!({"name": name, "type": 8, "value": role_id.to_string()})
    }

    pub fn number(name: &str, value: f64) -> Value {
        json!({"name": name, "type": 10, "value": value})
    }

    /// Pair with [`super::BuiltInteraction::with_attachment`].
    pub fn attachment(name: &str, attachment_id: &str) -> Value {
        json!({"name": name, "type": 11, "value": attachment_id})
    }

    /// The option being typed in an autocomplete interaction.
    pub fn focused(name: &str, partial: &str) -> Value {
        json!({"name": name, "type": 3, "value": partial, "focused": true})
    }

    /// A focused option of another type (4 integer, 10 number…). Discord
    /// sends the partial input as a string whatever the type.
    pub fn focused_as(name: &str, kind: u8, partial: &str) -> Value {
        json!({"name": name, "type": kind, "value": partial, "focused": true})
    }
}

/// An interaction payload ready for [`FakeDiscord::send_interaction`].
#[derive(Clone, Debug)]
pub struct BuiltInteraction {
    pub id: String,
    pub token: String,
    pub json: Value,
}

impl BuiltInteraction {
    pub fn with_locale(mut self, locale: &str) -> Self {
        self.json["locale"] = json!(locale);
        self
    }

    /// Puts an attachment into `data.resolved.attachments`; reference it with
    /// [`opt::attachment`].
    pub fn with_attachment(self, attachment: &FakeAttachment) -> Self {
        self.with_resolved("attachments", &attachment.id, attachment.json.clone())
    }

    /// Adds an entry to `data.resolved.<kind>` (users, members, roles,
    /// channels, messages, attachments).
    pub fn with_resolved(mut self, kind: &str, id: &str, value: Value) -> Self {
        self.json["data"]["resolved"][kind][id] = value;
        self
    }

    /// Moves the interaction into the channel with this id.
    pub fn in_channel(mut self, channel_id: u64) -> Self {
        self.json["channel_id"] = json!(channel_id.to_string());
        self.json["channel"]["id"] = json!(channel_id.to_string());
        self
    }

    /// Turns a guild interaction into one from a DM with the bot.
    pub fn in_dm(mut self, dm_channel_id: u64) -> Self {
        let user = self.json["member"]["user"].clone();
        if let Some(object) = self.json.as_object_mut() {
            object.remove("member");
            object.remove("guild_id");
            object.remove("guild_locale");
        }
        self.json["user"] = user.clone();
        self.json["channel_id"] = json!(dm_channel_id.to_string());
        self.json["channel"] = json!({
            "id": dm_channel_id.to_string(),
            "type": 1,
            "flags": 0,
            "recipients": [user],
            "last_message_id": null,
        });
        self.json["context"] = json!(1);
        self.json["authorizing_integration_owners"] = json!({"0": "0"});
        self
    }

    /// For component interactions: the message the component sits on.
    pub fn with_message(mut self, message: Value) -> Self {
        self.json["message"] = message;
        self
    }
}

/// An attachment served by the fake, for `data.resolved.attachments`.
#[derive(Clone, Debug)]
pub struct FakeAttachment {
    pub id: String,
    pub url: String,
    pub json: Value,
}

/// The running fake. Dropping it stops the server.
pub struct FakeDiscord {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: JoinHandle<()>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.shared.shutdown.send_replace(true);
        self.server.abort();
    }
}

impl FakeDiscord {
    pub async fn start() -> Self {
        Self::start_with(FakeDiscordConfig::default()).await
    }

    pub async fn start_with(config: FakeDiscordConfig) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            config,
            base_url: format!("http://{addr}"),
            next_id: AtomicU64::new(FIRST_GENERATED_ID),
            requests: Mutex::default(),
            request_count: watch::Sender::new(0),
            files: Mutex::default(),
            commands: Mutex::default(),
            interactions: Mutex::default(),
            messages: Mutex::default(),
            gateway: Mutex::default(),
            connected: watch::Sender::new(BTreeMap::new()),
            shutdown: watch::Sender::new(false),
        });
        // A harness bug in these would otherwise surface as "bot never ready".
        must_parse::<serenity::model::gateway::Ready>("READY", &shared.ready(0, &json!([0, 1])));
        must_parse::<serenity::model::event::GuildCreateEvent>(
            "GUILD_CREATE",
            &shared.guild_create(),
        );

        let app = Router::new()
            .route("/ws", get(gateway_upgrade))
            .fallback(rest)
            .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(Arc::clone(&shared));
        let mut shutdown = shared.shutdown.subscribe();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = shutdown.wait_for(|stop| *stop).await;
                })
                .await;
        });
        Self {
            shared,
            addr,
            server,
        }
    }

    // ---- addresses and fixed ids ----

    /// `http://127.0.0.1:PORT`, the value for `HttpBuilder::proxy`.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn gateway_url(&self) -> String {
        self.shared.gateway_url()
    }

    pub fn application_id(&self) -> u64 {
        APPLICATION_ID
    }

    pub fn bot_user_id(&self) -> u64 {
        BOT_USER_ID
    }

    /// Owner of the application in `GET /oauth2/applications/@me`.
    pub fn owner_user_id(&self) -> u64 {
        OWNER_USER_ID
    }

    pub fn guild_id(&self) -> u64 {
        GUILD_ID
    }

    /// The test guild's text channel, where interactions and messages happen.
    pub fn channel_id(&self) -> u64 {
        CHANNEL_ID
    }

    /// A fresh snowflake, unique within this fake.
    pub fn next_id(&self) -> u64 {
        self.shared.next_id()
    }

    /// An `Http` wired to this fake the way the bot must do it, for tests
    /// that call the API directly. Unlike the bot's, which learns it from
    /// READY, it knows the application id from the start.
    pub fn http(&self, token: &str) -> serenity::http::Http {
        serenity::http::HttpBuilder::new(token)
            .proxy(self.base_url())
            .ratelimiter_disabled(true)
            .application_id(serenity::model::id::ApplicationId::new(APPLICATION_ID))
            .build()
    }

    // ---- files ----

    /// Serves `bytes` at `GET /files/{name}` and returns the absolute URL.
    pub fn serve_file(&self, name: &str, bytes: impl Into<Vec<u8>>) -> String {
        lock(&self.shared.files).insert(name.to_owned(), bytes.into());
        format!(
            "{}/files/{}",
            self.shared.base_url,
            utf8_percent_encode(name, FILE_NAME)
        )
    }

    /// Serves a file and describes it as a Discord attachment.
    pub fn attachment(
        &self,
        filename: &str,
        bytes: impl Into<Vec<u8>>,
        content_type: &str,
    ) -> FakeAttachment {
        let bytes = bytes.into();
        let id = self.next_id().to_string();
        let size = bytes.len();
        let url = self.serve_file(&format!("attachments/{id}/{filename}"), bytes);
        let json = json!({
            "id": id,
            "filename": filename,
            "size": size,
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
        });
        FakeAttachment { id, url, json }
    }

    // ---- payload builders ----

    /// A slash command from `invoker` in the test channel. `name` may hold a
    /// subcommand ("speaker list") or group and subcommand ("admin index
    /// rebuild"); `options` (an array, one option, or `Null`) are the leaf's.
    pub fn slash_command(&self, name: &str, options: Value, invoker: &Invoker) -> BuiltInteraction {
        self.command_interaction(2, name, options, invoker)
    }

    /// An autocomplete request; exactly one option must be focused (see
    /// [`opt::focused`]).
    pub fn autocomplete(&self, name: &str, options: Value, invoker: &Invoker) -> BuiltInteraction {
        let built = self.command_interaction(4, name, options, invoker);
        let focused = count_focused(&built.json["data"]["options"]);
        assert_eq!(
            focused, 1,
            "an autocomplete interaction needs exactly one focused option, got {focused}"
        );
        built
    }

    /// A click on the button `custom_id`, on a message the bot sent in the
    /// test channel (replace it with [`BuiltInteraction::with_message`]).
    pub fn component(&self, custom_id: &str, invoker: &Invoker) -> BuiltInteraction {
        let mut built = self.interaction_base(3, invoker);
        built.json["data"] = json!({"custom_id": custom_id, "component_type": 2});
        let message_id = self.next_id().to_string();
        built.json["message"] = json!({
            "id": message_id,
            "channel_id": CHANNEL_ID.to_string(),
            "author": self.shared.bot_user(),
            "content": "",
            "timestamp": TIMESTAMP,
            "edited_timestamp": null,
            "tts": false,
            "mention_everyone": false,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": false,
            "type": 0,
            "flags": 0,
            "application_id": APPLICATION_ID.to_string(),
            "components": [{
                "type": 1,
                "components": [{"type": 2, "style": 1, "label": custom_id, "custom_id": custom_id}],
            }],
        });
        built
    }

    /// A MESSAGE_CREATE payload from an ordinary member. With `mentions_bot`
    /// the bot is in `mentions` and `<@bot>` is put in front of `content`
    /// unless the content already holds it.
    pub fn message_create(&self, content: &str, mentions_bot: bool) -> Value {
        self.message_create_from(
            &Invoker::member(FIRST_GENERATED_ID - 1),
            content,
            mentions_bot,
        )
    }

    pub fn message_create_from(
        &self,
        author: &Invoker,
        content: &str,
        mentions_bot: bool,
    ) -> Value {
        let mention = format!("<@{BOT_USER_ID}>");
        let content = if mentions_bot && !content.contains(&mention) {
            format!("{mention} {content}")
        } else {
            content.to_owned()
        };
        let mentions = if mentions_bot {
            json!([self.shared.bot_user()])
        } else {
            json!([])
        };
        let id = self.next_id().to_string();
        json!({
            "id": id,
            "channel_id": CHANNEL_ID.to_string(),
            "guild_id": GUILD_ID.to_string(),
            "author": author.user_json(),
            "member": author.member_json(false),
            "content": content,
            "timestamp": TIMESTAMP,
            "edited_timestamp": null,
            "tts": false,
            "mention_everyone": false,
            "mentions": mentions,
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": false,
            "type": 0,
            "flags": 0,
            "components": [],
            "nonce": id,
        })
    }

    // ---- pushing events to the bot ----

    /// Dispatches INTERACTION_CREATE on the shard of its guild. Panics if
    /// serenity could not parse the payload or that shard is not connected
    /// within [`DEFAULT_TIMEOUT`].
    pub async fn send_interaction(&self, interaction: &Value) {
        let shard = self.shard_for(interaction);
        self.send_interaction_on(shard, interaction).await;
    }

    /// Dispatches INTERACTION_CREATE on the connection that identified as
    /// `shard`, whatever its guild.
    pub async fn send_interaction_on(&self, shard: u32, interaction: &Value) {
        must_parse::<serenity::model::application::Interaction>("INTERACTION_CREATE", interaction);
        let id = str_field(interaction, "id");
        let token = str_field(interaction, "token");
        let channel_id = str_field(interaction, "channel_id");
        let message = interaction
            .get("message")
            .filter(|m| m.is_object())
            .cloned();
        let message_id = message.as_ref().map(|m| str_field(m, "id"));
        if let Some(message) = message {
            lock(&self.shared.messages)
                .by_id
                .entry(str_field(&message, "id"))
                .or_insert(message);
        }
        lock(&self.shared.interactions).insert(
            id,
            Issued {
                token,
                channel_id,
                message_id,
                sent_at: Instant::now(),
                acknowledged: false,
            },
        );
        self.send_dispatch_on(shard, "INTERACTION_CREATE", interaction.clone())
            .await;
    }

    /// Dispatches MESSAGE_CREATE after checking serenity can parse it.
    pub async fn send_message_create(&self, message: &Value) {
        must_parse::<serenity::model::channel::Message>("MESSAGE_CREATE", message);
        self.send_dispatch("MESSAGE_CREATE", message.clone()).await;
    }

    /// Sends any dispatch (op 0) with the next sequence number, on the shard
    /// of the guild in `data`.
    pub async fn send_dispatch(&self, event: &str, data: Value) {
        let shard = self.shard_for(&data);
        self.send_dispatch_on(shard, event, data).await;
    }

    /// Sends any dispatch on the connection that identified as `shard`.
    pub async fn send_dispatch_on(&self, shard: u32, event: &str, data: Value) {
        self.wait_until_shard_ready(shard, DEFAULT_TIMEOUT).await;
        let mut gateway = lock(&self.shared.gateway);
        let connection = gateway
            .shards
            .get_mut(&shard)
            .unwrap_or_else(|| panic!("the gateway connection of shard {shard} closed"));
        connection.seq += 1;
        let frame = json!({"op": 0, "s": connection.seq, "t": event, "d": data});
        connection
            .tx
            .send(Frame::Text(frame.to_string()))
            .unwrap_or_else(|_| panic!("the gateway connection of shard {shard} closed"));
    }

    /// The shard Discord would send `data` on: `(guild_id >> 22) % total`
    /// with the total the connected shards identified with, 0 without a
    /// guild (DMs go to shard 0).
    pub fn shard_for(&self, data: &Value) -> u32 {
        let guild = field(data, "guild_id").and_then(|g| match g {
            Value::String(s) => s.parse::<u64>().ok(),
            other => other.as_u64(),
        });
        let total = lock(&self.shared.gateway)
            .shards
            .values()
            .map(|c| c.total)
            .next()
            .unwrap_or(1)
            .max(1);
        guild.map_or(0, |g| ((g >> 22) % u64::from(total)) as u32)
    }

    // ---- waiting ----

    /// Waits until the bot has sent IDENTIFY and received READY (on any shard).
    pub async fn wait_until_ready(&self, timeout: Duration) {
        let mut connected = self.shared.connected.subscribe();
        let ready = tokio::time::timeout(timeout, connected.wait_for(|c| !c.is_empty())).await;
        if !matches!(ready, Ok(Ok(_))) {
            panic!(
                "the bot did not identify on the gateway within {timeout:?}; HTTP so far:\n{}",
                self.describe_requests()
            );
        }
    }

    /// Waits until the bot has registered its slash commands in the guild
    /// (its setup does that on READY, after the global registration).
    pub async fn wait_until_guild_commands(&self, timeout: Duration) {
        let guild_commands = format!(
            "/api/v10/applications/{}/guilds/{}/commands",
            self.application_id(),
            self.guild_id()
        );
        self.wait_for(|r| r.method == "PUT" && r.path == guild_commands, timeout)
            .await;
    }

    /// Waits until a connection identified as `shard` has received READY.
    pub async fn wait_until_shard_ready(&self, shard: u32, timeout: Duration) {
        let mut connected = self.shared.connected.subscribe();
        let ready =
            tokio::time::timeout(timeout, connected.wait_for(|c| c.contains_key(&shard))).await;
        if !matches!(ready, Ok(Ok(_))) {
            panic!(
                "no connection identified as shard {shard} within {timeout:?} (ready: {:?}); HTTP so far:\n{}",
                self.ready_shards(),
                self.describe_requests()
            );
        }
    }

    /// The shards with an open connection that received READY, in order.
    pub fn ready_shards(&self) -> Vec<u32> {
        self.shared.connected.borrow().keys().copied().collect()
    }

    /// Whether a gateway connection that received READY is open.
    pub fn is_connected(&self) -> bool {
        !self.shared.connected.borrow().is_empty()
    }

    /// Waits until every gateway connection has closed (a clean shutdown).
    pub async fn wait_until_disconnected(&self, timeout: Duration) {
        let mut connected = self.shared.connected.subscribe();
        let closed = tokio::time::timeout(timeout, connected.wait_for(|c| c.is_empty())).await;
        assert!(
            matches!(closed, Ok(Ok(_))),
            "the bot's gateway connection was still open after {timeout:?}"
        );
    }

    /// Waits until no connection of `shard` is open.
    pub async fn wait_until_shard_disconnected(&self, shard: u32, timeout: Duration) {
        let mut connected = self.shared.connected.subscribe();
        let closed =
            tokio::time::timeout(timeout, connected.wait_for(|c| !c.contains_key(&shard))).await;
        assert!(
            matches!(closed, Ok(Ok(_))),
            "the gateway connection of shard {shard} was still open after {timeout:?}"
        );
    }

    /// Index of the next request to be recorded; see [`Self::wait_for_since`].
    pub fn mark(&self) -> usize {
        lock(&self.shared.requests).len()
    }

    /// The first recorded request matching `predicate`, waiting up to `timeout`.
    pub async fn try_wait_for(
        &self,
        predicate: impl Fn(&RecordedRequest) -> bool,
        timeout: Duration,
    ) -> Option<RecordedRequest> {
        self.try_wait_for_since(0, predicate, timeout).await
    }

    pub async fn try_wait_for_since(
        &self,
        since: usize,
        predicate: impl Fn(&RecordedRequest) -> bool,
        timeout: Duration,
    ) -> Option<RecordedRequest> {
        let deadline = Instant::now() + timeout;
        let mut changes = self.shared.request_count.subscribe();
        loop {
            // Marks the current count seen before looking, so a request
            // recorded after the look wakes the wait below.
            changes.borrow_and_update();
            let found = lock(&self.shared.requests)
                .iter()
                .skip(since)
                .find(|r| predicate(r))
                .cloned();
            if found.is_some() {
                return found;
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                _ => return None,
            }
        }
    }

    /// Like [`Self::try_wait_for`] but panics, listing every request, on timeout.
    pub async fn wait_for(
        &self,
        predicate: impl Fn(&RecordedRequest) -> bool,
        timeout: Duration,
    ) -> RecordedRequest {
        self.wait_for_since(0, predicate, timeout).await
    }

    pub async fn wait_for_since(
        &self,
        since: usize,
        predicate: impl Fn(&RecordedRequest) -> bool,
        timeout: Duration,
    ) -> RecordedRequest {
        match self.try_wait_for_since(since, predicate, timeout).await {
            Some(found) => found,
            None => panic!(
                "no matching request within {timeout:?} (looking from #{since}); recorded:\n{}",
                self.describe_requests()
            ),
        }
    }

    /// The first answer to an interaction, given its id or its token: the
    /// callback, or a follow-up or edit under its token.
    pub async fn wait_for_response(&self, id_or_token: &str, timeout: Duration) -> RecordedRequest {
        let key = id_or_token.to_owned();
        self.wait_for(move |r| answers_interaction(r, &key), timeout)
            .await
    }

    /// The callback (`POST /interactions/{id}/{token}/callback`) of an interaction.
    pub async fn wait_for_callback(
        &self,
        interaction_id: &str,
        timeout: Duration,
    ) -> RecordedRequest {
        let prefix = format!("/api/v10/interactions/{interaction_id}/");
        self.wait_for(
            move |r| r.is_callback() && r.path.starts_with(&prefix),
            timeout,
        )
        .await
    }

    /// A follow-up (`POST /webhooks/{app}/{token}`) of an interaction.
    pub async fn wait_for_followup(&self, token: &str, timeout: Duration) -> RecordedRequest {
        let path = format!("/api/v10/webhooks/{APPLICATION_ID}/{token}");
        self.wait_for(move |r| r.method == "POST" && r.path == path, timeout)
            .await
    }

    /// An edit of the original response (`PATCH .../messages/@original`).
    pub async fn wait_for_edit_original(&self, token: &str, timeout: Duration) -> RecordedRequest {
        let path = format!("/api/v10/webhooks/{APPLICATION_ID}/{token}/messages/@original");
        self.wait_for(move |r| r.method == "PATCH" && r.path == path, timeout)
            .await
    }

    /// A message posted with `POST /channels/{channel_id}/messages`.
    pub async fn wait_for_channel_message(
        &self,
        channel_id: u64,
        timeout: Duration,
    ) -> RecordedRequest {
        let path = format!("/api/v10/channels/{channel_id}/messages");
        self.wait_for(move |r| r.method == "POST" && r.path == path, timeout)
            .await
    }

    /// Panics if a matching request is recorded within `window`.
    pub async fn assert_no_request(
        &self,
        predicate: impl Fn(&RecordedRequest) -> bool,
        window: Duration,
    ) {
        if let Some(found) = self.try_wait_for(predicate, window).await {
            panic!(
                "unexpected request {}\nbody: {}",
                found.summary(),
                found.body
            );
        }
    }

    // ---- inspection ----

    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Every request answering an interaction, by its id or token, in order.
    pub fn requests_for(&self, id_or_token: &str) -> Vec<RecordedRequest> {
        lock(&self.shared.requests)
            .iter()
            .filter(|r| answers_interaction(r, id_or_token))
            .cloned()
            .collect()
    }

    /// Requests no route matched, or the fake failed to answer properly.
    pub fn unexpected_requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests)
            .iter()
            .filter(|r| !r.handled)
            .cloned()
            .collect()
    }

    /// Requests answered with an error status (Discord-style refusals included).
    pub fn error_responses(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests)
            .iter()
            .filter(|r| r.status >= 400)
            .cloned()
            .collect()
    }

    /// One line per recorded request, for failure messages.
    pub fn describe_requests(&self) -> String {
        let requests = lock(&self.shared.requests);
        if requests.is_empty() {
            return "  (none)".to_owned();
        }
        requests
            .iter()
            .map(|r| format!("  {}", r.summary()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Global commands as last registered, with the ids the fake gave them.
    pub fn registered_commands(&self) -> Vec<Value> {
        lock(&self.shared.commands).global.clone()
    }

    pub fn registered_guild_commands(&self, guild_id: u64) -> Vec<Value> {
        lock(&self.shared.commands)
            .guild
            .get(&guild_id)
            .cloned()
            .unwrap_or_default()
    }

    /// The current state of the original response of an interaction (after
    /// callbacks and edits), by token.
    pub fn original_response(&self, token: &str) -> Option<Value> {
        let messages = lock(&self.shared.messages);
        let id = messages.original_by_token.get(token)?;
        messages.by_id.get(id).cloned()
    }

    /// A message the bot created (or one a component sat on), by id.
    pub fn message(&self, message_id: &str) -> Option<Value> {
        lock(&self.shared.messages).by_id.get(message_id).cloned()
    }

    /// The `d` of every IDENTIFY received, in order.
    pub fn identify_payloads(&self) -> Vec<Value> {
        lock(&self.shared.gateway).identifies.clone()
    }

    /// `(token, [shard_id, total])` of every IDENTIFY received, in order;
    /// `[0, 1]` when the IDENTIFY named no shard.
    pub fn identified_shards(&self) -> Vec<(String, [u32; 2])> {
        lock(&self.shared.gateway)
            .identifies
            .iter()
            .map(|d| {
                let token = d.get("token").and_then(Value::as_str).unwrap_or("");
                (token.to_owned(), shard_of_identify(d))
            })
            .collect()
    }

    /// The token of the latest IDENTIFY, as sent: serenity sends it with the
    /// same `Bot ` prefix as its `Authorization` header.
    pub fn identify_token(&self) -> Option<String> {
        lock(&self.shared.gateway)
            .identifies
            .last()
            .and_then(|d| d.get("token"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// Every gateway payload the bot sent, in order.
    pub fn gateway_payloads(&self) -> Vec<Value> {
        lock(&self.shared.gateway).received.clone()
    }

    pub fn heartbeats_received(&self) -> u64 {
        lock(&self.shared.gateway).heartbeats
    }
}

/// Whether `request` answers the interaction with this id or token.
fn answers_interaction(request: &RecordedRequest, id_or_token: &str) -> bool {
    let segments = request.segments();
    match segments.as_slice() {
        ["interactions", id, token, "callback"] => *id == id_or_token || *token == id_or_token,
        ["webhooks", _, token, ..] => *token == id_or_token,
        _ => false,
    }
}

/// `[shard_id, total]` of an IDENTIFY's `d`; `[0, 1]` without one.
fn shard_of_identify(d: &Value) -> [u32; 2] {
    let part = |i: usize| {
        field(d, "shard")
            .and_then(|s| s.get(i))
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
    };
    match (part(0), part(1)) {
        (Some(id), Some(total)) => [id, total],
        _ => [0, 1],
    }
}

fn count_focused(options: &Value) -> usize {
    options
        .as_array()
        .into_iter()
        .flatten()
        .map(|option| {
            usize::from(option.get("focused") == Some(&json!(true)))
                + count_focused(option.get("options").unwrap_or(&Value::Null))
        })
        .sum()
}

fn str_field(value: &Value, key: &str) -> String {
    match value.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// `Null` or missing counts as absent (Discord and serenity both send nulls).
fn field<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.get(key).filter(|v| !v.is_null())
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A test that panicked while holding a lock must not hide later failures.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn parse_as<T: DeserializeOwned>(value: &Value) -> Result<(), String> {
    serde_json::from_value::<T>(value.clone())
        .map(drop)
        .map_err(|e| e.to_string())
}

fn must_parse<T: DeserializeOwned>(what: &str, value: &Value) {
    if let Err(error) = parse_as::<T>(value) {
        panic!(
            "serenity 0.12.5 cannot parse this {what} payload ({error}):\n{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    }
}

// ---------------------------------------------------------------------------
// Server state

struct Shared {
    config: FakeDiscordConfig,
    base_url: String,
    next_id: AtomicU64,
    requests: Mutex<Vec<RecordedRequest>>,
    request_count: watch::Sender<usize>,
    files: Mutex<HashMap<String, Vec<u8>>>,
    commands: Mutex<Commands>,
    interactions: Mutex<HashMap<String, Issued>>,
    messages: Mutex<Messages>,
    gateway: Mutex<Gateway>,
    /// Shard → id of its connection, for every open connection that
    /// received READY.
    connected: watch::Sender<BTreeMap<u32, u64>>,
    shutdown: watch::Sender<bool>,
}

#[derive(Default)]
struct Commands {
    global: Vec<Value>,
    guild: HashMap<u64, Vec<Value>>,
}

struct Issued {
    token: String,
    channel_id: String,
    /// For component interactions, the message the component is on.
    message_id: Option<String>,
    sent_at: Instant,
    acknowledged: bool,
}

#[derive(Default)]
struct Messages {
    by_id: HashMap<String, Value>,
    original_by_token: HashMap<String, String>,
}

#[derive(Default)]
struct Gateway {
    connections: u64,
    /// The identified connection of each shard.
    shards: BTreeMap<u32, Connection>,
    identifies: Vec<Value>,
    received: Vec<Value>,
    heartbeats: u64,
}

struct Connection {
    id: u64,
    total: u32,
    tx: mpsc::UnboundedSender<Frame>,
    seq: u64,
}

/// What the fake sends a bot over the gateway.
enum Frame {
    Text(String),
    /// Closes the connection with a Discord close code.
    Close(u16, &'static str),
}

impl Shared {
    fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn gateway_url(&self) -> String {
        format!("{}/ws", self.base_url.replacen("http://", "ws://", 1))
    }

    fn bot_user(&self) -> Value {
        json!({
            "id": BOT_USER_ID.to_string(),
            "username": BOT_NAME,
            "discriminator": "0",
            "global_name": null,
            "avatar": null,
            "bot": true,
            "public_flags": 0,
        })
    }

    fn current_user(&self) -> Value {
        let mut user = self.bot_user();
        user["verified"] = json!(true);
        user["mfa_enabled"] = json!(false);
        user["email"] = Value::Null;
        user["flags"] = json!(0);
        user["locale"] = json!("en-US");
        user
    }

    fn owner_user(&self) -> Value {
        json!({
            "id": OWNER_USER_ID.to_string(),
            "username": "owner",
            "discriminator": "0",
            "global_name": "Owner",
            "avatar": null,
            "public_flags": 0,
        })
    }

    fn application_info(&self) -> Value {
        json!({
            "id": APPLICATION_ID.to_string(),
            "name": BOT_NAME,
            "icon": null,
            "description": "",
            "summary": "",
            "rpc_origins": [],
            "bot_public": false,
            "bot_require_code_grant": false,
            "bot": self.bot_user(),
            "owner": self.owner_user(),
            "verify_key": "0".repeat(64),
            "team": null,
            "flags": 0,
            "tags": [],
            "integration_types_config": {"0": {}},
        })
    }

    fn ready(&self, session: u64, shard: &Value) -> Value {
        let guilds = if self.config.send_guild_create {
            json!([{"id": GUILD_ID.to_string(), "unavailable": true}])
        } else {
            json!([])
        };
        json!({
            "v": 10,
            "user": self.current_user(),
            "guilds": guilds,
            "session_id": format!("fake-session-{session}"),
            "resume_gateway_url": self.gateway_url(),
            "shard": shard,
            "application": {"id": APPLICATION_ID.to_string(), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
        })
    }

    fn guild_create(&self) -> Value {
        // Built in pieces: one `json!` this size exceeds the default macro
        // recursion limit of every test crate.
        let everyone = json!({
            "id": GUILD_ID.to_string(),
            "name": "@everyone",
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
            "hoist": false,
            "icon": null,
            "unicode_emoji": null,
            "position": 0,
            "permissions": everyday_permissions().bits().to_string(),
            "managed": false,
            "mentionable": false,
            "flags": 0,
        });
        let bot_member = json!({
            "user": self.bot_user(),
            "roles": [],
            "nick": null,
            "avatar": null,
            "joined_at": TIMESTAMP,
            "premium_since": null,
            "deaf": false,
            "mute": false,
            "flags": 0,
            "pending": false,
        });
        let channel = json!({
            "id": CHANNEL_ID.to_string(),
            "type": 0,
            "guild_id": GUILD_ID.to_string(),
            "name": "general",
            "position": 0,
            "permission_overwrites": [],
            "topic": null,
            "nsfw": false,
            "last_message_id": null,
            "rate_limit_per_user": 0,
            "parent_id": null,
            "flags": 0,
        });
        let mut guild = json!({
            "id": GUILD_ID.to_string(),
            "name": "Fake Forum Guild",
            "icon": null,
            "icon_hash": null,
            "splash": null,
            "discovery_splash": null,
            "owner_id": OWNER_USER_ID.to_string(),
            "widget_enabled": false,
            "widget_channel_id": null,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [everyone],
            "emojis": [],
            "features": [],
            "mfa_level": 0,
            "application_id": null,
            "system_channel_id": null,
            "system_channel_flags": 0,
            "rules_channel_id": null,
        });
        let more = json!({
            "max_presences": null,
            "max_members": 500_000,
            "vanity_url_code": null,
            "description": null,
            "banner": null,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": self.config.locale,
            "public_updates_channel_id": null,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "nsfw_level": 0,
            "stickers": [],
            "premium_progress_bar_enabled": false,
            "safety_alerts_channel_id": null,
        });
        let create_only = json!({
            "joined_at": TIMESTAMP,
            "large": false,
            "unavailable": false,
            "member_count": 2,
            "voice_states": [],
            "members": [bot_member],
            "channels": [channel],
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
        });
        for part in [more, create_only] {
            if let (Some(into), Value::Object(from)) = (guild.as_object_mut(), part) {
                into.extend(from);
            }
        }
        guild
    }

    fn record(&self, request: RecordedRequest) {
        let mut requests = lock(&self.requests);
        let mut request = request;
        request.index = requests.len();
        requests.push(request);
        let count = requests.len();
        drop(requests);
        self.request_count.send_replace(count);
    }
}

impl FakeDiscord {
    fn interaction_base(&self, kind: u8, invoker: &Invoker) -> BuiltInteraction {
        let id = self.next_id().to_string();
        let token = format!("fake-interaction-token-{id}");
        let locale = &self.shared.config.locale;
        let json = json!({
            "id": id,
            "application_id": APPLICATION_ID.to_string(),
            "type": kind,
            "guild_id": GUILD_ID.to_string(),
            "channel_id": CHANNEL_ID.to_string(),
            "channel": {
                "id": CHANNEL_ID.to_string(),
                "type": 0,
                "name": "general",
                "guild_id": GUILD_ID.to_string(),
                "parent_id": null,
                "position": 0,
                "topic": null,
                "nsfw": false,
                "flags": 0,
                "rate_limit_per_user": 0,
                "last_message_id": null,
                "permissions": invoker.permissions.bits().to_string(),
            },
            "member": invoker.member_json(true),
            "token": token,
            "version": 1,
            "app_permissions": everyday_permissions().bits().to_string(),
            "locale": locale,
            "guild_locale": locale,
            "entitlements": [],
            "authorizing_integration_owners": {"0": GUILD_ID.to_string()},
            "context": 0,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        });
        BuiltInteraction { id, token, json }
    }

    fn command_interaction(
        &self,
        kind: u8,
        name: &str,
        options: Value,
        invoker: &Invoker,
    ) -> BuiltInteraction {
        let options = match options {
            Value::Null => json!([]),
            Value::Array(_) => options,
            single => json!([single]),
        };
        let parts: Vec<&str> = name.split_whitespace().collect();
        let options = match parts.as_slice() {
            [_] => options,
            [_, sub] => json!([{"name": sub, "type": 1, "options": options}]),
            [_, group, sub] => json!([{
                "name": group,
                "type": 2,
                "options": [{"name": sub, "type": 1, "options": options}],
            }]),
            _ => panic!("command name {name:?} must be 1 to 3 words"),
        };
        let (command_id, guild) = self.command_id(parts[0]);
        let mut built = self.interaction_base(kind, invoker);
        built.json["data"] = json!({
            "id": command_id,
            "name": parts[0],
            "type": 1,
            "options": options,
        });
        if let Some(guild) = guild {
            built.json["data"]["guild_id"] = json!(guild);
        }
        built
    }

    /// The registered id of a chat command (guild registrations first, as
    /// Discord shows those), or a fresh one if it was never registered.
    fn command_id(&self, name: &str) -> (String, Option<String>) {
        let commands = lock(&self.shared.commands);
        let matches = |c: &&Value| c["name"] == json!(name) && c["type"] == json!(1);
        if let Some(found) = commands
            .guild
            .get(&GUILD_ID)
            .and_then(|list| list.iter().find(matches))
        {
            return (str_field(found, "id"), Some(GUILD_ID.to_string()));
        }
        if let Some(found) = commands.global.iter().find(matches) {
            return (str_field(found, "id"), None);
        }
        drop(commands);
        (self.next_id().to_string(), None)
    }
}

// ---------------------------------------------------------------------------
// Gateway

async fn gateway_upgrade(State(shared): State<Arc<Shared>>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| run_gateway(shared, socket))
}

async fn run_gateway(shared: Arc<Shared>, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    // Everything for the bot goes through one queue so dispatches keep their order.
    let (tx, mut rx) = mpsc::unbounded_channel::<Frame>();
    let connection_id = {
        let mut gateway = lock(&shared.gateway);
        gateway.connections += 1;
        gateway.connections
    };
    let hello = json!({
        "op": 10,
        "s": null,
        "t": null,
        "d": {"heartbeat_interval": shared.config.heartbeat_interval.as_millis() as u64},
    });
    let _ = tx.send(Frame::Text(hello.to_string()));
    let mut shutdown = shared.shutdown.subscribe();
    let stop = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    tokio::pin!(stop);
    loop {
        tokio::select! {
            outgoing = rx.recv() => match outgoing {
                Some(Frame::Text(text)) => {
                    if sink.send(WsMessage::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Some(Frame::Close(code, reason)) => {
                    let frame = axum::extract::ws::CloseFrame { code, reason: reason.into() };
                    let _ = sink.send(WsMessage::Close(Some(frame))).await;
                    break;
                }
                None => break,
            },
            incoming = stream.next() => match incoming {
                Some(Ok(WsMessage::Text(text))) => {
                    on_gateway_payload(&shared, connection_id, &tx, text.as_str());
                }
                Some(Ok(WsMessage::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            () = &mut stop => {
                let _ = sink.send(WsMessage::Close(None)).await;
                break;
            }
        }
    }
    let mut gateway = lock(&shared.gateway);
    gateway.shards.retain(|_, c| c.id != connection_id);
    shared
        .connected
        .send_modify(|c| c.retain(|_, id| *id != connection_id));
}

fn on_gateway_payload(
    shared: &Shared,
    connection_id: u64,
    tx: &mpsc::UnboundedSender<Frame>,
    text: &str,
) {
    let payload: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let op = payload.get("op").and_then(Value::as_u64);
    let mut gateway = lock(&shared.gateway);
    gateway.received.push(payload.clone());
    match op {
        Some(1) => {
            gateway.heartbeats += 1;
            let _ = tx.send(Frame::Text(
                json!({"op": 11, "s": null, "t": null, "d": null}).to_string(),
            ));
        }
        Some(2) => {
            let identify = payload.get("d").cloned().unwrap_or(Value::Null);
            let [shard_id, total] = shard_of_identify(&identify);
            gateway.identifies.push(identify);
            if total == 0 || shard_id >= total {
                let _ = tx.send(Frame::Close(4010, "Invalid shard"));
                return;
            }
            let mut connection = Connection {
                id: connection_id,
                total,
                tx: tx.clone(),
                seq: 0,
            };
            connection.seq += 1;
            let ready = shared.ready(connection_id, &json!([shard_id, total]));
            let _ = tx.send(Frame::Text(
                json!({"op": 0, "s": connection.seq, "t": "READY", "d": ready}).to_string(),
            ));
            if shared.config.send_guild_create {
                connection.seq += 1;
                let guild = shared.guild_create();
                let _ = tx.send(Frame::Text(
                    json!({"op": 0, "s": connection.seq, "t": "GUILD_CREATE", "d": guild})
                        .to_string(),
                ));
            }
            // A second IDENTIFY of a shard replaces the first, as on Discord.
            gateway.shards.insert(shard_id, connection);
            shared.connected.send_modify(|c| {
                c.insert(shard_id, connection_id);
            });
        }
        // A resume would need replaying missed events; make the bot identify afresh.
        Some(6) => {
            let _ = tx.send(Frame::Text(
                json!({"op": 9, "s": null, "t": null, "d": false}).to_string(),
            ));
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// REST

struct Reply {
    status: StatusCode,
    body: Option<Value>,
    raw: Option<(String, Vec<u8>)>,
    handled: bool,
    note: Option<String>,
}

impl Reply {
    fn json(body: Value) -> Self {
        Self {
            status: StatusCode::OK,
            body: Some(body),
            raw: None,
            handled: true,
            note: None,
        }
    }

    fn bytes(bytes: Vec<u8>) -> Self {
        Self {
            status: StatusCode::OK,
            body: None,
            raw: Some(("application/octet-stream".to_owned(), bytes)),
            handled: true,
            note: None,
        }
    }

    fn no_content() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            body: None,
            raw: None,
            handled: true,
            note: None,
        }
    }

    /// A refusal Discord itself would give.
    fn discord_error(status: u16, code: u64, message: &str) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            body: Some(json!({"message": message, "code": code})),
            raw: None,
            handled: true,
            note: Some(format!("{code} {message}")),
        }
    }

    fn unknown() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            body: Some(json!({"message": "not found", "code": 0})),
            raw: None,
            handled: false,
            note: None,
        }
    }

    /// Refuses to hand serenity a body it cannot parse, and says why.
    fn checked<T: DeserializeOwned>(self, what: &str) -> Self {
        let Some(body) = &self.body else { return self };
        match parse_as::<T>(body) {
            Ok(()) => self,
            Err(error) => Self {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                body: Some(json!({"message": "fake_discord built an invalid answer", "code": 0})),
                raw: None,
                handled: false,
                note: Some(format!(
                    "fake_discord bug: its {what} does not parse in serenity: {error}"
                )),
            },
        }
    }
}

async fn rest(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header(header::CONTENT_TYPE);
    let (json_body, files) = match content_type.as_deref() {
        Some(ct) if ct.starts_with("multipart/form-data") => parse_multipart(ct, &body),
        _ => (
            serde_json::from_slice(&body).unwrap_or(Value::Null),
            Vec::new(),
        ),
    };
    let mut request = RecordedRequest {
        index: 0,
        method: method.as_str().to_owned(),
        path: percent_decode_str(uri.path())
            .decode_utf8_lossy()
            .into_owned(),
        query: uri.query().map(str::to_owned),
        authorization: header(header::AUTHORIZATION),
        content_type,
        body: json_body,
        raw_body: body.to_vec(),
        files,
        status: 0,
        response: None,
        handled: true,
        note: None,
        since_interaction: None,
    };
    let reply = shared.route(&mut request);
    request.status = reply.status.as_u16();
    request.response = reply.body.clone();
    request.handled = reply.handled;
    request.note = reply.note.clone();
    shared.record(request);
    match (reply.raw, reply.body) {
        (Some((content_type, bytes)), _) => {
            (reply.status, [(header::CONTENT_TYPE, content_type)], bytes).into_response()
        }
        (None, Some(body)) => (reply.status, axum::Json(body)).into_response(),
        (None, None) => reply.status.into_response(),
    }
}

impl Shared {
    fn route(&self, request: &mut RecordedRequest) -> Reply {
        let path = request.path.clone();
        if let Some(name) = path.strip_prefix("/files/") {
            return match (request.method.as_str(), lock(&self.files).get(name)) {
                ("GET", Some(bytes)) => Reply::bytes(bytes.clone()),
                ("GET", None) => Reply {
                    note: Some(format!("no file {name:?} is served")),
                    ..Reply::unknown()
                },
                _ => Reply::unknown(),
            };
        }
        let Some(api) = path.strip_prefix("/api/v10/") else {
            return Reply::unknown();
        };
        let app = APPLICATION_ID.to_string();
        let segments: Vec<&str> = api.split('/').collect();
        match (request.method.as_str(), segments.as_slice()) {
            ("GET", ["gateway"]) => Reply::json(json!({"url": self.gateway_url()}))
                .checked::<serenity::model::gateway::Gateway>("gateway"),
            ("GET", ["gateway", "bot"]) => Reply::json(json!({
                "url": self.gateway_url(),
                "shards": self.config.shards,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 86_400_000,
                    "max_concurrency": 1,
                },
            }))
            .checked::<serenity::model::gateway::BotGateway>("gateway/bot"),
            ("GET", ["users", "@me"]) => {
                Reply::json(self.current_user()).checked::<serenity::model::user::CurrentUser>("current user")
            }
            ("GET", ["oauth2", "applications", "@me"]) => Reply::json(self.application_info())
                .checked::<serenity::model::application::CurrentApplicationInfo>("application info"),
            ("PUT", ["applications", a, "commands"]) if *a == app => self.put_commands(None, &request.body),
            ("GET", ["applications", a, "commands"]) if *a == app => {
                Reply::json(Value::Array(lock(&self.commands).global.clone()))
            }
            ("PUT", ["applications", a, "guilds", guild, "commands"]) if *a == app => match guild.parse() {
                Ok(guild) => self.put_commands(Some(guild), &request.body),
                Err(_) => Reply::discord_error(404, 10004, "Unknown Guild"),
            },
            ("GET", ["applications", a, "guilds", guild, "commands"]) if *a == app => {
                let list = guild
                    .parse()
                    .ok()
                    .and_then(|g: u64| lock(&self.commands).guild.get(&g).cloned())
                    .unwrap_or_default();
                Reply::json(Value::Array(list))
            }
            ("POST", ["interactions", id, token, "callback"]) => self.callback(id, token, request),
            ("POST", ["webhooks", a, token]) if *a == app => self.followup(token, request),
            ("GET", ["webhooks", a, token, "messages", message]) if *a == app => {
                self.webhook_message(token, message, None)
            }
            ("PATCH", ["webhooks", a, token, "messages", message]) if *a == app => {
                self.webhook_message(token, message, Some(request))
            }
            ("DELETE", ["webhooks", a, token, "messages", message]) if *a == app => {
                match self.resolve_webhook_message(token, message) {
                    Ok(id) => {
                        lock(&self.messages).by_id.remove(&id);
                        Reply::no_content()
                    }
                    Err(refusal) => refusal,
                }
            }
            ("POST", ["channels", channel, "messages"]) if channel.parse::<u64>().is_ok() => {
                let message = self.new_message(channel, request, false);
                lock(&self.messages)
                    .by_id
                    .insert(str_field(&message, "id"), message.clone());
                Reply::json(message).checked::<serenity::model::channel::Message>("message")
            }
            ("PATCH", ["channels", _, "messages", message]) => {
                let mut messages = lock(&self.messages);
                match messages.by_id.get_mut(*message) {
                    Some(stored) => {
                        merge_edit(stored, &request.body);
                        Reply::json(stored.clone()).checked::<serenity::model::channel::Message>("message")
                    }
                    None => Reply::discord_error(404, 10008, "Unknown Message"),
                }
            }
            ("DELETE", ["channels", _, "messages", message]) => match lock(&self.messages).by_id.remove(*message) {
                Some(_) => Reply::no_content(),
                None => Reply::discord_error(404, 10008, "Unknown Message"),
            },
            ("POST", ["channels", _, "typing"]) => Reply::no_content(),
            _ => Reply::unknown(),
        }
    }

    fn put_commands(&self, guild: Option<u64>, body: &Value) -> Reply {
        let Some(list) = body.as_array() else {
            return Reply::discord_error(400, 50035, "Invalid Form Body");
        };
        let previous = {
            let commands = lock(&self.commands);
            match guild {
                None => commands.global.clone(),
                Some(guild) => commands.guild.get(&guild).cloned().unwrap_or_default(),
            }
        };
        let stored: Vec<Value> = list
            .iter()
            .map(|command| {
                let mut command = command.clone();
                if field(&command, "type").is_none() {
                    command["type"] = json!(1);
                }
                if field(&command, "description").is_none() {
                    command["description"] = json!("");
                }
                // Discord keeps a command's id when it is registered again.
                let id = previous
                    .iter()
                    .find(|p| p["name"] == command["name"] && p["type"] == command["type"])
                    .map(|p| p["id"].clone())
                    .unwrap_or_else(|| json!(self.next_id().to_string()));
                command["id"] = id;
                command["application_id"] = json!(APPLICATION_ID.to_string());
                command["version"] = json!(self.next_id().to_string());
                if let Some(guild) = guild {
                    command["guild_id"] = json!(guild.to_string());
                }
                command
            })
            .collect();
        let mut commands = lock(&self.commands);
        match guild {
            None => commands.global = stored.clone(),
            Some(guild) => {
                commands.guild.insert(guild, stored.clone());
            }
        }
        Reply::json(Value::Array(stored))
            .checked::<Vec<serenity::model::application::Command>>("command list")
    }

    fn callback(&self, id: &str, token: &str, request: &mut RecordedRequest) -> Reply {
        let (channel_id, component_message) = {
            let mut interactions = lock(&self.interactions);
            let Some(issued) = interactions.get_mut(id) else {
                return Reply::discord_error(404, 10062, "Unknown interaction");
            };
            if issued.token != token {
                return Reply::discord_error(401, 50027, "Invalid Webhook Token");
            }
            let elapsed = issued.sent_at.elapsed();
            request.since_interaction = Some(elapsed);
            if let Some(deadline) = self.config.interaction_deadline {
                if elapsed > deadline {
                    let mut refusal = Reply::discord_error(404, 10062, "Unknown interaction");
                    refusal.note = Some(format!(
                        "answered {elapsed:?} after dispatch, deadline {deadline:?}"
                    ));
                    return refusal;
                }
            }
            if issued.acknowledged {
                return Reply::discord_error(
                    400,
                    40060,
                    "Interaction has already been acknowledged.",
                );
            }
            issued.acknowledged = true;
            (issued.channel_id.clone(), issued.message_id.clone())
        };
        let data = field(&request.body, "data").cloned().unwrap_or(json!({}));
        match request.body.get("type").and_then(Value::as_u64) {
            Some(callback::CHANNEL_MESSAGE) => {
                let message = self.message_json(&channel_id, &data, &request.files, true);
                self.store_original(token, message);
            }
            Some(callback::DEFERRED_CHANNEL_MESSAGE) => {
                let flags = field(&data, "flags").and_then(Value::as_u64).unwrap_or(0) | LOADING;
                let message = self.message_json(&channel_id, &json!({"flags": flags}), &[], true);
                self.store_original(token, message);
            }
            Some(callback::DEFERRED_UPDATE_MESSAGE | callback::UPDATE_MESSAGE) => {
                let kind = request.body["type"].as_u64();
                let Some(message_id) = component_message else {
                    return Reply::discord_error(400, 50035, "Invalid Form Body");
                };
                let mut messages = lock(&self.messages);
                if kind == Some(callback::UPDATE_MESSAGE) {
                    if let Some(stored) = messages.by_id.get_mut(&message_id) {
                        merge_edit(stored, &data);
                    }
                }
                messages
                    .original_by_token
                    .insert(token.to_owned(), message_id);
            }
            Some(callback::PONG | callback::AUTOCOMPLETE_RESULT | callback::MODAL) => {}
            _ => return Reply::discord_error(400, 50035, "Invalid Form Body"),
        }
        Reply::no_content()
    }

    fn store_original(&self, token: &str, message: Value) {
        let id = str_field(&message, "id");
        let mut messages = lock(&self.messages);
        messages.by_id.insert(id.clone(), message);
        messages.original_by_token.insert(token.to_owned(), id);
    }

    /// The interaction a webhook token belongs to, if it was acknowledged.
    fn acknowledged_channel(&self, token: &str) -> Result<String, Reply> {
        let interactions = lock(&self.interactions);
        match interactions.values().find(|i| i.token == token) {
            Some(issued) if issued.acknowledged => Ok(issued.channel_id.clone()),
            Some(_) => Err(Reply {
                note: Some("interaction not acknowledged yet".to_owned()),
                ..Reply::discord_error(404, 10015, "Unknown Webhook")
            }),
            None => Err(Reply::discord_error(404, 10015, "Unknown Webhook")),
        }
    }

    fn followup(&self, token: &str, request: &RecordedRequest) -> Reply {
        let channel_id = match self.acknowledged_channel(token) {
            Ok(channel_id) => channel_id,
            Err(refusal) => return refusal,
        };
        let message = self.new_message(&channel_id, request, true);
        lock(&self.messages)
            .by_id
            .insert(str_field(&message, "id"), message.clone());
        Reply::json(message).checked::<serenity::model::channel::Message>("follow-up message")
    }

    fn resolve_webhook_message(&self, token: &str, message: &str) -> Result<String, Reply> {
        self.acknowledged_channel(token)?;
        let messages = lock(&self.messages);
        let id = if message == "@original" {
            messages.original_by_token.get(token).cloned()
        } else {
            Some(message.to_owned())
        };
        id.filter(|id| messages.by_id.contains_key(id))
            .ok_or_else(|| Reply::discord_error(404, 10008, "Unknown Message"))
    }

    /// GET (edit `None`) or PATCH of a webhook message.
    fn webhook_message(&self, token: &str, message: &str, edit: Option<&RecordedRequest>) -> Reply {
        let id = match self.resolve_webhook_message(token, message) {
            Ok(id) => id,
            Err(refusal) => return refusal,
        };
        let mut messages = lock(&self.messages);
        let stored = messages.by_id.get_mut(&id).expect("resolved above");
        if let Some(edit) = edit {
            merge_edit(stored, &edit.body);
            if !edit.files.is_empty() {
                stored["attachments"] = self.attachments_for(&edit.files);
            }
        }
        Reply::json(stored.clone()).checked::<serenity::model::channel::Message>("webhook message")
    }

    fn new_message(&self, channel_id: &str, request: &RecordedRequest, webhook: bool) -> Value {
        let mut message = self.message_json(channel_id, &request.body, &request.files, webhook);
        if let Some(reference) = field(&request.body, "message_reference") {
            let mut reference = reference.clone();
            if field(&reference, "channel_id").is_none() {
                reference["channel_id"] = json!(channel_id);
            }
            message["message_reference"] = reference;
            message["type"] = json!(19);
        }
        message
    }

    /// A message as Discord returns it, from the message part of a request.
    fn message_json(
        &self,
        channel_id: &str,
        payload: &Value,
        files: &[UploadedFile],
        webhook: bool,
    ) -> Value {
        let mut message = json!({
            "id": self.next_id().to_string(),
            "channel_id": channel_id,
            "author": self.bot_user(),
            "content": field(payload, "content").cloned().unwrap_or(json!("")),
            "timestamp": TIMESTAMP,
            "edited_timestamp": null,
            "tts": field(payload, "tts").cloned().unwrap_or(json!(false)),
            "mention_everyone": false,
            "mentions": [],
            "mention_roles": [],
            "attachments": self.attachments_for(files),
            "embeds": field(payload, "embeds").cloned().unwrap_or(json!([])),
            "pinned": false,
            "type": 0,
            "flags": field(payload, "flags").cloned().unwrap_or(json!(0)),
            "components": field(payload, "components").cloned().unwrap_or(json!([])),
        });
        if webhook {
            message["webhook_id"] = json!(APPLICATION_ID.to_string());
            message["application_id"] = json!(APPLICATION_ID.to_string());
        }
        message
    }

    /// Files the bot uploaded, served back like Discord's CDN would.
    fn attachments_for(&self, files: &[UploadedFile]) -> Value {
        let mut served = lock(&self.files);
        let attachments = files
            .iter()
            .map(|file| {
                let id = self.next_id().to_string();
                let filename = file.filename.clone().unwrap_or_else(|| file.field.clone());
                let name = format!("uploads/{id}/{filename}");
                let url = format!(
                    "{}/files/{}",
                    self.base_url,
                    utf8_percent_encode(&name, FILE_NAME)
                );
                served.insert(name, file.bytes.clone());
                json!({
                    "id": id,
                    "filename": filename,
                    "size": file.bytes.len(),
                    "url": url,
                    "proxy_url": url,
                    "content_type": file.content_type,
                })
            })
            .collect();
        Value::Array(attachments)
    }
}

/// Applies an edit (PATCH body or UPDATE_MESSAGE data) to a stored message.
fn merge_edit(stored: &mut Value, edit: &Value) {
    for key in ["content", "embeds", "components"] {
        if let Some(value) = field(edit, key) {
            stored[key] = value.clone();
        }
    }
    let flags = field(edit, "flags")
        .and_then(Value::as_u64)
        .unwrap_or_else(|| stored["flags"].as_u64().unwrap_or(0));
    // The first edit of a deferred response replaces "is thinking…".
    stored["flags"] = json!(flags & !LOADING);
    stored["edited_timestamp"] = json!(TIMESTAMP);
}

/// Splits `multipart/form-data` into its `payload_json` and its files.
fn parse_multipart(content_type: &str, body: &[u8]) -> (Value, Vec<UploadedFile>) {
    let mut payload = Value::Null;
    let mut files = Vec::new();
    let Some(boundary) = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
    else {
        return (payload, files);
    };
    let delimiter = format!("--{boundary}");
    for part in split_bytes(body, delimiter.as_bytes()).skip(1) {
        if part.starts_with(b"--") {
            break;
        }
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(header_end) = find_bytes(part, b"\r\n\r\n") else {
            continue;
        };
        let headers = String::from_utf8_lossy(&part[..header_end]);
        let data = &part[header_end + 4..];
        let data = data.strip_suffix(b"\r\n").unwrap_or(data);
        let mut name = String::new();
        let mut filename = None;
        let mut part_type = None;
        for line in headers.lines() {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-disposition:") {
                for param in line.split(';').map(str::trim) {
                    if let Some(v) = param.strip_prefix("name=") {
                        name = v.trim_matches('"').to_owned();
                    } else if let Some(v) = param.strip_prefix("filename=") {
                        filename = Some(v.trim_matches('"').to_owned());
                    }
                }
            } else if lower.starts_with("content-type:") {
                part_type = line.split_once(':').map(|(_, v)| v.trim().to_owned());
            }
        }
        if name == "payload_json" {
            payload = serde_json::from_slice(data).unwrap_or(Value::Null);
        } else {
            files.push(UploadedFile {
                field: name,
                filename,
                content_type: part_type,
                bytes: data.to_vec(),
            });
        }
    }
    (payload, files)
}

fn find_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn split_bytes<'a>(mut rest: &'a [u8], delimiter: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        match find_bytes(rest, delimiter) {
            Some(at) => {
                let piece = &rest[..at];
                rest = &rest[at + delimiter.len()..];
                Some(piece)
            }
            None => {
                done = true;
                Some(rest)
            }
        }
    })
}
