//! The on-disk index: schema, building it from a directory of transcripts,
//! and swapping it in atomically.
//!
//! Layout under `DATA/index/`:
//!
//! ```text
//! CURRENT            name of the generation being served (replaced by rename)
//! gen-<stamp>/       a complete generation: tantivy files, catalog.json, manifest.json
//! tmp-<stamp>/       a generation being built (never served; removed on the next build)
//! build.lock         held while building, so two builders never race
//! refused.json       fingerprint of transcripts whose last rebuild was refused
//! ```
//!
//! A build writes a whole new generation, syncs it, and only then renames a
//! new `CURRENT` into place. Killed at any moment, the index is the old
//! generation or the new one, never a mix. If any transcript is refused, the
//! build stops before touching anything.
//!
//! Nothing here waits without a bound: the build lock is waited for at most
//! the time given (then [`IndexError::Busy`]), and only regular files are
//! read, so a FIFO named like a transcript or sidecar cannot block a build.
//! Pruning keeps the generation `CURRENT` names and the one it replaced (a
//! reader may still be opening it) and removes every other `gen-*` by name;
//! a reader whose generation vanished while it opened retries once with the
//! new `CURRENT`. Served generations are opened so that a read-only
//! filesystem still serves them.

use crate::conversation::{self, Place, Prompt};
use crate::text::{self, Analyzer, BigramTokenizer, WordTokenizer};
use crate::transcript::{self, Meta, Passage, Speaker, Transcript, TranscriptError};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};
use tantivy::{DocAddress, Index, IndexReader, ReloadPolicy, TantivyDocument};

const CURRENT: &str = "CURRENT";
const CATALOG: &str = "catalog.json";
const MANIFEST: &str = "manifest.json";
const LOCK: &str = "build.lock";
const REFUSED: &str = "refused.json";

/// How long [`build`] waits for another build to finish before giving up.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(60);

/// Errors of building or opening an index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Transcripts were refused: nothing was changed.
    #[error("{} transcript file(s) refused, index unchanged:\n{}", .0.len(), .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Refused(Vec<TranscriptError>),
    #[error(
        "no transcripts in {0}: add a .txt transcript there (see README, \"Transcript format\")"
    )]
    NoTranscripts(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("{path}: damaged index metadata: {message}")]
    Corrupt { path: PathBuf, message: String },
    /// Another process held the build lock for longer than we may wait.
    #[error("another build of this index is running (waited {} s for it): try again when it has finished", .waited.as_secs())]
    Busy { waited: Duration },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> IndexError + '_ {
    move |source| IndexError::Io {
        path: path.to_owned(),
        source,
    }
}

/// What is known about one indexed transcript without reading its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptInfo {
    pub meta: Meta,
    /// File name under `transcripts/`.
    pub file: String,
    pub speakers: Vec<Speaker>,
    pub turns: usize,
    pub turns_per_speaker: Vec<(String, usize)>,
    /// Characters spoken per speaker (letters and digits only).
    pub chars_per_speaker: Vec<(String, usize)>,
    pub passages: usize,
    /// Which version of the transcript this is, and since when
    /// ([`crate::versions`]).
    #[serde(default = "first_version")]
    pub version: u32,
    #[serde(default)]
    pub since_unix: u64,
    /// [`crate::versions::text_hash`] of the file: uploads of the same text
    /// are found without reading every transcript.
    #[serde(default)]
    pub text_hash: String,
}

fn first_version() -> u32 {
    1
}

/// Everything the engine knows about the corpus apart from the index itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub transcripts: Vec<TranscriptInfo>,
}

impl Catalog {
    /// All names and aliases, for jieba's user dictionary.
    pub fn user_words(&self) -> impl Iterator<Item = &str> {
        self.transcripts.iter().flat_map(|t| {
            t.speakers.iter().flat_map(|s| {
                std::iter::once(s.name.as_str()).chain(s.aliases.iter().map(String::as_str))
            })
        })
    }

    pub fn transcript(&self, id: &str) -> Option<&TranscriptInfo> {
        self.transcripts.iter().find(|t| t.meta.id == id)
    }
}

/// How a generation was built, to tell whether it is still current.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub analyzer_version: u32,
    pub fingerprint: String,
    pub built_at_unix: u64,
    pub transcripts: usize,
    pub passages: usize,
    pub text_bytes: u64,
}

/// The fields of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub transcript: Field,
    pub turn: Field,
    pub paragraph: Field,
    /// Position of the passage within its transcript (for pages).
    pub seq: Field,
    pub speaker: Field,
    pub role: Field,
    pub text: Field,
    pub bigrams: Field,
    /// Earlier text of the turn and the prompt the passage answers
    /// (indexed as words, so a passage is found through its context).
    pub context: Field,
    /// Stored: [`crate::conversation::flags`].
    pub flags: Field,
    /// Stored: the prompt the passage answers (turn, speaker, text).
    pub prompt_turn: Field,
    pub prompt_speaker: Field,
    pub prompt_text: Field,
    /// Stored: the lead-in or the substance quoted with this passage.
    pub partner: Field,
    /// Fast: the passage's place in the generation, 0.., the row of its
    /// vector in `vectors.bin`.
    pub ord: Field,
}

pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = TextOptions::default().set_stored().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(text::WORD_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let context = TextOptions::default().set_stored().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(text::WORD_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let grams = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(text::BIGRAM_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        transcript: b.add_text_field("transcript", STRING | STORED),
        turn: b.add_u64_field("turn", INDEXED | STORED | FAST),
        paragraph: b.add_u64_field("paragraph", STORED),
        seq: b.add_u64_field("seq", STORED | FAST),
        speaker: b.add_text_field("speaker", STRING | STORED),
        role: b.add_text_field("role", STORED),
        text: b.add_text_field("text", words),
        bigrams: b.add_text_field("bigrams", grams),
        context: b.add_text_field("context", context),
        flags: b.add_u64_field("flags", STORED),
        prompt_turn: b.add_u64_field("prompt_turn", STORED),
        prompt_speaker: b.add_text_field("prompt_speaker", STORED),
        prompt_text: b.add_text_field("prompt_text", STORED),
        partner: b.add_text_field("partner", STORED),
        ord: b.add_u64_field("ord", FAST),
    };
    (b.build(), fields)
}

/// An opened generation: index, reader, catalog and the analyser it was built with.
pub struct Generation {
    pub name: String,
    pub dir: PathBuf,
    pub index: Index,
    pub reader: IndexReader,
    pub fields: Fields,
    pub catalog: Catalog,
    pub manifest: Manifest,
    pub analyzer: Arc<Analyzer>,
    /// Passage `ord` → its document (for the vectors' rows).
    pub ords: Vec<DocAddress>,
}

impl std::fmt::Debug for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generation")
            .field("name", &self.name)
            .finish()
    }
}

fn register_tokenizers(index: &Index, analyzer: &Arc<Analyzer>) {
    index
        .tokenizers()
        .register(text::WORD_TOKENIZER, WordTokenizer(analyzer.clone()));
    index
        .tokenizers()
        .register(text::BIGRAM_TOKENIZER, BigramTokenizer);
}

/// Paths of a data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    pub root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataDir { root: root.into() }
    }
    pub fn transcripts(&self) -> PathBuf {
        self.root.join("transcripts")
    }
    pub fn index(&self) -> PathBuf {
        self.root.join("index")
    }

    /// The transcript files, sorted by name.
    pub fn transcript_files(&self) -> Result<Vec<PathBuf>, IndexError> {
        let dir = self.transcripts();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&dir)(e)),
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .filter(|p| {
                // Metadata never blocks; opening a FIFO would, forever.
                let regular = p.is_file();
                if !regular {
                    tracing::warn!(path = %p.display(), "not a regular file; skipped");
                }
                regular
            })
            .collect();
        // Sorted by file name: documents are numbered in this order, so two
        // builds of the same files assign the same document order.
        files.sort();
        Ok(files)
    }

    /// A cheap fingerprint of the transcripts: names, sizes and modification
    /// times of every transcript and sidecar (of the files symlinks point
    /// at). Any edit changes it.
    pub fn fingerprint(&self) -> Result<String, IndexError> {
        let dir = self.transcripts();
        let mut rows: Vec<String> = Vec::new();
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.filter_map(|e| e.ok()) {
                let p = e.path();
                if !p.extension().is_some_and(|x| x == "txt" || x == "toml") {
                    continue;
                }
                // Through a symlink, the file it points at: an edit of the
                // target is an edit of the transcript. A dangling link
                // counts as itself.
                let md = match std::fs::metadata(&p) {
                    Ok(md) => md,
                    Err(_) => e.metadata().map_err(io_err(&p))?,
                };
                let mtime = md
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                rows.push(format!(
                    "{}\t{}\t{}",
                    e.file_name().to_string_lossy(),
                    md.len(),
                    mtime
                ));
            }
        }
        rows.sort();
        Ok(format!("{:016x}", fnv1a(rows.join("\n").as_bytes())))
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

/// Whether the data directory has an index, and whether it is up to date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    Missing,
    Stale(&'static str),
    Fresh,
}

/// The generation name `CURRENT` holds, if it is a sane one.
pub(crate) fn current_name(data: &DataDir) -> Option<String> {
    let name = std::fs::read_to_string(data.index().join(CURRENT))
        .ok()?
        .trim()
        .to_owned();
    if !name.starts_with("gen-") || name.contains(['/', '\\']) {
        return None;
    }
    Some(name)
}

fn read_manifest(dir: &Path) -> Option<Manifest> {
    let manifest = std::fs::read(dir.join(MANIFEST)).ok()?;
    serde_json::from_slice(&manifest).ok()
}

/// Reads `CURRENT` and the manifest it points at.
pub fn current_generation(data: &DataDir) -> Option<(String, Manifest)> {
    let name = current_name(data)?;
    let manifest = read_manifest(&data.index().join(&name))?;
    Some((name, manifest))
}

pub fn freshness(data: &DataDir) -> Result<Freshness, IndexError> {
    let Some((_, manifest)) = current_generation(data) else {
        return Ok(Freshness::Missing);
    };
    if manifest.analyzer_version != text::ANALYZER_VERSION {
        return Ok(Freshness::Stale("the text analyser changed"));
    }
    if manifest.fingerprint != data.fingerprint()? {
        return Ok(Freshness::Stale("the transcripts changed"));
    }
    Ok(Freshness::Fresh)
}

/// Opens the generation `CURRENT` names. A build that finished while we
/// were opening may have pruned it: then `CURRENT` is read again, once.
pub fn open(data: &DataDir) -> Result<Option<Generation>, IndexError> {
    let Some(name) = current_name(data) else {
        return Ok(None);
    };
    open_or_retry(data, name).map(Some)
}

/// Opens generation `name` (read from `CURRENT` a moment ago); if it has
/// vanished meanwhile, opens the one `CURRENT` names now.
fn open_or_retry(data: &DataDir, name: String) -> Result<Generation, IndexError> {
    match open_named(data, name.clone()) {
        Ok(g) => Ok(g),
        Err(e) if !data.index().join(&name).exists() => match current_name(data) {
            Some(now) if now != name => {
                tracing::info!(gone = %name, current = %now, "generation pruned while opening; opening the current one");
                open_named(data, now)
            }
            _ => Err(e),
        },
        Err(e) => Err(e),
    }
}

fn open_named(data: &DataDir, name: String) -> Result<Generation, IndexError> {
    let dir = data.index().join(&name);
    let manifest_path = dir.join(MANIFEST);
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(&manifest_path).map_err(io_err(&manifest_path))?)
            .map_err(|e| IndexError::Corrupt {
                path: manifest_path.clone(),
                message: e.to_string(),
            })?;
    let catalog_path = dir.join(CATALOG);
    let catalog: Catalog =
        serde_json::from_slice(&std::fs::read(&catalog_path).map_err(io_err(&catalog_path))?)
            .map_err(|e| IndexError::Corrupt {
                path: catalog_path.clone(),
                message: e.to_string(),
            })?;
    let analyzer = Arc::new(Analyzer::new(catalog.user_words()));
    open_generation(name, dir, catalog, manifest, analyzer)
}

/// A generation's files as tantivy sees them. Generations are never written
/// once current, so when the reader's metadata lock file cannot be created
/// (a read-only filesystem) reading goes on without it.
#[derive(Debug, Clone)]
struct GenerationDir(tantivy::directory::MmapDirectory);

mod generation_dir {
    use super::GenerationDir;
    use std::path::Path;
    use std::sync::Arc;
    use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
    use tantivy::directory::{
        Directory, DirectoryLock, FileHandle, Lock, WatchCallback, WatchHandle, WritePtr, META_LOCK,
    };

    impl Directory for GenerationDir {
        fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
            self.0.get_file_handle(path)
        }
        fn delete(&self, path: &Path) -> Result<(), DeleteError> {
            self.0.delete(path)
        }
        fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
            self.0.exists(path)
        }
        fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
            self.0.open_write(path)
        }
        fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
            self.0.atomic_read(path)
        }
        fn atomic_write(&self, path: &Path, data: &[u8]) -> std::io::Result<()> {
            self.0.atomic_write(path, data)
        }
        fn sync_directory(&self) -> std::io::Result<()> {
            self.0.sync_directory()
        }
        fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
            match self.0.acquire_lock(lock) {
                // The metadata lock only guards against a writer deleting
                // segment files; nobody writes a finished generation.
                Err(LockError::IoError(e)) if lock.filepath == META_LOCK.filepath => {
                    tracing::debug!(error = %e, "no metadata lock file (read-only?); reading without it");
                    Ok(DirectoryLock::from(Box::new(())))
                }
                other => other,
            }
        }
        fn watch(&self, cb: WatchCallback) -> tantivy::Result<WatchHandle> {
            self.0.watch(cb)
        }
    }
}

/// Opens a generation directory with its catalog and analyser in hand.
fn open_generation(
    name: String,
    dir: PathBuf,
    catalog: Catalog,
    manifest: Manifest,
    analyzer: Arc<Analyzer>,
) -> Result<Generation, IndexError> {
    let files =
        tantivy::directory::MmapDirectory::open(&dir).map_err(tantivy::TantivyError::from)?;
    let index = Index::open(GenerationDir(files))?;
    register_tokenizers(&index, &analyzer);
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?;
    let (_, fields) = schema();
    let ords = ord_table(&reader.searcher(), manifest.passages, &dir)?;
    Ok(Generation {
        name,
        dir,
        index,
        reader,
        fields,
        catalog,
        manifest,
        analyzer,
        ords,
    })
}

/// Where each passage `ord` lives; every ord below `passages` once.
fn ord_table(
    searcher: &tantivy::Searcher,
    passages: usize,
    dir: &Path,
) -> Result<Vec<DocAddress>, IndexError> {
    let corrupt = |message: String| IndexError::Corrupt {
        path: dir.to_owned(),
        message,
    };
    let mut ords: Vec<Option<DocAddress>> = vec![None; passages];
    for (seg, reader) in searcher.segment_readers().iter().enumerate() {
        let column = reader.fast_fields().u64("ord")?;
        for doc in 0..reader.max_doc() {
            if reader.is_deleted(doc) {
                continue;
            }
            let ord = column
                .first(doc)
                .ok_or_else(|| corrupt(format!("passage {doc} has no ord")))?;
            let slot = ords
                .get_mut(ord as usize)
                .ok_or_else(|| corrupt(format!("ord {ord} past {passages} passages")))?;
            *slot = Some(DocAddress::new(seg as u32, doc));
        }
    }
    ords.into_iter()
        .enumerate()
        .map(|(i, a)| a.ok_or_else(|| corrupt(format!("no passage has ord {i}"))))
        .collect()
}

/// Sets generation `name` aside when it cannot be opened (a cut
/// `catalog.json`, a missing segment file): renamed to
/// `damaged-<name>-<stamp>`, kept for inspection and never served or pruned,
/// and `CURRENT` pointed at the newest other generation with a manifest (or
/// removed when there is none, so the next open builds). Under the build
/// lock, waiting at most `wait`; nothing is done if `CURRENT` names another
/// generation by then. Returns the new name of the damaged one.
pub fn set_aside(data: &DataDir, name: &str, wait: Duration) -> Result<Option<String>, IndexError> {
    let index_dir = data.index();
    let _lock = BuildLock::acquire(&index_dir, wait)?;
    if current_name(data).as_deref() != Some(name) {
        return Ok(None);
    }
    let aside = format!("damaged-{name}-{}", stamp());
    std::fs::rename(index_dir.join(name), index_dir.join(&aside)).map_err(io_err(&index_dir))?;
    let mut good: Vec<String> = std::fs::read_dir(&index_dir)
        .map_err(io_err(&index_dir))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("gen-") && read_manifest(&index_dir.join(n)).is_some())
        .collect();
    // Generation names start with their build time: the last is the newest.
    good.sort();
    match good.last() {
        Some(newest) => {
            let current_tmp = index_dir.join(format!("{CURRENT}.tmp"));
            write_synced(&current_tmp, newest.as_bytes())?;
            std::fs::rename(&current_tmp, index_dir.join(CURRENT)).map_err(io_err(&index_dir))?;
        }
        None => std::fs::remove_file(index_dir.join(CURRENT)).map_err(io_err(&index_dir))?,
    }
    sync_dir(&index_dir)?;
    Ok(Some(aside))
}

/// What a build did, for people.
#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    pub generation: String,
    pub transcripts: Vec<TranscriptSummary>,
    pub passages: usize,
    pub text_bytes: u64,
    pub elapsed: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct TranscriptSummary {
    pub id: String,
    pub title: String,
    pub version: u32,
    pub turns_per_speaker: Vec<(String, usize)>,
}

/// Progress of a long build, for a progress line.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    Parsed {
        transcripts: usize,
    },
    Indexed {
        passages: usize,
        of: usize,
    },
    Committing,
    /// Passages given their vectors so far (new ones only; reused ones are
    /// not counted).
    Embedded {
        passages: usize,
        of: usize,
    },
}

/// Loads and validates every transcript of the data directory. All refusals
/// are collected, so one run names every bad file.
pub fn load_transcripts(data: &DataDir) -> Result<Vec<(String, Transcript)>, IndexError> {
    let files = data.transcript_files()?;
    if files.is_empty() {
        return Err(IndexError::NoTranscripts(data.transcripts()));
    }
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    let mut ids = std::collections::HashMap::new();
    for f in files {
        // Only regular files are opened: opening a FIFO blocks until someone
        // writes to it, which may be never.
        let sidecar = f.with_extension("toml");
        if std::fs::metadata(&sidecar).is_ok_and(|m| !m.is_file()) {
            errors.push(TranscriptError::Sidecar {
                path: sidecar,
                message:
                    "not a regular file (a FIFO, device or directory cannot be read as a sidecar)"
                        .into(),
            });
            continue;
        }
        match transcript::load(&f) {
            Ok(t) => {
                if let Some(first) = ids.insert(t.meta.id.clone(), f.clone()) {
                    errors.push(TranscriptError::Sidecar {
                        path: f.clone(),
                        message: format!(
                            "id {:?} is already used by {}",
                            t.meta.id,
                            first.display()
                        ),
                    });
                    continue;
                }
                let name = f
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                ok.push((name, t));
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(ok)
    } else {
        Err(IndexError::Refused(errors))
    }
}

fn info_of(file: String, t: &Transcript, passages: usize) -> TranscriptInfo {
    let chars_per_speaker = t
        .speakers
        .iter()
        .map(|s| {
            let n = t
                .turns
                .iter()
                .filter(|x| x.speaker == s.name)
                .flat_map(|x| x.paragraphs.iter())
                .map(|p| p.text.chars().filter(|c| c.is_alphanumeric()).count())
                .sum();
            (s.name.clone(), n)
        })
        .collect();
    TranscriptInfo {
        meta: t.meta.clone(),
        file,
        speakers: t.speakers.clone(),
        turns: t.turns.len(),
        turns_per_speaker: t.turns_per_speaker(),
        chars_per_speaker,
        passages,
        version: 1,
        since_unix: 0,
        text_hash: String::new(),
    }
}

/// Holds the build lock for as long as it lives.
struct BuildLock(std::fs::File);

impl BuildLock {
    /// Takes the lock, waiting at most `wait` for another builder to finish.
    fn acquire(index_dir: &Path, wait: Duration) -> Result<BuildLock, IndexError> {
        std::fs::create_dir_all(index_dir).map_err(io_err(index_dir))?;
        let path = index_dir.join(LOCK);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        let started = Instant::now();
        let mut said = false;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(BuildLock(file)),
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => return Err(io_err(&path)(e)),
            }
            let waited = started.elapsed();
            if waited >= wait {
                return Err(IndexError::Busy { waited: wait });
            }
            if !said {
                tracing::info!(
                    wait_s = wait.as_secs(),
                    "another build is running; waiting for it to finish"
                );
                said = true;
            }
            std::thread::sleep((wait - waited).min(Duration::from_millis(50)));
        }
    }
}

impl Drop for BuildLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// A refusal remembered so that unchanged transcripts are not parsed again
/// by every process that finds the index stale.
#[derive(Debug, Serialize, Deserialize)]
struct RefusedRecord {
    analyzer_version: u32,
    fingerprint: String,
    message: String,
}

/// The refusal message of the last rebuild, if the transcripts are still
/// exactly as they were then.
pub fn refused_before(data: &DataDir) -> Result<Option<String>, IndexError> {
    let Ok(bytes) = std::fs::read(data.index().join(REFUSED)) else {
        return Ok(None);
    };
    let Ok(record) = serde_json::from_slice::<RefusedRecord>(&bytes) else {
        return Ok(None);
    };
    let same = record.analyzer_version == text::ANALYZER_VERSION
        && record.fingerprint == data.fingerprint()?;
    Ok(same.then_some(record.message))
}

fn stamp() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{}{:06}-{}",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id()
    )
}

fn sync_dir(dir: &Path) -> Result<(), IndexError> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(io_err(dir))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), IndexError> {
    let mut f = std::fs::File::create(path).map_err(io_err(path))?;
    f.write_all(bytes).map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))
}

/// Builds a new generation from the transcripts of `data` and makes it
/// current. Nothing changes if a transcript is refused or the build fails.
/// Waits at most [`DEFAULT_LOCK_WAIT`] for another build.
pub fn build(
    data: &DataDir,
    threads: usize,
    progress: &dyn Fn(Progress),
) -> Result<BuildReport, IndexError> {
    build_waiting(data, threads, DEFAULT_LOCK_WAIT, progress)
}

/// [`build`], waiting at most `wait` for another build to finish.
pub fn build_waiting(
    data: &DataDir,
    threads: usize,
    wait: Duration,
    progress: &dyn Fn(Progress),
) -> Result<BuildReport, IndexError> {
    build_and_open_waiting(data, threads, wait, progress).map(|(report, _)| report)
}

/// [`build`], and the new generation opened for serving with the analyser
/// and catalog the build already holds (loading jieba again would cost
/// ~90 ms and 30 MB for nothing).
pub fn build_and_open(
    data: &DataDir,
    threads: usize,
    progress: &dyn Fn(Progress),
) -> Result<(BuildReport, Generation), IndexError> {
    build_and_open_waiting(data, threads, DEFAULT_LOCK_WAIT, progress)
}

/// [`build_and_open`], waiting at most `wait` for another build to finish.
pub fn build_and_open_waiting(
    data: &DataDir,
    threads: usize,
    wait: Duration,
    progress: &dyn Fn(Progress),
) -> Result<(BuildReport, Generation), IndexError> {
    let started = Instant::now();
    let lock = BuildLock::acquire(&data.index(), wait)?;
    build_locked(data, threads, progress, started, &lock)
}

/// What [`refresh`] did.
#[derive(Debug)]
pub enum Refresh {
    /// A new generation was built and is current.
    Built(Box<(BuildReport, Generation)>),
    /// Once the lock was ours, the index was already up to date (another
    /// process rebuilt it while we waited): nothing was built.
    AlreadyFresh,
    /// The transcripts are unchanged since a rebuild of them was refused
    /// (the refusal, as it was reported): not parsed again.
    RefusedBefore(String),
}

/// Brings the index up to date if it still needs it once the build lock is
/// held: any number of processes finding it stale together build it once.
/// Waits at most `wait` for the lock ([`IndexError::Busy`] after that).
pub fn refresh(
    data: &DataDir,
    threads: usize,
    wait: Duration,
    progress: &dyn Fn(Progress),
) -> Result<Refresh, IndexError> {
    let started = Instant::now();
    let lock = BuildLock::acquire(&data.index(), wait)?;
    match freshness(data)? {
        Freshness::Fresh => return Ok(Refresh::AlreadyFresh),
        Freshness::Missing => {}
        Freshness::Stale(_) => {
            if let Some(message) = refused_before(data)? {
                return Ok(Refresh::RefusedBefore(message));
            }
        }
    }
    build_locked(data, threads, progress, started, &lock).map(|x| Refresh::Built(Box::new(x)))
}

/// Builds with the build lock held (the lock is only asked for as proof).
fn build_locked(
    data: &DataDir,
    threads: usize,
    progress: &dyn Fn(Progress),
    started: Instant,
    _lock: &BuildLock,
) -> Result<(BuildReport, Generation), IndexError> {
    let index_dir = data.index();
    // Read the fingerprint before the transcripts: an edit made during the
    // build then makes this generation stale rather than silently current.
    let fingerprint = data.fingerprint()?;
    let transcripts = match load_transcripts(data) {
        Ok(t) => t,
        Err(e) => {
            if let IndexError::Refused(_) = &e {
                remember_refusal(&index_dir, &fingerprint, &e);
            }
            return Err(e);
        }
    };
    progress(Progress::Parsed {
        transcripts: transcripts.len(),
    });

    remove_leftovers(&index_dir);
    let previous = current_name(data);
    let tmp = index_dir.join(format!("tmp-{}", stamp()));
    std::fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
    let result = write_generation(
        &tmp,
        &data.transcripts(),
        &transcripts,
        &fingerprint,
        threads,
        progress,
    );
    let (catalog, manifest, analyzer) = match result {
        Ok(x) => x,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    let name = format!("gen-{}", stamp());
    let final_dir = index_dir.join(&name);
    if let Err(e) = std::fs::rename(&tmp, &final_dir) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(io_err(&final_dir)(e));
    }
    sync_dir(&index_dir)?;
    let current_tmp = index_dir.join(format!("{CURRENT}.tmp"));
    write_synced(&current_tmp, name.as_bytes())?;
    std::fs::rename(&current_tmp, index_dir.join(CURRENT)).map_err(io_err(&index_dir))?;
    sync_dir(&index_dir)?;
    let _ = std::fs::remove_file(index_dir.join(REFUSED));
    remove_old_generations(&index_dir, &name, previous.as_deref());

    let report = BuildReport {
        generation: name.clone(),
        transcripts: catalog
            .transcripts
            .iter()
            .map(|t| TranscriptSummary {
                id: t.meta.id.clone(),
                title: t.meta.title.clone(),
                version: t.version,
                turns_per_speaker: t.turns_per_speaker.clone(),
            })
            .collect(),
        passages: manifest.passages,
        text_bytes: manifest.text_bytes,
        elapsed: started.elapsed(),
    };
    let generation = open_generation(name, final_dir, catalog, manifest, analyzer)?;
    Ok((report, generation))
}

/// Notes a refusal beside the index (best effort: failing to note it only
/// costs a re-parse next time).
fn remember_refusal(index_dir: &Path, fingerprint: &str, e: &IndexError) {
    let record = RefusedRecord {
        analyzer_version: text::ANALYZER_VERSION,
        fingerprint: fingerprint.to_owned(),
        message: e.to_string(),
    };
    let tmp = index_dir.join(format!("{REFUSED}.tmp"));
    if std::fs::create_dir_all(index_dir).is_ok() && std::fs::write(&tmp, to_json(&record)).is_ok()
    {
        let _ = std::fs::rename(&tmp, index_dir.join(REFUSED));
    }
}

fn write_generation(
    dir: &Path,
    sources: &Path,
    transcripts: &[(String, Transcript)],
    fingerprint: &str,
    threads: usize,
    progress: &dyn Fn(Progress),
) -> Result<(Catalog, Manifest, Arc<Analyzer>), IndexError> {
    let (schema, f) = schema();
    let mut catalog = Catalog::default();
    let mut all: Vec<Passage> = Vec::new();
    let mut places: Vec<Place> = Vec::new();
    let ledger = crate::versions::Ledger::load(sources);
    for (file, t) in transcripts {
        let passages = t.passages();
        let mut info = info_of(file.clone(), t, passages.len());
        let stamp = ledger.stamp(sources, file);
        (info.version, info.since_unix, info.text_hash) =
            (stamp.version, stamp.since_unix, stamp.text_hash);
        catalog.transcripts.push(info);
        places.extend(conversation::places(t, &passages));
        all.extend(passages);
    }
    let analyzer = Arc::new(Analyzer::new(catalog.user_words()));
    let index = Index::create_in_dir(dir, schema)?;
    register_tokenizers(&index, &analyzer);
    let threads = threads.clamp(1, 8);
    let mut writer =
        index.writer_with_num_threads::<TantivyDocument>(threads, threads * 64_000_000)?;
    let mut text_bytes = 0u64;
    let mut seq = 0u64;
    let mut last_transcript = String::new();
    let total = all.len();
    for (i, p) in all.iter().enumerate() {
        if p.transcript != last_transcript {
            last_transcript.clone_from(&p.transcript);
            seq = 0;
        }
        let mut doc = TantivyDocument::default();
        doc.add_text(f.transcript, &p.transcript);
        doc.add_u64(f.turn, p.turn as u64);
        doc.add_u64(f.paragraph, p.paragraph as u64);
        doc.add_u64(f.seq, seq);
        doc.add_u64(f.ord, i as u64);
        if let Some(s) = &p.speaker {
            doc.add_text(f.speaker, s);
        }
        if let Some(r) = &p.role {
            doc.add_text(f.role, r);
        }
        doc.add_text(f.text, &p.text);
        doc.add_text(f.bigrams, &p.text);
        let place = &places[i];
        doc.add_u64(f.flags, place.flags);
        // The first value is the turn's context (what is read back); the
        // prompt is a second value, so the passage is found through it too.
        // Both are only ever matched, never shown: stored folded, so a
        // question does not fold them again for every candidate.
        doc.add_text(f.context, text::fold_str(&place.context));
        if let Some(prompt) = &place.prompt {
            doc.add_u64(f.prompt_turn, prompt.turn as u64);
            doc.add_text(f.prompt_speaker, &prompt.speaker);
            doc.add_text(f.prompt_text, &prompt.text);
            doc.add_text(f.context, text::fold_str(&prompt.text));
        }
        if let Some(partner) = &place.partner {
            doc.add_text(f.partner, partner);
        }
        writer.add_document(doc)?;
        seq += 1;
        text_bytes += p.text.len() as u64;
        if (i + 1) % 5000 == 0 {
            progress(Progress::Indexed {
                passages: i + 1,
                of: total,
            });
        }
    }
    progress(Progress::Indexed {
        passages: total,
        of: total,
    });
    progress(Progress::Committing);
    writer.commit()?;
    writer.wait_merging_threads()?;
    let manifest = Manifest {
        analyzer_version: text::ANALYZER_VERSION,
        fingerprint: fingerprint.to_owned(),
        built_at_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs(),
        transcripts: catalog.transcripts.len(),
        passages: total,
        text_bytes,
    };
    write_synced(&dir.join(CATALOG), &to_json(&catalog))?;
    write_synced(&dir.join(MANIFEST), &to_json(&manifest))?;
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))?.flatten() {
        if let Ok(file) = std::fs::File::open(entry.path()) {
            let _ = file.sync_all();
        }
    }
    sync_dir(dir)?;
    Ok((catalog, manifest, analyzer))
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    // Plain structs of strings and numbers: serialising them cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

/// Removes half-built generations left by a killed build. Only called with
/// the build lock held, so none of them is being written.
fn remove_leftovers(index_dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(index_dir) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with("tmp-") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

/// Keeps the current generation and the one it replaced (a process that
/// read `CURRENT` a moment ago may still be opening it) and removes every
/// other `gen-*` by name: older ones, and orphans a killed build renamed
/// into place but never made current. Called with the build lock held.
fn remove_old_generations(index_dir: &Path, current: &str, previous: Option<&str>) {
    let Ok(entries) = std::fs::read_dir(index_dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("gen-") && name != current && Some(name.as_str()) != previous {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Stored fields of one passage, as read back from the index.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StoredPassage {
    pub transcript: String,
    pub turn: u64,
    pub paragraph: u64,
    pub seq: u64,
    pub speaker: Option<String>,
    pub role: Option<String>,
    pub text: String,
    /// [`crate::conversation::flags`].
    pub flags: u64,
    /// Earlier text of the turn that frames the passage, folded.
    pub context: String,
    /// The prompt's text, folded (empty without a prompt).
    pub prompt_folded: String,
    pub prompt: Option<Prompt>,
    /// The lead-in or the substance quoted with this passage.
    pub partner: Option<String>,
}

impl StoredPassage {
    pub fn is(&self, flag: u64) -> bool {
        self.flags & flag != 0
    }
}

impl Generation {
    /// Reads the stored fields of a document.
    pub fn stored(&self, doc: &TantivyDocument) -> StoredPassage {
        use tantivy::schema::Value;
        let f = &self.fields;
        let s = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let n = |field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0);
        StoredPassage {
            transcript: s(f.transcript).unwrap_or_default(),
            turn: n(f.turn),
            paragraph: n(f.paragraph),
            seq: n(f.seq),
            speaker: s(f.speaker),
            role: s(f.role),
            text: s(f.text).unwrap_or_default(),
            flags: n(f.flags),
            context: s(f.context).unwrap_or_default(),
            prompt_folded: doc
                .get_all(f.context)
                .nth(1)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
                .unwrap_or_default(),
            prompt: match (n(f.prompt_turn), s(f.prompt_speaker), s(f.prompt_text)) {
                (turn, Some(speaker), Some(text)) if turn > 0 => Some(Prompt {
                    turn: turn as usize,
                    speaker,
                    text,
                }),
                _ => None,
            },
            partner: s(f.partner),
        }
    }

    /// How many passages hold `word` (folded) as a word of their text: the
    /// document frequency a word's rarity is weighed by.
    pub fn word_doc_freq(&self, searcher: &tantivy::Searcher, word: &str) -> tantivy::Result<u64> {
        searcher.doc_freq(&tantivy::Term::from_field_text(self.fields.text, word))
    }

    /// Every passage of one transcript, in order (for its page).
    pub fn transcript_passages(&self, id: &str) -> Result<Vec<StoredPassage>, IndexError> {
        use tantivy::collector::DocSetCollector;
        use tantivy::query::TermQuery;
        let searcher = self.reader.searcher();
        let q = TermQuery::new(
            tantivy::Term::from_field_text(self.fields.transcript, id),
            IndexRecordOption::Basic,
        );
        let addrs = searcher.search(&q, &DocSetCollector)?;
        let mut out = addrs
            .into_iter()
            .map(|a| searcher.doc::<TantivyDocument>(a).map(|d| self.stored(&d)))
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by_key(|p| p.seq);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::data_with;

    const SMALL: &str =
        "小論壇\n\n甲:我們談談營銷。\n\n乙:數據很重要。\n\n甲:謝謝。\n\n乙:不客氣。\n";

    #[test]
    fn build_then_open_and_freshness() {
        let (_t, data) = data_with(&[("a.txt", SMALL)]);
        assert_eq!(freshness(&data).unwrap(), Freshness::Missing);
        let report = build(&data, 1, &|_| {}).unwrap();
        assert_eq!(report.passages, 4);
        assert_eq!(freshness(&data).unwrap(), Freshness::Fresh);
        let g = open(&data).unwrap().unwrap();
        assert_eq!(g.reader.searcher().num_docs(), 4);
        assert_eq!(
            g.catalog.transcripts[0].turns_per_speaker,
            [("甲".into(), 2), ("乙".into(), 2)]
        );
        let page = g.transcript_passages("a").unwrap();
        assert_eq!(
            page.iter().map(|p| p.turn).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
        std::fs::write(data.transcripts().join("b.txt"), SMALL).unwrap();
        assert!(matches!(freshness(&data).unwrap(), Freshness::Stale(_)));
    }

    #[test]
    fn a_refused_transcript_changes_nothing_and_every_bad_file_is_named() {
        let (_t, data) = data_with(&[("a.txt", SMALL)]);
        let first = build(&data, 1, &|_| {}).unwrap().generation;
        std::fs::write(data.transcripts().join("bad1.txt"), b"\xff\xfe").unwrap();
        std::fs::write(data.transcripts().join("bad2.txt"), "只有文字。").unwrap();
        match build(&data, 1, &|_| {}) {
            Err(IndexError::Refused(errors)) => {
                let msg = IndexError::Refused(errors).to_string();
                assert!(
                    msg.contains("bad1.txt") && msg.contains("bad2.txt"),
                    "{msg}"
                );
            }
            other => panic!("expected refusal, got {other:?}"),
        }
        assert_eq!(current_generation(&data).unwrap().0, first);
        let leftovers: Vec<_> = std::fs::read_dir(data.index())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("tmp-"))
            .collect();
        assert!(leftovers.is_empty());
    }

    /// Runs `f` on a thread and fails the test if it takes more than 20 s
    /// (a hang must fail the test, not hang it).
    fn within_20s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(Duration::from_secs(20))
            .expect("did not finish within 20 s: it hangs")
    }

    fn mkfifo(path: &Path) {
        let ok = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap()
            .success();
        assert!(ok, "mkfifo {}", path.display());
    }

    fn gen_dirs(data: &DataDir) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(data.index())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("gen-"))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_fifo_named_like_a_sidecar_or_transcript_is_refused_not_opened() {
        let (t, data) = data_with(&[("a.txt", SMALL), ("b.txt", SMALL)]);
        mkfifo(&data.transcripts().join("b.toml"));
        mkfifo(&data.transcripts().join("c.txt"));
        let _keep = t;
        let d = data.clone();
        let result = within_20s(move || build(&d, 1, &|_| {}));
        match result {
            Err(IndexError::Refused(errors)) => {
                let msg = IndexError::Refused(errors).to_string();
                assert!(
                    msg.contains("b.toml") && msg.contains("regular file"),
                    "{msg}"
                );
            }
            other => panic!("expected the FIFO sidecar refused, got {other:?}"),
        }
        // Without the FIFO sidecar, the FIFO transcript is skipped.
        std::fs::remove_file(data.transcripts().join("b.toml")).unwrap();
        let d = data.clone();
        let report = within_20s(move || build(&d, 1, &|_| {})).unwrap();
        assert_eq!(report.transcripts.len(), 2);
    }

    #[test]
    fn waiting_for_the_build_lock_is_bounded() {
        let (_t, data) = data_with(&[("a.txt", SMALL)]);
        let held = BuildLock::acquire(&data.index(), Duration::ZERO).unwrap();
        let d = data.clone();
        let result = within_20s(move || build_waiting(&d, 1, Duration::from_millis(300), &|_| {}));
        match result {
            Err(e @ IndexError::Busy { .. }) => {
                assert!(e.to_string().contains("another build"), "{e}")
            }
            other => panic!("expected Busy, got {other:?}"),
        }
        drop(held);
        build_waiting(&data, 1, Duration::from_millis(300), &|_| {}).unwrap();
    }

    #[test]
    fn refresh_rechecks_freshness_once_it_holds_the_lock() {
        let (_t, data) = data_with(&[("a.txt", SMALL)]);
        assert!(matches!(
            refresh(&data, 1, Duration::ZERO, &|_| {}).unwrap(),
            Refresh::Built(_)
        ));
        let first = current_name(&data).unwrap();
        // A second process that saw it stale before the first one finished
        // finds it fresh once it has the lock, and builds nothing.
        assert!(matches!(
            refresh(&data, 1, Duration::ZERO, &|_| {}).unwrap(),
            Refresh::AlreadyFresh
        ));
        assert_eq!(current_name(&data).unwrap(), first);
    }

    #[test]
    fn a_refusal_is_remembered_until_the_transcripts_change() {
        let (_t, data) = data_with(&[("a.txt", SMALL)]);
        build(&data, 1, &|_| {}).unwrap();
        let bad = data.transcripts().join("bad.txt");
        std::fs::write(&bad, "只有文字。").unwrap();
        let parsed = std::cell::Cell::new(0);
        let count = |p: Progress| {
            if let Progress::Parsed { .. } = p {
                parsed.set(parsed.get() + 1)
            }
        };
        assert!(matches!(
            refresh(&data, 1, Duration::ZERO, &count),
            Err(IndexError::Refused(_))
        ));
        // Unchanged transcripts: not parsed again (a parse could only end in
        // Built or Refused), the refusal as it was reported is repeated.
        let fingerprint = data.fingerprint().unwrap();
        match refresh(&data, 1, Duration::ZERO, &count).unwrap() {
            Refresh::RefusedBefore(msg) => assert!(msg.contains("bad.txt"), "{msg}"),
            other => panic!("expected the remembered refusal, got {other:?}"),
        }
        assert_eq!(data.fingerprint().unwrap(), fingerprint);
        // Fixing the file changes the fingerprint: the next refresh builds.
        std::fs::write(&bad, "補充\n\n甲:好。\n\n乙:對。\n\n甲:謝。\n\n乙:嗯。\n").unwrap();
        assert!(matches!(
            refresh(&data, 1, Duration::ZERO, &count).unwrap(),
            Refresh::Built(_)
        ));
        assert_eq!(parsed.get(), 1);
        assert!(!data.index().join(REFUSED).exists());
    }

    #[test]
    fn pruning_keeps_the_replaced_generation_and_removes_orphans_by_name() {
        let (_t, data) = data_with(&[("a.txt", SMALL)]);
        let first = build(&data, 1, &|_| {}).unwrap().generation;
        // A build killed between renaming its directory and swapping
        // CURRENT leaves a complete generation nobody serves. Its stamp
        // sorts after every real one.
        let orphan = data.index().join("gen-99999999999999999999-1");
        std::fs::create_dir_all(&orphan).unwrap();
        std::fs::write(orphan.join(MANIFEST), "{}").unwrap();
        let second = build(&data, 1, &|_| {}).unwrap().generation;
        let mut expected = vec![first.clone(), second.clone()];
        expected.sort();
        assert_eq!(gen_dirs(&data), expected, "the orphan goes, {first} stays");
        let third = build(&data, 1, &|_| {}).unwrap().generation;
        let mut expected = vec![second, third];
        expected.sort();
        assert_eq!(gen_dirs(&data), expected);
    }

    #[test]
    fn a_reader_whose_generation_vanished_opens_the_current_one() {
        let (_t, data) = data_with(&[("a.txt", SMALL)]);
        build(&data, 1, &|_| {}).unwrap();
        let now = build(&data, 1, &|_| {}).unwrap().generation;
        // It read CURRENT when it named a generation pruned since.
        let g = open_or_retry(&data, "gen-1-1".to_owned()).unwrap();
        assert_eq!(g.name, now);
        assert_eq!(g.reader.searcher().num_docs(), 4);
    }

    #[test]
    fn a_generation_opens_where_no_lock_file_can_be_created() {
        let (_t, data) = data_with(&[("a.txt", SMALL)]);
        let name = build(&data, 1, &|_| {}).unwrap().generation;
        // As on a read-only filesystem: tantivy's metadata lock file cannot
        // be opened for writing (here: a directory stands in its place).
        let lock = data.index().join(&name).join(".tantivy-meta.lock");
        let _ = std::fs::remove_file(&lock);
        std::fs::create_dir(&lock).unwrap();
        let g = open(&data).unwrap().unwrap();
        assert_eq!(g.reader.searcher().num_docs(), 4);
    }

    #[test]
    fn transcripts_are_indexed_in_file_name_order() {
        let (_t, data) = data_with(&[("c.txt", SMALL), ("a.txt", SMALL), ("b.txt", SMALL)]);
        build(&data, 1, &|_| {}).unwrap();
        let g = open(&data).unwrap().unwrap();
        let ids: Vec<_> = g
            .catalog
            .transcripts
            .iter()
            .map(|t| t.meta.id.as_str())
            .collect();
        assert_eq!(ids, ["a", "b", "c"]);
        // With one writer thread documents are numbered in that order.
        let searcher = g.reader.searcher();
        let mut order = Vec::new();
        for (s, reader) in searcher.segment_readers().iter().enumerate() {
            for d in 0..reader.max_doc() {
                let doc: TantivyDocument =
                    searcher.doc(tantivy::DocAddress::new(s as u32, d)).unwrap();
                order.push(g.stored(&doc).transcript);
            }
        }
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted);
    }

    #[test]
    fn old_generations_are_pruned_keeping_one_previous() {
        let (_t, data) = data_with(&[("a.txt", SMALL)]);
        for _ in 0..4 {
            build(&data, 1, &|_| {}).unwrap();
        }
        let gens = std::fs::read_dir(data.index())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("gen-"))
            .count();
        assert_eq!(gens, 2);
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let sidecar = "id = \"same\"\n";
        let (_t, data) = data_with(&[
            ("a.txt", SMALL),
            ("a.toml", sidecar),
            ("b.txt", SMALL),
            ("b.toml", sidecar),
        ]);
        assert!(matches!(build(&data, 1, &|_| {}), Err(IndexError::Refused(e)) if e.len() == 1));
    }
}
