//! Questions in, quoted passages out: a pure function of one served
//! generation (a [`Loaded`] snapshot from [`crate::engine`]) and a
//! [`Question`] ([`ask_in`]; [`Engine::ask`] takes the current snapshot).
//!
//! Guarantees: answering writes nothing and never reads the disk beyond the
//! snapshot's index and vectors; user text never reaches tantivy's query
//! parser (every query is built from terms); every hit is verbatim text of
//! the index, linked through [`crate::links`].
//!
//! A question goes through stages, each in its own file:
//!
//! 0. [`parse`]: fold it, find the speakers it names (a filter) and the
//!    position it points at, cut the rest into words weighed by rarity;
//! 1. [`candidates`]: passages from a BM25 query of the words, from the
//!    nearest vectors (meaning), or a named speaker's passages;
//! 2. [`evidence`]: how much of the question each candidate holds, in
//!    words, character pairs and meaning ([`decision::Features`]);
//! 3. [`decision`]: answer, closest passage, or nothing, and the order;
//! 4. [`present`]: quotes, highlights and links.
//!
//! Abstention is the point of stage 3: a passage sharing only common words
//! or a vague likeness with a question about something else is no answer,
//! so the reply is "not covered", or the closest passages marked as such.

mod candidates;
mod decision;
mod evidence;
mod parse;
mod present;
mod weights;

pub use decision::Features;
pub use present::quote_of;

use crate::conversation::{flags, Prompt};
use crate::engine::{Engine, EngineOptions, Loaded};
use crate::speakers::UnknownSpeaker;
use crate::text::{fold, is_cjk};
use candidates::{gather, speaker_passages};
use decision::Verdict;
use evidence::Words;
use parse::{parse_question, query_terms, Parsed, Position, QueryTerm};
use present::{by_score, interleave_speakers, Scored};
use serde::Serialize;
use std::time::{Duration, Instant};
use tantivy::{Searcher, TantivyDocument};

/// A question as asked.
#[derive(Debug, Clone, Default)]
pub struct Question {
    pub text: String,
    /// Restrict to this speaker (name, alias or pinyin), as `--speaker` does.
    pub speaker: Option<String>,
    pub limit: usize,
    /// Hits to skip (paging).
    pub offset: usize,
    /// Search only these transcripts (ids, resolved by
    /// [`crate::forums::Forums::resolve`]); empty: every transcript, or
    /// those the question names.
    pub transcripts: Vec<String>,
}

impl Question {
    pub fn new(text: impl Into<String>) -> Self {
        Question {
            text: text.into(),
            speaker: None,
            limit: 3,
            offset: 0,
            transcripts: Vec::new(),
        }
    }
}

/// One quoted passage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub transcript: String,
    pub turn: u64,
    pub paragraph: u64,
    pub speaker: Option<String>,
    pub role: Option<String>,
    /// The passage, verbatim: one paragraph (or piece of one), or a lead-in
    /// and the paragraph after it, joined by a line break.
    pub text: String,
    /// Matched spans as `[start, end)` character offsets into `text`.
    pub highlights: Vec<[usize; 2]>,
    pub score: f32,
    pub link: String,
    /// The question this passage answers, when it answers one (JSON only
    /// when set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<Prompt>,
}

/// The answer to a question: hits may be empty ("not covered").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub query: String,
    /// The speaker the question was restricted to (canonical name); the
    /// first one when it named several.
    pub speaker: Option<String>,
    /// Every speaker the question was restricted to.
    pub speakers: Vec<String>,
    /// The transcripts searched (ids), when not all of them.
    pub transcripts: Vec<String>,
    pub hits: Vec<Hit>,
    /// When nothing answers with confidence: the nearest passages, clearly
    /// not answers (empty whenever `hits` is not).
    pub weak: Vec<Hit>,
    /// Relevant hits in all (for paging); not part of the JSON contract.
    #[serde(skip)]
    pub total: usize,
    /// The words the search used (for hints and debugging).
    #[serde(skip)]
    pub terms: Vec<String>,
}

/// Why a question could not be asked. All of these are the user's to fix.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    #[error("the question is empty: type a few words, for example 郭慶怎麼看人才?")]
    Empty,
    #[error("the question is too long ({got} characters, at most {max}): ask about one thing in fewer words")]
    TooLong { got: usize, max: usize },
    #[error(transparent)]
    UnknownSpeaker(#[from] UnknownSpeaker),
    #[error(transparent)]
    UnknownTranscript(#[from] crate::forums::UnknownTranscript),
    #[error("search failed: {0}")]
    Index(#[from] tantivy::TantivyError),
}

impl Engine {
    /// Answers a question from the generation served now.
    pub fn ask(&self, q: &Question) -> Result<Answer, AskError> {
        let loaded = self.snapshot();
        ask_in(&loaded, self.options(), q)
    }
}
/// Answers `q` against one loaded generation.
pub fn ask_in(loaded: &Loaded, opts: &EngineOptions, q: &Question) -> Result<Answer, AskError> {
    ask_with(loaded, opts, q, &mut Clock::off())
}

/// Where one question's time went, stage by stage (for the benchmarks).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stages {
    /// Folding, speaker detection.
    pub parse: Duration,
    /// Cutting into words, stop words, document frequencies.
    pub terms: Duration,
    /// Embedding the question (zero without vectors).
    pub embed: Duration,
    /// tantivy's BM25 top candidates and the nearest vectors.
    pub search: Duration,
    /// Reading the candidates' stored fields.
    pub fetch: Duration,
    /// Folding candidates, coverage, highlights, sorting.
    pub rerank: Duration,
    pub candidates: usize,
}

/// [`ask_in`], timing each stage. Questions naming only a speaker take
/// another path and report their time under `search` and `fetch`.
pub fn ask_timed(
    loaded: &Loaded,
    opts: &EngineOptions,
    q: &Question,
) -> Result<(Answer, Stages), AskError> {
    let mut clock = Clock::on();
    let answer = ask_with(loaded, opts, q, &mut clock)?;
    Ok((answer, clock.stages))
}

/// Laps of the stages; does nothing (not even read the time) when off.
struct Clock {
    on: bool,
    last: Option<Instant>,
    stages: Stages,
}

impl Clock {
    fn off() -> Self {
        Clock {
            on: false,
            last: None,
            stages: Stages::default(),
        }
    }
    fn on() -> Self {
        Clock {
            on: true,
            last: Some(Instant::now()),
            stages: Stages::default(),
        }
    }
    /// Adds the time since the last lap to the stage `slot` picks.
    fn lap(&mut self, slot: fn(&mut Stages) -> &mut Duration) {
        if self.on {
            let now = Instant::now();
            if let Some(last) = self.last {
                *slot(&mut self.stages) += now - last;
            }
            self.last = Some(now);
        }
    }
}
fn ask_with(
    loaded: &Loaded,
    opts: &EngineOptions,
    q: &Question,
    clock: &mut Clock,
) -> Result<Answer, AskError> {
    let parsed = parse_question(loaded, opts, q)?;
    let speaker_names = speaker_names(loaded, &parsed);
    let limit = q.limit.clamp(1, opts.max_limit.max(1));
    clock.lap(|s| &mut s.parse);
    let searcher = loaded.generation.reader.searcher();
    let terms = question_terms(loaded, &searcher, &parsed)?;
    clock.lap(|s| &mut s.terms);
    let mut answer = Answer {
        query: q.text.trim().to_owned(),
        speaker: speaker_names.first().cloned(),
        speakers: speaker_names.clone(),
        transcripts: parsed.transcripts.clone(),
        hits: Vec::new(),
        weak: Vec::new(),
        total: 0,
        terms: terms.iter().map(|t| t.text.clone()).collect(),
    };
    tracing::debug!(
        folded = %parsed.folded,
        terms = ?terms.iter().map(|t| (t.text.as_str(), t.weight)).collect::<Vec<_>>(),
        speakers = ?speaker_names,
        "question"
    );

    // Set when only the hits shown were read (a speakers-only question).
    let mut total = None;
    let ranked: Ranked = if terms.is_empty() && parsed.speaker_given {
        let shown = q.offset.saturating_add(limit);
        let (ranked, all) = speaker_passages(loaded, &searcher, &speaker_names, &parsed, shown)?;
        total = Some(all);
        clock.lap(|s| &mut s.fetch);
        ranked
    } else {
        // The question's meaning, when passages have vectors to compare.
        let qvec = loaded.query_vector(q.text.trim());
        clock.lap(|s| &mut s.embed);
        if terms.is_empty() && qvec.is_none() {
            return Ok(answer);
        }
        let judged = judge(
            loaded,
            opts,
            &searcher,
            &terms,
            &parsed,
            &speaker_names,
            qvec.as_deref(),
            clock,
        )?;
        decide(judged)
    };
    let (mut hits, weak) = ranked;
    if speaker_names.len() > 1 && total.is_none() {
        hits = interleave_speakers(hits, &speaker_names);
    }
    answer.total = total.unwrap_or(hits.len());
    answer.hits = hits
        .into_iter()
        .skip(q.offset)
        .take(limit)
        .map(|s| s.into_hit(&opts.public_url, &terms, &loaded.generation.analyzer))
        .collect();
    if answer.total == 0 && q.offset == 0 {
        answer.weak = weak
            .into_iter()
            .take(limit.min(WEAK_HITS))
            .map(|s| s.into_hit(&opts.public_url, &terms, &loaded.generation.analyzer))
            .collect();
    }
    Ok(answer)
}

/// At most this many closest passages are offered when nothing answers.
const WEAK_HITS: usize = 3;

/// Answers, and the closest passages that are not answers.
type Ranked = (Vec<Scored>, Vec<Scored>);

/// One candidate judged: the passage, its evidence, its score and verdict.
struct Judged {
    scored: Scored,
    features: Features,
    verdict: Verdict,
}

/// Stages 1 to 3 for a question with words or a vector: every candidate
/// with its evidence and verdict, best first.
#[allow(clippy::too_many_arguments)]
fn judge(
    loaded: &Loaded,
    opts: &EngineOptions,
    searcher: &Searcher,
    terms: &[QueryTerm],
    parsed: &Parsed,
    speakers: &[String],
    qvec: Option<&[f32]>,
    clock: &mut Clock,
) -> Result<Vec<Judged>, AskError> {
    let vectors = loaded.vectors();
    let fetched = opts.candidates.max(opts.max_limit * 2);
    let gathered = gather(
        loaded,
        searcher,
        terms,
        speakers,
        &parsed.transcripts,
        fetched,
        qvec.zip(vectors.as_deref()),
    )?;
    clock.lap(|s| &mut s.search);
    clock.stages.candidates = gathered.candidates.len();
    let learned = qvec.is_some() && vectors.is_some();
    let words = Words::new(terms, &parsed.rest);
    let latin: f32 = terms
        .iter()
        .filter(|t| t.text.chars().all(|c| !is_cjk(c)))
        .map(|t| t.weight)
        .sum::<f32>()
        / words.total_weight;
    let wanted = parsed.position.map(|p| match p {
        Position::First => flags::FIRST_TURN,
        Position::Last => flags::LAST_TURN,
    });
    let mut judged: Vec<Judged> = Vec::new();
    for c in gathered.candidates {
        clock.lap(|s| &mut s.rerank);
        let doc: TantivyDocument = searcher.doc(c.addr)?;
        let p = loaded.generation.stored(&doc);
        clock.lap(|s| &mut s.fetch);
        let (quote, paragraph) = quote_of(&p);
        let folded = fold(&quote);
        let lex = evidence::lexical(&words, &folded.text, &p.context, &p.prompt_folded);
        let recip = |r: Option<usize>| r.map_or(0.0, |r| 1.0 / (1.0 + r as f32));
        let features = Features {
            coverage: lex.coverage,
            holds: lex.holds,
            overlap: lex.overlap,
            bm25: if gathered.max_bm25 > 0.0 {
                c.bm25 / gathered.max_bm25
            } else {
                0.0
            },
            lex_rank: recip(c.lex_rank),
            cosine: c.cosine.unwrap_or(0.0),
            cos_gap: match (gathered.max_cosine, c.cosine) {
                (Some(m), Some(x)) => (m - x).max(0.0),
                _ => 0.0,
            },
            cos_z: match (c.cosine, gathered.cosine_spread) {
                (Some(x), (mean, sd)) if sd > 0.0 => (x - mean) / sd,
                _ => 0.0,
            },
            cos_lead: if c.sem_rank == Some(0) {
                gathered.cosine_lead
            } else {
                0.0
            },
            agree: f32::from(u8::from(c.sem_rank == Some(0) && c.lex_rank == Some(0))),
            sem_rank: recip(c.sem_rank),
            prompt: f32::from(u8::from(p.is(flags::PROMPT) && !parsed.asks_for_question)),
            position: match wanted {
                Some(flag) if p.is(flag) => 1.0,
                Some(_) => -1.0,
                None => 0.0,
            },
            latin,
            speaker: f32::from(u8::from(parsed.speaker_given)),
        };
        let (score, verdict) = if learned {
            decision::learned(&features)
        } else {
            decision::lexical(&lex, &features, opts.min_coverage)
        };
        tracing::trace!(
            ?features,
            score,
            ?verdict,
            turn = p.turn,
            paragraph = p.paragraph,
            text = %quote.chars().take(30).collect::<String>(),
            "candidate"
        );
        judged.push(Judged {
            scored: Scored {
                score,
                text: quote,
                paragraph,
                passage: p,
            },
            features,
            verdict,
        });
    }
    judged.sort_by(|a, b| by_score(&a.scored, &b.scored));
    // A lead-in and its substance make one quote: keep it once.
    let mut seen = std::collections::HashSet::new();
    judged.retain(|j| {
        let (t, turn, para) = j.scored.key();
        seen.insert((t.to_owned(), turn, para))
    });
    clock.lap(|s| &mut s.rerank);
    Ok(judged)
}

/// Splits judged candidates into answers and closest passages.
fn decide(judged: Vec<Judged>) -> Ranked {
    let mut answers = Vec::new();
    let mut closest = Vec::new();
    for j in judged {
        match j.verdict {
            Verdict::Answer => answers.push(j.scored),
            Verdict::Closest => closest.push(j.scored),
            Verdict::Drop => {}
        }
    }
    (answers, closest)
}

/// Every candidate of a question with its evidence, as the decision saw
/// it, best first (for `forumbot eval --features`, which fits the policy).
pub fn explain(
    loaded: &Loaded,
    opts: &EngineOptions,
    q: &Question,
) -> Result<Vec<(Hit, Features, bool)>, AskError> {
    let parsed = parse_question(loaded, opts, q)?;
    let speakers = speaker_names(loaded, &parsed);
    let searcher = loaded.generation.reader.searcher();
    let terms = question_terms(loaded, &searcher, &parsed)?;
    if terms.is_empty() && parsed.speaker_given {
        return Ok(Vec::new());
    }
    let qvec = loaded.query_vector(q.text.trim());
    let judged = judge(
        loaded,
        opts,
        &searcher,
        &terms,
        &parsed,
        &speakers,
        qvec.as_deref(),
        &mut Clock::off(),
    )?;
    Ok(judged
        .into_iter()
        .map(|j| {
            let answer = j.verdict == Verdict::Answer;
            (
                j.scored
                    .into_hit(&opts.public_url, &terms, &loaded.generation.analyzer),
                j.features,
                answer,
            )
        })
        .collect())
}

fn speaker_names(loaded: &Loaded, parsed: &Parsed) -> Vec<String> {
    parsed
        .speakers
        .iter()
        .map(|&i| loaded.speakers.entries[i].name.clone())
        .collect()
}

fn question_terms(
    loaded: &Loaded,
    searcher: &Searcher,
    parsed: &Parsed,
) -> Result<Vec<QueryTerm>, AskError> {
    let mut terms = query_terms(loaded, searcher, &parsed.rest)?;
    if parsed.asks_for_question {
        // "What question did X ask about Y": 问题 frames the asking.
        terms.retain(|t| !matches!(t.text.as_str(), "问题" | "提问" | "question" | "questions"));
    }
    Ok(terms)
}

#[cfg(test)]
mod tests {
    use super::evidence::{cover, pair_overlap, question_pairs, MORPHEME_CREDIT};
    use super::parse::idf;
    use crate::text::{self, fold_str};

    /// An engine over one hand-made transcript with a moderator.
    fn engine_with(text: &str, sidecar: &str) -> (tempfile::TempDir, Engine) {
        crate::test_support::engine(&[("panel.txt", text), ("panel.toml", sidecar)])
    }

    const PANEL: &str = "圓桌\n\n\
        主持:歡迎兩位。我們先談人才,銀行最缺什麼樣的人才?\n\n\
        王芳:我覺得兩者差別挺大的。\n\n\
        首先是懂數據又懂業務的複合型人才,這樣的人在銀行很稀缺。\n\n\
        李明:我補充一點,風控建模的人才也很缺。\n\n\
        主持:第二個問題,劍橋分析是怎麼回事?\n\n\
        王芳:劍橋分析是一家已經關門的公司。\n\n\
        過去大家貼標籤看職業和收入,它引入了大五人格,用心理學給用戶分類。\n\n\
        後來因為道德問題,這家公司關門了。\n\n\
        主持:最後請兩位各說一句結語。\n\n\
        李明:開放合作,共同成長。\n\n\
        王芳:不忘初心,方得始終。\n";

    const SIDECAR: &str = "[[speakers]]\nname = \"主持\"\nmoderator = true\n\
        [[speakers]]\nname = \"王芳\"\naliases = [\"王總\"]\n\
        [[speakers]]\nname = \"李明\"\naliases = [\"李總\"]\n";

    fn ask(e: &Engine, q: &str) -> Answer {
        let mut question = Question::new(q);
        question.limit = 5;
        e.ask(&question).unwrap()
    }

    #[test]
    fn repeating_the_moderators_question_finds_the_answers_first() {
        let (_t, e) = engine_with(PANEL, SIDECAR);
        let a = ask(&e, "銀行最缺什麼樣的人才?");
        let first = &a.hits[0];
        assert_ne!(first.speaker.as_deref(), Some("主持"), "{a:#?}");
        assert!(first.text.contains("複合型人才"), "{a:#?}");
        let prompt = first
            .prompt
            .as_ref()
            .expect("the answer carries its prompt");
        assert_eq!(prompt.speaker, "主持");
        assert!(prompt.text.contains("最缺什麼樣的人才"));
        // The lead-in is quoted with the substance after it, once.
        assert!(
            first.text.starts_with("我覺得兩者差別挺大的。\n首先"),
            "{}",
            first.text
        );
        assert_eq!(first.paragraph, 1);
        let same = a
            .hits
            .iter()
            .filter(|h| h.text.contains("複合型人才"))
            .count();
        assert_eq!(same, 1, "{a:#?}");
        // Highlights point into the joined quote.
        let chars: Vec<char> = first.text.chars().collect();
        for [s, e] in &first.highlights {
            let word: String = chars[*s..*e].iter().collect();
            assert!(
                fold_str(&word).contains("人才") || fold_str(&word).contains("银行"),
                "{word}"
            );
        }
        // Asking what was asked finds the question itself.
        let asked = ask(&e, "主持問了什麼關於人才的問題?");
        assert_eq!(asked.hits[0].speaker.as_deref(), Some("主持"), "{asked:#?}");
    }

    #[test]
    fn a_character_trace_with_the_words_in_the_context_is_no_answer() {
        let text = "圓桌\n\n\
            主持:大家好,今天談談服務。\n\n\
            王芳:我們去年新建了客服中心,配備了兩百名坐席人員,覆蓋全國所有的分行網點,全天候提供電話和在線服務,效果非常明顯。\n\n\
            現在每位客戶都有專人跟進,回訪也更及時。\n\n\
            李明:我們更重視風控和合規。\n";
        let (_t, e) = engine_with(text, SIDECAR);
        let a = ask(&e, "客服中心");
        assert!(
            a.hits[0].text.starts_with("我們去年新建了客服中心"),
            "{a:#?}"
        );
        // 客 of 客戶 is a trace of 客服, and the paragraph before names the
        // 客服中心: still the quote holds none of the question's words.
        assert!(
            !a.hits.iter().any(|h| h.text.starts_with("現在每位客戶")),
            "{a:#?}"
        );
    }

    #[test]
    fn asking_what_a_moderator_asked_lists_their_questions_in_order() {
        let text = "圓桌\n\n\
            主持:各位來賓,今天的圓桌論壇討論金融營銷的變化,兩位嘉賓在銀行和互聯網公司都有多年的營銷經驗。\n\n\
            先問一個問題,什麼是金融營銷?\n\n\
            王芳:金融營銷就是把金融產品賣給對的人。\n\n\
            主持:那麼數據在營銷中扮演什麼角色呢?\n\n\
            李明:數據是營銷的基礎。\n";
        let (_t, e) = engine_with(text, SIDECAR);
        let asked = ask(&e, "主持問了什麼?");
        let texts: Vec<&str> = asked.hits.iter().map(|h| h.text.as_str()).collect();
        assert!(texts[0].contains("什麼是金融營銷"), "{texts:?}");
        assert!(texts[1].contains("數據在營銷中扮演什麼角色"), "{texts:?}");
        // Asked about nothing in particular, the fullest passage leads.
        let said = ask(&e, "主持");
        assert!(said.hits[0].text.starts_with("各位來賓"), "{said:#?}");
    }

    #[test]
    fn a_topic_named_once_finds_the_paragraphs_that_discuss_it() {
        let (_t, e) = engine_with(PANEL, SIDECAR);
        let a = ask(&e, "劍橋分析用什麼方法給用戶分類?");
        assert!(
            a.hits.first().is_some_and(|h| h.text.contains("大五人格")),
            "{a:#?}"
        );
    }

    #[test]
    fn a_rare_topic_in_the_context_is_fetched_among_many_passages_sharing_the_other_words() {
        // The answer holds only common words (用戶, 分類); the topic stands in
        // the paragraph before it. Two hundred shorter passages hold more of
        // the question's common words, so only the context clause of the
        // rare topic brings the answer among the candidates.
        let mut text = String::from(
            "圓桌\n\n\
             主持:請談談劍橋分析。\n\n\
             王芳:劍橋分析是一家英國的數據公司,二零一八年因為臉書的數據事件而廣為人知,後來就關門了。\n\n\
             他們引入了大五人格,用心理學給用戶分類。\n\n",
        );
        for i in 0..100 {
            text.push_str(&format!(
                "李明:用方法給用戶分類{i}。\n\n\
                 張三:用方法給用戶分類{i}。\n\n"
            ));
        }
        let sidecar = format!("{SIDECAR}[[speakers]]\nname = \"張三\"\n");
        let (_t, e) = engine_with(&text, &sidecar);
        let a = ask(&e, "劍橋分析用什麼方法給用戶分類?");
        assert!(
            a.hits.first().is_some_and(|h| h.text.contains("大五人格")),
            "{a:#?}"
        );
    }

    #[test]
    fn a_named_speaker_narrows_but_is_no_evidence() {
        let (_t, e) = engine_with(PANEL, SIDECAR);
        // One shared character with the speaker's passages is not an answer.
        let a = ask(&e, "王總怎麼看比特幣?");
        assert!(a.hits.is_empty(), "{a:#?}");
        assert_eq!(a.speaker.as_deref(), Some("王芳"));
    }

    #[test]
    fn two_named_speakers_are_both_heard() {
        let (_t, e) = engine_with(PANEL, SIDECAR);
        let a = ask(&e, "王芳和李明怎麼看人才?");
        assert_eq!(a.speakers, ["王芳", "李明"]);
        let top2: Vec<_> = a
            .hits
            .iter()
            .take(2)
            .filter_map(|h| h.speaker.as_deref())
            .collect();
        assert!(top2.contains(&"王芳") && top2.contains(&"李明"), "{a:#?}");
    }

    #[test]
    fn closing_words_point_at_the_speakers_last_turn() {
        let (_t, e) = engine_with(PANEL, SIDECAR);
        let a = ask(&e, "王芳最後說了什麼?");
        assert!(a.hits[0].text.contains("不忘初心"), "{a:#?}");
        let a = ask(&e, "李明的結語");
        assert!(a.hits[0].text.contains("開放合作"), "{a:#?}");
    }

    #[test]
    fn nothing_confident_offers_weak_matches_apart() {
        let (_t, e) = engine_with(PANEL, SIDECAR);
        let a = ask(&e, "銀行缺區塊鏈人才嗎");
        assert!(a.hits.is_empty(), "{a:#?}");
        assert!(!a.weak.is_empty(), "{a:#?}");
        let json = serde_json::to_value(&a).unwrap();
        assert!(json["weak"].is_array() && json["hits"].as_array().unwrap().is_empty());
    }

    #[test]
    fn a_pinyin_name_before_a_chinese_alias_is_taken_out_cleanly() {
        let (_t, e) = engine_with(PANEL, SIDECAR);
        // Spans are removed last first by position: no panic, the topic kept.
        for q in [
            "wangfang 李總 人才",
            "Wang Fang和李總怎麼看人才?",
            "李總 wangfang 人才",
        ] {
            let a = ask(&e, q);
            assert_eq!(a.terms, ["人才"], "{q}: {a:#?}");
            assert_eq!(a.speakers.len(), 2, "{q}");
        }
    }

    #[test]
    fn chat_mentions_are_not_words_of_the_question() {
        let (_t, e) = engine_with(PANEL, SIDECAR);
        let a = ask(&e, "@everyone <@42> 王芳怎麼看人才? @here");
        assert_eq!(a.terms, ["人才"], "{a:#?}");
        assert!(!a.hits.is_empty());
    }

    #[test]
    fn one_pair_is_too_few_to_judge_phrasing() {
        let pairs = question_pairs("蓍的别名是什么?");
        assert_eq!(pairs, ["别名"]);
        assert_eq!(pair_overlap(&pairs, |_| false), 1.0);
        let pairs = question_pairs("共产国家");
        assert_eq!(pair_overlap(&pairs, |g| g == "共产"), 1.0 / 3.0);
        assert_eq!(pair_overlap(&pairs, |_| false), 0.0);
    }

    #[test]
    fn question_pairs_cross_words_and_skip_function_characters() {
        let pairs = question_pairs("历史上第一个共产国家是哪一个?");
        assert!(pairs.contains(&"产国".to_owned()), "{pairs:?}");
        assert!(pairs.contains(&"共产".to_owned()), "{pairs:?}");
        assert!(!pairs.iter().any(|p| p.contains('是')), "{pairs:?}");
        assert!(question_pairs("2011 quantum").is_empty());
    }

    use super::*;

    fn term(text: &str, parts: &[&str]) -> QueryTerm {
        QueryTerm {
            text: text.into(),
            weight: 1.0,
            parts: parts.iter().map(|p| p.to_string()).collect(),
            grams: text::bigrams(text).into_iter().map(|g| g.0).collect(),
            known: true,
            df: 1,
            morphemes: Vec::new(),
        }
    }

    #[test]
    fn cover_gives_full_partial_and_no_credit() {
        assert_eq!(cover(&term("青睐", &[]), "越来越受青睐"), 1.0);
        // The part 年轻 covers two of 年轻人's three characters.
        let young = term("年轻人", &["年轻"]);
        let c = cover(&young, "年轻的时候借贷多");
        assert!((c - 0.8 * 2.0 / 3.0).abs() < 1e-6, "{c}");
        // Bigrams alone: half credit for the share held.
        let c = cover(&term("互联网金融", &[]), "互联网的发展");
        assert!((c - 0.5 * 2.0 / 4.0).abs() < 1e-6, "{c}");
        assert_eq!(cover(&term("区块链", &["区块"]), "银行的数据"), 0.0);
        // A meaningful character of a missed two-character word: a trace.
        let beggar = QueryTerm {
            morphemes: vec!['乞'],
            ..term("乞丐", &[])
        };
        let c = cover(&beggar, "贵阳的乞讨者用二维码收钱");
        assert!((c - MORPHEME_CREDIT / 2.0).abs() < 1e-6, "{c}");
        assert_eq!(cover(&beggar, "银行的数据"), 0.0);
    }

    #[test]
    fn only_the_meaningful_characters_of_a_two_character_word_are_morphemes() {
        let (_t, e) = engine_with(PANEL, SIDECAR);
        let loaded = e.snapshot();
        let searcher = loaded.generation.reader.searcher();
        let terms = query_terms(&loaded, &searcher, "乞丐的年龄分类").unwrap();
        let of = |w: &str| {
            terms
                .iter()
                .find(|t| t.text == w)
                .map(|t| t.morphemes.clone())
                .unwrap_or_else(|| panic!("{w} not among {terms:?}"))
        };
        assert_eq!(of("乞丐"), ['乞', '丐']);
        assert_eq!(
            of("年龄"),
            ['龄'],
            "年 is too common to mean anything alone"
        );
        assert_eq!(of("分类"), ['类']);
    }

    #[test]
    fn idf_is_highest_for_unseen_words() {
        assert!(idf(100, 0) > idf(100, 1));
        assert!(idf(100, 1) > idf(100, 50));
        assert!(idf(100, 100) > 0.0);
    }
}
