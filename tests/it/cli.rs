//! The command line as other tools see it: the `ask --json` contract, exit
//! codes, `--data`, `--speaker`, hostile questions, refused rebuilds, and an
//! index build killed at random moments.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const BUNDLED_ID: &str = "000_075a307d861b3240";

use crate::support::archive as data_with;
use crate::support::bundled_data as data_copy;
use crate::support::{self, forumbot, forumbot_within, BIN};

fn ask_json(data: &Path, extra: &[&str], question: &str) -> Value {
    let mut args = vec!["ask", "--json"];
    args.extend_from_slice(extra);
    args.push(question);
    let out = forumbot(data, &args);
    assert!(
        out.status.success(),
        "ask {question:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.trim().lines().count(),
        1,
        "exactly one JSON line: {stdout}"
    );
    serde_json::from_str(&stdout).unwrap()
}

#[test]
fn ask_json_contract() {
    let data = data_copy();
    let v = ask_json(
        data.path(),
        &["--limit", "2"],
        "郭慶覺得未來什麼樣的人才會受青睞?",
    );
    assert_eq!(v["query"], "郭慶覺得未來什麼樣的人才會受青睞?");
    assert_eq!(v["speaker"], "郭慶");
    let hits = v["hits"].as_array().unwrap();
    assert!(!hits.is_empty() && hits.len() <= 2);
    let keys = [
        "transcript",
        "turn",
        "paragraph",
        "speaker",
        "role",
        "text",
        "highlights",
        "score",
        "link",
    ];
    for h in hits {
        for k in keys {
            assert!(h.get(k).is_some(), "hit lacks {k}: {h}");
        }
        assert_eq!(h["speaker"], "郭慶");
        assert_eq!(h["transcript"], BUNDLED_ID);
        assert_eq!(h["role"], "中國民生銀行北京分行科技部兼數據應用部總經理");
        let text = h["text"].as_str().unwrap();
        // Verbatim: the passage is a substring of the transcript file.
        let source =
            std::fs::read_to_string(data.path().join(format!("transcripts/{BUNDLED_ID}.txt")))
                .unwrap();
        assert!(source.contains(text), "not verbatim: {text}");
        let n = text.chars().count();
        for span in h["highlights"].as_array().unwrap() {
            let (a, b) = (
                span[0].as_u64().unwrap() as usize,
                span[1].as_u64().unwrap() as usize,
            );
            assert!(a < b && b <= n, "span {a}..{b} outside {n} chars");
        }
        let turn = h["turn"].as_u64().unwrap();
        let paragraph = h["paragraph"].as_u64().unwrap();
        let link = h["link"].as_str().unwrap();
        assert!(
            link.starts_with(&format!(
                "http://bot.test/t/{BUNDLED_ID}#turn-{turn}-p{paragraph}:~:text="
            )),
            "{link}"
        );
    }
    assert!(hits[0]["text"]
        .as_str()
        .unwrap()
        .contains("綜合人才一定會越來越受青睞"));
    // The matched words are highlighted.
    let first = &hits[0];
    let chars: Vec<char> = first["text"].as_str().unwrap().chars().collect();
    let marked: Vec<String> = first["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            chars[s[0].as_u64().unwrap() as usize..s[1].as_u64().unwrap() as usize]
                .iter()
                .collect()
        })
        .collect();
    assert!(marked.iter().any(|m| m.contains("人才")), "{marked:?}");
}

#[test]
fn unanswerable_questions_get_no_hits_and_exit_zero() {
    let data = data_copy();
    for q in [
        "今天天氣怎麼樣?",
        "quantum computing roadmap",
        "區塊鏈技術的未來",
        "郭慶怎麼看區塊鏈?",
        "什麼?",
    ] {
        let v = ask_json(data.path(), &[], q);
        assert_eq!(v["hits"].as_array().unwrap().len(), 0, "{q}: {v}");
    }
}

#[test]
fn speaker_option_restricts_like_a_name_in_the_question() {
    let data = data_copy();
    for who in ["周伊麗", "周总", "Zhou Yili", "zhouyili"] {
        let v = ask_json(data.path(), &["--speaker", who], "創新");
        assert_eq!(v["speaker"], "周伊麗", "{who}");
        let hits = v["hits"].as_array().unwrap();
        assert!(!hits.is_empty(), "{who}");
        assert!(hits.iter().all(|h| h["speaker"] == "周伊麗"), "{who}: {v}");
    }
    let v = ask_json(data.path(), &[], "周伊麗說了什麼?");
    assert!(v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["speaker"] == "周伊麗"));
    assert!(!v["hits"].as_array().unwrap().is_empty());
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let data = data_copy();
    let long = "字".repeat(10_000);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["ask", ""], "empty"),
        (vec!["ask", "  \t "], "empty"),
        (vec!["ask", "😀🎉"], "empty"),
        (vec!["ask", &long], "too long"),
        (vec!["ask", "--speaker", "某人", "人才"], "unknown speaker"),
        (
            vec!["speaker", "某人"],
            "known speakers: 唐文, 郭慶, 周伊麗, 陳慧菱",
        ),
        (vec!["ask", "--limit", "x", "人才"], "invalid value"),
    ];
    for (args, want) in cases {
        let out = forumbot(data.path(), &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert!(
            out.stdout.is_empty() || !String::from_utf8_lossy(&out.stdout).contains("\"hits\"")
        );
    }
}

#[test]
fn ask_pages_with_offset_and_refuses_limits_out_of_range() {
    let data = data_copy();
    let q = "周伊麗怎麼看客服中心?";
    let first = ask_json(data.path(), &["--limit", "2"], q);
    let first = first["hits"].as_array().unwrap().clone();
    assert_eq!(first.len(), 2);
    // Options after the question are options, not words of it.
    let out = forumbot(
        data.path(),
        &["ask", "--json", q, "--offset", "1", "--limit", "2"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["query"], q);
    let paged = v["hits"].as_array().unwrap();
    assert_eq!(paged[0], first[1], "offset 1 starts at the second hit");
    // The text hint names the option that pages.
    let out = forumbot(data.path(), &["ask", "--limit", "1", q]);
    let text = String::from_utf8_lossy(&out.stdout);
    // …and keeps the limit the command gave, which the next page needs too.
    assert!(text.contains("(more: --offset 1 --limit 1)"), "{text}");

    for limit in ["0", "11", "100000"] {
        let out = forumbot(data.path(), &["ask", "--limit", limit, q]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--limit {limit}: {stderr}");
        assert!(stderr.contains("from 1 to 10"), "--limit {limit}: {stderr}");
        assert!(out.stdout.is_empty());
    }
    let out = forumbot(data.path(), &["ask", "--offset", "18446744073709551615", q]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("from 0 to 1000"));
    // An unknown option is an error, before or after the question.
    for args in [
        vec!["ask", "--ofset", "3", "創新"],
        vec!["ask", "創新", "--bogus"],
    ] {
        let out = forumbot(data.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("unexpected argument"));
    }
    // A question that starts with a dash goes after `--`.
    let out = forumbot(data.path(), &["ask", "--json", "--", "-念力"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["query"], "-念力");
}

#[test]
fn an_english_question_that_finds_nothing_suggests_asking_in_chinese() {
    let data = data_copy();
    let out = forumbot(
        data.path(),
        &["ask", "what did they say about quantum computing"],
    );
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("The transcripts are in Chinese"), "{text}");
    assert!(text.contains("郭慶") && text.contains("陳慧菱"), "{text}");
    assert!(!text.contains("fewer words"), "{text}");
    // A Chinese question that finds nothing keeps the usual tips.
    let out = forumbot(data.path(), &["ask", "今天天氣怎麼樣?"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("fewer words"), "{text}");
}

#[test]
fn a_settings_file_with_an_unknown_key_is_refused_with_the_key_named() {
    let data = data_copy();
    let settings = data.path().join("bad.toml");
    std::fs::write(&settings, "[search]\ndefault_limt = 5\n").unwrap();
    let out = Command::new(BIN)
        // Meaning is tested in tests/it/semantic.rs, not in every process.
        .env("FORUMBOT__SEMANTIC__ENABLED", "false")
        .arg("--config")
        .arg(&settings)
        .arg("--data")
        .arg(data.path())
        .args(["ask", "念力"])
        .current_dir(data.path())
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("default_limt"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn transcripts_without_date_or_place_print_no_dangling_colon() {
    let data = data_copy();
    std::fs::write(
        data.path().join("transcripts/plain.txt"),
        "小論壇\n\n甲:我們談談營銷。\n\n乙:數據很重要。\n\n甲:謝謝。\n\n乙:好。\n",
    )
    .unwrap();
    let out = forumbot(data.path(), &["transcripts"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("小論壇"), "{text}");
    for line in text.lines() {
        assert!(
            !line.trim_end().ends_with(':'),
            "dangling colon: {line:?}\n{text}"
        );
    }
    assert!(!text.contains("\\("), "no Discord escapes: {text}");
}

#[test]
fn log_lines_carry_no_colour_codes_when_stderr_is_not_a_terminal() {
    let data = data_copy();
    assert!(forumbot(data.path(), &["index"]).status.success());
    std::fs::write(data.path().join("transcripts/broken.txt"), b"\xff\xfe").unwrap();
    let out = Command::new(BIN)
        // Meaning is tested in tests/it/semantic.rs, not in every process.
        .env("FORUMBOT__SEMANTIC__ENABLED", "false")
        .arg("--data")
        .arg(data.path())
        .args(["ask", "念力"])
        .env("RUST_LOG", "debug")
        .env_remove("DISCORD_TOKEN")
        .env_remove("FORUMBOT__DISCORD__TOKEN")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DEBUG"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
    // The refusal is reported once, as a warning.
    assert_eq!(
        stderr
            .matches("warning: serving the previous index")
            .count(),
        1,
        "{stderr}"
    );
    assert_eq!(stderr.matches("WARN").count(), 0, "{stderr}");
}

#[test]
fn hostile_questions_never_crash() {
    let data = data_copy();
    let questions = [
        "AND OR ( \"unbalanced",
        "title:foo^3 OR *",
        "@everyone <script>alert(1)</script>",
        "郭慶\u{7}\u{1b}[31m人才",
        "\u{202e}人才\u{200b}",
        "營銷😀🎉數據",
        "ǅ ß İ ﬁ",
        "\\\\ // ;; ''",
    ];
    for q in questions {
        let out = forumbot(data.path(), &["ask", "--json", q]);
        assert!(
            matches!(out.status.code(), Some(0) | Some(2)),
            "{q:?}: {out:?}"
        );
        if out.status.code() == Some(0) {
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert!(v["hits"].is_array());
        }
    }
}

#[test]
fn speaker_summary_json() {
    let data = data_copy();
    let out = forumbot(data.path(), &["speaker", "--json", "Chen Huiling"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["speaker"], "陳慧菱");
    assert_eq!(v["role"], "京東雲市場傳播部高級總監");
    assert_eq!(v["turns"], 6);
    let share = v["share"].as_f64().unwrap();
    assert!(share > 0.05 && share < 0.6, "{share}");
    let keywords: Vec<&str> = v["keywords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert!(!keywords.is_empty());
    for k in &keywords {
        assert!(
            !["陳慧菱", "陳總", "的", "什麼"].contains(k),
            "{keywords:?}"
        );
    }
    let quotes = v["quotes"].as_array().unwrap();
    assert!((3..=5).contains(&quotes.len()), "{v}");
    let source =
        std::fs::read_to_string(data.path().join(format!("transcripts/{BUNDLED_ID}.txt"))).unwrap();
    let mut last_turn = 0;
    for q in quotes {
        assert!(source.contains(q["text"].as_str().unwrap()));
        let turn = q["turn"].as_u64().unwrap();
        assert!(turn >= last_turn, "quotes in transcript order");
        last_turn = turn;
        assert!(q["link"]
            .as_str()
            .unwrap()
            .contains(&format!("#turn-{turn}")));
    }
}

#[test]
fn index_reports_and_transcripts_lists() {
    let data = data_copy();
    let out = forumbot(data.path(), &["index"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("indexed 1 transcript(s)"), "{stdout}");
    assert!(
        stdout.contains("唐文 10, 郭慶 5, 周伊麗 4, 陳慧菱 6"),
        "{stdout}"
    );
    let out = forumbot(data.path(), &["transcripts", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["meta"]["id"], BUNDLED_ID);
    assert_eq!(v[0]["turns"], 25);
}

fn current(data: &Path) -> String {
    std::fs::read_to_string(data.join("index/CURRENT")).unwrap()
}

#[test]
fn a_refused_rebuild_exits_2_names_every_file_and_keeps_serving() {
    let data = data_copy();
    assert!(forumbot(data.path(), &["index"]).status.success());
    let before = current(data.path());
    std::fs::write(data.path().join("transcripts/broken.txt"), b"\xff\xfe\xfd").unwrap();
    std::fs::write(data.path().join("transcripts/empty.txt"), b"").unwrap();
    let out = forumbot(data.path(), &["index"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("broken.txt, line 1") && stderr.contains("empty.txt"),
        "{stderr}"
    );
    assert_eq!(current(data.path()), before);
    // `ask` still answers from the previous index, with a warning.
    let out = forumbot(data.path(), &["ask", "--json", "念力"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("previous index"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["hits"][0]["text"].as_str().unwrap().contains("念力"));
}

#[test]
fn a_new_transcript_is_picked_up_automatically() {
    let data = data_copy();
    ask_json(data.path(), &[], "念力");
    std::fs::write(
        data.path().join("transcripts/extra.txt"),
        "加場\n\n王小明:量子計算會改變風控模型。\n\n李大華:我同意王小明。\n\n王小明:謝謝。\n",
    )
    .unwrap();
    let v = ask_json(data.path(), &[], "量子計算");
    assert_eq!(v["hits"][0]["speaker"], "王小明", "{v}");
    assert_eq!(v["hits"][0]["transcript"], "extra");
}

/// Writes `n` generated transcripts so a build takes long enough to kill.
fn big_corpus(n: usize) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    forumbot_bench::gen::generate(
        forumbot_bench::SOURCE,
        &forumbot_bench::gen::GenOptions {
            transcripts: n,
            seed: 7,
        },
        tmp.path(),
    )
    .unwrap();
    tmp
}

#[test]
fn an_index_build_killed_at_any_moment_leaves_a_working_index() {
    let data = big_corpus(40);
    let started = std::time::Instant::now();
    assert!(forumbot(data.path(), &["index"]).status.success());
    let full = started.elapsed().as_millis() as u64;
    let original = current(data.path());
    let mut generations_seen = std::collections::BTreeSet::new();
    // Kill at spread-out moments of a build, measured on this machine and
    // build profile: early (parsing), middle (writing segments), late
    // (commit, rename, swap of CURRENT).
    for percent in [2u64, 10, 25, 45, 65, 80, 90, 95, 98, 100] {
        let delay_ms = full * percent / 100;
        let mut child = Command::new(BIN)
            // Meaning is tested in tests/it/semantic.rs, not in every process.
            .env("FORUMBOT__SEMANTIC__ENABLED", "false")
            .arg("--data")
            .arg(data.path())
            .arg("index")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL: no destructor, no cleanup runs
        let _ = child.wait();
        let gen = current(data.path());
        generations_seen.insert(gen.clone());
        let g = forumbot::index::open(&forumbot::index::DataDir::new(data.path()))
            .unwrap_or_else(|e| panic!("index broken after kill at {delay_ms} ms: {e}"))
            .expect("a current generation");
        assert_eq!(g.manifest.transcripts, 40);
        assert!(g.reader.searcher().num_docs() > 1000);
        let out = forumbot(data.path(), &["ask", "--json", "人才"]);
        assert!(out.status.success(), "ask after kill at {delay_ms} ms");
    }
    // The next build cleans up whatever the kills left behind.
    assert!(forumbot(data.path(), &["index"]).status.success());
    let leftovers: Vec<PathBuf> = std::fs::read_dir(data.path().join("index"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(generations_seen.contains(&original) || generations_seen.len() > 1);
}

const EXTRA: &str =
    "加場\n\n王小明:量子計算會改變風控模型。\n\n李大華:我同意王小明。\n\n王小明:謝謝。\n";

/// Holds the build lock of `data`'s index, as a running build does.
fn hold_build_lock(data: &Path) -> std::fs::File {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(data.join("index/build.lock"))
        .unwrap();
    f.lock().unwrap();
    f
}

#[test]
fn a_stale_index_is_served_while_another_process_builds_and_index_waits_bounded() {
    let data = data_copy();
    assert!(forumbot(data.path(), &["index"]).status.success());
    std::fs::write(data.path().join("transcripts/extra.txt"), EXTRA).unwrap();
    let lock = hold_build_lock(data.path());
    let out = forumbot_within(data.path(), &["ask", "--json", "念力"], &[], 30);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("another process is rebuilding"), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["hits"][0]["text"].as_str().unwrap().contains("念力"));
    let out = forumbot_within(
        data.path(),
        &["index"],
        &[("FORUMBOT__INDEX__LOCK_WAIT_SECONDS", "1")],
        30,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("another build of this index is running") && !stderr.contains("internal"),
        "{stderr}"
    );
    drop(lock);
    let v = ask_json(data.path(), &[], "量子計算");
    assert_eq!(v["hits"][0]["transcript"], "extra", "{v}");
}

#[test]
fn four_asks_after_a_change_rebuild_once() {
    let data = data_copy();
    assert!(forumbot(data.path(), &["index"]).status.success());
    std::fs::write(data.path().join("transcripts/extra.txt"), EXTRA).unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(BIN)
                // Meaning is tested in tests/it/semantic.rs, not in every process.
                .env("FORUMBOT__SEMANTIC__ENABLED", "false")
                .arg("--data")
                .arg(data.path())
                .args(["ask", "--json", "量子計算"])
                .env_remove("RUST_LOG")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut builds = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        builds += stderr.matches("forumbot: indexed").count();
    }
    assert_eq!(builds, 1, "four askers rebuilt {builds} times");
    let v = ask_json(data.path(), &[], "量子計算");
    assert_eq!(v["hits"][0]["transcript"], "extra", "{v}");
}

#[test]
fn a_refused_file_left_in_place_is_not_parsed_by_every_ask() {
    let data = data_copy();
    assert!(forumbot(data.path(), &["index"]).status.success());
    std::fs::write(data.path().join("transcripts/broken.txt"), b"\xff\xfe\xfd").unwrap();
    let first = forumbot(data.path(), &["ask", "--json", "念力"]);
    assert!(first.status.success());
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(stderr.contains("broken.txt"), "{stderr}");
    let again = forumbot(data.path(), &["ask", "--json", "念力"]);
    assert!(again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("unchanged since this rebuild was refused")
            && stderr.contains("broken.txt"),
        "{stderr}"
    );
    // Once the file changes, it is tried again.
    std::fs::write(data.path().join("transcripts/broken.txt"), EXTRA).unwrap();
    let v = ask_json(data.path(), &[], "量子計算");
    assert_eq!(v["hits"][0]["transcript"], "broken", "{v}");
}

#[test]
fn an_intact_index_is_served_when_a_rebuild_fails_for_io_reasons() {
    let data = data_copy();
    assert!(forumbot(data.path(), &["index"]).status.success());
    std::fs::write(data.path().join("transcripts/extra.txt"), EXTRA).unwrap();
    // The rebuild cannot write (as on a full disk or read-only filesystem):
    // here a directory stands where the lock file must be opened.
    let lock = data.path().join("index/build.lock");
    let _ = std::fs::remove_file(&lock);
    std::fs::create_dir(&lock).unwrap();
    let out = forumbot_within(data.path(), &["ask", "--json", "念力"], &[], 60);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("could not be refreshed") && stderr.contains("build.lock"),
        "{stderr}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["hits"][0]["text"].as_str().unwrap().contains("念力"));
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_page_server_despite_half_open_connections() {
    use std::io::{Read, Write};
    let data = data_copy();
    assert!(forumbot(data.path(), &["index"]).status.success());
    let listen = format!("127.0.0.1:{}", support::free_port());
    let mut server = Command::new(BIN)
        // Meaning is tested in tests/it/semantic.rs, not in every process.
        .env("FORUMBOT__SEMANTIC__ENABLED", "false")
        .arg("--data")
        .arg(data.path())
        .arg("web")
        .env_remove("RUST_LOG")
        .env("FORUMBOT__WEB__LISTEN", &listen)
        .env("FORUMBOT__WEB__HEADER_READ_TIMEOUT_SECONDS", "600")
        .env("FORUMBOT__WEB__SHUTDOWN_GRACE_SECONDS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let healthy = loop {
        if let Ok(mut s) = std::net::TcpStream::connect(&listen) {
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut r = String::new();
            let _ = s.read_to_string(&mut r);
            break r.starts_with("HTTP/1.1 200");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "server never came up"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(healthy);
    let half_open: Vec<_> = (0..5)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(&listen).unwrap();
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = server.try_wait().unwrap() {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = server.kill();
            let _ = server.wait();
            panic!("the page server ignored SIGTERM for 15 s with half-open connections");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    drop(half_open);
}

#[test]
fn a_sidecar_speaker_with_a_long_name_is_credited() {
    let data = data_with(&[
        (
            "l.txt",
            b"Panel\n\nJane Smith: We moved to cloud.\n\nBob: Why?\n\nJane Smith: Because blockchain settlement was too slow.\n\nBob: Thanks.\n",
        ),
        ("l.toml", b"[[speakers]]\nname=\"Jane Smith\"\n[[speakers]]\nname=\"Bob\"\n"),
    ]);
    let v = ask_json(data.path(), &[], "blockchain settlement");
    let hits = v["hits"].as_array().unwrap();
    assert!(!hits.is_empty(), "{v}");
    assert_eq!(hits[0]["speaker"], "Jane Smith", "{v}");
    assert_eq!(
        hits[0]["text"],
        "Because blockchain settlement was too slow."
    );
}

#[test]
fn ask_into_a_closed_pipe_ends_quietly() {
    let data = data_copy();
    for args in [
        &["ask", "郭慶怎麼看人才?"][..],
        &["ask", "--json", "郭慶怎麼看人才?"],
        &["transcripts"],
    ] {
        let mut child = Command::new(BIN)
            // Meaning is tested in tests/it/semantic.rs, not in every process.
            .env("FORUMBOT__SEMANTIC__ENABLED", "false")
            .arg("--data")
            .arg(data.path())
            .args(args)
            .env_remove("RUST_LOG")
            .env_remove("DISCORD_TOKEN")
            .env_remove("FORUMBOT__DISCORD__TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before anything is written (like `| head`
        // after its lines).
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("internal error"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
}

#[test]
fn non_ascii_file_names_get_distinct_readable_ids() {
    let text = |who: &str| {
        format!("論壇\n\n{who}:區塊鏈很重要。\n\n唐文:謝謝。\n\n{who}:不客氣。\n\n唐文:再見。\n")
    };
    let data = data_with(&[
        ("圓桌論壇.txt", text("郭慶").as_bytes()),
        ("圓桌论坛.txt", text("周伊麗").as_bytes()),
        ("對話.txt", text("陳慧菱").as_bytes()),
    ]);
    let out = forumbot(data.path(), &["index"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = forumbot(data.path(), &["transcripts", "--json"]);
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["meta"]["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(ids[0].starts_with("dui-hua_"), "{ids:?}");
    assert!(ids[1].starts_with("yuan-zhuo-lun-tan_"), "{ids:?}");
    assert!(ids[2].starts_with("yuan-zhuo-lun-tan_"), "{ids:?}");
    assert_ne!(ids[1], ids[2]);
}

#[test]
fn refused_files_say_what_is_wrong_where() {
    let good = "論壇\n\n甲:你好。\n\n乙:好。\n\n甲:再見。\n\n乙:再見。\n";
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(good.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let data = data_with(&[
        ("good.txt", good.as_bytes()),
        ("wide.txt", &utf16),
        ("side.txt", good.as_bytes()),
        (
            "side.toml",
            b"[[speakers]]\nname = \"\xe9\x83\xad\xe2\x80\x8d\xe6\x85\xb6\"\n",
        ),
    ]);
    let out = forumbot(data.path(), &["index"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("wide.txt: this is UTF-16 text"), "{stderr}");
    assert!(
        stderr.contains("iconv -f UTF-16 -t UTF-8 in.txt > out.txt"),
        "{stderr}"
    );
    assert!(!stderr.contains("binary"), "{stderr}");
    assert!(stderr.contains("side.toml"), "{stderr}");
    assert!(stderr.contains("U+200D"), "{stderr}");
}

#[test]
fn settings_that_would_crash_or_silence_the_bot_exit_2_naming_key_and_origin() {
    let data = data_copy();
    let file = data.path().join("bad.toml");
    for (key, value) in [
        ("web.header_read_timeout_seconds", "9223372036854775807"),
        ("web.max_connections", "2305843009213693952"),
        ("search.candidates", "1000000000000"),
        ("search.min_coverage", "nan"),
        ("search.min_coverage", "inf"),
        ("search.min_coverage", "2.5"),
        ("search.min_coverage", "-1"),
        ("search.default_limit", "50"),
        ("search.max_limit", "0"),
    ] {
        let (section, name) = key.split_once('.').unwrap();
        // In a file given with --config: the file is named.
        std::fs::write(&file, format!("[{section}]\n{name} = {value}\n")).unwrap();
        let out = forumbot_within(
            data.path(),
            &["--config", file.to_str().unwrap(), "transcripts"],
            &[],
            30,
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{key} = {value}: {stderr}");
        assert!(
            stderr.contains(key) && stderr.contains("bad.toml"),
            "{key} = {value}: {stderr}"
        );
        // In the environment: the variable is named.
        let var = format!("FORUMBOT__{}", key.replace('.', "__").to_ascii_uppercase());
        let out = forumbot_within(data.path(), &["transcripts"], &[(&var, value)], 30);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{var}={value}: {stderr}");
        assert!(
            stderr.contains(key) && stderr.contains(&var),
            "{var}={value}: {stderr}"
        );
    }
    for (var, value, key) in [
        ("FORUMBOT__WEB__LISTEN", "notanaddress", "web.listen"),
        ("FORUMBOT__WEB__PUBLIC_URL", "not a url", "web.public_url"),
    ] {
        let out = forumbot_within(data.path(), &["transcripts"], &[(var, value)], 30);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{var}={value}: {stderr}");
        assert!(stderr.contains(key), "{var}={value}: {stderr}");
    }
}

/// A port some other program holds, and the listener holding it.
fn busy_port() -> (std::net::TcpListener, String) {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = holder.local_addr().unwrap().to_string();
    (holder, address)
}

#[test]
fn web_on_a_busy_port_exits_2_with_the_address_before_announcing_anything() {
    let data = data_copy();
    let (_holder, address) = busy_port();
    let out = forumbot_within(
        data.path(),
        &["web"],
        &[("FORUMBOT__WEB__LISTEN", &address)],
        60,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&address), "{stderr}");
    assert!(stderr.contains("web.listen"), "no hint: {stderr}");
    assert!(!stderr.contains("internal error"), "{stderr}");
    assert!(
        !stderr.contains("transcript pages on"),
        "announced pages it could not serve: {stderr}"
    );
}

#[test]
fn run_refuses_to_start_when_its_pages_cannot_listen_unless_they_are_off() {
    let data = data_copy();
    let (_holder, address) = busy_port();
    // Nothing answers on this Discord: the bot must not get that far.
    let (_nobody, nowhere) = busy_port();
    let api = format!("http://{nowhere}");
    let env = [
        ("FORUMBOT__WEB__LISTEN", address.as_str()),
        ("FORUMBOT__DISCORD__TOKEN", "not-a-real-token"),
        ("FORUMBOT__DISCORD__API_BASE", api.as_str()),
    ];
    let out = forumbot_within(data.path(), &["run"], &env, 60);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&address), "{stderr}");
    assert!(stderr.contains("web.enabled = false"), "no hint: {stderr}");

    // With the pages switched off the busy port does not matter: the bot
    // starts (and goes on trying to reach Discord until it is stopped).
    let mut child = crate::support::forumbot_command(data.path())
        .arg("run")
        .envs(env)
        .env("FORUMBOT__WEB__ENABLED", "false")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let still_running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(still_running, "run stopped with pages off");
}

#[test]
fn terminal_control_characters_in_a_question_never_reach_the_terminal() {
    let data = data_copy();
    for args in [
        vec!["ask", "\u{1b}]0;pwned\u{7}客服"],
        vec!["ask", "\u{1b}[2J\u{1b}[31m郭慶\u{9b}怎麼看人才?"],
        vec!["speaker", "\u{1b}]0;pwned\u{7}某人"],
    ] {
        let out = forumbot(data.path(), &args);
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "{args:?}: control characters on {stream}: {text:?}"
            );
        }
    }
    // What was asked is still shown, with spaces where the controls were.
    let out = forumbot(data.path(), &["ask", "\u{1b}]0;pwned\u{7}客服"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("== ") && stdout.contains(" ]0;pwned 客服"),
        "{stdout}"
    );
}

/// The text of `forumbot ask ARGS…` (piped, so no terminal emphasis).
fn ask_text(data: &Path, args: &[&str]) -> String {
    let mut all = vec!["ask"];
    all.extend_from_slice(args);
    let out = forumbot(data, &all);
    assert!(
        out.status.success(),
        "ask {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn text_output_is_plain_text_for_a_terminal_not_markdown() {
    let data = data_copy();
    let text = ask_text(data.path(), &["客服中心"]);
    // No Discord markup: no bold markers, no [label](url), no escapes.
    for markup in ["**", "](", "\\", "`", "\x1b"] {
        assert!(!text.contains(markup), "{markup:?} in:\n{text}");
    }
    // Each link on a line of its own, cut to the paragraph's anchor (the
    // text fragment stays in --json and on Discord).
    let links: Vec<&str> = text.lines().filter(|l| l.contains("://")).collect();
    assert!(!links.is_empty(), "{text}");
    for l in &links {
        assert!(
            l.starts_with(&format!("http://bot.test/t/{BUNDLED_ID}#turn-")) && !l.contains(":~:"),
            "{l}"
        );
    }
    let v = ask_json(data.path(), &[], "客服中心");
    assert!(v["hits"][0]["link"].as_str().unwrap().contains(":~:text="));
}

#[test]
fn the_prompt_line_keeps_the_question_it_shows() {
    let data = data_copy();
    // The question a hit answers keeps its question: a long prompt is cut
    // from the front.
    let innovation = ask_text(data.path(), &["創新"]);
    let prompts: Vec<&str> = innovation.lines().filter(|l| l.starts_with('↳')).collect();
    assert!(!prompts.is_empty(), "{innovation}");
    for p in prompts {
        assert!(p.ends_with(['?', '？']), "{p}");
    }
}

#[test]
fn the_introduction_is_called_what_its_page_calls_it() {
    let data = data_copy();
    let intro = ask_text(data.path(), &["論壇的主題是什麼?"]);
    assert!(intro.contains("[前言 · Introduction]"), "{intro}");
    assert!(!intro.contains("導言"), "{intro}");
}

#[test]
fn tips_name_the_command_line_commands() {
    let data = data_copy();
    let none = ask_text(data.path(), &["今天天氣怎麼樣?"]);
    assert!(none.contains("forumbot speaker"), "{none}");
    assert!(!none.contains("/speaker"), "{none}");
}

#[test]
fn the_last_page_says_which_quotes_it_shows() {
    let data = data_copy();
    let q = "客服中心";
    let all = ask_text(data.path(), &["--limit", "10", q]);
    let total = all.matches("查看原文").count();
    assert!(total >= 2, "{all}");
    // The last page says which quotes it shows.
    let last = ask_text(data.path(), &["--offset", &(total - 1).to_string(), q]);
    assert!(
        last.contains(&format!("第 {total} 段,共 {total} 段")),
        "{last}"
    );
}

#[test]
fn eval_refuses_a_file_too_large_or_not_a_file_before_reading_it() {
    let data = data_copy();
    // Sparse: it takes no disk, and reading it would take 64 MB of memory.
    let big = data.path().join("big.jsonl");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(forumbot::eval::MAX_FILE_BYTES + 1)
        .unwrap();
    for (file, want) in [
        (big.to_str().unwrap(), "too large"),
        ("/dev/zero", "not a regular file"),
    ] {
        let out = forumbot_within(data.path(), &["eval", file], &[], 30);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(stderr.contains(want), "{file}: {stderr}");
    }
}

#[test]
fn a_page_exactly_at_the_end_is_not_not_covered() {
    let data = data_copy();
    let q = "客服中心";
    let all = ask_text(data.path(), &["--limit", "10", q]);
    let total = all.matches("查看原文").count();
    // Exactly at the end: no more quotes, not "not covered".
    let past = ask_text(data.path(), &["--offset", &total.to_string(), q]);
    assert!(past.contains("No more quotes"), "{past}");
    assert!(!past.contains("do not cover"), "{past}");
}

#[test]
fn highlights_are_whole_words_of_the_question() {
    let data = data_copy();
    for q in [
        "郭總有沒有特別注重90後?",
        "郭慶怎麼看人才?",
        "周伊麗怎麼看客服中心?",
    ] {
        let v = ask_json(data.path(), &["--limit", "5"], q);
        for h in v["hits"].as_array().unwrap() {
            let chars: Vec<char> = h["text"].as_str().unwrap().chars().collect();
            for span in h["highlights"].as_array().unwrap() {
                let (a, b) = (
                    span[0].as_u64().unwrap() as usize,
                    span[1].as_u64().unwrap() as usize,
                );
                let marked: String = chars[a..b].iter().collect();
                let around: String = chars[a.saturating_sub(2)..(b + 2).min(chars.len())]
                    .iter()
                    .collect();
                // 然後 and 最後 are words of their own: their 後 is not 90後's.
                assert!(
                    !(marked == "後" && (around.contains("然後") || around.contains("最後"))),
                    "{q}: {marked} in {around}"
                );
                assert!(!marked.is_empty(), "{q}");
            }
        }
    }
    // The words asked about are still marked.
    let v = ask_json(data.path(), &[], "周伊麗怎麼看客服中心?");
    let h = &v["hits"][0];
    let chars: Vec<char> = h["text"].as_str().unwrap().chars().collect();
    let marked: Vec<String> = h["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            chars[s[0].as_u64().unwrap() as usize..s[1].as_u64().unwrap() as usize]
                .iter()
                .collect()
        })
        .collect();
    assert!(marked.iter().any(|m| m == "客服中心"), "{marked:?}");
}
