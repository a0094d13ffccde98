//! Stage 2: evidence. For each candidate, how much of the question it
//! holds: the question's words in the quote, in its best window of a few
//! sentences, in its context and prompt; the question's character pairs;
//! and, with vectors, how close its meaning is.

use super::parse::QueryTerm;
use crate::text::{self, is_stop_word};

/// How much of `term` the folded passage holds: its [`word_cover`], or, for
/// a word it misses, the trace its meaningful characters leave.
pub(super) fn cover(term: &QueryTerm, folded: &str) -> f32 {
    word_cover(term, folded).max(morpheme_cover(term, folded))
}

/// How much of the word itself the folded passage holds: 1 when it holds
/// the word; else partial credit, the better of (a) the share of the word's
/// characters covered by its jieba parts that the passage holds (年轻人 →
/// 年轻), and (b) half the share of its bigrams it holds. A near miss
/// counts, a little.
pub(super) fn word_cover(term: &QueryTerm, folded: &str) -> f32 {
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
pub(super) fn morpheme_cover(term: &QueryTerm, folded: &str) -> f32 {
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
pub(super) const MORPHEME_CREDIT: f32 = 0.2;
/// Least share of the question's character pairs an answer must hold.
pub(super) const MIN_PAIR_OVERLAP: f32 = 0.35;
/// Fewest pairs that say anything about phrasing: with one (蓍的别名是什么?
/// has only 别名), whether a passage holds it is chance, not evidence that
/// the question's words stand scattered.
pub(super) const MIN_PAIRS: usize = 2;

/// Share of the question's pairs a passage holds; 1 when there are too few
/// to judge.
pub(super) fn pair_overlap(pairs: &[String], held: impl Fn(&String) -> bool) -> f32 {
    if pairs.len() < MIN_PAIRS {
        return 1.0;
    }
    pairs.iter().filter(|g| held(g)).count() as f32 / pairs.len() as f32
}

/// Pairs of adjacent Han characters of the folded question (names already
/// taken out), without those holding a question or function word.
pub(super) fn question_pairs(rest: &str) -> Vec<String> {
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
pub(super) const WINDOW_SENTENCES: usize = 3;
/// Weight of the best window's coverage against the whole passage's.
pub(super) const WINDOW_WEIGHT: f32 = 0.5;

/// Runs of `n` consecutive sentences of folded text (the whole text when it
/// has `n` sentences or fewer).
pub(super) fn windows(folded: &str, n: usize) -> Vec<&str> {
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

/// How much weaker a word found only in a passage's context (its turn's
/// opening, the paragraph before) counts than one in the passage itself.
pub(super) const CONTEXT_CREDIT: f32 = 0.5;
/// How much a word found only in the prompt a passage answers counts.
pub(super) const PROMPT_CREDIT: f32 = 0.6;
/// Below this passage coverage the best window is not worked out (it never
/// covers more than the passage): the candidate's coverage is its passage's.
pub(super) const WINDOW_FLOOR: f32 = 0.3;

/// The question's words and pairs, worked out once for every candidate.
pub(super) struct Words<'a> {
    pub(super) terms: &'a [QueryTerm],
    pub(super) total_weight: f32,
    pub(super) pairs: Vec<String>,
}

impl<'a> Words<'a> {
    pub(super) fn new(terms: &'a [QueryTerm], rest: &str) -> Self {
        Words {
            terms,
            total_weight: terms
                .iter()
                .map(|t| t.weight)
                .sum::<f32>()
                .max(f32::EPSILON),
            pairs: question_pairs(rest),
        }
    }
}

/// What the question's words say about one candidate.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Lexical {
    /// Share of the question's weight the quote itself holds as words
    /// (no context, no character traces): 0 means it holds none.
    pub(super) holds: f32,
    /// Share covered by the quote with its context and prompt.
    pub(super) passage: f32,
    /// The mean of `passage` and the best window's share.
    pub(super) coverage: f32,
    /// Share of the question's character pairs the quote, its context or
    /// its prompt holds (1 when there are too few pairs to judge).
    pub(super) overlap: f32,
}

/// The lexical evidence of a quote (folded) with its context and prompt.
pub(super) fn lexical(words: &Words, folded: &str, context: &str, prompt: &str) -> Lexical {
    let terms = words.terms;
    if terms.is_empty() {
        return Lexical::default();
    }
    let mut holds = 0.0;
    let mut covered = 0.0;
    let framed: Vec<f32> = terms
        .iter()
        .map(|t| (CONTEXT_CREDIT * cover(t, context)).max(PROMPT_CREDIT * cover(t, prompt)))
        .collect();
    for (t, framed) in terms.iter().zip(&framed) {
        let c_word = word_cover(t, folded);
        let c_own = c_word.max(morpheme_cover(t, folded));
        holds += t.weight * c_word;
        covered += t.weight * c_own.max(*framed);
    }
    let passage = covered / words.total_weight;
    let held = |g: &String| {
        folded.contains(g.as_str()) || context.contains(g.as_str()) || prompt.contains(g.as_str())
    };
    let overlap = pair_overlap(&words.pairs, held);
    if passage < WINDOW_FLOOR {
        return Lexical {
            holds: holds / words.total_weight,
            passage,
            coverage: passage,
            overlap,
        };
    }
    // The words of an answer stand together: the best window of a few
    // sentences must cover the question too, not words scattered over a
    // long passage.
    let windows = windows(folded, WINDOW_SENTENCES);
    let best_window = if windows.len() == 1 {
        covered
    } else {
        windows
            .into_iter()
            .map(|w| {
                terms
                    .iter()
                    .zip(&framed)
                    .map(|(t, framed)| t.weight * cover(t, w).max(*framed))
                    .sum::<f32>()
            })
            .fold(0.0, f32::max)
    };
    Lexical {
        holds: holds / words.total_weight,
        passage,
        coverage: WINDOW_WEIGHT * best_window / words.total_weight
            + (1.0 - WINDOW_WEIGHT) * passage,
        overlap,
    }
}
