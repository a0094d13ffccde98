//! Passage vectors of one generation, stored beside its index as
//! `vectors.bin`, and reused by content.
//!
//! Each passage is embedded from its *embedding text* ([`embedding_text`]:
//! the speaker's name, the prompt it answers, the quote), and keyed by a
//! 64-bit hash of that text and the model. A reindex looks every key up in
//! the vectors of the generations still on disk and in an optional cache
//! file shared between archives ([`Reuse`]), and embeds only what is new or
//! changed. Vectors are kept as int8 with one scale each (388 bytes a
//! passage instead of 1,536; cosines move by under 0.002).
//!
//! File layout (little-endian): `FBV1`, u32 dim, u64 count, then count u64
//! keys, count f32 scales, count×dim i8 codes. Written to a temporary name
//! and renamed, so a reader sees no file or a whole one; a file that does
//! not add up is refused, never half-read.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const DIM: usize = 384;
const MAGIC: &[u8; 4] = b"FBV1";
/// The file in a generation directory.
pub const FILE: &str = "vectors.bin";
/// Bumped whenever [`embedding_text`] changes, so old vectors are not reused.
const TEXT_VERSION: u64 = 1;

/// Vectors in passage order (the index's `ord` field).
#[derive(Debug, Default, Clone)]
pub struct Vectors {
    pub keys: Vec<u64>,
    scales: Vec<f32>,
    codes: Vec<i8>,
}

/// What the text of one passage is embedded as: who says it and in what
/// role, the question it answers (measured on natural.jsonl: the speaker's
/// name lifts dense hit@1 from 0.40 to 0.53, the prompt hit@3 from 0.70 to
/// 0.76; the role lets "the JD Cloud speaker" find 京東雲), then the quote.
pub fn embedding_text(
    speaker: Option<&str>,
    role: Option<&str>,
    prompt: Option<&str>,
    quote: &str,
) -> String {
    let mut s = String::new();
    if let Some(sp) = speaker {
        s.push_str(sp);
        if let Some(r) = role.filter(|r| !r.trim().is_empty()) {
            s.push('（');
            s.push_str(r.trim());
            s.push('）');
        }
        s.push('：');
    }
    if let Some(p) = prompt {
        s.push_str("（回答：");
        s.push_str(p);
        s.push('）');
    }
    s.push_str(quote);
    s
}

/// The key of an embedding text under the pinned model.
pub fn key_of(text: &str) -> u64 {
    let mut h = 0xcbf29ce484222325u64 ^ TEXT_VERSION;
    for &b in e5::FILE_SHA256.as_bytes().iter().chain(text.as_bytes()) {
        h = (h ^ b as u64).wrapping_mul(0x100000001b3);
    }
    h
}

/// Quantises one unit vector to int8 with its scale.
fn quantise(v: &[f32]) -> (f32, Vec<i8>) {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max == 0.0 || !max.is_finite() {
        return (0.0, vec![0; v.len()]);
    }
    let scale = max / 127.0;
    (scale, v.iter().map(|x| (x / scale).round() as i8).collect())
}

#[derive(Debug, thiserror::Error)]
pub enum VectorsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a vectors file of this version ({message})")]
    Format { path: PathBuf, message: String },
}

impl Vectors {
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn push(&mut self, key: u64, v: &[f32]) {
        let (scale, codes) = quantise(v);
        self.keys.push(key);
        self.scales.push(scale);
        self.codes.extend(codes);
    }

    fn push_raw(&mut self, key: u64, scale: f32, codes: &[i8]) {
        self.keys.push(key);
        self.scales.push(scale);
        self.codes.extend_from_slice(codes);
    }

    fn codes(&self, i: usize) -> &[i8] {
        &self.codes[i * DIM..(i + 1) * DIM]
    }

    /// Cosine of passage `i` with a unit query vector.
    pub fn cosine(&self, i: usize, q: &[f32]) -> f32 {
        let dot: f32 = self
            .codes(i)
            .iter()
            .zip(q)
            .map(|(&c, &x)| c as f32 * x)
            .sum();
        dot * self.scales[i]
    }

    /// The passages most like `q`, best first, among those `keep` allows,
    /// with the mean and standard deviation of the cosines of all of them
    /// (how far the best stand out says more than their cosine alone).
    pub fn nearest(
        &self,
        q: &[f32],
        n: usize,
        keep: impl Fn(usize) -> bool,
    ) -> (Vec<(usize, f32)>, f32, f32) {
        let mut all: Vec<(usize, f32)> = (0..self.len())
            .filter(|&i| keep(i))
            .map(|i| (i, self.cosine(i, q)))
            .collect();
        let count = all.len().max(1) as f32;
        let mean = all.iter().map(|x| x.1).sum::<f32>() / count;
        let var = all.iter().map(|x| (x.1 - mean).powi(2)).sum::<f32>() / count;
        let n = n.min(all.len());
        if n == 0 {
            return (Vec::new(), mean, var.sqrt());
        }
        all.select_nth_unstable_by(n - 1, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        all.truncate(n);
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        (all, mean, var.sqrt())
    }

    /// Writes the file by temporary name and rename.
    pub fn write(&self, path: &Path) -> Result<(), VectorsError> {
        let io = |source| VectorsError::Io {
            path: path.to_owned(),
            source,
        };
        let mut bytes = Vec::with_capacity(16 + self.len() * (12 + DIM));
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&(DIM as u32).to_le_bytes());
        bytes.extend_from_slice(&(self.len() as u64).to_le_bytes());
        for k in &self.keys {
            bytes.extend_from_slice(&k.to_le_bytes());
        }
        for s in &self.scales {
            bytes.extend_from_slice(&s.to_le_bytes());
        }
        bytes.extend(self.codes.iter().map(|&c| c as u8));
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads a file written by [`Vectors::write`]; anything that does not
    /// add up is an error.
    pub fn read(path: &Path) -> Result<Vectors, VectorsError> {
        let bytes = std::fs::read(path).map_err(|source| VectorsError::Io {
            path: path.to_owned(),
            source,
        })?;
        let bad = |message: String| VectorsError::Format {
            path: path.to_owned(),
            message,
        };
        if bytes.len() < 16 || &bytes[..4] != MAGIC {
            return Err(bad("no FBV1 header".into()));
        }
        let dim = u32::from_le_bytes(bytes[4..8].try_into().unwrap_or_default()) as usize;
        let count = u64::from_le_bytes(bytes[8..16].try_into().unwrap_or_default());
        if dim != DIM {
            return Err(bad(format!("{dim} dimensions, expected {DIM}")));
        }
        let count = usize::try_from(count).map_err(|_| bad("count overflows".into()))?;
        let expected = count
            .checked_mul(12 + DIM)
            .and_then(|n| n.checked_add(16))
            .ok_or_else(|| bad("count overflows".into()))?;
        if bytes.len() != expected {
            return Err(bad(format!(
                "{} bytes, expected {expected} for {count} vectors",
                bytes.len()
            )));
        }
        let mut v = Vectors::default();
        let keys = &bytes[16..16 + 8 * count];
        let scales = &bytes[16 + 8 * count..16 + 12 * count];
        let codes = &bytes[16 + 12 * count..];
        for i in 0..count {
            let k = u64::from_le_bytes(keys[i * 8..i * 8 + 8].try_into().unwrap_or_default());
            let s = f32::from_le_bytes(scales[i * 4..i * 4 + 4].try_into().unwrap_or_default());
            if !s.is_finite() {
                return Err(bad(format!("vector {i} has a scale of {s}")));
            }
            let c: Vec<i8> = codes[i * DIM..(i + 1) * DIM]
                .iter()
                .map(|&b| b as i8)
                .collect();
            v.push_raw(k, s, &c);
        }
        Ok(v)
    }
}

/// Vectors that may be reused, by key: from older generations and a shared
/// cache file.
#[derive(Default)]
pub struct Reuse {
    by_key: HashMap<u64, (f32, Vec<i8>)>,
}

impl Reuse {
    /// Adds every vector of `v`.
    pub fn add(&mut self, v: &Vectors) {
        for i in 0..v.len() {
            self.by_key
                .entry(v.keys[i])
                .or_insert_with(|| (v.scales[i], v.codes(i).to_vec()));
        }
    }

    /// Adds the vectors of a file when it reads; an unreadable one is
    /// skipped (it is only a cache).
    pub fn add_file(&mut self, path: &Path) {
        match Vectors::read(path) {
            Ok(v) => self.add(&v),
            Err(VectorsError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(error = %e, "ignoring unreadable vectors"),
        }
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Whether the vector of `key` is known.
    pub fn contains(&self, key: u64) -> bool {
        self.by_key.contains_key(&key)
    }

    /// Copies the vector of `key` into `out`, if known.
    pub fn take_into(&self, key: u64, out: &mut Vectors) -> bool {
        match self.by_key.get(&key) {
            Some((s, c)) => {
                out.push_raw(key, *s, c);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(seed: u32) -> Vec<f32> {
        let v: Vec<f32> = (0..DIM)
            .map(|i| ((i as u32).wrapping_mul(2654435761u32) ^ seed.wrapping_mul(40503)) % 1000)
            .map(|x| x as f32 - 500.0)
            .collect();
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn vectors_round_trip_and_rank_by_cosine() {
        let mut v = Vectors::default();
        for s in 0..5 {
            v.push(s as u64, &unit(s));
        }
        let q = unit(3);
        let (top, mean, sd) = v.nearest(&q, 2, |_| true);
        assert!(mean < top[0].1 && sd > 0.0);
        assert_eq!(top[0].0, 3);
        assert!((top[0].1 - 1.0).abs() < 0.01, "{top:?}");
        assert_eq!(v.nearest(&q, 9, |i| i != 3).0.len(), 4);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE);
        v.write(&p).unwrap();
        let back = Vectors::read(&p).unwrap();
        assert_eq!(back.keys, v.keys);
        assert_eq!(back.cosine(2, &q), v.cosine(2, &q));
        // A cut file is refused, not half-read.
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() - 1]).unwrap();
        let e = Vectors::read(&p).unwrap_err().to_string();
        assert!(e.contains("expected"), "{e}");
        let mut reuse = Reuse::default();
        reuse.add(&back);
        let mut out = Vectors::default();
        assert!(reuse.take_into(4, &mut out) && !reuse.take_into(99, &mut out));
        assert_eq!(out.cosine(0, &unit(4)), back.cosine(4, &unit(4)));
    }

    #[test]
    fn the_key_follows_the_text() {
        let a = embedding_text(Some("郭慶"), None, None, "人才");
        let b = embedding_text(Some("郭慶"), Some("行長"), Some("問題?"), "人才");
        assert_eq!(a, "郭慶：人才");
        assert_eq!(b, "郭慶（行長）：（回答：問題?）人才");
        assert_ne!(key_of(&a), key_of(&b));
        assert_eq!(key_of(&a), key_of("郭慶：人才"));
    }
}
