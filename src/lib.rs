//! forumbot: answers questions about forum transcripts with verbatim,
//! speaker-attributed quotes found in a tantivy index. It never writes prose
//! of its own about a forum: every sentence about one is a quote.
//!
//! Data flows one way: transcript → index → engine → search/summary → app
//! → reply → faces:
//!
//! - [`transcript`] parses files (with [`text`] folding and cutting words and
//!   [`conversation`] finding prompts and lead-ins);
//! - [`index`] builds a generation and swaps it in atomically;
//! - [`memo`] keeps what is computed once per generation;
//! - [`engine`] serves the current generation: open, refresh by a watcher,
//!   reindex, uploads ([`ingest`] validates them); a read is an `Arc` clone;
//! - [`search`] (snapshot + question → answer) and [`summary`] (snapshot +
//!   name → summary) are pure, and link quotes through [`links`], the one
//!   place that knows the transcript pages' URLs;
//! - [`forums`] knows the transcripts as people name them (id, title
//!   words, date) and who spoke how much in each, and [`chart`] draws that
//!   (SVG, PNG or text bars);
//! - [`app`] holds the use cases every face shares and [`error`] tells the
//!   user's mistakes from ours, once; [`reply`] renders replies for Discord,
//!   the console or JSON;
//! - the faces: `discord`, [`console`], [`cli`], and [`web`] (the pages the
//!   links open); [`serve`] wires them to one engine and stops them on a
//!   signal. No face imports another.

pub mod app;
pub mod chart;
pub mod cli;
pub mod console;
pub mod conversation;
pub mod discord;
pub mod engine;
pub mod error;
pub mod eval;
pub mod forums;
pub mod highlight;
pub mod index;
pub mod ingest;
pub mod keywords;
pub mod lexicon;
pub mod links;
pub mod memo;
pub mod reply;
pub mod search;
pub mod semantic;
pub mod serve;
pub mod settings;
pub mod speaker_passages;
pub mod speakers;
pub mod summary;
pub mod text;
pub mod transcript;
pub mod versions;
pub mod web;

#[cfg(test)]
pub(crate) mod test_support;

pub use engine::{Engine, EngineOptions};
pub use search::{Answer, Hit, Question};
