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
    pub(super) fn into_hit(self, public_url: &str, terms: &[QueryTerm]) -> Hit {
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
/// Character spans of `original` where the question's words occur, in one
/// pass over the text for the offsets (a long passage costs linear time).
pub(super) fn highlights(
    original: &str,
    folded: &text::Folded,
    terms: &[QueryTerm],
) -> Vec<[usize; 2]> {
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
