//! `forumbot-bench run`: measures one data directory end to end, through
//! forumbot's public API and its binary.
//!
//! What is measured, in this order (so that one phase does not colour the
//! next):
//!
//! 1. **Index build** with [`index::build`], once per requested thread count,
//!    each in a child process (`forumbot-bench build`, so the indexer's memory is not
//!    counted as serving memory): wall time, CPU time (`/proc/self/stat`),
//!    MB/s of transcript text, the builder's peak RSS, and the size of the
//!    generation directory on disk.
//! 2. **Opening** the engine in-process, and its parts (freshness check,
//!    catalog, jieba, speaker directory, tantivy), because they are what a
//!    cold start pays for besides exec and the first question.
//! 3. **Warm `ask` latency** over a fixed mixed question list (Traditional,
//!    Simplified, speaker-restricted, pinyin, unanswerable) after a warm-up
//!    pass; rendering (`reply::answer` + `reply::to_text`) is timed apart.
//! 4. **Throughput** on 1..=T threads sharing one [`Engine`].
//! 5. **Speaker summaries** of a few speakers.
//! 6. **Where the time goes**: the hot path re-enacted piece by piece with
//!    the public API (analysis, tantivy search, stored-field fetch, rerank).
//! 7. **Peak RSS while serving**: `VmHWM` of this process, which never
//!    built (or, if opening had to build, reset through `/proc/self/clear_refs`).
//! 8. **Cold start**: the `forumbot` binary spawned as `--data DIR ask --json Q`,
//!    wall time from spawn to exit; the child's peak RSS from
//!    `/usr/bin/time -v` when it exists.
//!
//! Speaker names in questions come from the catalog (speakers of the first
//! transcript), so the list is fixed for a given corpus and works for the
//! bundled transcript and generated ones alike.

use forumbot::engine::Loaded;
use forumbot::index::{self, Catalog, DataDir, IndexError};
use forumbot::reply;
use forumbot::search::{self, AskError};
use forumbot::speakers::SpeakerDirectory;
use forumbot::summary::{self, SummaryError};
use forumbot::text::Analyzer;
use forumbot::{Engine, EngineOptions, Question};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Errors of a benchmark run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("a benchmark question failed: {0}")]
    Ask(#[from] AskError),
    #[error("a benchmark summary failed: {0}")]
    Summary(#[from] SummaryError),
    #[error("search failed: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cold-start run failed: {0}")]
    Child(String),
    #[error("no forumbot binary at {0} to time cold starts: build it (`cargo build --release --bin forumbot`), name it with --forumbot PATH, or skip them with --cold-runs 0")]
    NoBot(PathBuf),
    #[error("the corpus has no speakers to ask about")]
    NoSpeakers,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Timed questions for latency and for each throughput run.
    pub questions: usize,
    /// Throughput is measured on 1..=threads threads.
    pub threads: usize,
    /// Index builds, one per entry, with that many indexing threads. Empty:
    /// no build (one is made only when the index is missing or stale).
    pub build_threads: Vec<usize>,
    /// Cold-start processes to spawn (0: skip).
    pub cold_runs: usize,
    /// Timed repetitions of each speaker summary.
    pub summary_reps: usize,
    /// The binary to spawn for index builds (`--data DIR build --threads N`);
    /// default: this executable.
    pub exe: Option<PathBuf>,
    /// The `forumbot` binary to spawn for cold starts; default: `forumbot`
    /// beside this executable (cargo puts both in the same target directory).
    pub forumbot: Option<PathBuf>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            questions: 2000,
            threads: 2,
            build_threads: vec![1, 2],
            cold_runs: 10,
            summary_reps: 5,
            exe: None,
            forumbot: None,
        }
    }
}

/// Latency figures in microseconds (nearest-rank percentiles).
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub n: usize,
    pub mean_us: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

impl Stats {
    pub fn of(samples: &[Duration]) -> Stats {
        let mut us: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e6).collect();
        us.sort_by(f64::total_cmp);
        let n = us.len();
        let rank = |p: f64| -> f64 {
            if n == 0 {
                return 0.0;
            }
            let i = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
            us[i]
        };
        Stats {
            n,
            mean_us: if n == 0 {
                0.0
            } else {
                us.iter().sum::<f64>() / n as f64
            },
            p50_us: rank(0.50),
            p99_us: rank(0.99),
            max_us: us.last().copied().unwrap_or(0.0),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Corpus {
    pub data_dir: String,
    pub transcripts: usize,
    pub passages: usize,
    pub text_bytes: u64,
    pub speakers: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cores: usize,
    /// `/proc/loadavg` (1, 5, 15 minutes) before and after the run.
    pub load_before: Vec<f64>,
    pub load_after: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Build {
    pub threads: usize,
    pub passages: usize,
    pub text_bytes: u64,
    pub elapsed_s: f64,
    /// CPU seconds of this process during the build (user + system).
    pub cpu_s: f64,
    pub mb_per_s: f64,
    /// MB of text per CPU second: what one core indexes.
    pub mb_per_cpu_s: f64,
    /// Peak RSS of the building process (`VmHWM`).
    pub peak_rss_kb: u64,
}

/// Builds the index of `data` once in this process and times it (the
/// hidden `forumbot-bench build` that [`run`] spawns).
pub fn build_once(data: &DataDir, threads: usize) -> Result<Build, BenchError> {
    let cpu0 = cpu_seconds();
    let report = index::build(data, threads, &|_| {})?;
    let cpu = match (cpu0, cpu_seconds()) {
        (Some(a), Some(b)) => b - a,
        _ => 0.0,
    };
    let secs = report.elapsed.as_secs_f64();
    let mb = report.text_bytes as f64 / 1e6;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    Ok(Build {
        threads,
        passages: report.passages,
        text_bytes: report.text_bytes,
        elapsed_s: secs,
        cpu_s: cpu,
        mb_per_s: mb / secs.max(1e-9),
        mb_per_cpu_s: if cpu > 0.0 { mb / cpu } else { 0.0 },
        peak_rss_kb: status_kb(&status, "VmHWM:"),
    })
}

/// Runs `exe --data DIR build --threads N` and reads its JSON.
fn spawn_build(exe: &Path, data_dir: &Path, threads: usize) -> Result<Build, BenchError> {
    let out = Command::new(exe)
        .arg("--data")
        .arg(data_dir)
        .args(["build", "--threads", &threads.to_string()])
        .stdin(Stdio::null())
        .output()
        .map_err(|source| BenchError::Io {
            path: exe.to_owned(),
            source,
        })?;
    if !out.status.success() {
        return Err(BenchError::Child(format!(
            "index build exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| BenchError::Child(format!("unreadable build report: {e}")))
}

#[derive(Debug, Clone, Serialize)]
pub struct IndexSize {
    pub generation: String,
    pub bytes: u64,
    pub files: usize,
    /// Index bytes per byte of transcript text.
    pub ratio: f64,
}

/// Opening the engine and its parts, in milliseconds (page cache warm).
#[derive(Debug, Clone, Serialize)]
pub struct Open {
    pub engine_open_ms: f64,
    pub freshness_ms: f64,
    pub catalog_ms: f64,
    pub jieba_ms: f64,
    pub jieba_user_words_ms: f64,
    pub user_words: usize,
    pub speakers_ms: f64,
    pub tantivy_open_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct KindLatency {
    pub kind: String,
    pub stats: Stats,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ask {
    pub all: Stats,
    /// CPU time of the asking thread per question (not inflated by other
    /// processes; empty where the clock is missing).
    pub all_cpu: Stats,
    pub by_kind: Vec<KindLatency>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    pub threads: usize,
    pub questions: usize,
    pub elapsed_s: f64,
    pub qps: f64,
    pub qps_per_core: f64,
    /// CPU seconds used per wall second: how busy the threads kept the cores.
    pub cpu_utilisation: f64,
    /// Questions per CPU second: what one core does when it is not shared
    /// with other processes.
    pub qps_per_cpu_s: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SummaryLatency {
    pub speaker: String,
    pub turns: usize,
    pub transcripts: usize,
    pub stats: Stats,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColdStart {
    pub runs: usize,
    pub median_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    /// Peak RSS of one cold-start child, when it could be measured.
    pub max_rss_kb: Option<u64>,
    pub rss_source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Memory {
    pub vm_hwm_kb: u64,
    pub vm_rss_kb: u64,
    pub rss_anon_kb: u64,
    pub rss_file_kb: u64,
    /// Opening had to build the index in this process; the peak was reset
    /// after that (`/proc/self/clear_refs`).
    pub built_in_process: bool,
    pub source: String,
}

/// Mean cost per question of each piece of the hot path, in microseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    pub questions: usize,
    /// fold, speaker mentions, removing the names.
    pub parse_us: f64,
    /// jieba cut, doc frequencies, search-mode parts, bigrams.
    pub terms_us: f64,
    /// Building the BM25 query and collecting the top candidates.
    pub search_us: f64,
    pub candidates_mean: f64,
    /// Reading the stored fields of the candidates.
    pub fetch_us: f64,
    /// Folding candidates, coverage, highlights.
    pub rerank_us: f64,
    /// `reply::answer` + `reply::to_text`.
    pub render_us: f64,
    pub pieces_sum_us: f64,
    /// Mean of the real `Engine::ask` on the same questions.
    pub ask_mean_us: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuestionFigure {
    pub kind: String,
    pub text: String,
    pub speaker: Option<String>,
    pub hits: usize,
    pub total: usize,
    pub p50_us: f64,
}

/// Everything a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub corpus: Corpus,
    pub machine: Machine,
    pub build: Vec<Build>,
    pub index: IndexSize,
    pub open: Open,
    pub ask: Ask,
    pub render: Stats,
    pub throughput: Vec<Throughput>,
    pub summary: Vec<SummaryLatency>,
    pub profile: Profile,
    pub memory: Memory,
    pub cold_start: Option<ColdStart>,
    pub questions: Vec<QuestionFigure>,
}

/// One question of the fixed list.
#[derive(Debug, Clone)]
pub struct BenchQuestion {
    pub kind: &'static str,
    pub question: Question,
}

fn q(kind: &'static str, text: String, speaker: Option<String>) -> BenchQuestion {
    BenchQuestion {
        kind,
        question: Question {
            text,
            speaker,
            limit: 3,
            offset: 0,
            transcripts: Vec::new(),
        },
    }
}

/// The fixed mixed list for a corpus. Names are those of the first
/// transcript's speakers, so the list depends on the corpus only.
pub fn question_list(loaded: &Loaded) -> Result<Vec<BenchQuestion>, BenchError> {
    let catalog = &loaded.generation.catalog;
    let speakers = catalog
        .transcripts
        .iter()
        .find(|t| !t.speakers.is_empty())
        .map(|t| &t.speakers)
        .ok_or(BenchError::NoSpeakers)?;
    let first = &speakers[0];
    let second = speakers.get(1).unwrap_or(first);
    let last = speakers.last().unwrap_or(first);
    let pinyin = loaded
        .speakers
        .resolve(&second.name)
        .first()
        .and_then(|&i| loaded.speakers.entries[i].pinyin.first().cloned())
        .unwrap_or_else(|| second.name.clone());
    let alias = second
        .aliases
        .first()
        .cloned()
        .unwrap_or_else(|| second.name.clone());
    let s = |t: &str| t.to_owned();
    Ok(vec![
        q("traditional", s("人才"), None),
        q("traditional", s("銀行如何做數字化營銷?"), None),
        q("traditional", s("數據應用部門做什麼?"), None),
        q("traditional", s("大數據風控的價值是什麼?"), None),
        q("traditional", s("移動互聯網時代怎麼提升客戶體驗?"), None),
        q("simplified", s("银行如何做数字化营销?"), None),
        q("simplified", s("人工智能在金融行业的应用"), None),
        q("simplified", s("怎么打好互联网下半场?"), None),
        q("simplified", s("人才培养"), None),
        q("speaker", format!("{}怎麼看人才?", second.name), None),
        q("speaker", s("營銷"), Some(last.name.clone())),
        q("speaker", format!("{}對數據的看法", alias), None),
        q("speaker", format!("{}說了什麼?", first.name), None),
        q("pinyin", format!("what does {pinyin} say about 營銷"), None),
        q("pinyin", s("客戶體驗"), Some(pinyin.clone())),
        q("unanswerable", s("量子計算機什麼時候能商用?"), None),
        q("unanswerable", s("今天天氣怎麼樣?"), None),
        q("unanswerable", s("足球世界盃誰贏了"), None),
        q("unanswerable", s("how do I bake sourdough bread"), None),
    ])
}

const KINDS: &[&str] = &[
    "traditional",
    "simplified",
    "speaker",
    "pinyin",
    "unanswerable",
];

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

/// Clock ticks per second of `/proc/self/stat`: 100 on every Linux this
/// runs on (USER_HZ); read without libc.
const CLOCK_TICKS: f64 = 100.0;

/// CPU seconds (user + system) this process used so far, if known.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / CLOCK_TICKS)
}

/// CPU time of the calling thread: unlike wall time, it does not count the
/// moments other processes had the core, so latencies stay comparable on a
/// busy machine. `None` where the clock is not available.
#[cfg(target_os = "linux")]
fn thread_cpu() -> Option<Duration> {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: glibc's clock_gettime (std links it) writes one timespec
    // (two 64-bit fields on 64-bit Linux) through a valid pointer.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0 && cfg!(target_pointer_width = "64"))
        .then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

#[cfg(not(target_os = "linux"))]
fn thread_cpu() -> Option<Duration> {
    None
}

fn loadavg() -> Vec<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .filter_map(|x| x.parse().ok())
        .collect()
}

/// A `kB` line of `/proc/self/status`.
fn status_kb(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Resets the peak RSS (`VmHWM`) to the current RSS. Linux ≥ 4.0.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn dir_size(dir: &Path) -> Result<(u64, usize), BenchError> {
    let mut bytes = 0;
    let mut files = 0;
    let entries = std::fs::read_dir(dir).map_err(|source| BenchError::Io {
        path: dir.to_owned(),
        source,
    })?;
    for e in entries.flatten() {
        let md = e.metadata().map_err(|source| BenchError::Io {
            path: e.path(),
            source,
        })?;
        if md.is_dir() {
            let (b, f) = dir_size(&e.path())?;
            bytes += b;
            files += f;
        } else {
            bytes += md.len();
            files += 1;
        }
    }
    Ok((bytes, files))
}

/// Runs every measurement on the data directory of `opts`.
pub fn run(
    engine_opts: &EngineOptions,
    run: &RunOptions,
    log: &dyn Fn(&str),
) -> Result<Report, BenchError> {
    let load_before = loadavg();
    let data = DataDir::new(&engine_opts.data_dir);

    // 1. Build, in a child process each time: the indexer's buffers stay
    // with the allocator after a build and would count as serving memory.
    let exe = match &run.exe {
        Some(p) => p.clone(),
        None => std::env::current_exe().map_err(|source| BenchError::Io {
            path: PathBuf::from("current_exe"),
            source,
        })?,
    };
    // The bot is looked for before anything is measured: a missing binary
    // should not cost a whole run.
    let bot = if run.cold_runs > 0 {
        let bot = match &run.forumbot {
            Some(p) => p.clone(),
            None => exe.with_file_name(format!("forumbot{}", std::env::consts::EXE_SUFFIX)),
        };
        if !bot.is_file() {
            return Err(BenchError::NoBot(bot));
        }
        Some(bot)
    } else {
        None
    };
    let mut builds = Vec::new();
    for &threads in &run.build_threads {
        log(&format!("building the index with {threads} thread(s)"));
        builds.push(spawn_build(&exe, &engine_opts.data_dir, threads)?);
    }
    // 2. Open.
    log("opening the engine");
    let (opened, open_time) = timed(|| Engine::open(engine_opts.clone(), &|_| {}));
    let opened = opened?;
    let built_in_process = opened.built.is_some();
    if built_in_process {
        // Opening had to build (`--no-build` on a missing index): start the
        // peak over, though the allocator may keep some of the build.
        reset_peak_rss();
    }
    let engine = opened.engine;
    let loaded = engine.snapshot();
    let g = &loaded.generation;
    let (size_bytes, size_files) = dir_size(&g.dir)?;
    let corpus = Corpus {
        data_dir: engine_opts.data_dir.display().to_string(),
        transcripts: g.catalog.transcripts.len(),
        passages: g.manifest.passages,
        text_bytes: g.manifest.text_bytes,
        speakers: loaded.speakers.entries.len(),
    };

    // 3. Warm latency.
    let list = question_list(&loaded)?;
    log(&format!(
        "asking {} questions ({} distinct) after a warm-up pass",
        run.questions,
        list.len()
    ));
    for bq in &list {
        let a = engine.ask(&bq.question)?;
        std::hint::black_box(reply::to_text(&reply::answer(&a, 0)));
    }
    let mut per_question: Vec<Vec<Duration>> = vec![Vec::new(); list.len()];
    let mut all = Vec::with_capacity(run.questions);
    let mut all_cpu = Vec::with_capacity(run.questions);
    for i in 0..run.questions.max(1) {
        let k = i % list.len();
        let cpu0 = thread_cpu();
        let (a, d) = timed(|| engine.ask(&list[k].question));
        if let (Some(a), Some(b)) = (cpu0, thread_cpu()) {
            all_cpu.push(b.saturating_sub(a));
        }
        std::hint::black_box(a?);
        per_question[k].push(d);
        all.push(d);
    }
    let mut by_kind = Vec::new();
    for kind in KINDS {
        let samples: Vec<Duration> = list
            .iter()
            .zip(&per_question)
            .filter(|(bq, _)| bq.kind == *kind)
            .flat_map(|(_, s)| s.iter().copied())
            .collect();
        by_kind.push(KindLatency {
            kind: (*kind).to_owned(),
            stats: Stats::of(&samples),
        });
    }
    let mut render = Vec::new();
    let mut questions = Vec::new();
    for (bq, samples) in list.iter().zip(&per_question) {
        let a = engine.ask(&bq.question)?;
        for _ in 0..(run.questions / list.len()).clamp(1, 50) {
            let (text, d) = timed(|| reply::to_text(&reply::answer(&a, 0)));
            std::hint::black_box(text);
            render.push(d);
        }
        questions.push(QuestionFigure {
            kind: bq.kind.to_owned(),
            text: bq.question.text.clone(),
            speaker: bq.question.speaker.clone(),
            hits: a.hits.len(),
            total: a.total,
            p50_us: Stats::of(samples).p50_us,
        });
    }
    let ask = Ask {
        all: Stats::of(&all),
        all_cpu: Stats::of(&all_cpu),
        by_kind,
    };
    let render = Stats::of(&render);

    // 4. Throughput.
    let mut throughput = Vec::new();
    for threads in 1..=run.threads.max(1) {
        log(&format!("throughput on {threads} thread(s)"));
        throughput.push(measure_throughput(&engine, &list, run.questions, threads)?);
    }

    // 5. Summaries.
    log("speaker summaries");
    let summary = measure_summaries(&engine, &loaded, run.summary_reps)?;

    // 6. Profile.
    log("profiling the hot path");
    let profile = measure_profile(&engine, &loaded, &list, run.questions, render.mean_us)?;

    // 7. Memory while serving (before spawning anything).
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let memory = Memory {
        vm_hwm_kb: status_kb(&status, "VmHWM:"),
        vm_rss_kb: status_kb(&status, "VmRSS:"),
        rss_anon_kb: status_kb(&status, "RssAnon:"),
        rss_file_kb: status_kb(&status, "RssFile:"),
        built_in_process,
        source: "VmHWM of /proc/self/status".to_owned(),
    };

    // The parts of opening load extra analysers: after the memory reading.
    let open = Open {
        engine_open_ms: ms(open_time),
        ..measure_open(&data, &loaded)?
    };

    // 8. Cold start.
    let cold_start = match &bot {
        Some(bot) => {
            log(&format!("cold start: {} process(es)", run.cold_runs));
            Some(measure_cold_start(
                bot,
                &engine_opts.data_dir,
                run.cold_runs,
            )?)
        }
        None => None,
    };

    let index = IndexSize {
        generation: g.name.clone(),
        bytes: size_bytes,
        files: size_files,
        ratio: size_bytes as f64 / corpus.text_bytes.max(1) as f64,
    };
    Ok(Report {
        corpus,
        machine: Machine {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            load_before,
            load_after: loadavg(),
        },
        build: builds,
        index,
        open,
        ask,
        render,
        throughput,
        summary,
        profile,
        memory,
        cold_start,
        questions,
    })
}

/// The parts of opening, each timed on its own (best of three: they are
/// short and the first run pays for page faults).
fn measure_open(data: &DataDir, loaded: &Loaded) -> Result<Open, BenchError> {
    let best = |f: &mut dyn FnMut() -> Result<(), BenchError>| -> Result<f64, BenchError> {
        let mut best = f64::MAX;
        for _ in 0..3 {
            let start = Instant::now();
            f()?;
            best = best.min(ms(start.elapsed()));
        }
        Ok(best)
    };
    let g = &loaded.generation;
    let freshness_ms = best(&mut || {
        std::hint::black_box(index::freshness(data)?);
        Ok(())
    })?;
    let catalog_path = g.dir.join("catalog.json");
    let catalog_ms = best(&mut || {
        let bytes = std::fs::read(&catalog_path).map_err(|source| BenchError::Io {
            path: catalog_path.clone(),
            source,
        })?;
        let c: Result<Catalog, _> = serde_json::from_slice(&bytes);
        std::hint::black_box(c.ok());
        Ok(())
    })?;
    let jieba_ms = best(&mut || {
        std::hint::black_box(Analyzer::new(std::iter::empty()));
        Ok(())
    })?;
    let user_words = g.catalog.user_words().count();
    let jieba_user_words_ms = best(&mut || {
        std::hint::black_box(Analyzer::new(g.catalog.user_words()));
        Ok(())
    })?;
    let speakers_ms = best(&mut || {
        std::hint::black_box(SpeakerDirectory::new(&g.catalog));
        Ok(())
    })?;
    let tantivy_open_ms = best(&mut || {
        let index = tantivy::Index::open_in_dir(&g.dir)?;
        let reader: tantivy::IndexReader = index
            .reader_builder()
            .reload_policy(tantivy::ReloadPolicy::Manual)
            .try_into()?;
        std::hint::black_box(reader.searcher().num_docs());
        Ok(())
    })?;
    Ok(Open {
        engine_open_ms: 0.0,
        freshness_ms,
        catalog_ms,
        jieba_ms,
        jieba_user_words_ms,
        user_words,
        speakers_ms,
        tantivy_open_ms,
    })
}

fn measure_throughput(
    engine: &Engine,
    list: &[BenchQuestion],
    questions: usize,
    threads: usize,
) -> Result<Throughput, BenchError> {
    let per_thread = questions.max(threads) / threads;
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let results: Vec<Result<(), AskError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || -> Result<(), AskError> {
                    // Each thread starts elsewhere in the list, so they do
                    // not ask the same question at the same moment.
                    for i in 0..per_thread {
                        let k = (i + t * list.len() / threads) % list.len();
                        std::hint::black_box(engine.ask(&list[k].question)?);
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Ok(())))
            .collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    for r in results {
        r?;
    }
    let cpu = match (cpu0, cpu_seconds()) {
        (Some(a), Some(b)) => b - a,
        _ => 0.0,
    };
    let total = per_thread * threads;
    let qps = total as f64 / elapsed.max(1e-9);
    Ok(Throughput {
        threads,
        questions: total,
        elapsed_s: elapsed,
        qps,
        qps_per_core: qps / threads as f64,
        cpu_utilisation: cpu / elapsed.max(1e-9),
        qps_per_cpu_s: if cpu > 0.0 { total as f64 / cpu } else { 0.0 },
    })
}

/// Summaries of the first transcript's first two speakers and of the
/// speaker with the most turns in the corpus (the worst case).
fn measure_summaries(
    engine: &Engine,
    loaded: &Loaded,
    reps: usize,
) -> Result<Vec<SummaryLatency>, BenchError> {
    let dir = &loaded.speakers;
    let mut picks: Vec<usize> = Vec::new();
    if let Some(t) = loaded.generation.catalog.transcripts.first() {
        for s in t.speakers.iter().take(2) {
            if let Some(&i) = dir.resolve(&s.name).first() {
                picks.push(i);
            }
        }
    }
    if let Some((i, _)) = dir.entries.iter().enumerate().max_by_key(|(_, e)| e.turns) {
        if !picks.contains(&i) {
            picks.push(i);
        }
    }
    let mut out = Vec::new();
    for i in picks {
        let e = &dir.entries[i];
        std::hint::black_box(summary::speaker_uncached(
            loaded,
            engine.options(),
            &e.name,
        )?);
        let mut samples = Vec::new();
        for _ in 0..reps.max(1) {
            // The computation, not the per-generation memo's copy of it.
            let (s, d) = timed(|| summary::speaker_uncached(loaded, engine.options(), &e.name));
            std::hint::black_box(s?);
            samples.push(d);
        }
        out.push(SummaryLatency {
            speaker: e.name.clone(),
            turns: e.turns,
            transcripts: e.transcripts.len(),
            stats: Stats::of(&samples),
        });
    }
    Ok(out)
}

/// The hot path of `search::ask_in`, stage by stage, timed by the engine
/// itself (`search::ask_timed`), so the profile measures exactly the code
/// that answers. Speaker-only questions take another path and are left out;
/// their cost shows in the per-kind latencies.
fn measure_profile(
    engine: &Engine,
    loaded: &Loaded,
    list: &[BenchQuestion],
    questions: usize,
    render_mean_us: f64,
) -> Result<Profile, BenchError> {
    let opts = engine.options();
    let reps = (questions / list.len()).clamp(3, 200);
    let mut t = [Duration::ZERO; 5];
    let mut asks = Duration::ZERO;
    let mut n = 0usize;
    let mut candidates = 0usize;
    for bq in list {
        let qn = &bq.question;
        if engine.ask(qn)?.terms.is_empty() {
            continue;
        }
        for _ in 0..reps {
            let (r, d) = timed(|| engine.ask(qn));
            std::hint::black_box(r?);
            asks += d;
            let (answer, stages) = search::ask_timed(loaded, opts, qn)?;
            std::hint::black_box(answer);
            for (slot, d) in t.iter_mut().zip([
                stages.parse,
                stages.terms,
                stages.search,
                stages.fetch,
                stages.rerank,
            ]) {
                *slot += d;
            }
            candidates += stages.candidates;
            n += 1;
        }
    }
    let per = |d: Duration| {
        if n == 0 {
            0.0
        } else {
            d.as_secs_f64() * 1e6 / n as f64
        }
    };
    let pieces: Vec<f64> = t.iter().map(|d| per(*d)).collect();
    Ok(Profile {
        questions: n,
        parse_us: pieces[0],
        terms_us: pieces[1],
        search_us: pieces[2],
        candidates_mean: if n == 0 {
            0.0
        } else {
            candidates as f64 / n as f64
        },
        fetch_us: pieces[3],
        rerank_us: pieces[4],
        render_us: render_mean_us,
        pieces_sum_us: pieces.iter().sum::<f64>() + render_mean_us,
        ask_mean_us: per(asks),
    })
}

fn measure_cold_start(exe: &Path, data_dir: &Path, runs: usize) -> Result<ColdStart, BenchError> {
    let args = |c: &mut Command| {
        c.arg("--data")
            .arg(data_dir)
            .args(["ask", "--json", "銀行如何做數字化營銷?"])
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
    };
    let mut walls = Vec::new();
    for _ in 0..runs {
        let mut c = Command::new(exe);
        args(&mut c);
        let start = Instant::now();
        let out = c.output().map_err(|source| BenchError::Io {
            path: exe.to_owned(),
            source,
        })?;
        let d = start.elapsed();
        if !out.status.success() || !out.stdout.starts_with(b"{") {
            return Err(BenchError::Child(format!(
                "{} exited with {}: {}",
                exe.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        walls.push(d);
    }
    walls.sort();
    let time = Path::new("/usr/bin/time");
    let (max_rss_kb, rss_source) = if time.exists() {
        let mut c = Command::new(time);
        c.arg("-v").arg(exe);
        args(&mut c);
        match c.output() {
            Ok(out) if out.status.success() => {
                let err = String::from_utf8_lossy(&out.stderr);
                let kb = err
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
                    .and_then(|v| v.trim().parse().ok());
                (kb, "/usr/bin/time -v".to_owned())
            }
            _ => (None, "/usr/bin/time -v failed".to_owned()),
        }
    } else {
        (None, "not measured (/usr/bin/time missing)".to_owned())
    };
    Ok(ColdStart {
        runs,
        median_ms: ms(walls[walls.len() / 2]),
        min_ms: ms(walls[0]),
        max_ms: ms(walls[walls.len() - 1]),
        max_rss_kb,
        rss_source,
    })
}

/// The report as a readable table.
pub fn to_table(r: &Report) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let c = &r.corpus;
    let _ = writeln!(
        s,
        "forumbot bench · {} · {} transcripts, {} passages, {:.1} MB of text, {} speakers",
        c.data_dir,
        c.transcripts,
        c.passages,
        c.text_bytes as f64 / 1e6,
        c.speakers
    );
    let la = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.2}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let _ = writeln!(
        s,
        "machine: {} cores, load {} before, {} after\n",
        r.machine.cores,
        la(&r.machine.load_before),
        la(&r.machine.load_after)
    );
    let row = |s: &mut String, name: &str, value: String| {
        let _ = writeln!(s, "  {name:<34} {value}");
    };
    let lat = |st: &Stats| {
        format!(
            "p50 {:>8.1} µs  p99 {:>8.1} µs  max {:>8.1} µs  (n={})",
            st.p50_us, st.p99_us, st.max_us, st.n
        )
    };
    s.push_str("index\n");
    for b in &r.build {
        row(
            &mut s,
            &format!("build, {} thread(s)", b.threads),
            format!(
                "{:.2} s  {:.2} MB/s  ({:.2} CPU s, {:.2} MB per CPU s, peak RSS {:.0} MB)",
                b.elapsed_s,
                b.mb_per_s,
                b.cpu_s,
                b.mb_per_cpu_s,
                b.peak_rss_kb as f64 / 1024.0
            ),
        );
    }
    row(
        &mut s,
        "size on disk",
        format!(
            "{:.1} MB in {} files ({:.2}× the text)",
            r.index.bytes as f64 / 1e6,
            r.index.files,
            r.index.ratio
        ),
    );
    s.push_str("open (page cache warm)\n");
    let o = &r.open;
    row(
        &mut s,
        "Engine::open",
        format!("{:.1} ms", o.engine_open_ms),
    );
    row(
        &mut s,
        "  freshness check",
        format!("{:.1} ms", o.freshness_ms),
    );
    row(&mut s, "  catalog.json", format!("{:.1} ms", o.catalog_ms));
    row(
        &mut s,
        "  jieba (no user words)",
        format!("{:.1} ms", o.jieba_ms),
    );
    row(
        &mut s,
        "  jieba + names",
        format!("{:.1} ms ({} names)", o.jieba_user_words_ms, o.user_words),
    );
    row(
        &mut s,
        "  speaker directory",
        format!("{:.1} ms", o.speakers_ms),
    );
    row(
        &mut s,
        "  tantivy open",
        format!("{:.1} ms", o.tantivy_open_ms),
    );
    s.push_str("ask, warm\n");
    row(&mut s, "all questions", lat(&r.ask.all));
    row(&mut s, "all questions, CPU time", lat(&r.ask.all_cpu));
    for k in &r.ask.by_kind {
        row(&mut s, &format!("  {}", k.kind), lat(&k.stats));
    }
    row(&mut s, "render (answer + to_text)", lat(&r.render));
    s.push_str("throughput\n");
    for t in &r.throughput {
        row(
            &mut s,
            &format!("{} thread(s)", t.threads),
            format!(
                "{:>6.0} q/s  {:>6.0} q/s per core  {:>6.0} q per CPU s  (CPU busy {:.2})",
                t.qps, t.qps_per_core, t.qps_per_cpu_s, t.cpu_utilisation
            ),
        );
    }
    s.push_str("speaker summary\n");
    for x in &r.summary {
        row(
            &mut s,
            &format!(
                "{} ({} turns, {} transcripts)",
                x.speaker, x.turns, x.transcripts
            ),
            format!(
                "p50 {:.2} ms  max {:.2} ms",
                x.stats.p50_us / 1e3,
                x.stats.max_us / 1e3
            ),
        );
    }
    s.push_str("where the time goes (mean per question with words)\n");
    let p = &r.profile;
    for (name, v) in [
        ("analysis: fold + speakers", p.parse_us),
        ("analysis: jieba + doc freqs", p.terms_us),
        ("tantivy search (top candidates)", p.search_us),
        ("stored-field fetch", p.fetch_us),
        ("rerank: fold + cover + highlight", p.rerank_us),
        ("render", p.render_us),
    ] {
        let share = if p.pieces_sum_us > 0.0 {
            100.0 * v / p.pieces_sum_us
        } else {
            0.0
        };
        row(&mut s, name, format!("{v:>8.1} µs  {share:>4.0} %"));
    }
    row(
        &mut s,
        "sum of pieces / real ask",
        format!(
            "{:.1} µs / {:.1} µs ({:.1} candidates)",
            p.pieces_sum_us, p.ask_mean_us, p.candidates_mean
        ),
    );
    s.push_str("memory\n");
    let m = &r.memory;
    row(
        &mut s,
        "peak RSS serving (VmHWM)",
        format!(
            "{:.1} MB{}",
            m.vm_hwm_kb as f64 / 1024.0,
            if m.built_in_process {
                " (built in this process, peak reset after)"
            } else {
                ""
            }
        ),
    );
    row(
        &mut s,
        "RSS now: anonymous / file",
        format!(
            "{:.1} MB / {:.1} MB",
            m.rss_anon_kb as f64 / 1024.0,
            m.rss_file_kb as f64 / 1024.0
        ),
    );
    if let Some(cs) = &r.cold_start {
        s.push_str("cold start (spawn to answer, page cache warm)\n");
        row(
            &mut s,
            &format!("ask --json, {} runs", cs.runs),
            format!(
                "median {:.1} ms  min {:.1} ms  max {:.1} ms",
                cs.median_ms, cs.min_ms, cs.max_ms
            ),
        );
        row(
            &mut s,
            "peak RSS of one run",
            match cs.max_rss_kb {
                Some(kb) => format!("{:.1} MB ({})", kb as f64 / 1024.0, cs.rss_source),
                None => cs.rss_source.clone(),
            },
        );
    }
    s.push_str("questions\n");
    for x in &r.questions {
        let who = x
            .speaker
            .as_deref()
            .map(|w| format!(" [--speaker {w}]"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "  {:<12} {:>3} hits {:>5} total {:>8.1} µs  {}{}",
            x.kind, x.hits, x.total, x.p50_us, x.text, who
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<Duration> = (1..=100).rev().map(Duration::from_micros).collect();
        let s = Stats::of(&v);
        let near = |a: f64, b: f64| (a - b).abs() < 1e-6;
        assert_eq!(s.n, 100);
        assert!(near(s.p50_us, 50.0) && near(s.p99_us, 99.0), "{s:?}");
        assert!(near(s.max_us, 100.0) && near(s.mean_us, 50.5), "{s:?}");
        let one = Stats::of(&[Duration::from_micros(7)]);
        assert!(near(one.p50_us, 7.0) && near(one.p99_us, 7.0), "{one:?}");
        assert_eq!(Stats::of(&[]).n, 0);
    }
}
