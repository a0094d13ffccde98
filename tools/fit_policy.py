#!/usr/bin/env python3
"""Fits the answer policy (src/search/weights.rs) on the development sets.

    tools/fit_policy.py [--write] FEATURES.jsonl ...

Each FEATURES file is what `forumbot eval --features OUT SET.jsonl` wrote:
one line per candidate of every question, with its evidence (`features`),
whether it is a right answer (`right`), and the question's `split` (0 or 1,
a hash of the question, fixed). The model is fitted on split 0 of every set
together (one policy, no per-set switch) and reported on both splits, so
the held-out half (split 1) shows what the fit does on questions it never
saw.

The model: logistic regression over the standardised features, each set
weighed equally (the archive sets have many more questions than the forum
sets), L2-regularised, fitted by Newton's method (plain Python: no numpy
on a fresh machine). The threshold for a confident answer maximises, on
split 0, right first answers minus WRONG_COST times wrong ones (a wrong
quote is worse than none); CLOSEST is the probability from which a passage
is shown as one of the closest (not an answer).

With --write, src/search/weights.rs is rewritten.
"""
import json, math, os, sys
from collections import defaultdict

NAMES = ["coverage", "holds", "overlap", "capped", "bm25", "lex_rank", "cosine", "cos_gap",
         "cos_z", "cos_lead", "agree", "sem_rank", "prompt", "position", "latin", "latin_cosine", "speaker"]
WRONG_COST = 2.0
L2 = 1.0
CLOSEST = 0.02
MIN_PAIR_OVERLAP = 0.35


def inputs(f):
    capped = 1.0 if f["overlap"] < MIN_PAIR_OVERLAP else 0.0
    return [f["coverage"], f["holds"], f["overlap"], capped, f["bm25"], f["lex_rank"], f["cosine"],
            f["cos_gap"], f["cos_z"], f["cos_lead"], f["agree"], f["sem_rank"], f["prompt"], f["position"], f["latin"],
            f["latin"] * f["cosine"], f["speaker"]]


def load(paths):
    questions = []  # (set, id, split, answerable, [(x, right)])
    for path in paths:
        name = os.path.basename(path).split(".")[0]
        by_q = {}
        order = []
        for line in open(path, encoding="utf-8"):
            r = json.loads(line)
            key = r["id"]
            if key not in by_q:
                by_q[key] = (name, key, r["split"], r["answerable"], [])
                order.append(key)
            by_q[key][4].append((inputs(r["features"]), bool(r["right"])))
        questions += [by_q[k] for k in order]
    return questions


def solve(a, b):
    """Gaussian elimination with partial pivoting."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        if abs(m[c][c]) < 1e-12:
            continue
        for r in range(n):
            if r != c:
                f = m[r][c] / m[c][c]
                for k in range(c, n + 1):
                    m[r][k] -= f * m[c][k]
    return [m[i][n] / m[i][i] if abs(m[i][i]) > 1e-12 else 0.0 for i in range(n)]


def fit(rows, weights):
    n = len(rows[0][0])
    mean = [sum(w * x[i] for (x, _), w in zip(rows, weights)) / sum(weights) for i in range(n)]
    var = [sum(w * (x[i] - mean[i]) ** 2 for (x, _), w in zip(rows, weights)) / sum(weights)
           for i in range(n)]
    scale = [math.sqrt(v) if v > 1e-9 else 1.0 for v in var]
    z = [([1.0] + [(x[i] - mean[i]) / scale[i] for i in range(n)], y) for x, y in rows]
    beta = [0.0] * (n + 1)
    for _ in range(30):
        grad = [0.0] * (n + 1)
        hess = [[0.0] * (n + 1) for _ in range(n + 1)]
        for (x, y), w in zip(z, weights):
            t = sum(b * v for b, v in zip(beta, x))
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, t))))
            g = w * (p - (1.0 if y else 0.0))
            h = w * p * (1 - p)
            for i in range(n + 1):
                grad[i] += g * x[i]
                xi = h * x[i]
                row = hess[i]
                for j in range(i, n + 1):
                    row[j] += xi * x[j]
        for i in range(n + 1):
            for j in range(i):
                hess[i][j] = hess[j][i]
            if i > 0:
                grad[i] += L2 * beta[i]
                hess[i][i] += L2
        step = solve(hess, grad)
        beta = [b - s for b, s in zip(beta, step)]
        if max(abs(s) for s in step) < 1e-6:
            break
    return mean, scale, beta[0], beta[1:]


def prob(model, x):
    mean, scale, bias, w = model
    t = bias + sum(wi * (xi - m) / s for wi, xi, m, s in zip(w, x, mean, scale))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, t))))


def figures(questions, model, answer):
    out = defaultdict(lambda: defaultdict(float))
    for name, _, split, answerable, cands in questions:
        ranked = sorted(((prob(model, x), y) for x, y in cands), key=lambda t: -t[0])
        hits = [y for p, y in ranked if p >= answer]
        shown = hits if hits else [y for p, y in ranked if p >= CLOSEST][:3]
        f = out[(name, split)]
        if answerable:
            f["answerable"] += 1
            f["confident"] += bool(hits)
            f["conf1"] += bool(hits) and hits[0]
            f["hit5"] += any(hits[:5])
            f["shown1"] += bool(shown) and shown[0]
            f["shown3"] += any(shown[:3])
        else:
            f["unanswerable"] += 1
            f["silent"] += not hits
    return out


def utility(questions, model, answer, split):
    """Right confident first answers minus WRONG_COST per wrong one, each
    set weighed by its number of questions."""
    per_set = defaultdict(lambda: [0.0, 0])
    for name, _, s, answerable, cands in questions:
        if s != split:
            continue
        top = max(((prob(model, x), y) for x, y in cands), default=(0.0, False))
        u = 0.0
        if top[0] >= answer:
            u = 1.0 if (answerable and top[1]) else -WRONG_COST
        per_set[name][0] += u
        per_set[name][1] += 1
    return sum(u / n for u, n in per_set.values())


def main():
    args = sys.argv[1:]
    write = "--write" in args
    paths = [a for a in args if a != "--write"]
    questions = load(paths)
    sets = sorted({q[0] for q in questions})
    per_set = defaultdict(int)
    for q in questions:
        if q[2] == 0:
            per_set[q[0]] += len(q[4])
    rows, weights = [], []
    for name, _, split, _, cands in questions:
        if split != 0:
            continue
        for x, y in cands:
            rows.append((x, y))
            weights.append(1000.0 / per_set[name])
    model = fit(rows, weights)
    grid = [i / 100 for i in range(5, 96)]
    answer = max(grid, key=lambda t: (utility(questions, model, t, 0), -t))
    mean, scale, bias, w = model
    print("weights:", ", ".join(f"{n} {x:+.2f}" for n, x in zip(NAMES, w)), f"bias {bias:+.2f}")
    print(f"answer from p >= {answer:.2f}; closest from p >= {CLOSEST:.2f}")
    figs = figures(questions, model, answer)
    print(f"{'set':10} {'split':9} {'conf@1':>7} {'prec@1':>7} {'hit@5':>6} {'shown@1':>8} {'shown@3':>8} {'silent':>8}")
    for name in sets:
        for split in (0, 1):
            f = figs[(name, split)]
            a = max(f["answerable"], 1)
            prec = f["conf1"] / f["confident"] if f["confident"] else 0.0
            label = "fit" if split == 0 else "held-out"
            print(f"{name:10} {label:9} {f['conf1']/a:7.3f} {prec:7.3f} {f['hit5']/a:6.3f} "
                  f"{f['shown1']/a:8.3f} {f['shown3']/a:8.3f} {int(f['silent']):4}/{int(f['unanswerable'])}")
    if write:
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "..", "src", "search", "weights.rs")
        fmt = lambda xs: ", ".join(f"{x:.6}" for x in xs)
        src = f'''//! The learned answer policy's weights. Written by `tools/fit_policy.py`
//! (do not edit by hand): standardised inputs (`MEAN`, `SCALE`), a logistic
//! model (`WEIGHTS`, `BIAS`), and the two thresholds on its probability.
//! Fitted on split 0 of: {", ".join(sets)}.

pub const N: usize = {len(NAMES)};
/// The inputs' names, in order (a test holds them to `Features`).
#[cfg_attr(not(test), allow(dead_code))]
pub const NAMES: [&str; N] = [{", ".join(f'"{n}"' for n in NAMES)}];
pub const MEAN: [f32; N] = [{fmt(mean)}];
pub const SCALE: [f32; N] = [{fmt(scale)}];
pub const WEIGHTS: [f32; N] = [{fmt(w)}];
pub const BIAS: f32 = {bias:.6};
/// An answer is quoted with confidence from this probability on.
pub const ANSWER: f32 = {answer:.2};
/// A passage is among the closest shown from this probability on.
pub const CLOSEST: f32 = {CLOSEST:.2};
'''
        open(path, "w", encoding="utf-8").write(src)
        print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
