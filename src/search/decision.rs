//! Stage 3: decision. From a candidate's evidence: is it an answer (quoted
//! with confidence), one of the closest passages (shown, marked as not an
//! answer), or unrelated (dropped)? And in what order?
//!
//! Two policies, by what the generation has:
//!
//! - **With vectors** ([`learned`]): a logistic model over the evidence
//!   ([`Features`]) gives the chance that a candidate is a right answer;
//!   candidates rank by it, and the first is an answer when it reaches
//!   [`weights::ANSWER`]. The weights are fitted by `tools/fit_policy.py` on
//!   half of the development questions and checked on the other half (the
//!   script writes `weights.rs` and prints both).
//! - **Words only** ([`lexical`], the model unavailable or switched off):
//!   coverage of the question's weight, held together in a window and by
//!   its character pairs, as before the model existed.

use super::evidence::{Lexical, MIN_PAIR_OVERLAP};
use super::weights;

/// Verdict on one candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Verdict {
    Answer,
    /// Related, shown only as one of the closest passages.
    Closest,
    Drop,
}

/// Everything the decision looks at for one candidate.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Features {
    /// Share of the question's weight covered (quote, window, context, prompt).
    pub coverage: f32,
    /// Share the quote itself holds as words.
    pub holds: f32,
    /// Share of the question's character pairs held.
    pub overlap: f32,
    /// BM25 over the best BM25 of the question (0 if not fetched lexically).
    pub bm25: f32,
    /// 1 / (1 + rank) in the lexical list, 0 when not in it.
    pub lex_rank: f32,
    /// Cosine with the question.
    pub cosine: f32,
    /// How far below the best cosine of the question (≥ 0).
    pub cos_gap: f32,
    /// How far the cosine stands above the mean over every passage
    /// searched, in standard deviations.
    pub cos_z: f32,
    /// For the best candidate by cosine, how far ahead of the next one
    /// (0 for the others).
    pub cos_lead: f32,
    /// First in both the lexical and the semantic list.
    pub agree: f32,
    /// 1 / (1 + rank) among the semantic neighbours, 0 when not among them.
    pub sem_rank: f32,
    /// The passage is a question (a prompt), and the question does not ask
    /// what was asked.
    pub prompt: f32,
    /// The question points at a speaker's first or last turn: 1 when this
    /// passage is there, -1 when it is not, 0 when it points nowhere.
    pub position: f32,
    /// Share of the question's weight in Latin letters (English asked of
    /// Chinese text: its words cannot be held, only its meaning).
    pub latin: f32,
    /// The question named a speaker.
    pub speaker: f32,
}

impl Features {
    /// The inputs of the learned model, in [`weights::NAMES`] order.
    pub fn inputs(&self) -> [f32; weights::N] {
        let capped = if self.overlap < MIN_PAIR_OVERLAP {
            1.0
        } else {
            0.0
        };
        [
            self.coverage,
            self.holds,
            self.overlap,
            capped,
            self.bm25,
            self.lex_rank,
            self.cosine,
            self.cos_gap,
            self.cos_z,
            self.cos_lead,
            self.agree,
            self.sem_rank,
            self.prompt,
            self.position,
            self.latin,
            self.latin * self.cosine,
            self.speaker,
        ]
    }
}

/// The chance that a candidate is a right answer, by the learned model.
pub(super) fn probability(f: &Features) -> f32 {
    let z = weights::BIAS
        + f.inputs()
            .iter()
            .zip(weights::WEIGHTS)
            .zip(weights::MEAN.iter().zip(weights::SCALE))
            .map(|((x, w), (mean, scale))| w * (x - mean) / scale)
            .sum::<f32>();
    1.0 / (1.0 + (-z).exp())
}

/// The learned policy: the score to rank by, and the verdict.
pub(super) fn learned(f: &Features) -> (f32, Verdict) {
    let p = probability(f);
    let verdict = if p >= weights::ANSWER {
        Verdict::Answer
    } else if p >= weights::CLOSEST {
        Verdict::Closest
    } else {
        Verdict::Drop
    };
    (p, verdict)
}

/// A weak match covers at least this share of the question (words only).
pub(super) const WEAK_COVERAGE: f32 = 0.3;
/// A prompt (a question, not an answer) keeps this share of its score
/// unless the question asks what was asked (words only).
pub(super) const PROMPT_PENALTY: f32 = 0.5;
/// Weight of normalised BM25 beside coverage in the words-only score.
const BM25_WEIGHT: f32 = 0.35;
/// Score added to a passage in the turn a position word points at.
const POSITION_BONUS: f32 = 0.5;

/// The words-only policy: an answer covers `min_coverage` of the question
/// and holds enough of its character pairs; a closest passage covers
/// [`WEAK_COVERAGE`]; the quote itself must hold some of the words.
pub(super) fn lexical(lex: &Lexical, f: &Features, min_coverage: f32) -> (f32, Verdict) {
    if lex.holds <= 0.0 || lex.passage < WEAK_COVERAGE {
        return (0.0, Verdict::Drop);
    }
    let mut coverage = lex.coverage;
    // Words of the question scattered over a passage about something else:
    // never an answer, at most a weak match.
    if lex.overlap < MIN_PAIR_OVERLAP {
        coverage = coverage.min(WEAK_COVERAGE);
    }
    let mut score = coverage + BM25_WEIGHT * f.bm25;
    if f.prompt > 0.0 {
        coverage *= PROMPT_PENALTY;
        score *= PROMPT_PENALTY;
    }
    if f.position > 0.0 {
        score += POSITION_BONUS;
    }
    let verdict = if coverage >= min_coverage {
        Verdict::Answer
    } else if coverage >= WEAK_COVERAGE {
        Verdict::Closest
    } else {
        Verdict::Drop
    };
    (score, verdict)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fitting script and the model agree on the inputs: every name it
    /// wrote is a field of [`Features`] or one of the two derived inputs.
    #[test]
    fn the_fitted_inputs_are_the_features() {
        let json = serde_json::to_value(Features::default()).unwrap();
        let fields: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        for name in weights::NAMES {
            assert!(
                fields.contains(&name) || ["capped", "latin_cosine"].contains(&name),
                "{name} is not a feature: refit with tools/fit_policy.py"
            );
        }
        assert_eq!(fields.len() + 2, weights::N);
    }

    #[test]
    fn more_evidence_never_lowers_the_chance_of_an_answer() {
        let weak = Features {
            coverage: 0.2,
            overlap: 0.2,
            cosine: 0.8,
            cos_gap: 0.05,
            ..Features::default()
        };
        let strong = Features {
            coverage: 0.9,
            holds: 0.9,
            overlap: 1.0,
            bm25: 1.0,
            lex_rank: 1.0,
            cosine: 0.9,
            cos_z: 4.0,
            sem_rank: 1.0,
            agree: 1.0,
            ..Features::default()
        };
        assert!(probability(&strong) > probability(&weak));
        assert_eq!(learned(&strong).1, Verdict::Answer);
        assert_ne!(learned(&weak).1, Verdict::Answer);
    }
}
