//! Q4_0 weights × int8 activations.
//!
//! A Q4_0 block is `f16 d; u8 qs[16]` holding 32 weights:
//! `w[j] = ((qs[j] & 15) - 8) d`, `w[j + 16] = ((qs[j] >> 4) - 8) d`.
//! Activations are quantised per block of 32 to `x = q dx` with `q` in
//! −127..=127, so one block's dot product is `d dx Σ (w4 − 8) q`, an
//! integer sum. The AVX2 kernel multiplies the unsigned nibbles `w4` by `q`
//! (`vpmaddubsw`) and subtracts `8 d dx Σq` afterwards.

use crate::file::{BLOCK_BYTES, QK};

/// Which matrix kernel runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kernel {
    Portable,
    /// AVX2 + FMA + F16C; only ever chosen after they were detected.
    Avx2,
}

impl Kernel {
    /// AVX2 when the CPU has AVX2, FMA and F16C, unless the environment
    /// variable `FORUMBOT_E5_PORTABLE` is `1`.
    pub fn detect() -> Kernel {
        if std::env::var_os("FORUMBOT_E5_PORTABLE").is_some_and(|v| v == "1") {
            return Kernel::Portable;
        }
        Kernel::best()
    }

    pub fn best() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
            && is_x86_feature_detected!("f16c")
        {
            return Kernel::Avx2;
        }
        Kernel::Portable
    }

    pub fn name(self) -> &'static str {
        match self {
            Kernel::Portable => "portable",
            Kernel::Avx2 => "avx2",
        }
    }
}

/// IEEE half to single precision.
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x3ff);
    let bits = match exp {
        0 => {
            // zero or subnormal: man × 2^-24
            let v = man as f32 * (1.0 / 16_777_216.0);
            return if sign != 0 { -v } else { v };
        }
        31 => sign | 0x7f80_0000 | (man << 13),
        _ => sign | ((exp + 112) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}

fn block_d(b: &[u8]) -> f32 {
    f16_to_f32(u16::from_le_bytes([b[0], b[1]]))
}

/// Dequantises one Q4_0 row (`out.len() / 32` blocks) into `out`.
pub(crate) fn dequant_row(row: &[u8], out: &mut [f32]) {
    for (b, o) in row.chunks_exact(BLOCK_BYTES).zip(out.chunks_exact_mut(QK)) {
        let d = block_d(b);
        for j in 0..16 {
            o[j] = (i32::from(b[2 + j] & 15) - 8) as f32 * d;
            o[j + 16] = (i32::from(b[2 + j] >> 4) - 8) as f32 * d;
        }
    }
}

/// Activations quantised to int8, one scale per block of 32.
#[derive(Default)]
pub(crate) struct QActs {
    pub rows: usize,
    /// Blocks per row.
    pub nb: usize,
    /// `[rows][nb]` blocks of 32 quants
    pub q: Vec<[i8; QK]>,
    /// `[rows][nb]` scales
    pub d: Vec<f32>,
    /// `[rows][nb]`: `8 dx Σq`, what the unsigned nibbles add too much
    pub corr: Vec<f32>,
}

impl QActs {
    /// Quantises `x` (`[rows][k]`, `k` a multiple of 32).
    #[inline(always)]
    pub fn quantize(&mut self, x: &[f32], k: usize) {
        const ROUND: f32 = 12_582_912.0; // 1.5 × 2^23: adding it rounds to nearest even
        let blocks = x.len() / QK;
        self.nb = k / QK;
        self.rows = x.len() / k;
        self.q.resize(blocks, [0; QK]);
        self.d.resize(blocks, 0.0);
        self.corr.resize(blocks, 0.0);
        for (((xb, qb), d), corr) in x
            .chunks_exact(QK)
            .zip(self.q.iter_mut())
            .zip(self.d.iter_mut())
            .zip(self.corr.iter_mut())
        {
            let amax = xb.iter().fold(0f32, |m, v| m.max(v.abs()));
            let inv = if amax > 0.0 { 127.0 / amax } else { 0.0 };
            let mut sum = 0i32;
            for (q, &v) in qb.iter_mut().zip(xb) {
                let r = ((v * inv + ROUND) - ROUND) as i32;
                *q = r as i8;
                sum += r;
            }
            *d = amax / 127.0;
            *corr = 8.0 * *d * sum as f32;
        }
    }
}

/// The Q4_0 matrix `[n][nb]` of 18-byte blocks.
pub(crate) fn blocks(w: &[u8]) -> &[[u8; BLOCK_BYTES]] {
    w.as_chunks::<BLOCK_BYTES>().0
}

/// `out[t][r] = bias[r] + Σ_k W[r][k] x[t][k]`, W Q4_0 `[n][k]`. Portable.
pub(crate) fn matmul_portable(w: &[u8], n: usize, x: &QActs, bias: &[f32], out: &mut [f32]) {
    let nb = x.nb;
    let w = blocks(w);
    let mut wi = vec![[0i8; QK]; nb];
    let mut dw = vec![0f32; nb];
    for r in 0..n {
        for ((blk, wb), d) in w[r * nb..(r + 1) * nb].iter().zip(&mut wi).zip(&mut dw) {
            *d = block_d(blk);
            for j in 0..16 {
                wb[j] = (blk[2 + j] & 15) as i8 - 8;
                wb[j + 16] = (blk[2 + j] >> 4) as i8 - 8;
            }
        }
        for t in 0..x.rows {
            let xq = &x.q[t * nb..(t + 1) * nb];
            let xd = &x.d[t * nb..(t + 1) * nb];
            let mut acc = 0f32;
            for b in 0..nb {
                let s: i32 = wi[b]
                    .iter()
                    .zip(&xq[b])
                    .map(|(&a, &c)| i32::from(a) * i32::from(c))
                    .sum();
                acc += dw[b] * xd[b] * s as f32;
            }
            out[t * n + r] = bias[r] + acc;
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use avx2::matmul_avx2;

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{blocks, QActs};
    use crate::file::{BLOCK_BYTES, QK};
    use std::arch::x86_64::*;

    /// Rows of W kept hot while the token chunks pass over them.
    const ROW_BLOCK: usize = 64;
    /// Tokens per tile.
    const TC: usize = 4;

    /// [`super::matmul_portable`] with AVX2: tiles of 2 weight rows × up to
    /// 4 tokens, each weight block unpacked once per tile. Callers must
    /// have checked that the CPU has AVX2, FMA and F16C.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(crate) fn matmul_avx2(w: &[u8], n: usize, x: &QActs, bias: &[f32], out: &mut [f32]) {
        let nb = x.nb;
        let w = blocks(w);
        let t = x.rows;
        // Per chunk of tokens: the scales and corrections laid out [block][token].
        let mut dt = vec![[0f32; TC]; nb];
        let mut ct = vec![[0f32; TC]; nb];
        for r0 in (0..n).step_by(ROW_BLOCK) {
            let r1 = (r0 + ROW_BLOCK).min(n);
            for t0 in (0..t).step_by(TC) {
                let c = (t - t0).min(TC);
                for b in 0..nb {
                    for cc in 0..TC {
                        let i = (t0 + cc) * nb + b;
                        dt[b][cc] = if cc < c { x.d[i] } else { 0.0 };
                        ct[b][cc] = if cc < c { x.corr[i] } else { 0.0 };
                    }
                }
                for r in (r0..r1).step_by(2) {
                    let a = Tile {
                        w: &w[r * nb..],
                        x: &x.q[t0 * nb..],
                        nb,
                        dt: &dt,
                        ct: &ct,
                        bias: &bias[r..],
                        n,
                    };
                    let out = &mut out[t0 * n + r..];
                    match (r1 - r, c) {
                        (1, 1) => tile::<1, 1>(a, out),
                        (1, 2) => tile::<1, 2>(a, out),
                        (1, 3) => tile::<1, 3>(a, out),
                        (1, _) => tile::<1, 4>(a, out),
                        (_, 1) => tile::<2, 1>(a, out),
                        (_, 2) => tile::<2, 2>(a, out),
                        (_, 3) => tile::<2, 3>(a, out),
                        _ => tile::<2, 4>(a, out),
                    }
                }
            }
        }
    }

    struct Tile<'a> {
        /// From the tile's first row, `[row][nb]`.
        w: &'a [[u8; BLOCK_BYTES]],
        /// From the tile's first token, `[token][nb]`.
        x: &'a [[i8; QK]],
        nb: usize,
        dt: &'a [[f32; TC]],
        ct: &'a [[f32; TC]],
        bias: &'a [f32],
        n: usize,
    }

    /// R weight rows × C tokens over all blocks; `out` starts at the tile's
    /// first (token, row) and has row stride `n`.
    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    fn tile<const R: usize, const C: usize>(a: Tile, out: &mut [f32]) {
        let mask = _mm256_set1_epi8(0x0f);
        let ones = _mm256_set1_epi16(1);
        let mut acc = [[_mm256_setzero_ps(); C]; R];
        let mut corr = [_mm_setzero_ps(); R];
        let nb = a.nb;
        // Slices of exactly nb blocks, so that indexing by b < nb needs no check.
        let w: [&[[u8; BLOCK_BYTES]]; R] = std::array::from_fn(|r| &a.w[r * nb..(r + 1) * nb]);
        let x: [&[[i8; QK]]; C] = std::array::from_fn(|c| &a.x[c * nb..(c + 1) * nb]);
        let (dt, ct) = (&a.dt[..nb], &a.ct[..nb]);
        for b in 0..nb {
            let mut wv = [_mm256_setzero_si256(); R];
            let mut dw = [_mm256_setzero_ps(); R];
            let ctv = load_f4(&ct[b]);
            for r in 0..R {
                let blk = &w[r][b];
                let h = u16::from_le_bytes([blk[0], blk[1]]);
                let d = _mm_cvtph_ps(_mm_cvtsi32_si128(i32::from(h)));
                dw[r] = _mm256_broadcastss_ps(d);
                corr[r] = _mm_fmadd_ps(_mm_broadcastss_ps(d), ctv, corr[r]);
                let qs = load_nibbles(blk);
                let both = _mm256_set_m128i(_mm_srli_epi16::<4>(qs), qs);
                wv[r] = _mm256_and_si256(both, mask);
            }
            for c in 0..C {
                let xv = load_i32x8(&x[c][b]);
                let dx = _mm256_set1_ps(dt[b][c]);
                for r in 0..R {
                    // unsigned nibbles × signed quants, pairs summed to i16,
                    // then to i32 (|sum| <= 15·127·32, no saturation)
                    let s16 = _mm256_maddubs_epi16(wv[r], xv);
                    let s32 = _mm256_cvtepi32_ps(_mm256_madd_epi16(s16, ones));
                    acc[r][c] = _mm256_fmadd_ps(s32, _mm256_mul_ps(dw[r], dx), acc[r][c]);
                }
            }
        }
        for r in 0..R {
            let mut cs = [0f32; 4];
            store_f4(&mut cs, corr[r]);
            for c in 0..C {
                out[c * a.n + r] = a.bias[r] + hsum(acc[r][c]) - cs[c];
            }
        }
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    fn load_nibbles(blk: &[u8; BLOCK_BYTES]) -> __m128i {
        // SAFETY: bytes 2..18 of the 18-byte block are 16 readable bytes;
        // loadu has no alignment requirement.
        unsafe { _mm_loadu_si128(blk.as_ptr().add(2).cast()) }
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    fn load_i32x8(q: &[i8; QK]) -> __m256i {
        // SAFETY: the array is 32 readable bytes; loadu is unaligned.
        unsafe { _mm256_loadu_si256(q.as_ptr().cast()) }
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    fn load_f4(v: &[f32; TC]) -> __m128 {
        // SAFETY: the array is 4 readable floats; loadu is unaligned.
        unsafe { _mm_loadu_ps(v.as_ptr()) }
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    fn store_f4(v: &mut [f32; 4], x: __m128) {
        // SAFETY: the array is 4 writable floats; storeu is unaligned.
        unsafe { _mm_storeu_ps(v.as_mut_ptr(), x) }
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    fn hsum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_movehdup_ps(s));
        _mm_cvtss_f32(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64*: reproducible test data without a dependency.
    pub(crate) struct Rng(pub u64);
    impl Rng {
        pub fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        /// Uniform in [-1, 1).
        pub fn f(&mut self) -> f32 {
            (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        }
    }

    /// A random Q4_0 matrix `[n][k]` with scales around 0.01–0.1.
    fn random_q4(rng: &mut Rng, n: usize, k: usize) -> Vec<u8> {
        let mut w = Vec::with_capacity(n * k / QK * BLOCK_BYTES);
        for _ in 0..n * k / QK {
            let d = 0x2000 + (rng.next() % 0x0c00) as u16; // ~0.008..0.1
            w.extend_from_slice(&d.to_le_bytes());
            w.extend((0..16).map(|_| rng.next() as u8));
        }
        w
    }

    fn random_acts(rng: &mut Rng, t: usize, k: usize) -> Vec<f32> {
        // Some rows spiky, some near zero, one all zero: every scale path.
        (0..t * k)
            .map(|i| match (i / k) % 4 {
                0 => rng.f() * 3.0,
                1 => rng.f() * 1e-3,
                2 if i % 7 == 0 => rng.f() * 40.0,
                2 => rng.f(),
                _ if t > 3 && i / k == t - 1 => 0.0,
                _ => rng.f() * 0.5,
            })
            .collect()
    }

    #[test]
    fn f16_known_values() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3800), 0.5);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x83ff), -(1023.0 * 2f32.powi(-24)));
        assert_eq!(f16_to_f32(0x8000).to_bits(), (-0.0f32).to_bits());
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn f16_matches_f16c_for_every_value() {
        use std::arch::x86_64::*;
        if !is_x86_feature_detected!("f16c") {
            eprintln!("skipped: no F16C on this CPU");
            return;
        }
        #[target_feature(enable = "f16c")]
        fn hw(h: u16) -> f32 {
            _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(i32::from(h))))
        }
        for h in 0..=u16::MAX {
            // SAFETY: F16C was detected above.
            let want = unsafe { hw(h) };
            let got = f16_to_f32(h);
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "{h:#x}"
            );
        }
    }

    #[test]
    fn q4_0_block_decodes() {
        let mut blk = vec![0x00, 0x38]; // d = 0.5
        blk.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
        blk.extend(blk.clone()); // two blocks, one row of 64
        let mut out = [0f32; 64];
        dequant_row(&blk, &mut out);
        for j in 0..16 {
            for b in 0..2 {
                assert_eq!(out[b * 32 + j], (j as f32 - 8.0) * 0.5);
                assert_eq!(out[b * 32 + j + 16], (7.0 - j as f32) * 0.5);
            }
        }
    }

    #[test]
    fn activations_quantise_within_half_a_step() {
        let mut rng = Rng(7);
        let x = random_acts(&mut rng, 8, 96);
        let mut qa = QActs::default();
        qa.quantize(&x, 96);
        assert_eq!((qa.rows, qa.nb, qa.q.len()), (8, 3, 24));
        for (i, xb) in x.chunks_exact(QK).enumerate() {
            let d = qa.d[i];
            let amax = xb.iter().fold(0f32, |m, v| m.max(v.abs()));
            assert!((d * 127.0 - amax).abs() <= amax * 1e-6);
            let sum: i32 = qa.q[i].iter().map(|&q| i32::from(q)).sum();
            assert!((qa.corr[i] - 8.0 * d * sum as f32).abs() <= 1e-5 * qa.corr[i].abs().max(1.0));
            for (v, &q) in xb.iter().zip(&qa.q[i]) {
                assert!(q > i8::MIN, "quants stay in -127..=127");
                assert!(
                    (v - f32::from(q) * d).abs() <= d * 0.5001 + 1e-12,
                    "{v} {q} {d}"
                );
            }
        }
    }

    /// f64 reference: dequantised weights × dequantised activations.
    fn reference(w: &[u8], n: usize, k: usize, qa: &QActs, bias: &[f32]) -> Vec<f64> {
        let mut wf = vec![0f32; n * k];
        for r in 0..n {
            let rb = k / QK * BLOCK_BYTES;
            dequant_row(&w[r * rb..(r + 1) * rb], &mut wf[r * k..(r + 1) * k]);
        }
        let mut out = vec![0f64; qa.rows * n];
        for t in 0..qa.rows {
            for r in 0..n {
                let mut s = f64::from(bias[r]);
                for i in 0..k {
                    let x = f64::from(qa.q[t * qa.nb + i / QK][i % QK])
                        * f64::from(qa.d[t * qa.nb + i / QK]);
                    s += f64::from(wf[r * k + i]) * x;
                }
                out[t * n + r] = s;
            }
        }
        out
    }

    fn check(got: &[f32], want: &[f64], what: &str) {
        let scale = want.iter().fold(0f64, |m, v| m.max(v.abs())).max(1e-3);
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (f64::from(*g) - w).abs() <= 2e-5 * scale,
                "{what}[{i}]: {g} vs {w}"
            );
        }
    }

    #[test]
    fn portable_matmul_matches_f64_reference() {
        let mut rng = Rng(42);
        for (n, k, t) in [(6, 64, 5), (5, 384, 1), (16, 1536, 3)] {
            let w = random_q4(&mut rng, n, k);
            let bias: Vec<f32> = (0..n).map(|_| rng.f()).collect();
            let mut qa = QActs::default();
            qa.quantize(&random_acts(&mut rng, t, k), k);
            let mut out = vec![0f32; t * n];
            matmul_portable(&w, n, &qa, &bias, &mut out);
            check(&out, &reference(&w, n, k, &qa, &bias), "portable");
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_matmul_matches_portable() {
        if Kernel::best() != Kernel::Avx2 {
            eprintln!("skipped: this CPU lacks AVX2/FMA/F16C");
            return;
        }
        let mut rng = Rng(1);
        // Odd row counts, every token remainder, row blocks past 64.
        for (n, k, t) in [
            (1, 32, 1),
            (7, 64, 9),
            (130, 96, 6),
            (384, 384, 17),
            (64, 1536, 4),
        ] {
            let w = random_q4(&mut rng, n, k);
            let bias: Vec<f32> = (0..n).map(|_| rng.f()).collect();
            let mut qa = QActs::default();
            qa.quantize(&random_acts(&mut rng, t, k), k);
            let (mut a, mut p) = (vec![0f32; t * n], vec![0f32; t * n]);
            // SAFETY: Kernel::best() just detected AVX2, FMA and F16C, the
            // features matmul_avx2 is compiled for.
            unsafe { matmul_avx2(&w, n, &qa, &bias, &mut a) };
            matmul_portable(&w, n, &qa, &bias, &mut p);
            let want = reference(&w, n, k, &qa, &bias);
            check(&p, &want, "portable");
            check(&a, &want, &format!("avx2 {n}x{k} t={t}"));
        }
    }
}
