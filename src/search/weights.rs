//! The learned answer policy's weights. Written by `tools/fit_policy.py`
//! (do not edit by hand): standardised inputs (`MEAN`, `SCALE`), a logistic
//! model (`WEIGHTS`, `BIAS`), and the two thresholds on its probability.

pub const N: usize = 14;
pub const NAMES: [&str; N] = [
    "coverage", "holds", "overlap", "capped", "bm25", "lex_rank", "cosine", "cos_gap",
    "sem_rank", "prompt", "position", "latin", "latin_cosine", "speaker",
];
pub const MEAN: [f32; N] = [0.0; N];
pub const SCALE: [f32; N] = [1.0; N];
pub const WEIGHTS: [f32; N] = [
    4.0, 1.0, 1.0, -1.0, 1.0, 0.5, 10.0, -20.0, 1.0, -1.0, 2.0, 0.0, 0.0, 0.0,
];
pub const BIAS: f32 = -12.0;
/// An answer is quoted with confidence from this probability on.
pub const ANSWER: f32 = 0.5;
/// A passage is among the closest shown from this probability on.
pub const CLOSEST: f32 = 0.05;
