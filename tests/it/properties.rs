//! Property tests: random Unicode into the parser and into `ask` never
//! panics, and whatever is parsed or found stays verbatim. The parser fuzz
//! (`parser_fuzz_*`) runs `PROPTEST_CASES` cases when that is set, else
//! [`FUZZ_CASES`] (about a minute in a debug build on 2 cores).

use crate::support;

use forumbot::error::{Classify, Kind};
use forumbot::transcript;
use forumbot::{Engine, Question};
use proptest::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<(tempfile::TempDir, Engine)> = OnceLock::new();
    &ENGINE.get_or_init(support::bundled_engine).1
}

/// Text shaped like transcripts: names, both colons, CJK, newlines, noise.
fn transcript_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("唐文:".to_owned()),
        Just("郭慶:".to_owned()),
        Just("\u{ff1a}".to_owned()),
        Just("\n".to_owned()),
        Just("\n\n".to_owned()),
        Just("分享到:".to_owned()),
        "[\\p{Han}]{1,12}",
        "[\\p{Han},。!?、]{1,30}",
        any::<String>(),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

/// Cases of the parser fuzz when `PROPTEST_CASES` is not set.
const FUZZ_CASES: u32 = 3_000;

fn fuzz_config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(FUZZ_CASES);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The input as the parser may show it: control characters (other than
/// line breaks) become spaces; nothing else changes.
fn shown(input: &str) -> String {
    input
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

const NAMES: &[&str] = &[
    "唐文",
    "郭慶",
    "Jane Smith",
    "中國民生銀行總經理郭慶",
    "https",
    "作者",
    "郭\u{200d}慶",
    "Bob",
];

/// Hostile transcripts: names of every length, both colons, URLs, page
/// furniture words anywhere, control and invisible characters, CRLF, a
/// byte order mark, and paragraphs far over the passage limit with and
/// without sentence ends, clause marks or spaces.
fn hostile_transcript() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => proptest::sample::select(NAMES).prop_map(|n| format!("\n{n}:")),
        1 => proptest::sample::select(NAMES).prop_map(|n| format!("\n{n}\u{ff1a}")),
        2 => Just("\n".to_owned()),
        3 => Just("\n\n".to_owned()),
        1 => Just("\r\n".to_owned()),
        1 => Just("\nhttps://example.com/a:b\n".to_owned()),
        1 => proptest::sample::select(&["分享到", "分享到:", "相關文章:", "责任编辑 ", "相关阅读|"][..])
            .prop_map(|m| format!("\n{m}")),
        1 => proptest::sample::select(&["\u{1b}[31m", "\u{7}", "\t", "\u{9b}", "\r", "\u{0}", "\u{feff}", "\u{202e}", "\u{200b}"][..])
            .prop_map(str::to_owned),
        4 => "[\\p{Han},。!?、]{1,30}",
        2 => "[a-z ]{1,20}",
        1 => "[\\p{Han}]{300,700}",
        1 => "([\\p{Han}]{5,40},){10,30}",
        1 => "([a-z]{1,12} ){50,120}",
        1 => "[a-z]{330,900}",
        1 => any::<String>(),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

/// A sidecar listing some of [`NAMES`], with control characters around.
fn hostile_sidecar() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(
        (proptest::sample::subsequence(NAMES, 0..=NAMES.len()), any::<bool>()).prop_map(
            |(names, noisy)| {
                let mut s = String::new();
                if noisy {
                    s.push_str("title = \"T\\u001b[2J\"\nevent = \"E\\u0007\"\n");
                }
                for n in names {
                    s.push_str(&format!(
                        "[[speakers]]\nname = \"{n}\"\nrole = \"R\\u009b1m\"\naliases = [\"{n}總\"]\n"
                    ));
                }
                s
            },
        ),
    )
}

proptest! {
    #![proptest_config(fuzz_config())]

    #[test]
    fn parser_fuzz_never_panics_and_quotes_verbatim(
        text in hostile_transcript(),
        sidecar in hostile_sidecar(),
    ) {
        let parsed = transcript::parse(Path::new("f.txt"), "f", text.as_bytes(), sidecar.as_deref());
        let Ok(t) = parsed else { return Ok(()) };
        prop_assert!(!t.turns.is_empty());
        let source = shown(&text);
        let no_controls = |s: &str| !s.chars().any(char::is_control);
        prop_assert!(no_controls(&t.meta.title), "title {:?}", t.meta.title);
        for s in &t.speakers {
            prop_assert!(no_controls(&s.name) && s.role.as_deref().is_none_or(no_controls));
            prop_assert!(!s.name.chars().any(transcript::is_invisible), "name {:?}", s.name);
            prop_assert!(!s.name.eq_ignore_ascii_case("https"));
        }
        for p in t.passages() {
            prop_assert!(p.text.chars().count() <= transcript::MAX_PASSAGE_CHARS, "{} chars", p.text.chars().count());
            prop_assert!(!p.text.is_empty() && no_controls(&p.text));
            prop_assert!(source.contains(&p.text), "passage not in source: {:?}", p.text);
            let paragraph = if p.turn == 0 {
                &t.intro[p.paragraph - 1]
            } else {
                &t.turns[p.turn - 1].paragraphs[p.paragraph - 1]
            };
            prop_assert!(paragraph.text.contains(&p.text));
        }
    }

    #[test]
    fn parser_fuzz_split_long_keeps_every_word(
        text in prop_oneof!["\\PC{0,2000}", "[\\p{Han}, 。]{0,2000}", "[a\\u{ff0c} ]{0,2000}"],
        max in 1usize..400,
    ) {
        let pieces = transcript::split_long(&text, max);
        let mut at = 0;
        for p in &pieces {
            prop_assert!(!p.is_empty() && p.chars().count() <= max);
            let offset = p.as_ptr() as usize - text.as_ptr() as usize;
            prop_assert!(offset >= at && offset + p.len() <= text.len());
            prop_assert!(text[at..offset].trim().is_empty(), "words lost: {:?}", &text[at..offset]);
            at = offset + p.len();
        }
        prop_assert!(text[at..].trim().is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = transcript::parse(Path::new("r.txt"), "r", &bytes, None);
    }

    #[test]
    fn parsed_paragraphs_are_verbatim_lines(text in transcript_like()) {
        if let Ok(t) = transcript::parse(Path::new("r.txt"), "r", text.as_bytes(), None) {
            prop_assert!(!t.turns.is_empty());
            for p in t.passages() {
                prop_assert!(shown(&text).contains(p.text.trim()), "passage not in source: {:?}", p.text);
            }
        }
    }

    #[test]
    fn ask_never_panics_and_quotes_verbatim(q in "\\PC{0,60}", limit in 0usize..20) {
        let e = engine();
        let mut question = Question::new(q);
        question.limit = limit;
        match e.ask(&question) {
            Ok(a) => {
                for h in &a.hits {
                    let n = h.text.chars().count();
                    prop_assert!(h.highlights.iter().all(|s| s[0] < s[1] && s[1] <= n));
                }
                prop_assert!(a.hits.len() <= 10);
            }
            Err(err) => prop_assert!(err.kind() == Kind::User, "internal error for a question: {err}"),
        }
    }

    #[test]
    fn ask_survives_any_unicode_at_all(q in any::<String>()) {
        let _ = engine().ask(&Question::new(q));
    }
}
