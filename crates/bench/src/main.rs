//! The `forumbot-bench` binary: `gen` writes a reproducible corpus, `run`
//! measures a data directory and prints the table (or JSON). Options and
//! output are those of the former `forumbot bench gen|run`.
//!
//! Exit codes as the bot's: 0 success, 2 bad input (a data directory whose
//! transcripts are refused or missing, bad settings), 1 anything else.

use clap::{Parser, Subcommand};
use forumbot::error::{Classify, Kind};
use forumbot::index::DataDir;
use forumbot::settings::Settings;
use forumbot_bench::{gen, run, SOURCE};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(
    name = "forumbot-bench",
    version,
    about = "forumbot's benchmarks and corpus generator."
)]
struct Cli {
    /// Data directory (transcripts/ and index/); overrides the `data.dir` setting.
    #[arg(long, global = true, value_name = "DIR")]
    data: Option<PathBuf>,
    /// A settings file layered over config/default.toml.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Write a reproducible corpus of N generated transcripts to DIR/transcripts,
    /// and say how long that took (the generator's benchmark).
    Gen {
        #[arg(long, default_value_t = 100)]
        transcripts: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Measure the data directory (--data DIR): index build and size, warm
    /// ask latency, throughput, summaries, memory, cold start; prints a table.
    Run {
        /// Timed questions for the latency run and for each throughput run.
        #[arg(long, default_value_t = 2000)]
        questions: usize,
        /// Measure throughput on 1 up to this many threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Index builds to time, by indexing threads (comma-separated).
        #[arg(long, value_delimiter = ',', default_values_t = [1usize, 2])]
        build_threads: Vec<usize>,
        /// Serve the existing index (built only if missing or stale).
        #[arg(long, conflicts_with = "build_threads")]
        no_build: bool,
        /// Processes spawned to time the cold start (0: skip).
        #[arg(long, default_value_t = 10)]
        cold_runs: usize,
        /// The forumbot binary the cold starts spawn (default: `forumbot`
        /// beside this binary, where cargo builds it).
        #[arg(long, value_name = "PATH")]
        forumbot: Option<PathBuf>,
        /// Timed repetitions of each speaker summary.
        #[arg(long, default_value_t = 5)]
        summary_reps: usize,
        /// Print the report as one JSON object instead of the table.
        #[arg(long)]
        json: bool,
        /// Also write the JSON report to FILE.
        #[arg(long, value_name = "FILE")]
        save: Option<PathBuf>,
    },
    /// Build the index once and print its timing as JSON (`run` runs this
    /// in a child process, so the build's memory stays out of serving).
    #[command(hide = true)]
    Build {
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
}

/// An error with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
enum Error {
    /// The input is wrong: exit 2.
    #[error("{0}")]
    User(String),
    /// Anything else: exit 1.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<run::BenchError> for Error {
    fn from(e: run::BenchError) -> Self {
        // The bot's own classification decides what is the user's to fix.
        match e {
            run::BenchError::Index(ref i) if i.kind() == Kind::User => Error::User(e.to_string()),
            e => Error::Other(e.into()),
        }
    }
}

fn main() -> ExitCode {
    let args = Cli::parse();
    let mut settings = match Settings::load(args.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("forumbot-bench: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = &args.data {
        settings.data.dir = dir.clone();
    }
    match execute(args.command, &settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::User(msg)) => {
            eprintln!("forumbot-bench: {msg}");
            ExitCode::from(2)
        }
        Err(Error::Other(err)) => {
            eprintln!("forumbot-bench: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn execute(cmd: BenchCommand, settings: &Settings) -> Result<(), Error> {
    match cmd {
        BenchCommand::Gen {
            transcripts,
            seed,
            out,
        } => {
            let started = Instant::now();
            let report = gen::generate(SOURCE, &gen::GenOptions { transcripts, seed }, &out)
                .map_err(anyhow::Error::from)?;
            let secs = started.elapsed().as_secs_f64();
            let mb = report.bytes as f64 / 1e6;
            println!(
                "wrote {} transcripts, {} turns, {mb:.1} MB to {} in {secs:.2} s ({:.1} MB/s)",
                report.transcripts,
                report.turns,
                out.join("transcripts").display(),
                mb / secs.max(1e-9)
            );
            Ok(())
        }
        BenchCommand::Build { threads } => {
            let data = DataDir::new(&settings.data.dir);
            let build = run::build_once(&data, threads)?;
            println!(
                "{}",
                serde_json::to_string(&build).map_err(anyhow::Error::from)?
            );
            Ok(())
        }
        BenchCommand::Run {
            questions,
            threads,
            build_threads,
            no_build,
            cold_runs,
            forumbot,
            summary_reps,
            json,
            save,
        } => {
            let opts = run::RunOptions {
                questions,
                threads,
                build_threads: if no_build { Vec::new() } else { build_threads },
                cold_runs,
                summary_reps,
                exe: None,
                forumbot,
            };
            let report = run::run(&settings.engine_options(), &opts, &|line| {
                eprintln!("forumbot-bench: {line}")
            })?;
            let as_json = || serde_json::to_string_pretty(&report).map_err(anyhow::Error::from);
            if let Some(path) = &save {
                std::fs::write(path, as_json()? + "\n")
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            }
            if json {
                println!("{}", as_json()?);
            } else {
                print!("{}", run::to_table(&report));
            }
            Ok(())
        }
    }
}
