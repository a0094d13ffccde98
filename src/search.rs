//! Questions in, quoted passages out: a pure function of one served
//! generation (a [`Loaded`] snapshot from [`crate::engine`]) and a
//! [`Question`] ([`ask_in`]; [`Engine::ask`] takes the current snapshot).
//!
//! Guarantees: answering writes nothing and never reads the disk beyond the
//! snapshot's index; user text never reaches tantivy's query parser (every
//! query is built from terms); every hit is verbatim text of the index,
//! linked through [`crate::links`]. How a question becomes an answer:
//!
//! 1. fold the question and find the speakers it names (or take `--speaker`);
//! 2. cut the rest into words and drop question and function words;
//! 3. weigh each word by how rare it is in the corpus (BM25 idf; a word the
//!    index never saw as a word is estimated from its character bigrams);
//! 4. fetch candidates with a BM25 query of the words, their parts, and their
//!    character bigrams (a second field, weighed lower, for what one jieba cut
//!    missed), restricted to the speakers;
//! 5. keep a candidate only if it covers enough of the question's weight (the
//!    named speaker counts as evidence), and rank by coverage, then BM25.
//!
//! Step 5 is the abstention rule: a passage sharing only common words with a
//! question about something else covers little of its weight and is dropped,
//! so the answer is "no hits" rather than a quote that does not answer.

use crate::conversation::{flags, Prompt};
use crate::engine::{Engine, EngineOptions, Loaded};
use crate::index;
use crate::links::link;
use crate::speakers::{NameProblem, UnknownSpeaker};
use crate::text::{self, fold, fold_str, is_stop_word};
use serde::Serialize;
use std::time::{Duration, Instant};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};

/// A question as asked.
#[derive(Debug, Clone, Default)]
pub struct Question {
    pub text: String,
    /// Restrict to this speaker (name, alias or pinyin), as `--speaker` does.
    pub speaker: Option<String>,
    pub limit: usize,
    /// Hits to skip (paging).
    pub offset: usize,
    /// Issue 22: search only these transcripts (ids, resolved by
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
    /// The transcripts searched (ids), when not all of them (issue 22).
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

/// A word of the question with its weight.
#[derive(Debug, Clone)]
struct QueryTerm {
    text: String,
    weight: f32,
    /// Parts jieba's search mode finds inside it (互联网金融 → 互联网, 金融).
    parts: Vec<String>,
    grams: Vec<String>,
    /// The index holds it as a word: its bigrams would only add long
    /// posting lists to the candidate query (they still count in `cover`).
    known: bool,
    /// How many passages hold it as a word.
    df: u64,
    /// Characters of a two-character word that carry its sense alone
    /// ([`crate::lexicon::is_content_morpheme`]): 乞 of 乞丐, 類 of 分類.
    morphemes: Vec<char>,
}

fn idf(n: u64, df: u64) -> f32 {
    let (n, df) = (n as f32, df as f32);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// Where in a speaker's part of a transcript a question points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    First,
    Last,
}

/// Words that ask about position ("what did X say in closing"), folded.
const LAST_WORDS: &[&str] = &[
    "最后",
    "结语",
    "总结",
    "结尾",
    "收尾",
    "结束语",
    "闭幕",
    "closing",
    "finally",
];
const FIRST_WORDS: &[&str] = &["开场", "开头", "一开始", "开篇", "开场白", "opening"];

/// Checks the question and finds the speakers it is about.
struct Parsed {
    folded: String,
    speakers: Vec<usize>,
    /// The speakers were named in the question or by option.
    speaker_given: bool,
    /// The question asks what somebody asked (唐文問了什麼?).
    asks_for_question: bool,
    position: Option<Position>,
    rest: String,
    /// Issue 22: the transcripts searched (ids); empty: all.
    transcripts: Vec<String>,
}

/// Whether a folded question asks what was asked: 问 as a verb (问了,
/// 提问, 问什么), not in 问题.
fn asks_for_question(folded: &str) -> bool {
    let chars: Vec<char> = folded.chars().collect();
    let asks = chars
        .iter()
        .enumerate()
        .any(|(i, &c)| c == '问' && chars.get(i + 1) != Some(&'题'));
    asks || folded.contains("asked") || folded.contains("question")
}

fn parse_question(loaded: &Loaded, opts: &EngineOptions, q: &Question) -> Result<Parsed, AskError> {
    let text = q.text.trim();
    if !text.chars().any(|c| c.is_alphanumeric()) {
        return Err(AskError::Empty);
    }
    let got = text.chars().count();
    if got > opts.max_question_chars {
        return Err(AskError::TooLong {
            got,
            max: opts.max_question_chars,
        });
    }
    // Chat mentions (@everyone, @here, <@123>, <#9>) address people; they
    // are never what a question is about.
    let addressed: Vec<&str> = text
        .split_whitespace()
        .filter(|w| {
            !(w.starts_with('@')
                || (w.starts_with("<@") || w.starts_with("<#")) && w.ends_with('>'))
        })
        .collect();
    let folded = fold_str(&addressed.join(" "));
    let mentions = loaded.speakers.find_in(&folded);
    let mut speakers = mentions.speakers.clone();
    if let Some(name) = q
        .speaker
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        speakers = loaded.speakers.resolve(name);
        if speakers.is_empty() {
            return Err(UnknownSpeaker {
                name: name.to_owned(),
                known: loaded.speakers.names(),
                problem: NameProblem::Unknown { close: false },
            }
            .into());
        }
    }
    // The names are who, not what: take them out of the words to match,
    // last first so earlier spans keep their offsets; overlapping spans
    // (a name inside an alias) are taken out once.
    let mut spans = mentions.spans.clone();
    spans.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    let mut merged: Vec<std::ops::Range<usize>> = Vec::new();
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start < last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    let mut rest = folded.clone();
    for span in merged.iter().rev() {
        if rest.is_char_boundary(span.start)
            && rest.is_char_boundary(span.end)
            && span.end <= rest.len()
        {
            rest.replace_range(span.clone(), " ");
        }
    }
    // Issue 22: a transcript given or named narrows the search; the words
    // naming it are taken out like names (see crate::forums).
    let transcripts = loaded.forums.narrow(&q.transcripts, &mut rest)?;
    let asks = asks_for_question(&rest);
    let mut position = None;
    if !speakers.is_empty() {
        for (words, p) in [(LAST_WORDS, Position::Last), (FIRST_WORDS, Position::First)] {
            for w in words {
                if rest.contains(w) {
                    position = Some(p);
                    rest = rest.replace(w, " ");
                }
            }
        }
    }
    Ok(Parsed {
        speaker_given: !speakers.is_empty(),
        asks_for_question: asks,
        position,
        folded,
        speakers,
        rest,
        transcripts,
    })
}

fn query_terms(
    loaded: &Loaded,
    searcher: &Searcher,
    rest: &str,
) -> Result<Vec<QueryTerm>, AskError> {
    let f = &loaded.generation.fields;
    let analyzer = &loaded.generation.analyzer;
    let n = searcher.num_docs().max(1);
    let mut terms: Vec<QueryTerm> = Vec::new();
    let mut words: Vec<&str> = Vec::new();
    for word in analyzer.cut_folded(rest) {
        let chars = word.chars().count();
        let guessed = chars > 1
            && !analyzer.knows(word)
            && word.chars().all(text::is_cjk)
            && loaded.generation.word_doc_freq(searcher, word)? == 0;
        if !guessed {
            words.push(word);
            continue;
        }
        // A word jieba guessed in a short question, that neither its
        // dictionary nor the archive holds, is often an accident of the
        // cut: two words glued (钱存 in 把钱存起来, 会受 in 人才会受青睐), or
        // a function word stuck to a name (史崇是). A longer guess with no
        // such edge is most likely a name (安提诺乌斯) and stays whole.
        let trimmed = word.trim_matches(text::is_stop_char);
        if chars == 2 {
            words.extend(analyzer.cut_folded_dict(word));
        } else if trimmed.len() < word.len() && !trimmed.is_empty() {
            words.push(trimmed);
        } else {
            words.push(word);
        }
    }
    for word in words {
        if is_stop_word(word) || terms.iter().any(|t| t.text == word) {
            continue;
        }
        let df = loaded.generation.word_doc_freq(searcher, word)?;
        let known = df > 0;
        let grams: Vec<String> = text::bigrams(word).into_iter().map(|g| g.0).collect();
        let weight = if known {
            idf(n, df)
        } else {
            // Never indexed as a word: the rarest of its bigrams bounds how
            // many passages can hold it, and how rare it is in Chinese at
            // large says how much its absence means.
            let mut min = u64::MAX;
            for g in &grams {
                min = min.min(searcher.doc_freq(&Term::from_field_text(f.bigrams, g))?);
            }
            let df = if min == u64::MAX { 0 } else { min };
            idf(n, df) * crate::lexicon::unseen_share(analyzer, word)
        };
        let parts: Vec<String> = analyzer
            .search_folded(word)
            .into_iter()
            .filter(|p| *p != word && !is_stop_word(p))
            .map(str::to_owned)
            .collect();
        let morphemes = if word.chars().count() == 2 && word.chars().all(text::is_cjk) {
            word.chars()
                .filter(|&c| crate::lexicon::is_content_morpheme(analyzer, c))
                .collect()
        } else {
            Vec::new()
        };
        terms.push(QueryTerm {
            text: word.to_owned(),
            weight,
            parts,
            grams,
            known,
            df,
            morphemes,
        });
    }
    Ok(terms)
}

/// How much weaker a word found only in a passage's context (its turn's
/// opening, the paragraph before) counts than one in the passage itself.
const CONTEXT_CREDIT: f32 = 0.5;
/// How much a word found only in the prompt a passage answers counts.
const PROMPT_CREDIT: f32 = 0.6;
/// A prompt (a question, not an answer) keeps this share of its score
/// unless the question asks what was asked.
const PROMPT_PENALTY: f32 = 0.5;
/// Boost of the context field in the candidate query.
const CONTEXT_BOOST: f32 = 0.4;

fn candidate_query(
    loaded: &Loaded,
    terms: &[QueryTerm],
    filter: Option<Box<dyn Query>>,
    context_df_max: u64,
) -> Box<dyn Query> {
    let f = &loaded.generation.fields;
    let term_q = |field, s: &str, boost: f32| -> (Occur, Box<dyn Query>) {
        let q = TermQuery::new(
            Term::from_field_text(field, s),
            IndexRecordOption::WithFreqs,
        );
        (Occur::Should, Box::new(BoostQuery::new(Box::new(q), boost)))
    };
    let mut should = Vec::new();
    for t in terms {
        should.push(term_q(f.text, &t.text, 1.0));
        // Context brings in the paragraphs after a rare topic's mention
        // (劍橋分析, then three paragraphs about it). A word more passages
        // hold than are fetched gains nothing from it, and its long posting
        // list in the context field would cost more than the text's own.
        if t.df <= context_df_max {
            should.push(term_q(f.context, &t.text, CONTEXT_BOOST));
        }
        for p in &t.parts {
            should.push(term_q(f.text, p, 0.5));
        }
        if !t.known {
            for g in &t.grams {
                should.push(term_q(f.bigrams, g, 0.3));
            }
        }
    }
    let words: Box<dyn Query> = Box::new(BooleanQuery::new(should));
    match filter {
        None => words,
        Some(filter) => Box::new(BooleanQuery::new(vec![
            (Occur::Must, words),
            (Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0))),
        ])),
    }
}

/// Issue 22: passages of any of the transcripts `ids`.
fn transcript_filter(loaded: &Loaded, ids: &[String]) -> BooleanQuery {
    let field = loaded.generation.fields.transcript;
    BooleanQuery::new(
        ids.iter()
            .map(|id| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_field_text(field, id),
                    IndexRecordOption::Basic,
                ));
                (Occur::Should, q)
            })
            .collect(),
    )
}

/// Issue 22: what a search is restricted to: the speakers' passages
/// ([`speaker_filter`]) within the transcripts ([`transcript_filter`]);
/// either list may be empty (no restriction by it).
fn restriction(
    loaded: &Loaded,
    speakers: &[String],
    transcripts: &[String],
) -> Option<Box<dyn Query>> {
    let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if !speakers.is_empty() {
        must.push((Occur::Must, Box::new(speaker_filter(loaded, speakers))));
    }
    if !transcripts.is_empty() {
        must.push((
            Occur::Must,
            Box::new(transcript_filter(loaded, transcripts)),
        ));
    }
    match must.len() {
        0 => None,
        1 => must.pop().map(|(_, q)| q),
        _ => Some(Box::new(BooleanQuery::new(must))),
    }
}

/// Passages of any of `speakers`.
fn speaker_filter(loaded: &Loaded, speakers: &[String]) -> BooleanQuery {
    let field = loaded.generation.fields.speaker;
    BooleanQuery::new(
        speakers
            .iter()
            .map(|s| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_field_text(field, s),
                    IndexRecordOption::Basic,
                ));
                (Occur::Should, q)
            })
            .collect(),
    )
}

/// How much of `term` the folded passage holds: its [`word_cover`], or, for
/// a word it misses, the trace its meaningful characters leave.
fn cover(term: &QueryTerm, folded: &str) -> f32 {
    word_cover(term, folded).max(morpheme_cover(term, folded))
}

/// How much of the word itself the folded passage holds: 1 when it holds
/// the word; else partial credit, the better of (a) the share of the word's
/// characters covered by its jieba parts that the passage holds (年轻人 →
/// 年轻), and (b) half the share of its bigrams it holds. A near miss
/// counts, a little.
fn word_cover(term: &QueryTerm, folded: &str) -> f32 {
    if folded.is_empty() {
        return 0.0;
    }
    if folded.contains(term.text.as_str()) {
        return 1.0;
    }
    let chars = term.text.chars().count();
    let mut by_parts = 0.0;
    if chars > 1 && !term.parts.is_empty() {
        let mut covered = vec![false; chars];
        for part in term.parts.iter().filter(|p| folded.contains(p.as_str())) {
            // Mark every place the part stands in the word.
            for (at, _) in term.text.match_indices(part.as_str()) {
                let start = term.text[..at].chars().count();
                for c in covered.iter_mut().skip(start).take(part.chars().count()) {
                    *c = true;
                }
            }
        }
        by_parts = 0.8 * covered.iter().filter(|&&c| c).count() as f32 / chars as f32;
    }
    let mut by_grams = 0.0;
    if term.grams.len() >= 2 {
        let held = term
            .grams
            .iter()
            .filter(|g| folded.contains(g.as_str()))
            .count();
        by_grams = 0.5 * held as f32 / term.grams.len() as f32;
    }
    by_parts.max(by_grams)
}

/// A word missed whose meaningful character stands in the passage (乞丐
/// and 乞討者, 分類 and 類別): a paraphrase's trace, worth little. It adds
/// to coverage but never makes a quote hold the question by itself.
fn morpheme_cover(term: &QueryTerm, folded: &str) -> f32 {
    if term.morphemes.is_empty() {
        return 0.0;
    }
    let held = term
        .morphemes
        .iter()
        .filter(|&&c| folded.contains(c))
        .count();
    MORPHEME_CREDIT * held as f32 / term.text.chars().count().max(1) as f32
}

/// Credit of a two-character word both of whose characters carry sense and
/// stand in the passage, though the word does not.
const MORPHEME_CREDIT: f32 = 0.2;

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
    /// tantivy's BM25 top candidates.
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

/// A passage ready to be quoted: what it says, how well it answers.
struct Scored {
    score: f32,
    /// The quoted text (a lead-in and its substance together).
    text: String,
    /// Paragraph the quote starts at.
    paragraph: u64,
    passage: index::StoredPassage,
}

impl Scored {
    fn key(&self) -> (&str, u64, u64) {
        (
            self.passage.transcript.as_str(),
            self.passage.turn,
            self.paragraph,
        )
    }

    /// The hit as shown, with the question's words highlighted (only the
    /// hits shown are highlighted: a long list of candidates is not).
    fn into_hit(self, public_url: &str, terms: &[QueryTerm]) -> Hit {
        let highlights = if terms.is_empty() {
            Vec::new()
        } else {
            highlights(&self.text, &fold(&self.text), terms)
        };
        let p = self.passage;
        Hit {
            link: link(
                public_url,
                &p.transcript,
                p.turn,
                self.paragraph,
                &self.text,
            ),
            transcript: p.transcript,
            turn: p.turn,
            paragraph: self.paragraph,
            speaker: p.speaker,
            role: p.role,
            text: self.text,
            highlights,
            score: (self.score * 1000.0).round() / 1000.0,
            prompt: p.prompt,
        }
    }
}

/// Quotes longer than this (in characters) are not joined with their lead-in.
const MAX_JOINED_CHARS: usize = 900;

/// The text to quote for a passage: a lead-in with the paragraph after it,
/// else the passage alone; and the paragraph the quote starts at.
fn quote_of(p: &index::StoredPassage) -> (String, u64) {
    if let Some(partner) = &p.partner {
        let joined = p.text.chars().count() + partner.chars().count() + 1;
        if joined <= MAX_JOINED_CHARS {
            if p.is(flags::LEAD_IN) {
                return (format!("{}\n{partner}", p.text), p.paragraph);
            }
            if p.is(flags::AFTER_LEAD_IN) {
                return (
                    format!("{partner}\n{}", p.text),
                    p.paragraph.saturating_sub(1).max(1),
                );
            }
        }
    }
    (p.text.clone(), p.paragraph)
}

fn ask_with(
    loaded: &Loaded,
    opts: &EngineOptions,
    q: &Question,
    clock: &mut Clock,
) -> Result<Answer, AskError> {
    let parsed = parse_question(loaded, opts, q)?;
    let speaker_names: Vec<String> = parsed
        .speakers
        .iter()
        .map(|&i| loaded.speakers.entries[i].name.clone())
        .collect();
    let limit = q.limit.clamp(1, opts.max_limit.max(1));
    clock.lap(|s| &mut s.parse);
    let searcher = loaded.generation.reader.searcher();
    let mut terms = query_terms(loaded, &searcher, &parsed.rest)?;
    if parsed.asks_for_question {
        // "What question did X ask about Y": 问题 frames the asking.
        terms.retain(|t| !matches!(t.text.as_str(), "问题" | "提问" | "question" | "questions"));
    }
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

    let ranked: Ranked = if terms.is_empty() {
        if !parsed.speaker_given {
            return Ok(answer);
        }
        let ranked = speaker_passages(loaded, &searcher, &speaker_names, &parsed)?;
        clock.lap(|s| &mut s.fetch);
        ranked
    } else {
        rank(
            loaded,
            opts,
            &searcher,
            &terms,
            &parsed,
            &speaker_names,
            clock,
        )?
    };
    let (mut hits, weak) = ranked;
    if speaker_names.len() > 1 {
        hits = interleave_speakers(hits, &speaker_names);
    }
    answer.total = hits.len();
    answer.hits = hits
        .into_iter()
        .skip(q.offset)
        .take(limit)
        .map(|s| s.into_hit(&opts.public_url, &terms))
        .collect();
    if answer.total == 0 && q.offset == 0 {
        answer.weak = weak
            .into_iter()
            .take(limit.min(WEAK_HITS))
            .map(|s| s.into_hit(&opts.public_url, &terms))
            .collect();
    }
    Ok(answer)
}

/// At most this many weak matches are offered when nothing answers.
const WEAK_HITS: usize = 3;
/// A weak match covers at least this share of the question.
const WEAK_COVERAGE: f32 = 0.3;

/// Answers, and the nearest passages that are not answers.
type Ranked = (Vec<Scored>, Vec<Scored>);

/// Several speakers named: each one's best hits in turn, so every speaker
/// is heard near the top, each in score order.
fn interleave_speakers(hits: Vec<Scored>, speakers: &[String]) -> Vec<Scored> {
    let mut queues: Vec<std::collections::VecDeque<Scored>> =
        speakers.iter().map(|_| Default::default()).collect();
    let mut others = Vec::new();
    for h in hits {
        match speakers
            .iter()
            .position(|s| h.passage.speaker.as_deref() == Some(s.as_str()))
        {
            Some(i) => queues[i].push_back(h),
            None => others.push(h),
        }
    }
    let mut out = Vec::new();
    loop {
        let mut round: Vec<Scored> = queues.iter_mut().filter_map(|q| q.pop_front()).collect();
        if round.is_empty() {
            break;
        }
        round.sort_by(|a, b| b.score.total_cmp(&a.score));
        out.extend(round);
    }
    out.extend(others);
    out
}

/// Ties are broken by place in the archive, so the order never depends on
/// how the index happens to be laid out.
fn by_score(a: &Scored, b: &Scored) -> std::cmp::Ordering {
    b.score
        .total_cmp(&a.score)
        .then_with(|| a.passage.transcript.cmp(&b.passage.transcript))
        .then(a.passage.seq.cmp(&b.passage.seq))
}

fn rank(
    loaded: &Loaded,
    opts: &EngineOptions,
    searcher: &Searcher,
    terms: &[QueryTerm],
    parsed: &Parsed,
    speakers: &[String],
    clock: &mut Clock,
) -> Result<Ranked, AskError> {
    // Issue 22: the speakers within the transcripts (was: the speakers).
    let filter = restriction(loaded, speakers, &parsed.transcripts);
    let fetched = opts.candidates.max(opts.max_limit * 2);
    let query = candidate_query(loaded, terms, filter, fetched as u64);
    let top: Vec<(f32, DocAddress)> =
        searcher.search(&query, &TopDocs::with_limit(fetched).order_by_score())?;
    clock.lap(|s| &mut s.search);
    clock.stages.candidates = top.len();
    let Some(max_bm25) = top.first().map(|t| t.0).filter(|s| *s > 0.0) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let pairs = question_pairs(&parsed.rest);
    let total_weight: f32 = terms
        .iter()
        .map(|t| t.weight)
        .sum::<f32>()
        .max(f32::EPSILON);
    let mut answers: Vec<Scored> = Vec::new();
    let mut weak: Vec<Scored> = Vec::new();
    for (bm25, addr) in top {
        clock.lap(|s| &mut s.rerank);
        let doc: TantivyDocument = searcher.doc(addr)?;
        let p = loaded.generation.stored(&doc);
        clock.lap(|s| &mut s.fetch);
        let (quote, paragraph) = quote_of(&p);
        let folded = fold(&quote);
        let (context, prompt) = (&p.context, &p.prompt_folded);
        let mut own = 0.0;
        let mut holds = 0.0;
        let mut covered = 0.0;
        let framed: Vec<f32> = terms
            .iter()
            .map(|t| (CONTEXT_CREDIT * cover(t, context)).max(PROMPT_CREDIT * cover(t, prompt)))
            .collect();
        for (t, framed) in terms.iter().zip(&framed) {
            let c_word = word_cover(t, &folded.text);
            let c_own = c_word.max(morpheme_cover(t, &folded.text));
            holds += t.weight * c_word;
            own += t.weight * c_own;
            covered += t.weight * c_own.max(*framed);
        }
        // The quote itself must hold some of the question's words: a trace
        // of one, with the rest in its context, is not an answer.
        if holds <= 0.0 {
            continue;
        }
        // The window never covers more than the passage: a passage too weak
        // to be even a weak match needs no window (nor pairs).
        let passage_coverage = covered / total_weight;
        if passage_coverage < WEAK_COVERAGE {
            continue;
        }
        // The words of an answer stand together: the best window of a few
        // sentences must cover the question too, not words scattered over
        // a long passage.
        let mut best_window = 0.0f32;
        let windows = windows(&folded.text, WINDOW_SENTENCES);
        let whole = windows.len() == 1;
        if whole {
            best_window = covered;
        }
        for window in windows.into_iter().filter(|_| !whole) {
            let c: f32 = terms
                .iter()
                .zip(&framed)
                .map(|(t, framed)| t.weight * cover(t, window).max(*framed))
                .sum();
            best_window = best_window.max(c);
        }
        // Phrase-level evidence: the share of the question's character
        // pairs (across word boundaries too: 共产国家 → 产国) that the quote,
        // its context or its prompt holds.
        let held = |g: &String| {
            folded.text.contains(g.as_str())
                || context.contains(g.as_str())
                || prompt.contains(g.as_str())
        };
        let overlap = pair_overlap(&pairs, held);
        let mut coverage =
            WINDOW_WEIGHT * best_window / total_weight + (1.0 - WINDOW_WEIGHT) * passage_coverage;
        // Words of the question scattered over a passage about something
        // else: never an answer, at most a weak match.
        if overlap < MIN_PAIR_OVERLAP {
            coverage = coverage.min(WEAK_COVERAGE);
        }
        let mut score = coverage + 0.35 * bm25 / max_bm25;
        // A question is context for its answers, not an answer, unless
        // what was asked is the question: it ranks below them.
        if p.is(flags::PROMPT) && !parsed.asks_for_question {
            coverage *= PROMPT_PENALTY;
            score *= PROMPT_PENALTY;
        }
        if let Some(pos) = parsed.position {
            let wanted = match pos {
                Position::First => flags::FIRST_TURN,
                Position::Last => flags::LAST_TURN,
            };
            if p.is(wanted) {
                score += 0.5;
            }
        }
        tracing::trace!(
            coverage,
            own = own / total_weight,
            bm25,
            turn = p.turn,
            paragraph = p.paragraph,
            text = %quote.chars().take(30).collect::<String>(),
            "candidate"
        );
        let scored = Scored {
            score,
            text: quote,
            paragraph,
            passage: p,
        };
        if coverage >= opts.min_coverage {
            answers.push(scored);
        } else if coverage >= WEAK_COVERAGE {
            weak.push(scored);
        }
    }
    for list in [&mut answers, &mut weak] {
        list.sort_by(by_score);
        // A lead-in and its substance make one quote: keep it once.
        let mut seen = std::collections::HashSet::new();
        list.retain(|s| seen.insert((s.key().0.to_owned(), s.key().1, s.key().2)));
    }
    clock.lap(|s| &mut s.rerank);
    Ok((answers, weak))
}

/// Least share of the question's character pairs an answer must hold.
const MIN_PAIR_OVERLAP: f32 = 0.35;
/// Fewest pairs that say anything about phrasing: with one (蓍的别名是什么?
/// has only 别名), whether a passage holds it is chance, not evidence that
/// the question's words stand scattered.
const MIN_PAIRS: usize = 2;

/// Share of the question's pairs a passage holds; 1 when there are too few
/// to judge.
fn pair_overlap(pairs: &[String], held: impl Fn(&String) -> bool) -> f32 {
    if pairs.len() < MIN_PAIRS {
        return 1.0;
    }
    pairs.iter().filter(|g| held(g)).count() as f32 / pairs.len() as f32
}

/// Pairs of adjacent Han characters of the folded question (names already
/// taken out), without those holding a question or function word.
fn question_pairs(rest: &str) -> Vec<String> {
    let mut pairs: Vec<String> = text::bigrams(rest)
        .into_iter()
        .map(|g| g.0)
        .filter(|g| g.chars().count() == 2 && g.chars().all(text::is_cjk))
        .filter(|g| !g.chars().any(text::is_stop_char) && !is_stop_word(g))
        .collect();
    pairs.sort();
    pairs.dedup();
    pairs
}

/// Sentences in the window whose coverage counts beside the passage's.
const WINDOW_SENTENCES: usize = 3;
/// Weight of the best window's coverage against the whole passage's.
const WINDOW_WEIGHT: f32 = 0.5;

/// Runs of `n` consecutive sentences of folded text (the whole text when it
/// has `n` sentences or fewer).
fn windows(folded: &str, n: usize) -> Vec<&str> {
    let mut ends = vec![0];
    ends.extend(crate::transcript::sentence_ends(folded));
    ends.dedup();
    if ends.len() <= n + 1 {
        return vec![folded];
    }
    (0..ends.len() - n)
        .map(|i| &folded[ends[i]..ends[i + n]])
        .collect()
}

/// A speaker's passages when the question names nobody's topic: the turn a
/// position points at, in the order it was said; the questions they asked,
/// in the order asked, when that is what is asked (唐文問了什麼?); else the
/// fullest passages first.
fn speaker_passages(
    loaded: &Loaded,
    searcher: &Searcher,
    speakers: &[String],
    parsed: &Parsed,
) -> Result<Ranked, AskError> {
    // Issue 22: within the transcripts (was: speaker_filter alone).
    let filter = restriction(loaded, speakers, &parsed.transcripts)
        .unwrap_or_else(|| Box::new(speaker_filter(loaded, speakers)));
    let addrs = searcher.search(&filter, &tantivy::collector::DocSetCollector)?;
    let wanted = parsed.position.map(|p| match p {
        Position::First => flags::FIRST_TURN,
        Position::Last => flags::LAST_TURN,
    });
    let mut out: Vec<Scored> = Vec::new();
    for addr in addrs {
        let doc: TantivyDocument = searcher.doc(addr)?;
        let p = loaded.generation.stored(&doc);
        let len = p.text.chars().count() as f32;
        let score = match wanted {
            // In the turn asked about, in the order it was said.
            Some(flag) if p.is(flag) => 2.0 - p.paragraph as f32 / 1000.0,
            Some(_) => continue,
            // Every question asked ties, so they come in the order asked.
            None if parsed.asks_for_question && p.is(flags::PROMPT) => 2.0,
            None => len / (len + 100.0),
        };
        out.push(Scored {
            score,
            text: p.text.clone(),
            paragraph: p.paragraph,
            passage: p,
        });
    }
    out.sort_by(by_score);
    Ok((out, Vec::new()))
}

/// Character spans of `original` where the question's words occur, in one
/// pass over the text for the offsets (a long passage costs linear time).
fn highlights(original: &str, folded: &text::Folded, terms: &[QueryTerm]) -> Vec<[usize; 2]> {
    let folded_starts: Vec<usize> = folded.text.char_indices().map(|(i, _)| i).collect();
    let folded_char = |byte: usize| folded_starts.partition_point(|&s| s < byte);
    let original_starts: Vec<usize> = original.char_indices().map(|(i, _)| i).collect();
    let original_char = |byte: usize| original_starts.partition_point(|&s| s < byte);
    let mut spans: Vec<[usize; 2]> = Vec::new();
    for t in terms {
        if t.text.is_empty() {
            continue;
        }
        for (at, m) in folded.text.match_indices(t.text.as_str()) {
            if let Some(r) = folded.original_range(folded_char(at), folded_char(at + m.len())) {
                spans.push([original_char(r.start), original_char(r.end)]);
            }
        }
    }
    spans.sort();
    let mut merged: Vec<[usize; 2]> = Vec::new();
    for s in spans {
        match merged.last_mut() {
            Some(last) if s[0] <= last[1] => last[1] = last[1].max(s[1]),
            _ => merged.push(s),
        }
    }
    merged
}

#[cfg(test)]
mod tests {

    /// An engine over one hand-made transcript with a moderator.
    fn engine_with(text: &str, sidecar: &str) -> (tempfile::TempDir, Engine) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("transcripts");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("panel.txt"), text).unwrap();
        std::fs::write(dir.join("panel.toml"), sidecar).unwrap();
        let opened = Engine::open(EngineOptions::new(tmp.path()), &|_| {}).unwrap();
        (tmp, opened.engine)
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

    #[test]
    fn highlights_of_a_long_passage_take_linear_time_and_stay_exact() {
        let text = "金融".repeat(20_000);
        let folded = fold(&text);
        let t = QueryTerm {
            text: "金融".into(),
            weight: 1.0,
            parts: Vec::new(),
            grams: Vec::new(),
            known: true,
            df: 1,
            morphemes: Vec::new(),
        };
        let h = highlights(&text, &folded, &[t]);
        assert_eq!(h, [[0, 40_000]]);
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
