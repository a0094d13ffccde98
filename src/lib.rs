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
//! - [`engine`] serves the current generation: open, refresh by a watcher,
//!   reindex, uploads ([`ingest`] validates them); a read is an `Arc` clone;
//! - [`search`] (snapshot + question → answer) and [`summary`] (snapshot +
//!   name → summary) are pure, and link quotes through [`links`], the one
//!   place that knows the transcript pages' URLs;
//! - [`app`] holds the use cases every face shares and [`error`] tells the
//!   user's mistakes from ours, once; [`reply`] renders replies for Discord,
//!   the console or JSON;
//! - the faces: `discord`, [`console`], [`cli`], and [`web`] (the pages the
//!   links open); [`serve`] wires them to one engine and stops them on a
//!   signal. No face imports another.

pub mod app;
pub mod cli;
pub mod console;
pub mod conversation;
pub mod discord;
pub mod engine;
pub mod error;
pub mod eval;
pub mod index;
pub mod ingest;
pub mod lexicon;
pub mod links;
pub mod reply;
pub mod search;
pub mod serve;
pub mod settings;
pub mod speakers;
pub mod summary;
pub mod text;
pub mod transcript;
pub mod versions;
pub mod web;

pub use engine::{Engine, EngineOptions};
pub use search::{Answer, Hit, Question};
