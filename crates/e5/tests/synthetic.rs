//! Tests on a synthetic E5S1 file (always run: no model needed). The file
//! has the real dimensions, a tiny vocabulary and normalisation table, and
//! all-zero weights except some biases, written sparse (set_len), so it is
//! quick to make. Then alterations of it must be refused with a message.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use e5::{Model, ModelError};

const H: usize = 384;
const FF: usize = 1536;
const VOC: usize = 250_037;

/// The synthetic vocabulary: `(piece, score)`, ids in order.
const PIECES: &[(&str, f32)] = &[
    ("<s>", 0.0),
    ("<pad>", 0.0),
    ("</s>", 0.0),
    ("<unk>", 0.0),
    ("▁", -2.0),   // 4
    ("▁a", -1.0),  // 5
    ("b", -1.0),   // 6
    ("▁ab", -2.0), // 7: ties with ▁a + b, found first
    ("a", -3.0),   // 8
    ("xy", -1.0),  // 9: no piece "x" alone
    ("c", -5.0),   // 10: the minimum score
];

/// `(codepoint, replacement)`: ideographic space, full-width a, soft hyphen (deleted).
const NORM: &[(u32, &str)] = &[(0xad, ""), (0x3000, " "), (0xff41, "a")];

/// A pattern written into every `*.oln.b`: the last layer's output is this
/// vector for every token, so every embedding is its normalisation.
fn pattern() -> Vec<f32> {
    (0..H).map(|i| (i as f32 - 191.5) / 100.0).collect()
}

struct Synth {
    /// Header, tokenizer, directory.
    head: Vec<u8>,
    /// Nonzero tensor data: (offset, bytes).
    data: Vec<(usize, Vec<u8>)>,
    len: u64,
    /// Directory entry of each tensor: byte offset of its dtype field.
    entry: HashMap<String, usize>,
    /// Where the tokenizer's piece offsets and the norm table start.
    offs_at: usize,
    norm_at: usize,
}

fn tensors() -> Vec<(String, u8, usize)> {
    let mut t = vec![
        ("emb.word".to_string(), 1, VOC * H),
        ("emb.pos".into(), 0, 512 * H),
        ("emb.type".into(), 0, 2 * H),
        ("emb.ln.w".into(), 0, H),
        ("emb.ln.b".into(), 0, H),
    ];
    for l in 0..12 {
        for (s, dtype, n) in [
            ("q.w", 1, H * H),
            ("q.b", 0, H),
            ("k.w", 1, H * H),
            ("k.b", 0, H),
            ("v.w", 1, H * H),
            ("v.b", 0, H),
            ("ao.w", 1, H * H),
            ("ao.b", 0, H),
            ("aln.w", 0, H),
            ("aln.b", 0, H),
            ("fi.w", 1, FF * H),
            ("fi.b", 0, FF),
            ("fo.w", 1, H * FF),
            ("fo.b", 0, H),
            ("oln.w", 0, H),
            ("oln.b", 0, H),
        ] {
            t.push((format!("l{l}.{s}"), dtype, n));
        }
    }
    t
}

fn synth() -> Synth {
    let mut b = Vec::new();
    b.extend_from_slice(b"E5S1");
    b.extend_from_slice(&1u32.to_le_bytes());
    for d in [384i32, 12, 12, 1536, 250_037, 512, 2] {
        b.extend_from_slice(&d.to_le_bytes());
    }
    b.extend_from_slice(&1e-12f32.to_le_bytes());
    b.extend_from_slice(&32i32.to_le_bytes());
    // tokenizer
    let blob: Vec<u8> = PIECES.iter().flat_map(|(p, _)| p.bytes()).collect();
    b.extend_from_slice(&(PIECES.len() as i32).to_le_bytes());
    for s in [0i32, 2, 1, 3] {
        b.extend_from_slice(&s.to_le_bytes());
    }
    b.extend_from_slice(&(blob.len() as u64).to_le_bytes());
    let offs_at = b.len();
    let mut off = 0u32;
    b.extend_from_slice(&off.to_le_bytes());
    for (p, _) in PIECES {
        off += p.len() as u32;
        b.extend_from_slice(&off.to_le_bytes());
    }
    for (_, s) in PIECES {
        b.extend_from_slice(&s.to_le_bytes());
    }
    b.extend_from_slice(&blob);
    let mut recs = Vec::new();
    for (cp, repl) in NORM {
        recs.extend_from_slice(&cp.to_le_bytes());
        recs.push(repl.chars().count() as u8);
        for c in repl.chars() {
            recs.extend_from_slice(&u32::from(c).to_le_bytes());
        }
    }
    let norm_at = b.len();
    b.extend_from_slice(&(NORM.len() as i32).to_le_bytes());
    b.extend_from_slice(&(recs.len() as u32).to_le_bytes());
    b.extend_from_slice(&recs);
    // directory, with offsets patched once its size is known
    let ts = tensors();
    b.extend_from_slice(&(ts.len() as i32).to_le_bytes());
    let mut entry = HashMap::new();
    for (name, dtype, _) in &ts {
        b.extend_from_slice(&(name.len() as u16).to_le_bytes());
        b.extend_from_slice(name.as_bytes());
        entry.insert(name.clone(), b.len());
        b.push(*dtype);
        b.extend_from_slice(&[0; 4 + 8 + 8]);
    }
    let mut at = b.len().div_ceil(32) * 32;
    let mut data = Vec::new();
    for (name, dtype, n) in &ts {
        let nbytes = if *dtype == 0 { 4 * n } else { n / 32 * 18 };
        let e = entry[name];
        b[e + 1..e + 5].copy_from_slice(&(*n as u32).to_le_bytes());
        b[e + 5..e + 13].copy_from_slice(&(at as u64).to_le_bytes());
        b[e + 13..e + 21].copy_from_slice(&(nbytes as u64).to_le_bytes());
        if name.ends_with("oln.b") {
            data.push((at, pattern().iter().flat_map(|v| v.to_le_bytes()).collect()));
        }
        at = (at + nbytes).div_ceil(32) * 32;
    }
    Synth {
        head: b,
        data,
        len: at as u64,
        entry,
        offs_at,
        norm_at,
    }
}

fn temp_path(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("forumbot-e5-{}-{n}-{name}.bin", std::process::id()))
}

impl Synth {
    /// Writes the file (sparse), cut to `len` bytes if given; opens it;
    /// removes it.
    fn open(&self, name: &str, len: Option<u64>) -> Result<Model, ModelError> {
        use std::io::{Seek, SeekFrom, Write};
        let path = temp_path(name);
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(&self.head).unwrap();
        for (at, bytes) in &self.data {
            f.seek(SeekFrom::Start(*at as u64)).unwrap();
            f.write_all(bytes).unwrap();
        }
        f.set_len(len.unwrap_or(self.len)).unwrap();
        drop(f);
        let m = Model::open(&path);
        std::fs::remove_file(&path).unwrap();
        m
    }

    fn patch(&mut self, at: usize, bytes: &[u8]) -> &mut Self {
        self.head[at..at + bytes.len()].copy_from_slice(bytes);
        self
    }

    fn err(&self, name: &str) -> String {
        match self.open(name, None) {
            Ok(_) => panic!("{name}: opened"),
            Err(e) => e.to_string(),
        }
    }
}

fn assert_contains(msg: &str, want: &str) {
    assert!(msg.contains(want), "{msg:?} does not say {want:?}");
}

#[test]
fn synthetic_file_opens() {
    let s = synth();
    let m = s.open("ok", None).unwrap();
    assert!(m.kernel() == "avx2" || m.kernel() == "portable");
    fn shared<T: Send + Sync>(_: &T) {}
    shared(&m);
    assert!(format!("{m:?}").contains("pieces: 11"));
}

#[test]
fn tokenizer_rules() {
    let m = synth().open("tok", None).unwrap();
    let unk = 3;
    // ties: ▁ab (found first, at the first start) beats ▁a + b
    assert_eq!(m.tokenize("ab"), [7]);
    // one unmatched character: <unk>; consecutive ones stay separate
    assert_eq!(m.tokenize("ab☃"), [7, unk]);
    assert_eq!(m.tokenize("☃☃"), [4, unk, unk]);
    // no piece "x" alone: <unk> is only the fallback; xy still wins
    assert_eq!(m.tokenize("xy"), [4, 9]);
    // normalisation: full-width a, ideographic space collapsing with a
    // space, soft hyphen deleted
    assert_eq!(m.tokenize("ａb"), [7]);
    assert_eq!(m.tokenize("a\u{3000} b"), [5, 4, 6]);
    assert_eq!(m.tokenize("a\u{ad}b"), [7]);
    // leading space: no extra ▁; trailing space: a ▁ of its own
    assert_eq!(m.tokenize(" ab"), [7]);
    assert_eq!(m.tokenize("ab "), [7, 4]);
    assert_eq!(m.tokenize("   "), [4]);
    assert_eq!(m.tokenize(""), Vec::<u32>::new());
    assert_eq!(m.tokenize("\u{ad}"), Vec::<u32>::new());
    // control characters and the rest: <unk>, never a panic
    assert_eq!(m.tokenize("\u{0}\u{7}"), [4, unk, unk]);
}

fn unit(v: &[f32]) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

#[test]
fn any_text_embeds_without_panic() {
    let m = synth().open("embed", None).unwrap();
    let want = unit(&pattern());
    // 300 codepoints spread over all planes (surrogates skipped)
    let odd: String = (0..300u32)
        .filter_map(|i| char::from_u32(i * 3709 % 0x11_0000))
        .collect();
    let long = "ab ".repeat(510); // over 510 content tokens: two windows
    let check = |t: &str, v: Vec<f32>| {
        assert_eq!(v.len(), e5::DIM);
        let d: f32 = v.iter().zip(&want).map(|(a, b)| a * b).sum();
        assert!((d - 1.0).abs() < 1e-5, "{t:?}: {d}");
    };
    for t in ["", " ", "\u{0}", "\t\n\r", "☃", "\u{feff}\u{200b}"] {
        check(t, m.embed_query(t));
        check(t, m.embed_passage(t));
        check(t, m.embed_passage_truncated(t, 0));
    }
    check(&odd, m.embed_query(&odd));
    check(&long, m.embed_passage(&long));
    let huge = "ab☃ ".repeat(250_000); // 1.5 MB: ▁ab ☃ per repeat, a last ▁
    assert_eq!(m.tokenize(&huge).len(), 500_001);
    check("huge", m.embed_passage_truncated(&huge, 64));
    check("ids", m.embed_ids(&[u32::MAX, 5, 999_999]));
    let batch = m.embed_passages(&["ab", "", &long], 16);
    assert_eq!(batch.len(), 3);
    assert!(batch.iter().all(|v| v.len() == e5::DIM));
}

#[test]
fn bad_headers_are_refused() {
    let mut s = synth();
    assert_contains(
        &s.patch(0, b"GGUF").err("magic"),
        "not an e5 model file: magic \"GGUF\"",
    );
    let mut s = synth();
    assert_contains(
        &s.patch(4, &2u32.to_le_bytes()).err("version"),
        "version 2, expected 1",
    );
    let mut s = synth();
    assert_contains(
        &s.patch(8, &385i32.to_le_bytes()).err("h"),
        "header: H is 385, expected 384",
    );
    let mut s = synth();
    assert_contains(
        &s.patch(24, &250_002i32.to_le_bytes()).err("voc"),
        "VOC is 250002",
    );
    let mut s = synth();
    assert_contains(
        &s.patch(36, &f32::NAN.to_le_bytes()).err("eps"),
        "LayerNorm eps is NaN",
    );
    let mut s = synth();
    assert_contains(
        &s.patch(40, &64i32.to_le_bytes()).err("qk"),
        "QK is 64, expected 32",
    );
}

#[test]
fn truncated_files_are_refused() {
    let s = synth();
    let cases = [
        (0, "truncated: header ends at byte 44 past the file's end 0"),
        (
            20,
            "truncated: header ends at byte 44 past the file's end 20",
        ),
        (
            50,
            "truncated: tokenizer header ends at byte 52 past the file's end 50",
        ),
        (80, "truncated: tokenizer piece offsets ends at byte"),
        (
            s.norm_at as u64 - 3,
            "truncated: tokenizer pieces ends at byte",
        ),
        (
            s.norm_at as u64 + 9,
            "truncated: normalisation table ends at byte",
        ),
        (
            s.head.len() as u64 - 5,
            "truncated: tensor directory ends at byte",
        ),
        (
            s.head.len() as u64 + 100,
            "truncated: tensor emb.word ends at byte",
        ),
        (
            s.len - 1,
            &format!(
                "truncated: tensor l11.oln.b ends at byte {} past the file's end {}",
                s.len,
                s.len - 1
            ),
        ),
    ];
    for (len, want) in cases {
        match s.open("cut", Some(len)) {
            Ok(_) => panic!("cut at {len}: opened"),
            Err(e) => assert_contains(&e.to_string(), want),
        }
    }
}

#[test]
fn bad_tokenizer_sections_are_refused() {
    let mut s = synth();
    let at = s.offs_at + 4 * 5;
    assert_contains(
        &s.patch(at, &100u32.to_le_bytes()).err("offs"),
        "piece offsets decrease at piece 5",
    );
    let mut s = synth();
    assert_contains(&s.patch(44, &(-1i32).to_le_bytes()).err("n"), "-1 pieces");
    let mut s = synth();
    assert_contains(
        &s.patch(64, &u64::MAX.to_le_bytes()).err("blob"),
        "truncated: tokenizer pieces ends at byte 18446744073709551615",
    );
    let mut s = synth();
    assert_contains(
        &s.patch(60, &99i32.to_le_bytes()).err("unk"),
        "special token id 99",
    );
    // scores: after the n+1 offsets
    let mut s = synth();
    let at = s.offs_at + 4 * (PIECES.len() + 1);
    assert_contains(
        &s.patch(at, &f32::INFINITY.to_le_bytes()).err("score"),
        "piece 0 has score inf",
    );
    // norm table: first record's codepoint after the second's
    let mut s = synth();
    let at = s.norm_at + 8;
    assert_contains(
        &s.patch(at, &0x4000u32.to_le_bytes()).err("sort"),
        "not sorted",
    );
    let mut s = synth();
    assert_contains(
        &s.patch(at, &0xd800u32.to_le_bytes()).err("cp"),
        "0xd800 is not a character",
    );
    let mut s = synth();
    assert_contains(
        &s.patch(s.norm_at, &9i32.to_le_bytes()).err("count"),
        "9 records do not fit",
    );
}

#[test]
fn bad_tensor_entries_are_refused() {
    let s0 = synth();
    let e = |name: &str| s0.entry[name];
    let mut s = synth();
    assert_contains(
        &s.patch(e("emb.pos"), &[1]).err("dtype"),
        "tensor emb.pos: dtype 1 (Q4_0), expected 0 (f32)",
    );
    let mut s = synth();
    assert_contains(
        &s.patch(e("l3.fi.w") + 1, &1000u32.to_le_bytes())
            .err("elems"),
        "tensor l3.fi.w: 1000 elements, expected 589824 [1536, 384]",
    );
    let mut s = synth();
    assert_contains(
        &s.patch(e("l3.fi.w") + 13, &7u64.to_le_bytes())
            .err("nbytes"),
        "tensor l3.fi.w: 7 bytes, expected 331776",
    );
    let mut s = synth();
    assert_contains(
        &s.patch(e("l3.fi.w") + 5, &(u64::MAX - 3).to_le_bytes())
            .err("offset"),
        "truncated: tensor l3.fi.w ends at byte 18446744073709551615 past the file's end",
    );
    let mut s = synth();
    assert_contains(
        &s.patch(e("l3.fi.w") + 5, &100u64.to_le_bytes())
            .err("inside"),
        "tensor l3.fi.w: starts at byte 100, inside the header and directory",
    );
    // rename l7.fo.b to l7.fo.c: missing
    let mut s = synth();
    assert_contains(
        &s.patch(e("l7.fo.b") - 1, b"c").err("missing"),
        "tensor l7.fo.b: missing from the tensor directory",
    );
    // rename l7.fo.b to l7.fo.w: listed twice
    let mut s = synth();
    assert_contains(
        &s.patch(e("l7.fo.b") - 1, b"w").err("twice"),
        "tensor l7.fo.w listed twice",
    );
}

#[test]
fn missing_file_is_an_io_error() {
    let path = temp_path("absent");
    let e = Model::open(&path).err().unwrap();
    assert!(matches!(e, ModelError::Io { .. }));
    assert_contains(&e.to_string(), "cannot read model file");
}
