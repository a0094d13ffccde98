//! Benchmarks (issue 5): a reproducible corpus generator and the `bench`
//! subcommand.

pub mod gen;

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
}

/// The bundled transcript, the source of the generated sentences.
pub const SOURCE: &str = include_str!("../../data/transcripts/000_075a307d861b3240.txt");

pub fn run(cmd: BenchCommand, _settings: &Settings) -> Result<(), CliError> {
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
    }
}
