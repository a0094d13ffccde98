//! The `forumbot` binary: settings, logging, then the command line.

use clap::Parser;
use forumbot::cli::{self, Cli};
use forumbot::error::Failure;
use forumbot::settings::Settings;
use forumbot::transcript::for_terminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = Cli::parse();
    let mut settings = match Settings::load(args.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("forumbot: {}", for_terminal(&e.to_string()));
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = &args.data {
        settings.data.dir = dir.clone();
    }
    // Plain `forumbot`: the bot when a token is set, else the console.
    let command = args.command.unwrap_or_else(|| {
        if settings.discord.token.is_some() {
            cli::Command::Run
        } else {
            eprintln!("forumbot: {}", forumbot::discord::NO_TOKEN);
            eprintln!("forumbot: starting the local console; type /help");
            cli::Command::Console
        }
    });
    let long_running = matches!(command, cli::Command::Run | cli::Command::Web);
    init_tracing(&settings, if long_running { "info" } else { "warn" });
    match cli::run(command, &settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&e),
    }
}

/// Prints a failure on stderr, without control characters (a message may
/// echo a question, a name or a file name).
fn report(e: &Failure) -> ExitCode {
    let text = match e {
        Failure::User { message, .. } | Failure::Busy(message) => message.clone(),
        Failure::Internal(err) => format!("internal error: {err:#}"),
    };
    eprintln!("forumbot: {}", for_terminal(&text));
    ExitCode::from(e.exit_code())
}

/// `RUST_LOG` wins, then the `log.filter` setting, then `default`: the bot
/// and the web server log their progress, one-shot commands stay quiet.
/// Colours only on a terminal: a log file or a pipe gets plain text.
fn init_tracing(settings: &Settings, default: &str) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| Some(settings.log.filter.clone()).filter(|s| !s.is_empty()))
        .unwrap_or_else(|| default.to_owned());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
