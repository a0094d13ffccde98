//! The learned answer policy's weights. Written by `tools/fit_policy.py`
//! (do not edit by hand): standardised inputs (`MEAN`, `SCALE`), a logistic
//! model (`WEIGHTS`, `BIAS`), and the two thresholds on its probability.
//! Fitted on split 0 of: cmrc, dev, drcd, natural.

pub const N: usize = 17;
/// The inputs' names, in order (a test holds them to `Features`).
#[cfg_attr(not(test), allow(dead_code))]
pub const NAMES: [&str; N] = [
    "coverage",
    "holds",
    "overlap",
    "capped",
    "bm25",
    "lex_rank",
    "cosine",
    "cos_gap",
    "cos_z",
    "cos_lead",
    "agree",
    "sem_rank",
    "prompt",
    "position",
    "latin",
    "latin_cosine",
    "speaker",
];
pub const MEAN: [f32; N] = [
    0.178199,
    0.143583,
    0.203616,
    0.834537,
    0.191325,
    0.0960823,
    0.841178,
    0.0409852,
    0.981848,
    0.000401557,
    0.0141606,
    0.112275,
    0.0574412,
    -0.0044405,
    0.0814388,
    0.0653542,
    0.124815,
];
pub const SCALE: [f32; N] = [
    0.181607, 0.174152, 0.294816, 0.371598, 0.25052, 0.188495, 0.0278009, 0.0283035, 1.28415,
    0.00334943, 0.118153, 0.196895, 0.232684, 0.0787209, 0.236228, 0.185794, 0.330508,
];
pub const WEIGHTS: [f32; N] = [
    1.38171,
    -0.411633,
    0.732494,
    0.505742,
    0.783615,
    -0.00209604,
    -0.378361,
    -1.72903,
    0.146863,
    0.170754,
    0.103139,
    0.195976,
    -0.596543,
    0.588782,
    0.303015,
    0.20666,
    0.241417,
];
pub const BIAS: f32 = -6.77445;
/// An answer is quoted with confidence from this probability on.
pub const ANSWER: f32 = 0.72;
/// A passage is among the closest shown from this probability on.
pub const CLOSEST: f32 = 0.02;
