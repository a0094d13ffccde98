//! One window through the encoder (FORMAT.md steps 5–7, without the L2
//! norm): embeddings, 12 post-LN BERT layers, mean pooling.
//!
//! The f32 parts (attention, LayerNorm, GELU) are written as plain loops
//! with 8-lane accumulators; [`window`] compiles them twice, once inside an
//! `avx2,fma` function so they vectorise with FMA, once for any CPU.

use crate::file::{Lin, Norm, Weights, BLOCK_BYTES, FF, H, NH, QK};
use crate::kernels::{self, Kernel, QActs};

const HD: usize = H / NH;

/// Mean-pooled last hidden states of `ids` (`<s>` … `</s>`, at most 512).
pub(crate) fn window(w: &Weights, map: &[u8], kernel: Kernel, ids: &[u32]) -> Vec<f32> {
    #[cfg(target_arch = "x86_64")]
    if kernel == Kernel::Avx2 {
        // SAFETY: Kernel::Avx2 is only chosen after is_x86_feature_detected!
        // found AVX2, FMA and F16C (Kernel::best).
        return unsafe { window_avx2(w, map, ids) };
    }
    let _ = kernel;
    window_impl::<false>(w, map, ids)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
fn window_avx2(w: &Weights, map: &[u8], ids: &[u32]) -> Vec<f32> {
    window_impl::<true>(w, map, ids)
}

/// `a·b + c`, fused when compiled for FMA (`F`).
#[inline(always)]
fn fma<const F: bool>(a: f32, b: f32, c: f32) -> f32 {
    if F {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

#[inline(always)]
fn linear<const F: bool>(map: &[u8], lin: &Lin, x: &QActs, out: &mut [f32]) {
    let w = &map[lin.w.clone()];
    #[cfg(target_arch = "x86_64")]
    if F {
        // SAFETY: F is true only inside window_avx2, which runs only when
        // AVX2, FMA and F16C were detected.
        unsafe { kernels::matmul_avx2(w, lin.n, x, &lin.b, out) };
        return;
    }
    kernels::matmul_portable(w, lin.n, x, &lin.b, out);
}

#[inline(always)]
fn window_impl<const F: bool>(w: &Weights, map: &[u8], ids: &[u32]) -> Vec<f32> {
    let t = ids.len().min(crate::file::MAXP);
    let ids = &ids[..t];
    let row_bytes = H / QK * BLOCK_BYTES;
    let word = &map[w.word.clone()];
    let mut x = vec![0f32; t * H];
    for (i, (&id, row)) in ids.iter().zip(x.chunks_exact_mut(H)).enumerate() {
        let at = id as usize * row_bytes;
        kernels::dequant_row(&word[at..at + row_bytes], row);
        for (v, p) in row.iter_mut().zip(&w.pos[i * H..(i + 1) * H]) {
            *v += p;
        }
        layer_norm::<F>(row, &w.ln, w.eps);
    }
    let mut qa = QActs::default();
    let (mut q, mut k, mut v) = (vec![0f32; t * H], vec![0f32; t * H], vec![0f32; t * H]);
    let (mut ctx, mut tmp) = (vec![0f32; t * H], vec![0f32; t * H]);
    let mut hid = vec![0f32; t * FF];
    for l in &w.layers {
        qa.quantize(&x, H);
        linear::<F>(map, &l.q, &qa, &mut q);
        linear::<F>(map, &l.k, &qa, &mut k);
        linear::<F>(map, &l.v, &qa, &mut v);
        attention::<F>(&q, &k, &v, t, &mut ctx);
        qa.quantize(&ctx, H);
        linear::<F>(map, &l.ao, &qa, &mut tmp);
        add_norm::<F>(&mut x, &tmp, &l.aln, w.eps);
        qa.quantize(&x, H);
        linear::<F>(map, &l.fi, &qa, &mut hid);
        for h in hid.iter_mut() {
            *h = gelu::<F>(*h);
        }
        qa.quantize(&hid, FF);
        linear::<F>(map, &l.fo, &qa, &mut tmp);
        add_norm::<F>(&mut x, &tmp, &l.oln, w.eps);
    }
    let mut pooled = vec![0f32; H];
    for row in x.chunks_exact(H) {
        for (p, v) in pooled.iter_mut().zip(row) {
            *p += v;
        }
    }
    let inv = 1.0 / t.max(1) as f32;
    pooled.iter_mut().for_each(|p| *p *= inv);
    pooled
}

/// `x = LN(x + y)` row by row.
#[inline(always)]
fn add_norm<const F: bool>(x: &mut [f32], y: &[f32], n: &Norm, eps: f32) {
    for (xr, yr) in x.chunks_exact_mut(H).zip(y.chunks_exact(H)) {
        for (a, b) in xr.iter_mut().zip(yr) {
            *a += b;
        }
        layer_norm::<F>(xr, n, eps);
    }
}

/// Sum with eight independent lanes (so it vectorises).
#[inline(always)]
fn sum8(v: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0f32; 8];
    for c in v.chunks_exact(8) {
        for l in 0..8 {
            acc[l] += f(c[l]);
        }
    }
    acc.iter().sum::<f32>()
        + v.chunks_exact(8)
            .remainder()
            .iter()
            .map(|&a| f(a))
            .sum::<f32>()
}

#[inline(always)]
fn layer_norm<const F: bool>(x: &mut [f32], n: &Norm, eps: f32) {
    let inv_n = 1.0 / x.len() as f32;
    let mean = sum8(x, |a| a) * inv_n;
    let var = sum8(x, |a| (a - mean) * (a - mean)) * inv_n;
    let r = 1.0 / (var + eps).sqrt();
    for ((v, g), b) in x.iter_mut().zip(&n.w).zip(&n.b) {
        *v = fma::<F>((*v - mean) * r, *g, *b);
    }
}

/// Full multi-head self-attention: `ctx = softmax(q kᵀ / √32) v` per head.
/// Scores are computed 32 keys at a time from the head's transposed keys
/// (four independent 8-lane accumulators), p·v two keys at a time.
#[inline(always)]
fn attention<const F: bool>(q: &[f32], k: &[f32], v: &[f32], t: usize, ctx: &mut [f32]) {
    const KC: usize = 32; // keys per score step
    let nc = t.div_ceil(KC);
    let scale = 1.0 / (HD as f32).sqrt();
    let mut kt = vec![[0f32; KC]; HD * nc]; // one head's keys: [dim][key chunk][32]
    let mut s = vec![0f32; nc * KC];
    for h in 0..NH {
        for j in 0..t {
            for d in 0..HD {
                kt[d * nc + j / KC][j % KC] = k[j * H + h * HD + d];
            }
        }
        for i in 0..t {
            let mut qi = [0f32; HD];
            for (a, b) in qi.iter_mut().zip(&q[i * H + h * HD..]) {
                *a = b * scale;
            }
            for (c, sc) in s.chunks_exact_mut(KC).enumerate() {
                let mut acc = [0f32; KC];
                for (d, &qd) in qi.iter().enumerate() {
                    let kr = &kt[d * nc + c];
                    for l in 0..KC {
                        acc[l] = fma::<F>(qd, kr[l], acc[l]);
                    }
                }
                sc.copy_from_slice(&acc);
            }
            let s = &mut s[..t];
            let max = s.iter().fold(f32::NEG_INFINITY, |m, &a| m.max(a));
            for a in s.iter_mut() {
                *a = exp::<F>(*a - max);
            }
            let inv = 1.0 / sum8(s, |a| a);
            let mut o = [[0f32; HD]; 2];
            let head = |j: usize| &v[j * H + h * HD..j * H + h * HD + HD];
            for (jj, p) in s.chunks_exact(2).enumerate() {
                let (v0, v1) = (head(2 * jj), head(2 * jj + 1));
                for d in 0..HD {
                    o[0][d] = fma::<F>(p[0], v0[d], o[0][d]);
                    o[1][d] = fma::<F>(p[1], v1[d], o[1][d]);
                }
            }
            if t % 2 == 1 {
                let vl = head(t - 1);
                for d in 0..HD {
                    o[0][d] = fma::<F>(s[t - 1], vl[d], o[0][d]);
                }
            }
            for (d, c) in ctx[i * H + h * HD..i * H + h * HD + HD]
                .iter_mut()
                .enumerate()
            {
                *c = (o[0][d] + o[1][d]) * inv;
            }
        }
    }
}

/// e^x for x <= 0 (and moderately above), about 2 ulp: 2^n e^r with
/// |r| <= ln2/2 and a degree-6 polynomial. Branch-free so it vectorises.
#[inline(always)]
pub(crate) fn exp<const F: bool>(x: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = fma::<F>(n, -0.693_145_75, x);
    let r = fma::<F>(n, -1.428_606_8e-6, r);
    let mut p = 1.0 / 720.0;
    for c in [1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = fma::<F>(p, r, c);
    }
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// Taylor coefficients of erf in x² for |x| < 1: 2/√π (−1)ⁿ / (n! (2n+1)).
const ERF_TAYLOR: [f32; 11] = {
    let mut c = [0f32; 11];
    let mut fact = 1.0f64;
    let mut n = 0;
    while n < 11 {
        if n > 0 {
            fact *= n as f64;
        }
        let sign = if n % 2 == 0 { 1.0 } else { -1.0 };
        c[n] = (sign * std::f64::consts::FRAC_2_SQRT_PI / (fact * (2 * n + 1) as f64)) as f32;
        n += 1;
    }
    c
};

/// erf: its Taylor series below |x| = 1 (error < 2e-8 + rounding), above it
/// Abramowitz & Stegun 7.1.26 (error <= 1.5e-7), where 1 − p·t·e^(−x²) no
/// longer cancels. Both are computed and one selected, so it vectorises.
#[inline(always)]
pub(crate) fn erf<const F: bool>(x: f32) -> f32 {
    let a = x.abs();
    let x2 = x * x;
    let mut s = ERF_TAYLOR[10];
    for &c in ERF_TAYLOR[..10].iter().rev() {
        s = fma::<F>(s, x2, c);
    }
    let small = x * s;
    let t = 1.0 / fma::<F>(0.327_591_1, a, 1.0);
    let mut p = 1.061_405_4;
    for c in [-1.453_152_1, 1.421_413_7, -0.284_496_74, 0.254_829_6] {
        p = fma::<F>(p, t, c);
    }
    let big = (1.0 - p * t * exp::<F>(-x2)).copysign(x);
    if a < 1.0 {
        small
    } else {
        big
    }
}

/// GELU with the exact erf form: x/2 (1 + erf(x/√2)).
#[inline(always)]
fn gelu<const F: bool>(x: f32) -> f32 {
    0.5 * x * (1.0 + erf::<F>(x * std::f32::consts::FRAC_1_SQRT_2))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erf by its Taylor series in f64: good to ~1e-9 for |x| <= 4 (the
    /// terms reach e^(x²), and cancel).
    fn erf64(x: f64) -> f64 {
        let (mut term, mut sum) = (x, x);
        for n in 1..200 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    fn exp_ok<const F: bool>() {
        let mut x = -87.0f32;
        while x <= 10.0 {
            let (got, want) = (f64::from(exp::<F>(x)), f64::from(x).exp());
            assert!(
                (got - want).abs() <= 4e-7 * want,
                "exp({x}) = {got}, want {want}"
            );
            x += 0.0137;
        }
        assert_eq!(exp::<F>(-1000.0), exp::<F>(-87.0));
        assert!(exp::<F>(f32::NEG_INFINITY) < 1e-37);
    }

    fn erf_ok<const F: bool>() {
        let mut x = -4.0f32;
        while x <= 4.0 {
            let (got, want) = (f64::from(erf::<F>(x)), erf64(f64::from(x)));
            let tol = if x.abs() < 1.0 {
                1e-7 + 2e-7 * want.abs()
            } else {
                2e-7
            };
            assert!((got - want).abs() <= tol, "erf({x}) = {got}, want {want}");
            x += 0.001;
        }
        for x in [5.0f32, 9.0, 1e10, f32::INFINITY] {
            assert!((erf::<F>(x) - 1.0).abs() <= 2e-7 && (erf::<F>(-x) + 1.0).abs() <= 2e-7);
        }
        assert_eq!(erf::<F>(0.0), 0.0);
        assert_eq!(gelu::<F>(0.0), 0.0);
        assert!((gelu::<F>(1.0) - 0.841_344_7).abs() < 1e-6);
    }

    #[test]
    fn exp_is_accurate() {
        exp_ok::<false>();
        exp_ok::<true>();
    }

    #[test]
    fn erf_is_accurate() {
        erf_ok::<false>();
        erf_ok::<true>();
    }
}
