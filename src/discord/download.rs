//! Fetching `/reindex` attachments with a size limit that holds whatever the
//! server claims: the attachment's declared size is checked before asking,
//! the `Content-Length` before reading, and the running total while reading,
//! so an oversized file is never held in memory.

use crate::error::{Classify, Kind};
use futures::StreamExt;
use serenity::model::channel::Attachment;

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("{name} is too large ({size} bytes; at most {max} bytes): upload a smaller file")]
    TooLarge { name: String, size: u64, max: u64 },
    #[error("could not fetch {name}: {source}")]
    Fetch {
        name: String,
        #[source]
        source: reqwest::Error,
    },
}

/// Too large is the uploader's to fix; a fetch failure is ours or Discord's.
impl Classify for DownloadError {
    fn kind(&self) -> Kind {
        match self {
            DownloadError::TooLarge { .. } => Kind::User,
            DownloadError::Fetch { .. } => Kind::Internal,
        }
    }
}

/// Downloads `attachment` from the URL the interaction carries.
pub async fn attachment(
    client: &reqwest::Client,
    attachment: &Attachment,
    max: u64,
) -> Result<Vec<u8>, DownloadError> {
    let name = attachment.filename.clone();
    let too_large = |size: u64| DownloadError::TooLarge {
        name: name.clone(),
        size,
        max,
    };
    if u64::from(attachment.size) > max {
        return Err(too_large(attachment.size.into()));
    }
    let fetch = |source| DownloadError::Fetch {
        name: name.clone(),
        source,
    };
    let response = client
        .get(&attachment.url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(fetch)?;
    if let Some(len) = response.content_length() {
        if len > max {
            return Err(too_large(len));
        }
    }
    let mut bytes = Vec::with_capacity(u64::from(attachment.size).min(max) as usize);
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(fetch)?;
        let total = bytes.len() as u64 + chunk.len() as u64;
        if total > max {
            return Err(too_large(total));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
