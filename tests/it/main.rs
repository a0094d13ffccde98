//! forumbot's integration tests, one binary: each module is a former test
//! file, and [`support`] is what they share (temporary data directories,
//! running the built `forumbot` binary). The fake Discord server they talk
//! to is the `fake-discord` crate; the benchmarks' tests live in
//! `crates/bench/tests`.
//!
//! `cargo test --test it` runs them all, `cargo test --test it cli::` one
//! module.

mod cli;
mod console;
mod discord_e2e;
mod discord_processes;
mod forums;
mod load;
mod properties;
mod semantic;
mod summary;
mod support;
mod transcripts;
mod web;
