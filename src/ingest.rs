//! Adding a transcript someone uploaded (Discord `/reindex file:`, console
//! `/reindex PATH`): validate it completely first, save it under a name we
//! generate (never a path taken from the upload), rebuild, and take the file
//! back out if the rebuild is refused ([`Engine::add_files`] writes and
//! rebuilds under the engine's one-writer lock). A refused upload changes
//! nothing, and an upload byte for byte the same as a transcript already
//! there is refused (it would make every answer quote the same words twice).

use crate::engine::{Engine, Loaded};
use crate::index::{BuildReport, IndexError, Progress};
use crate::transcript::{self, TranscriptError};
use std::path::{Path, PathBuf};

/// An uploaded transcript and, optionally, its TOML sidecar.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The name the uploader gave (only shown in messages, never used as a path).
    pub filename: String,
    pub bytes: Vec<u8>,
    pub sidecar: Option<Vec<u8>>,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{name} is too large ({size} bytes; at most {max} bytes)")]
    TooLarge { name: String, size: u64, max: u64 },
    #[error("{0}")]
    Invalid(#[from] TranscriptError),
    #[error("a transcript with id {id:?} is already indexed ({file}); give the upload a sidecar with another id")]
    DuplicateId { id: String, file: String },
    #[error(
        "{name} is already indexed: it is byte for byte the same as {file}; nothing was changed"
    )]
    AlreadyIndexed { name: String, file: String },
    #[error("{0}")]
    Index(#[from] IndexError),
    #[error("could not save the upload: {0}")]
    Io(#[from] std::io::Error),
}

/// Why a file named on request could not be read within its limit.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path} is not a regular file")]
    NotAFile { path: String },
    #[error("{path} is too large ({size} bytes; at most {max} bytes)")]
    TooLarge { path: String, size: u64, max: u64 },
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Reads a file someone named (an upload's path, a question file), at most
/// `max` bytes: the size is checked before reading (a device, a FIFO or a
/// directory is refused without being opened), and the read stops past
/// `max` should the file grow meanwhile. Never reads `/dev/zero` forever.
pub fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    use std::io::Read as _;
    let shown = path.display().to_string();
    let io = |source| ReadError::Io {
        path: shown.clone(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile { path: shown });
    }
    let too_large = |size| ReadError::TooLarge {
        path: shown.clone(),
        size,
        max,
    };
    if meta.len() > max {
        return Err(too_large(meta.len()));
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > max {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Validates, saves and indexes an upload. `max_bytes` bounds each file.
pub fn add(
    engine: &Engine,
    upload: &Upload,
    max_bytes: u64,
    progress: &dyn Fn(Progress),
) -> Result<BuildReport, IngestError> {
    for (name, len) in std::iter::once((&upload.filename, upload.bytes.len()))
        .chain(upload.sidecar.as_ref().map(|s| (&upload.filename, s.len())))
    {
        if len as u64 > max_bytes {
            return Err(IngestError::TooLarge {
                name: name.clone(),
                size: len as u64,
                max: max_bytes,
            });
        }
    }
    let sidecar = match &upload.sidecar {
        Some(b) => Some(
            String::from_utf8(b.clone()).map_err(|_| TranscriptError::Sidecar {
                path: PathBuf::from(&upload.filename).with_extension("toml"),
                message: "not valid UTF-8".into(),
            })?,
        ),
        None => None,
    };
    let shown = Path::new(&upload.filename);
    // The file is saved under a name derived from the name given (or the
    // title), made unique; parse again with the id it gives, so what is
    // validated is exactly what will be indexed.
    let first = transcript::parse(shown, "upload", &upload.bytes, sidecar.as_deref())?;
    let stem = unique_stem(engine, &upload.filename, &first.meta.title);
    let parsed = transcript::parse(shown, &stem, &upload.bytes, sidecar.as_deref())?;

    let mut files = vec![(format!("{stem}.txt"), upload.bytes.as_slice())];
    if let Some(s) = &upload.sidecar {
        files.push((format!("{stem}.toml"), s.as_slice()));
    }
    let check = |dir: &Path, loaded: &Loaded| {
        if let Some(file) = same_transcript(dir, &upload.bytes)? {
            return Err(IngestError::AlreadyIndexed {
                name: upload.filename.clone(),
                file,
            });
        }
        if let Some(t) = loaded.generation.catalog.transcript(&parsed.meta.id) {
            return Err(IngestError::DuplicateId {
                id: parsed.meta.id.clone(),
                file: t.file.clone(),
            });
        }
        Ok(())
    };
    engine.add_files(&files, check, progress)
}

/// The name of a transcript in `dir` whose bytes are exactly `bytes`. Only
/// regular `.txt` files of the same length are read.
fn same_transcript(dir: &Path, bytes: &[u8]) -> std::io::Result<Option<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("txt") {
            continue;
        }
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() || meta.len() != bytes.len() as u64 {
            continue;
        }
        if std::fs::read(&path)? == bytes {
            return Ok(Some(entry.file_name().to_string_lossy().into_owned()));
        }
    }
    Ok(None)
}

/// A readable file stem (and default id) for an upload: the slug of the
/// file name given (`區塊鏈論壇.txt` → `qu-kuai-lian-lun-tan`), else of the
/// title, else `transcript`; `-2`, `-3`, … when an indexed transcript or a
/// file already has it. Only `a-z 0-9 -` ever reach a path.
fn unique_stem(engine: &Engine, filename: &str, title: &str) -> String {
    let given = Path::new(filename)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = [slug(&given), slug(title)]
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "transcript".to_owned());
    let loaded = engine.snapshot();
    let dir = engine.data_dir().transcripts();
    let taken = |stem: &str| {
        loaded.generation.catalog.transcript(stem).is_some()
            || dir.join(format!("{stem}.txt")).exists()
            || dir.join(format!("{stem}.toml")).exists()
    };
    (1..)
        .map(|n| {
            if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            }
        })
        .find(|s| !taken(s))
        .unwrap_or(base)
}

/// ASCII letters and digits kept (lowercase), Han characters as pinyin
/// syllables, everything else a single `-`; at most 48 characters.
fn slug(text: &str) -> String {
    use pinyin::ToPinyin;
    let mut out = String::new();
    // A dash goes between words: before a syllable, after one, and where
    // anything else stood.
    let mut dash = false;
    let mut last_han = false;
    for c in text.chars() {
        let (word, han) = if c.is_ascii_alphanumeric() {
            (c.to_ascii_lowercase().to_string(), false)
        } else if let Some(p) = c.to_pinyin() {
            (p.plain().to_owned(), true)
        } else {
            dash = true;
            continue;
        };
        if !out.is_empty() && (dash || han || last_han) {
            out.push('-');
        }
        out.push_str(&word);
        dash = false;
        last_han = han;
        if out.len() >= 48 {
            break;
        }
    }
    let mut s: String = out.chars().take(48).collect();
    while s.ends_with('-') {
        s.pop();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Classify, Kind};
    use crate::search::Question;

    const BASE: &str = "論壇\n\n甲:我們談談營銷。\n\n乙:數據很重要。\n\n甲:謝謝。\n\n乙:不客氣。\n";

    fn engine() -> (tempfile::TempDir, Engine) {
        crate::test_support::engine(&[("a.txt", BASE)])
    }

    fn files(tmp: &tempfile::TempDir) -> usize {
        std::fs::read_dir(tmp.path().join("transcripts"))
            .unwrap()
            .count()
    }

    #[test]
    fn upload_names_are_readable_slugs() {
        assert_eq!(slug("Fintech Forum 2024"), "fintech-forum-2024");
        assert_eq!(slug("區塊鏈論壇"), "qu-kuai-lian-lun-tan");
        assert_eq!(slug("AI 區塊鏈"), "ai-qu-kuai-lian");
        assert_eq!(slug("../../etc"), "etc");
        assert_eq!(slug("😀"), "");
        assert!(slug(&"長".repeat(100)).len() <= 48);
        assert!(transcript::is_valid_id(&slug("金科創新社「對話」")));
    }

    #[test]
    fn a_good_upload_is_saved_under_a_generated_name_and_found() {
        let (tmp, e) = engine();
        let up = Upload {
            filename: "../../etc/passwd".into(),
            bytes: "新論壇\n\n丙:區塊鏈改變結算。\n\n丁:同意。\n\n丙:謝謝。\n\n丁:好。\n"
                .as_bytes()
                .to_vec(),
            sidecar: None,
        };
        let report = add(&e, &up, 1000, &|_| {}).unwrap();
        assert_eq!(report.transcripts.len(), 2);
        assert_eq!(files(&tmp), 2);
        let names: Vec<String> = std::fs::read_dir(tmp.path().join("transcripts"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        // Named after the file name given, never a path taken from it.
        assert!(names.iter().any(|n| n == "passwd.txt"), "{names:?}");
        let a = e.ask(&Question::new("區塊鏈")).unwrap();
        assert_eq!(a.hits[0].speaker.as_deref(), Some("丙"));
        // The same name again is made unique; a name with no letters falls
        // back to the title.
        let again = Upload {
            bytes: "另一場\n\n戊:跨境支付。\n\n己:好。\n\n戊:謝謝。\n\n己:再見。\n"
                .as_bytes()
                .to_vec(),
            ..up.clone()
        };
        add(&e, &again, 1000, &|_| {}).unwrap();
        assert!(tmp.path().join("transcripts/passwd-2.txt").exists());
        let untitled = Upload {
            filename: "😀.txt".into(),
            bytes: "第三場\n\n庚:數字人民幣。\n\n辛:好。\n\n庚:謝謝。\n\n辛:再見。\n"
                .as_bytes()
                .to_vec(),
            sidecar: None,
        };
        add(&e, &untitled, 1000, &|_| {}).unwrap();
        assert!(tmp.path().join("transcripts/di-san-chang.txt").exists());
    }

    #[test]
    fn the_same_transcript_twice_is_refused() {
        let (tmp, e) = engine();
        let text = "新論壇\n\n丙:區塊鏈改變結算。\n\n丁:同意。\n\n丙:謝謝。\n\n丁:好。\n";
        let up = Upload {
            filename: "new.txt".into(),
            bytes: text.as_bytes().to_vec(),
            sidecar: None,
        };
        add(&e, &up, 1000, &|_| {}).unwrap();
        let generation = e.snapshot().generation.name.clone();
        for again in [
            up.clone(),
            // Another name and a sidecar with another id change nothing.
            Upload {
                filename: "copy.txt".into(),
                sidecar: Some(b"id = \"other\"\n".to_vec()),
                ..up.clone()
            },
            // What was there before any upload.
            Upload {
                filename: "a-again.txt".into(),
                bytes: BASE.as_bytes().to_vec(),
                sidecar: None,
            },
        ] {
            let err = add(&e, &again, 1000, &|_| {}).unwrap_err();
            assert!(
                matches!(err, IngestError::AlreadyIndexed { .. }) && err.kind() == Kind::User,
                "{err}"
            );
            assert!(err.to_string().contains(&again.filename), "{err}");
        }
        assert_eq!(files(&tmp), 2);
        assert_eq!(e.snapshot().generation.name, generation);
        assert_eq!(e.ask(&Question::new("區塊鏈")).unwrap().hits.len(), 1);
        // One byte more is another transcript.
        let mut longer = up.clone();
        longer.bytes.push(b'\n');
        add(&e, &longer, 1000, &|_| {}).unwrap();
        assert_eq!(files(&tmp), 3);
    }

    #[test]
    fn bad_uploads_change_nothing() {
        let (tmp, e) = engine();
        let before = e.snapshot().generation.name.clone();
        let cases = [
            Upload {
                filename: "x.txt".into(),
                bytes: vec![0xff, 0xfe, 0x00],
                sidecar: None,
            },
            Upload {
                filename: "x.txt".into(),
                bytes: "沒有講者的文字。".as_bytes().to_vec(),
                sidecar: None,
            },
            Upload {
                filename: "x.txt".into(),
                bytes: vec![b'a'; 2000],
                sidecar: None,
            },
            Upload {
                filename: "x.txt".into(),
                bytes: BASE.as_bytes().to_vec(),
                sidecar: Some(b"id = 3".to_vec()),
            },
        ];
        for up in &cases {
            let err = add(&e, up, 1000, &|_| {}).unwrap_err();
            assert_eq!(err.kind(), Kind::User, "{err}");
        }
        assert_eq!(files(&tmp), 1);
        assert_eq!(e.snapshot().generation.name, before);
    }
}
