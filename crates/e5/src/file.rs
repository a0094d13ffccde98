//! The `E5S1` file: header, tokenizer section, normalisation table, tensor
//! directory (FORMAT.md). Every read is bounds-checked; a bad file is a
//! [`ModelError`], never a panic.

use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;

use crate::tokenizer::Tokenizer;

/// Model dimensions the file must declare.
pub(crate) const H: usize = 384;
pub(crate) const NL: usize = 12;
pub(crate) const NH: usize = 12;
pub(crate) const FF: usize = 1536;
pub(crate) const VOC: usize = 250_037;
pub(crate) const MAXP: usize = 512;
pub(crate) const TVS: usize = 2;
pub(crate) const QK: usize = 32;
/// Bytes of one Q4_0 block: f16 scale + 16 bytes of nibbles.
pub(crate) const BLOCK_BYTES: usize = 18;
pub(crate) const HEADER_LEN: usize = 44;

/// Why a model file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read model file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("not an e5 model file: magic {found:?}, expected \"E5S1\"")]
    Magic { found: String },
    #[error("unsupported e5 model file version {0}, expected 1")]
    Version(u32),
    #[error("header: {name} is {found}, expected {expected}")]
    Header {
        name: &'static str,
        found: String,
        expected: String,
    },
    #[error("truncated: {what} ends at byte {end} past the file's end {len}")]
    Truncated { what: String, end: u64, len: u64 },
    #[error("tokenizer section: {0}")]
    Tokenizer(String),
    #[error("tensor directory: {0}")]
    Directory(String),
    #[error("tensor {name}: {problem}")]
    Tensor { name: String, problem: String },
}

/// A Q4_0 linear layer: `out = W x + b`, W `[n][k]` in the map.
pub(crate) struct Lin {
    pub w: Range<usize>,
    pub b: Vec<f32>,
    pub n: usize,
}

pub(crate) struct Norm {
    pub w: Vec<f32>,
    pub b: Vec<f32>,
}

pub(crate) struct Layer {
    pub q: Lin,
    pub k: Lin,
    pub v: Lin,
    pub ao: Lin,
    pub aln: Norm,
    pub fi: Lin,
    pub fo: Lin,
    pub oln: Norm,
}

pub(crate) struct Weights {
    /// `emb.word`, Q4_0 `[VOC][H]`, in the map.
    pub word: Range<usize>,
    /// `emb.pos`, f32 `[MAXP][H]`, with `emb.type` row 0 added.
    pub pos: Vec<f32>,
    pub ln: Norm,
    pub layers: Vec<Layer>,
    pub eps: f32,
}

/// Bounds-checked little-endian reader over the mapped file.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8], ModelError> {
        let end = (self.pos as u64).saturating_add(n);
        if end > self.buf.len() as u64 {
            return Err(ModelError::Truncated {
                what: what.to_string(),
                end,
                len: self.buf.len() as u64,
            });
        }
        let s = &self.buf[self.pos..end as usize];
        self.pos = end as usize;
        Ok(s)
    }
    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], ModelError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N as u64, what)?);
        Ok(a)
    }
    fn u8(&mut self, what: &str) -> Result<u8, ModelError> {
        Ok(self.array::<1>(what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16, ModelError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }
    fn u32(&mut self, what: &str) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    fn i32(&mut self, what: &str) -> Result<i32, ModelError> {
        Ok(i32::from_le_bytes(self.array(what)?))
    }
    fn u64(&mut self, what: &str) -> Result<u64, ModelError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
}

fn u32s(b: &[u8]) -> Vec<u32> {
    b.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn f32s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn header_err(name: &'static str, found: impl ToString, expected: impl ToString) -> ModelError {
    ModelError::Header {
        name,
        found: found.to_string(),
        expected: expected.to_string(),
    }
}

/// Parses and checks the whole file.
pub(crate) fn parse(buf: &[u8]) -> Result<(Tokenizer, Weights), ModelError> {
    let mut c = Cursor { buf, pos: 0 };
    let magic = c.take(4, "header")?;
    if magic != b"E5S1" {
        return Err(ModelError::Magic {
            found: magic.escape_ascii().to_string(),
        });
    }
    let version = c.u32("header")?;
    if version != 1 {
        return Err(ModelError::Version(version));
    }
    let dims = [
        ("H", H),
        ("NL", NL),
        ("NH", NH),
        ("FF", FF),
        ("VOC", VOC),
        ("MAXP", MAXP),
        ("TVS", TVS),
    ];
    for (name, want) in dims {
        let got = c.i32("header")?;
        if i64::from(got) != want as i64 {
            return Err(header_err(name, got, want));
        }
    }
    let eps = f32::from_le_bytes(c.array("header")?);
    if !(eps > 0.0 && eps < 1e-3) {
        return Err(header_err("LayerNorm eps", eps, "a small positive number"));
    }
    let qk = c.i32("header")?;
    if qk != QK as i32 {
        return Err(header_err("QK", qk, QK));
    }

    let tok = parse_tokenizer(&mut c)?;
    let weights = parse_tensors(&mut c, eps)?;
    Ok((tok, weights))
}

fn parse_tokenizer(c: &mut Cursor) -> Result<Tokenizer, ModelError> {
    let bad = |m: String| ModelError::Tokenizer(m);
    let what = "tokenizer header";
    let n = c.i32(what)?;
    let specials = [c.i32(what)?, c.i32(what)?, c.i32(what)?, c.i32(what)?];
    let blob_len = c.u64(what)?;
    if n < 5 || n as usize > VOC {
        return Err(bad(format!("{n} pieces, expected 5..={VOC}")));
    }
    let n = n as usize;
    if let Some(s) = specials.iter().find(|&&s| s < 0 || s as usize >= n) {
        return Err(bad(format!(
            "special token id {s} is outside the {n} pieces"
        )));
    }
    let offs = u32s(c.take(4 * (n as u64 + 1), "tokenizer piece offsets")?);
    let scores = f32s(c.take(4 * n as u64, "tokenizer scores")?);
    let blob_at = c.pos;
    let blob = c.take(blob_len, "tokenizer pieces")?;
    if offs[0] != 0 || u64::from(offs[n]) != blob_len {
        return Err(bad(format!(
            "piece offsets span {}..{}, expected 0..{blob_len}",
            offs[0], offs[n]
        )));
    }
    if let Some(i) = offs.windows(2).position(|w| w[0] > w[1]) {
        return Err(bad(format!("piece offsets decrease at piece {i}")));
    }
    if let Some(i) = scores.iter().position(|s| !s.is_finite()) {
        return Err(bad(format!("piece {i} has score {}", scores[i])));
    }

    let n_norm = c.i32("normalisation table header")?;
    let norm_bytes = c.u32("normalisation table header")?;
    let table = c.take(u64::from(norm_bytes), "normalisation table")?;
    if n_norm < 0 {
        return Err(bad(format!("{n_norm} normalisation records")));
    }
    let mut t = Cursor { buf: table, pos: 0 };
    let (mut cps, mut at, mut out) = (Vec::new(), vec![0u32], Vec::new());
    let as_char = |cp: u32| {
        char::from_u32(cp).ok_or_else(|| bad(format!("normalisation: {cp:#x} is not a character")))
    };
    let norm_err = |e: ModelError| match e {
        ModelError::Truncated { .. } => bad(format!(
            "normalisation table: {n_norm} records do not fit in its {norm_bytes} bytes"
        )),
        e => e,
    };
    for _ in 0..n_norm {
        let cp = t.u32("").map_err(norm_err)?;
        as_char(cp)?;
        if cps.last().is_some_and(|&last| last >= cp) {
            return Err(bad(format!("normalisation table not sorted at {cp:#x}")));
        }
        let k = t.u8("").map_err(norm_err)?;
        for _ in 0..k {
            out.push(as_char(t.u32("").map_err(norm_err)?)?);
        }
        cps.push(cp);
        at.push(out.len() as u32);
    }
    if t.pos != table.len() {
        return Err(bad(format!(
            "normalisation table: {n_norm} records use {} of its {norm_bytes} bytes",
            t.pos
        )));
    }
    let [bos, eos, _pad, unk] = specials.map(|s| s as u32);
    Ok(Tokenizer::new(
        blob,
        blob_at..blob_at + blob.len(),
        offs,
        scores,
        [bos, eos, unk],
        (cps, at, out),
    ))
}

/// One directory entry.
struct Entry {
    dtype: u8,
    n_elems: u64,
    offset: u64,
    nbytes: u64,
}

const F32: u8 = 0;
const Q4_0: u8 = 1;

struct Tensors<'a> {
    buf: &'a [u8],
    dir: HashMap<String, Entry>,
    data_start: u64,
}

impl Tensors<'_> {
    /// The byte range of tensor `name`, checked against its expected dtype
    /// and shape.
    fn get(&self, name: &str, dtype: u8, shape: [usize; 2]) -> Result<Range<usize>, ModelError> {
        let err = |problem: String| ModelError::Tensor {
            name: name.to_string(),
            problem,
        };
        let dname = |d: u8| match d {
            F32 => "f32",
            Q4_0 => "Q4_0",
            _ => "unknown",
        };
        let e = self
            .dir
            .get(name)
            .ok_or_else(|| err("missing from the tensor directory".into()))?;
        if e.dtype != dtype {
            return Err(err(format!(
                "dtype {} ({}), expected {dtype} ({})",
                e.dtype,
                dname(e.dtype),
                dname(dtype)
            )));
        }
        let n = (shape[0] * shape[1]) as u64;
        if e.n_elems != n {
            return Err(err(format!(
                "{} elements, expected {n} {shape:?}",
                e.n_elems
            )));
        }
        let want = if dtype == F32 {
            4 * n
        } else {
            n / QK as u64 * BLOCK_BYTES as u64
        };
        if e.nbytes != want {
            return Err(err(format!(
                "{} bytes, expected {want} for {n} {} elements",
                e.nbytes,
                dname(dtype)
            )));
        }
        if e.offset < self.data_start {
            return Err(err(format!(
                "starts at byte {}, inside the header and directory (which end at {})",
                e.offset, self.data_start
            )));
        }
        let len = self.buf.len() as u64;
        let end = e.offset.saturating_add(e.nbytes);
        if end > len {
            return Err(ModelError::Truncated {
                what: format!("tensor {name}"),
                end,
                len,
            });
        }
        Ok(e.offset as usize..end as usize)
    }

    fn f32(&self, name: &str, shape: [usize; 2]) -> Result<Vec<f32>, ModelError> {
        Ok(f32s(&self.buf[self.get(name, F32, shape)?]))
    }

    fn norm(&self, prefix: &str) -> Result<Norm, ModelError> {
        Ok(Norm {
            w: self.f32(&format!("{prefix}.w"), [1, H])?,
            b: self.f32(&format!("{prefix}.b"), [1, H])?,
        })
    }

    fn lin(&self, prefix: &str, n: usize, k: usize) -> Result<Lin, ModelError> {
        Ok(Lin {
            w: self.get(&format!("{prefix}.w"), Q4_0, [n, k])?,
            b: self.f32(&format!("{prefix}.b"), [1, n])?,
            n,
        })
    }
}

fn parse_tensors(c: &mut Cursor, eps: f32) -> Result<Weights, ModelError> {
    let what = "tensor directory";
    let ndir = c.i32(what)?;
    if !(0..=100_000).contains(&ndir) {
        return Err(ModelError::Directory(format!("{ndir} entries")));
    }
    let mut dir = HashMap::new();
    for _ in 0..ndir {
        let len = c.u16(what)?;
        let name = std::str::from_utf8(c.take(u64::from(len), what)?)
            .map_err(|_| ModelError::Directory("a tensor name is not UTF-8".into()))?
            .to_string();
        let e = Entry {
            dtype: c.u8(what)?,
            n_elems: u64::from(c.u32(what)?),
            offset: c.u64(what)?,
            nbytes: c.u64(what)?,
        };
        if dir.insert(name.clone(), e).is_some() {
            return Err(ModelError::Directory(format!("tensor {name} listed twice")));
        }
    }
    let t = Tensors {
        buf: c.buf,
        dir,
        data_start: c.pos as u64,
    };
    let word = t.get("emb.word", Q4_0, [VOC, H])?;
    let mut pos = t.f32("emb.pos", [MAXP, H])?;
    let typ = t.f32("emb.type", [TVS, H])?;
    for row in pos.chunks_exact_mut(H) {
        for (p, ty) in row.iter_mut().zip(&typ[..H]) {
            *p += ty;
        }
    }
    let ln = t.norm("emb.ln")?;
    let mut layers = Vec::with_capacity(NL);
    for l in 0..NL {
        let p = |s: &str| format!("l{l}.{s}");
        layers.push(Layer {
            q: t.lin(&p("q"), H, H)?,
            k: t.lin(&p("k"), H, H)?,
            v: t.lin(&p("v"), H, H)?,
            ao: t.lin(&p("ao"), H, H)?,
            aln: t.norm(&p("aln"))?,
            fi: t.lin(&p("fi"), FF, H)?,
            fo: t.lin(&p("fo"), H, FF)?,
            oln: t.norm(&p("oln"))?,
        });
    }
    Ok(Weights {
        word,
        pos,
        ln,
        layers,
        eps,
    })
}
