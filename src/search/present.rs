//! Stage 4: presentation. Decided passages become hits: the quote (a
//! lead-in joined with its substance), the matched words highlighted, the
//! link to the turn; several named speakers heard in turn.

use super::parse::QueryTerm;
use super::Hit;
use crate::conversation::flags;
use crate::index;
use crate::links::link;
use crate::text::{self, fold};

/// A passage ready to be quoted: what it says, how well it answers.
pub(super) struct Scored {
    pub(super) score: f32,
    /// The quoted text (a lead-in and its substance together).
    pub(super) text: String,
    /// Paragraph the quote starts at.
    pub(super) paragraph: u64,
    pub(super) passage: index::StoredPassage,
}

impl Scored {
    pub(super) fn key(&self) -> (&str, u64, u64) {
        (
            self.passage.transcript.as_str(),
            self.passage.turn,
            self.paragraph,
        )
    }

    /// The hit as shown, with the question's words highlighted (only the
    /// hits shown are highlighted: a long list of candidates is not).
    pub(super) fn into_hit(
        self,
        public_url: &str,
        terms: &[QueryTerm],
        analyzer: &text::Analyzer,
    ) -> Hit {
        let words: Vec<&str> = terms.iter().map(|t| t.text.as_str()).collect();
        let highlights = if terms.is_empty() {
            Vec::new()
        } else {
            crate::highlight::highlights(&self.text, &fold(&self.text), &words, analyzer)
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
pub(super) const MAX_JOINED_CHARS: usize = 900;

/// The text to quote for a passage: a lead-in with the paragraph after it,
/// else the passage alone; and the paragraph the quote starts at.
pub fn quote_of(p: &index::StoredPassage) -> (String, u64) {
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

/// Several speakers named: each one's best hits in turn, so every speaker
/// is heard near the top, each in score order.
pub(super) fn interleave_speakers(hits: Vec<Scored>, speakers: &[String]) -> Vec<Scored> {
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
pub(super) fn by_score(a: &Scored, b: &Scored) -> std::cmp::Ordering {
    b.score
        .total_cmp(&a.score)
        .then_with(|| a.passage.transcript.cmp(&b.passage.transcript))
        .then(a.passage.seq.cmp(&b.passage.seq))
}
