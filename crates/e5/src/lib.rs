//! multilingual-e5-small sentence embeddings from the 4-bit `E5S1` file
//! (`e5-small-q4.bin`, ggml Q4_0 weights), in plain Rust.
//!
//! # Why this route
//!
//! Two ways to run the model were measured on the bot's kind of machine
//! (2 shared cores, AVX2+FMA; `/work/shared/semantic/README.md`):
//!
//! | | plain Rust (this crate's route) | candle 0.11 + candle-transformers BERT |
//! |---|---|---|
//! | extra crates / clean build | 3 / 7 s | ~131 / ~8.6 min |
//! | resident memory | ≈65 MB (Q4_0 kept, file mapped) | 581 MB (weights dequantised to f32) |
//! | query, 15 tokens | 14 ms | 32 ms |
//! | cosine vs the reference vectors | ≥ 0.9999 | ≥ 0.9999 |
//!
//! Same accuracy for a tenth of the build and of the memory, at twice the
//! speed. So the file is memory-mapped and its Q4_0 matrices stay
//! quantised: each linear layer quantises its input activations to int8 (one
//! scale per block of 32, like the weights) and multiplies int8 × 4-bit
//! blocks with integer dot products. The kernel is chosen at run time: AVX2
//! (with FMA and F16C) when `is_x86_feature_detected!` finds it, otherwise a
//! portable fallback. Attention, LayerNorm and GELU (erf) run in f32.
//!
//! Measured with `examples/e5bench.rs` (on-CPU time of one thread, release,
//! AVX2): 11 ms per 15-token query, 98 ms per 128-token passage, 221 ms per
//! 256-token one; opening takes ~8 ms of CPU (~20 ms wall); the portable
//! kernel takes 53 ms per query. Peak RSS of the whole benchmark: 42 MB.
//!
//! The file layout and the computation are those of `FORMAT.md`
//! (`/work/shared/semantic/`): XLM-R unigram tokenizer (per-codepoint
//! normalisation table, Viterbi), post-LN BERT, mean pooling over all tokens,
//! L2 normalisation, and windows of 510 content tokens for longer texts.
//!
//! # Kernels
//!
//! [`Model::open`] picks the AVX2 kernel when the CPU has it, unless the
//! environment variable `FORUMBOT_E5_PORTABLE` is `1` when the model is
//! opened; [`Model::force_portable`] does the same for one model (tests and
//! benchmarks use it). [`Model::kernel`] tells which one runs.
//!
//! # Threads
//!
//! One text is embedded on the calling thread: on two cores that is the most
//! efficient. [`Model::embed_passages`] spreads several passages over
//! rayon's pool. [`Model`] is `Send + Sync`.

mod file;
mod forward;
mod kernels;
mod tokenizer;

use std::path::Path;

use rayon::prelude::*;

pub use file::ModelError;
use kernels::Kernel;

/// Length of the embedding vectors.
pub const DIM: usize = 384;
/// Size in bytes of the model file this crate reads (`e5-small-q4.bin`).
pub const FILE_SIZE: u64 = 71_622_400;
/// SHA-256 of the model file, lowercase hex.
pub const FILE_SHA256: &str = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f";
/// Content tokens per window (512 positions minus `<s>` and `</s>`).
pub const WINDOW: usize = 510;

/// The model: the mapped file, its tokenizer, and where each tensor is.
pub struct Model {
    map: memmap2::Mmap,
    tok: tokenizer::Tokenizer,
    weights: file::Weights,
    kernel: Kernel,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("file_len", &self.map.len())
            .field("pieces", &self.tok.n_pieces())
            .field("kernel", &self.kernel.name())
            .finish()
    }
}

impl Model {
    /// Maps the file and checks it: magic, version, dimensions, tokenizer
    /// section, normalisation table, and every tensor's name, dtype, size and
    /// extent. Nothing is dequantised; only the small f32 vectors (biases,
    /// LayerNorms, position table) and the tokenizer's tables are copied.
    pub fn open(path: &Path) -> Result<Model, ModelError> {
        let io = |source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        };
        let f = std::fs::File::open(path).map_err(io)?;
        let len = f.metadata().map_err(io)?.len();
        if len < file::HEADER_LEN as u64 {
            return Err(ModelError::Truncated {
                what: "header".into(),
                end: file::HEADER_LEN as u64,
                len,
            });
        }
        // SAFETY: the map is read-only, and the model file is a verified
        // artifact nothing rewrites while the bot runs (truncating or
        // rewriting a mapped file underneath is the one way this could
        // break, as with any memory-mapped file). Every read below is
        // bounds-checked against the map's length.
        let map = unsafe { memmap2::Mmap::map(&f) }.map_err(io)?;
        let (tok, weights) = file::parse(&map)?;
        Ok(Model {
            map,
            tok,
            weights,
            kernel: Kernel::detect(),
        })
    }

    /// Switches this model to the portable kernel (no SIMD intrinsics).
    pub fn force_portable(&mut self) {
        self.kernel = Kernel::Portable;
    }

    /// The kernel in use: `"avx2"` or `"portable"`.
    pub fn kernel(&self) -> &'static str {
        self.kernel.name()
    }

    /// The content token ids of `text` as given (no prefix, no `<s>`/`</s>`).
    pub fn tokenize(&self, text: &str) -> Vec<u32> {
        self.tok.encode(self.blob(), text)
    }

    /// The embedding of a query: `"query: " + text`, L2-normalised.
    pub fn embed_query(&self, text: &str) -> Vec<f32> {
        self.embed_ids(&self.tokenize(&format!("query: {text}")))
    }

    /// The embedding of a passage: `"passage: " + text`, L2-normalised.
    /// Past [`WINDOW`] content tokens the text is cut into windows whose
    /// mean-pooled outputs are averaged, weighted by their content lengths.
    pub fn embed_passage(&self, text: &str) -> Vec<f32> {
        self.embed_ids(&self.tokenize(&format!("passage: {text}")))
    }

    /// Like [`Model::embed_passage`], but keeps only the first `max_tokens`
    /// content tokens (those of `"passage: "` included), at most one
    /// window: it bounds the time one passage takes.
    pub fn embed_passage_truncated(&self, text: &str, max_tokens: usize) -> Vec<f32> {
        let mut ids = self.tokenize(&format!("passage: {text}"));
        ids.truncate(max_tokens.min(WINDOW));
        self.embed_ids(&ids)
    }

    /// [`Model::embed_passage_truncated`] for several passages, in parallel
    /// on rayon's pool (one passage per task; each stays single-threaded).
    pub fn embed_passages(&self, texts: &[&str], max_tokens: usize) -> Vec<Vec<f32>> {
        texts
            .par_iter()
            .map(|t| self.embed_passage_truncated(t, max_tokens))
            .collect()
    }

    /// The embedding of content ids (as [`Model::tokenize`] returns them):
    /// windows, `<s>`/`</s>`, pooling, L2 norm. Ids outside the vocabulary
    /// are read as `<unk>`. An output that cannot be normalised (zero or
    /// not finite; not with the real weights) comes back as zeros.
    pub fn embed_ids(&self, content: &[u32]) -> Vec<f32> {
        let (bos, eos, unk) = (self.tok.bos, self.tok.eos, self.tok.unk);
        let n_pieces = self.tok.n_pieces();
        let mut total = vec![0f64; DIM];
        let chunks: Vec<&[u32]> = if content.is_empty() {
            vec![&[]]
        } else {
            content.chunks(WINDOW).collect()
        };
        let mut ids = Vec::with_capacity(WINDOW + 2);
        for chunk in &chunks {
            ids.clear();
            ids.push(bos);
            ids.extend(
                chunk
                    .iter()
                    .map(|&i| if (i as usize) < n_pieces { i } else { unk }),
            );
            ids.push(eos);
            let pooled = forward::window(&self.weights, &self.map, self.kernel, &ids);
            // Windows weighted by content length; the weighted mean's
            // divisor cancels in the L2 norm.
            let w = chunk.len().max(1) as f64;
            for (t, p) in total.iter_mut().zip(&pooled) {
                *t += w * f64::from(*p);
            }
        }
        let norm = total.iter().map(|v| v * v).sum::<f64>().sqrt();
        let scale = if norm > 0.0 && norm.is_finite() {
            1.0 / norm
        } else {
            0.0
        };
        total.iter().map(|v| (v * scale) as f32).collect()
    }

    fn blob(&self) -> &[u8] {
        &self.map[self.tok.blob.clone()]
    }
}
