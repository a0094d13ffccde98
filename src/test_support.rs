//! What the library's unit tests share, so that each is written once: an
//! archive (a temporary data directory whose `transcripts/` holds given
//! files) and an engine opened on one. The integration tests have theirs in
//! `tests/it/support.rs`.

use crate::engine::{Engine, EngineOptions};
use crate::index::DataDir;
use std::path::Path;
use tempfile::TempDir;

/// A temporary data directory whose `transcripts/` holds only `files`
/// (name, contents); it is removed when dropped.
pub(crate) fn archive(files: &[(&str, &str)]) -> TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let transcripts = DataDir::new(tmp.path()).transcripts();
    std::fs::create_dir_all(&transcripts).unwrap();
    for (name, text) in files {
        std::fs::write(transcripts.join(name), text).unwrap();
    }
    tmp
}

/// [`archive`] and its [`DataDir`], for tests of the index itself.
pub(crate) fn data_with(files: &[(&str, &str)]) -> (TempDir, DataDir) {
    let tmp = archive(files);
    let data = DataDir::new(tmp.path());
    (tmp, data)
}

/// A temporary data directory whose `transcripts/` is a copy of every file
/// in `from`, so that an index built there leaves the originals untouched.
pub(crate) fn archive_copy(from: &Path) -> TempDir {
    let tmp = archive(&[]);
    let transcripts = DataDir::new(tmp.path()).transcripts();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), transcripts.join(entry.file_name())).unwrap();
    }
    tmp
}

/// The engine on the data directory `dir`, with default options (the index
/// is built if missing); fails the test if it does not open.
pub(crate) fn open(dir: &Path) -> Engine {
    Engine::open(EngineOptions::new(dir), &|_| {})
        .expect("the engine opens")
        .engine
}

/// An [`archive`] of `files` and the engine opened on it.
pub(crate) fn engine(files: &[(&str, &str)]) -> (TempDir, Engine) {
    let tmp = archive(files);
    let engine = open(tmp.path());
    (tmp, engine)
}
