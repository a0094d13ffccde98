//! Extractive speaker summaries, a pure function of one served generation
//! and a name: who a speaker is, how much they said in each transcript, the
//! words that set them apart, and their own sentences. Nothing here writes
//! text: keywords and quotes are verbatim, linked through [`crate::links`];
//! passages are read only through the index's accessor
//! ([`crate::index::Generation::transcript_passages`]), never a query of
//! its own.
//!
//! - **Name**: a name, alias or pinyin resolves; otherwise a surname or part
//!   of a name (`陳`, `chen`) that fits one speaker resolves to them, one that
//!   fits several lists them to pick from, and an unknown name lists the
//!   close matches.
//! - **Share**: per transcript (characters of letters and digits), a line
//!   per transcript the speaker is in; `share` is that of their main one.
//! - **Keywords**: whole words and the compounds the speaker builds of
//!   them, weighed against what the *other speakers of the same
//!   transcripts* said and by how rare they are in Chinese at large; see
//!   [`crate::keywords`].
//! - **Quotes**: TextRank over the speaker's complete thoughts (a sentence;
//!   a question only with the sentence that answers it; never a courtesy),
//!   spread over their turns (each new quote from the turn with the fewest
//!   so far, the one saying the best keywords no quote says yet), with
//!   their closing statement when the transcript has one: their last turn
//!   with substance (a thanks is none) after the moderator's last question
//!   (or, without one, among the last turns).
//! - **The moderator** (the sidecar's; without one there, the speaker who
//!   asked most of the questions, as a host) is summarised by the
//!   questions they asked, each with a link, not by their longest passages.

use crate::engine::{EngineOptions, Loaded};
use crate::index::{IndexError, StoredPassage, TranscriptInfo};
use crate::links::link;
use crate::speakers::{NameProblem, UnknownSpeaker};
use crate::text::{fold_str, is_cjk};
use crate::transcript::{is_question, sentence_ends, QUESTION_MARKS};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A verbatim sentence (or a few) of the speaker and where it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quote {
    pub transcript: String,
    pub turn: u64,
    pub paragraph: u64,
    pub text: String,
    pub link: String,
    /// The speaker's closing statement of that transcript.
    pub closing: bool,
}

/// How much a speaker said in one transcript.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranscriptShare {
    pub transcript: String,
    pub title: String,
    pub turns: usize,
    /// Share of what all the speakers of this transcript said.
    pub share: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpeakerSummary {
    pub speaker: String,
    pub role: Option<String>,
    pub aliases: Vec<String>,
    /// Moderates (a transcript's sidecar says so, or, with no moderator in
    /// it, they asked most of the questions, as a host): `quotes` are the
    /// questions they asked.
    pub moderator: bool,
    pub turns: usize,
    /// Share of the transcript the speaker said most in (see `transcripts`).
    pub share: f32,
    /// One entry per transcript the speaker is in, in catalog order.
    pub transcripts: Vec<TranscriptShare>,
    pub keywords: Vec<String>,
    pub quotes: Vec<Quote>,
}

#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    #[error(transparent)]
    UnknownSpeaker(#[from] UnknownSpeaker),
    #[error("summary failed: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("summary failed: {0}")]
    Catalog(#[from] IndexError),
}

const KEYWORDS: usize = 8;

const MAX_QUOTES: usize = 5;
const MIN_QUOTES: usize = 3;
/// Questions shown for a moderator.
const MAX_QUESTIONS: usize = 8;
/// Sentences shorter than this say too little to quote; longer ones are
/// paragraphs, not quotes.
const QUOTE_CHARS: std::ops::RangeInclusive<usize> = 12..=160;
/// A question and its answer, or a closing statement, may be this long.
const THOUGHT_CHARS: usize = 220;
/// TextRank is quadratic in sentences: beyond this, an even sample is ranked.
const MAX_RANKED_SENTENCES: usize = 600;
/// Resolves a typed name to one speaker (see the module docs).
fn resolve(loaded: &Loaded, name: &str) -> Result<usize, SummaryError> {
    let dir = &loaded.speakers;
    let names = |ids: &[usize]| -> Vec<String> {
        ids.iter()
            .map(|&i| {
                let e = &dir.entries[i];
                match e.role() {
                    Some(r) => format!("{} ({r})", e.name),
                    None => e.name.clone(),
                }
            })
            .collect()
    };
    let several = |ids: &[usize]| {
        SummaryError::from(UnknownSpeaker {
            name: name.trim().to_owned(),
            known: names(ids),
            problem: NameProblem::Several,
        })
    };
    let exact = dir.resolve(name);
    match exact.len() {
        1 => return Ok(exact[0]),
        n if n > 1 => return Err(several(&exact)),
        _ => {}
    }
    let partial = dir.suggest(name, 25);
    match partial.len() {
        1 => return Ok(partial[0]),
        n if n > 1 && !fold_str(name).trim().is_empty() => return Err(several(&partial)),
        _ => {}
    }
    let close = close_matches(loaded, name);
    Err(SummaryError::from(UnknownSpeaker {
        name: name.trim().to_owned(),
        known: if close.is_empty() {
            dir.names()
        } else {
            names(&close)
        },
        problem: NameProblem::Unknown {
            close: !close.is_empty(),
        },
    }))
}

/// Speakers whose name shares a Chinese character with what was typed, or
/// whose name, alias or pinyin is a few edits from it; closest first.
fn close_matches(loaded: &Loaded, typed: &str) -> Vec<usize> {
    let typed: String = fold_str(typed).split_whitespace().collect();
    if typed.is_empty() {
        return Vec::new();
    }
    let han: HashSet<char> = typed.chars().filter(|&c| is_cjk(c)).collect();
    let mut scored: Vec<(usize, usize)> = Vec::new();
    for (i, e) in loaded.speakers.entries.iter().enumerate() {
        let keys = std::iter::once(&e.name)
            .chain(e.aliases.iter())
            .chain(e.pinyin.iter())
            .map(|k| fold_str(k).split_whitespace().collect::<String>());
        let mut best = usize::MAX;
        for (n, k) in keys.enumerate() {
            // Two characters in common, or the name's surname.
            let shared = k.chars().filter(|c| han.contains(c)).count();
            let surname = n == 0 && k.chars().next() == typed.chars().next();
            if shared >= 2 || (shared == 1 && surname) {
                best = best.min(k.chars().count().saturating_sub(shared));
                continue;
            }
            let d = edit_distance(&typed, &k);
            if d <= (typed.chars().count().max(k.chars().count()) / 3).max(1) {
                best = best.min(d);
            }
        }
        if best != usize::MAX {
            scored.push((best, i));
        }
    }
    scored.sort();
    scored.into_iter().take(10).map(|(_, i)| i).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// A span of one passage: the unit quoted.
#[derive(Debug, Clone)]
struct Unit {
    passage: usize,
    range: std::ops::Range<usize>,
    closing: bool,
}

/// The sentences of a passage as byte ranges (trimmed, non-empty).
fn sentences(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for end in sentence_ends(text) {
        let piece = &text[start..end];
        let lead = piece.len() - piece.trim_start().len();
        let trail = piece.len() - piece.trim_end().len();
        if start + lead < end - trail {
            out.push(start + lead..end - trail);
        }
        start = end;
    }
    out
}

/// Complete thoughts of a passage: each sentence of quotable length, a
/// question joined to the sentence after it (its answer) or dropped.
fn thoughts(passage: usize, text: &str) -> Vec<Unit> {
    let s = sentences(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let mut range = s[i].clone();
        // A question stands only with what answers it.
        while is_question(&text[range.clone()]) && i + 1 < s.len() {
            i += 1;
            range = range.start..s[i].end;
        }
        i += 1;
        let piece = &text[range.clone()];
        let n = piece.chars().count();
        if is_question(piece)
            || n < *QUOTE_CHARS.start()
            || crate::keywords::substance(piece) < SUBSTANCE
        {
            continue;
        }
        if n <= *QUOTE_CHARS.end() || (n <= THOUGHT_CHARS && piece.contains(QUESTION_MARKS)) {
            out.push(Unit {
                passage,
                range,
                closing: false,
            });
        }
    }
    out
}

/// Summarises the speaker `name` (any name, alias, pinyin, or a part of a
/// name that fits one speaker). A summary is computed once per generation
/// and kept in its memo ([`crate::memo`]): asking again costs a copy.
pub fn speaker(
    loaded: &Loaded,
    opts: &EngineOptions,
    name: &str,
) -> Result<SpeakerSummary, SummaryError> {
    let index = resolve(loaded, name)?;
    let key = format!("{index}|{}", opts.public_url);
    let summary = loaded
        .memo
        .get_or_try_insert("summary", &key, weight, || summarise(loaded, opts, index))?;
    Ok(SpeakerSummary::clone(&summary))
}

/// As [`speaker`], computed afresh without the memo (the benchmarks time
/// the computation itself; the memo's answer costs a copy).
pub fn speaker_uncached(
    loaded: &Loaded,
    opts: &EngineOptions,
    name: &str,
) -> Result<SpeakerSummary, SummaryError> {
    summarise(loaded, opts, resolve(loaded, name)?)
}

/// About how many bytes a summary holds.
fn weight(s: &SpeakerSummary) -> usize {
    let quotes: usize = s
        .quotes
        .iter()
        .map(|q| q.text.len() + q.link.len() + 64)
        .sum();
    let words: usize = s
        .keywords
        .iter()
        .chain(&s.aliases)
        .map(|k| k.len() + 24)
        .sum();
    let shares: usize = s
        .transcripts
        .iter()
        .map(|t| t.title.len() + t.transcript.len() + 64)
        .sum();
    256 + quotes + words + shares
}

/// The summary of the speaker at `index` of the directory.
fn summarise(
    loaded: &Loaded,
    opts: &EngineOptions,
    index: usize,
) -> Result<SpeakerSummary, SummaryError> {
    let entry = &loaded.speakers.entries[index];
    let g = &loaded.generation;
    let catalog = &g.catalog;

    // Every passage of the transcripts the speaker is in: theirs, and the
    // others' to weigh their words against.
    let mut passages: Vec<StoredPassage> = Vec::new();
    let mut others: Vec<StoredPassage> = Vec::new();
    let mut shares = Vec::new();
    let mut moderator = false;
    // Per transcript: the speaker's closing turn, if they have one.
    let mut closing_turns: HashSet<(String, u64)> = HashSet::new();
    for id in &entry.transcripts {
        let Some(info) = catalog.transcript(id) else {
            continue;
        };
        let ps = g.transcript_passages(id)?;
        let moderators = moderators_of(info, &ps);
        let is_moderator = moderators.contains(entry.name.as_str());
        moderator |= is_moderator;
        let all: usize = info.chars_per_speaker.iter().map(|(_, c)| c).sum();
        let mine: usize = info
            .chars_per_speaker
            .iter()
            .filter(|(n, _)| *n == entry.name)
            .map(|(_, c)| c)
            .sum();
        shares.push(TranscriptShare {
            transcript: id.clone(),
            title: info.meta.title.clone(),
            turns: info
                .turns_per_speaker
                .iter()
                .find(|(n, _)| *n == entry.name)
                .map_or(0, |(_, c)| *c),
            share: if all == 0 {
                0.0
            } else {
                mine as f32 / all as f32
            },
        });
        if !is_moderator {
            if let Some(t) = closing_turn(&ps, &entry.name, &moderators, info.speakers.len()) {
                closing_turns.insert((id.clone(), t));
            }
        }
        for p in ps {
            match p.speaker.as_deref() {
                Some(s) if s == entry.name => passages.push(p),
                Some(_) => others.push(p),
                None => {}
            }
        }
    }
    let share = shares
        .iter()
        .zip(entry.transcripts.iter())
        .max_by(|a, b| {
            a.0.turns
                .cmp(&b.0.turns)
                .then(b.0.share.total_cmp(&a.0.share).reverse())
        })
        .map_or(0.0, |(s, _)| s.share);

    let said: Vec<crate::keywords::Said> = passages
        .iter()
        .map(|p| said_of(p, &closing_turns))
        .collect();
    let theirs: Vec<crate::keywords::Said> =
        others.iter().map(|p| said_of(p, &closing_turns)).collect();
    let keywords = crate::keywords::keywords(
        &g.analyzer,
        &said,
        &theirs,
        &|w| loaded.speakers.is_name(w),
        KEYWORDS,
    );
    let folded_keywords: Vec<String> = keywords.iter().map(|k| fold_str(k)).collect();

    let units = if moderator {
        questions(&passages)
    } else {
        choose_quotes(loaded, &passages, &closing_turns, &folded_keywords)
    };
    let quotes = units
        .into_iter()
        .map(|u| {
            let p = &passages[u.passage];
            let text = &p.text[u.range];
            Quote {
                transcript: p.transcript.clone(),
                turn: p.turn,
                paragraph: p.paragraph,
                text: text.to_owned(),
                link: link(&opts.public_url, &p.transcript, p.turn, p.paragraph, text),
                closing: u.closing,
            }
        })
        .collect();

    Ok(SpeakerSummary {
        speaker: entry.name.clone(),
        role: entry.role().map(str::to_owned),
        aliases: entry.aliases.clone(),
        moderator,
        turns: entry.turns,
        share,
        transcripts: shares,
        keywords,
        quotes,
    })
}

/// Who moderates a transcript: whom its sidecar says; without one named
/// there, the speaker who asked most of the questions that open exchanges
/// (at least [`HOST_QUESTIONS`], most of the transcript's, and in at least
/// half of their own turns), as a host does.
fn moderators_of<'a>(info: &'a TranscriptInfo, passages: &[StoredPassage]) -> HashSet<&'a str> {
    let named: HashSet<&str> = info
        .speakers
        .iter()
        .filter(|s| s.moderator)
        .map(|s| s.name.as_str())
        .collect();
    if !named.is_empty() {
        return named;
    }
    let mut asked: HashMap<&str, HashSet<u64>> = HashMap::new();
    let mut turns: HashMap<&str, HashSet<u64>> = HashMap::new();
    for p in passages {
        let Some(who) = p.speaker.as_deref() else {
            continue;
        };
        turns.entry(who).or_default().insert(p.turn);
        if p.is(crate::conversation::flags::PROMPT) {
            asked.entry(who).or_default().insert(p.turn);
        }
    }
    let all: usize = asked.values().map(HashSet::len).sum();
    info.speakers
        .iter()
        .map(|s| s.name.as_str())
        .filter(|name| {
            let asked = asked.get(name).map_or(0, HashSet::len);
            let turns = turns.get(name).map_or(0, HashSet::len);
            asked >= HOST_QUESTIONS && asked * 2 > all && asked * 2 >= turns
        })
        .collect()
}

/// Questions a speaker must have asked to be taken for the host of a
/// transcript whose sidecar names no moderator.
const HOST_QUESTIONS: usize = 3;

/// A passage as the keyword extraction reads it.
fn said_of<'a>(
    p: &'a StoredPassage,
    closing_turns: &HashSet<(String, u64)>,
) -> crate::keywords::Said<'a> {
    crate::keywords::Said {
        text: &p.text,
        turn: (p.transcript.as_str(), p.turn),
        closing: closing_turns.contains(&(p.transcript.clone(), p.turn)),
    }
}

/// The speaker's closing turn of one transcript: their last turn with
/// substance (a thanks or sign-off, 謝謝李總,今天就到這裡, is none), when
/// it comes after the moderator's last question, or (no moderator
/// question) when it is among the last turns with substance, one per
/// speaker.
fn closing_turn(
    passages: &[StoredPassage],
    speaker: &str,
    moderators: &HashSet<&str>,
    speakers: usize,
) -> Option<u64> {
    let mut substance: BTreeMap<u64, usize> = BTreeMap::new();
    for p in passages {
        *substance.entry(p.turn).or_default() += crate::keywords::substance(&p.text);
    }
    let has_substance = |turn: u64| substance.get(&turn).is_some_and(|&n| n >= SUBSTANCE);
    let last_turn = passages
        .iter()
        .map(|p| p.turn)
        .filter(|&t| has_substance(t))
        .max()?;
    let mine = passages
        .iter()
        .filter(|p| p.speaker.as_deref() == Some(speaker))
        .map(|p| p.turn)
        .filter(|&t| has_substance(t))
        .max()?;
    let last_question = passages
        .iter()
        .filter(|p| p.speaker.as_deref().is_some_and(|s| moderators.contains(s)))
        .filter(|p| p.text.contains(QUESTION_MARKS))
        .map(|p| p.turn)
        .max();
    let is_closing = match last_question {
        Some(q) => mine > q,
        None => mine + speakers as u64 > last_turn,
    };
    // A panel needs more than one turn for a "closing" one to mean anything.
    (is_closing && mine > 1).then_some(mine)
}

/// Letters and digits a turn must say, besides courtesy and questions, to
/// be a closing statement.
const SUBSTANCE: usize = 8;

/// The questions a moderator asked, in order: per turn, its run of
/// question sentences (with what leads into them in the same sentence).
fn questions(passages: &[StoredPassage]) -> Vec<Unit> {
    let mut per_turn: BTreeMap<(String, u64), Vec<Unit>> = BTreeMap::new();
    for (pi, p) in passages.iter().enumerate() {
        let s = sentences(&p.text);
        let mut i = 0;
        while i < s.len() {
            if !is_question(&p.text[s[i].clone()]) {
                i += 1;
                continue;
            }
            let mut range = s[i].clone();
            while i + 1 < s.len()
                && is_question(&p.text[s[i + 1].clone()])
                && p.text[range.start..s[i + 1].end].chars().count() <= THOUGHT_CHARS
            {
                i += 1;
                range = range.start..s[i].end;
            }
            i += 1;
            if p.text[range.clone()].chars().count() >= 8 {
                per_turn
                    .entry((p.transcript.clone(), p.turn))
                    .or_default()
                    .push(Unit {
                        passage: pi,
                        range,
                        closing: false,
                    });
            }
        }
    }
    // One question per turn first (its longest run), in order; then more.
    let mut firsts: Vec<Unit> = Vec::new();
    for units in per_turn.values() {
        if let Some(u) = units.iter().max_by_key(|u| u.range.len()) {
            firsts.push(u.clone());
        }
    }
    firsts.truncate(MAX_QUESTIONS);
    firsts.sort_by_key(|u| (passages[u.passage].seq, u.range.start));
    firsts
}

/// Key quotes: the closing statement, then complete thoughts by TextRank,
/// each from the turn with the fewest quotes so far, and among those the
/// one that says the best keywords no quote chosen so far says; in
/// transcript order.
fn choose_quotes(
    loaded: &Loaded,
    passages: &[StoredPassage],
    closing_turns: &HashSet<(String, u64)>,
    keywords: &[String],
) -> Vec<Unit> {
    let g = &loaded.generation;
    let mut units: Vec<Unit> = Vec::new();
    let mut pinned: Vec<Unit> = Vec::new();
    for (i, p) in passages.iter().enumerate() {
        let closing = closing_turns.contains(&(p.transcript.clone(), p.turn));
        if closing && pinned.iter().all(|u| passages[u.passage].turn != p.turn) {
            // The closing statement whole when it is short, else its best
            // thought (chosen below with the others).
            let n = p.text.chars().count();
            if (*QUOTE_CHARS.start()..=THOUGHT_CHARS).contains(&n) {
                pinned.push(Unit {
                    passage: i,
                    range: 0..p.text.len(),
                    closing: true,
                });
                continue;
            }
        }
        for mut u in thoughts(i, &p.text) {
            u.closing = closing;
            units.push(u);
        }
    }
    if units.len() > MAX_RANKED_SENTENCES {
        let step = units.len() as f32 / MAX_RANKED_SENTENCES as f32;
        units = (0..MAX_RANKED_SENTENCES)
            .map(|k| units[(k as f32 * step) as usize].clone())
            .collect();
    }
    let is_keyword = |w: &str| keyword_candidate(loaded, w);
    let bags: Vec<HashSet<String>> = units
        .iter()
        .map(|u| {
            g.analyzer
                .cut_words(&passages[u.passage].text[u.range.clone()])
                .into_iter()
                .map(|w| w.text)
                .filter(|w| is_keyword(w))
                .collect()
        })
        .collect();
    let ranks = textrank(&bags);
    // The keywords each unit says (compounds too: by the folded text), so
    // that the quotes show what the keywords name: each new quote gains
    // for the keywords no quote chosen so far says, the best ones most.
    let said: Vec<Vec<usize>> = units
        .iter()
        .map(|u| {
            let folded = fold_str(&passages[u.passage].text[u.range.clone()]);
            (0..keywords.len())
                .filter(|&k| folded.contains(keywords[k].as_str()))
                .collect()
        })
        .collect();
    let keyword_weight = |k: usize| 1.0 - 0.1 * k.min(7) as f32;
    let want = MAX_QUOTES
        .min(units.len() + pinned.len())
        .max(MIN_QUOTES.min(units.len() + pinned.len()));
    let mut chosen: Vec<Unit> = pinned;
    chosen.truncate(want);
    let mut covered: HashSet<usize> = chosen
        .iter()
        .flat_map(|u| {
            let folded = fold_str(&passages[u.passage].text[u.range.clone()]);
            (0..keywords.len())
                .filter(|&k| folded.contains(keywords[k].as_str()))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut taken: Vec<usize> = Vec::new();
    let mut per_turn: HashMap<(String, u64), usize> = HashMap::new();
    for u in &chosen {
        let p = &passages[u.passage];
        *per_turn.entry((p.transcript.clone(), p.turn)).or_default() += 1;
    }
    while chosen.len() < want {
        let score = |i: usize| {
            let gain: f32 = said[i]
                .iter()
                .filter(|k| !covered.contains(k))
                .map(|&k| keyword_weight(k))
                .sum();
            ranks[i] * (1.0 + gain)
        };
        let best = (0..units.len())
            .filter(|i| !taken.contains(i))
            .filter(|&i| !taken.iter().any(|&j| similarity(&bags[i], &bags[j]) > 0.6))
            .min_by(|&a, &b| {
                let turn_count = |i: usize| {
                    let p = &passages[units[i].passage];
                    per_turn
                        .get(&(p.transcript.clone(), p.turn))
                        .copied()
                        .unwrap_or(0)
                };
                turn_count(a)
                    .cmp(&turn_count(b))
                    .then(score(b).total_cmp(&score(a)))
                    .then(a.cmp(&b))
            });
        let Some(i) = best else { break };
        taken.push(i);
        covered.extend(said[i].iter().copied());
        let p = &passages[units[i].passage];
        *per_turn.entry((p.transcript.clone(), p.turn)).or_default() += 1;
        chosen.push(units[i].clone());
    }
    chosen.sort_by_key(|u| {
        let p = &passages[u.passage];
        (p.transcript.clone(), p.seq, u.range.start)
    });
    chosen
}

/// Whether a folded word may be a keyword at all.
fn keyword_candidate(loaded: &Loaded, folded: &str) -> bool {
    folded.chars().count() >= 2
        && crate::keywords::candidate(folded, &|w| loaded.speakers.is_name(w))
}

/// Word overlap normalised by length (TextRank's sentence similarity).
fn similarity(a: &HashSet<String>, b: &HashSet<String>) -> f32 {
    if a.len() < 2 || b.len() < 2 {
        return 0.0;
    }
    let common = a.intersection(b).count() as f32;
    common / ((a.len() as f32).ln() + (b.len() as f32).ln())
}

/// PageRank over the sentence similarity graph.
fn textrank(bags: &[HashSet<String>]) -> Vec<f32> {
    let n = bags.len();
    if n == 0 {
        return Vec::new();
    }
    let mut w = vec![vec![0f32; n]; n];
    for i in 0..n {
        for j in i + 1..n {
            let s = similarity(&bags[i], &bags[j]);
            w[i][j] = s;
            w[j][i] = s;
        }
    }
    let out_sum: Vec<f32> = w.iter().map(|row| row.iter().sum()).collect();
    let mut rank = vec![1.0f32; n];
    for _ in 0..30 {
        let next: Vec<f32> = (0..n)
            .map(|i| {
                let inflow: f32 = (0..n)
                    .filter(|&j| out_sum[j] > 0.0 && w[j][i] > 0.0)
                    .map(|j| w[j][i] / out_sum[j] * rank[j])
                    .sum();
                0.15 + 0.85 * inflow
            })
            .collect();
        rank = next;
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bag(words: &[&str]) -> HashSet<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn textrank_prefers_the_sentence_that_shares_most() {
        let bags = vec![
            bag(&["人才", "银行", "创新"]),
            bag(&["人才", "创新", "资源"]),
            bag(&["人才", "银行", "资源", "创新"]),
            bag(&["天气", "晴朗", "周末"]),
        ];
        let r = textrank(&bags);
        let best = (0..4).max_by(|&a, &b| r[a].total_cmp(&r[b])).unwrap();
        assert_eq!(best, 2);
        assert!(r[3] < r[0]);
    }
}
