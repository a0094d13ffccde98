//! Timings of the e5 engine: open, a 15-token query, a 128-token passage
//! (single-threaded), passages two at a time on rayon, and the portable
//! kernel.
//!
//! `cargo run -p forumbot-e5 --release --example e5bench [-- MODEL [ROUNDS]]`
//! (MODEL defaults to `FORUMBOT_E5_MODEL`, then data/models/e5-small-q4.bin).

use std::path::PathBuf;
use std::time::Instant;

const INPUTS: &str = include_str!("../tests/data/inputs.tsv");

/// Nanoseconds this thread has run on a CPU (Linux), to see through a
/// loaded machine; `None` elsewhere.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Wall-clock ms per call, and on-CPU ms per call of this thread.
fn ms_per<T>(rounds: usize, mut f: impl FnMut() -> T) -> (f64, Option<f64>) {
    std::hint::black_box(f()); // warm-up
    let cpu = thread_cpu_ns();
    let start = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(f());
    }
    let wall = start.elapsed().as_secs_f64() * 1000.0 / rounds as f64;
    let cpu = cpu
        .zip(thread_cpu_ns())
        .map(|(a, b)| (b - a) as f64 / 1e6 / rounds as f64);
    (wall, cpu)
}

fn show(what: &str, (wall, cpu): (f64, Option<f64>)) {
    match cpu {
        Some(cpu) => println!("{what}: {wall:.1} ms ({cpu:.1} ms on CPU)"),
        None => println!("{what}: {wall:.1} ms"),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("FORUMBOT_E5_MODEL").map(PathBuf::from))
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/models/e5-small-q4.bin")
        });
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(20);

    // Open: the best of five (page cache warm after the first).
    let mut best = (f64::MAX, None);
    for _ in 0..5 {
        let m = ms_per(1, || e5::Model::open(&path));
        if m.0 < best.0 {
            best = m;
        }
    }
    let mut model = match e5::Model::open(&path) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("e5bench: {e}");
            std::process::exit(1);
        }
    };
    println!("{} (kernel {})", path.display(), model.kernel());
    show("open, best of 5", best);

    let texts: Vec<&str> = INPUTS
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(_, t)| t)
        .collect();
    let query = texts[0]; // 15 tokens with <s> "query:" … </s>
    let passage = texts[6]; // 128 tokens with <s> "passage:" … </s>
    let q_tokens = model.tokenize(&format!("query: {query}")).len() + 2;
    let p_tokens = model.tokenize(&format!("passage: {passage}")).len() + 2;

    show(
        &format!("query ({q_tokens} tokens), 1 thread"),
        ms_per(rounds * 5, || model.embed_query(query)),
    );
    show(
        &format!("passage ({p_tokens} tokens), 1 thread"),
        ms_per(rounds, || model.embed_passage(passage)),
    );
    for long in [texts[7], texts[8]] {
        let n = model.tokenize(&format!("passage: {long}")).len() + 2;
        let r = rounds.div_ceil(4);
        show(
            &format!("passage ({n} tokens), 1 thread"),
            ms_per(r, || model.embed_passage(long)),
        );
    }
    show(
        "tokenize the 128-token passage",
        ms_per(rounds * 5, || model.tokenize(passage)),
    );

    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let batch = vec![passage; 8];
        let (ms, _) =
            pool.install(|| ms_per(rounds.div_ceil(4), || model.embed_passages(&batch, 510)));
        println!(
            "embed_passages, 8 × {p_tokens} tokens, {threads} thread(s): {:.1} ms per passage (wall)",
            ms / batch.len() as f64
        );
    }

    model.force_portable();
    let r = rounds.div_ceil(4);
    show(
        &format!("query ({q_tokens} tokens), portable kernel"),
        ms_per(r, || model.embed_query(query)),
    );
}
