//! forumbot: answers questions about forum transcripts with verbatim,
//! speaker-attributed quotes found in a tantivy index. It never writes prose
//! of its own about a forum: every sentence about one is a quote.
//!
//! Data flows one way: [`transcript`] parses files → [`index`] builds a
//! generation → [`search::Engine`] answers questions and [`summary`] sums up a
//! speaker → [`reply`] renders for Discord, the console or JSON → [`cli`] and
//! `discord` are thin front ends.

pub mod bench;
pub mod cli;
pub mod console;
pub mod conversation;
pub mod discord;
pub mod eval;
pub mod index;
pub mod ingest;
pub mod lexicon;
pub mod reply;
pub mod search;
pub mod settings;
pub mod speakers;
pub mod summary;
pub mod text;
pub mod transcript;
pub mod web;

// What the faces share (the use cases, why something failed) and the wiring.
pub mod app;
pub mod error;
pub mod serve;

pub use search::{Answer, Engine, EngineOptions, Hit, Question};
