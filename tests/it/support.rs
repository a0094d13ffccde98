//! What every integration test shares: temporary copies of the bundled
//! transcripts (so no test ever touches the repository's `data/` or its
//! built index), and the one way to run the built `forumbot` binary on such
//! a copy, in a clean environment.

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

/// `forumbot --data DATA`, run from `data` (away from the repository, so no
/// `config/local.toml` is read), without `RUST_LOG`, a Discord token or a
/// `FORUMBOT__DATA__DIR` from the caller's environment. Add the arguments,
/// environment and pipes the test needs.
pub fn forumbot_command(data: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data")
        .arg(data)
        .current_dir(data)
        .env_remove("RUST_LOG")
        .env_remove("DISCORD_TOKEN")
        .env_remove("FORUMBOT__DISCORD__TOKEN")
        .env_remove("FORUMBOT__DATA__DIR");
    cmd
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
