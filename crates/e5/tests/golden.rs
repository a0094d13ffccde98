//! The reference ids and vectors of the package's own engine (tests/data,
//! copied from /work/shared/semantic/golden): ids must match exactly,
//! vectors to cosine >= 0.999.

mod common;
use common::*;

/// `[0] + tokenize(prefix + text) + [2]` for a golden input.
fn golden_ids(m: &e5::Model, query: bool, text: &str) -> Vec<u32> {
    let prefix = if query { "query: " } else { "passage: " };
    let mut ids = vec![0];
    ids.extend(m.tokenize(&format!("{prefix}{text}")));
    ids.push(2);
    ids
}

#[test]
fn tokenizer_matches_golden_inputs() {
    let Some(m) = model("tokenizer_matches_golden_inputs") else {
        return;
    };
    let inputs = inputs(INPUTS);
    let refs: Vec<&str> = REF_IDS.lines().collect();
    assert_eq!(inputs.len(), refs.len());
    for ((query, text), want) in inputs.iter().zip(refs) {
        let want = ids(want);
        // The golden ids say which prefix each line got: ▁query : / ▁passage :
        let implied_query = want[1..3] == [41, 1294];
        assert_eq!(*query, implied_query, "{text}");
        assert_eq!(golden_ids(&m, *query, text), want, "{text}");
    }
}

#[test]
fn tokenizer_matches_golden_edge_cases() {
    let Some(m) = model("tokenizer_matches_golden_edge_cases") else {
        return;
    };
    let edge = inputs(EDGE);
    let refs: Vec<&str> = EDGE_IDS.lines().collect();
    assert_eq!(edge.len(), refs.len());
    let mut bad = Vec::new();
    for ((query, text), want) in edge.iter().zip(refs) {
        let got = golden_ids(&m, *query, text);
        if got != ids(want) {
            bad.push(format!("{text:?}\n  got  {got:?}\n  want {want}"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

fn check_embeddings(m: &e5::Model, only_short: bool) -> f64 {
    let refs: Vec<Vec<f32>> = REF_EMB
        .lines()
        .map(|l| l.split_whitespace().map(|v| v.parse().unwrap()).collect())
        .collect();
    let mut worst = f64::MAX;
    for ((query, text), want) in inputs(INPUTS).iter().zip(&refs) {
        if only_short && text.chars().count() > 60 {
            continue;
        }
        let got = if *query {
            m.embed_query(text)
        } else {
            m.embed_passage(text)
        };
        assert_eq!(got.len(), e5::DIM);
        let norm: f32 = got.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
        let cos = cosine(&got, want);
        eprintln!(
            "{} cosine {cos:.6} {}",
            m.kernel(),
            text.chars().take(30).collect::<String>()
        );
        assert!(cos >= 0.999, "cosine {cos} for {text}");
        worst = worst.min(cos);
    }
    worst
}

#[test]
fn embeddings_match_golden() {
    let Some(m) = model("embeddings_match_golden") else {
        return;
    };
    let worst = check_embeddings(&m, false);
    eprintln!("worst cosine {worst:.6} ({})", m.kernel());
}

#[test]
fn portable_kernel_matches_golden() {
    let Some(mut m) = model("portable_kernel_matches_golden") else {
        return;
    };
    m.force_portable();
    assert_eq!(m.kernel(), "portable");
    check_embeddings(&m, true);
}

#[test]
fn truncated_passages_are_their_first_tokens() {
    let Some(m) = model("truncated_passages_are_their_first_tokens") else {
        return;
    };
    let long = &inputs(INPUTS)[8].1; // 810 content tokens
    let ids = m.tokenize(&format!("passage: {long}"));
    assert_eq!(ids.len(), 810);
    assert_eq!(m.embed_passage_truncated(long, 20), m.embed_ids(&ids[..20]));
    // more than one window's worth: one window
    assert_eq!(
        m.embed_passage_truncated(long, 10_000),
        m.embed_ids(&ids[..e5::WINDOW])
    );
    let short = &inputs(INPUTS)[2].1;
    assert_eq!(
        m.embed_passage_truncated(short, 510),
        m.embed_passage(short)
    );
}

#[test]
fn parallel_passages_equal_one_by_one() {
    let Some(m) = model("parallel_passages_equal_one_by_one") else {
        return;
    };
    let all = inputs(INPUTS);
    let texts: Vec<&str> = all.iter().take(6).map(|(_, t)| t.as_str()).collect();
    let batch = m.embed_passages(&texts, 64);
    for (t, v) in texts.iter().zip(&batch) {
        assert_eq!(*v, m.embed_passage_truncated(t, 64));
    }
}

#[test]
fn edge_case_texts_embed_to_unit_vectors() {
    let Some(m) = model("edge_case_texts_embed_to_unit_vectors") else {
        return;
    };
    for (_, text) in inputs(EDGE) {
        let v = m.embed_query(&text);
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!(
            v.len() == e5::DIM && (norm - 1.0).abs() < 1e-4,
            "{text:?}: {norm}"
        );
    }
    // the same text as query and passage differ (different prefixes)
    assert!(cosine(&m.embed_query("北京"), &m.embed_passage("北京")) < 0.9999);
}
