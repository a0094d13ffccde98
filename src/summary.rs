//! Extractive speaker summaries: who a speaker is, how much they said, the
//! words that set them apart, and a few of their own sentences. Nothing here
//! writes text: keywords and quotes are taken verbatim from the transcripts.
//!
//! - **Keywords**: TF-IDF of the speaker's words against the whole corpus
//!   (document frequency over passages, from the index), without question
//!   and function words, names, aliases and numbers.
//! - **Quotes**: TextRank over the speaker's sentences (sentences that share
//!   words with many others are central), the best 3–5, in transcript order.

use crate::search::{link, EngineOptions, Loaded};
use crate::text::{fold_str, is_stop_word, is_wordlike};
use crate::transcript::sentence_ends;
use jieba_rs::{KeywordExtract, KeywordExtractConfig, TfIdf};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use tantivy::collector::DocSetCollector;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{TantivyDocument, Term};

/// A verbatim sentence of the speaker and where it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quote {
    pub transcript: String,
    pub turn: u64,
    pub text: String,
    pub link: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpeakerSummary {
    pub speaker: String,
    pub role: Option<String>,
    pub aliases: Vec<String>,
    pub turns: usize,
    /// Share of everything the speakers said (characters of letters and digits).
    pub share: f32,
    pub keywords: Vec<String>,
    pub quotes: Vec<Quote>,
}

#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    #[error("unknown speaker {name:?}; known speakers: {}", .known.join(", "))]
    UnknownSpeaker { name: String, known: Vec<String> },
    #[error("summary failed: {0}")]
    Index(#[from] tantivy::TantivyError),
}

const KEYWORDS: usize = 8;

/// Words of everyday speech that are frequent in any talk and name no topic:
/// never keywords (question words are already out via `is_stop_word`).
const GENERIC_WORDS: &[&str] = &[
    "可能",
    "事情",
    "东西",
    "肯定",
    "问题",
    "方式",
    "时候",
    "方面",
    "情况",
    "一些",
    "这样",
    "那样",
    "非常",
    "特别",
    "其实",
    "现在",
    "当中",
    "最后",
    "比如",
    "就是",
    "还是",
    "已经",
    "一定",
    "需要",
    "进行",
    "通过",
    "今天",
    "这种",
    "那种",
    "所以",
    "因为",
    "如果",
    "然后",
    "包括",
    "不同",
    "相关",
    "一样",
    "地方",
    "部分",
    "过程",
    "作为",
    "希望",
    "知道",
    "时代",
    "刚才",
    "刚刚",
    "第一",
    "第二",
    "第三",
    "首先",
    "其次",
    "同时",
    "目前",
    "实际上",
    "来说",
    "来讲",
    "方法",
    "做法",
    "一种",
    "很多",
    "更多",
    "不会",
    "不能",
    "能够",
    "出来",
    "起来",
    "看到",
    "提到",
    "说到",
    "讲到",
    "关注",
    "变化",
];
const MAX_QUOTES: usize = 5;
const MIN_QUOTES: usize = 3;
/// Sentences shorter than this say too little to quote; longer ones are
/// paragraphs, not quotes.
const QUOTE_CHARS: std::ops::RangeInclusive<usize> = 12..=160;
/// TextRank is quadratic in sentences: beyond this, an even sample is ranked.
const MAX_RANKED_SENTENCES: usize = 600;

/// Summarises the speaker `name` (any name, alias or pinyin).
pub fn speaker(
    loaded: &Loaded,
    opts: &EngineOptions,
    name: &str,
) -> Result<SpeakerSummary, SummaryError> {
    let ids = loaded.speakers.resolve(name);
    let Some(entry) = ids
        .iter()
        .map(|&i| &loaded.speakers.entries[i])
        .max_by_key(|e| e.turns)
    else {
        return Err(SummaryError::UnknownSpeaker {
            name: name.trim().to_owned(),
            known: loaded.speakers.names(),
        });
    };
    let g = &loaded.generation;
    let searcher = g.reader.searcher();
    let q = TermQuery::new(
        Term::from_field_text(g.fields.speaker, &entry.name),
        IndexRecordOption::Basic,
    );
    let mut passages: Vec<_> = searcher
        .search(&q, &DocSetCollector)?
        .into_iter()
        .map(|a| searcher.doc::<TantivyDocument>(a).map(|d| g.stored(&d)))
        .collect::<Result<_, _>>()?;
    passages.sort_by(|a, b| a.transcript.cmp(&b.transcript).then(a.seq.cmp(&b.seq)));

    let (mine, all) = g
        .catalog
        .transcripts
        .iter()
        .flat_map(|t| t.chars_per_speaker.iter())
        .fold((0usize, 0usize), |(m, a), (n, c)| {
            (m + if *n == entry.name { *c } else { 0 }, a + c)
        });
    let share = if all == 0 {
        0.0
    } else {
        mine as f32 / all as f32
    };

    // Words of the speaker, in original script, with their folded form.
    let is_keyword = |folded: &str| {
        is_wordlike(folded)
            && folded.chars().count() >= 2
            && !is_stop_word(folded)
            && !loaded.speakers.is_name(folded)
            && !GENERIC_WORDS.contains(&folded)
            && !folded.chars().all(|c| c.is_ascii_digit())
    };
    // jieba-rs's TF-IDF, with an IDF dictionary of this corpus (document
    // frequency over passages, from the index) instead of jieba's general one,
    // so the words that set the speaker apart in these forums come first.
    // jieba's part-of-speech tags keep content words: locatives and adverbs
    // (当中, 最后) are common in speech and say nothing about a topic.
    let mut originals: HashMap<String, String> = HashMap::new();
    let mut names: HashSet<String> = HashSet::new();
    let mut folded_text = String::new();
    for p in &passages {
        for w in g.analyzer.cut_words(&p.text) {
            if is_keyword(&w.text) {
                originals
                    .entry(w.text)
                    .or_insert_with(|| p.text[w.original].to_owned());
            } else if loaded.speakers.is_name(&w.text) {
                // Only names this speaker says need to be stop words: not
                // every name of the archive, folded on every call.
                names.insert(w.text);
            }
        }
        folded_text.push_str(&fold_str(&p.text));
        folded_text.push('\n');
    }
    let n = searcher.num_docs().max(1) as f64;
    let mut idf_dict = String::new();
    for folded in originals.keys() {
        let df = searcher.doc_freq(&Term::from_field_text(g.fields.text, folded))? as f64;
        idf_dict.push_str(&format!(
            "{folded} {}\n",
            ((n + 1.0) / (df + 1.0)).ln() + 1.0
        ));
    }
    let mut config = KeywordExtractConfig::builder()
        .min_keyword_length(2)
        .use_hmm(true);
    for stop in names.iter() {
        config = config.add_stop_word(stop.clone());
    }
    let tfidf = TfIdf::new(Some(&mut idf_dict.as_bytes()), config.build());
    let content_tags = [
        "n", "nz", "ns", "nt", "vn", "v", "eng", "l", "i", "j", "an", "nw",
    ];
    let keywords = tfidf
        .extract_keywords(
            g.analyzer.jieba(),
            &folded_text,
            KEYWORDS * 3,
            content_tags.iter().map(|t| t.to_string()).collect(),
        )
        .into_iter()
        .filter(|k| is_keyword(&k.keyword))
        .filter_map(|k| originals.get(&k.keyword).cloned())
        .take(KEYWORDS)
        .collect();

    // Sentences, then TextRank.
    let mut sentences: Vec<(usize, &str)> = Vec::new();
    for (i, p) in passages.iter().enumerate() {
        let mut start = 0;
        for end in sentence_ends(&p.text) {
            let s = p.text[start..end].trim();
            start = end;
            if QUOTE_CHARS.contains(&s.chars().count()) {
                sentences.push((i, s));
            }
        }
    }
    if sentences.len() > MAX_RANKED_SENTENCES {
        let step = sentences.len() as f32 / MAX_RANKED_SENTENCES as f32;
        sentences = (0..MAX_RANKED_SENTENCES)
            .map(|k| sentences[(k as f32 * step) as usize])
            .collect();
    }
    let bags: Vec<HashSet<String>> = sentences
        .iter()
        .map(|(_, s)| {
            g.analyzer
                .cut_words(s)
                .into_iter()
                .map(|w| w.text)
                .filter(|w| is_keyword(w))
                .collect()
        })
        .collect();
    let ranks = textrank(&bags);
    let mut order: Vec<usize> = (0..sentences.len()).collect();
    order.sort_by(|&a, &b| ranks[b].total_cmp(&ranks[a]).then(a.cmp(&b)));
    let want = MAX_QUOTES
        .min(sentences.len())
        .max(MIN_QUOTES.min(sentences.len()));
    let mut chosen: Vec<usize> = Vec::new();
    for i in order {
        if chosen.len() == want {
            break;
        }
        // Skip a sentence that mostly repeats one already chosen.
        let near_duplicate = chosen.iter().any(|&j| similarity(&bags[i], &bags[j]) > 0.6);
        if !near_duplicate {
            chosen.push(i);
        }
    }
    chosen.sort();
    let quotes = chosen
        .into_iter()
        .map(|i| {
            let (pi, text) = sentences[i];
            let p = &passages[pi];
            Quote {
                transcript: p.transcript.clone(),
                turn: p.turn,
                text: text.to_owned(),
                link: link(&opts.public_url, &p.transcript, p.turn, p.paragraph, text),
            }
        })
        .collect();

    Ok(SpeakerSummary {
        speaker: entry.name.clone(),
        role: entry.role().map(str::to_owned),
        aliases: entry.aliases.clone(),
        turns: entry.turns,
        share,
        keywords,
        quotes,
    })
}

/// Word overlap normalised by length (TextRank's sentence similarity).
fn similarity(a: &HashSet<String>, b: &HashSet<String>) -> f32 {
    if a.len() < 2 || b.len() < 2 {
        return 0.0;
    }
    let common = a.intersection(b).count() as f32;
    common / ((a.len() as f32).ln() + (b.len() as f32).ln())
}

/// PageRank over the sentence similarity graph.
fn textrank(bags: &[HashSet<String>]) -> Vec<f32> {
    let n = bags.len();
    if n == 0 {
        return Vec::new();
    }
    let mut w = vec![vec![0f32; n]; n];
    for i in 0..n {
        for j in i + 1..n {
            let s = similarity(&bags[i], &bags[j]);
            w[i][j] = s;
            w[j][i] = s;
        }
    }
    let out_sum: Vec<f32> = w.iter().map(|row| row.iter().sum()).collect();
    let mut rank = vec![1.0f32; n];
    for _ in 0..30 {
        let next: Vec<f32> = (0..n)
            .map(|i| {
                let inflow: f32 = (0..n)
                    .filter(|&j| out_sum[j] > 0.0 && w[j][i] > 0.0)
                    .map(|j| w[j][i] / out_sum[j] * rank[j])
                    .sum();
                0.15 + 0.85 * inflow
            })
            .collect();
        rank = next;
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bag(words: &[&str]) -> HashSet<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn textrank_prefers_the_sentence_that_shares_most() {
        let bags = vec![
            bag(&["人才", "银行", "创新"]),
            bag(&["人才", "创新", "资源"]),
            bag(&["人才", "银行", "资源", "创新"]),
            bag(&["天气", "晴朗", "周末"]),
        ];
        let r = textrank(&bags);
        let best = (0..4).max_by(|&a, &b| r[a].total_cmp(&r[b])).unwrap();
        assert_eq!(best, 2);
        assert!(r[3] < r[0]);
    }
}
