//! Speaker summaries on the bundled transcript, checked for properties a
//! reader would ask of them, never for an exact list: quotes spread over a
//! speaker's turns, complete thoughts, the closing statement, keywords that
//! set a speaker apart, the moderator summarised by questions, shares per
//! transcript, and names resolved from a surname or a part of a name.

use crate::support;
use crate::support::open_engine as engine;

use forumbot::index::StoredPassage;
use forumbot::speakers::{NameProblem, UnknownSpeaker};
use forumbot::summary::{self, SpeakerSummary, SummaryError};
use forumbot::Engine;
use std::collections::HashSet;

const BUNDLED: &str = "000_075a307d861b3240";
const PANEL: [&str; 3] = ["郭慶", "周伊麗", "陳慧菱"];

fn summarise(e: &Engine, name: &str) -> SpeakerSummary {
    summary::speaker(&e.snapshot(), e.options(), name).unwrap_or_else(|err| panic!("{name}: {err}"))
}

fn passages(e: &Engine) -> Vec<StoredPassage> {
    e.snapshot()
        .generation
        .transcript_passages(BUNDLED)
        .unwrap()
}

fn ends_in_question(text: &str) -> bool {
    text.trim_end_matches(['」', '”', '"', ')', '）'])
        .ends_with(['?', '？'])
}

#[test]
fn quotes_spread_over_turns_are_complete_and_include_the_closing_statement() {
    let dir = support::bundled_data();
    let e = engine(dir.path());
    let ps = passages(&e);
    let moderator_last_question = ps
        .iter()
        .filter(|p| p.speaker.as_deref() == Some("唐文") && p.text.contains(['?', '？']))
        .map(|p| p.turn)
        .max()
        .unwrap();
    let source =
        std::fs::read_to_string(dir.path().join(format!("transcripts/{BUNDLED}.txt"))).unwrap();
    for name in PANEL {
        let s = summarise(&e, name);
        assert!(!s.moderator, "{name}");
        let turns: Vec<u64> = ps
            .iter()
            .filter(|p| p.speaker.as_deref() == Some(name))
            .map(|p| p.turn)
            .collect();
        let distinct_turns: HashSet<u64> = turns.iter().copied().collect();
        let quoted_turns: HashSet<u64> = s.quotes.iter().map(|q| q.turn).collect();
        assert!((3..=5).contains(&s.quotes.len()), "{name}: {:?}", s.quotes);
        assert!(
            quoted_turns.len() >= 3.min(distinct_turns.len()),
            "{name}: quotes from turns {quoted_turns:?} of {distinct_turns:?}"
        );
        for q in &s.quotes {
            assert!(source.contains(&q.text), "{name}: not verbatim: {}", q.text);
            assert!(
                !ends_in_question(&q.text),
                "{name}: a question without its answer: {}",
                q.text
            );
            let p = ps
                .iter()
                .find(|p| {
                    p.turn == q.turn && p.paragraph == q.paragraph && p.text.contains(&q.text)
                })
                .unwrap_or_else(|| {
                    panic!(
                        "{name}: quote not in turn {} paragraph {}",
                        q.turn, q.paragraph
                    )
                });
            assert_eq!(p.speaker.as_deref(), Some(name));
            assert!(
                q.link
                    .contains(&format!("#turn-{}-p{}:~:text=", q.turn, q.paragraph)),
                "{}",
                q.link
            );
        }
        // The closing statement: the speaker's last turn, which comes after
        // the moderator's last question, quoted and marked.
        let last = *turns.iter().max().unwrap();
        assert!(last > moderator_last_question, "{name}");
        let closing: Vec<_> = s.quotes.iter().filter(|q| q.closing).collect();
        assert_eq!(closing.len(), 1, "{name}: {:?}", s.quotes);
        assert_eq!(closing[0].turn, last, "{name}");
        // Only the closing turn is marked as closing.
        assert!(s.quotes.iter().all(|q| q.closing == (q.turn == last)));
    }
}

#[test]
fn keywords_set_each_speaker_apart() {
    let dir = support::bundled_data();
    let e = engine(dir.path());
    let ps = passages(&e);
    let all: Vec<SpeakerSummary> = ["唐文", "郭慶", "周伊麗", "陳慧菱"]
        .iter()
        .map(|n| summarise(&e, n))
        .collect();
    for s in &all {
        assert!(s.keywords.len() >= 5, "{}: {:?}", s.speaker, s.keywords);
    }
    // No word leads every list, and no word is in every list.
    let leads: HashSet<&str> = all.iter().map(|s| s.keywords[0].as_str()).collect();
    assert_eq!(
        leads.len(),
        all.len(),
        "the same word leads two lists: {leads:?}"
    );
    for k in &all[0].keywords {
        assert!(
            !all.iter().all(|s| s.keywords.contains(k)),
            "{k} is a keyword of every speaker"
        );
    }
    // A word every speaker says often is generic here: in no top three.
    for word in ["營銷", "客戶", "創新"] {
        let everyone = all.iter().all(|s| {
            ps.iter()
                .filter(|p| p.speaker.as_deref() == Some(s.speaker.as_str()))
                .any(|p| p.text.contains(word))
        });
        if everyone {
            for s in &all {
                assert!(
                    !s.keywords.iter().take(3).any(|k| k == word),
                    "{word} leads {}: {:?}",
                    s.speaker,
                    s.keywords
                );
            }
        }
    }
    // Each panellist's keywords hold a word of their closing statement
    // (what they chose to end on weighs).
    for s in all.iter().filter(|s| !s.moderator) {
        let closing = &s.quotes.iter().find(|q| q.closing).unwrap().text;
        let from_closing = s
            .keywords
            .iter()
            .filter(|k| closing.contains(k.as_str()))
            .count();
        assert!(
            from_closing >= 1,
            "{}: {:?} has {from_closing} words of {closing}",
            s.speaker,
            s.keywords
        );
    }
}

/// Every keyword as the speaker says it, in their own passages.
fn said_by(ps: &[StoredPassage], s: &SpeakerSummary) {
    for k in &s.keywords {
        assert!(
            ps.iter()
                .any(|p| p.speaker.as_deref() == Some(s.speaker.as_str())
                    && p.text.contains(k.as_str())),
            "{}: keyword {k} is not the speaker's words",
            s.speaker
        );
    }
}

#[test]
fn keywords_a_reader_accepts_on_the_bundled_forum() {
    let dir = support::bundled_data();
    let e = engine(dir.path());
    let ps = passages(&e);
    let of = |name: &str| summarise(&e, name);
    let has = |s: &SpeakerSummary, w: &str| s.keywords.iter().any(|k| k == w);
    // Named things the speaker says more than the others, whole.
    let tang = of("唐文");
    for named in ["劍橋分析", "大五人格"] {
        assert!(has(&tang, named), "{named}: {:?}", tang.keywords);
    }
    for aside in ["表弟", "貴陽"] {
        assert!(!has(&tang, aside), "{aside}: {:?}", tang.keywords);
    }
    let chen = of("陳慧菱");
    assert!(has(&chen, "雲計算"), "{:?}", chen.keywords);
    assert!(
        !has(&chen, "計算"),
        "a piece of 雲計算: {:?}",
        chen.keywords
    );
    let guo = of("郭慶");
    assert!(
        !has(&guo, "才能"),
        "才能做成事 is 'only then': {:?}",
        guo.keywords
    );
    assert!(has(&guo, "念力"), "{:?}", guo.keywords);
    let zhou = of("周伊麗");
    for everyday in ["發展", "信息"] {
        assert!(!has(&zhou, everyday), "{everyday}: {:?}", zhou.keywords);
    }
    // Her first keyword has a quote that says it.
    assert_eq!(zhou.keywords[0], "客服中心", "{:?}", zhou.keywords);
    assert!(
        zhou.quotes.iter().any(|q| q.text.contains("客服中心")),
        "{:?}",
        zhou.quotes
    );
    for s in [&tang, &chen, &guo, &zhou] {
        said_by(&ps, s);
    }
}

/// A second forum, written for these tests (tests/data/ev_roundtable.txt):
/// no sidecar, a host who asks and ends with 謝謝李總,今天就到這裡。, and
/// panellists who end on thanks.
#[test]
fn keywords_and_closing_statements_on_a_second_forum_without_a_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("transcripts");
    std::fs::create_dir_all(&t).unwrap();
    let source =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ev_roundtable.txt");
    std::fs::copy(&source, t.join("ev_roundtable.txt")).unwrap();
    let e = engine(dir.path());
    let ps = e
        .snapshot()
        .generation
        .transcript_passages("ev_roundtable")
        .unwrap();
    let of = |name: &str| summarise(&e, name);
    let has = |s: &SpeakerSummary, w: &str| s.keywords.iter().any(|k| k == w);

    // The host is summarised by the questions asked, never by the thanks.
    let host = of("王明");
    assert!(host.moderator, "{host:?}");
    assert!(
        host.quotes.iter().all(|q| ends_in_question(&q.text)),
        "{:?}",
        host.quotes
    );
    // Each panellist: the topic's terms whole, none of their pieces, no
    // thanks; the closing statement is the last turn that says something.
    let expect: [(&str, &[&str], &[&str]); 3] = [
        (
            "李建国",
            &["磷酸铁锂", "固态电池", "电池回收"],
            &["磷酸", "铁锂", "固态", "回收"],
        ),
        (
            "张薇",
            &["数据闭环", "激光雷达", "长尾场景"],
            &["闭环", "长尾"],
        ),
        (
            "陈志远",
            &["换电模式", "虚拟电厂"],
            &["虚拟", "电厂", "换电"],
        ),
    ];
    for (name, whole, pieces) in expect {
        let s = of(name);
        for w in whole {
            assert!(has(&s, w), "{name}: {w} not in {:?}", s.keywords);
        }
        for p in pieces {
            assert!(!has(&s, p), "{name}: the piece {p} in {:?}", s.keywords);
        }
        said_by(&ps, &s);
        let closing: Vec<_> = s.quotes.iter().filter(|q| q.closing).collect();
        assert_eq!(closing.len(), 1, "{name}: {:?}", s.quotes);
        assert!(
            !closing[0].text.starts_with("谢谢"),
            "{name}: {}",
            closing[0].text
        );
    }
    for s in ["王明", "李建国", "张薇", "陈志远"].map(of) {
        for k in &s.keywords {
            assert!(
                !k.contains("谢谢") && !k.ends_with('总'),
                "{}: {k}",
                s.speaker
            );
        }
        for q in &s.quotes {
            assert!(
                !q.text.starts_with("谢谢") && !q.text.starts_with("各位好"),
                "{}: {}",
                s.speaker,
                q.text
            );
        }
    }
}

#[test]
fn the_moderator_is_summarised_by_the_questions_he_asked() {
    let dir = support::bundled_data();
    let e = engine(dir.path());
    // A surname alone names the one speaker it fits.
    assert_eq!(summarise(&e, "陳").speaker, "陳慧菱");
    assert_eq!(summarise(&e, "chen").speaker, "陳慧菱");
    let s = summarise(&e, "主持人");
    assert_eq!(s.speaker, "唐文");
    assert!(s.moderator);
    assert!(s.quotes.len() >= 3, "{:?}", s.quotes);
    let mut turns = HashSet::new();
    for q in &s.quotes {
        assert!(ends_in_question(&q.text), "not a question: {}", q.text);
        assert!(turns.insert(q.turn), "two questions from turn {}", q.turn);
        assert!(
            q.link.contains(&format!("#turn-{}-p", q.turn)),
            "{}",
            q.link
        );
    }
}

const PAIR: &str = "雙人對談\n\n甲:我們談談區塊鏈在跨境結算中的應用,這是今天的主題。\n\n陳大文:跨境結算的成本很高,區塊鏈可以降低成本。\n\n甲:監管沙盒也值得一試。\n\n陳大文:謝謝。\n";
const PAIR_SIDECAR: &str =
    "id = \"pair\"\n[[speakers]]\nname = \"甲\"\n[[speakers]]\nname = \"陳大文\"\n";
const SECOND: &str =
    "第二場\n\n甲:數字人民幣的試點進展很快。\n\n丙:我同意。\n\n甲:謝謝大家。\n\n丙:謝謝。\n";

#[test]
fn shares_are_per_transcript_and_names_resolve_from_parts() {
    let dir = support::bundled_data();
    let t = dir.path().join("transcripts");
    std::fs::write(t.join("pair.txt"), PAIR).unwrap();
    std::fs::write(t.join("pair.toml"), PAIR_SIDECAR).unwrap();
    std::fs::write(t.join("second.txt"), SECOND).unwrap();
    let e = engine(dir.path());

    // 甲 said about half of each of two small transcripts: the share is of
    // each transcript, not of the whole archive, with a line per transcript.
    let s = summarise(&e, "甲");
    assert_eq!(s.transcripts.len(), 2, "{:?}", s.transcripts);
    for t in &s.transcripts {
        assert!(t.share > 0.3 && t.share < 0.9, "{t:?}");
        assert_eq!(t.turns, 2);
    }
    assert!(s.share > 0.3, "{}", s.share);

    // A surname or part of a name that fits one speaker resolves to them.
    assert_eq!(summarise(&e, "huiling").speaker, "陳慧菱");
    assert_eq!(summarise(&e, "慧菱").speaker, "陳慧菱");
    assert_eq!(summarise(&e, "伊麗").speaker, "周伊麗");
    // One that fits several lists them to pick from (in either script).
    for several in ["陳", "chen"] {
        match summary::speaker(&e.snapshot(), e.options(), several) {
            Err(err @ SummaryError::UnknownSpeaker(_)) => {
                let SummaryError::UnknownSpeaker(UnknownSpeaker { known, problem, .. }) = &err
                else {
                    unreachable!()
                };
                assert_eq!(*problem, NameProblem::Several);
                assert!(known.iter().any(|k| k.starts_with("陳慧菱")), "{known:?}");
                assert!(known.iter().any(|k| k.starts_with("陳大文")), "{known:?}");
                assert!(err.to_string().contains("several"), "{err}");
            }
            other => panic!("{several} should fit two speakers: {other:?}"),
        }
    }
    // An unknown name lists close matches, not everybody.
    match summary::speaker(&e.snapshot(), e.options(), "陳惠玲") {
        Err(SummaryError::UnknownSpeaker(UnknownSpeaker { known, problem, .. })) => {
            assert_eq!(problem, NameProblem::Unknown { close: true });
            assert!(known.iter().any(|k| k.starts_with("陳慧菱")), "{known:?}");
            assert!(!known.iter().any(|k| k.starts_with("郭慶")), "{known:?}");
        }
        other => panic!("{other:?}"),
    }
    match summary::speaker(&e.snapshot(), e.options(), "Chen Hiling") {
        Err(SummaryError::UnknownSpeaker(UnknownSpeaker { known, .. })) => {
            assert!(known.iter().any(|k| k.starts_with("陳慧菱")), "{known:?}")
        }
        Ok(s) => assert_eq!(s.speaker, "陳慧菱"),
        Err(other) => panic!("{other}"),
    }
}

#[test]
fn summaries_and_speaker_only_answers_are_computed_once_per_generation() {
    let dir = support::bundled_data();
    let e = engine(dir.path());
    let loaded = e.snapshot();
    let before = loaded.memo.computed();
    let first = summarise(&e, "郭慶");
    // Another name for the same speaker, and the same again: shared.
    assert_eq!(summarise(&e, "郭總"), first);
    assert_eq!(summarise(&e, "Guo Qing"), first);
    assert_eq!(loaded.memo.computed(), before + 1);

    // A question naming only speakers: their passages are ordered once,
    // and every page after the first reads only what it shows.
    let ask = |text: &str, limit: usize, offset: usize| {
        let mut q = forumbot::Question::new(text);
        q.limit = limit;
        q.offset = offset;
        e.ask(&q).unwrap()
    };
    let all = ask("郭慶和周伊麗說了什麼?", 10, 0);
    assert_eq!(loaded.memo.computed(), before + 2);
    let pages: Vec<_> = (0..5)
        .flat_map(|page| ask("郭慶和周伊麗說了什麼?", 2, page * 2).hits)
        .collect();
    assert_eq!(
        loaded.memo.computed(),
        before + 2,
        "the order was worked out again"
    );
    assert_eq!(pages, all.hits, "pages of the answer differ from the whole");
    // Every passage of theirs counts for paging, each speaker in turn.
    let theirs = passages(&e)
        .iter()
        .filter(|p| matches!(p.speaker.as_deref(), Some("郭慶" | "周伊麗")))
        .count();
    assert_eq!(all.total, theirs);
    let speakers: Vec<_> = all
        .hits
        .iter()
        .map(|h| h.speaker.clone().unwrap())
        .collect();
    assert!(
        speakers[..4].contains(&"郭慶".to_owned()) && speakers[..4].contains(&"周伊麗".to_owned()),
        "{speakers:?}"
    );

    // A new generation starts with nothing computed.
    e.reindex(&|_| {}).unwrap();
    assert_eq!(e.snapshot().memo.computed(), 0);
    assert_eq!(summarise(&e, "郭慶"), first);
}
