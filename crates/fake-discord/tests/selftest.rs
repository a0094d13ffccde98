//! Proves that `fake_discord` is a Discord that serenity 0.12.5 and
//! poise 0.7 accept: a small poise bot, wired the way forumbot must be
//! (`HttpBuilder::proxy` + `ratelimiter_disabled`, `ClientBuilder::new_with_http`),
//! runs against it, and every kind of exchange the real bot needs is asserted:
//! identification, command registration, replies, autocomplete, deferral with
//! an ephemeral follow-up, attachments, buttons, permission refusals and
//! mentions. Each test also insists the bot made no request the fake did not
//! expect.
//!
//! Set `TEST_LOG=debug` to see serenity's and poise's logs.

use std::sync::Arc;
use std::time::Duration;

use fake_discord::{
    callback, opt, FakeDiscord, FakeDiscordConfig, Invoker, RecordedRequest, DEFAULT_TIMEOUT,
    EPHEMERAL, TEST_TOKEN,
};
use poise::serenity_prelude as serenity;
use serde_json::{json, Value};

struct Data;
type Error = Box<dyn std::error::Error + Send + Sync>;
type Context<'a> = poise::Context<'a, Data, Error>;

const SPEAKERS: [&str; 3] = ["王小明", "王大同", "李四"];
const MEMBER: u64 = 900_000_000_000_000_001;
const MODERATOR: u64 = 900_000_000_000_000_002;

/// Replies with pong.
#[poise::command(slash_command)]
async fn ping(ctx: Context<'_>) -> Result<(), Error> {
    ctx.say("pong").await?;
    Ok(())
}

async fn complete_speaker(
    _ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let choices = SPEAKERS
        .iter()
        .filter(|name| name.contains(partial))
        .map(|name| serenity::AutocompleteChoice::from(*name))
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// Names a speaker.
#[poise::command(slash_command)]
async fn speaker(
    ctx: Context<'_>,
    #[description = "Who spoke"]
    #[autocomplete = "complete_speaker"]
    name: String,
) -> Result<(), Error> {
    ctx.say(format!("speaker {name}")).await?;
    Ok(())
}

/// Defers, then answers privately with an embed.
#[poise::command(slash_command)]
async fn slow(ctx: Context<'_>) -> Result<(), Error> {
    ctx.defer_ephemeral().await?;
    ctx.send(
        poise::CreateReply::default()
            .embed(
                serenity::CreateEmbed::new()
                    .title("引文")
                    .description("「學而時習之」"),
            )
            .allowed_mentions(serenity::CreateAllowedMentions::new())
            .ephemeral(true),
    )
    .await?;
    Ok(())
}

/// Counts the bytes of an uploaded file.
#[poise::command(slash_command)]
async fn size(
    ctx: Context<'_>,
    #[description = "A file"] file: serenity::Attachment,
) -> Result<(), Error> {
    let bytes = file.download().await?;
    ctx.say(format!("{} {} bytes", file.filename, bytes.len()))
        .await?;
    Ok(())
}

/// Shows a button.
#[poise::command(slash_command)]
async fn button(ctx: Context<'_>) -> Result<(), Error> {
    let row = serenity::CreateActionRow::Buttons(vec![
        serenity::CreateButton::new("again").label("Again")
    ]);
    ctx.send(
        poise::CreateReply::default()
            .content("press")
            .components(vec![row]),
    )
    .await?;
    Ok(())
}

/// Moderators only.
#[poise::command(
    slash_command,
    required_permissions = "MANAGE_MESSAGES",
    default_member_permissions = "MANAGE_MESSAGES"
)]
async fn purge(ctx: Context<'_>) -> Result<(), Error> {
    ctx.say("purged").await?;
    Ok(())
}

async fn on_event(
    framework: poise::FrameworkContext<'_, Data, Error>,
    event: &serenity::FullEvent,
) -> Result<(), Error> {
    let ctx = framework.serenity_context;
    match event {
        serenity::FullEvent::Message { new_message }
            if new_message.mentions_user_id(framework.bot_id()) =>
        {
            let reply = serenity::CreateMessage::new()
                .content("你好")
                .allowed_mentions(serenity::CreateAllowedMentions::new());
            new_message.channel_id.send_message(ctx, reply).await?;
        }
        serenity::FullEvent::InteractionCreate {
            interaction: serenity::Interaction::Component(press),
        } => {
            let update = serenity::CreateInteractionResponseMessage::new()
                .content(format!("pressed {}", press.data.custom_id))
                .components(vec![]);
            press
                .create_response(
                    ctx,
                    serenity::CreateInteractionResponse::UpdateMessage(update),
                )
                .await?;
        }
        _ => {}
    }
    Ok(())
}

struct Bot {
    shard_manager: Arc<serenity::ShardManager>,
    task: tokio::task::JoinHandle<()>,
}

impl Bot {
    /// Drops the client; the fake closes the socket when it is dropped.
    fn stop(self) {
        self.task.abort();
    }

    /// A graceful shutdown, as the real bot does on Ctrl-C. serenity takes
    /// about 0.5 s for it (its gateway read timeout), so only one test does it.
    async fn shut_down(self, fake: &FakeDiscord) {
        tokio::time::timeout(DEFAULT_TIMEOUT, self.shard_manager.shutdown_all())
            .await
            .expect("shard manager shut down");
        fake.wait_until_disconnected(DEFAULT_TIMEOUT).await;
        self.task.await.expect("client task ended");
    }
}

fn init_tracing() {
    if let Ok(filter) = std::env::var("TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
}

async fn start_bot(fake: &FakeDiscord) -> Bot {
    let guild_id = serenity::GuildId::new(fake.guild_id());
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: vec![ping(), speaker(), slow(), size(), button(), purge()],
            event_handler: |framework, event| Box::pin(on_event(framework, event)),
            ..Default::default()
        })
        .setup(move |ctx, _ready, framework| {
            Box::pin(async move {
                let commands = &framework.options().commands;
                poise::builtins::register_globally(ctx, commands).await?;
                poise::builtins::register_in_guild(ctx, commands, guild_id).await?;
                Ok(Data)
            })
        })
        .build();
    // The trap from DESIGN.md: without `ratelimiter_disabled` the proxy is ignored.
    let http = serenity::HttpBuilder::new(TEST_TOKEN)
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .build();
    let intents =
        serenity::GatewayIntents::non_privileged() | serenity::GatewayIntents::MESSAGE_CONTENT;
    let mut client = serenity::ClientBuilder::new_with_http(http, intents)
        .framework(framework)
        .await
        .expect("serenity client");
    let shard_manager = Arc::clone(&client.shard_manager);
    let task = tokio::spawn(async move {
        let _ = client.start().await;
    });
    Bot {
        shard_manager,
        task,
    }
}

/// A fake with a short heartbeat (so acks are exercised) and a connected,
/// set-up bot.
async fn running() -> (FakeDiscord, Bot) {
    running_with(FakeDiscordConfig {
        heartbeat_interval: Duration::from_millis(300),
        ..FakeDiscordConfig::default()
    })
    .await
}

async fn running_with(config: FakeDiscordConfig) -> (FakeDiscord, Bot) {
    init_tracing();
    let fake = FakeDiscord::start_with(config).await;
    let bot = start_bot(&fake).await;
    fake.wait_until_ready(DEFAULT_TIMEOUT).await;
    fake.wait_until_guild_commands(DEFAULT_TIMEOUT).await;
    (fake, bot)
}

/// Every test ends here: nothing unexpected, no refusals.
fn finish(fake: FakeDiscord, bot: Bot) {
    let unexpected = fake.unexpected_requests();
    assert!(
        unexpected.is_empty(),
        "requests the fake did not expect:\n{}",
        fake.describe_requests()
    );
    let refused = fake.error_responses();
    assert!(
        refused.is_empty(),
        "requests the fake refused:\n{}",
        fake.describe_requests()
    );
    bot.stop();
}

fn names(commands: &[Value]) -> Vec<&str> {
    let mut names: Vec<&str> = commands.iter().filter_map(|c| c["name"].as_str()).collect();
    names.sort_unstable();
    names
}

fn assert_pong(answer: &RecordedRequest) {
    assert_eq!(answer.callback_type(), Some(callback::CHANNEL_MESSAGE));
    assert_eq!(answer.content(), Some("pong"));
    assert!(!answer.is_ephemeral());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_identifies_registers_commands_and_answers_ping() {
    let (fake, bot) = running().await;

    // serenity identifies with the same "Bot "-prefixed token it puts in HTTP headers.
    let bot_token = format!("Bot {TEST_TOKEN}");
    assert_eq!(fake.identify_token(), Some(bot_token.clone()));
    let puts: Vec<RecordedRequest> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .collect();
    assert_eq!(puts.len(), 2, "{}", fake.describe_requests());
    assert!(puts
        .iter()
        .all(|r| r.authorization.as_deref() == Some(bot_token.as_str())));

    let expected = ["button", "ping", "purge", "size", "slow", "speaker"];
    assert_eq!(names(&fake.registered_commands()), expected);
    assert_eq!(
        names(&fake.registered_guild_commands(fake.guild_id())),
        expected
    );
    let registered = fake.registered_commands();
    let speaker = registered.iter().find(|c| c["name"] == "speaker").unwrap();
    assert_eq!(speaker["options"][0]["autocomplete"], json!(true));
    let purge = registered.iter().find(|c| c["name"] == "purge").unwrap();
    assert_eq!(purge["default_member_permissions"], json!("8192"));

    let ping = fake.slash_command("ping", Value::Null, &Invoker::member(MEMBER));
    fake.send_interaction(&ping.json).await;
    let answer = fake.wait_for_callback(&ping.id, DEFAULT_TIMEOUT).await;
    assert_pong(&answer);
    assert!(answer.since_interaction.unwrap() < Duration::from_secs(3));
    assert_eq!(
        fake.wait_for_response(&ping.token, DEFAULT_TIMEOUT)
            .await
            .index,
        answer.index
    );
    assert_eq!(
        fake.original_response(&ping.token).unwrap()["content"],
        "pong"
    );

    // The same command from a DM.
    let in_dm = fake
        .slash_command("ping", Value::Null, &Invoker::member(MEMBER))
        .in_dm(fake.next_id());
    fake.send_interaction(&in_dm.json).await;
    assert_pong(&fake.wait_for_callback(&in_dm.id, DEFAULT_TIMEOUT).await);

    // Heartbeats are acknowledged, so the bot never reconnects.
    let deadline = tokio::time::Instant::now() + DEFAULT_TIMEOUT;
    while fake.heartbeats_received() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "no heartbeats");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(fake.identify_payloads().len(), 1);
    assert!(fake.is_connected());

    assert!(
        fake.unexpected_requests().is_empty(),
        "{}",
        fake.describe_requests()
    );
    assert!(
        fake.error_responses().is_empty(),
        "{}",
        fake.describe_requests()
    );
    bot.shut_down(&fake).await;
    assert!(!fake.is_connected());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autocomplete_gets_choices() {
    let (fake, bot) = running().await;

    let typing = fake.autocomplete(
        "speaker",
        opt::focused("name", "王"),
        &Invoker::member(MEMBER),
    );
    fake.send_interaction(&typing.json).await;
    let answer = fake.wait_for_callback(&typing.id, DEFAULT_TIMEOUT).await;
    assert_eq!(answer.callback_type(), Some(callback::AUTOCOMPLETE_RESULT));
    let choices: Vec<&str> = answer
        .choices()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(choices, ["王小明", "王大同"]);

    // The command itself, once chosen.
    let chosen = fake.slash_command(
        "speaker",
        opt::string("name", "李四"),
        &Invoker::member(MEMBER),
    );
    fake.send_interaction(&chosen.json).await;
    let answer = fake.wait_for_callback(&chosen.id, DEFAULT_TIMEOUT).await;
    assert_eq!(answer.content(), Some("speaker 李四"));

    finish(fake, bot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_answer_arrives_as_ephemeral_followup() {
    let (fake, bot) = running().await;

    let slow = fake.slash_command("slow", Value::Null, &Invoker::member(MEMBER));
    fake.send_interaction(&slow.json).await;
    let deferral = fake.wait_for_response(&slow.id, DEFAULT_TIMEOUT).await;
    assert_eq!(
        deferral.callback_type(),
        Some(callback::DEFERRED_CHANNEL_MESSAGE)
    );
    assert_eq!(deferral.flags(), EPHEMERAL);

    let followup = fake.wait_for_followup(&slow.token, DEFAULT_TIMEOUT).await;
    assert!(followup.is_followup());
    assert!(followup.is_ephemeral());
    assert!(followup.pings_nobody(), "{}", followup.body);
    assert_eq!(followup.embeds()[0]["title"], "引文");
    assert!(followup.all_text().contains("學而時習之"));
    let order: Vec<usize> = fake
        .requests_for(&slow.token)
        .iter()
        .map(|r| r.index)
        .collect();
    assert_eq!(order, [deferral.index, followup.index]);

    finish(fake, bot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_are_downloaded_from_the_fake() {
    let (fake, bot) = running().await;

    let notes = fake.attachment("筆記.txt", "學而時習之".as_bytes(), "text/plain");
    let upload = fake
        .slash_command(
            "size",
            opt::attachment("file", &notes.id),
            &Invoker::member(MEMBER),
        )
        .with_attachment(&notes);
    fake.send_interaction(&upload.json).await;
    let answer = fake.wait_for_callback(&upload.id, DEFAULT_TIMEOUT).await;
    assert_eq!(answer.content(), Some("筆記.txt 15 bytes"));
    let download = fake
        .wait_for(
            |r| r.method == "GET" && r.path.starts_with("/files/"),
            DEFAULT_TIMEOUT,
        )
        .await;
    assert!(download.path.ends_with("/筆記.txt"), "{}", download.path);
    assert_eq!(download.status, 200);

    finish(fake, bot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn button_press_updates_the_message() {
    let (fake, bot) = running().await;
    let member = Invoker::member(MEMBER);

    let show = fake.slash_command("button", Value::Null, &member);
    fake.send_interaction(&show.json).await;
    let answer = fake.wait_for_callback(&show.id, DEFAULT_TIMEOUT).await;
    assert_eq!(
        answer.message()["components"][0]["components"][0]["custom_id"],
        "again"
    );
    let shown = fake.original_response(&show.token).unwrap();

    let press = fake.component("again", &member).with_message(shown.clone());
    fake.send_interaction(&press.json).await;
    let update = fake.wait_for_callback(&press.id, DEFAULT_TIMEOUT).await;
    assert_eq!(update.callback_type(), Some(callback::UPDATE_MESSAGE));
    assert_eq!(update.content(), Some("pressed again"));
    let message_id = shown["id"].as_str().unwrap();
    assert_eq!(
        fake.message(message_id).unwrap()["content"],
        "pressed again"
    );

    finish(fake, bot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_permissions_reach_poise_checks() {
    let (fake, bot) = running().await;

    let refused = fake.slash_command("purge", Value::Null, &Invoker::member(MEMBER));
    fake.send_interaction(&refused.json).await;
    let answer = fake.wait_for_callback(&refused.id, DEFAULT_TIMEOUT).await;
    assert!(answer.is_ephemeral());
    assert!(
        answer.content().unwrap().contains("lacking permissions"),
        "{}",
        answer.body
    );

    let allowed = fake.slash_command("purge", Value::Null, &Invoker::moderator(MODERATOR));
    fake.send_interaction(&allowed.json).await;
    let answer = fake.wait_for_callback(&allowed.id, DEFAULT_TIMEOUT).await;
    assert_eq!(answer.content(), Some("purged"));

    finish(fake, bot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_gets_a_channel_message() {
    let (fake, bot) = running().await;
    let posted = |r: &RecordedRequest| r.is_channel_message();

    fake.send_message_create(&fake.message_create("大家好", false))
        .await;
    fake.assert_no_request(posted, Duration::from_millis(300))
        .await;

    let mention = fake.message_create("你好嗎", true);
    assert!(mention["content"]
        .as_str()
        .unwrap()
        .starts_with(&format!("<@{}>", fake.bot_user_id())));
    fake.send_message_create(&mention).await;
    let reply = fake
        .wait_for_channel_message(fake.channel_id(), DEFAULT_TIMEOUT)
        .await;
    assert_eq!(reply.content(), Some("你好"));
    assert!(reply.pings_nobody(), "{}", reply.body);
    let replies = fake.requests().into_iter().filter(|r| posted(r)).count();
    assert_eq!(replies, 1);

    finish(fake, bot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_rules_are_enforced_and_unknown_routes_recorded() {
    let (fake, bot) = running().await;
    let http = fake.http(TEST_TOKEN);

    let ping = fake.slash_command("ping", Value::Null, &Invoker::member(MEMBER));
    fake.send_interaction(&ping.json).await;
    fake.wait_for_callback(&ping.id, DEFAULT_TIMEOUT).await;

    // A second acknowledgement is refused with Discord's code.
    let again = serenity::CreateInteractionResponse::Message(
        serenity::CreateInteractionResponseMessage::new().content("again"),
    );
    let id = serenity::InteractionId::new(ping.id.parse().unwrap());
    let error = http
        .create_interaction_response(id, &ping.token, &again, vec![])
        .await
        .expect_err("second acknowledgement");
    assert!(
        error.to_string().contains("already been acknowledged"),
        "{error}"
    );

    // A follow-up under a token nobody issued.
    let error = http
        .create_followup_message("no-such-token", &json!({"content": "x"}), vec![])
        .await
        .expect_err("unknown webhook");
    assert!(error.to_string().contains("Unknown Webhook"), "{error}");

    // A route the fake does not know is answered 404 and recorded as unexpected.
    let guild = serenity::GuildId::new(fake.guild_id());
    assert!(http.get_guild(guild).await.is_err());
    let unexpected = fake.unexpected_requests();
    assert_eq!(unexpected.len(), 1, "{}", fake.describe_requests());
    assert_eq!(
        unexpected[0].path,
        format!("/api/v10/guilds/{}", fake.guild_id())
    );
    assert_eq!(unexpected[0].status, 404);
    assert_eq!(fake.error_responses().len(), 3);

    bot.stop();
}

#[tokio::test]
async fn built_payloads_parse_in_serenity() {
    let fake = FakeDiscord::start().await;
    let member = Invoker::member(MEMBER)
        .named("小明")
        .with_nick("明")
        .with_roles(&[fake.next_id()]);
    let notes = fake.attachment("a.txt", b"abc".to_vec(), "text/plain");
    let interactions = [
        fake.slash_command("ping", Value::Null, &member),
        fake.slash_command(
            "speaker list",
            json!([opt::integer("page", 2), opt::boolean("all", true)]),
            &member,
        ),
        fake.slash_command(
            "admin index rebuild",
            Value::Null,
            &Invoker::admin(MODERATOR),
        ),
        fake.slash_command("size", opt::attachment("file", &notes.id), &member)
            .with_attachment(&notes)
            .with_locale("zh-CN"),
        fake.autocomplete("speaker list", opt::focused("name", "王"), &member),
        fake.component("again", &member),
        fake.slash_command("ping", Value::Null, &member)
            .in_dm(fake.next_id()),
    ];
    for built in &interactions {
        let parsed: serenity::Interaction = serde_json::from_value(built.json.clone())
            .unwrap_or_else(|e| panic!("{e}: {}", built.json));
        assert_eq!(parsed.id().to_string(), built.id);
        assert_eq!(parsed.token(), built.token);
    }
    let typed: serenity::Interaction =
        serde_json::from_value(interactions[4].json.clone()).unwrap();
    let autocomplete = typed.autocomplete().expect("autocomplete interaction");
    assert_eq!(autocomplete.data.autocomplete().unwrap().value, "王");
    let sized: serenity::Interaction =
        serde_json::from_value(interactions[3].json.clone()).unwrap();
    let sized = sized.command().unwrap();
    assert_eq!(sized.locale, "zh-CN");
    assert_eq!(sized.member.unwrap().permissions, Some(member.permissions));

    for message in [
        fake.message_create("hi", false),
        fake.message_create_from(&member, "hi", true),
    ] {
        let parsed: serenity::Message =
            serde_json::from_value(message.clone()).unwrap_or_else(|e| panic!("{e}: {message}"));
        assert_eq!(parsed.channel_id.get(), fake.channel_id());
    }

    // Served files come back byte for byte, whatever their name.
    let url = fake.serve_file("目錄/逐字稿 1.txt", "第一行\n".as_bytes());
    let body = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    assert_eq!(&body[..], "第一行\n".as_bytes());
}

#[tokio::test]
async fn uploads_are_parsed_and_served_back() {
    let fake = FakeDiscord::start().await;
    let http = fake.http(TEST_TOKEN);

    let channel = serenity::ChannelId::new(fake.channel_id());
    let message = serenity::CreateMessage::new().content("逐字稿").add_file(
        serenity::CreateAttachment::bytes("第一行\n".as_bytes(), "逐字稿.txt"),
    );
    let sent = channel.send_message(&http, message).await.unwrap();

    let posted = fake
        .wait_for_channel_message(fake.channel_id(), DEFAULT_TIMEOUT)
        .await;
    assert_eq!(posted.content(), Some("逐字稿"));
    assert_eq!(posted.files.len(), 1);
    assert_eq!(posted.files[0].filename.as_deref(), Some("逐字稿.txt"));
    assert_eq!(posted.files[0].bytes, "第一行\n".as_bytes());
    assert_eq!(sent.attachments[0].filename, "逐字稿.txt");
    let downloaded = sent.attachments[0].download().await.unwrap();
    assert_eq!(downloaded, "第一行\n".as_bytes());
    assert!(
        fake.unexpected_requests().is_empty(),
        "{}",
        fake.describe_requests()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_answers_are_refused_when_a_deadline_is_set() {
    let (fake, bot) = running_with(FakeDiscordConfig {
        interaction_deadline: Some(Duration::ZERO),
        ..FakeDiscordConfig::default()
    })
    .await;

    let ping = fake.slash_command("ping", Value::Null, &Invoker::member(MEMBER));
    fake.send_interaction(&ping.json).await;
    let late = fake.wait_for_callback(&ping.id, DEFAULT_TIMEOUT).await;
    assert_eq!(late.status, 404);
    assert_eq!(late.response.as_ref().unwrap()["code"], 10062);
    assert!(
        late.note.as_deref().unwrap().contains("deadline"),
        "{late:?}"
    );
    assert!(fake.original_response(&ping.token).is_none());

    bot.stop();
}

/// Answers every button press with the shard it arrived on.
struct ShardEcho;

#[serenity::async_trait]
impl serenity::EventHandler for ShardEcho {
    async fn interaction_create(&self, ctx: serenity::Context, interaction: serenity::Interaction) {
        if let serenity::Interaction::Component(press) = interaction {
            let message = serenity::CreateInteractionResponseMessage::new()
                .content(format!("shard {}", ctx.shard_id));
            let _ = press
                .create_response(&ctx, serenity::CreateInteractionResponse::Message(message))
                .await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_are_recommended_identified_and_dispatched_apart() {
    init_tracing();
    let fake = FakeDiscord::start_with(FakeDiscordConfig {
        shards: 2,
        ..FakeDiscordConfig::default()
    })
    .await;
    let recommended = fake.http(TEST_TOKEN).get_bot_gateway().await.unwrap();
    assert_eq!(recommended.shards, 2);
    assert_eq!(recommended.url, fake.gateway_url());

    // Two clients, as two processes would run them, one shard each.
    let mut tasks = Vec::new();
    for shard in 0..2 {
        let http = serenity::HttpBuilder::new(format!("token-{shard}"))
            .proxy(fake.base_url())
            .ratelimiter_disabled(true)
            .build();
        let mut client =
            serenity::ClientBuilder::new_with_http(http, serenity::GatewayIntents::GUILDS)
                .event_handler(ShardEcho)
                .await
                .expect("serenity client");
        tasks.push(tokio::spawn(async move {
            let _ = client.start_shard(shard, 2).await;
        }));
    }
    fake.wait_until_shard_ready(0, DEFAULT_TIMEOUT).await;
    fake.wait_until_shard_ready(1, DEFAULT_TIMEOUT).await;
    assert_eq!(fake.ready_shards(), [0, 1]);
    let mut identified = fake.identified_shards();
    identified.sort();
    assert_eq!(
        identified,
        [
            ("Bot token-0".to_owned(), [0, 2]),
            ("Bot token-1".to_owned(), [1, 2])
        ]
    );

    let member = Invoker::member(MEMBER);
    for shard in 0..2 {
        let press = fake.component("which", &member);
        fake.send_interaction_on(shard, &press.json).await;
        let answer = fake.wait_for_callback(&press.id, DEFAULT_TIMEOUT).await;
        assert_eq!(answer.content(), Some(format!("shard {shard}").as_str()));
        assert_eq!(answer.authorization, Some(format!("Bot token-{shard}")));
    }
    // Without a shard named, the guild's shard (Discord's formula) gets it.
    let press = fake.component("which", &member);
    let shard = fake.shard_for(&press.json);
    assert_eq!(u64::from(shard), (fake.guild_id() >> 22) % 2);
    fake.send_interaction(&press.json).await;
    let answer = fake.wait_for_callback(&press.id, DEFAULT_TIMEOUT).await;
    assert_eq!(answer.content(), Some(format!("shard {shard}").as_str()));
    // DMs go to shard 0.
    assert_eq!(fake.shard_for(&press.clone().in_dm(fake.next_id()).json), 0);

    for task in tasks {
        task.abort();
    }
}
