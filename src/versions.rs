//! Versions of the transcripts of a data directory: which version each one
//! is and since when, and the version a correction replaced (or a removal
//! took out), kept until that transcript changes again so a bad upload can
//! be undone. Also what makes two uploads the same text.
//!
//! Kept beside the transcripts, never read as one (builds read `*.txt` and
//! `*.toml` at the top of `transcripts/` only):
//!
//! ```text
//! transcripts/.versions.json        per file stem: the current version, the one kept
//! transcripts/.previous/STEM.txt    the kept version (and STEM.toml, its sidecar)
//! ```
//!
//! A transcript placed by hand, with no entry, is version 1 since its file
//! was last modified. Only [`crate::ingest`] writes these, through the
//! engine's one-writer lock, in the same change as the transcripts.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::UNIX_EPOCH;

/// The version ledger, in the transcripts directory.
pub const LEDGER: &str = ".versions.json";
/// Where kept versions live, in the transcripts directory.
pub const PREVIOUS_DIR: &str = ".previous";

/// Every transcript's versions, by file stem.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    #[serde(default)]
    pub stems: BTreeMap<String, Entry>,
}

/// The versions of one transcript file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The version indexed now; `None` once it was removed.
    #[serde(default)]
    pub current: Option<Version>,
    /// The version kept in [`PREVIOUS_DIR`]: the one the current version
    /// replaced, or the one removed.
    #[serde(default)]
    pub previous: Option<Version>,
}

/// One version of a transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Version {
    pub version: u32,
    /// When it became the current version (seconds since the epoch, UTC).
    pub since_unix: u64,
    pub id: String,
    pub title: String,
    /// Whether it has a sidecar (kept beside it).
    #[serde(default)]
    pub sidecar: bool,
}

impl Ledger {
    /// The ledger of a transcripts directory; empty when there is none. A
    /// damaged one is read as empty (every transcript version 1), with a
    /// warning: versions are a record, not something to refuse a build for.
    pub fn load(transcripts: &Path) -> Ledger {
        let path = transcripts.join(LEDGER);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(path = %path.display(), error = %e, "damaged version ledger; every transcript is read as version 1");
                Ledger::default()
            }),
            Err(_) => Ledger::default(),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        // Strings and numbers only: serialising cannot fail.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// The current version of a file stem, if recorded.
    pub fn current(&self, stem: &str) -> Option<&Version> {
        self.stems.get(stem).and_then(|e| e.current.as_ref())
    }

    /// The stem whose kept version has this transcript id, if any.
    pub fn kept(&self, id: &str) -> Option<(&str, &Version)> {
        self.stems.iter().find_map(|(stem, e)| match &e.previous {
            Some(v) if v.id == id => Some((stem.as_str(), v)),
            _ => None,
        })
    }
}

/// What a build records of a transcript file's version.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamp {
    pub version: u32,
    pub since_unix: u64,
    /// [`text_hash`] of the file.
    pub text_hash: String,
}

impl Ledger {
    /// The version of `file` in `transcripts`: the ledger's, else version 1
    /// since the file was last modified.
    pub fn stamp(&self, transcripts: &Path, file: &str) -> Stamp {
        let path = transcripts.join(file);
        let stem = file.strip_suffix(".txt").unwrap_or(file);
        let (version, since_unix) = match self.current(stem) {
            Some(v) => (v.version, v.since_unix),
            None => (
                1,
                std::fs::metadata(&path)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_secs()),
            ),
        };
        Stamp {
            version,
            since_unix,
            text_hash: std::fs::read(&path)
                .map(|b| text_hash(&b))
                .unwrap_or_default(),
        }
    }
}

/// The text as compared for duplicates: without a byte order mark, with
/// `\n` line ends, no white space at the end of a line and no blank lines at
/// the end. The same transcript saved by another editor reads the same.
pub fn normalized(bytes: &[u8]) -> Vec<u8> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = String::from_utf8_lossy(bytes)
        .replace("\r\n", "\n")
        .replace('\r', "\n");
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out.into_bytes()
}

/// A short hash of the [`normalized`] text (FNV-1a, hex).
pub fn text_hash(bytes: &[u8]) -> String {
    let hash = normalized(bytes)
        .iter()
        .fold(0xcbf29ce484222325u64, |h, &b| {
            (h ^ b as u64).wrapping_mul(0x100000001b3)
        });
    format!("{hash:016x}")
}

/// `YYYY-MM-DD` of a time in seconds since the epoch (UTC).
pub fn utc_date(unix: u64) -> String {
    // Days to civil date (Howard Hinnant's algorithm).
    let z = (unix / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Seconds since the epoch, now.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends_bom_and_trailing_white_space_do_not_make_another_text() {
        let text = "標題\n\n甲:你好。\n\n乙:再見。\n";
        let same = [
            text.replace('\n', "\r\n"),
            format!("\u{feff}{text}"),
            format!("{text}\n"),
            format!("{text}\n\n  \n"),
            text.replace("你好。", "你好。  "),
            text.trim_end().to_owned(),
            text.replace('\n', "\r"),
        ];
        for s in &same {
            assert_eq!(
                normalized(s.as_bytes()),
                normalized(text.as_bytes()),
                "{s:?}"
            );
            assert_eq!(text_hash(s.as_bytes()), text_hash(text.as_bytes()));
        }
        // A change of words, or of where paragraphs break, is another text.
        for other in [
            text.replace("你好", "您好"),
            text.replace("\n\n乙", "\n乙"),
            format!("  {text}"),
        ] {
            assert_ne!(
                text_hash(other.as_bytes()),
                text_hash(text.as_bytes()),
                "{other:?}"
            );
        }
    }

    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(1_795_634_558), "2026-11-25");
    }

    #[test]
    fn the_ledger_round_trips_and_a_damaged_one_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Ledger::load(dir.path()), Ledger::default());
        let mut l = Ledger::default();
        let v = |n| Version {
            version: n,
            since_unix: 5,
            id: "a".into(),
            title: "A".into(),
            sidecar: false,
        };
        l.stems.insert(
            "a".into(),
            Entry {
                current: Some(v(2)),
                previous: Some(v(1)),
            },
        );
        std::fs::write(dir.path().join(LEDGER), l.to_bytes()).unwrap();
        assert_eq!(Ledger::load(dir.path()), l);
        assert_eq!(l.current("a").unwrap().version, 2);
        assert_eq!(l.kept("a").unwrap().0, "a");
        std::fs::write(dir.path().join(LEDGER), b"{not json").unwrap();
        assert_eq!(Ledger::load(dir.path()), Ledger::default());
    }
}
