//! XLM-R unigram tokenizer over the file's pieces (FORMAT.md, steps 2–3):
//! per-codepoint normalisation, space collapsing, U+2581 word marks, and a
//! Viterbi search for the highest-scoring segmentation.

use std::ops::Range;

const EMPTY: u32 = u32::MAX;
const FNV0: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv(h: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(h, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Byte length of the UTF-8 character starting with `b`.
fn utf8_len(b: u8) -> usize {
    match b {
        0..=0x7f => 1,
        0x80..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

pub(crate) struct Tokenizer {
    /// Where the piece bytes lie in the file.
    pub blob: Range<usize>,
    offs: Vec<u32>,
    scores: Vec<f32>,
    pub bos: u32,
    pub eos: u32,
    pub unk: u32,
    unk_score: f32,
    /// Open-addressing hash table of piece ids (FNV-1a of the piece bytes).
    table: Vec<u32>,
    max_len: usize,
    /// Normalisation: sorted codepoints; record i maps to `out[at[i]..at[i+1]]`.
    norm_cps: Vec<u32>,
    norm_at: Vec<u32>,
    norm_out: Vec<char>,
}

impl Tokenizer {
    /// `specials` is `[bos, eos, unk]`; `norm` is `(codepoints, starts, replacements)`.
    pub fn new(
        blob: &[u8],
        blob_range: Range<usize>,
        offs: Vec<u32>,
        scores: Vec<f32>,
        specials: [u32; 3],
        norm: (Vec<u32>, Vec<u32>, Vec<char>),
    ) -> Tokenizer {
        let [bos, eos, unk] = specials;
        let n = scores.len();
        let cap = (2 * n).next_power_of_two().max(16);
        let mut table = vec![EMPTY; cap];
        let mut max_len = 0;
        let piece = |id: usize| &blob[offs[id] as usize..offs[id + 1] as usize];
        for id in 0..n {
            let p = piece(id);
            if id as u32 == unk || p.is_empty() {
                continue;
            }
            max_len = max_len.max(p.len());
            let mut slot = fnv(FNV0, p) as usize & (cap - 1);
            loop {
                match table[slot] {
                    EMPTY => {
                        table[slot] = id as u32;
                        break;
                    }
                    e if piece(e as usize) == p => break, // a duplicate: the first id stays
                    _ => slot = (slot + 1) & (cap - 1),
                }
            }
        }
        let min = scores.iter().copied().fold(f32::INFINITY, f32::min);
        let (norm_cps, norm_at, norm_out) = norm;
        Tokenizer {
            blob: blob_range,
            offs,
            scores,
            bos,
            eos,
            unk,
            unk_score: min - 10.0,
            table,
            max_len,
            norm_cps,
            norm_at,
            norm_out,
        }
    }

    pub fn n_pieces(&self) -> usize {
        self.scores.len()
    }

    fn lookup(&self, blob: &[u8], hash: u64, s: &[u8]) -> Option<u32> {
        let mask = self.table.len() - 1;
        let mut slot = hash as usize & mask;
        loop {
            let id = self.table[slot];
            if id == EMPTY {
                return None;
            }
            let (a, b) = (self.offs[id as usize], self.offs[id as usize + 1]);
            if blob.get(a as usize..b as usize) == Some(s) {
                return Some(id);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Steps 2 of FORMAT.md: each codepoint through the table, runs of
    /// U+0020 collapsed, U+2581 prepended unless the text starts with a
    /// space, spaces replaced by U+2581. Empty text stays empty.
    pub fn normalize(&self, text: &str) -> String {
        let mut mapped = String::with_capacity(text.len() + 4);
        let mut last_space = false;
        for c in text.chars() {
            let one = [c];
            let repl: &[char] = match self.norm_cps.binary_search(&u32::from(c)) {
                Ok(i) => &self.norm_out[self.norm_at[i] as usize..self.norm_at[i + 1] as usize],
                Err(_) => &one,
            };
            for &m in repl {
                if m == ' ' && last_space {
                    continue;
                }
                last_space = m == ' ';
                mapped.push(m);
            }
        }
        if mapped.is_empty() {
            return mapped;
        }
        let mut out = String::with_capacity(mapped.len() + 3);
        if !mapped.starts_with(' ') {
            out.push('\u{2581}');
        }
        out.extend(
            mapped
                .chars()
                .map(|c| if c == ' ' { '\u{2581}' } else { c }),
        );
        out
    }

    /// The content ids of `text`: normalisation, then the unigram Viterbi.
    /// Every piece but `<unk>` may match; a character no piece starts with
    /// alone becomes `<unk>` at min(score) − 10; ties keep the first path
    /// found (starts in order, shorter pieces first).
    pub fn encode(&self, blob: &[u8], text: &str) -> Vec<u32> {
        let norm = self.normalize(text);
        let s = norm.as_bytes();
        let n = s.len();
        let mut best = vec![f32::NEG_INFINITY; n + 1];
        let mut from = vec![(0usize, 0u32); n + 1];
        best[0] = 0.0;
        let mut i = 0;
        while i < n {
            let base = best[i];
            let first_end = i + utf8_len(s[i]);
            let mut has_single = false;
            let (mut h, mut j) = (FNV0, i);
            while j < n {
                let e = j + utf8_len(s[j]);
                if e - i > self.max_len || e > n {
                    break;
                }
                h = fnv(h, &s[j..e]);
                j = e;
                if let Some(id) = self.lookup(blob, h, &s[i..e]) {
                    has_single |= e == first_end;
                    let score = base + self.scores[id as usize];
                    if score > best[e] {
                        best[e] = score;
                        from[e] = (i, id);
                    }
                }
            }
            if !has_single {
                let score = base + self.unk_score;
                if score > best[first_end] {
                    best[first_end] = score;
                    from[first_end] = (i, self.unk);
                }
            }
            i = first_end;
        }
        let mut ids = Vec::new();
        let mut e = n;
        while e > 0 {
            let (start, id) = from[e];
            ids.push(id);
            e = start;
        }
        ids.reverse();
        ids
    }
}
