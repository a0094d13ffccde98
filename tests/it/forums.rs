//! Many forums in one archive (the bundled transcript and two of the
//! benchmark generator's): asking within one of them, by option or by
//! naming it in the question; unknown and ambiguous names; and who spoke
//! how much, checked against the parse of the bundled transcript with the
//! shares of words computed here, independently of the bot's own count.

use crate::support::{self, archive_data, forumbot, GENERATED};
use forumbot::chart;
use forumbot::{Engine, EngineOptions, Question};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

const BUNDLED: &str = "000_075a307d861b3240";

fn engine(data: &Path) -> Engine {
    Engine::open(EngineOptions::new(data), &|_| {})
        .expect("the engine opens")
        .engine
}

fn ask(e: &Engine, text: &str, transcripts: &[&str]) -> forumbot::Answer {
    let q = Question {
        limit: 10,
        transcripts: transcripts.iter().map(|t| t.to_string()).collect(),
        ..Question::new(text)
    };
    e.ask(&q).unwrap_or_else(|err| panic!("{text}: {err}"))
}

fn transcripts_of(a: &forumbot::Answer) -> BTreeSet<String> {
    a.hits.iter().map(|h| h.transcript.clone()).collect()
}

#[test]
fn asking_within_a_transcript_by_option_or_by_naming_it_in_the_question() {
    let data = archive_data();
    let e = engine(data.path());
    // Everywhere, the question finds quotes in several forums (the
    // generated ones recombine the bundled one's sentences).
    let everywhere = ask(&e, "怎麼看人才?", &[]);
    assert!(everywhere.transcripts.is_empty());
    assert!(transcripts_of(&everywhere).len() >= 2, "{everywhere:#?}");

    // By option: only that transcript, and the answer says so.
    for id in [GENERATED[0], GENERATED[1], BUNDLED] {
        let a = ask(&e, "怎麼看人才?", &[id]);
        assert!(!a.hits.is_empty(), "{id}: {a:#?}");
        assert_eq!(
            transcripts_of(&a),
            BTreeSet::from([id.to_owned()]),
            "{a:#?}"
        );
        assert_eq!(a.transcripts, [id]);
    }

    // By title words, event, place or date in the question: narrowed the
    // same way, and those words are not searched for.
    let cases = [
        ("2015年那場論壇上怎麼看人才?", GENERATED[0]),
        ("財富管理論壇上大家怎麼看人才?", GENERATED[0]),
        ("西安那場論壇怎麼看人才?", GENERATED[1]),
        ("2018年的峰會上怎麼看人才?", BUNDLED),
        ("網絡金融營銷論壇上怎麼看人才?", BUNDLED),
        ("what did the 2016 forum say about 人才", GENERATED[1]),
    ];
    for (q, id) in cases {
        let a = ask(&e, q, &[]);
        assert_eq!(a.transcripts, [id], "{q}");
        assert!(!a.hits.is_empty(), "{q}: {a:#?}");
        assert_eq!(transcripts_of(&a), BTreeSet::from([id.to_owned()]), "{q}");
        for t in &a.terms {
            assert!(
                ![
                    "2015",
                    "2016",
                    "2018",
                    "论坛",
                    "峰会",
                    "西安",
                    "财富管理",
                    "上"
                ]
                .contains(&t.as_str()),
                "{q}: {t} searched for: {:?}",
                a.terms
            );
        }
    }

    // The command line: `--transcript` by words of the event, and the text
    // reply says which transcript it searched.
    let out = forumbot(
        data.path(),
        &["ask", "--json", "--transcript", "財富管理", "人才"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["transcripts"], serde_json::json!([GENERATED[0]]));
    let hits = v["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["transcript"] == GENERATED[0]), "{v}");
    let out = forumbot(data.path(), &["ask", "--transcript", "2016", "人才"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("只在這些逐字稿中搜尋 · Searched only in: ")
            && text.contains("[gen_00001]"),
        "{text}"
    );
}

#[test]
fn an_unknown_or_ambiguous_transcript_is_answered_with_the_ones_to_pick_from() {
    let data = archive_data();
    let run = |args: &[&str]| {
        let out = forumbot(data.path(), args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Unknown, by option: every transcript to pick from (nothing is close).
    let (code, err) = run(&["ask", "--transcript", "區塊鏈大會", "人才"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("no transcript is called \"區塊鏈大會\""),
        "{err}"
    );
    for id in [BUNDLED, GENERATED[0], GENERATED[1]] {
        assert!(err.contains(&format!("[{id}]")), "{id}: {err}");
    }
    // Ambiguous, by option and in the question: the two that fit, only.
    for args in [
        &["ask", "--transcript", "金融科技", "人才"][..],
        &["ask", "金融科技峰會上怎麼看人才?"][..],
    ] {
        let (code, err) = run(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains("fits several transcripts"), "{err}");
        assert!(
            err.contains("[gen_00000]") && err.contains("[gen_00001]"),
            "{err}"
        );
        assert!(!err.contains(BUNDLED), "{err}");
    }
    // A year no forum was held in: the forums to pick from.
    let (code, err) = run(&["ask", "2020年的峰會怎麼看人才?"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("no transcript is called \"2020年的峰会\""),
        "{err}"
    );
    // In a chat face: a private reply with the same list and a hint.
    let e = engine(data.path());
    let r = forumbot::app::ask(
        &e,
        &Question {
            transcripts: Vec::new(),
            ..Question::new("金融科技峰會上怎麼看人才?")
        },
    );
    assert!(r.ephemeral);
    let text = forumbot::reply::to_text(&r);
    assert!(
        text.contains("fits several transcripts") && text.contains("Pick a transcript"),
        "{text}"
    );
    let failure = forumbot::app::transcript_ids(&e, Some("zzz")).unwrap_err();
    assert!(failure.is_user(), "{failure}");
}

/// Words as word processors count Chinese, written here apart from the
/// bot: each Han ideograph is one, each run of other letters or digits one.
fn count_words(text: &str) -> usize {
    let han = |c: char| matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F);
    let ideographs = text.chars().filter(|&c| han(c)).count();
    let runs = text
        .split(|c: char| !c.is_alphanumeric() || han(c))
        .filter(|w| !w.is_empty())
        .count();
    ideographs + runs
}

#[test]
fn the_picture_shows_the_shares_of_words_of_the_parse() {
    // The parse, and each speaker's share of the words, computed here.
    let path = support::bundled_transcripts().join(format!("{BUNDLED}.txt"));
    let parsed = forumbot::transcript::load(&path).unwrap();
    let mut expected: Vec<(String, usize, usize)> = Vec::new();
    for s in &parsed.speakers {
        let turns: Vec<_> = parsed
            .turns
            .iter()
            .filter(|t| t.speaker == s.name)
            .collect();
        let words: usize = turns
            .iter()
            .flat_map(|t| &t.paragraphs)
            .map(|p| count_words(&p.text))
            .sum();
        expected.push((s.name.clone(), words, turns.len()));
    }
    let total: usize = expected.iter().map(|e| e.1).sum();
    assert!(total > 4000, "{total}");

    // What the bot computed from its index.
    let data = support::bundled_data();
    let e = engine(data.path());
    let loaded = e.snapshot();
    let p = loaded
        .forums
        .participation(&loaded.generation, BUNDLED)
        .unwrap()
        .unwrap();
    assert_eq!(p.words, total);
    assert_eq!(p.turns.len(), parsed.turns.len());
    for (name, words, turns) in &expected {
        let s = p.speakers.iter().find(|s| &s.name == name).unwrap();
        assert_eq!((s.words, s.turns), (*words, *turns), "{name}");
        assert!(
            (s.share - *words as f64 / total as f64).abs() < 1e-12,
            "{name}"
        );
    }
    // The order of turns is the parse's, and each answer's prompt is a turn
    // of the moderator's before it.
    let order: Vec<&str> = p.turns.iter().map(|t| t.speaker.as_str()).collect();
    let parsed_order: Vec<&str> = parsed.turns.iter().map(|t| t.speaker.as_str()).collect();
    assert_eq!(order, parsed_order);
    assert!(!p.exchanges.is_empty());
    for x in &p.exchanges {
        assert_eq!(x.asker, "唐文");
        assert!(x.answers.iter().all(|a| *a > x.prompt), "{x:?}");
    }

    // The page's picture carries the same numbers, and links every turn.
    let passages = loaded.generation.transcript_passages(BUNDLED).unwrap();
    let info = loaded.generation.catalog.transcript(BUNDLED).unwrap();
    let html = forumbot::web::page::transcript(info, &passages);
    assert_eq!(html.matches("<svg class=\"participation\"").count(), 1);
    for (name, words, _) in &expected {
        let bar = format!(
            "data-speaker=\"{name}\" data-words=\"{words}\" data-turns=\"{}\" data-share=\"{:.4}\"",
            p.speakers.iter().find(|s| &s.name == name).unwrap().turns,
            *words as f64 / total as f64
        );
        assert!(html.contains(&bar), "{bar}");
    }
    for t in &parsed.turns {
        assert!(
            html.contains(&format!("<a href=\"#turn-{}\">", t.number)),
            "{}",
            t.number
        );
    }

    // The PNG (drawn without a font: bars only) decodes, and each bar is
    // as many pixels long as the share says.
    let scene = chart::scene(&[Arc::clone(&p)], None);
    let png = chart::png(&scene, None);
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap();
    let mut px = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut px).unwrap();
    let width = info.width as usize;
    for (i, (name, words, _)) in expected.iter().enumerate() {
        let (y, x) = scene
            .items
            .iter()
            .find_map(|item| match item {
                chart::Item::Rect { x, y, h, data, .. }
                    if data
                        .first()
                        .is_some_and(|d| d.0 == "speaker" && &d.1 == name) =>
                {
                    Some(((y + h / 2.0) as usize, *x as usize))
                }
                _ => None,
            })
            .unwrap();
        let rgb = |x: usize| {
            let at = (y * width + x) * 3;
            (px[at] as u32) << 16 | (px[at + 1] as u32) << 8 | px[at + 2] as u32
        };
        let run = (x..width)
            .take_while(|&x| rgb(x) == chart::colour(i))
            .count();
        let want = *words as f64 / total as f64 * 420.0;
        assert!(
            (run as f64 - want).abs() <= 1.0,
            "{name}: {run} px for {want}"
        );
    }

    // The text bars say the same percentages.
    let text = chart::text(std::slice::from_ref(&p), None);
    for (name, words, _) in &expected {
        let pct = format!("{:.1}%", *words as f64 / total as f64 * 100.0);
        let line = text.lines().find(|l| l.contains(name.as_str())).unwrap();
        assert!(line.contains(&pct), "{line} lacks {pct}");
    }
}

#[test]
fn transcripts_shows_one_transcript_with_its_text_bars() {
    let data = archive_data();
    let out = forumbot(data.path(), &["transcripts", "財富管理"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("gen_00000"), "{text}");
    assert!(text.contains("Who spoke how much (words)"), "{text}");
    assert!(
        text.contains('█') && text.contains("發言順序 · Order of turns: "),
        "{text}"
    );
    let out = forumbot(data.path(), &["transcripts", "--json", "2016"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["transcript"], GENERATED[1]);
    let shares: f64 = v["speakers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["share"].as_f64().unwrap())
        .sum();
    assert!((shares - 1.0).abs() < 1e-9, "{shares}");
    let out = forumbot(data.path(), &["transcripts", "2018年的金融科技峰會"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_console_asks_within_a_transcript_and_prints_its_text_bars() {
    use std::io::Write;
    let data = archive_data();
    let mut child = support::forumbot_command(data.path())
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
        .write_all(
            "/transcripts 西安\n/ask --transcript 西安 人才\n/ask --transcript zzz 人才\n"
                .as_bytes(),
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let bars = text.find("Who spoke how much (words)").expect("text bars");
    let searched = text
        .find("Searched only in:")
        .expect("the answer says where");
    let refused = text
        .find("no transcript is called \"zzz\"")
        .expect("the refusal");
    assert!(bars < searched && searched < refused, "{text}");
    assert!(text.contains("/t/gen_00001#turn-"), "{text}");
    assert!(
        !text.contains("/t/gen_00000#") && !text.contains(&format!("/t/{BUNDLED}#")),
        "{text}"
    );
}
