//! The `forumbot-bench` binary: the corpus generator is deterministic, and
//! `run` runs on a tiny corpus and reports every figure. Timings are never
//! asserted: they belong to benchmarks, not tests.
//!
//! The cold starts spawn the `forumbot` binary beside `forumbot-bench`;
//! `cargo test` at the root builds both (a lone `cargo test -p
//! forumbot-bench` needs a `cargo build --bin forumbot` first).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

fn bench(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_forumbot-bench"))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("FORUMBOT__DATA__DIR")
        .output()
        .expect("the forumbot-bench binary runs");
    assert!(
        out.status.success(),
        "forumbot-bench {args:?} failed with {}:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn gen(dir: &Path, transcripts: usize, seed: u64) {
    bench(&[
        "gen",
        "--transcripts",
        &transcripts.to_string(),
        "--seed",
        &seed.to_string(),
        "--out",
        dir.to_str().unwrap(),
    ]);
}

/// Every file under `dir`, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn the_generator_is_deterministic_through_the_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    gen(&a, 3, 7);
    gen(&b, 3, 7);
    gen(&c, 3, 8);
    let (ta, tb, tc) = (tree(&a), tree(&b), tree(&c));
    assert_eq!(ta.len(), 6, "3 transcripts and 3 sidecars: {:?}", ta.keys());
    assert!(ta.keys().all(|k| k.starts_with("transcripts")), "{ta:?}");
    assert!(ta == tb, "the same seed gave different trees");
    assert_eq!(ta.keys().collect::<Vec<_>>(), tc.keys().collect::<Vec<_>>());
    assert!(ta != tc, "another seed gave the same corpus");
}

#[test]
fn bench_run_measures_a_tiny_corpus() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("corpus");
    gen(&dir, 2, 1);
    let data = dir.to_str().unwrap();
    let quick = [
        "--questions",
        "5",
        "--build-threads",
        "1",
        "--cold-runs",
        "1",
        "--summary-reps",
        "1",
    ];

    let mut args = vec!["--data", data, "run", "--json"];
    args.extend(quick);
    let out = bench(&args);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", String::from_utf8_lossy(&out.stdout)));
    for key in [
        "corpus",
        "machine",
        "build",
        "index",
        "open",
        "ask",
        "render",
        "throughput",
        "summary",
        "profile",
        "memory",
        "cold_start",
        "questions",
    ] {
        assert!(report.get(key).is_some(), "no {key:?} in {report:#}");
    }
    assert_eq!(report["corpus"]["transcripts"], 2);
    assert_eq!(report["build"].as_array().unwrap().len(), 1);
    assert!(report["index"]["bytes"].as_u64().unwrap() > 0);
    assert_eq!(report["ask"]["all"]["n"], 5);
    for key in ["p50_us", "p99_us", "max_us"] {
        assert!(report["ask"]["all"][key].is_number(), "{key}");
    }
    let threads: Vec<u64> = report["throughput"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["threads"].as_u64().unwrap())
        .collect();
    assert_eq!(threads, [1, 2]);
    assert!(!report["summary"].as_array().unwrap().is_empty());
    assert_eq!(report["cold_start"]["runs"], 1);
    let kinds: Vec<&str> = report["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "traditional",
        "simplified",
        "speaker",
        "pinyin",
        "unanswerable",
    ] {
        assert!(kinds.contains(&kind), "no {kind} question in {kinds:?}");
    }

    // The table, serving the index just built, without cold starts.
    let out = bench(&[
        "--data",
        data,
        "run",
        "--no-build",
        "--questions",
        "5",
        "--cold-runs",
        "0",
        "--summary-reps",
        "1",
    ]);
    let table = String::from_utf8(out.stdout).unwrap();
    for line in [
        "2 transcripts",
        "size on disk",
        "Engine::open",
        "all questions",
        "render",
        "throughput",
        "speaker summary",
        "where the time goes",
        "peak RSS serving",
    ] {
        assert!(table.contains(line), "no {line:?} in\n{table}");
    }
    assert!(
        !table.contains("build, 1 thread"),
        "--no-build built:\n{table}"
    );
    assert!(!table.contains("cold start"), "--cold-runs 0 ran:\n{table}");
}
