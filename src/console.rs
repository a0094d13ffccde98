//! Local console (issue 4): placeholder until it lands.

use crate::search::Engine;
use crate::settings::Settings;
use std::io::{BufRead, Write};
use std::sync::Arc;

/// Reads commands from `input`, writes replies to `output`.
pub fn run(
    _engine: Arc<Engine>,
    _settings: &Settings,
    _input: impl BufRead,
    _output: impl Write,
) -> anyhow::Result<()> {
    anyhow::bail!("the console is not built yet")
}
