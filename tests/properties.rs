//! Property tests: random Unicode into the parser and into `ask` never
//! panics, and whatever is parsed or found stays verbatim.

#[path = "support/data.rs"]
mod data;

use forumbot::search::{Engine, EngineOptions, Question};
use forumbot::transcript;
use proptest::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<(tempfile::TempDir, Engine)> = OnceLock::new();
    &ENGINE
        .get_or_init(|| {
            let tmp = data::bundled_data();
            let engine = Engine::open(EngineOptions::new(tmp.path()), &|_| {})
                .unwrap()
                .engine;
            (tmp, engine)
        })
        .1
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
                prop_assert!(text.contains(p.text.trim()), "passage not in source: {:?}", p.text);
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
            Err(err) => prop_assert!(err.is_user_error(), "internal error for a question: {err}"),
        }
    }

    #[test]
    fn ask_survives_any_unicode_at_all(q in any::<String>()) {
        let _ = engine().ask(&Question::new(q));
    }
}
