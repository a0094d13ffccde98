//! Command-line front end: the clap tree and the one-shot subcommands; the
//! long-running ones are handed to [`crate::serve`]. Thin: parse, call the
//! engine, render with [`crate::reply`] or print the JSON contract. Only
//! `main` uses it: nothing in the library imports the command line.
//!
//! Exit codes: 0 success (also for "no hits"), 2 bad input, 1 internal error.

use crate::app;
use crate::error::Failure;
use crate::index::{self, DataDir};
use crate::reply::{self, TextFace, TextStyle};
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
        /// Only quotes of this transcript: its id, words of its title, event
        /// or place, or its date (`--transcript 2018`, `--transcript 金融科技峰會`).
        #[arg(long, value_name = "ID|TITLE-WORDS")]
        transcript: Option<String>,
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
    /// List the indexed transcripts (version, date, who spoke how much), or
    /// show one.
    Transcripts {
        #[arg(long)]
        json: bool,
        /// One transcript (id, title words, date or place): each speaker's
        /// share of the words and turns, the order of turns, the exchanges.
        #[arg(num_args = 0..)]
        transcript: Vec<String>,
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
        /// Also write every candidate's evidence, judged right or wrong, one
        /// JSON object a line, to this file (what `tools/fit_policy.py` fits
        /// the answer policy on).
        #[arg(long, value_name = "OUT")]
        features: Option<PathBuf>,
    },
}

fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let mut line = serde_json::to_vec(value).map_err(anyhow::Error::from)?;
    line.push(b'\n');
    print_bytes(&line)
}

/// Prints text for a terminal: control characters become spaces, as in
/// transcript text ([`crate::transcript::for_terminal`]).
fn print_text(text: &str) -> Result<(), Failure> {
    print_bytes(crate::transcript::for_terminal(text).as_bytes())
}

/// Prints a reply rendered by [`reply::render_text`], which has already
/// turned the text's control characters into spaces and added only its own
/// emphasis codes (when stdout is a terminal).
fn print_rendered(text: &str) -> Result<(), Failure> {
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

/// Whether text output gets the terminal's emphasis (bold): only when
/// stdout is a terminal.
fn stdout_emphasis() -> bool {
    use std::io::IsTerminal;
    reply::emphasis_for(std::io::stdout().is_terminal())
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
            transcript,
            limit,
            offset,
            json,
            question,
        } => {
            let given_limit = limit;
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
                transcripts: app::transcript_ids(&engine, transcript.as_deref())?,
            };
            let answer = engine.ask(&q)?;
            if json {
                print_json(&answer)
            } else {
                let style = TextStyle {
                    face: TextFace::Cli { limit: given_limit },
                    ansi: stdout_emphasis(),
                };
                print_rendered(&reply::render_text(
                    &app::answer(&engine, &answer, offset),
                    &style,
                ))
            }
        }
        Command::Speaker { json, name } => {
            let engine = open_engine(settings)?;
            let loaded = engine.snapshot();
            let s = summary::speaker(&loaded, engine.options(), &name.join(" "))?;
            if json {
                print_json(&s)
            } else {
                print_rendered(&reply::render_text(
                    &reply::summary(&s),
                    &TextStyle::cli().with_ansi(stdout_emphasis()),
                ))
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
            // The vectors of the new generation, however many passages
            // are new: this is the command that embeds a big archive.
            let mut opts = settings.engine_options();
            opts.semantic.foreground_passages = usize::MAX;
            let started = std::time::Instant::now();
            let engine = crate::Engine::open(opts, &progress_printer())?.engine;
            let status = engine.semantic_status();
            if matches!(status, crate::semantic::Status::Ready { .. }) {
                text.push_str(&format!(
                    "{status}, vectors ready in {:.2} s\n",
                    started.elapsed().as_secs_f64()
                ));
            } else {
                text.push_str(&format!("{status}\n"));
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
        Command::Eval {
            file,
            json,
            features,
        } => {
            let cases = crate::eval::load(&file).map_err(|e| Failure::user(e.to_string()))?;
            let engine = open_engine(settings)?;
            if let Some(out) = features {
                let rows = crate::eval::features(&engine, &cases)?;
                std::fs::write(&out, rows)
                    .map_err(|e| Failure::user(format!("cannot write {}: {e}", out.display())))?;
            }
            let report = crate::eval::run(&engine, &cases)?;
            if json {
                print_json(&report)
            } else {
                print_text(&report.to_text())
            }
        }
        Command::Transcripts { json, transcript } if !transcript.is_empty() => {
            let engine = open_engine(settings)?;
            let loaded = engine.snapshot();
            // An unknown or ambiguous name is bad input (exit 2), with the
            // transcripts to pick from.
            let i = loaded.forums.resolve(&transcript.join(" "))?;
            let id = loaded.forums.id(i);
            if json {
                print_json(
                    &loaded
                        .forums
                        .participation(&loaded.generation, id)?
                        .as_deref(),
                )
            } else {
                print_text(&reply::to_text(&app::transcript(&engine, id)))
            }
        }
        Command::Transcripts { json, .. } => {
            let engine = open_engine(settings)?;
            let loaded = engine.snapshot();
            let list = &loaded.generation.catalog.transcripts;
            if json {
                print_json(list)
            } else {
                print_rendered(&reply::render_text(
                    &app::transcripts(&engine),
                    &TextStyle::cli().with_ansi(stdout_emphasis()),
                ))
            }
        }
    }
}
