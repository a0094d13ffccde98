//! Transcripts as moderators really have them (issue 19): speaker lines in
//! every common layout, each one a claim that is checked, corrections that
//! replace, removal, names that collide, and a damaged index that repairs
//! itself. Every test reproduces a failure found on the main branch before
//! these changes, with the transcripts under `tests/fixtures/transcripts/`.

use crate::support::{self, forumbot};

use forumbot::transcript::{self, Transcript, TranscriptError};
use std::path::{Path, PathBuf};

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/transcripts")
        .join(name)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// Parses a fixture, with a sidecar fixture or none.
fn parse(txt: &str, sidecar: Option<&str>) -> Result<Transcript, TranscriptError> {
    let sidecar = sidecar.map(|s| String::from_utf8(fixture(s)).unwrap());
    let stem = txt.trim_end_matches(".txt");
    transcript::parse(
        &Path::new("transcripts").join(txt),
        stem,
        &fixture(txt),
        sidecar.as_deref(),
    )
}

fn turns(t: &Transcript) -> Vec<(String, usize)> {
    t.turns_per_speaker()
}

fn counts(pairs: &[(&str, usize)]) -> Vec<(String, usize)> {
    pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect()
}

/// Who said a paragraph holding `words`.
fn said_by(t: &Transcript, words: &str) -> Vec<String> {
    t.turns
        .iter()
        .filter(|x| x.paragraphs.iter().any(|p| p.text.contains(words)))
        .map(|x| x.speaker.clone())
        .collect()
}

/// A data directory holding the given fixtures (renamed as given).
fn data_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let transcripts = dir.path().join("transcripts");
    std::fs::create_dir_all(&transcripts).unwrap();
    for (from, to) in files {
        std::fs::write(transcripts.join(to), fixture(from)).unwrap();
    }
    dir
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

// ---------------------------------------------------------------------------
// 1. A common layout read as one speaker

#[test]
fn guests_written_name_and_role_are_speakers_of_their_own() {
    for sidecar in [None, Some("role-layout.toml")] {
        let t = parse("role-layout.txt", sidecar).unwrap();
        assert_eq!(
            turns(&t),
            counts(&[("主持人", 4), ("张伟", 2), ("李娜", 2)]),
            "{sidecar:?}"
        );
        assert_eq!(said_by(&t, "保险公司用大模型"), ["李娜"], "{sidecar:?}");
        // The role written in the speaker line is the speaker's role.
        let role = |n: &str| {
            t.speakers
                .iter()
                .find(|s| s.name == n)
                .unwrap()
                .role
                .clone()
        };
        assert_eq!(role("张伟").as_deref(), Some("招商银行零售部总经理"));
        assert_eq!(role("李娜").as_deref(), Some("平安保险科技总监"));
    }
}

#[test]
fn a_guests_answer_is_quoted_as_the_guests_and_the_guest_is_known() {
    let data = data_with(&[
        ("role-layout.txt", "role-layout.txt"),
        ("role-layout.toml", "role-layout.toml"),
    ]);
    let out = forumbot(data.path(), &["ask", "--json", "保险公司怎么用大模型?"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let first = &v["hits"][0];
    assert_eq!(first["speaker"], "李娜", "{v}");
    assert!(
        first["text"].as_str().unwrap().contains("理赔和核保"),
        "{v}"
    );
    let out = forumbot(data.path(), &["speaker", "张伟"]);
    assert!(out.status.success(), "speaker 张伟: {}", stderr(&out));
    assert!(
        stdout(&out).contains("招商银行零售部总经理"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_sidecar_that_leaves_out_who_speaks_is_refused_with_the_lines() {
    let err = parse("role-layout.txt", Some("guests-only.toml")).unwrap_err();
    let msg = err.to_string();
    // The host's lines are quoted with what to change.
    assert!(msg.contains("lines 5, 9, 13, 19"), "{msg}");
    assert!(msg.contains("主持人：欢迎各位"), "{msg}");
    assert!(msg.contains("[[speakers]] name = \"主持人\""), "{msg}");
}

#[test]
fn a_listed_speaker_who_never_speaks_is_refused() {
    let sidecar = "[[speakers]]\nname = \"主持人\"\n[[speakers]]\nname = \"张伟\"\n[[speakers]]\nname = \"李娜\"\n[[speakers]]\nname = \"王强\"\n";
    let err = transcript::parse(
        Path::new("r.txt"),
        "r",
        &fixture("role-layout.txt"),
        Some(sidecar),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("\"王强\" is in the sidecar but never speaks"),
        "{msg}"
    );
}

#[test]
fn question_and_answer_marks_are_named_by_the_sidecar() {
    let t = parse("qa-layout.txt", Some("qa-layout.toml")).unwrap();
    assert_eq!(turns(&t), counts(&[("唐文", 2), ("郭慶", 2)]));
    assert_eq!(said_by(&t, "監管怎麼看"), ["唐文"], "Q1 is Q's");
    // Without a sidecar nobody knows who Q and A are: said so.
    let msg = parse("qa-layout.txt", None).unwrap_err().to_string();
    assert!(
        msg.contains("lines 3, 5, 7, 9") && msg.contains("labels = [\"Q\"]"),
        "{msg}"
    );
}

// ---------------------------------------------------------------------------
// 2. Labels that differ slightly from the speaker's name

#[test]
fn script_and_width_variants_of_a_listed_name_open_its_turns() {
    let t = parse("script-variants.txt", Some("script-variants.toml")).unwrap();
    assert_eq!(turns(&t), counts(&[("唐文", 2), ("郭慶", 2), ("Jane", 1)]));
    // The first line is somebody speaking: not the title, and kept.
    assert_eq!(t.turns[0].line, 1);
    assert_eq!(said_by(&t, "數據是銀行的生產資料"), ["郭慶"]);
    assert_eq!(t.meta.title, "數據圓桌");
}

#[test]
fn variants_of_one_name_without_a_sidecar_are_one_speaker() {
    let text = "圓桌\n\n郭慶:數據要打通。\n\n唐文:請展開。\n\n郭庆:打通才能精準營銷。\n\n唐文:謝謝。\n\n郭慶:不客氣。\n";
    let t = transcript::parse(Path::new("v.txt"), "v", text.as_bytes(), None).unwrap();
    assert_eq!(turns(&t), counts(&[("郭慶", 3), ("唐文", 2)]));
}

#[test]
fn an_invisible_character_in_a_speaker_label_is_refused() {
    // Under a sidecar (a zero-width joiner) and without one (a Hangul filler).
    for (txt, sidecar, code) in [
        (
            "zero-width-joiner.txt",
            Some("zero-width-joiner.toml"),
            "U+200D",
        ),
        ("hangul-filler.txt", None, "U+3164"),
    ] {
        let msg = parse(txt, sidecar).unwrap_err().to_string();
        assert!(msg.contains("line 5"), "{txt}: {msg}");
        assert!(
            msg.contains(code) && msg.contains("invisible"),
            "{txt}: {msg}"
        );
        assert!(msg.contains(&format!("郭<{code}>慶")), "{txt}: {msg}");
    }
}

// ---------------------------------------------------------------------------
// 3. Enumerations are not speakers; people who speak once are

#[test]
fn ordinals_are_not_speakers() {
    let t = parse("enumerations.txt", None).unwrap();
    assert_eq!(turns(&t), counts(&[("唐文", 2), ("郭慶", 2)]));
    assert_eq!(said_by(&t, "數據安全是底線"), ["郭慶"]);
    assert!(t.turns[0]
        .paragraphs
        .iter()
        .any(|p| p.text == "第一:數據要打通。"));
}

#[test]
fn people_who_speak_once_are_speakers_and_the_index_report_names_them() {
    let t = parse("once-each.txt", None).unwrap();
    assert_eq!(
        turns(&t),
        counts(&[("唐文", 3), ("郭慶", 1), ("周伊麗", 1)])
    );
    let data = data_with(&[("once-each.txt", "once-each.txt")]);
    let out = forumbot(data.path(), &["index"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("turns: 唐文 3, 郭慶 1, 周伊麗 1"),
        "{}",
        stdout(&out)
    );
    let out = forumbot(data.path(), &["ask", "--json", "懂業務又懂數據的人才"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["hits"][0]["speaker"], "郭慶", "{v}");
}

// ---------------------------------------------------------------------------
// 6. Smaller

#[test]
fn a_sentence_opening_with_an_editor_in_the_last_turn_is_kept() {
    let t = parse("editor-in-last-turn.txt", None).unwrap();
    let last = t.turns.last().unwrap();
    let said: Vec<&str> = last.paragraphs.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(
        said,
        [
            "內容的品質,是每一個環節一起守住的。",
            "責任編輯 也好,記者也好,都要對讀者負責,這是我最後想說的。"
        ]
    );
}

#[test]
fn all_empty_turns_without_a_sidecar_say_so() {
    let msg = parse("empty-turns.txt", None).unwrap_err().to_string();
    assert!(msg.contains("every turn is empty"), "{msg}");
    assert!(msg.contains("lines 3, 5, 7, 9"), "{msg}");
    assert!(!msg.contains("listed speaker"), "{msg}");
}

#[test]
fn an_alias_that_is_another_speakers_name_is_refused() {
    let text = fixture("once-each.txt");
    let sidecar = String::from_utf8(fixture("alias-is-a-name.toml")).unwrap();
    let err = transcript::parse(Path::new("a.txt"), "a", &text, Some(&sidecar)).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("a.toml"), "{msg}");
    assert!(
        msg.contains("the alias \"郭慶\" is the name of another speaker"),
        "{msg}"
    );
}

#[test]
fn the_bundled_transcript_parses_as_before() {
    let dir = support::bundled_transcripts();
    let t = transcript::load(&dir.join("000_075a307d861b3240.txt")).unwrap();
    assert_eq!(
        turns(&t),
        counts(&[("唐文", 10), ("郭慶", 5), ("周伊麗", 4), ("陳慧菱", 6)])
    );
    assert_eq!(t.turns.len(), 25);
    assert_eq!(t.intro.len(), 4);
    let without = transcript::parse(
        Path::new("b.txt"),
        "b",
        &std::fs::read(dir.join("000_075a307d861b3240.txt")).unwrap(),
        None,
    )
    .unwrap();
    assert_eq!(turns(&without), turns(&t));
}

// ---------------------------------------------------------------------------
// 4. Corrections replace; duplicates are refused; transcripts can be removed

/// Runs `forumbot console` with `input`; the printed replies.
fn console(data: &Path, input: &str) -> String {
    use std::io::Write;
    let mut child = support::forumbot_command(data)
        .arg("console")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

/// Saves `bytes` as `uploads/NAME` beside the data (the file a moderator
/// uploads); its path.
fn upload_file(data: &Path, folder: &str, name: &str, bytes: &[u8]) -> PathBuf {
    let dir = data.join(folder);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn transcripts_json(data: &Path) -> Vec<serde_json::Value> {
    let out = forumbot(data, &["transcripts", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str::<serde_json::Value>(&stdout(&out))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The texts of the hits for a question.
fn quoted(data: &Path, question: &str) -> Vec<String> {
    let out = forumbot(data, &["ask", "--json", "--limit", "10", question]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["text"].as_str().unwrap().to_owned())
        .collect()
}

const PARTNERS: &str = "開放銀行接入了幾家合作方?";

#[test]
fn a_corrected_upload_replaces_the_transcript() {
    let data = support::bundled_data();
    let first = upload_file(
        data.path(),
        "v1",
        "fintech2023.txt",
        &fixture("fintech2023.txt"),
    );
    let fixed = upload_file(
        data.path(),
        "v2",
        "fintech2023.txt",
        &fixture("fintech2023-corrected.txt"),
    );
    let out = console(
        data.path(),
        &format!(
            "/reindex {}\n/reindex {}\n",
            first.display(),
            fixed.display()
        ),
    );
    assert!(out.contains("Transcript replaced"), "{out}");
    let list = transcripts_json(data.path());
    let ids: Vec<&str> = list
        .iter()
        .map(|t| t["meta"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["000_075a307d861b3240", "fintech2023"],
        "one transcript, not two"
    );
    assert_eq!(list[1]["version"], 2);
    let said = quoted(data.path(), PARTNERS);
    assert!(said.iter().any(|t| t.contains("十四家")), "{said:?}");
    assert!(
        !said.iter().any(|t| t.contains("四十家")),
        "the old text still answers: {said:?}"
    );
}

#[test]
fn the_same_text_again_is_a_duplicate_however_it_was_saved() {
    let data = support::bundled_data();
    let text = String::from_utf8(fixture("fintech2023.txt")).unwrap();
    let mut input = String::new();
    let copies = [
        ("first", text.clone()),
        ("crlf", text.replace('\n', "\r\n")),
        ("bom", format!("\u{feff}{text}")),
        ("newline", format!("{text}\n")),
        ("spaces", text.replace("不客氣。", "不客氣。 \t")),
    ];
    for (folder, bytes) in &copies {
        // Named differently each time, as people do.
        let name = format!("fintech-{folder}.txt");
        let path = upload_file(data.path(), folder, &name, bytes.as_bytes());
        input.push_str(&format!("/reindex {}\n", path.display()));
    }
    let out = console(data.path(), &input);
    assert_eq!(out.matches("is already indexed:").count(), 4, "{out}");
    assert!(
        !out.contains("fix the file"),
        "a duplicate is not a broken file: {out}"
    );
    assert_eq!(transcripts_json(data.path()).len(), 2);
    let said = quoted(data.path(), PARTNERS);
    assert_eq!(
        said.iter().filter(|t| t.contains("四十家")).count(),
        1,
        "{said:?}"
    );
}

#[test]
fn a_transcript_can_be_removed_listed_and_brought_back() {
    let data = data_with(&[
        ("fintech2023.txt", "fintech2023.txt"),
        ("once-each.txt", "once-each.txt"),
    ]);
    assert_eq!(quoted(data.path(), PARTNERS).len(), 1);
    let out = forumbot(data.path(), &["remove", "fintech2023"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("removed fintech2023"),
        "{}",
        stdout(&out)
    );
    assert!(quoted(data.path(), PARTNERS).is_empty());
    let list = transcripts_json(data.path());
    assert_eq!(list.len(), 1);
    // Listed with version and date.
    let out = forumbot(data.path(), &["transcripts"]);
    let text = stdout(&out);
    assert!(
        text.contains("once-each") && text.contains(" v1 · 20"),
        "{text}"
    );
    assert!(!text.contains("fintech2023"), "{text}");
    // Unknown ids and the last transcript are refused (exit 2), with why.
    for (id, why) in [
        ("nope", "no transcript has the id"),
        ("once-each", "only transcript"),
    ] {
        let out = forumbot(data.path(), &["remove", id]);
        assert_eq!(out.status.code(), Some(2), "{id}");
        assert!(stderr(&out).contains(why), "{id}: {}", stderr(&out));
    }
    // Kept until it changes again: undo brings it back.
    let out = forumbot(data.path(), &["remove", "--undo", "fintech2023"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(quoted(data.path(), PARTNERS).len(), 1);
}

// ---------------------------------------------------------------------------
// 5. Names that collide

#[test]
fn a_speaker_named_like_another_speakers_alias_can_be_reached() {
    let data = support::bundled_data();
    std::fs::write(
        data.path().join("transcripts/host-named.txt"),
        fixture("host-named.txt"),
    )
    .unwrap();
    let out = forumbot(data.path(), &["speaker", "--json", "主持人"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["speaker"], "主持人", "{v}");
    // The alias still names 唐文 through his other names.
    let out = forumbot(data.path(), &["speaker", "--json", "唐總"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["speaker"], "唐文", "{v}");
}

#[test]
fn an_upload_whose_alias_is_another_transcripts_speaker_is_refused() {
    let data = support::bundled_data();
    let txt = upload_file(data.path(), "up", "host.txt", &fixture("host-named.txt"));
    upload_file(
        data.path(),
        "up",
        "host.toml",
        "[[speakers]]\nname = \"主持人\"\naliases = [\"郭慶\"]\n[[speakers]]\nname = \"王大明\"\n"
            .as_bytes(),
    );
    let out = console(
        data.path(),
        &format!(
            "/reindex {} {}\n",
            txt.display(),
            data.path().join("up/host.toml").display()
        ),
    );
    assert!(
        out.contains("the alias \"郭慶\" is the name of \"郭慶\""),
        "{out}"
    );
    assert_eq!(transcripts_json(data.path()).len(), 1);
}

// ---------------------------------------------------------------------------
// 6. Freshness follows symlinks; a damaged generation repairs itself

#[test]
fn an_edit_of_a_symlinked_transcript_is_noticed() {
    let data = tempfile::tempdir().unwrap();
    let real = data.path().join("elsewhere");
    std::fs::create_dir_all(&real).unwrap();
    std::fs::create_dir_all(data.path().join("transcripts")).unwrap();
    std::fs::write(real.join("panel.txt"), fixture("once-each.txt")).unwrap();
    std::os::unix::fs::symlink(
        real.join("panel.txt"),
        data.path().join("transcripts/panel.txt"),
    )
    .unwrap();
    assert_eq!(quoted(data.path(), "複合型人才").len(), 1);
    let edited = String::from_utf8(fixture("once-each.txt"))
        .unwrap()
        .replace("複合型人才", "跨界人才,能把業務和數據連起來");
    std::fs::write(real.join("panel.txt"), edited).unwrap();
    let said = quoted(data.path(), "跨界人才");
    assert_eq!(said.len(), 1, "the edit was not noticed: {said:?}");
}

#[test]
fn a_damaged_generation_is_set_aside_and_questions_keep_being_answered() {
    let data = support::bundled_data();
    let out = forumbot(data.path(), &["index"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let index = data.path().join("index");
    let current = || std::fs::read_to_string(index.join("CURRENT")).unwrap();
    // A cut catalog, then a generation with its stores gone.
    for how in ["catalog", "store"] {
        let gen = index.join(current().trim());
        if how == "catalog" {
            let bytes = std::fs::read(gen.join("catalog.json")).unwrap();
            std::fs::write(gen.join("catalog.json"), &bytes[..bytes.len() / 3]).unwrap();
        } else {
            for e in std::fs::read_dir(&gen).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "store") {
                    std::fs::remove_file(p).unwrap();
                }
            }
        }
        let out = forumbot(data.path(), &["ask", "--json", "周伊麗怎麼看客服中心?"]);
        assert!(
            out.status.success(),
            "{how}: exit {:?}: {}",
            out.status,
            stderr(&out)
        );
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(v["hits"][0]["speaker"], "周伊麗", "{how}: {v}");
    }
    let kept = std::fs::read_dir(&index)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("damaged-gen-")
        })
        .count();
    assert_eq!(kept, 2, "each damaged generation is kept for inspection");
}
