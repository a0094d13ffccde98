//! Stage 0: the question as asked becomes what the later stages work on:
//! the speakers it names (a filter, never evidence), the position it points
//! at (a speaker's first or last turn), whether it asks what was asked, and
//! its informative words, each weighed by its rarity.

use super::{AskError, Question};
use crate::engine::{EngineOptions, Loaded};
use crate::speakers::{NameProblem, UnknownSpeaker};
use crate::text::{self, fold_str, is_stop_word};
use tantivy::{Searcher, Term};

/// A word of the question with its weight.
#[derive(Debug, Clone)]
pub(super) struct QueryTerm {
    pub(super) text: String,
    pub(super) weight: f32,
    /// Parts jieba's search mode finds inside it (互联网金融 → 互联网, 金融).
    pub(super) parts: Vec<String>,
    pub(super) grams: Vec<String>,
    /// The index holds it as a word: its bigrams would only add long
    /// posting lists to the candidate query (they still count in `cover`).
    pub(super) known: bool,
    /// How many passages hold it as a word.
    pub(super) df: u64,
    /// Characters of a two-character word that carry its sense alone
    /// ([`crate::lexicon::is_content_morpheme`]): 乞 of 乞丐, 類 of 分類.
    pub(super) morphemes: Vec<char>,
}

pub(super) fn idf(n: u64, df: u64) -> f32 {
    let (n, df) = (n as f32, df as f32);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// Where in a speaker's part of a transcript a question points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Position {
    First,
    Last,
}

/// Words that ask about position ("what did X say in closing"), folded.
pub(super) const LAST_WORDS: &[&str] = &[
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
pub(super) const FIRST_WORDS: &[&str] = &["开场", "开头", "一开始", "开篇", "开场白", "opening"];

/// Checks the question and finds the speakers it is about.
pub(super) struct Parsed {
    pub(super) folded: String,
    pub(super) speakers: Vec<usize>,
    /// The speakers were named in the question or by option.
    pub(super) speaker_given: bool,
    /// The question asks what somebody asked (唐文問了什麼?).
    pub(super) asks_for_question: bool,
    pub(super) position: Option<Position>,
    pub(super) rest: String,
    /// The transcripts searched (ids); empty: all.
    pub(super) transcripts: Vec<String>,
}

/// Whether a folded question asks what was asked: 问 as a verb (问了,
/// 提问, 问什么), not in 问题.
pub(super) fn asks_for_question(folded: &str) -> bool {
    let chars: Vec<char> = folded.chars().collect();
    let asks = chars
        .iter()
        .enumerate()
        .any(|(i, &c)| c == '问' && chars.get(i + 1) != Some(&'题'));
    asks || folded.contains("asked") || folded.contains("question")
}

pub(super) fn parse_question(
    loaded: &Loaded,
    opts: &EngineOptions,
    q: &Question,
) -> Result<Parsed, AskError> {
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
    // A transcript given or named narrows the search; the words naming it
    // are taken out like names (see crate::forums).
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

pub(super) fn query_terms(
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
