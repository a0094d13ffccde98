//! Test data: temporary copies of the bundled transcripts, so no test ever
//! touches the repository's `data/` (or its built index).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository's bundled transcripts directory.
pub fn bundled_transcripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/transcripts")
}

/// Copies every bundled transcript file (and sidecar) into `dir`.
pub fn copy_bundled_transcripts(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for entry in std::fs::read_dir(bundled_transcripts()).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
        }
    }
}

/// A temporary data directory whose `transcripts/` is a copy of the bundled one.
pub fn bundled_data() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_bundled_transcripts(&dir.path().join("transcripts"));
    dir
}
