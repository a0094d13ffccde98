//! Shared by the tests that need the real model file.
#![allow(dead_code)]

use std::path::PathBuf;

/// The model file: `FORUMBOT_E5_MODEL`, else `data/models/e5-small-q4.bin`
/// at the workspace root. `None` (after saying why) when neither exists,
/// unless `CI=true`: CI must run the semantic tests, so there it panics.
pub fn model_path(test: &str) -> Option<PathBuf> {
    let (path, from) = match std::env::var_os("FORUMBOT_E5_MODEL") {
        Some(p) => (PathBuf::from(p), "FORUMBOT_E5_MODEL"),
        None => (
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/models/e5-small-q4.bin"),
            "the workspace default (FORUMBOT_E5_MODEL unset)",
        ),
    };
    if path.is_file() {
        return Some(path);
    }
    let why = format!(
        "{test}: model file {} (from {from}) not found; set FORUMBOT_E5_MODEL to e5-small-q4.bin",
        path.display()
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{why} (CI=true: the semantic tests must run)");
    }
    eprintln!("skipped {why}");
    None
}

pub fn model(test: &str) -> Option<e5::Model> {
    let path = model_path(test)?;
    Some(e5::Model::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

pub fn ids(line: &str) -> Vec<u32> {
    line.split_whitespace()
        .map(|t| t.parse().unwrap())
        .collect()
}

/// `(is_query, text)` per line of a golden TSV.
pub fn inputs(tsv: &str) -> Vec<(bool, String)> {
    tsv.lines()
        .map(|l| {
            let (kind, text) = l.split_once('\t').unwrap();
            assert!(kind == "q" || kind == "p", "{l}");
            (kind == "q", text.to_string())
        })
        .collect()
}

pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

pub const INPUTS: &str = include_str!("../data/inputs.tsv");
pub const REF_IDS: &str = include_str!("../data/ref_ids.txt");
pub const REF_EMB: &str = include_str!("../data/ref_emb.txt");
pub const EDGE: &str = include_str!("../data/edge.tsv");
pub const EDGE_IDS: &str = include_str!("../data/edge_ref_ids.txt");
