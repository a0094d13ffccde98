//! Questions in, quoted passages out.
//!
//! [`Engine`] owns the current index generation and answers [`Question`]s:
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

use crate::index::{self, BuildReport, DataDir, Freshness, Generation, IndexError, Progress};
use crate::speakers::SpeakerDirectory;
use crate::text::{self, fold, fold_str, is_stop_word};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};

/// How the engine is set up (from settings).
#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub data_dir: PathBuf,
    /// Base of the links in answers (`{public_url}/t/{id}#turn-N`).
    pub public_url: String,
    pub index_threads: usize,
    pub max_question_chars: usize,
    pub max_limit: usize,
    /// Share of a question's weight a passage must cover to be an answer.
    pub min_coverage: f32,
    /// BM25 candidates considered before re-ranking.
    pub candidates: usize,
}

impl EngineOptions {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        EngineOptions {
            data_dir: data_dir.into(),
            public_url: "http://127.0.0.1:8080".into(),
            index_threads: 2,
            max_question_chars: 300,
            max_limit: 10,
            min_coverage: 0.5,
            candidates: 64,
        }
    }
}

/// A question as asked.
#[derive(Debug, Clone, Default)]
pub struct Question {
    pub text: String,
    /// Restrict to this speaker (name, alias or pinyin), as `--speaker` does.
    pub speaker: Option<String>,
    pub limit: usize,
    /// Hits to skip (paging).
    pub offset: usize,
}

impl Question {
    pub fn new(text: impl Into<String>) -> Self {
        Question {
            text: text.into(),
            speaker: None,
            limit: 3,
            offset: 0,
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
    /// The passage, verbatim.
    pub text: String,
    /// Matched spans as `[start, end)` character offsets into `text`.
    pub highlights: Vec<[usize; 2]>,
    pub score: f32,
    pub link: String,
}

/// The answer to a question: hits may be empty ("not covered").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub query: String,
    /// The speaker the question was restricted to (canonical name).
    pub speaker: Option<String>,
    pub hits: Vec<Hit>,
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
    #[error("unknown speaker {name:?}; known speakers: {}", .known.join(", "))]
    UnknownSpeaker { name: String, known: Vec<String> },
    #[error("search failed: {0}")]
    Index(#[from] tantivy::TantivyError),
}

impl AskError {
    /// Whether the person asking caused it (as opposed to a fault of ours).
    pub fn is_user_error(&self) -> bool {
        !matches!(self, AskError::Index(_))
    }
}

/// The served generation and what is derived from it.
pub struct Loaded {
    pub generation: Generation,
    pub speakers: SpeakerDirectory,
}

impl Loaded {
    fn new(generation: Generation) -> Self {
        let speakers = SpeakerDirectory::new(&generation.catalog);
        Loaded {
            generation,
            speakers,
        }
    }
}

/// What opening the engine did, for people.
#[derive(Debug)]
pub struct Opened {
    pub engine: Engine,
    /// Set when the index was (re)built on the way.
    pub built: Option<BuildReport>,
    /// Set when the transcripts changed but a rebuild was refused, so the
    /// previous index is being served.
    pub refused: Option<IndexError>,
}

/// The search engine: current index generation, shared by every caller.
pub struct Engine {
    opts: EngineOptions,
    data: DataDir,
    loaded: RwLock<Arc<Loaded>>,
    /// One rebuild at a time within this process.
    building: Mutex<()>,
    last_check: Mutex<Instant>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("data", &self.data.root)
            .finish()
    }
}

/// How often a serving engine looks whether another process swapped in a
/// new generation.
const REFRESH_INTERVAL: Duration = Duration::from_secs(2);

impl Engine {
    /// Opens the index of the data directory, building it first when it is
    /// missing or older than the transcripts or the analyser.
    pub fn open(opts: EngineOptions, progress: &dyn Fn(Progress)) -> Result<Opened, IndexError> {
        let data = DataDir::new(&opts.data_dir);
        let mut built = None;
        let mut refused = None;
        let mut generation = None;
        match index::freshness(&data)? {
            Freshness::Fresh => {}
            Freshness::Missing => {
                let (report, g) = index::build_and_open(&data, opts.index_threads, progress)?;
                built = Some(report);
                generation = Some(g);
            }
            Freshness::Stale(why) => {
                tracing::info!(reason = why, "index is out of date; rebuilding");
                match index::build_and_open(&data, opts.index_threads, progress) {
                    Ok((report, g)) => {
                        built = Some(report);
                        generation = Some(g);
                    }
                    Err(e @ IndexError::Refused(_)) => {
                        tracing::debug!(error = %e, "rebuild refused; serving the previous index");
                        refused = Some(e);
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        let generation = match generation {
            Some(g) => g,
            None => index::open(&data)?.ok_or_else(|| IndexError::Corrupt {
                path: data.index(),
                message: "no current generation".into(),
            })?,
        };
        Ok(Opened {
            engine: Engine {
                opts,
                data,
                loaded: RwLock::new(Arc::new(Loaded::new(generation))),
                building: Mutex::new(()),
                last_check: Mutex::new(Instant::now()),
            },
            built,
            refused,
        })
    }

    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    pub fn data_dir(&self) -> &DataDir {
        &self.data
    }

    /// The generation being served now. Holders keep it alive across a swap.
    pub fn snapshot(&self) -> Arc<Loaded> {
        self.maybe_refresh();
        self.loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Picks up a generation another process made current.
    fn maybe_refresh(&self) {
        {
            let mut last = self.last_check.lock().unwrap_or_else(|e| e.into_inner());
            if last.elapsed() < REFRESH_INTERVAL {
                return;
            }
            *last = Instant::now();
        }
        let served = self
            .loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .generation
            .name
            .clone();
        if let Some((name, _)) = index::current_generation(&self.data) {
            if name != served {
                match index::open(&self.data) {
                    Ok(Some(g)) => {
                        tracing::info!(generation = %g.name, "serving a generation built elsewhere");
                        self.swap(g);
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "could not open the new generation; keeping the old")
                    }
                }
            }
        }
    }

    fn swap(&self, g: Generation) {
        let loaded = Arc::new(Loaded::new(g));
        *self.loaded.write().unwrap_or_else(|e| e.into_inner()) = loaded;
    }

    /// Rebuilds from the transcripts directory and swaps the new index in.
    /// Questions keep being answered from the old one until then.
    pub fn reindex(&self, progress: &dyn Fn(Progress)) -> Result<BuildReport, IndexError> {
        let _one = self.build_guard();
        self.reindex_locked(progress)
    }

    /// Serialises rebuilds and other writers of the transcripts directory.
    pub(crate) fn build_guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.building.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Rebuild with the guard already held (see [`Engine::build_guard`]).
    pub(crate) fn reindex_locked(
        &self,
        progress: &dyn Fn(Progress),
    ) -> Result<BuildReport, IndexError> {
        let (report, generation) =
            index::build_and_open(&self.data, self.opts.index_threads, progress)?;
        self.swap(generation);
        Ok(report)
    }

    /// Answers a question.
    pub fn ask(&self, q: &Question) -> Result<Answer, AskError> {
        let loaded = self.snapshot();
        ask_in(&loaded, &self.opts, q)
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
}

fn idf(n: u64, df: u64) -> f32 {
    let (n, df) = (n as f32, df as f32);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// Checks the question and finds the speakers it is about.
struct Parsed {
    folded: String,
    speakers: Vec<usize>,
    /// The speakers were named in the question or by option.
    speaker_given: bool,
    rest: String,
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
    let folded = fold_str(text);
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
            return Err(AskError::UnknownSpeaker {
                name: name.to_owned(),
                known: loaded.speakers.names(),
            });
        }
    }
    // The names are who, not what: take them out of the words to match.
    let mut rest = folded.clone();
    for span in mentions.spans.iter().rev() {
        rest.replace_range(span.clone(), " ");
    }
    Ok(Parsed {
        speaker_given: !speakers.is_empty(),
        folded,
        speakers,
        rest,
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
    for word in analyzer.cut_folded(rest) {
        if is_stop_word(word) || terms.iter().any(|t| t.text == word) {
            continue;
        }
        let df = searcher.doc_freq(&Term::from_field_text(f.text, word))?;
        let known = df > 0;
        let grams: Vec<String> = text::bigrams(word).into_iter().map(|g| g.0).collect();
        let df = if df > 0 {
            df
        } else {
            // Never indexed as a word: the rarest of its bigrams bounds how
            // many passages can hold it.
            let mut min = u64::MAX;
            for g in &grams {
                min = min.min(searcher.doc_freq(&Term::from_field_text(f.bigrams, g))?);
            }
            if min == u64::MAX {
                0
            } else {
                min
            }
        };
        let parts: Vec<String> = analyzer
            .search_folded(word)
            .into_iter()
            .filter(|p| *p != word && !is_stop_word(p))
            .map(str::to_owned)
            .collect();
        terms.push(QueryTerm {
            text: word.to_owned(),
            weight: idf(n, df),
            parts,
            grams,
            known,
        });
    }
    Ok(terms)
}

fn candidate_query(loaded: &Loaded, terms: &[QueryTerm], speakers: &[String]) -> Box<dyn Query> {
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
    if speakers.is_empty() {
        return words;
    }
    Box::new(BooleanQuery::new(vec![
        (Occur::Must, words),
        (
            Occur::Must,
            Box::new(ConstScoreQuery::new(
                Box::new(speaker_filter(loaded, speakers)),
                0.0,
            )),
        ),
    ]))
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

/// How much of `term` the folded passage holds: 1 when it holds the word;
/// else partial credit, the better of (a) the share of the word's characters
/// covered by its jieba parts that the passage holds (年轻人 → 年轻), and (b)
/// half the share of its bigrams it holds. A near miss counts, a little.
fn cover(term: &QueryTerm, folded: &str) -> f32 {
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
    f32::max(by_parts, by_grams)
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
    let terms = query_terms(loaded, &searcher, &parsed.rest)?;
    clock.lap(|s| &mut s.terms);
    let mut answer = Answer {
        query: q.text.trim().to_owned(),
        speaker: speaker_names.first().cloned(),
        hits: Vec::new(),
        total: 0,
        terms: terms.iter().map(|t| t.text.clone()).collect(),
    };
    tracing::debug!(folded = %parsed.folded, terms = ?answer.terms, speakers = ?speaker_names, "question");

    let ranked: Vec<(f32, Vec<[usize; 2]>, index::StoredPassage)> = if terms.is_empty() {
        if !parsed.speaker_given {
            return Ok(answer);
        }
        let ranked = speaker_passages(loaded, &searcher, &speaker_names)?;
        clock.lap(|s| &mut s.fetch);
        ranked
    } else {
        rank(
            loaded,
            opts,
            &searcher,
            &terms,
            &speaker_names,
            q.offset + limit,
            clock,
        )?
    };
    answer.total = ranked.len();
    answer.hits = ranked
        .into_iter()
        .skip(q.offset)
        .take(limit)
        .map(|(score, highlights, p)| Hit {
            link: link(
                &opts.public_url,
                &p.transcript,
                p.turn,
                p.paragraph,
                &p.text,
            ),
            transcript: p.transcript,
            turn: p.turn,
            paragraph: p.paragraph,
            speaker: p.speaker,
            role: p.role,
            text: p.text,
            highlights,
            score: (score * 1000.0).round() / 1000.0,
        })
        .collect();
    Ok(answer)
}

type Ranked = Vec<(f32, Vec<[usize; 2]>, index::StoredPassage)>;

fn rank(
    loaded: &Loaded,
    opts: &EngineOptions,
    searcher: &Searcher,
    terms: &[QueryTerm],
    speakers: &[String],
    wanted: usize,
    clock: &mut Clock,
) -> Result<Ranked, AskError> {
    let query = candidate_query(loaded, terms, speakers);
    let top: Vec<(f32, DocAddress)> = searcher.search(
        &query,
        &TopDocs::with_limit(opts.candidates.max(wanted * 2)).order_by_score(),
    )?;
    clock.lap(|s| &mut s.search);
    clock.stages.candidates = top.len();
    let Some(max_bm25) = top.first().map(|t| t.0).filter(|s| *s > 0.0) else {
        return Ok(Vec::new());
    };
    let total_weight: f32 = terms.iter().map(|t| t.weight).sum();
    // A named speaker is evidence, worth an average word of the question.
    let speaker_weight = if !speakers.is_empty() {
        total_weight / terms.len() as f32
    } else {
        0.0
    };
    let mut out = Vec::new();
    for (bm25, addr) in top {
        clock.lap(|s| &mut s.rerank);
        let doc: TantivyDocument = searcher.doc(addr)?;
        let p = loaded.generation.stored(&doc);
        clock.lap(|s| &mut s.fetch);
        let folded = fold(&p.text);
        let covered: f32 = terms
            .iter()
            .map(|t| t.weight * cover(t, &folded.text))
            .sum();
        let coverage = (covered + speaker_weight) / (total_weight + speaker_weight);
        if coverage < opts.min_coverage || covered <= 0.0 {
            continue;
        }
        let score = coverage + 0.35 * bm25 / max_bm25;
        let highlights = highlights(&p.text, &folded, terms);
        out.push((score, highlights, p));
    }
    out.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.2.seq.cmp(&b.2.seq)));
    clock.lap(|s| &mut s.rerank);
    Ok(out)
}

/// A question naming only a speaker: their most substantial passages.
fn speaker_passages(
    loaded: &Loaded,
    searcher: &Searcher,
    speakers: &[String],
) -> Result<Ranked, AskError> {
    let addrs = searcher.search(
        &speaker_filter(loaded, speakers),
        &tantivy::collector::DocSetCollector,
    )?;
    let mut out: Ranked = Vec::new();
    for addr in addrs {
        let doc: TantivyDocument = searcher.doc(addr)?;
        let p = loaded.generation.stored(&doc);
        let len = p.text.chars().count() as f32;
        out.push((len / (len + 100.0), Vec::new(), p));
    }
    out.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.2.transcript.cmp(&b.2.transcript))
            .then(a.2.seq.cmp(&b.2.seq))
    });
    Ok(out)
}

/// Character spans of `original` where the question's words occur.
fn highlights(original: &str, folded: &text::Folded, terms: &[QueryTerm]) -> Vec<[usize; 2]> {
    let char_starts: Vec<usize> = folded.text.char_indices().map(|(i, _)| i).collect();
    let char_of = |byte: usize| char_starts.partition_point(|&s| s < byte);
    let mut spans: Vec<[usize; 2]> = Vec::new();
    for t in terms {
        if t.text.is_empty() {
            continue;
        }
        for (at, m) in folded.text.match_indices(t.text.as_str()) {
            if let Some(r) = folded.original_range(char_of(at), char_of(at + m.len())) {
                let start = original[..r.start].chars().count();
                let end = start + original[r.clone()].chars().count();
                spans.push([start, end]);
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

/// A text fragment's start or end is a few whole clauses of at least this
/// many characters…
const FRAGMENT_MIN: usize = 8;
/// …and at most this many; a longer single clause is cut to
/// [`FRAGMENT_CHARS`].
const FRAGMENT_MAX: usize = 48;
/// Longest piece of a clause put in a link's text fragment, in characters.
const FRAGMENT_CHARS: usize = 24;

/// Punctuation that ends a clause: browsers match a text fragment only on
/// word boundaries, and a clause boundary is one in any script.
fn is_clause_end(c: char) -> bool {
    matches!(
        c,
        '。' | '\u{ff01}'
            | '\u{ff1f}'
            | '\u{ff1b}'
            | '\u{ff0c}'
            | '\u{ff1a}'
            | '、'
            | '!'
            | '?'
            | ';'
            | ','
            | ':'
            | '…'
            | '\n'
    )
}

/// The clauses of a text, each with its closing punctuation, trimmed.
fn clauses(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev_end = false;
    for (i, c) in text.char_indices() {
        let end = is_clause_end(c);
        if prev_end && !end {
            out.push(text[start..i].trim());
            start = i;
        }
        prev_end = end;
    }
    out.push(text[start..].trim());
    out.retain(|c| !c.is_empty());
    out
}

/// A fragment piece: the clauses joined as in the text, closing
/// punctuation off, at most [`FRAGMENT_MAX`] characters (else the first
/// [`FRAGMENT_CHARS`], or with `from_end` the last ones).
fn fragment_piece(text: &str, from_end: bool) -> String {
    let piece = text.trim().trim_end_matches(is_clause_end).trim();
    let n = piece.chars().count();
    if n <= FRAGMENT_MAX {
        piece.to_owned()
    } else if from_end {
        piece.chars().skip(n - FRAGMENT_CHARS).collect()
    } else {
        piece.chars().take(FRAGMENT_CHARS).collect()
    }
}

/// `{base}/t/{id}#turn-{N}-p{P}:~:text={start},{end}`: opens the page at
/// the quoted paragraph (`#turn-{N}` when `paragraph` is 0), and browsers
/// that support text fragments highlight the whole quote, from its first
/// clause to its last. Short quotes are one piece (`text={quote}`). Both
/// pieces are percent-encoded, so a `,` or `-` in them is not syntax.
pub fn link(public_url: &str, transcript: &str, turn: u64, paragraph: u64, text: &str) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let base = public_url.trim_end_matches('/');
    let anchor = if paragraph > 0 {
        format!("turn-{turn}-p{paragraph}")
    } else {
        format!("turn-{turn}")
    };
    let parts = clauses(text);
    let span = |range: std::ops::Range<usize>| -> &str {
        match (
            parts.get(range.start),
            range.end.checked_sub(1).and_then(|e| parts.get(e)),
        ) {
            (Some(first), Some(last)) if range.start < range.end => {
                // Clauses are slices of `text`: the span between them, verbatim.
                let start = first.as_ptr() as usize - text.as_ptr() as usize;
                let end = last.as_ptr() as usize - text.as_ptr() as usize + last.len();
                &text[start..end]
            }
            _ => "",
        }
    };
    let chars = |r: std::ops::Range<usize>| span(r).chars().count();
    // Clauses from the front, then from the back, until each piece is long
    // enough to be found once.
    let mut head = 1;
    while head < parts.len() && chars(0..head) < FRAGMENT_MIN {
        head += 1;
    }
    let mut tail = parts.len();
    while tail > head && chars(tail..parts.len()) < FRAGMENT_MIN {
        tail -= 1;
    }
    let encode = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    let whole = fragment_piece(text, false);
    let short = text.trim().chars().count() <= FRAGMENT_MAX;
    let directive = if whole.is_empty() {
        String::new()
    } else if tail >= parts.len() || short {
        // One piece: the quote is short, or one clause.
        encode(&whole)
    } else {
        let start = fragment_piece(span(0..head), false);
        let end = fragment_piece(span(tail..parts.len()), true);
        format!("{},{}", encode(&start), encode(&end))
    };
    if directive.is_empty() {
        format!("{base}/t/{transcript}#{anchor}")
    } else {
        format!("{base}/t/{transcript}#{anchor}:~:text={directive}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The decoded pieces of a link's text directive.
    fn directive(l: &str) -> Vec<String> {
        let fragment = l.split(":~:text=").nth(1).unwrap();
        assert!(fragment.is_ascii(), "{l}");
        fragment
            .split(',')
            .map(|p| {
                percent_encoding::percent_decode_str(p)
                    .decode_utf8()
                    .unwrap()
                    .into_owned()
            })
            .collect()
    }

    #[test]
    fn links_open_the_paragraph_and_highlight_the_whole_quote() {
        // A short quote is one piece, closing punctuation off.
        let l = link("http://h:1/", "abc", 3, 2, "我們可以用這個方法,再說。");
        assert!(l.starts_with("http://h:1/t/abc#turn-3-p2:~:text="), "{l}");
        assert_eq!(directive(&l), ["我們可以用這個方法,再說"]);
        // The introduction and callers without a paragraph keep `#turn-N`.
        let l = link("http://h", "abc", 0, 0, "前言。");
        assert!(l.starts_with("http://h/t/abc#turn-0:~:text="), "{l}");

        // A long quote: its first and last clauses, so the highlight runs
        // from start to end, each piece a verbatim slice ending on a
        // clause boundary.
        let long = "金融業對營銷新技術很敏感,因為客戶的需求變化很快。我們做了很多嘗試,\
                    有成功也有失敗,但是不發展是更大的風險。所以我們要堅持下去,不忘初心。";
        let l = link("http://h", "t", 12, 7, long);
        assert!(l.contains("#turn-12-p7:~:text="), "{l}");
        let pieces = directive(&l);
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        assert!(long.starts_with(&pieces[0]), "{pieces:?}");
        assert!(
            long.trim_end_matches('。').ends_with(&pieces[1]),
            "{pieces:?}"
        );
        assert!(pieces
            .iter()
            .all(|p| (FRAGMENT_MIN..=FRAGMENT_MAX).contains(&p.chars().count())));
        assert_eq!(pieces[0], "金融業對營銷新技術很敏感");
        assert_eq!(pieces[1], "所以我們要堅持下去,不忘初心");

        // Characters that mean something in a text directive are encoded.
        let l = link("http://h", "a", 1, 1, "a-b&c,d");
        assert!(l.ends_with("text=a%2Db%26c%2Cd"), "{l}");
        // Nothing to quote: the anchor alone.
        assert_eq!(link("http://h", "a", 1, 3, " 。"), "http://h/t/a#turn-1-p3");
    }

    fn term(text: &str, parts: &[&str]) -> QueryTerm {
        QueryTerm {
            text: text.into(),
            weight: 1.0,
            parts: parts.iter().map(|p| p.to_string()).collect(),
            grams: text::bigrams(text).into_iter().map(|g| g.0).collect(),
            known: true,
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
    }

    #[test]
    fn idf_is_highest_for_unseen_words() {
        assert!(idf(100, 0) > idf(100, 1));
        assert!(idf(100, 1) > idf(100, 50));
        assert!(idf(100, 100) > 0.0);
    }
}
