//! Transcript pages (issue 3): placeholder until the web server lands.

use crate::search::Engine;
use std::sync::Arc;

/// Serves the transcript pages on `listen` until `shutdown` resolves.
pub async fn serve(
    _engine: Arc<Engine>,
    _listen: &str,
    _shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    anyhow::bail!("the transcript pages are not built yet")
}
