//! The bot as separate `forumbot run` processes against the local Discord
//! of the `fake-discord` crate: two processes splitting two shards over one
//! data directory, and a process whose Discord is out of reach.
//!
//! Each process gets its own token (the fake accepts any), so every request
//! tells which process made it: a callback carrying `Bot token-a` was made by
//! the process that runs shard 0.

use crate::support::{self, author, free_port, BIN};

use fake_discord::{
    buttons, callback, opt, FakeDiscord, Invoker, RecordedRequest, DEFAULT_TIMEOUT,
};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MEMBER: u64 = 900_000_000_000_000_001;
const MODERATOR: u64 = 900_000_000_000_000_003;
const NEW_TRANSCRIPT: &str = "區塊鏈論壇\n\n王大明:區塊鏈技術會改變跨境結算的方式。\n\n李小華:我同意,跨境結算的成本會大幅下降。\n\n王大明:監管沙盒讓試點更快。\n\n李小華:謝謝大家。\n";
const NEW_SIDECAR: &str = "title = \"區塊鏈與跨境結算\"\n\n[[speakers]]\nname = \"王大明\"\nrole = \"區塊鏈研究員\"\n\n[[speakers]]\nname = \"李小華\"\nrole = \"支付公司產品經理\"\n";

/// A `forumbot run` child; killed when dropped.
struct Bot {
    child: Child,
    stderr: Arc<Mutex<String>>,
    token: String,
    web: Option<String>,
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(data: &Path, api_base: &str, token: &str, shards: &str, web: bool) -> Bot {
    let listen = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(BIN)
        // Meaning is tested in tests/it/semantic.rs, not in every process.
        .env("FORUMBOT__SEMANTIC__ENABLED", "false")
        .args(["--data", data.to_str().unwrap(), "run"])
        .current_dir(data)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .env("FORUMBOT__DISCORD__TOKEN", token)
        .env("FORUMBOT__DISCORD__API_BASE", api_base)
        .env("FORUMBOT__DISCORD__SHARDS", shards)
        .env("FORUMBOT__DISCORD__RATE_LIMIT_QUESTIONS", "0")
        .env("FORUMBOT__WEB__ENABLED", web.to_string())
        .env("FORUMBOT__WEB__LISTEN", &listen)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("forumbot runs");
    let stderr = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&stderr);
    let pipe = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let mut s = sink.lock().unwrap_or_else(|e| e.into_inner());
            s.push_str(&line);
            s.push('\n');
        }
    });
    Bot {
        child,
        stderr,
        token: token.to_owned(),
        web: web.then_some(listen),
    }
}

impl Bot {
    fn log(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn authorization(&self) -> String {
        format!("Bot {}", self.token)
    }

    /// Waits (up to 60 s) until its log holds `text`.
    async fn wait_for_log(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.log().contains(text) {
            assert!(
                Instant::now() < deadline,
                "no {text:?} logged within 60 s:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, then the time until the process is gone and its status.
    async fn terminate(&mut self) -> (Duration, std::process::ExitStatus) {
        let pid = self.child.id().to_string();
        let sent = Instant::now();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (sent.elapsed(), status);
            }
            assert!(
                sent.elapsed() < Duration::from_secs(15),
                "still running 15 s after SIGTERM:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `GET /healthz` of its page server, as JSON.
    async fn health(&self) -> Value {
        let url = format!("http://{}/healthz", self.web.as_ref().expect("web enabled"));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = reqwest::get(&url).await {
                if r.status().is_success() {
                    let text = r.text().await.expect("healthz body");
                    return serde_json::from_str(&text).expect("healthz is JSON");
                }
            }
            assert!(Instant::now() < deadline, "no /healthz:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The health of `a` once `b` serves the same generation (within 5 s).
async fn agreed_generation(a: &Bot, b: &Bot) -> Value {
    let since = Instant::now();
    loop {
        let (ha, hb) = (a.health().await, b.health().await);
        if ha["generation"] == hb["generation"] {
            assert_eq!(ha["built_at"], hb["built_at"]);
            return ha;
        }
        assert!(
            since.elapsed() < Duration::from_secs(5),
            "the processes serve different generations: {ha} and {hb}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The request carrying the bot's answer to an interaction: its callback,
/// or the follow-up after a deferral.
async fn answer_to(fake: &FakeDiscord, id: &str, token: &str) -> RecordedRequest {
    let first = fake.wait_for_callback(id, Duration::from_secs(20)).await;
    if first.callback_type() == Some(callback::DEFERRED_CHANNEL_MESSAGE) {
        fake.wait_for_followup(token, Duration::from_secs(30)).await
    } else {
        first
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_split_the_shards_and_share_one_archive() {
    let fake = support::fake_discord(2).await;
    let dir = support::bundled_data();
    let mut a = spawn(dir.path(), &fake.base_url(), "token-a", "0/2", true);
    let mut b = spawn(dir.path(), &fake.base_url(), "token-b", "1/2", true);
    // Opening the engine (and building the index, one process at a time)
    // comes before connecting.
    fake.wait_until_shard_ready(0, Duration::from_secs(60))
        .await;
    fake.wait_until_shard_ready(1, Duration::from_secs(60))
        .await;

    // Each identified with its own shard of two.
    let identified = fake.identified_shards();
    assert!(
        identified.contains(&(a.authorization(), [0, 2])),
        "{identified:?}"
    );
    assert!(
        identified.contains(&(b.authorization(), [1, 2])),
        "{identified:?}"
    );
    assert_eq!(identified.len(), 2, "{identified:?}");
    // Only the process that runs shard 0 registers the commands.
    let registered = fake
        .wait_for(
            |r| r.method == "PUT" && r.path.ends_with("/commands"),
            Duration::from_secs(20),
        )
        .await;
    assert_eq!(
        registered.authorization.as_deref(),
        Some(a.authorization().as_str())
    );
    b.wait_for_log("commands are registered by the process that runs shard 0")
        .await;

    // An interaction on each shard is answered by the process holding it.
    let member = Invoker::member(MEMBER);
    for (shard, bot) in [(0, &a), (1, &b)] {
        let built = fake.slash_command("ask", opt::string("question", "郭慶怎麼看人才?"), &member);
        fake.send_interaction_on(shard, &built.json).await;
        let answer = answer_to(&fake, &built.id, &built.token).await;
        assert_eq!(
            answer.authorization.as_deref(),
            Some(bot.authorization().as_str()),
            "shard {shard}"
        );
        assert!(
            author(&answer, 0).starts_with("郭慶"),
            "{}",
            answer.all_text()
        );
        for r in fake.requests_for(&built.id) {
            assert_eq!(r.authorization, Some(bot.authorization()), "{r:?}");
        }
    }

    // A "more" button pressed where the page is not kept: politely expired.
    let built = fake.slash_command(
        "ask",
        json!([
            opt::string("question", "周伊麗怎麼看客服中心?"),
            opt::integer("limit", 2)
        ]),
        &member,
    );
    fake.send_interaction_on(0, &built.json).await;
    answer_to(&fake, &built.id, &built.token).await;
    let shown = fake.original_response(&built.token).unwrap();
    let more = buttons(&shown);
    assert_eq!(more.len(), 1, "{shown}");
    let press = fake
        .component(&more[0], &member)
        .with_message(shown.clone());
    fake.send_interaction_on(1, &press.json).await;
    let expired = fake.wait_for_callback(&press.id, DEFAULT_TIMEOUT).await;
    assert_eq!(expired.authorization, Some(b.authorization()));
    assert!(expired.is_ephemeral());
    let text = expired.all_text();
    assert!(
        text.contains("Sorry, this page has expired") && text.contains("/ask"),
        "{text}"
    );
    // The process that keeps it still pages.
    let press = fake.component(&more[0], &member).with_message(shown);
    fake.send_interaction_on(0, &press.json).await;
    let page = fake.wait_for_callback(&press.id, DEFAULT_TIMEOUT).await;
    assert_eq!(page.callback_type(), Some(callback::UPDATE_MESSAGE));
    assert_eq!(page.authorization, Some(a.authorization()));

    // Both serve the same generation; an upload through shard 0 reaches the
    // process of shard 1 within 5 s.
    // (Started together, both may have built the index: the later build
    // becomes CURRENT, and the other process catches up within seconds.)
    let before = agreed_generation(&a, &b).await;
    let file = fake.attachment("區塊鏈.txt", NEW_TRANSCRIPT.as_bytes(), "text/plain");
    let sidecar = fake.attachment("區塊鏈.toml", NEW_SIDECAR.as_bytes(), "application/toml");
    let upload = fake
        .slash_command(
            "reindex",
            json!([
                opt::attachment("file", &file.id),
                opt::attachment("sidecar", &sidecar.id)
            ]),
            &Invoker::moderator(MODERATOR),
        )
        .with_attachment(&file)
        .with_attachment(&sidecar);
    fake.send_interaction_on(0, &upload.json).await;
    let added = answer_to(&fake, &upload.id, &upload.token).await;
    assert_eq!(added.authorization, Some(a.authorization()));
    assert!(
        added.all_text().contains("Transcript added"),
        "{}",
        added.all_text()
    );
    let uploaded = Instant::now();
    let mut asked = 0;
    let answered = loop {
        asked += 1;
        let built = fake.slash_command(
            "ask",
            opt::string("question", "區塊鏈怎麼改變跨境結算?"),
            &Invoker::member(MEMBER + asked),
        );
        fake.send_interaction_on(1, &built.json).await;
        let answer = answer_to(&fake, &built.id, &built.token).await;
        assert_eq!(answer.authorization, Some(b.authorization()));
        if !answer.embeds().is_empty() && author(&answer, 0).starts_with("王大明") {
            break uploaded.elapsed();
        }
        assert!(
            uploaded.elapsed() < Duration::from_secs(5),
            "shard 1 still does not know the upload after {:?}: {}\n{}",
            uploaded.elapsed(),
            answer.all_text(),
            b.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(answered < Duration::from_secs(5), "{answered:?}");
    let after = agreed_generation(&a, &b).await;
    assert_ne!(after["generation"], before["generation"]);
    assert_eq!(after["transcripts"], 2);

    assert!(
        fake.unexpected_requests().is_empty(),
        "{}",
        fake.describe_requests()
    );
    for bot in [&mut a, &mut b] {
        let (_, status) = bot.terminate().await;
        assert!(status.success(), "{status:?}\n{}", bot.log());
    }
    fake.wait_until_disconnected(DEFAULT_TIMEOUT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_discord_is_retried_out_loud_and_sigterm_stops_at_once() {
    let dir = support::bundled_data();
    // A port nobody listens on.
    let closed = format!("http://127.0.0.1:{}", free_port());
    let mut bot = spawn(dir.path(), &closed, "token-a", "auto", false);
    bot.wait_for_log("retrying in 2 s (attempt 2)").await;
    let log = bot.log();
    assert!(
        log.contains("Discord is unreachable at http://127.0.0.1"),
        "{log}"
    );
    assert!(log.contains("retrying in 1 s (attempt 1)"), "{log}");
    // Why it is unreachable, not only serenity's "Error while sending HTTP
    // request.".
    assert!(log.contains("Connection refused"), "{log}");
    let (took, status) = bot.terminate().await;
    assert!(status.success(), "{status:?}\n{}", bot.log());
    assert!(
        took < Duration::from_secs(2),
        "SIGTERM took {took:?}:\n{}",
        bot.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_ends_the_bot_instead_of_retrying() {
    // A Discord that refuses every token.
    let listener = support::local_listener().await;
    let base = format!("http://{}", listener.local_addr().unwrap());
    let refuse = axum::Router::new().fallback(|| async {
        (
            axum::http::StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "401: Unauthorized", "code": 0})),
        )
    });
    tokio::spawn(async move { axum::serve(listener, refuse).await });
    let dir = support::bundled_data();
    let mut bot = spawn(dir.path(), &base, "token-a", "auto", false);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = bot.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "still running:\n{}", bot.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Give the stderr reader a moment to drain the pipe.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = bot.log();
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(log.contains("Discord refused the bot"), "{log}");
    assert!(!log.contains("retrying in"), "{log}");
}

#[test]
fn a_bad_shard_range_is_refused_before_anything_starts() {
    let dir = support::bundled_data();
    let out = Command::new(BIN)
        // Meaning is tested in tests/it/semantic.rs, not in every process.
        .env("FORUMBOT__SEMANTIC__ENABLED", "false")
        .args(["--data", dir.path().to_str().unwrap(), "run"])
        .current_dir(dir.path())
        .env("FORUMBOT__DISCORD__TOKEN", "token-a")
        .env("FORUMBOT__DISCORD__API_BASE", "http://127.0.0.1:9")
        .env("FORUMBOT__DISCORD__SHARDS", "3-1/4")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("discord.shards"), "{err}");
    assert!(err.contains("write the lower shard first (1-3/4)"), "{err}");
    // Refused before the index was built.
    assert!(!dir.path().join("index").exists());
}
