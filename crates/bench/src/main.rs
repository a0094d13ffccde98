//! Benchmarks (issue 5): a reproducible corpus generator (`bench gen`) and
//! the measurements (`bench run`, see [`run`]). `bench/run.sh` at the repo
//! root runs both at 1×, 100× and 10,000× the bundled transcript.

pub mod gen;
pub mod run;

use crate::cli::CliError;
use crate::settings::Settings;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Write a reproducible corpus of N generated transcripts to DIR/transcripts.
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
    /// Build the index once and print its timing as JSON (`bench run` runs
    /// this in a child process, so the build's memory stays out of serving).
    #[command(hide = true)]
    Build {
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
}

/// The bundled transcript, the source of the generated sentences.
pub const SOURCE: &str = include_str!("../../data/transcripts/000_075a307d861b3240.txt");

pub fn run(cmd: BenchCommand, settings: &Settings) -> Result<(), CliError> {
    match cmd {
        BenchCommand::Gen {
            transcripts,
            seed,
            out,
        } => {
            let report = gen::generate(SOURCE, &gen::GenOptions { transcripts, seed }, &out)
                .map_err(|e| CliError::Internal(e.into()))?;
            println!(
                "wrote {} transcripts, {} turns, {:.1} MB to {}",
                report.transcripts,
                report.turns,
                report.bytes as f64 / 1e6,
                out.join("transcripts").display()
            );
            Ok(())
        }
        BenchCommand::Build { threads } => {
            let data = crate::index::DataDir::new(&settings.data.dir);
            let build = run::build_once(&data, threads).map_err(bench_error)?;
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
            };
            let report = run::run(&settings.engine_options(), &opts, &|line| {
                eprintln!("forumbot bench: {line}")
            })
            .map_err(bench_error)?;
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

fn bench_error(e: run::BenchError) -> CliError {
    match e {
        run::BenchError::Index(e) => CliError::from(e),
        e => CliError::Internal(e.into()),
    }
}
