//! Stage 1: candidates. Passages that may answer come from three places:
//! a BM25 query of the question's words (lexical), the passages whose
//! vectors are nearest the question's (semantic), and, for a question that
//! names only a speaker, that speaker's passages (speaker, position).
//! Every candidate carries what its source knows of it (BM25 score, cosine,
//! rank in each list); the evidence stage judges them all alike.

use super::parse::{Parsed, Position, QueryTerm};
use super::present::Scored;
use super::{AskError, Ranked};
use crate::conversation::flags;
use crate::engine::Loaded;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};

/// Boost of the context field in the candidate query.
pub(super) const CONTEXT_BOOST: f32 = 0.4;

pub(super) fn candidate_query(
    loaded: &Loaded,
    terms: &[QueryTerm],
    filter: Option<Box<dyn Query>>,
    context_df_max: u64,
) -> Box<dyn Query> {
    let f = &loaded.generation.fields;
    let term_q = |field, s: &str, boost: f32| -> (Occur, Box<dyn Query>) {
        let q = TermQuery::new(
            Term::from_field_text(field, s),
            IndexRecordOption::WithFreqs,
        );
        (Occur::Should, Box::new(BoostQuery::new(Box::new(q), boost)))
    };
    let mut should = Vec::new();
    for t in terms {
        should.push(term_q(f.text, &t.text, 1.0));
        // Context brings in the paragraphs after a rare topic's mention
        // (劍橋分析, then three paragraphs about it). A word more passages
        // hold than are fetched gains nothing from it, and its long posting
        // list in the context field would cost more than the text's own.
        if t.df <= context_df_max {
            should.push(term_q(f.context, &t.text, CONTEXT_BOOST));
        }
        for p in &t.parts {
            should.push(term_q(f.text, p, 0.5));
        }
        if !t.known {
            for g in &t.grams {
                should.push(term_q(f.bigrams, g, 0.3));
            }
        }
    }
    let words: Box<dyn Query> = Box::new(BooleanQuery::new(should));
    match filter {
        None => words,
        Some(filter) => Box::new(BooleanQuery::new(vec![
            (Occur::Must, words),
            (Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0))),
        ])),
    }
}

/// Passages of any of the transcripts `ids`.
fn transcript_filter(loaded: &Loaded, ids: &[String]) -> BooleanQuery {
    let field = loaded.generation.fields.transcript;
    BooleanQuery::new(
        ids.iter()
            .map(|id| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_field_text(field, id),
                    IndexRecordOption::Basic,
                ));
                (Occur::Should, q)
            })
            .collect(),
    )
}

/// What a search is restricted to: the speakers' passages within the
/// transcripts; either list may be empty (no restriction by it).
pub(super) fn restriction(
    loaded: &Loaded,
    speakers: &[String],
    transcripts: &[String],
) -> Option<Box<dyn Query>> {
    let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if !speakers.is_empty() {
        must.push((Occur::Must, Box::new(speaker_filter(loaded, speakers))));
    }
    if !transcripts.is_empty() {
        must.push((
            Occur::Must,
            Box::new(transcript_filter(loaded, transcripts)),
        ));
    }
    match must.len() {
        0 => None,
        1 => must.pop().map(|(_, q)| q),
        _ => Some(Box::new(BooleanQuery::new(must))),
    }
}

/// Passages of any of `speakers`.
pub(super) fn speaker_filter(loaded: &Loaded, speakers: &[String]) -> BooleanQuery {
    let field = loaded.generation.fields.speaker;
    BooleanQuery::new(
        speakers
            .iter()
            .map(|s| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_field_text(field, s),
                    IndexRecordOption::Basic,
                ));
                (Occur::Should, q)
            })
            .collect(),
    )
}
/// Semantic candidates fetched besides the lexical ones. Measured on
/// natural.jsonl: the right passage is among the 12 nearest for 0.92 of
/// the answerable questions, among 24 for 0.96; more only cost time.
pub(super) const SEMANTIC_CANDIDATES: usize = 24;

/// A passage that may answer, with what its sources know of it.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub(super) addr: DocAddress,
    /// BM25 score, 0 when the lexical query did not fetch it.
    pub(super) bm25: f32,
    /// 0-based rank in the lexical list.
    pub(super) lex_rank: Option<usize>,
    /// Cosine of its vector with the question's (when both exist).
    pub(super) cosine: Option<f32>,
    /// 0-based rank among the semantic neighbours.
    pub(super) sem_rank: Option<usize>,
}

/// What the candidate stage found.
#[derive(Debug, Default)]
pub(super) struct Gathered {
    pub(super) candidates: Vec<Candidate>,
    /// Best BM25 score (0 when nothing was fetched lexically).
    pub(super) max_bm25: f32,
    /// Best cosine among the semantic neighbours.
    pub(super) max_cosine: Option<f32>,
    /// Mean and standard deviation of the cosines of every passage searched.
    pub(super) cosine_spread: (f32, f32),
    /// How far the nearest passage's cosine is ahead of the second's.
    pub(super) cosine_lead: f32,
}

/// Lexical candidates (when there are words) and semantic ones (when there
/// are vectors), merged; each one's cosine is known when vectors are.
pub(super) fn gather(
    loaded: &Loaded,
    searcher: &Searcher,
    terms: &[QueryTerm],
    speakers: &[String],
    transcripts: &[String],
    fetched: usize,
    qvec: Option<(&[f32], &crate::semantic::vectors::Vectors)>,
) -> Result<Gathered, AskError> {
    let mut out = Gathered::default();
    let mut index_of: std::collections::HashMap<DocAddress, usize> = Default::default();
    if !terms.is_empty() {
        let filter = restriction(loaded, speakers, transcripts);
        let query = candidate_query(loaded, terms, filter, fetched as u64);
        let top: Vec<(f32, DocAddress)> =
            searcher.search(&query, &TopDocs::with_limit(fetched).order_by_score())?;
        out.max_bm25 = top.first().map_or(0.0, |t| t.0.max(0.0));
        for (i, (bm25, addr)) in top.into_iter().enumerate() {
            index_of.insert(addr, out.candidates.len());
            out.candidates.push(Candidate {
                addr,
                bm25,
                lex_rank: Some(i),
                cosine: None,
                sem_rank: None,
            });
        }
    }
    let Some((q, vectors)) = qvec else {
        return Ok(out);
    };
    let ords = &loaded.generation.ords;
    // The rows a named speaker or transcript allows, through the `ord` of
    // each passage the restriction finds.
    let allowed: Option<std::collections::HashSet<usize>> =
        match restriction(loaded, speakers, transcripts) {
            None => None,
            Some(filter) => {
                let addrs = searcher.search(&filter, &tantivy::collector::DocSetCollector)?;
                Some(
                    ord_rows(searcher, addrs.into_iter())?
                        .into_values()
                        .collect(),
                )
            }
        };
    let keep = |i: usize| allowed.as_ref().is_none_or(|s| s.contains(&i));
    let (nearest, mean, sd) = vectors.nearest(q, SEMANTIC_CANDIDATES, keep);
    out.max_cosine = nearest.first().map(|n| n.1);
    out.cosine_spread = (mean, sd);
    if let [first, second, ..] = &nearest[..] {
        out.cosine_lead = first.1 - second.1;
    }
    for (rank, (ord, cosine)) in nearest.into_iter().enumerate() {
        let Some(&addr) = ords.get(ord) else { continue };
        match index_of.get(&addr) {
            Some(&i) => {
                out.candidates[i].sem_rank = Some(rank);
            }
            None => {
                index_of.insert(addr, out.candidates.len());
                out.candidates.push(Candidate {
                    addr,
                    bm25: 0.0,
                    lex_rank: None,
                    cosine: Some(cosine),
                    sem_rank: Some(rank),
                });
            }
        }
    }
    // Lexical candidates get their cosine too, from their row.
    let row_of = ord_rows(searcher, out.candidates.iter().map(|c| c.addr))?;
    for c in &mut out.candidates {
        if c.cosine.is_none() {
            if let Some(&ord) = row_of.get(&c.addr) {
                c.cosine = Some(vectors.cosine(ord, q));
            }
        }
    }
    Ok(out)
}

/// The vector row (`ord`) of each document, opening each segment's `ord`
/// column once.
fn ord_rows(
    searcher: &Searcher,
    addrs: impl Iterator<Item = DocAddress>,
) -> Result<std::collections::HashMap<DocAddress, usize>, AskError> {
    let mut columns = std::collections::HashMap::new();
    let mut out = std::collections::HashMap::new();
    for a in addrs {
        let column = match columns.entry(a.segment_ord) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(
                searcher
                    .segment_reader(a.segment_ord)
                    .fast_fields()
                    .u64("ord")?,
            ),
        };
        if let Some(ord) = column.first(a.doc_id) {
            out.insert(a, ord as usize);
        }
    }
    Ok(out)
}

/// A speaker's passages when the question names nobody's topic: the turn a
/// position points at, in the order it was said; the questions they asked,
/// in the order asked, when that is what is asked (唐文問了什麼?); else the
/// fullest passages first. The order comes from
/// [`crate::speaker_passages`] (worked out once per generation); only the
/// first `shown` are read. Returns them and how many there are in all.
pub(super) fn speaker_passages(
    loaded: &Loaded,
    searcher: &Searcher,
    speakers: &[String],
    parsed: &Parsed,
    shown: usize,
) -> Result<(Ranked, usize), AskError> {
    let wanted = crate::speaker_passages::Wanted {
        flag: parsed.position.map(|p| match p {
            Position::First => flags::FIRST_TURN,
            Position::Last => flags::LAST_TURN,
        }),
        questions: parsed.asks_for_question,
    };
    let filter = restriction(loaded, speakers, &parsed.transcripts)
        .unwrap_or_else(|| Box::new(speaker_filter(loaded, speakers)));
    let order = crate::speaker_passages::order(
        loaded,
        searcher,
        filter.as_ref(),
        speakers,
        &parsed.transcripts,
        wanted,
    )?;
    let mut out = Vec::with_capacity(shown.min(order.len()));
    for placed in order.iter().take(shown) {
        let doc: TantivyDocument = searcher.doc(placed.address)?;
        let p = loaded.generation.stored(&doc);
        out.push(Scored {
            score: placed.score,
            text: p.text.clone(),
            paragraph: p.paragraph,
            passage: p,
        });
    }
    Ok(((out, Vec::new()), order.len()))
}
