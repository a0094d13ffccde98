//! The semantic path end to end through the binary: the model fetched (or
//! found) in the checkout's `data/models`, passages embedded into the
//! generation, questions answered by meaning. Kept to a few tests: every
//! other test runs with the semantic part off.

use crate::support::{bundled_data, forumbot_command, with_model};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// `forumbot --data DATA ARGS…` with the model on and the committed vectors
/// of the bundled forum as cache (so the test does not embed 59 passages);
/// `None` when the model cannot be had outside CI.
fn with_semantic(data: &Path, args: &[&str]) -> Option<Command> {
    let cache = data.join("cache.bin");
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/eval/vectors.bin");
    let _ = std::fs::copy(committed, &cache);
    let mut cmd = with_model(forumbot_command(data))?;
    cmd.env("FORUMBOT__SEMANTIC__CACHE_FILE", &cache).args(args);
    Some(cmd)
}

fn json_of(cmd: &mut Command) -> Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn an_english_question_finds_the_chinese_passage_by_meaning() {
    let data = bundled_data();
    let q = "Which personality model did the moderator say Cambridge Analytica used?";
    let Some(mut cmd) = with_semantic(data.path(), &["ask", "--json", q]) else {
        return;
    };
    let answer = json_of(&mut cmd);
    let shown = if answer["hits"].as_array().unwrap().is_empty() {
        &answer["weak"]
    } else {
        &answer["hits"]
    };
    let first = &shown[0];
    assert_eq!(first["speaker"], "唐文", "{answer:#}");
    assert!(
        first["text"].as_str().unwrap().contains("大五人格"),
        "{answer:#}"
    );
    // The index report and the transcript list say the search is semantic.
    let mut list = with_semantic(data.path(), &["transcripts"]).unwrap();
    let out = list.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("semantic search on (59 passages"), "{text}");
}

#[test]
fn without_the_model_the_bot_answers_by_words_and_says_why() {
    let data = bundled_data();
    let models = data.path().join("empty-models");
    std::fs::create_dir_all(&models).unwrap();
    let run = |args: &[&str]| {
        forumbot_command(data.path())
            .env("FORUMBOT__SEMANTIC__ENABLED", "true")
            .env("FORUMBOT__SEMANTIC__MODEL_DIR", &models)
            .env("FORUMBOT__SEMANTIC__FETCH", "false")
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["ask", "--json", "周伊麗怎麼看客服中心?"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!answer["hits"].as_array().unwrap().is_empty(), "{answer:#}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("semantic search unavailable"), "{stderr}");
    let out = run(&["transcripts"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("semantic search unavailable") && text.contains("e5-small-q4.bin"),
        "{text}"
    );
}

#[test]
fn a_damaged_model_file_is_refused_and_the_bot_still_answers() {
    let data = bundled_data();
    let models = data.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    // The right size, the wrong bytes.
    let f = std::fs::File::create(models.join("e5-small-q4.bin")).unwrap();
    f.set_len(71_622_400).unwrap();
    let out = forumbot_command(data.path())
        .env("FORUMBOT__SEMANTIC__ENABLED", "true")
        .env("FORUMBOT__SEMANTIC__MODEL_DIR", &models)
        .args(["ask", "--json", "周伊麗怎麼看客服中心?"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("SHA-256") && stderr.contains("delete it"),
        "{stderr}"
    );
}
