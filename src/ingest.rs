//! Changing the archive: adding a transcript someone uploaded (Discord
//! `/reindex file:`, console `/reindex PATH`), replacing one with a corrected
//! version, removing one and undoing the last change (`/remove`, console
//! `/remove`, `forumbot remove`). Each is validated completely first, then
//! written and rebuilt as one step under the engine's one-writer lock
//! ([`Engine::change_files`]): a refused change changes nothing.
//!
//! An upload whose id (its sidecar's, else the one its file name gives) or
//! title is an indexed transcript's is a new version of it, saved under that
//! transcript's file name (so its id and links stay); the version it
//! replaces is kept ([`crate::versions`]) until that transcript changes
//! again, and [`remove`] with `undo` brings it back. An upload with the same
//! text as an indexed transcript (line ends, a byte order mark and white
//! space at the ends of lines aside) and no other sidecar is refused: it
//! would quote the same words twice. Saved names are generated, never taken
//! from the upload.

use crate::engine::{Engine, FileChange, Loaded};
use crate::index::{BuildReport, IndexError, Progress, TranscriptInfo};
use crate::text::fold_str;
use crate::transcript::{self, Transcript, TranscriptError};
use crate::versions::{self, Entry, Ledger, Version};
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
    #[error("{name} is already indexed: its text is the same as {file} (line ends, a byte order mark and spaces at the ends of lines aside); nothing was changed")]
    AlreadyIndexed { name: String, file: String },
    #[error("{name} has the title {title:?}, as several indexed transcripts do ({}): give it a sidecar with the id of the one it replaces", .ids.join(", "))]
    AmbiguousTitle {
        name: String,
        title: String,
        ids: Vec<String>,
    },
    #[error("speaker {speaker:?}: the alias {alias:?} is the name of {other:?}, a speaker of {transcript}; remove it from the aliases, or, if they are the same person, name them {other:?}")]
    AliasIsAName {
        speaker: String,
        alias: String,
        other: String,
        transcript: String,
    },
    #[error("no transcript has the id {id:?}; the transcripts are: {}", .known.join(", "))]
    UnknownTranscript { id: String, known: Vec<String> },
    #[error("{id} is the only transcript; the bot needs at least one (upload another first)")]
    OnlyTranscript { id: String },
    #[error("there is nothing to undo for {id:?}: no earlier version of it is kept (the version before its last change is kept until it changes again)")]
    NothingToUndo { id: String },
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

/// What an upload did.
#[derive(Debug, Clone)]
pub struct Added {
    pub report: BuildReport,
    /// Set when the upload was a new version of an indexed transcript.
    pub replaced: Option<Replaced>,
}

/// A transcript replaced by a new version.
#[derive(Debug, Clone, PartialEq)]
pub struct Replaced {
    pub id: String,
    pub title: String,
    /// The version replaced (kept) and the new one.
    pub from: u32,
    pub to: u32,
}

/// Validates, saves and indexes an upload, as a new transcript or a new
/// version of an indexed one. `max_bytes` bounds each file.
pub fn add(
    engine: &Engine,
    upload: &Upload,
    max_bytes: u64,
    progress: &dyn Fn(Progress),
) -> Result<Added, IngestError> {
    for len in std::iter::once(upload.bytes.len()).chain(upload.sidecar.as_ref().map(Vec::len)) {
        if len as u64 > max_bytes {
            return Err(IngestError::TooLarge {
                name: upload.filename.clone(),
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
    // Parsed with no default id first: the id and title it claims itself.
    let claimed = transcript::parse(shown, "", &upload.bytes, sidecar.as_deref())?;
    let (report, replaced) = engine.change_files(
        |dir, loaded| plan_upload(dir, loaded, upload, sidecar.as_deref(), &claimed),
        progress,
    )?;
    Ok(Added { report, replaced })
}

/// What an upload changes, checked against the served generation.
fn plan_upload(
    dir: &Path,
    loaded: &Loaded,
    upload: &Upload,
    sidecar: Option<&str>,
    claimed: &Transcript,
) -> Result<(Vec<FileChange>, Option<Replaced>), IngestError> {
    let catalog = &loaded.generation.catalog;
    let shown = Path::new(&upload.filename);
    let target = replaced_transcript(catalog.transcripts.as_slice(), upload, claimed)?;
    // The same text as an indexed transcript is a duplicate, unless it is
    // that transcript again with another sidecar (a metadata correction).
    if let Some(same) = same_text(dir, catalog.transcripts.as_slice(), &upload.bytes)? {
        let same_sidecar = match &upload.sidecar {
            None => true,
            Some(s) => {
                let existing = std::fs::read(dir.join(sidecar_of(&same.file))).unwrap_or_default();
                versions::normalized(s) == versions::normalized(&existing)
            }
        };
        if same_sidecar || target.is_none_or(|t| t.meta.id != same.meta.id) {
            return Err(IngestError::AlreadyIndexed {
                name: upload.filename.clone(),
                file: same.file.clone(),
            });
        }
    }
    let mut ledger = Ledger::load(dir);
    let now = versions::now_unix();
    let mut changes = Vec::new();
    let replaced = match target {
        Some(old) => {
            let stem = stem_of(&old.file).to_owned();
            let old_sidecar = std::fs::read(dir.join(format!("{stem}.toml"))).ok();
            // Without a sidecar of its own, the correction keeps the old one.
            let new_sidecar = upload.sidecar.clone().or_else(|| old_sidecar.clone());
            let new_sidecar_text =
                match &new_sidecar {
                    Some(b) => Some(String::from_utf8(b.clone()).map_err(|_| {
                        TranscriptError::Sidecar {
                            path: shown.with_extension("toml"),
                            message: "not valid UTF-8".into(),
                        }
                    })?),
                    None => None,
                };
            let parsed =
                transcript::parse(shown, &stem, &upload.bytes, new_sidecar_text.as_deref())?;
            if parsed.meta.id != old.meta.id {
                if let Some(other) = catalog.transcript(&parsed.meta.id) {
                    return Err(IngestError::DuplicateId {
                        id: parsed.meta.id.clone(),
                        file: other.file.clone(),
                    });
                }
            }
            check_aliases(loaded, &parsed, Some(&old.meta.id))?;
            let old_bytes = std::fs::read(dir.join(&old.file))?;
            let entry = ledger.stems.entry(stem.clone()).or_default();
            let was = entry.current.clone().unwrap_or_else(|| Version {
                version: old.version.max(1),
                since_unix: old.since_unix,
                id: old.meta.id.clone(),
                title: old.meta.title.clone(),
                sidecar: old_sidecar.is_some(),
            });
            let to = was.version + 1;
            changes.extend(keep(&stem, old_bytes, old_sidecar));
            changes.push(FileChange::Write {
                name: old.file.clone(),
                bytes: upload.bytes.clone(),
            });
            if let Some(s) = &upload.sidecar {
                changes.push(FileChange::Write {
                    name: format!("{stem}.toml"),
                    bytes: s.clone(),
                });
            }
            let replaced = Replaced {
                id: parsed.meta.id.clone(),
                title: parsed.meta.title.clone(),
                from: was.version,
                to,
            };
            *entry = Entry {
                current: Some(Version {
                    version: to,
                    since_unix: now,
                    id: parsed.meta.id,
                    title: parsed.meta.title,
                    sidecar: new_sidecar.is_some(),
                }),
                previous: Some(was),
            };
            Some(replaced)
        }
        None => {
            let stem = unique_stem(dir, loaded, &upload.filename, &claimed.meta.title);
            let parsed = transcript::parse(shown, &stem, &upload.bytes, sidecar)?;
            if let Some(t) = catalog.transcript(&parsed.meta.id) {
                return Err(IngestError::DuplicateId {
                    id: parsed.meta.id.clone(),
                    file: t.file.clone(),
                });
            }
            check_aliases(loaded, &parsed, None)?;
            changes.push(FileChange::Write {
                name: format!("{stem}.txt"),
                bytes: upload.bytes.clone(),
            });
            if let Some(s) = &upload.sidecar {
                changes.push(FileChange::Write {
                    name: format!("{stem}.toml"),
                    bytes: s.clone(),
                });
            }
            // A stem used before (a transcript removed under it) starts over.
            changes.extend(forget_kept(&stem));
            ledger.stems.insert(
                stem,
                Entry {
                    current: Some(Version {
                        version: 1,
                        since_unix: now,
                        id: parsed.meta.id,
                        title: parsed.meta.title,
                        sidecar: upload.sidecar.is_some(),
                    }),
                    previous: None,
                },
            );
            None
        }
    };
    changes.push(FileChange::Write {
        name: versions::LEDGER.into(),
        bytes: ledger.to_bytes(),
    });
    Ok((changes, replaced))
}

/// The indexed transcript an upload is a new version of: the one with the
/// id it claims (its sidecar's, or the one its file name gives), else the
/// one with its title.
fn replaced_transcript<'a>(
    indexed: &'a [TranscriptInfo],
    upload: &Upload,
    claimed: &Transcript,
) -> Result<Option<&'a TranscriptInfo>, IngestError> {
    let stem = Path::new(&upload.filename)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let from_sidecar = claimed.meta.id != transcript::sanitize_id("");
    let ids: Vec<String> = if from_sidecar {
        vec![claimed.meta.id.clone()]
    } else {
        vec![transcript::sanitize_id(&stem), slug(&stem)]
    };
    if let Some(t) = indexed.iter().find(|t| ids.contains(&t.meta.id)) {
        return Ok(Some(t));
    }
    let title = fold_str(claimed.meta.title.trim());
    if title.is_empty() {
        return Ok(None);
    }
    let same: Vec<&TranscriptInfo> = indexed
        .iter()
        .filter(|t| fold_str(t.meta.title.trim()) == title)
        .collect();
    match same.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        several => Err(IngestError::AmbiguousTitle {
            name: upload.filename.clone(),
            title: claimed.meta.title.clone(),
            ids: several.iter().map(|t| t.meta.id.clone()).collect(),
        }),
    }
}

/// The indexed transcript whose text is `bytes`' (normalised), confirmed
/// by reading its file.
fn same_text<'a>(
    dir: &Path,
    indexed: &'a [TranscriptInfo],
    bytes: &[u8],
) -> std::io::Result<Option<&'a TranscriptInfo>> {
    let hash = versions::text_hash(bytes);
    let normal = versions::normalized(bytes);
    for t in indexed.iter().filter(|t| t.text_hash == hash) {
        match std::fs::read(dir.join(&t.file)) {
            Ok(existing) if versions::normalized(&existing) == normal => return Ok(Some(t)),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// An alias of the upload that is the name of a speaker of another
/// indexed transcript would make that name mean two people.
fn check_aliases(
    loaded: &Loaded,
    parsed: &Transcript,
    replacing: Option<&str>,
) -> Result<(), IngestError> {
    let dir = &loaded.speakers;
    for s in &parsed.speakers {
        for alias in &s.aliases {
            for i in dir.named(alias) {
                let other = &dir.entries[i];
                let elsewhere: Vec<&String> = other
                    .transcripts
                    .iter()
                    .filter(|t| Some(t.as_str()) != replacing)
                    .collect();
                if other.name != s.name && !elsewhere.is_empty() {
                    return Err(IngestError::AliasIsAName {
                        speaker: s.name.clone(),
                        alias: alias.clone(),
                        other: other.name.clone(),
                        transcript: elsewhere[0].clone(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// What [`remove`] did.
#[derive(Debug, Clone)]
pub struct Removed {
    pub report: BuildReport,
    pub id: String,
    pub title: String,
    /// The version removed, or (undoing) the version back in place.
    pub version: u32,
    /// The version kept now, if any (undoing: the one taken back out).
    pub kept: Option<u32>,
    pub undone: bool,
}

/// Removes the transcript `id` (its files are kept until that transcript
/// changes again), or, with `undo`, takes its last change back: the kept
/// version comes back in place of the current one (or of none, after a
/// removal), and the current one is kept instead.
pub fn remove(
    engine: &Engine,
    id: &str,
    undo: bool,
    progress: &dyn Fn(Progress),
) -> Result<Removed, IngestError> {
    let id = id.trim();
    let (report, (title, version, kept)) = engine.change_files(
        |dir, loaded| {
            if undo {
                plan_undo(dir, loaded, id)
            } else {
                plan_remove(dir, loaded, id)
            }
        },
        progress,
    )?;
    Ok(Removed {
        report,
        id: id.to_owned(),
        title,
        version,
        kept,
        undone: undo,
    })
}

type Plan = (Vec<FileChange>, (String, u32, Option<u32>));

fn plan_remove(dir: &Path, loaded: &Loaded, id: &str) -> Result<Plan, IngestError> {
    let catalog = &loaded.generation.catalog;
    let Some(t) = catalog.transcript(id) else {
        return Err(unknown(loaded, id));
    };
    if catalog.transcripts.len() == 1 {
        return Err(IngestError::OnlyTranscript { id: id.to_owned() });
    }
    let stem = stem_of(&t.file).to_owned();
    let bytes = std::fs::read(dir.join(&t.file))?;
    let sidecar = std::fs::read(dir.join(format!("{stem}.toml"))).ok();
    let mut ledger = Ledger::load(dir);
    let entry = ledger.stems.entry(stem.clone()).or_default();
    let was = entry.current.take().unwrap_or_else(|| Version {
        version: t.version.max(1),
        since_unix: t.since_unix,
        id: t.meta.id.clone(),
        title: t.meta.title.clone(),
        sidecar: sidecar.is_some(),
    });
    let version = was.version;
    entry.previous = Some(was);
    let mut changes = keep(&stem, bytes, sidecar);
    changes.push(FileChange::Delete {
        name: t.file.clone(),
    });
    changes.push(FileChange::Delete {
        name: format!("{stem}.toml"),
    });
    changes.push(FileChange::Write {
        name: versions::LEDGER.into(),
        bytes: ledger.to_bytes(),
    });
    Ok((changes, (t.meta.title.clone(), version, Some(version))))
}

fn plan_undo(dir: &Path, loaded: &Loaded, id: &str) -> Result<Plan, IngestError> {
    let catalog = &loaded.generation.catalog;
    let mut ledger = Ledger::load(dir);
    // The transcript as it is now, or the one removed under that id.
    let stem = match catalog.transcript(id) {
        Some(t) => stem_of(&t.file).to_owned(),
        None => match ledger.kept(id) {
            Some((stem, _)) => stem.to_owned(),
            None => return Err(unknown(loaded, id)),
        },
    };
    let kept_txt = format!("{}/{stem}.txt", versions::PREVIOUS_DIR);
    let kept_toml = format!("{}/{stem}.toml", versions::PREVIOUS_DIR);
    let entry = ledger.stems.entry(stem.clone()).or_default();
    let (Some(back), Ok(back_bytes)) = (entry.previous.clone(), std::fs::read(dir.join(&kept_txt)))
    else {
        return Err(IngestError::NothingToUndo { id: id.to_owned() });
    };
    let back_sidecar = std::fs::read(dir.join(&kept_toml)).ok();
    let now_txt = std::fs::read(dir.join(format!("{stem}.txt"))).ok();
    let now_toml = std::fs::read(dir.join(format!("{stem}.toml"))).ok();
    let current = match (&now_txt, catalog.transcript(id)) {
        (Some(_), Some(t)) => Some(entry.current.clone().unwrap_or_else(|| Version {
            version: t.version.max(1),
            since_unix: t.since_unix,
            id: t.meta.id.clone(),
            title: t.meta.title.clone(),
            sidecar: now_toml.is_some(),
        })),
        _ => None,
    };
    let kept_now = current.as_ref().map(|v| v.version);
    let (title, version) = (back.title.clone(), back.version);
    *entry = Entry {
        current: Some(back),
        previous: current,
    };
    let mut changes = match now_txt {
        Some(bytes) => keep(&stem, bytes, now_toml),
        None => forget_kept(&stem),
    };
    changes.push(FileChange::Write {
        name: format!("{stem}.txt"),
        bytes: back_bytes,
    });
    changes.push(match back_sidecar {
        Some(bytes) => FileChange::Write {
            name: format!("{stem}.toml"),
            bytes,
        },
        None => FileChange::Delete {
            name: format!("{stem}.toml"),
        },
    });
    changes.push(FileChange::Write {
        name: versions::LEDGER.into(),
        bytes: ledger.to_bytes(),
    });
    Ok((changes, (title, version, kept_now)))
}

fn unknown(loaded: &Loaded, id: &str) -> IngestError {
    IngestError::UnknownTranscript {
        id: id.to_owned(),
        known: loaded
            .generation
            .catalog
            .transcripts
            .iter()
            .map(|t| t.meta.id.clone())
            .collect(),
    }
}

/// Keeps a version (its text and sidecar, if any) in place of the one kept
/// before.
fn keep(stem: &str, bytes: Vec<u8>, sidecar: Option<Vec<u8>>) -> Vec<FileChange> {
    let dir = versions::PREVIOUS_DIR;
    vec![
        FileChange::Write {
            name: format!("{dir}/{stem}.txt"),
            bytes,
        },
        match sidecar {
            Some(bytes) => FileChange::Write {
                name: format!("{dir}/{stem}.toml"),
                bytes,
            },
            None => FileChange::Delete {
                name: format!("{dir}/{stem}.toml"),
            },
        },
    ]
}

/// Takes a kept version out.
fn forget_kept(stem: &str) -> Vec<FileChange> {
    let dir = versions::PREVIOUS_DIR;
    ["txt", "toml"]
        .iter()
        .map(|ext| FileChange::Delete {
            name: format!("{dir}/{stem}.{ext}"),
        })
        .collect()
}

fn stem_of(file: &str) -> &str {
    file.strip_suffix(".txt").unwrap_or(file)
}

fn sidecar_of(file: &str) -> String {
    format!("{}.toml", stem_of(file))
}

/// A readable file stem (and default id) for an upload: the slug of the
/// file name given (`區塊鏈論壇.txt` → `qu-kuai-lian-lun-tan`), else of the
/// title, else `transcript`; `-2`, `-3`, … when an indexed transcript or a
/// file already has it. Only `a-z 0-9 -` ever reach a path.
fn unique_stem(dir: &Path, loaded: &Loaded, filename: &str, title: &str) -> String {
    let given = Path::new(filename)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = [slug(&given), slug(title)]
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "transcript".to_owned());
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

    /// Transcripts and sidecars in the directory (not the kept versions).
    fn files(tmp: &tempfile::TempDir) -> usize {
        std::fs::read_dir(tmp.path().join("transcripts"))
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                let name = name.to_string_lossy();
                name.ends_with(".txt") || name.ends_with(".toml")
            })
            .count()
    }

    fn upload(filename: &str, text: &str) -> Upload {
        Upload {
            filename: filename.into(),
            bytes: text.as_bytes().to_vec(),
            sidecar: None,
        }
    }

    /// The texts quoted for a question.
    fn quoted(e: &Engine, q: &str) -> Vec<String> {
        e.ask(&Question::new(q))
            .unwrap()
            .hits
            .into_iter()
            .map(|h| h.text)
            .collect()
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
        let report = add(&e, &up, 1000, &|_| {}).unwrap().report;
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
        // The same name again names the same transcript: a new version of
        // it, under its name. A name with no letters falls back to the title.
        let again = Upload {
            bytes: "另一場\n\n戊:跨境支付。\n\n己:好。\n\n戊:謝謝。\n\n己:再見。\n"
                .as_bytes()
                .to_vec(),
            ..up.clone()
        };
        let added = add(&e, &again, 1000, &|_| {}).unwrap();
        assert_eq!(added.replaced.map(|r| r.id), Some("passwd".to_owned()));
        assert!(!tmp.path().join("transcripts/passwd-2.txt").exists());
        assert_eq!(files(&tmp), 2);
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
        let up = upload("new.txt", text);
        add(&e, &up, 1000, &|_| {}).unwrap();
        let generation = e.snapshot().generation.name.clone();
        for again in [
            up.clone(),
            // Another name changes nothing.
            upload("copy.txt", text),
            // Nor do line ends, a byte order mark or white space at the ends.
            upload("crlf.txt", &text.replace('\n', "\r\n")),
            upload("bom.txt", &format!("\u{feff}{text}")),
            upload("longer.txt", &format!("{text}\n")),
            upload("spaces.txt", &text.replace("同意。", "同意。  ")),
            // What was there before any upload.
            upload("a-again.txt", BASE),
        ] {
            let err = add(&e, &again, 1000, &|_| {}).unwrap_err();
            assert!(
                matches!(err, IngestError::AlreadyIndexed { .. }) && err.kind() == Kind::User,
                "{}: {err}",
                again.filename
            );
            assert!(err.to_string().contains(&again.filename), "{err}");
            assert!(!err.to_string().contains("fix the file"), "{err}");
        }
        assert_eq!(files(&tmp), 2);
        assert_eq!(e.snapshot().generation.name, generation);
        assert_eq!(e.ask(&Question::new("區塊鏈")).unwrap().hits.len(), 1);
        // A word more is a correction of it.
        let fixed = upload("new.txt", &text.replace("好。", "好的。"));
        let added = add(&e, &fixed, 1000, &|_| {}).unwrap();
        assert_eq!(added.replaced.map(|r| (r.from, r.to)), Some((1, 2)));
        assert_eq!(files(&tmp), 2);
    }

    const V1: &str = "金融科技論壇\n\n唐文:今年的主題是開放銀行。\n\n郭慶:開放銀行的關鍵是接口標準,我們今年接入了四十家合作方。\n\n唐文:謝謝郭總。\n\n郭慶:不客氣。\n";

    #[test]
    fn a_correction_replaces_its_transcript_and_can_be_undone() {
        let (tmp, e) = engine();
        let dir = tmp.path().join("transcripts");
        let v1 = add(&e, &upload("fintech.txt", V1), 10_000, &|_| {}).unwrap();
        assert!(v1.replaced.is_none());
        assert_eq!(quoted(&e, "開放銀行接入了幾家合作方?").len(), 1);
        // The same file name: a new version, under the same id.
        let v2 = V1.replace("四十家", "十四家");
        let added = add(&e, &upload("fintech.txt", &v2), 10_000, &|_| {}).unwrap();
        let replaced = added.replaced.unwrap();
        assert_eq!(
            (replaced.id.as_str(), replaced.from, replaced.to),
            ("fintech", 1, 2)
        );
        assert_eq!(added.report.transcripts.len(), 2);
        let said = quoted(&e, "開放銀行接入了幾家合作方?");
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("十四家"), "{said:?}");
        let info = e
            .snapshot()
            .generation
            .catalog
            .transcript("fintech")
            .cloned()
            .unwrap();
        assert_eq!(info.version, 2);
        assert_eq!(
            std::fs::read_to_string(dir.join(".previous/fintech.txt")).unwrap(),
            V1
        );
        // Another file name with the same title: a new version too.
        let v3 = v2.replace("謝謝郭總。", "謝謝郭總,也謝謝大家。");
        let added = add(&e, &upload("金融科技.txt", &v3), 10_000, &|_| {}).unwrap();
        assert_eq!(added.replaced.map(|r| (r.from, r.to)), Some((2, 3)));
        assert_eq!(files(&tmp), 2);
        assert!(!dir.join("jin-rong-ke-ji.txt").exists());
        // Undo: version 2 comes back, version 3 is kept instead.
        let undone = remove(&e, "fintech", true, &|_| {}).unwrap();
        assert_eq!((undone.version, undone.kept), (2, Some(3)));
        assert_eq!(
            std::fs::read_to_string(dir.join("fintech.txt")).unwrap(),
            v2
        );
        assert_eq!(
            std::fs::read_to_string(dir.join(".previous/fintech.txt")).unwrap(),
            v3
        );
        assert_eq!(
            e.snapshot()
                .generation
                .catalog
                .transcript("fintech")
                .unwrap()
                .version,
            2
        );
        // Removed: gone from answers, kept; undone: back.
        let removed = remove(&e, "fintech", false, &|_| {}).unwrap();
        assert_eq!(removed.version, 2);
        assert!(quoted(&e, "開放銀行接入了幾家合作方?").is_empty());
        assert!(e
            .snapshot()
            .generation
            .catalog
            .transcript("fintech")
            .is_none());
        assert_eq!(files(&tmp), 1);
        let back = remove(&e, "fintech", true, &|_| {}).unwrap();
        assert_eq!((back.version, back.kept), (2, None));
        assert!(quoted(&e, "開放銀行接入了幾家合作方?")[0].contains("十四家"));
        // Nothing more kept for it after an undo of a removal.
        let err = remove(&e, "fintech", true, &|_| {}).unwrap_err();
        assert!(matches!(err, IngestError::NothingToUndo { .. }), "{err}");
    }

    #[test]
    fn removal_is_refused_for_unknown_ids_and_the_last_transcript() {
        let (tmp, e) = engine();
        let before = e.snapshot().generation.name.clone();
        let err = remove(&e, "nope", false, &|_| {}).unwrap_err();
        assert!(
            matches!(err, IngestError::UnknownTranscript { .. }) && err.kind() == Kind::User,
            "{err}"
        );
        assert!(err.to_string().contains("the transcripts are: a"), "{err}");
        let err = remove(&e, "a", false, &|_| {}).unwrap_err();
        assert!(matches!(err, IngestError::OnlyTranscript { .. }), "{err}");
        let err = remove(&e, "a", true, &|_| {}).unwrap_err();
        assert!(matches!(err, IngestError::NothingToUndo { .. }), "{err}");
        assert_eq!(files(&tmp), 1);
        assert_eq!(e.snapshot().generation.name, before);
    }

    #[test]
    fn an_upload_may_not_give_another_transcripts_speaker_as_an_alias() {
        let (tmp, e) = engine();
        let up = Upload {
            sidecar: Some(
                "[[speakers]]\nname = \"丙\"\naliases = [\"甲\"]\n[[speakers]]\nname = \"丁\"\n"
                    .as_bytes()
                    .to_vec(),
            ),
            ..upload(
                "x.txt",
                "新論壇\n\n丙:區塊鏈改變結算。\n\n丁:同意。\n\n丙:謝謝。\n\n丁:好。\n",
            )
        };
        let err = add(&e, &up, 1000, &|_| {}).unwrap_err();
        assert!(matches!(err, IngestError::AliasIsAName { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("the alias \"甲\" is the name of \"甲\""),
            "{err}"
        );
        assert_eq!(files(&tmp), 1);
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
