//! Command-line front end: the clap tree and the one-shot subcommands; the
//! long-running ones are handed to [`crate::serve`]. Thin: parse, call the
//! engine, render with [`crate::reply`] or print the JSON contract. Only
//! `main` uses it: nothing in the library imports the command line.
//!
//! Exit codes: 0 success (also for "no hits"), 2 bad input, 1 internal error.

use crate::app;
use crate::error::Failure;
use crate::index::{self, DataDir};
use crate::reply;
use crate::search::Question;
use crate::serve::{self, open_engine, progress_printer};
use crate::settings::Settings;
use crate::summary;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "forumbot",
    version,
    about = "Answers questions about forum transcripts with verbatim, attributed quotes."
)]
pub struct Cli {
    /// Data directory (transcripts/ and index/); overrides the `data.dir` setting.
    #[arg(long, global = true, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// A settings file layered over config/default.toml.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ask a question; prints the best quotes (builds the index on first use).
    ///
    /// Options may come before or after the question; a question that starts
    /// with a dash goes after `--` (`forumbot ask -- -5% 利率`).
    Ask {
        /// Only quotes of this speaker (name, alias or pinyin).
        #[arg(long)]
        speaker: Option<String>,
        /// How many quotes, from 1 to the `search.max_limit` setting
        /// (default: the `search.default_limit` setting).
        #[arg(long)]
        limit: Option<usize>,
        /// Skip this many quotes: the next page of an answer ("(more: --offset N)").
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// The question (several words are joined with spaces).
        #[arg(required = true, num_args = 1..)]
        question: Vec<String>,
    },
    /// Summarise one speaker: role, turns, share, keywords, key quotes.
    Speaker {
        #[arg(long)]
        json: bool,
        /// Name, alias or pinyin.
        #[arg(required = true, num_args = 1..)]
        name: Vec<String>,
    },
    /// Rebuild the index from the transcripts (atomically replaces the old one).
    Index,
    /// Remove a transcript (kept until it changes again), or undo the last
    /// change of one (`--undo`: the version a correction replaced, or the
    /// transcript removed, comes back).
    Remove {
        /// Take the last change of the transcript back instead of removing it.
        #[arg(long)]
        undo: bool,
        /// The transcript's id (`forumbot transcripts` lists them).
        id: String,
    },
    /// List the indexed transcripts, with their version and date.
    Transcripts {
        #[arg(long)]
        json: bool,
    },
    /// Serve the transcript pages that answer links open.
    Web,
    /// Run the Discord bot (and the transcript pages); needs a token in the environment.
    Run,
    /// A local session: type /ask, /speaker, /transcripts, /reindex, /help; replies print as in Discord.
    Console,
    /// Score a question file (forum format with `gold`, or archive format
    /// with `context`): hit@1/3/5, MRR@5, abstention, per kind, misses.
    Eval {
        /// One JSON question per line.
        file: PathBuf,
        /// Print the whole report as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let mut line = serde_json::to_vec(value).map_err(anyhow::Error::from)?;
    line.push(b'\n');
    print_bytes(&line)
}

fn print_text(text: &str) -> Result<(), Failure> {
    print_bytes(text.as_bytes())
}

/// Writes to stdout. A reader that has gone away (`forumbot ask … | head`)
/// is a normal, quiet end, not an error.
fn print_bytes(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::Internal(e.into())),
        _ => Ok(()),
    }
}

/// The limit asked for, or the default; outside `1..=search.max_limit` it is
/// refused (exit 2) with the range, never silently clamped.
pub fn checked_limit(limit: Option<usize>, settings: &Settings) -> Result<usize, Failure> {
    let limits = app::Limits::new(settings);
    let max = limits.max_limit;
    match limit {
        None => Ok(limits.default_limit),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(Failure::user(format!(
            "--limit {n} is out of range: give a number from 1 to {max} (setting search.max_limit)"
        ))),
    }
}

/// Most quotes `--offset` may skip: paging past this is not reading, and
/// the engine fetches offset + limit candidates.
pub const MAX_OFFSET: usize = 1000;

/// Runs a one-shot subcommand.
pub fn run(command: Command, settings: &Settings) -> Result<(), Failure> {
    match command {
        Command::Ask {
            speaker,
            limit,
            offset,
            json,
            question,
        } => {
            let limit = checked_limit(limit, settings)?;
            if offset > MAX_OFFSET {
                return Err(Failure::user(format!(
                    "--offset {offset} is out of range: give a number from 0 to {MAX_OFFSET}"
                )));
            }
            let engine = open_engine(settings)?;
            let q = Question {
                text: question.join(" "),
                speaker,
                limit,
                offset,
            };
            let answer = engine.ask(&q)?;
            if json {
                print_json(&answer)
            } else {
                print_text(&reply::to_text(&app::answer(&engine, &answer, offset)))
            }
        }
        Command::Speaker { json, name } => {
            let engine = open_engine(settings)?;
            let loaded = engine.snapshot();
            let s = summary::speaker(&loaded, engine.options(), &name.join(" "))?;
            if json {
                print_json(&s)
            } else {
                print_text(&reply::to_text(&reply::summary(&s)))
            }
        }
        Command::Index => {
            let data = DataDir::new(&settings.data.dir);
            let report = index::build_waiting(
                &data,
                settings.index.threads,
                std::time::Duration::from_secs(settings.index.lock_wait_seconds),
                &progress_printer(),
            )?;
            let mut text = format!(
                "indexed {} transcript(s), {} passages, {:.1} KB of text in {:.2} s (generation {})\n",
                report.transcripts.len(),
                report.passages,
                report.text_bytes as f64 / 1024.0,
                report.elapsed.as_secs_f64(),
                report.generation
            );
            for t in report.transcripts.iter().take(50) {
                let turns: Vec<String> = t
                    .turns_per_speaker
                    .iter()
                    .map(|(n, c)| format!("{n} {c}"))
                    .collect();
                text.push_str(&format!(
                    "  {}  {}\n    turns: {}\n",
                    t.id,
                    t.title,
                    turns.join(", ")
                ));
            }
            if report.transcripts.len() > 50 {
                text.push_str(&format!("  … and {} more\n", report.transcripts.len() - 50));
            }
            print_text(&text)
        }
        Command::Remove { undo, id } => {
            let engine = open_engine(settings)?;
            let done = crate::ingest::remove(&engine, &id, undo, &progress_printer())?;
            let mut text = if undo {
                let kept = done.kept.map_or(String::new(), |k| {
                    format!("; version {k} is kept instead (`forumbot remove --undo {id}` again swaps back)")
                });
                format!(
                    "restored {} ({}) to version {}{kept}\n",
                    done.id, done.title, done.version
                )
            } else {
                format!(
                    "removed {} ({}, version {}); it is kept until it changes again: `forumbot remove --undo {}` brings it back\n",
                    done.id, done.title, done.version, done.id
                )
            };
            text.push_str(&format!(
                "indexed {} transcript(s), {} passages (generation {})\n",
                done.report.transcripts.len(),
                done.report.passages,
                done.report.generation
            ));
            print_text(&text)
        }
        Command::Web => serve::pages(settings),
        Command::Run => serve::bot(settings),
        Command::Console => {
            // A session, not a one-shot: started by the wiring like the bot.
            serve::console(settings)
        }
        Command::Eval { file, json } => {
            let cases = crate::eval::load(&file).map_err(|e| Failure::user(e.to_string()))?;
            let engine = open_engine(settings)?;
            let report = crate::eval::run(&engine, &cases)?;
            if json {
                print_json(&report)
            } else {
                print_text(&report.to_text())
            }
        }
        Command::Transcripts { json } => {
            let engine = open_engine(settings)?;
            let loaded = engine.snapshot();
            let list = &loaded.generation.catalog.transcripts;
            if json {
                print_json(list)
            } else {
                print_text(&reply::to_text(&app::transcripts(&engine)))
            }
        }
    }
}
