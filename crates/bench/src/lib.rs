//! forumbot's benchmarks, apart from the bot: a reproducible corpus generator
//! ([`gen`]) and the measurements ([`run`]). They use only forumbot's public
//! API and, for cold starts, its binary; nothing here ships in the bot.
//! The `forumbot-bench` binary runs them; `bench/run.sh` at the repository
//! root runs both at 1×, 100× and 10,000× the bundled transcript.

pub mod gen;
pub mod run;

/// The bundled transcript, the source of the generated sentences: compiled
/// into the bench binary so `gen` needs no path and gives the same bytes
/// wherever it runs.
pub const SOURCE: &str = include_str!("../../../data/transcripts/000_075a307d861b3240.txt");
