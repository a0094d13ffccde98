//! Discord front end (issue 4): placeholder until the bot lands.

use crate::search::Engine;
use crate::settings::Settings;
use std::sync::Arc;

/// Runs the bot until SIGINT/SIGTERM.
pub async fn run(_settings: Settings, _engine: Arc<Engine>) -> anyhow::Result<()> {
    anyhow::bail!("the Discord bot is not built yet")
}
