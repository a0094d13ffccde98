//! The served index generation of one data directory: opening it (building
//! first when it is missing or stale), rebuilding it (`/reindex`, uploads),
//! and picking up a generation another process made current.
//!
//! Guarantees: a reader gets the current generation as an `Arc` clone
//! ([`Engine::snapshot`]), with no disk I/O and no waiting on a rebuild;
//! generations swap atomically, and a snapshot stays valid for as long as
//! it is held. Only a [`Watcher`] (started by a serving process, stopped
//! when dropped) looks at the disk for another process's generation; one
//! rebuild runs at a time within the process, and an upload whose rebuild
//! fails is taken back out, so a refused upload changes nothing.

use crate::forums::Forums;
use crate::index::{self, BuildReport, DataDir, Freshness, Generation, IndexError, Progress};
use crate::memo::Memo;
use crate::semantic::{vectors::Vectors, Semantic, SemanticOptions, Status};
use crate::speakers::SpeakerDirectory;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// How the engine is set up (from settings).
#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub data_dir: PathBuf,
    /// Base of the links in answers (`{public_url}/t/{id}#turn-N`).
    pub public_url: String,
    pub index_threads: usize,
    pub max_question_chars: usize,
    pub max_limit: usize,
    /// Share of a question's weight a passage must cover to be an answer.
    pub min_coverage: f32,
    /// BM25 candidates considered before re-ranking.
    pub candidates: usize,
    /// Longest wait for another process's build: `/reindex`, and opening
    /// with no index at all. A stale index is served at once instead.
    pub lock_wait: Duration,
    /// The embedding model and where vectors are kept.
    pub semantic: SemanticOptions,
    /// Embed new generations in the [`Watcher`]'s thread (serving
    /// processes) instead of before answering (one-shot commands).
    pub semantic_in_background: bool,
}

impl EngineOptions {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        EngineOptions {
            data_dir: data_dir.into(),
            public_url: "http://127.0.0.1:8080".into(),
            index_threads: 2,
            max_question_chars: 300,
            max_limit: 10,
            min_coverage: 0.5,
            candidates: 32,
            lock_wait: index::DEFAULT_LOCK_WAIT,
            semantic: SemanticOptions::off(),
            semantic_in_background: false,
        }
    }
}

/// The served generation and what is derived from it.
pub struct Loaded {
    pub generation: Generation,
    pub speakers: SpeakerDirectory,
    pub semantic: Arc<Semantic>,
    /// The passages' vectors, once they are there.
    vectors: RwLock<Option<Arc<Vectors>>>,
    /// Results computed once for this generation (summaries, speakers'
    /// passages), dropped with it.
    pub memo: Memo,
    /// The transcripts as people name them, and who spoke how much in each.
    pub forums: Forums,
}

impl Loaded {
    fn new(generation: Generation, semantic: Arc<Semantic>) -> Self {
        let speakers = SpeakerDirectory::new(&generation.catalog);
        let vectors = if semantic.opts.enabled {
            crate::semantic::read_matching(
                &generation.dir.join(crate::semantic::vectors::FILE),
                generation.manifest.passages,
            )
            .map(Arc::new)
        } else {
            None
        };
        let forums = Forums::new(&generation.catalog);
        Loaded {
            generation,
            speakers,
            semantic,
            vectors: RwLock::new(vectors),
            memo: Memo::default(),
            forums,
        }
    }

    /// The passages' vectors, when the semantic part is ready.
    pub fn vectors(&self) -> Option<Arc<Vectors>> {
        self.vectors
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The question as a vector, when passages can be compared with it.
    pub fn query_vector(&self, question: &str) -> Option<Vec<f32>> {
        self.vectors()?;
        let model = self.semantic.model().ok()?;
        Some(model.embed_query(question))
    }

    /// What the semantic part of this generation is doing.
    pub fn semantic_status(&self) -> Status {
        self.semantic
            .status(self.vectors().as_deref(), self.generation.manifest.passages)
    }
}

/// What opening the engine did, for people.
#[derive(Debug)]
pub struct Opened {
    pub engine: Engine,
    /// Set when the index was (re)built on the way.
    pub built: Option<BuildReport>,
    /// Set when the index is older than the transcripts but could not be
    /// rebuilt now, so the current generation is being served.
    pub not_refreshed: Option<NotRefreshed>,
}

/// Why a stale index is being served as it is.
#[derive(Debug, thiserror::Error)]
pub enum NotRefreshed {
    /// The rebuild refused a transcript.
    #[error("{0}")]
    Refused(IndexError),
    /// The transcripts are unchanged since a rebuild was refused.
    #[error("the transcripts are unchanged since this rebuild was refused:\n{0}")]
    RefusedBefore(String),
    /// Another process holds the build lock.
    #[error("another process is rebuilding the index; it is served as it was until that finishes")]
    Busy,
    /// The rebuild failed (disk full, read-only filesystem, …).
    #[error("the index could not be refreshed ({0}); it is served read-only as it was")]
    Failed(IndexError),
}

impl NotRefreshed {
    /// Why a rebuild that failed leaves the index as it is; `Err` when
    /// there is nothing to serve at all (no transcripts).
    fn why(e: IndexError) -> Result<NotRefreshed, IndexError> {
        match e {
            e @ IndexError::Refused(_) => Ok(NotRefreshed::Refused(e)),
            IndexError::Busy { .. } => Ok(NotRefreshed::Busy),
            e @ IndexError::NoTranscripts(_) => Err(e),
            e => Ok(NotRefreshed::Failed(e)),
        }
    }
}

/// The current generation could not be opened (`error`): it is set aside
/// (kept for inspection) and the index rebuilt; if the rebuild fails, the
/// newest good generation left is served as it is. The generation, what was
/// built, and why it is not fresh.
fn repair(
    data: &DataDir,
    opts: &EngineOptions,
    error: IndexError,
    progress: &dyn Fn(Progress),
) -> Result<(Generation, Option<BuildReport>, Option<NotRefreshed>), IndexError> {
    let Some(name) = index::current_name(data) else {
        return Err(error);
    };
    // Not set aside (another build holds the lock, a read-only disk): the
    // error stands.
    let Ok(Some(aside)) = index::set_aside(data, &name, opts.lock_wait) else {
        return Err(error);
    };
    tracing::warn!(generation = %name, kept_as = %aside, error = %error, "the current index generation could not be opened; it was set aside and the index is being rebuilt");
    match index::build_and_open_waiting(data, opts.index_threads, opts.lock_wait, progress) {
        Ok((report, g)) => Ok((g, Some(report), None)),
        Err(e) => match index::open(data) {
            Ok(Some(g)) => Ok((g, None, Some(NotRefreshed::why(e)?))),
            _ => Err(e),
        },
    }
}

/// The served generation of one data directory, shared by every caller
/// (answers: [`Engine::ask`] in [`crate::search`]).
pub struct Engine {
    opts: EngineOptions,
    data: DataDir,
    semantic: Arc<Semantic>,
    loaded: RwLock<Arc<Loaded>>,
    /// One rebuild (or refresh) at a time within this process.
    building: Mutex<()>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("data", &self.data.root)
            .finish()
    }
}

/// How often a serving engine's [`Watcher`] looks whether another process
/// swapped in a new generation.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(2);

impl Engine {
    /// Opens the index of the data directory, building it first when it is
    /// missing or older than the transcripts or the analyser.
    ///
    /// Never waits on another process's build when there is an index to
    /// serve: a stale index is then served as it is, with the reason in
    /// [`Opened::not_refreshed`] (a rebuild running, a refusal, or an I/O
    /// failure such as a full disk or a read-only filesystem). With no index
    /// at all it waits at most `lock_wait` for a running build.
    pub fn open(opts: EngineOptions, progress: &dyn Fn(Progress)) -> Result<Opened, IndexError> {
        let data = DataDir::new(&opts.data_dir);
        let mut built = None;
        let mut not_refreshed = None;
        let mut generation = None;
        let threads = opts.index_threads;
        match index::freshness(&data)? {
            Freshness::Fresh => {}
            Freshness::Missing => match index::refresh(&data, threads, opts.lock_wait, progress)? {
                index::Refresh::Built(b) => {
                    let (report, g) = *b;
                    built = Some(report);
                    generation = Some(g);
                }
                index::Refresh::AlreadyFresh | index::Refresh::RefusedBefore(_) => {}
            },
            Freshness::Stale(why) => {
                tracing::info!(reason = why, "index is out of date; rebuilding");
                match index::refresh(&data, threads, Duration::ZERO, progress) {
                    Ok(index::Refresh::Built(b)) => {
                        let (report, g) = *b;
                        built = Some(report);
                        generation = Some(g);
                    }
                    Ok(index::Refresh::AlreadyFresh) => {}
                    Ok(index::Refresh::RefusedBefore(message)) => {
                        not_refreshed = Some(NotRefreshed::RefusedBefore(message));
                    }
                    Err(e) => not_refreshed = Some(NotRefreshed::why(e)?),
                }
                // Said once, by whoever opened the engine (the command line
                // prints it), not again here.
                if let Some(why) = &not_refreshed {
                    tracing::debug!(reason = %why, "serving the index as it was");
                }
            }
        }
        let generation = match generation {
            Some(g) => g,
            None => match index::open(&data) {
                Ok(Some(g)) => g,
                Ok(None) => {
                    return Err(IndexError::Corrupt {
                        path: data.index(),
                        message: "no current generation".into(),
                    })
                }
                Err(e) => {
                    let (g, report, why) = repair(&data, &opts, e, progress)?;
                    if report.is_some() {
                        built = report;
                    }
                    if why.is_some() {
                        not_refreshed = why;
                    }
                    g
                }
            },
        };
        let semantic = Arc::new(Semantic::new(opts.semantic.clone()));
        let engine = Engine {
            loaded: RwLock::new(Arc::new(Loaded::new(generation, semantic.clone()))),
            semantic,
            opts,
            data,
            building: Mutex::new(()),
        };
        if !engine.opts.semantic_in_background {
            engine.complete_semantic(engine.opts.semantic.foreground_passages, progress)?;
        }
        Ok(Opened {
            engine,
            built,
            not_refreshed,
        })
    }

    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    pub fn data_dir(&self) -> &DataDir {
        &self.data
    }

    /// The generation being served now: an `Arc` clone, never a disk read.
    /// Holders keep it alive across a swap.
    pub fn snapshot(&self) -> Arc<Loaded> {
        self.loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Picks up a generation another process made current: reads `CURRENT`
    /// and, when it names another generation than the one served, opens
    /// that one and swaps it in (one that cannot be opened is set aside and
    /// the index rebuilt). Returns whether it did. Reads the disk: a
    /// [`Watcher`] calls it, never the read path. Skipped (`Ok(false)`)
    /// while this process rebuilds, which swaps in its own generation.
    pub fn refresh(&self) -> Result<bool, IndexError> {
        let _one = match self.building.try_lock() {
            Ok(guard) => guard,
            Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Ok(false),
        };
        let served = self.snapshot().generation.name.clone();
        match index::current_name(&self.data) {
            Some(name) if name != served => match index::open(&self.data) {
                Ok(Some(g)) => {
                    tracing::info!(generation = %g.name, "serving a generation built elsewhere");
                    self.swap(g);
                    Ok(true)
                }
                Ok(None) => Ok(false),
                // A generation that cannot be opened is set aside and the
                // index rebuilt here; the one served stays until then.
                Err(e) => match index::set_aside(&self.data, &name, self.opts.lock_wait)? {
                    Some(aside) => {
                        tracing::warn!(generation = %name, kept_as = %aside, error = %e, "a new index generation could not be opened; it was set aside and the index is being rebuilt");
                        self.reindex_locked(&|_| {})?;
                        Ok(true)
                    }
                    None => Ok(false),
                },
            },
            _ => Ok(false),
        }
    }

    /// Starts a background thread that calls [`Engine::refresh`] every
    /// `every`, for a serving process (another process's `forumbot index`
    /// is then served within `every`). It holds no strong reference to the
    /// engine, and it stops, joined, when the [`Watcher`] is dropped.
    /// One-shot commands never start one.
    pub fn watch(self: &Arc<Self>, every: Duration) -> std::io::Result<Watcher> {
        let engine = Arc::downgrade(self);
        let embedding = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("forumbot-refresh".into())
            .spawn(move || loop {
                match stopped.recv_timeout(every) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    // Told to stop, or the watcher is gone.
                    _ => return,
                }
                let Some(engine) = engine.upgrade() else {
                    return;
                };
                if let Err(e) = engine.refresh() {
                    tracing::warn!(error = %e, "could not open the new generation; keeping the old");
                }
                // Embedding a new generation can take minutes: it runs on
                // a thread of its own, never joined, so neither refreshes
                // nor shutdown wait for it (vectors.bin is written whole or
                // not at all).
                if engine.needs_vectors() && !embedding.swap(true, Ordering::SeqCst) {
                    let (serving, busy) = (engine.clone(), embedding.clone());
                    let spawned = std::thread::Builder::new()
                        .name("forumbot-embed".into())
                        .spawn(move || {
                            if let Err(e) = serving.complete_semantic(usize::MAX, &|_| {}) {
                                tracing::warn!(error = %e, "could not embed the passages; answering by words");
                            }
                            busy.store(false, Ordering::SeqCst);
                        });
                    if spawned.is_err() {
                        embedding.store(false, Ordering::SeqCst);
                    }
                }
            })?;
        Ok(Watcher {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    fn swap(&self, g: Generation) {
        let loaded = Arc::new(Loaded::new(g, self.semantic.clone()));
        *self.loaded.write().unwrap_or_else(|e| e.into_inner()) = loaded;
    }

    /// What the semantic part of the served generation is doing.
    pub fn semantic_status(&self) -> Status {
        self.snapshot().semantic_status()
    }

    /// Whether the served generation lacks vectors, and the model is not
    /// known to be unavailable (finding out, which may fetch it, is left to
    /// the embedding thread).
    fn needs_vectors(&self) -> bool {
        self.opts.semantic.enabled
            && self.snapshot().vectors().is_none()
            && !self.semantic.known_unavailable()
    }

    /// Gives the served generation its vectors when it has none: read from
    /// its directory, else embedded, when at most `allow` passages are new
    /// (see [`Semantic::complete`]). Questions meanwhile answer by words.
    pub fn complete_semantic(
        &self,
        allow: usize,
        progress: &dyn Fn(Progress),
    ) -> Result<(), IndexError> {
        if !self.opts.semantic.enabled {
            return Ok(());
        }
        let loaded = self.snapshot();
        if loaded.vectors().is_some() {
            return Ok(());
        }
        let done = self
            .semantic
            .complete(&loaded.generation, allow, &|done, of| {
                progress(Progress::Embedded { passages: done, of })
            })?;
        match done {
            Some(v) => {
                *loaded.vectors.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(v));
            }
            None if allow < usize::MAX && self.semantic.model().is_ok() => tracing::warn!(
                "{}; run `forumbot index` to embed them now",
                loaded.semantic_status()
            ),
            None => {}
        }
        Ok(())
    }

    /// Rebuilds from the transcripts directory and swaps the new index in.
    /// Questions keep being answered from the old one until then.
    pub fn reindex(&self, progress: &dyn Fn(Progress)) -> Result<BuildReport, IndexError> {
        let _one = self.build_guard();
        self.reindex_locked(progress)
    }

    /// Serialises rebuilds, refreshes and other writers of the transcripts
    /// directory.
    fn build_guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.building.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Rebuild with the guard already held (see [`Engine::build_guard`]).
    fn reindex_locked(&self, progress: &dyn Fn(Progress)) -> Result<BuildReport, IndexError> {
        let (report, generation) = index::build_and_open_waiting(
            &self.data,
            self.opts.index_threads,
            self.opts.lock_wait,
            progress,
        )?;
        self.swap(generation);
        if !self.opts.semantic_in_background {
            self.complete_semantic(self.opts.semantic.foreground_passages, progress)?;
        }
        Ok(report)
    }

    /// Changes files of the transcripts directory and rebuilds, as one
    /// step, one writer at a time: `plan` runs first, given the transcripts
    /// directory and the served generation, under the same lock as the
    /// writes and the rebuild (so two uploads cannot both pass its checks),
    /// and says what to change. Each file is written whole under a
    /// temporary name and then renamed into place. When a write or the
    /// rebuild fails, every file changed is put back as it was, so a refused
    /// change changes nothing; the rebuild swaps in one new generation.
    pub fn change_files<E, T>(
        &self,
        plan: impl FnOnce(&Path, &Loaded) -> Result<(Vec<FileChange>, T), E>,
        progress: &dyn Fn(Progress),
    ) -> Result<(BuildReport, T), E>
    where
        E: From<IndexError> + From<std::io::Error>,
    {
        let _one = self.build_guard();
        let dir = self.data.transcripts();
        let (changes, out) = plan(&dir, &self.snapshot())?;
        std::fs::create_dir_all(&dir)?;
        let mut journal = Journal::default();
        for change in &changes {
            if let Err(e) = journal.apply(&dir, change) {
                journal.roll_back();
                return Err(e.into());
            }
        }
        match self.reindex_locked(progress) {
            Ok(report) => Ok((report, out)),
            Err(e) => {
                journal.roll_back();
                Err(e.into())
            }
        }
    }
}

/// One change to a file of the transcripts directory (a name relative to
/// it, at most one folder deep: `x.txt`, `.previous/x.txt`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChange {
    /// Writes the file whole, replacing it if it exists.
    Write { name: String, bytes: Vec<u8> },
    /// Takes the file out (nothing to do if it does not exist).
    Delete { name: String },
}

impl FileChange {
    fn name(&self) -> &str {
        match self {
            FileChange::Write { name, .. } | FileChange::Delete { name } => name,
        }
    }
}

/// What files were before a change, to put them back.
#[derive(Default)]
struct Journal {
    /// Each path changed, with its bytes before the first change (`None`:
    /// it did not exist).
    before: Vec<(PathBuf, Option<Vec<u8>>)>,
}

impl Journal {
    fn apply(&mut self, dir: &Path, change: &FileChange) -> std::io::Result<()> {
        let name = change.name();
        let relative = Path::new(name);
        let plain = relative.components().count() <= 2
            && relative
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !plain {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("not a name in the transcripts directory: {name}"),
            ));
        }
        let path = dir.join(relative);
        if !self.before.iter().any(|(p, _)| *p == path) {
            let was = match std::fs::read(&path) {
                Ok(bytes) => Some(bytes),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(e),
            };
            self.before.push((path.clone(), was));
        }
        match change {
            FileChange::Write { bytes, .. } => {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                write_replacing(&path, bytes)
            }
            FileChange::Delete { .. } => match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        }
    }

    /// Puts every changed file back, last change first (best effort: a
    /// file that cannot be put back is logged).
    fn roll_back(self) {
        for (path, was) in self.before.into_iter().rev() {
            let put = match was {
                Some(bytes) => write_replacing(&path, &bytes),
                None => match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                    _ => Ok(()),
                },
            };
            if let Err(e) = put {
                tracing::error!(path = %path.display(), error = %e, "could not put a file back after a refused change");
            }
        }
    }
}

/// Stops its engine's refresh thread when dropped (see [`Engine::watch`]).
#[derive(Debug)]
pub struct Watcher {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Writes a file whole via a temporary name and a rename, so a build never
/// sees half of it.
fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("part");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: &str =
        "論壇\n\n甲:我們談談營銷。\n\n乙:數據很重要。\n\n甲:謝謝。\n\n乙:不客氣。\n";
    const SECOND: &str = "加場\n\n丙:區塊鏈改變結算。\n\n丁:同意。\n\n丙:謝謝。\n\n丁:好。\n";

    fn engine() -> (tempfile::TempDir, Engine) {
        crate::test_support::engine(&[("a.txt", FIRST)])
    }

    /// What another process's `forumbot index` does: a new transcript and a
    /// new current generation, behind the engine's back.
    fn build_elsewhere(tmp: &tempfile::TempDir) -> String {
        std::fs::write(tmp.path().join("transcripts/b.txt"), SECOND).unwrap();
        index::build(&DataDir::new(tmp.path()), 1, &|_| {})
            .unwrap()
            .generation
    }

    #[test]
    fn reads_never_look_at_the_disk_a_refresh_does() {
        let (tmp, e) = engine();
        let before = e.snapshot();
        let built = build_elsewhere(&tmp);
        assert_ne!(built, before.generation.name);
        // However often it is read, the snapshot stays the one opened.
        for _ in 0..3 {
            assert_eq!(e.snapshot().generation.name, before.generation.name);
        }
        assert!(e.refresh().unwrap());
        let after = e.snapshot();
        assert_eq!(after.generation.name, built);
        assert_eq!(after.generation.catalog.transcripts.len(), 2);
        // The old snapshot is still whole for whoever holds it.
        assert_eq!(before.generation.catalog.transcripts.len(), 1);
        // Nothing new: nothing swapped.
        assert!(!e.refresh().unwrap());
        assert_eq!(e.snapshot().generation.name, built);
    }

    #[test]
    fn a_watcher_serves_another_processs_generation_and_stops_when_dropped() {
        let (tmp, e) = engine();
        let e = Arc::new(e);
        let watcher = e.watch(Duration::from_millis(20)).unwrap();
        let built = build_elsewhere(&tmp);
        // Bounded, so a watcher that never refreshes fails instead of hanging.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while e.snapshot().generation.name != built {
            assert!(
                std::time::Instant::now() < deadline,
                "the watcher never picked up {built}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        drop(watcher);
        // The watcher held no strong reference: the engine is ours alone.
        assert_eq!(Arc::strong_count(&e), 1);
        // A watcher outliving its engine stops too.
        let watcher = e.watch(Duration::from_millis(5)).unwrap();
        drop(e);
        drop(watcher);
    }

    #[derive(Debug, thiserror::Error)]
    enum TestError {
        #[error("{0}")]
        Index(#[from] IndexError),
        #[error("{0}")]
        Io(#[from] std::io::Error),
        #[error("refused by the check")]
        Checked,
    }

    fn write(name: &str, bytes: &str) -> FileChange {
        FileChange::Write {
            name: name.into(),
            bytes: bytes.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_refused_change_puts_every_file_back() {
        let (tmp, e) = engine();
        let dir = tmp.path().join("transcripts");
        let before = e.snapshot().generation.name.clone();
        let changes = vec![
            write("a.txt", "沒有講者的文字。"),
            write(".previous/a.txt", FIRST),
            write("bad.txt", "也沒有。"),
            FileChange::Delete {
                name: "gone.txt".into(),
            },
        ];
        let err = e
            .change_files(|_, _| Ok::<_, TestError>((changes, ())), &|_| {})
            .map(|_| ())
            .unwrap_err();
        assert!(
            matches!(err, TestError::Index(IndexError::Refused(_))),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(dir.join("a.txt")).unwrap(), FIRST);
        assert!(!dir.join("bad.txt").exists());
        assert!(!dir.join(".previous/a.txt").exists());
        assert_eq!(e.snapshot().generation.name, before);
        // A plan that refuses writes nothing.
        let err = e
            .change_files(
                |d, loaded| {
                    assert_eq!(d, dir);
                    assert_eq!(loaded.generation.name, before);
                    Err::<(Vec<FileChange>, ()), _>(TestError::Checked)
                },
                &|_| {},
            )
            .unwrap_err();
        assert!(matches!(err, TestError::Checked), "{err}");
        // Names outside the directory are never written.
        for name in ["../escape.txt", "/tmp/x.txt", "a/b/c.txt"] {
            let err = e
                .change_files(
                    |_, _| Ok::<_, TestError>((vec![write(name, SECOND)], ())),
                    &|_| {},
                )
                .map(|_| ())
                .unwrap_err();
            assert!(matches!(err, TestError::Io(_)), "{name}: {err}");
        }
        assert!(!tmp.path().join("escape.txt").exists());
        // A good change is one new generation.
        let (report, ()) = e
            .change_files(
                |_, _| {
                    Ok::<_, TestError>((
                        vec![
                            write("b.txt", SECOND),
                            FileChange::Delete {
                                name: "a.txt".into(),
                            },
                        ],
                        (),
                    ))
                },
                &|_| {},
            )
            .unwrap();
        assert_eq!(report.transcripts.len(), 1);
        assert_eq!(report.transcripts[0].id, "b");
        assert_eq!(e.snapshot().generation.name, report.generation);
    }

    fn damaged(tmp: &tempfile::TempDir) -> Vec<String> {
        std::fs::read_dir(tmp.path().join("index"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("damaged-gen-"))
            .collect()
    }

    /// Cuts `catalog.json` in half, or takes the segments' stores away.
    fn damage(dir: &Path, how: &str) {
        match how {
            "catalog" => {
                let catalog = dir.join("catalog.json");
                let bytes = std::fs::read(&catalog).unwrap();
                std::fs::write(&catalog, &bytes[..bytes.len() / 2]).unwrap();
            }
            _ => {
                let mut removed = 0;
                for entry in std::fs::read_dir(dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.extension().is_some_and(|x| x == "store") {
                        std::fs::remove_file(path).unwrap();
                        removed += 1;
                    }
                }
                assert!(removed > 0);
            }
        }
    }

    #[test]
    fn a_generation_that_cannot_be_opened_is_set_aside_and_rebuilt() {
        for how in ["catalog", "store"] {
            let (tmp, e) = engine();
            let name = e.snapshot().generation.name.clone();
            drop(e);
            damage(&tmp.path().join("index").join(&name), how);
            assert!(index::open(&DataDir::new(tmp.path())).is_err(), "{how}");
            let opened = Engine::open(EngineOptions::new(tmp.path()), &|_| {}).unwrap();
            assert!(opened.built.is_some(), "{how}: rebuilt");
            assert!(opened.not_refreshed.is_none(), "{how}");
            let served = opened.engine.snapshot().generation.name.clone();
            assert_ne!(served, name, "{how}");
            assert_eq!(damaged(&tmp).len(), 1, "{how}: kept for inspection");
            let a = opened
                .engine
                .ask(&crate::search::Question::new("數據很重要"))
                .unwrap();
            assert_eq!(a.hits[0].speaker.as_deref(), Some("乙"), "{how}");
        }
    }

    #[test]
    fn a_damaged_generation_built_elsewhere_is_set_aside_while_the_old_one_serves() {
        let (tmp, e) = engine();
        let before = e.snapshot().generation.name.clone();
        let built = build_elsewhere(&tmp);
        damage(&tmp.path().join("index").join(&built), "catalog");
        // Answers keep coming from the old generation until the rebuild.
        assert_eq!(e.snapshot().generation.name, before);
        assert!(e.refresh().unwrap());
        let served = e.snapshot().generation.name.clone();
        assert!(served != before && served != built, "{served}");
        assert_eq!(damaged(&tmp).len(), 1);
        assert_eq!(e.snapshot().generation.catalog.transcripts.len(), 2);
        assert!(!e.refresh().unwrap());
    }
}
