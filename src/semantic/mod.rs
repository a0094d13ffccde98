//! Meaning, not only shared words: the multilingual-e5-small embedding model
//! (the `e5` crate) fetched and verified ([`fetch`]), passage vectors stored
//! with each generation and reused by content ([`vectors`]), and the state a
//! process serves them in ([`Semantic`]).
//!
//! Guarantees: without the model (disabled, offline, no pip, a damaged
//! file) the bot answers lexically and says so once — a log line, the
//! [`Status`] that `/healthz`, `transcripts` and the index report show —
//! never a crash and never a silent downgrade. A generation is served as
//! soon as its lexical index is built; its vectors follow (in the
//! foreground for one-shot commands, in a background thread for serving
//! processes) and answers use them once they are there.

pub mod fetch;
pub mod vectors;

use crate::index::{Generation, IndexError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use vectors::{embedding_text, key_of, Reuse, Vectors};

/// How the semantic part is set up (from the `[semantic]` settings).
#[derive(Debug, Clone)]
pub struct SemanticOptions {
    pub enabled: bool,
    /// Directory holding `e5-small-q4.bin`.
    pub model_dir: PathBuf,
    /// Fetch the model with pip when it is missing.
    pub fetch: bool,
    /// A vectors file shared between archives (reused and extended by every
    /// build), or none.
    pub cache_file: Option<PathBuf>,
    /// Tokens of a passage embedded (the rest is cut): bounds index time.
    pub max_tokens: usize,
    /// One-shot commands embed at most this many new passages before
    /// answering; a larger archive answers lexically until `forumbot index`
    /// or a serving process has embedded it.
    pub foreground_passages: usize,
}

impl SemanticOptions {
    /// Switched off (unit tests, `semantic.enabled = false`).
    pub fn off() -> Self {
        SemanticOptions {
            enabled: false,
            model_dir: PathBuf::from("models"),
            fetch: false,
            cache_file: None,
            max_tokens: 256,
            foreground_passages: 20_000,
        }
    }
}

/// What the semantic part of the served generation is doing.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Status {
    /// Switched off in the settings.
    Off,
    /// The model cannot be had: answers are lexical.
    Unavailable { reason: String },
    /// Vectors are being computed (or wait for `forumbot index`).
    Pending { passages: usize },
    /// Every passage has its vector.
    Ready { passages: usize },
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Status::Off => write!(f, "semantic search off (semantic.enabled = false): answers match words only"),
            Status::Unavailable { reason } => write!(
                f,
                "semantic search unavailable, answers match words only: {reason}"
            ),
            Status::Pending { passages } => write!(
                f,
                "semantic search pending: {passages} passages are being embedded; answers match words until then"
            ),
            Status::Ready { passages } => write!(f, "semantic search on ({passages} passages embedded)"),
        }
    }
}

/// The process's model: loaded once, on first need.
pub struct Semantic {
    pub opts: SemanticOptions,
    model: OnceLock<Result<Arc<e5::Model>, String>>,
    /// Serialises embedding within the process.
    embedding: Mutex<()>,
}

impl std::fmt::Debug for Semantic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Semantic")
            .field("enabled", &self.opts.enabled)
            .finish()
    }
}

impl Semantic {
    pub fn new(opts: SemanticOptions) -> Self {
        Semantic {
            opts,
            model: OnceLock::new(),
            embedding: Mutex::new(()),
        }
    }

    /// The model, fetched and verified the first time; `Err` says why there
    /// is none (logged once, when first found).
    pub fn model(&self) -> Result<Arc<e5::Model>, String> {
        if !self.opts.enabled {
            return Err("switched off".into());
        }
        self.model
            .get_or_init(|| {
                let loaded = fetch::ensure(&self.opts.model_dir, self.opts.fetch)
                    .map_err(|e| e.to_string())
                    .and_then(|path| {
                        e5::Model::open(&path)
                            .map(Arc::new)
                            .map_err(|e| format!("{}: {e}", path.display()))
                    });
                if let Err(why) = &loaded {
                    tracing::warn!(reason = %why, "semantic search unavailable; answering by words only");
                }
                loaded
            })
            .clone()
    }

    /// Whether looking for the model already failed (it is not looked for
    /// again in this process).
    pub fn known_unavailable(&self) -> bool {
        matches!(self.model.get(), Some(Err(_)))
    }

    /// The status of a generation with or without its vectors.
    pub fn status(&self, vectors: Option<&Vectors>, passages: usize) -> Status {
        if !self.opts.enabled {
            return Status::Off;
        }
        match (self.model.get(), vectors) {
            (Some(Err(reason)), _) => Status::Unavailable {
                reason: reason.clone(),
            },
            (_, Some(v)) => Status::Ready { passages: v.len() },
            (_, None) => Status::Pending { passages },
        }
    }

    /// The vectors of `generation`: read from its directory, else computed
    /// (reusing what older generations and the cache file hold) and
    /// written there. `allow` bounds how many new passages may be embedded
    /// now; `Ok(None)` when more are needed.
    pub fn complete(
        &self,
        generation: &Generation,
        allow: usize,
        progress: &dyn Fn(usize, usize),
    ) -> Result<Option<Vectors>, IndexError> {
        let path = generation.dir.join(vectors::FILE);
        let expected = generation.manifest.passages;
        if let Some(v) = read_matching(&path, expected) {
            return Ok(Some(v));
        }
        let model = match self.model() {
            Ok(m) => m,
            Err(_) => return Ok(None),
        };
        let _one = self.embedding.lock().unwrap_or_else(|p| p.into_inner());
        // Another process may be embedding this generation: wait for it.
        let lock_path = generation.dir.join("vectors.lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .and_then(|f| f.lock().map(|()| f))
            .map_err(|source| IndexError::Io {
                path: lock_path.clone(),
                source,
            })?;
        if let Some(v) = read_matching(&path, expected) {
            return Ok(Some(v));
        }
        let texts = embedding_texts(generation)?;
        let mut reuse = Reuse::default();
        if let Some(parent) = generation.dir.parent() {
            for e in std::fs::read_dir(parent).into_iter().flatten().flatten() {
                if e.file_name().to_string_lossy().starts_with("gen-") {
                    reuse.add_file(&e.path().join(vectors::FILE));
                }
            }
        }
        if let Some(c) = &self.opts.cache_file {
            reuse.add_file(c);
        }
        let keys: Vec<u64> = texts.iter().map(|t| key_of(t)).collect();
        let missing: Vec<usize> = (0..texts.len())
            .filter(|&i| !reuse.contains(keys[i]))
            .collect();
        if missing.len() > allow {
            return Ok(None);
        }
        let started = std::time::Instant::now();
        let mut fresh = Vectors::default();
        for chunk in missing.chunks(32) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i].as_str()).collect();
            for (&i, v) in chunk
                .iter()
                .zip(model.embed_passages(&batch, self.opts.max_tokens))
            {
                fresh.push(keys[i], &v);
            }
            progress(fresh.len(), missing.len());
        }
        if !missing.is_empty() {
            tracing::info!(
                embedded = missing.len(),
                reused = texts.len() - missing.len(),
                seconds = started.elapsed().as_secs_f32(),
                "passages embedded"
            );
        }
        reuse.add(&fresh);
        let mut out = Vectors::default();
        for &k in &keys {
            reuse.take_into(k, &mut out);
        }
        out.write(&path).map_err(|e| IndexError::Io {
            path: path.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        if let (Some(c), false) = (&self.opts.cache_file, fresh.is_empty()) {
            let mut all = Vectors::read(c).unwrap_or_default();
            let known: std::collections::HashSet<u64> = all.keys.iter().copied().collect();
            for i in 0..out.len() {
                if !known.contains(&out.keys[i]) {
                    reuse.take_into(out.keys[i], &mut all);
                }
            }
            if let Some(dir) = c.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            if let Err(e) = all.write(c) {
                tracing::warn!(error = %e, "cannot update the embedding cache");
            }
        }
        drop(lock);
        Ok(Some(out))
    }
}

/// The vectors file of a generation, when it is whole and fits it.
pub fn read_matching(path: &Path, passages: usize) -> Option<Vectors> {
    match Vectors::read(path) {
        Ok(v) if v.len() == passages => Some(v),
        Ok(v) => {
            tracing::warn!(path = %path.display(), vectors = v.len(), passages, "vectors do not fit the generation; embedding again");
            None
        }
        Err(vectors::VectorsError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "unreadable vectors; embedding again");
            None
        }
    }
}

/// Every passage's embedding text, in passage order (`ord`).
pub fn embedding_texts(generation: &Generation) -> Result<Vec<String>, IndexError> {
    let searcher = generation.reader.searcher();
    let mut out = vec![String::new(); generation.ords.len()];
    for (ord, addr) in generation.ords.iter().enumerate() {
        let doc: tantivy::TantivyDocument = searcher.doc(*addr)?;
        let p = generation.stored(&doc);
        let (quote, _) = crate::search::quote_of(&p);
        out[ord] = embedding_text(
            p.speaker.as_deref(),
            p.role.as_deref(),
            p.prompt.as_ref().map(|x| x.text.as_str()),
            &quote,
        );
    }
    Ok(out)
}

/// The model for tests that need meaning (a few focused ones: most tests
/// run with the semantic part off).
#[cfg(test)]
pub(crate) mod testing {
    use super::SemanticOptions;
    use std::path::PathBuf;

    /// Semantic options over the checkout's model: `FORUMBOT_E5_MODEL_DIR`,
    /// else `data/models` beside `Cargo.toml` (where the README's first
    /// command puts it), fetched there when missing. `None` when the model
    /// cannot be had (offline, no pip) — then the caller skips, saying so —
    /// except in CI (`CI=true`), where that fails the test: CI runs the
    /// semantic path.
    pub(crate) fn options(cache_file: Option<PathBuf>) -> Option<SemanticOptions> {
        let dir = std::env::var_os("FORUMBOT_E5_MODEL_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/models"));
        match super::fetch::ensure(&dir, true) {
            Ok(_) => Some(SemanticOptions {
                enabled: true,
                model_dir: dir,
                fetch: false,
                cache_file,
                ..SemanticOptions::off()
            }),
            Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("CI runs the semantic path, and the model cannot be had: {e}")
            }
            Err(e) => {
                eprintln!("skipped: the embedding model cannot be had here ({e})");
                None
            }
        }
    }
}
