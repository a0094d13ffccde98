//! End to end: the real bot (`forumbot::discord::start`, the same code
//! `forumbot run` runs) connects to the local Discord of
//! the `fake-discord` crate through `discord.api_base`, with an engine on a
//! temporary copy of `data/transcripts`, and every test drives it with
//! gateway events and asserts on the JSON the bot sent back.
//!
//! Logs of every test in this binary go to one in-memory buffer (serenity,
//! poise and forumbot at debug level), never to the terminal; the token
//! test reads it. Set `TEST_LOG=1` to also print that buffer when a test's
//! bot is shut down.

use crate::support::{self, author};

use fake_discord::{
    buttons, callback, everyday_permissions, opt, BuiltInteraction, FakeAttachment, FakeDiscord,
    Invoker, RecordedRequest, DEFAULT_TIMEOUT, EPHEMERAL, TEST_TOKEN,
};
use forumbot::discord::{self, BotHandle};
use forumbot::settings::Settings;
use forumbot::{Engine, Question};
use secrecy::SecretString;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

const MEMBER: u64 = 900_000_000_000_000_001;
const OTHER: u64 = 900_000_000_000_000_002;
const MODERATOR: u64 = 900_000_000_000_000_003;
const ROLE_MODERATOR: u64 = 900_000_000_000_000_004;
/// A role the settings name as moderators.
const MOD_ROLE: u64 = 800_000_000_000_000_001;
const TRANSCRIPT: &str = "000_075a307d861b3240";

// ---------------------------------------------------------------------------
// Logs

/// Everything logged in this test binary. A global subscriber is the only
/// one that sees the bot's own tasks and serenity's shard threads.
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&buffer);
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "warn,serenity=debug,poise=debug,forumbot=debug",
            ))
            .with_ansi(false)
            .with_writer(move || LogWriter(Arc::clone(&sink)))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
        buffer
    })
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured_logs() -> String {
    String::from_utf8_lossy(&logs().lock().unwrap_or_else(|e| e.into_inner())).into_owned()
}

// ---------------------------------------------------------------------------
// A running bot

struct Running {
    /// `None` only while dropping; see `Drop`.
    fake: Option<FakeDiscord>,
    bot: Option<BotHandle>,
    engine: Arc<Engine>,
    dir: tempfile::TempDir,
}

fn settings_for(fake: &FakeDiscord, dir: &Path) -> Settings {
    let mut s = Settings::load_with_env(None, |_| None).expect("default settings");
    s.data.dir = dir.to_owned();
    s.web.enabled = false;
    // Meaning is tested in a few focused tests, not in every bot here.
    s.semantic.enabled = false;
    s.discord.api_base = fake.base_url();
    s.discord.token = Some(SecretString::from(TEST_TOKEN));
    s.discord.guild_id = fake.guild_id();
    s.discord.moderator_role_ids = vec![MOD_ROLE];
    // Tests ask many questions as one user; the rate-limit test turns it on.
    s.discord.rate_limit_questions = 0;
    s
}

async fn start() -> Running {
    start_with(|_| {}).await
}

/// Starts a fake Discord and the real bot against it, with the settings
/// changed by `tune`, and waits until the commands are registered.
async fn start_with(tune: impl FnOnce(&mut Settings)) -> Running {
    start_filled(|_| {}, tune).await
}

/// As [`start`], on an archive of several forums (the bundled transcript
/// and two generated ones, see `support::archive_data`).
async fn start_archive() -> Running {
    start_filled(support::fill_archive, |_| {}).await
}

/// As [`start_with`], with `fill` adding to the data directory (which
/// holds a copy of the bundled transcripts) before the engine opens.
async fn start_filled(fill: impl FnOnce(&Path), tune: impl FnOnce(&mut Settings)) -> Running {
    logs();
    let fake = support::fake_discord(1).await;
    let dir = support::bundled_data();
    fill(dir.path());
    let mut settings = settings_for(&fake, dir.path());
    tune(&mut settings);
    let options = settings.engine_options();
    let engine = Arc::new(support::open_engine_async(options).await);
    let bot = discord::start(settings, engine.clone())
        .await
        .expect("bot starts");
    fake.wait_until_ready(DEFAULT_TIMEOUT).await;
    fake.wait_until_guild_commands(DEFAULT_TIMEOUT).await;
    Running {
        fake: Some(fake),
        bot: Some(bot),
        engine,
        dir,
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A failed test drops the fake while the bot still runs, and
        // serenity then retries the closed gateway without yielding, which
        // holds the runtime's shutdown for about 40 s. Keeping the fake up
        // until the runtime drops both makes a failure fail fast.
        if self.bot.is_some() {
            std::mem::forget(self.fake.take());
        }
    }
}

impl Running {
    fn fake(&self) -> &FakeDiscord {
        self.fake.as_ref().expect("running")
    }

    /// Sends an interaction and returns the request that carries the bot's
    /// message: the callback, or the follow-up after a deferral. Insists the
    /// first response came within Discord's 3 s.
    async fn answer(&self, built: &BuiltInteraction) -> RecordedRequest {
        self.fake().send_interaction(&built.json).await;
        let first = self
            .fake()
            .wait_for_callback(&built.id, DEFAULT_TIMEOUT)
            .await;
        assert_eq!(first.status, 204, "{first:?}");
        let since = first.since_interaction.expect("callback timing");
        assert!(
            since < Duration::from_secs(3),
            "first response after {since:?}"
        );
        if first.callback_type() == Some(callback::DEFERRED_CHANNEL_MESSAGE) {
            self.fake()
                .wait_for_followup(&built.token, DEFAULT_TIMEOUT)
                .await
        } else {
            first
        }
    }

    async fn ask(&self, question: &str, who: &Invoker) -> RecordedRequest {
        let built = self
            .fake()
            .slash_command("ask", opt::string("question", question), who);
        self.answer(&built).await
    }

    /// Nothing unexpected was requested and nothing was refused (a second
    /// acknowledgement, a follow-up before a deferral, a late answer…), and
    /// no message the bot sent could ping anybody.
    fn assert_clean(&self) {
        for r in self.fake().requests() {
            let carries_message = r.is_followup()
                || r.is_channel_message()
                || r.is_edit_original()
                || matches!(
                    r.callback_type(),
                    Some(callback::CHANNEL_MESSAGE | callback::UPDATE_MESSAGE)
                );
            if carries_message {
                assert_no_pings(&r);
            }
        }
        let unexpected = self.fake().unexpected_requests();
        assert!(
            unexpected.is_empty(),
            "unexpected requests:\n{}",
            self.fake().describe_requests()
        );
        let refused = self.fake().error_responses();
        assert!(
            refused.is_empty(),
            "refused requests:\n{}",
            self.fake().describe_requests()
        );
    }

    async fn shut_down(mut self) {
        self.assert_clean();
        let bot = self.bot.take().expect("running");
        tokio::time::timeout(Duration::from_secs(15), bot.shutdown())
            .await
            .expect("shutdown in time")
            .expect("clean shutdown");
        self.fake().wait_until_disconnected(DEFAULT_TIMEOUT).await;
        if std::env::var_os("TEST_LOG").is_some() {
            eprintln!("{}", captured_logs());
        }
    }

    /// The transcripts and sidecars (not the versions kept beside them,
    /// `.versions.json` and `.previous/`).
    fn transcript_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path().join("transcripts"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        names
    }
}

fn description(answer: &RecordedRequest, embed: usize) -> &str {
    answer.embeds()[embed]["description"].as_str().unwrap_or("")
}

fn assert_no_pings(answer: &RecordedRequest) {
    assert!(answer.pings_nobody(), "{}", answer.body);
    assert_eq!(
        answer.allowed_mentions().unwrap()["parse"],
        json!([]),
        "{}",
        answer.body
    );
}

// ---------------------------------------------------------------------------
// Tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_are_registered_with_localisations() {
    let bot = start().await;
    let fake = bot.fake();

    // guild_id is set: registered in that guild only, so they appear at once.
    assert!(fake.registered_commands().is_empty());
    let commands = fake.registered_guild_commands(fake.guild_id());
    let mut names: Vec<&str> = commands.iter().filter_map(|c| c["name"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["ask", "help", "reindex", "remove", "speaker", "transcripts"]
    );

    for c in &commands {
        let name = c["name"].as_str().unwrap();
        assert!(name.is_ascii(), "{name}");
        let d = c["description"].as_str().unwrap();
        assert!(!d.is_empty() && d.chars().count() <= 100, "{name}: {d}");
        for locale in ["zh-TW", "zh-CN"] {
            let l = c["description_localizations"][locale].as_str();
            assert!(
                l.is_some_and(|l| !l.is_empty() && l.chars().count() <= 100),
                "/{name} has no {locale} description: {c}"
            );
            for o in c["options"].as_array().into_iter().flatten() {
                assert!(o["name"].as_str().unwrap().is_ascii());
                assert!(
                    o["description_localizations"][locale].is_string(),
                    "/{name} {} has no {locale} description",
                    o["name"]
                );
            }
        }
    }
    let find = |n: &str| commands.iter().find(|c| c["name"] == n).unwrap();
    let ask = find("ask");
    assert_eq!(
        ask["description_localizations"]["zh-TW"],
        "詢問論壇內容;回答一律逐字引用逐字稿原文。"
    );
    assert_eq!(
        ask["description_localizations"]["zh-CN"],
        "询问论坛内容;回答一律逐字引用逐字稿原文。"
    );
    let option = |c: &Value, n: &str| {
        c["options"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == n)
            .cloned()
            .unwrap()
    };
    assert_eq!(option(ask, "question")["required"], json!(true));
    assert_eq!(option(ask, "speaker")["autocomplete"], json!(true));
    assert_eq!(option(ask, "limit")["min_value"].as_f64(), Some(1.0));
    assert_eq!(option(ask, "limit")["max_value"].as_f64(), Some(5.0));
    assert_eq!(option(find("speaker"), "name")["autocomplete"], json!(true));
    // Manage Server (1 << 5): Discord hides /reindex from everybody else.
    assert_eq!(find("reindex")["default_member_permissions"], json!("32"));
    assert_eq!(option(find("reindex"), "file")["type"], json!(11));
    // /remove is hidden the same way, and completes transcript ids.
    assert_eq!(find("remove")["default_member_permissions"], json!("32"));
    assert_eq!(option(find("remove"), "id")["autocomplete"], json!(true));
    assert_eq!(option(find("remove"), "undo")["type"], json!(5));
    assert!(find("help")["default_member_permissions"].is_null());

    // /help and /transcripts.
    let help = bot
        .answer(&fake.slash_command("help", Value::Null, &Invoker::member(MEMBER)))
        .await;
    assert!(help.is_ephemeral());
    assert!(help.all_text().contains("/ask"), "{}", help.all_text());
    assert!(help.all_text().contains("verbatim quotes"));
    assert_no_pings(&help);
    let list = bot
        .answer(&fake.slash_command("transcripts", Value::Null, &Invoker::member(MEMBER)))
        .await;
    assert!(!list.is_ephemeral());
    let text = list.all_text();
    assert!(text.contains("已收錄 1 份逐字稿"), "{text}");
    assert!(text.contains("2018-08-31"), "{text}");
    assert!(text.contains("郭慶(5)"), "{text}");
    assert!(text.contains(&format!("/t/{TRANSCRIPT})")), "{text}");
    assert_no_pings(&list);

    bot.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_quotes_the_speaker_in_either_script_or_says_it_is_not_covered() {
    let bot = start().await;
    let member = Invoker::member(MEMBER);

    // Traditional.
    let a = bot.ask("周伊麗怎麼看客服中心?", &member).await;
    assert_eq!(a.callback_type(), Some(callback::CHANNEL_MESSAGE));
    assert!(!a.is_ephemeral());
    assert_no_pings(&a);
    assert_eq!(a.embeds()[0]["title"], "周伊麗怎麼看客服中心?");
    assert_eq!(author(&a, 0), "周伊麗 · 中國光大銀行電子銀行部副總經理");
    let d = description(&a, 0);
    assert!(d.contains("\n> ") || d.starts_with("> "), "{d}");
    assert!(d.contains("**客服中心**"), "{d}");
    assert!(d.contains("將會是銀行的一個很重要、很核心的部門"), "{d}");
    assert!(
        d.contains(&format!(
            "[查看原文 · 第 12 輪](http://127.0.0.1:8080/t/{TRANSCRIPT}#turn-12"
        )),
        "{d}"
    );
    // Only 周伊麗 is quoted, and all three answers fit: no next page.
    for i in 0..a.embeds().len() {
        assert!(author(&a, i).starts_with("周伊麗"), "{}", author(&a, i));
    }
    assert_eq!(a.embeds().len(), 3);
    assert!(buttons(a.message()).is_empty());

    // Simplified.
    let a = bot.ask("金融业为什么对营销新技术很敏感", &member).await;
    assert_eq!(author(&a, 0), "唐文 · 主持人,《輕營銷》作者、氫原子CEO");
    let d = description(&a, 0);
    assert!(d.contains("是一個很有意思的行業"), "{d}");
    assert!(d.contains("**敏感**"), "{d}");
    assert!(d.contains(&format!("/t/{TRANSCRIPT}#turn-1")), "{d}");
    assert_no_pings(&a);

    // Not covered: says so, quotes nothing.
    let a = bot.ask("今天天氣怎麼樣?", &member).await;
    assert!(!a.is_ephemeral());
    let text = a.all_text();
    assert!(text.contains("The transcripts do not cover this"), "{text}");
    assert!(!description(&a, 0).contains("> "), "{text}");
    assert!(buttons(a.message()).is_empty());

    // @everyone in a question pings nobody.
    let a = bot.ask("@everyone 郭慶怎麼看人才?", &member).await;
    assert_no_pings(&a);
    assert_eq!(a.embeds()[0]["title"], "@everyone 郭慶怎麼看人才?");
    assert!(author(&a, 0).starts_with("郭慶"), "{}", a.all_text());

    // The speaker option (an alias) and the limit.
    let built = bot.fake().slash_command(
        "ask",
        json!([
            opt::string("question", "客服"),
            opt::string("speaker", "週總"),
            opt::integer("limit", 1)
        ]),
        &member,
    );
    let a = bot.answer(&built).await;
    assert_eq!(a.embeds().len(), 1);
    assert!(author(&a, 0).starts_with("周伊麗"));

    // User errors are private and say what to do.
    let built = bot.fake().slash_command(
        "ask",
        json!([
            opt::string("question", "人才"),
            opt::string("speaker", "王小明")
        ]),
        &member,
    );
    let a = bot.answer(&built).await;
    assert!(a.is_ephemeral());
    assert!(a.all_text().contains("unknown speaker"), "{}", a.all_text());
    assert!(a.all_text().contains("郭慶"), "{}", a.all_text());
    let a = bot.ask("???", &member).await;
    assert!(a.is_ephemeral());
    assert!(
        a.all_text().contains("the question is empty"),
        "{}",
        a.all_text()
    );

    bot.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autocomplete_offers_matching_speakers() {
    let bot = start().await;
    let member = Invoker::member(MEMBER);
    let cases = [
        ("speaker", "name", "chen", vec!["陳慧菱"]),
        ("speaker", "name", "周", vec!["周伊麗"]),
        ("speaker", "name", "陈", vec!["陳慧菱"]),
        ("speaker", "name", "郭總", vec!["郭慶"]),
        ("ask", "speaker", "guo", vec!["郭慶"]),
        (
            "speaker",
            "name",
            "",
            vec!["唐文", "郭慶", "周伊麗", "陳慧菱"],
        ),
        ("speaker", "name", "zzz", vec![]),
    ];
    for (command, option, typed, expected) in cases {
        let options = if command == "ask" {
            json!([opt::string("question", "人才"), opt::focused(option, typed)])
        } else {
            json!([opt::focused(option, typed)])
        };
        let built = bot.fake().autocomplete(command, options, &member);
        bot.fake().send_interaction(&built.json).await;
        let a = bot
            .fake()
            .wait_for_callback(&built.id, DEFAULT_TIMEOUT)
            .await;
        assert_eq!(a.callback_type(), Some(callback::AUTOCOMPLETE_RESULT));
        let mut values: Vec<&str> = a
            .choices()
            .iter()
            .map(|c| c["value"].as_str().unwrap())
            .collect();
        let mut expected = expected.clone();
        if typed.is_empty() {
            values.sort_unstable();
            expected.sort_unstable();
        }
        assert_eq!(values, expected, "/{command} {option}:{typed:?}");
        assert!(a.choices().len() <= 25);
        for c in a.choices() {
            let name = c["name"].as_str().unwrap();
            assert!(name.chars().count() <= 100);
            assert!(name.starts_with(c["value"].as_str().unwrap()), "{name}");
        }
    }
    bot.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speaker_is_deferred_then_summarised() {
    let bot = start().await;
    let member = Invoker::member(MEMBER);

    let built = bot
        .fake()
        .slash_command("speaker", opt::string("name", "郭總"), &member);
    let summary = bot.answer(&built).await;
    let deferral = bot
        .fake()
        .wait_for_callback(&built.id, DEFAULT_TIMEOUT)
        .await;
    assert_eq!(
        deferral.callback_type(),
        Some(callback::DEFERRED_CHANNEL_MESSAGE)
    );
    assert_eq!(deferral.flags() & EPHEMERAL, 0);
    assert!(summary.is_followup());
    assert_no_pings(&summary);
    let e = &summary.embeds()[0];
    assert_eq!(
        e["title"],
        "郭慶 · 中國民生銀行北京分行科技部兼數據應用部總經理"
    );
    let fields = e["fields"].as_array().unwrap();
    let field = |n: &str| {
        fields
            .iter()
            .find(|f| f["name"] == n)
            .map(|f| f["value"].as_str().unwrap().to_owned())
    };
    assert_eq!(field("發言 · Turns").as_deref(), Some("5"));
    assert!(field("關鍵詞 · Keywords").is_some_and(|k| !k.is_empty()));
    let quotes: Vec<&Value> = fields
        .iter()
        .filter(|f| {
            f["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("引文 · Quote "))
        })
        .collect();
    assert!((3..=5).contains(&quotes.len()), "{e}");
    for q in quotes {
        assert!(
            q["value"]
                .as_str()
                .unwrap()
                .contains(&format!("/t/{TRANSCRIPT}#turn-")),
            "{q}"
        );
    }

    // Pinyin works too; an unknown name is answered privately at once.
    let built = bot
        .fake()
        .slash_command("speaker", opt::string("name", "Chen Huiling"), &member);
    assert!(bot.answer(&built).await.all_text().contains("陳慧菱"));
    let built = bot
        .fake()
        .slash_command("speaker", opt::string("name", "王小明"), &member);
    let a = bot.answer(&built).await;
    assert_eq!(a.callback_type(), Some(callback::CHANNEL_MESSAGE));
    assert!(a.is_ephemeral());
    assert!(a.all_text().contains("unknown speaker"), "{}", a.all_text());

    bot.shut_down().await;
}

/// A small valid transcript, and its sidecar.
const NEW_TRANSCRIPT: &str = "區塊鏈論壇\n\n王大明:區塊鏈技術會改變跨境結算的方式。\n\n李小華:我同意,跨境結算的成本會大幅下降。\n\n王大明:監管沙盒讓試點更快。\n\n李小華:謝謝大家。\n";
const NEW_SIDECAR: &str = "title = \"區塊鏈與跨境結算\"\ndate = \"2024-05-01\"\n\n[[speakers]]\nname = \"王大明\"\nrole = \"區塊鏈研究員\"\n\n[[speakers]]\nname = \"李小華\"\nrole = \"支付公司產品經理\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_is_refused_to_members_who_are_not_moderators() {
    let bot = start().await;
    let fake = bot.fake();
    let files_before = bot.transcript_files();
    let generation = bot.engine.snapshot().generation.name.clone();

    // The command is hidden from them, but a member who calls it anyway
    // (an admin may have changed the overrides) is refused by the bot.
    let upload = fake.attachment("new.txt", NEW_TRANSCRIPT.as_bytes(), "text/plain");
    let built = fake
        .slash_command(
            "reindex",
            opt::attachment("file", &upload.id),
            &Invoker::member(MEMBER),
        )
        .with_attachment(&upload);
    let a = bot.answer(&built).await;
    assert_eq!(a.callback_type(), Some(callback::CHANNEL_MESSAGE));
    assert!(a.is_ephemeral());
    assert!(a.all_text().contains("Only moderators"), "{}", a.all_text());
    assert_no_pings(&a);
    // Refused before anything was fetched or changed.
    assert!(fake
        .requests()
        .iter()
        .all(|r| !r.path.starts_with("/files/")));
    assert_eq!(bot.transcript_files(), files_before);
    assert_eq!(bot.engine.snapshot().generation.name, generation);

    // Manage Messages is not Manage Server.
    let almost = Invoker::member(OTHER)
        .with_permissions(everyday_permissions() | serenity::all::Permissions::MANAGE_MESSAGES);
    let a = bot
        .answer(&fake.slash_command("reindex", Value::Null, &almost))
        .await;
    assert!(a.is_ephemeral() && a.all_text().contains("Only moderators"));

    // From a DM there is no member, so no moderator.
    let a = bot
        .answer(
            &fake
                .slash_command("reindex", Value::Null, &Invoker::moderator(MODERATOR))
                .in_dm(fake.next_id()),
        )
        .await;
    assert!(a.is_ephemeral() && a.all_text().contains("Only moderators"));

    // A configured moderator role is enough: rebuild from the directory.
    let by_role = Invoker::member(ROLE_MODERATOR).with_roles(&[MOD_ROLE]);
    let built = fake.slash_command("reindex", Value::Null, &by_role);
    let a = bot.answer(&built).await;
    let deferral = fake.wait_for_callback(&built.id, DEFAULT_TIMEOUT).await;
    assert_eq!(
        deferral.callback_type(),
        Some(callback::DEFERRED_CHANNEL_MESSAGE)
    );
    assert_eq!(deferral.flags() & EPHEMERAL, EPHEMERAL);
    assert!(a.is_ephemeral());
    let text = a.all_text();
    assert!(text.contains("Reindexed"), "{text}");
    assert!(
        text.contains("唐文 10、郭慶 5、周伊麗 4、陳慧菱 6"),
        "{text}"
    );
    assert_ne!(bot.engine.snapshot().generation.name, generation);
    assert!(captured_logs().contains("refused /reindex: not a moderator"));

    bot.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_indexed_or_refused_with_the_reason() {
    let bot = start_with(|s| s.discord.max_upload_bytes = 4_000).await;
    let fake = bot.fake();
    let moderator = Invoker::moderator(MODERATOR);
    let reindex = |file: &FakeAttachment, sidecar: Option<&FakeAttachment>| {
        let mut options = vec![opt::attachment("file", &file.id)];
        options.extend(sidecar.map(|s| opt::attachment("sidecar", &s.id)));
        let built = fake
            .slash_command("reindex", json!(options), &moderator)
            .with_attachment(file);
        match sidecar {
            Some(s) => built.with_attachment(s),
            None => built,
        }
    };

    // Malformed files are refused with the reason, and change nothing.
    let files_before = bot.transcript_files();
    let cases: [(&str, Vec<u8>, &str); 3] = [
        (
            "latin1.txt",
            b"title\n\nA: ok\n\xe9t\xe9\n".to_vec(),
            "line 4: not valid UTF-8",
        ),
        (
            "nobody.txt",
            "這段文字沒有任何講者。\n\n也沒有發言。\n"
                .as_bytes()
                .to_vec(),
            "no speaker turn found",
        ),
        ("big.txt", "字".repeat(2_000).into_bytes(), "too large"),
    ];
    for (name, bytes, reason) in cases {
        let file = fake.attachment(name, bytes, "text/plain");
        let built = reindex(&file, None);
        let a = bot.answer(&built).await;
        assert!(a.is_followup() && a.is_ephemeral(), "{name}");
        let text = a.all_text();
        assert!(text.contains(reason), "{name}: {text}");
        assert!(text.contains(name), "{name}: {text}");
        assert_no_pings(&a);
    }
    // The oversized file was refused from its declared size, never fetched.
    assert!(fake
        .requests()
        .iter()
        .all(|r| !r.path.ends_with("/big.txt")));
    assert_eq!(bot.transcript_files(), files_before);
    let old = bot.ask("周伊麗怎麼看客服中心?", &moderator).await;
    assert!(author(&old, 0).starts_with("周伊麗"));

    // A good transcript with its sidecar is indexed and then answers.
    let file = fake.attachment("區塊鏈.txt", NEW_TRANSCRIPT.as_bytes(), "text/plain");
    let sidecar = fake.attachment("區塊鏈.toml", NEW_SIDECAR.as_bytes(), "application/toml");
    let built = reindex(&file, Some(&sidecar));
    let a = bot.answer(&built).await;
    assert!(a.is_ephemeral());
    let text = a.all_text();
    assert!(text.contains("Transcript added"), "{text}");
    assert!(text.contains("新增 · New: 區塊鏈與跨境結算"), "{text}");
    assert!(text.contains("王大明 2、李小華 2"), "{text}");
    // Saved under a name derived from the file name given, with its sidecar.
    let files = bot.transcript_files();
    assert_eq!(files.len(), files_before.len() + 2, "{files:?}");
    assert!(files.iter().any(|f| f == "qu-kuai-lian.txt"), "{files:?}");
    assert!(files.iter().any(|f| f == "qu-kuai-lian.toml"), "{files:?}");
    assert!(!files.iter().any(|f| f.contains("區塊鏈")));

    let a = bot.ask("區塊鏈怎麼改變跨境結算?", &moderator).await;
    assert_eq!(author(&a, 0), "王大明 · 區塊鏈研究員");
    assert!(
        description(&a, 0)
            .replace("**", "")
            .contains("區塊鏈技術會改變跨境結算的方式"),
        "{}",
        a.all_text()
    );
    // The old transcript still answers.
    let a = bot.ask("周伊麗怎麼看客服中心?", &moderator).await;
    assert!(author(&a, 0).starts_with("周伊麗"));

    let logged = captured_logs();
    assert!(
        logged.contains("indexed an uploaded transcript") && logged.contains("區塊鏈.txt"),
        "who reindexed what is logged"
    );
    bot.shut_down().await;
}

/// A fixture of `tests/fixtures/transcripts/`.
fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/transcripts")
            .join(name),
    )
    .unwrap()
}

/// Issue 19 from a moderator's chair: a transcript in the `名字（角色）：`
/// layout is uploaded and its guests answer; a corrected version replaces
/// it; `/remove` takes it out of answers, pages and `/transcripts`, and is
/// refused (privately) to a member who may not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transcript_is_uploaded_corrected_and_removed() {
    let bot = start().await;
    let fake = bot.fake();
    let moderator = Invoker::moderator(MODERATOR);
    // The pages, served from the bot's own engine as `forumbot run` does.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let pages = tokio::spawn(forumbot::web::serve_on(
        bot.engine.clone(),
        listener,
        async {
            let _ = stopped.await;
        },
    ));
    let page = |path: &str| {
        let url = format!("{base}{path}");
        async move {
            let r = reqwest::get(&url).await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let upload = |text: &str| {
        let file = fake.attachment("llm-panel.txt", text.as_bytes(), "text/plain");
        fake.slash_command(
            "reindex",
            json!([opt::attachment("file", &file.id)]),
            &moderator,
        )
        .with_attachment(&file)
    };
    let original = fixture("role-layout.txt");

    // Uploaded with no sidecar: the guests are speakers, with their roles.
    let a = bot.answer(&upload(&original)).await;
    assert!(a.is_ephemeral());
    let text = a.all_text();
    assert!(text.contains("Transcript added"), "{text}");
    assert!(text.contains("主持人 4、张伟 2、李娜 2"), "{text}");
    let a = bot.ask("保险公司怎么用大模型?", &moderator).await;
    assert_eq!(author(&a, 0), "李娜 · 平安保险科技总监", "{}", a.all_text());
    assert!(
        description(&a, 0).replace("**", "").contains("理赔和核保"),
        "{}",
        a.all_text()
    );
    assert_eq!(page("/t/llm-panel").await.0, 200);

    // A corrected version (same file name) replaces it.
    let corrected = original.replace("从三天缩短到几个小时", "从五天缩短到两个小时");
    let a = bot.answer(&upload(&corrected)).await;
    let text = a.all_text();
    assert!(text.contains("Transcript replaced"), "{text}");
    assert!(text.contains("version 2 replaced version 1"), "{text}");
    let a = bot.ask("理赔时效缩短到多久?", &moderator).await;
    let said = a.all_text();
    assert!(said.contains("五天"), "{said}");
    assert!(
        !said.contains("三天"),
        "the old text is still quoted: {said}"
    );
    let files = bot.transcript_files();
    assert_eq!(
        files.iter().filter(|f| f.ends_with(".txt")).count(),
        2,
        "{files:?}"
    );

    // Members without the permission are refused, privately, and nothing changes.
    let generation = bot.engine.snapshot().generation.name.clone();
    let a = bot
        .answer(&fake.slash_command(
            "remove",
            opt::string("id", "llm-panel"),
            &Invoker::member(MEMBER),
        ))
        .await;
    assert_eq!(a.callback_type(), Some(callback::CHANNEL_MESSAGE));
    assert!(a.is_ephemeral());
    assert!(
        a.all_text().contains("Only moderators can remove"),
        "{}",
        a.all_text()
    );
    assert_eq!(bot.engine.snapshot().generation.name, generation);
    assert!(bot
        .ask("保险公司怎么用大模型?", &moderator)
        .await
        .all_text()
        .contains("李娜"));

    // A moderator removes it: gone from answers, pages and /transcripts.
    let built = fake.slash_command("remove", opt::string("id", "llm-panel"), &moderator);
    let a = bot.answer(&built).await;
    let deferral = fake.wait_for_callback(&built.id, DEFAULT_TIMEOUT).await;
    assert_eq!(deferral.flags() & EPHEMERAL, EPHEMERAL);
    assert!(a.is_ephemeral());
    assert!(
        a.all_text().contains("Transcript removed"),
        "{}",
        a.all_text()
    );
    let a = bot.ask("保险公司怎么用大模型?", &moderator).await;
    assert!(!a.all_text().contains("李娜"), "{}", a.all_text());
    assert!(!a.all_text().contains("理赔"), "{}", a.all_text());
    assert_eq!(page("/t/llm-panel").await.0, 404);
    let (_, list) = page("/").await;
    assert!(!list.contains("/t/llm-panel"), "{list}");
    let listed = bot
        .answer(&fake.slash_command("transcripts", Value::Null, &moderator))
        .await;
    assert!(
        !listed.all_text().contains("llm-panel"),
        "{}",
        listed.all_text()
    );
    assert!(
        listed.all_text().contains(TRANSCRIPT),
        "{}",
        listed.all_text()
    );
    assert!(captured_logs().contains("removed a transcript"));

    let _ = stop.send(());
    pages.await.unwrap().unwrap();
    bot.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_gets_the_answer_as_a_reply() {
    let bot = start().await;
    let fake = bot.fake();

    // Not mentioned: no answer.
    fake.send_message_create(&fake.message_create("郭慶怎麼看人才?", false))
        .await;
    fake.assert_no_request(|r| r.is_channel_message(), Duration::from_millis(300))
        .await;

    let message = fake.message_create("@everyone 郭慶怎麼看人才?", true);
    fake.send_message_create(&message).await;
    let reply = fake
        .wait_for_channel_message(fake.channel_id(), DEFAULT_TIMEOUT)
        .await;
    assert_eq!(
        reply.body["message_reference"]["message_id"], message["id"],
        "{}",
        reply.body
    );
    assert_no_pings(&reply);
    assert!(
        author(&reply, 0).starts_with("郭慶"),
        "{}",
        reply.all_text()
    );
    assert!(description(&reply, 0).contains("**人才**"));
    let replies = fake
        .requests()
        .into_iter()
        .filter(|r| r.is_channel_message())
        .count();
    assert_eq!(replies, 1);

    // A bare mention gets the help.
    let mark = fake.mark();
    fake.send_message_create(&fake.message_create("", true))
        .await;
    let reply = fake
        .wait_for_since(mark, |r| r.is_channel_message(), DEFAULT_TIMEOUT)
        .await;
    assert!(reply.all_text().contains("/ask"), "{}", reply.all_text());
    assert_no_pings(&reply);

    bot.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_questions_are_all_answered() {
    let bot = start().await;
    let fake = bot.fake();
    let questions = [
        ("周伊麗怎麼看客服中心?", "周伊麗"),
        ("金融业为什么对营销新技术很敏感", "唐文"),
        ("郭慶怎麼看人才?", "郭慶"),
    ];
    let built: Vec<(BuiltInteraction, &str)> = (0..50)
        .map(|i| {
            let (q, who) = questions[i % questions.len()];
            let asker = Invoker::member(MEMBER + 100 + i as u64);
            (
                fake.slash_command("ask", opt::string("question", q), &asker),
                who,
            )
        })
        .collect();
    futures::future::join_all(built.iter().map(|(b, _)| fake.send_interaction(&b.json))).await;
    for (b, who) in &built {
        let first = fake.wait_for_callback(&b.id, Duration::from_secs(20)).await;
        let a = if first.callback_type() == Some(callback::DEFERRED_CHANNEL_MESSAGE) {
            fake.wait_for_followup(&b.token, Duration::from_secs(20))
                .await
        } else {
            first
        };
        assert!(!a.is_ephemeral(), "{}", a.all_text());
        assert!(author(&a, 0).starts_with(who), "{}", a.all_text());
        assert_no_pings(&a);
    }
    let callbacks = fake.requests().iter().filter(|r| r.is_callback()).count();
    assert_eq!(callbacks, 50);
    bot.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_pages_for_the_asker_and_refuses_everybody_else() {
    let bot = start().await;
    let fake = bot.fake();
    let asker = Invoker::member(MEMBER);
    let built = fake.slash_command(
        "ask",
        json!([
            opt::string("question", "周伊麗怎麼看客服中心?"),
            opt::integer("limit", 2)
        ]),
        &asker,
    );
    let first = bot.answer(&built).await;
    assert_eq!(first.embeds().len(), 2);
    let shown = fake.original_response(&built.token).unwrap();
    let ids = buttons(&shown);
    assert_eq!(ids.len(), 1, "{shown}");
    assert!(ids[0].starts_with(&format!("more:{MEMBER}:")), "{}", ids[0]);
    assert!(ids[0].ends_with(":2"), "{}", ids[0]);

    // Somebody else: a private refusal, the message stays as it is.
    let press = fake
        .component(&ids[0], &Invoker::member(OTHER))
        .with_message(shown.clone());
    fake.send_interaction(&press.json).await;
    let refusal = fake.wait_for_callback(&press.id, DEFAULT_TIMEOUT).await;
    assert_eq!(refusal.callback_type(), Some(callback::CHANNEL_MESSAGE));
    assert!(refusal.is_ephemeral());
    assert!(refusal.all_text().contains("Only the person who asked"));
    assert_no_pings(&refusal);
    let message_id = shown["id"].as_str().unwrap();
    assert_eq!(fake.message(message_id).unwrap()["embeds"], shown["embeds"]);

    // The asker: the next page replaces this one, with a way back.
    let press = fake.component(&ids[0], &asker).with_message(shown.clone());
    fake.send_interaction(&press.json).await;
    let update = fake.wait_for_callback(&press.id, DEFAULT_TIMEOUT).await;
    assert_eq!(update.callback_type(), Some(callback::UPDATE_MESSAGE));
    assert_no_pings(&update);
    let page2 = fake.message(message_id).unwrap();
    assert_ne!(page2["embeds"], shown["embeds"]);
    let first_quotes: Vec<&Value> = first.embeds().iter().map(|e| &e["description"]).collect();
    for e in update.embeds() {
        assert!(e["author"]["name"].as_str().unwrap().starts_with("周伊麗"));
        assert!(
            !first_quotes.contains(&&e["description"]),
            "a page repeats a quote"
        );
    }
    let footer = update.embeds().last().unwrap()["footer"]["text"]
        .as_str()
        .unwrap();
    assert!(footer.contains("共 3 段"), "{footer}");
    let back = buttons(&page2);
    assert_eq!(back.len(), 1, "{page2}");
    assert!(back[0].ends_with(":0"), "{}", back[0]);

    // Back to the first page.
    let press = fake.component(&back[0], &asker).with_message(page2);
    fake.send_interaction(&press.json).await;
    let update = fake.wait_for_callback(&press.id, DEFAULT_TIMEOUT).await;
    assert_eq!(update.embeds(), first.embeds());

    // A button of ours whose question is not known (e.g. from before a restart).
    let stale = format!("more:{MEMBER}:1:2");
    let press = fake.component(&stale, &asker);
    fake.send_interaction(&press.json).await;
    let a = fake.wait_for_callback(&press.id, DEFAULT_TIMEOUT).await;
    assert!(a.is_ephemeral() && a.all_text().contains("expired"));

    bot.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_says_when_to_try_again() {
    let bot = start_with(|s| {
        s.discord.rate_limit_questions = 2;
        s.discord.rate_limit_seconds = 60;
    })
    .await;
    let member = Invoker::member(MEMBER);
    for _ in 0..2 {
        let a = bot.ask("郭慶怎麼看人才?", &member).await;
        assert!(!a.is_ephemeral(), "{}", a.all_text());
    }
    let a = bot.ask("郭慶怎麼看人才?", &member).await;
    assert!(a.is_ephemeral());
    let text = a.all_text();
    let n: u64 = text
        .split("try again in ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no wait in {text}"));
    assert!((1..=60).contains(&n), "{text}");
    // Others are not affected, and mentions count too.
    let a = bot.ask("郭慶怎麼看人才?", &Invoker::member(OTHER)).await;
    assert!(!a.is_ephemeral());
    let mention = bot
        .fake()
        .message_create_from(&member, "郭慶怎麼看人才?", true);
    bot.fake().send_message_create(&mention).await;
    let reply = bot
        .fake()
        .wait_for_channel_message(bot.fake().channel_id(), DEFAULT_TIMEOUT)
        .await;
    assert!(
        reply.all_text().contains("try again in"),
        "{}",
        reply.all_text()
    );

    bot.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speaker_summaries_and_questions_share_the_rate_limit() {
    let bot = start_with(|s| {
        s.discord.rate_limit_questions = 2;
        s.discord.rate_limit_seconds = 60;
    })
    .await;
    let member = Invoker::member(MEMBER);
    // A speaker-only question and a summary use up the allowance…
    let a = bot.ask("郭慶說了什麼?", &member).await;
    assert!(!a.is_ephemeral(), "{}", a.all_text());
    let built = bot
        .fake()
        .slash_command("speaker", opt::string("name", "郭慶"), &member);
    let a = bot.answer(&built).await;
    assert!(a.all_text().contains("郭慶"), "{}", a.all_text());
    // …so the next summary, and the next question, wait.
    let built = bot
        .fake()
        .slash_command("speaker", opt::string("name", "周伊麗"), &member);
    let a = bot.answer(&built).await;
    assert!(a.is_ephemeral(), "{}", a.all_text());
    assert!(a.all_text().contains("try again in"), "{}", a.all_text());
    let a = bot.ask("周伊麗說了什麼?", &member).await;
    assert!(a.all_text().contains("try again in"), "{}", a.all_text());
    // Others are not affected.
    let built = bot.fake().slash_command(
        "speaker",
        opt::string("name", "周伊麗"),
        &Invoker::member(OTHER),
    );
    assert!(!bot.answer(&built).await.is_ephemeral());

    bot.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_never_appears_in_the_logs() {
    let bot = start().await;
    // The token was really used, so its absence from the logs means something.
    assert_eq!(
        bot.fake().identify_token(),
        Some(format!("Bot {TEST_TOKEN}"))
    );
    let member = Invoker::member(MEMBER);
    bot.ask("郭慶怎麼看人才?", &member).await;
    let built = bot
        .fake()
        .slash_command("reindex", Value::Null, &Invoker::moderator(MODERATOR));
    bot.answer(&built).await;
    // An error path: the engine answers a question about nobody.
    let a = bot
        .answer(&bot.fake().slash_command(
            "ask",
            json!([
                opt::string("question", "人才"),
                opt::string("speaker", "nobody")
            ]),
            &member,
        ))
        .await;
    assert!(a.is_ephemeral());
    bot.shut_down().await;

    let logged = captured_logs();
    // Debug logs of serenity, poise and forumbot were captured…
    for line in [
        "Identifying",
        "commands registered in the guild",
        "reindexed the transcripts directory",
        "closing the Discord connection",
    ] {
        assert!(logged.contains(line), "no {line:?} in the captured logs");
    }
    // …and none holds the token.
    assert!(!logged.contains(TEST_TOKEN), "the token is in the logs");
    // Nor does the settings' Debug output.
    let fake = support::fake_discord(1).await;
    let settings = settings_for(&fake, Path::new("/nonexistent"));
    assert!(!format!("{settings:?}").contains(TEST_TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_errors_are_logged_with_an_id_and_apologised_for() {
    let bot = start().await;
    let fake = bot.fake();
    // An attachment whose file the server does not have: the download fails,
    // which is not the moderator's fault.
    let id = fake.next_id().to_string();
    let url = format!("{}/files/attachments/{id}/gone.txt", fake.base_url());
    let gone = FakeAttachment {
        json: json!({
            "id": id, "filename": "gone.txt", "size": 10, "url": url,
            "proxy_url": url, "content_type": "text/plain",
        }),
        id,
        url,
    };
    let built = fake
        .slash_command(
            "reindex",
            opt::attachment("file", &gone.id),
            &Invoker::moderator(MODERATOR),
        )
        .with_attachment(&gone);
    let a = bot.answer(&built).await;
    assert!(a.is_ephemeral());
    let text = a.all_text();
    assert!(text.contains("Sorry, something went wrong"), "{text}");
    let error_id = text
        .split("error id `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("no error id in {text}"));
    assert!(uuid::Uuid::parse_str(error_id).is_ok(), "{error_id}");
    // The log line has the id and the whole cause chain; the user saw neither.
    let logged = captured_logs();
    let line = logged
        .lines()
        .find(|l| l.contains(error_id))
        .unwrap_or_else(|| panic!("error id {error_id} not logged"));
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("could not fetch gone.txt"), "{line}");
    assert!(line.contains("404"), "{line}");
    assert!(!text.contains("404"), "{text}");

    // The failed fetch is the only request the fake did not expect.
    let unexpected = fake.unexpected_requests();
    assert_eq!(unexpected.len(), 1, "{}", fake.describe_requests());
    assert!(unexpected[0].path.ends_with("/gone.txt"));
    let mut bot = bot;
    let handle = bot.bot.take().expect("running");
    handle.shutdown().await.expect("clean shutdown");
}

/// Questions keep being answered while a reindex runs (atomic swap).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_are_answered_during_a_reindex() {
    let bot = start().await;
    let engine = bot.engine.clone();
    let rebuild = tokio::task::spawn_blocking(move || {
        engine.reindex(&|_| {}).expect("reindex");
    });
    let member = Invoker::member(MEMBER);
    let mut asked = 0;
    while !rebuild.is_finished() || asked < 3 {
        let a = bot
            .ask("周伊麗怎麼看客服中心?", &Invoker::member(MEMBER + asked))
            .await;
        assert!(author(&a, 0).starts_with("周伊麗"), "{}", a.all_text());
        asked += 1;
    }
    rebuild.await.unwrap();
    let a = bot.ask("郭慶怎麼看人才?", &member).await;
    assert!(author(&a, 0).starts_with("郭慶"));
    // The engine itself agrees with what Discord was shown.
    let direct = bot.engine.ask(&Question::new("郭慶怎麼看人才?")).unwrap();
    assert_eq!(direct.hits[0].speaker.as_deref(), Some("郭慶"));
    bot.shut_down().await;
}

/// The choices an autocomplete of `/command` offers for `option` typed so far.
async fn choices(bot: &Running, command: &str, options: Value) -> Vec<(String, String)> {
    let built = bot
        .fake()
        .autocomplete(command, options, &Invoker::member(MEMBER));
    bot.fake().send_interaction(&built.json).await;
    let a = bot
        .fake()
        .wait_for_callback(&built.id, DEFAULT_TIMEOUT)
        .await;
    assert_eq!(a.callback_type(), Some(callback::AUTOCOMPLETE_RESULT));
    a.choices()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_within_a_transcript_picked_from_the_suggestions() {
    let bot = start_archive().await;
    let member = Invoker::member(MEMBER);
    let commands = bot.fake().registered_guild_commands(bot.fake().guild_id());
    for command in ["ask", "transcripts"] {
        let c = commands.iter().find(|c| c["name"] == command).unwrap();
        let o = c["options"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == "transcript")
            .unwrap_or_else(|| panic!("/{command} has no transcript option: {c}"));
        assert_eq!(o["autocomplete"], json!(true), "/{command}");
        assert_eq!(o["required"], json!(false), "/{command}");
    }

    // Suggestions by words of the event, by year, by id; nothing typed: all.
    let typed = |t: &str| {
        json!([
            opt::string("question", "人才"),
            opt::focused("transcript", t)
        ])
    };
    let found = choices(&bot, "ask", typed("財富")).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, "gen_00000");
    assert!(found[0].0.contains("2015-12-17") && found[0].0.chars().count() <= 100);
    let values = |v: Vec<(String, String)>| v.into_iter().map(|c| c.1).collect::<Vec<_>>();
    assert_eq!(
        values(choices(&bot, "ask", typed("2016")).await),
        ["gen_00001"]
    );
    assert_eq!(
        values(choices(&bot, "ask", typed("gen")).await),
        ["gen_00000", "gen_00001"]
    );
    assert_eq!(values(choices(&bot, "ask", typed("")).await).len(), 3);
    assert_eq!(
        values(
            choices(
                &bot,
                "transcripts",
                json!([opt::focused("transcript", "北京")])
            )
            .await
        ),
        [TRANSCRIPT]
    );

    // Answered from the transcript picked, and only from it, saying so.
    let built = bot.fake().slash_command(
        "ask",
        json!([
            opt::string("question", "怎麼看人才?"),
            opt::string("transcript", "gen_00000"),
            opt::integer("limit", 5)
        ]),
        &member,
    );
    let a = bot.answer(&built).await;
    assert!(!a.is_ephemeral());
    assert!(!a.embeds().is_empty());
    for i in 0..a.embeds().len() {
        let d = description(&a, i);
        assert!(d.contains("/t/gen_00000#turn-"), "{d}");
        assert!(
            !d.contains(&format!("/t/{TRANSCRIPT}")) && !d.contains("/t/gen_00001"),
            "{d}"
        );
    }
    let content = a.content().unwrap_or("");
    assert!(
        content.starts_with("只在這些逐字稿中搜尋 · Searched only in:")
            && content.contains("gen\\_00000"),
        "{content}"
    );
    assert_no_pings(&a);
    // Without it, the same question quotes other forums too.
    let everywhere = bot
        .answer(&bot.fake().slash_command(
            "ask",
            json!([
                opt::string("question", "怎麼看人才?"),
                opt::integer("limit", 5)
            ]),
            &member,
        ))
        .await;
    let text = everywhere.all_text();
    assert!(!text.contains("Searched only in"), "{text}");

    // Named in the question: the same narrowing.
    let a = bot.ask("2016年那場論壇上怎麼看人才?", &member).await;
    for i in 0..a.embeds().len() {
        assert!(
            description(&a, i).contains("/t/gen_00001#turn-"),
            "{}",
            a.all_text()
        );
    }

    // Unknown or ambiguous: private, with the ones to pick from.
    let built = bot.fake().slash_command(
        "ask",
        json!([
            opt::string("question", "人才"),
            opt::string("transcript", "區塊鏈大會")
        ]),
        &member,
    );
    let a = bot.answer(&built).await;
    assert!(a.is_ephemeral());
    let text = a.all_text();
    assert!(text.contains("no transcript is called"), "{text}");
    assert!(
        text.contains("gen_00001") && text.contains("Pick a transcript"),
        "{text}"
    );
    let a = bot.ask("金融科技峰會上怎麼看人才?", &member).await;
    assert!(a.is_ephemeral());
    assert!(
        a.all_text().contains("fits several transcripts"),
        "{}",
        a.all_text()
    );

    bot.shut_down().await;
}

/// Decodes a PNG; its width, height and RGB(A) pixels.
fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes.to_vec()));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut px = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut px).expect("PNG data");
    (info.width, info.height, px)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcripts_and_speaker_attach_a_picture_of_who_spoke_how_much() {
    let bot = start_archive().await;
    let member = Invoker::member(MEMBER);
    let labelled = forumbot::chart::find_cjk_font().is_some();

    let check = |r: &RecordedRequest, embed: usize| -> (u32, u32) {
        assert_eq!(r.files.len(), 1, "{}", bot.fake().describe_requests());
        let f = &r.files[0];
        assert_eq!(f.filename.as_deref(), Some("participation-1.png"));
        assert_eq!(
            r.embeds()[embed]["image"]["url"],
            "attachment://participation-1.png"
        );
        let (w, h, px) = decode_png(&f.bytes);
        assert_eq!(w, 800);
        // Bars are drawn in the speakers' colours.
        let (r1, g1, b1) = (0xf4u8, 0x90u8, 0x0cu8);
        assert_eq!(forumbot::chart::colour(1), 0xf4900c);
        assert!(px.chunks(3).any(|p| p == [r1, g1, b1]), "no bars");
        let legend = r.embeds()[embed]["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|f| f["name"] == "圖例 · Legend");
        // Labels drawn with a CJK font, or the colours said in words.
        assert_eq!(legend, !labelled, "{}", r.all_text());
        (w, h)
    };

    // The list: one picture, a panel per transcript.
    let list = bot
        .answer(
            &bot.fake()
                .slash_command("transcripts", Value::Null, &member),
        )
        .await;
    assert!(!list.is_ephemeral());
    assert!(
        list.all_text().contains("已收錄 3 份逐字稿"),
        "{}",
        list.all_text()
    );
    let (_, tall) = check(&list, 0);

    // One transcript, named by its place.
    let one = bot
        .answer(&bot.fake().slash_command(
            "transcripts",
            opt::string("transcript", "西安"),
            &member,
        ))
        .await;
    let (_, short) = check(&one, 0);
    assert!(short * 2 < tall, "one panel {short} px, three {tall} px");
    let text = one.all_text();
    assert!(text.contains("誰說了多少 · Share of the words"), "{text}");
    assert!(text.contains("賀輝娜") && text.contains("%"), "{text}");

    // A speaker's summary, with the picture of their forum.
    let built = bot
        .fake()
        .slash_command("speaker", opt::string("name", "郭總"), &member);
    let summary = bot.answer(&built).await;
    assert!(summary.is_followup());
    check(&summary, 0);

    bot.shut_down().await;
}
