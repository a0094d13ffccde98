//! A speaker's keywords: the words a reader would take as what that
//! speaker talked about. A pure function of what the speaker said, what
//! the other speakers of the same transcripts said, and the segmentation
//! the index uses; nothing in it is keyed to a particular transcript.
//!
//! - **Whole words and the terms they build.** Candidates are the words of
//!   the index's cut, and the compounds the speaker builds of them: two or
//!   three adjacent words with no mark between (客服|中心, 劍橋|分析,
//!   雲|計算, 磷酸|鐵鋰) that the speaker says more than once, or whose
//!   first part is a proper noun or a bound character (a single character
//!   glued to a word: 雲, 熱). A word counts only where it stands outside
//!   such a compound, so a piece the speaker never says alone (計算 of
//!   雲計算, 鐵鋰 of 磷酸鐵鋰) is no candidate at all.
//! - **Weighed** by how often the speaker says it (log), how much more than
//!   the others of the same transcripts (a smoothed log ratio, so words
//!   everybody uses drop out), how rare it is in Chinese at large (jieba's
//!   general IDF table: 發展, 信息, 才能 are everyday words, 普惠 and 劍橋
//!   are not), what it is (a compound or a named term, eng/nz/nt, over a
//!   plain noun; a verb, a place or a person's name under it), and how
//!   the speaker stressed it (in an enumeration, in quotation marks, in
//!   their closing statement).
//! - **Never** a thanks or sign-off (謝謝李總, 今天就到這裡): clauses of
//!   courtesy are left out before anything is counted; never a question
//!   or function word, a speaker's name, a number, or a word of everyday
//!   talk; never a piece of a keyword already chosen (客服 under 客服中心).

use crate::text::{fold, is_cjk, is_stop_char, is_stop_word, is_wordlike, Analyzer, Folded};
use std::collections::HashMap;

/// One passage: its text, the turn it is in, and whether it is in the
/// speaker's closing statement.
#[derive(Debug, Clone, Copy)]
pub struct Said<'a> {
    pub text: &'a str,
    /// Transcript and turn number.
    pub turn: (&'a str, u64),
    /// In the speaker's closing statement.
    pub closing: bool,
}

/// Words of everyday speech that are frequent in any talk and name no
/// topic (folded): never keywords. General Chinese, not any one forum's.
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
    "大家",
    "各位",
    "主持人",
    "嘉宾",
    "一点",
    "之后",
    "以后",
    "未来",
    "觉得",
    "认为",
    "工作",
    "比如说",
    "比方说",
    "例如",
    "也就是说",
    "换句话说",
    "总的来说",
    "一方面",
    "另一方面",
];

/// Words of thanks, greeting and leave-taking (folded). A short clause
/// holding one is courtesy, not content.
const COURTESY: &[&str] = &[
    "谢谢",
    "感谢",
    "多谢",
    "谢了",
    "再见",
    "拜拜",
    "欢迎",
    "你好",
    "您好",
    "大家好",
    "各位好",
    "到这里",
    "到此",
    "就这些",
    "就这样吧",
    "说这么多",
    "讲这么多",
    "辛苦了",
];

/// A clause this long (in characters) or shorter that holds a courtesy
/// word is a courtesy; a longer one says something besides.
const COURTESY_CLAUSE_CHARS: usize = 14;

/// Part-of-speech tags (jieba's) of words that can be keywords alone.
const CONTENT_TAGS: &[&str] = &[
    "n", "nz", "ns", "nt", "nw", "nr", "nrt", "nrfg", "vn", "v", "eng", "l", "i", "j", "an",
];

/// Whether a clause (a piece of text between marks) is only courtesy:
/// 謝謝李總, 今天就到這裡, 謝謝大家.
pub fn is_courtesy_clause(clause: &str) -> bool {
    let folded = crate::text::fold_str(clause);
    let letters = folded.chars().filter(|c| c.is_alphanumeric()).count();
    letters > 0 && letters <= COURTESY_CLAUSE_CHARS && COURTESY.iter().any(|w| folded.contains(w))
}

/// Byte ranges of the clauses of `text` (split at sentence ends, commas,
/// colons and enumeration marks), each with its closing marks.
fn clauses(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut after_mark = false;
    for (i, c) in text.char_indices() {
        let mark = crate::transcript::is_sentence_end(c)
            || matches!(
                c,
                ',' | '\u{ff0c}' | '、' | ';' | '\u{ff1b}' | ':' | '\u{ff1a}' | '\n'
            );
        if after_mark && !mark {
            out.push(start..i);
            start = i;
        }
        after_mark = mark;
    }
    if start < text.len() {
        out.push(start..text.len());
    }
    out
}

/// How many letters and digits `text` holds outside courtesy clauses and
/// questions: what it says of substance.
pub fn substance(text: &str) -> usize {
    crate::transcript::sentences(text)
        .filter(|s| !crate::transcript::is_question(s))
        .flat_map(|s| clauses(s).into_iter().map(move |r| &s[r]))
        .filter(|c| !is_courtesy_clause(c))
        .map(|c| c.chars().filter(|c| c.is_alphanumeric()).count())
        .sum()
}

/// A word of a passage: folded, tagged, where it is in the original.
#[derive(Debug, Clone)]
struct Token {
    word: String,
    tag: String,
    /// Byte range in the passage's original text.
    original: std::ops::Range<usize>,
    /// A mark (punctuation, space) or a courtesy clause lies before it.
    after_break: bool,
}

/// The tagged words of the passage's non-courtesy text (the index's cut).
fn tokens(analyzer: &Analyzer, text: &str, folded: &Folded) -> Vec<Token> {
    let courtesy: Vec<std::ops::Range<usize>> = clauses(text)
        .into_iter()
        .filter(|r| is_courtesy_clause(&text[r.clone()]))
        .collect();
    let mut out = Vec::new();
    let mut after_break = true;
    for t in analyzer.jieba().tag(&folded.text, true) {
        let Some(original) = folded.original_range(t.start, t.end) else {
            continue;
        };
        if !is_wordlike(t.word) || courtesy.iter().any(|c| c.contains(&original.start)) {
            after_break = true;
            continue;
        }
        out.push(Token {
            word: t.word.to_owned(),
            tag: t.tag.to_owned(),
            original,
            after_break,
        });
        after_break = false;
    }
    out
}

/// Whether a folded word may be (part of) a keyword at all.
pub fn candidate(word: &str, is_name: &dyn Fn(&str) -> bool) -> bool {
    let chars: Vec<char> = word.chars().collect();
    // A verb said twice over (談談, 談一談, 看一看) names nothing; nor
    // does a numeral with its measure (兩件事, 一輛車).
    let reduplicated = matches!(chars.as_slice(), [a, b] | [a, '一', b] if a == b);
    let counted = chars.len() >= 2
        && "一二三四五六七八九十两几".contains(chars[0])
        && NUMERAL_OR_MEASURE.contains(chars[1]);
    // A surname with a title (李總, 陳老師) addresses someone.
    let address = TITLES
        .iter()
        .any(|t| word.ends_with(t) && chars.len() == t.chars().count() + 1);
    !reduplicated
        && !counted
        && !address
        && is_wordlike(word)
        && !is_stop_word(word)
        && !is_name(word)
        && !GENERIC_WORDS.contains(&word)
        && !word.chars().all(|c| c.is_ascii_digit())
        && !COURTESY.iter().any(|w| word.contains(w))
}

/// A single Han character glued to a word and carrying sense of its own
/// (雲 of 雲計算, 熱 of 熱失控): a bound part of a compound. Not a
/// function character, not a surname (陳 of 陳教授).
fn is_bound_char(t: &Token) -> bool {
    let mut chars = t.word.chars();
    matches!((chars.next(), chars.next()), (Some(c), None)
        if is_cjk(c) && !is_stop_char(c) && !PARTICLES.contains(c))
        && matches!(t.tag.as_str(), "n" | "ng" | "nz" | "ns")
}

/// Particles the cut sometimes tags as nouns (承擔|著|國家).
const PARTICLES: &str = "着著过们么呢吧啊呀嘛哦";

/// Verb endings of direction or result (賣|出去, 聚合|起來): a verb so
/// ended is a clause, not part of a name.
const VERB_COMPLEMENTS: &[&str] = &[
    "出去", "出来", "起来", "下去", "下来", "进来", "进去", "过来", "过去", "回来", "回去", "上来",
    "上去",
];

/// General IDF from which a verb opening a compound is taken to name a
/// kind (虛擬 8.4) rather than to take an object (考慮 5.2, 交給 6.5).
const RARE_VERB_IDF: f64 = 8.0;

/// Characters that open a numeral or a measure (一個, 兩家, 輛車): such
/// a numeral word names nothing.
const NUMERAL_OR_MEASURE: &str =
    "一二三四五六七八九十两几百千万亿第多每各半个位辆家种次件条张本台只名批项场些";

/// Whether a word can stand in a compound at `position` (0 = first) of
/// `len`: a content word or a bound character; a verb at an end (雲|計算,
/// 虛擬|電廠); a distinguishing word (公有) or a name-like numeral (大五)
/// only first.
fn joinable(t: &Token, position: usize, len: usize, is_name: &dyn Fn(&str) -> bool) -> bool {
    if t.word.chars().count() == 1 {
        return is_bound_char(t);
    }
    if !candidate(&t.word, is_name) {
        return false;
    }
    let tag = t.tag.as_str();
    let first = position == 0;
    let last = position + 1 == len;
    tag.starts_with('n')
        || matches!(tag, "vn" | "eng" | "j")
        || (tag == "v" && (first || last))
        || (tag == "b" && first)
        || (tag == "m"
            && first
            && t.word.chars().all(is_cjk)
            && !t.word.starts_with(|c: char| NUMERAL_OR_MEASURE.contains(c)))
}

/// Whether a compound said once is still a term: it opens with a proper
/// noun, an abbreviation or a name-like numeral (劍橋|分析, 大五|人格), or
/// a bound character joins a noun (京東|雲, 智|客服). One that opens with
/// a verb must be said again (虛擬|電廠, not 從事|科技 said once).
fn is_named(w: &[Token]) -> bool {
    w[0].tag != "v"
        && (is_proper(&w[0])
            || (w.iter().any(is_bound_char) && w.last().is_some_and(|t| t.tag.starts_with('n'))))
}

/// A proper noun, an abbreviation, a Latin term or a name-like numeral.
fn is_proper(t: &Token) -> bool {
    t.word.chars().count() > 1 && matches!(t.tag.as_str(), "ns" | "nt" | "nz" | "j" | "eng" | "m")
}

/// A run of words the speaker says as one (a compound candidate).
#[derive(Debug, Default)]
struct Run {
    parts: Vec<String>,
    count: usize,
    /// Said once with a proper noun or bound character in it.
    named: bool,
    /// Not always followed by another content word.
    ends: bool,
}

#[derive(Debug, Default)]
struct Stat {
    count: f32,
    enumerated: bool,
    quoted: bool,
    closing: bool,
    original: String,
    tag: String,
    /// Made of several words of the cut.
    compound: bool,
    /// The words it is made of (one for a word).
    parts: Vec<String>,
    /// Summed over its places: the share of its sentence's words also
    /// said in other turns.
    topicality: f32,
}

/// Titles a person is addressed by after their surname (folded): 李總,
/// 陳老師 name a person in the room, not a topic.
const TITLES: &[&str] = &[
    "总",
    "老师",
    "教授",
    "博士",
    "先生",
    "女士",
    "经理",
    "主任",
    "院长",
    "行长",
    "董事长",
];

/// Words that say a list gives examples, not points (folded).
const EXAMPLES: &[&str] = &["比如", "例如", "譬如", "像是", "诸如", "包括", "等等"];

/// Whether `range` lies in a sentence that lists examples.
fn in_examples(text: &str, range: &std::ops::Range<usize>) -> bool {
    let mut start = 0;
    for end in crate::transcript::sentence_ends(text) {
        if end >= range.end {
            let folded = crate::text::fold_str(&text[start..end]);
            return EXAMPLES.iter().any(|w| folded.contains(w));
        }
        start = end;
    }
    false
}

/// Byte ranges of short quoted spans (“人性”, 「念力」) of a text.
fn quoted_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut open: Option<usize> = None;
    for (i, c) in text.char_indices() {
        match c {
            '“' | '「' | '『' | '"' if open.is_none() => open = Some(i + c.len_utf8()),
            '”' | '」' | '』' | '"' => {
                if let Some(s) = open.take() {
                    if text[s..i].chars().count() <= 12 {
                        out.push(s..i);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The least topicality of a word of the closing statement.
const CLOSING_TOPICALITY: f32 = 0.7;

/// Longest compound, in characters.
const COMPOUND_CHARS: std::ops::RangeInclusive<usize> = 3..=7;

/// The speaker's keywords (see the module docs), best first, at most `n`,
/// in the speaker's script. `is_name` tells the speakers' names and
/// aliases (folded), which are never keywords.
pub fn keywords<'a>(
    analyzer: &Analyzer,
    mine: &[Said<'a>],
    others: &[Said<'a>],
    is_name: &dyn Fn(&str) -> bool,
    n: usize,
) -> Vec<String> {
    let passages: Vec<(Said<'a>, Folded, Vec<Token>)> = mine
        .iter()
        .map(|s| {
            let folded = fold(s.text);
            let toks = tokens(analyzer, s.text, &folded);
            (*s, folded, toks)
        })
        .collect();

    // Compounds: runs of two or three joinable words with nothing between.
    let mut runs: HashMap<String, Run> = HashMap::new();
    for (_, _, toks) in &passages {
        for len in 2..=3 {
            for (i, w) in toks.windows(len).enumerate() {
                if w.iter().skip(1).any(|t| t.after_break)
                    || !w
                        .iter()
                        .enumerate()
                        .all(|(i, t)| joinable(t, i, len, is_name))
                    || w.iter().all(|t| t.word.chars().count() == 1)
                {
                    continue;
                }
                let joined: String = w.iter().map(|t| t.word.as_str()).collect();
                if !COMPOUND_CHARS.contains(&joined.chars().count()) {
                    continue;
                }
                // A bound character ends or opens a compound of a word
                // (雲計算, 京東雲), never sits between two; a verb only in
                // a compound of two (雲|計算, 電池|回收, 虛擬|電廠): with
                // more it is a clause (城市智駕|做成).
                if len == 3 && (is_bound_char(&w[1]) || w.iter().any(|t| t.tag == "v")) {
                    continue;
                }
                // A person doing something (特朗普|發現, 希拉里|競選) or a
                // verb with its direction (保險|賣出去) is a clause.
                let last = &w[len - 1];
                let verb_last = matches!(last.tag.as_str(), "v" | "vn");
                // A verb ends a compound only after a thing it is done to
                // (電池|回收, 雲|計算), not after a person (特朗普|發現)
                // or a modifier (主要|考慮).
                let thing_first = w[0].tag.starts_with('n') && !w[0].tag.starts_with("nr");
                if (last.tag == "v" && !thing_first)
                    || (w[0].tag.starts_with("nr") && verb_last)
                    || VERB_COMPLEMENTS.iter().any(|c| last.word.ends_with(c))
                {
                    continue;
                }
                // A common verb before a noun takes it as its object
                // (交給|專業, 考慮|服務器); a rare one names a kind of it
                // (虛擬|電廠).
                if w[0].tag == "v"
                    && crate::lexicon::general_idf(analyzer, &w[0].word)
                        .is_none_or(|idf| idf < RARE_VERB_IDF)
                {
                    continue;
                }
                let e = runs.entry(joined).or_insert_with(|| Run {
                    parts: w.iter().map(|t| t.word.clone()).collect(),
                    ..Run::default()
                });
                e.count += 1;
                e.named |= is_named(w);
                // Where the words run on (從事|科技|工作), the compound
                // may be a piece of a phrase; a term ends somewhere.
                e.ends |= toks.get(i + len).is_none_or(|next| {
                    next.after_break
                        || next.word.chars().count() < 2
                        || !candidate(&next.word, is_name)
                        || !(next.tag.starts_with('n') || matches!(next.tag.as_str(), "vn" | "v"))
                });
            }
        }
    }
    let compounds: HashMap<String, (Vec<String>, bool)> = runs
        .into_iter()
        .filter(|(_, r)| (r.count >= 2 || r.named) && r.ends)
        .map(|(w, r)| (w, (r.parts, r.named)))
        .collect();

    // Where each word is said: the turns, the speaker's and the others'.
    let mut turns_of: HashMap<String, Vec<(&str, u64)>> = HashMap::new();
    let mut note_turn = |word: &str, turn: (&'a str, u64)| {
        let turns = turns_of.entry(word.to_owned()).or_default();
        if !turns.contains(&turn) {
            turns.push(turn);
        }
    };
    for (said, _, toks) in &passages {
        for t in toks {
            note_turn(&t.word, said.turn);
        }
    }
    let mut theirs_text = String::new();
    let mut total_theirs = 0f32;
    for said in others {
        let folded = crate::text::fold_str(said.text);
        let words = analyzer.cut_folded(&folded);
        total_theirs += words.len() as f32;
        for w in words {
            note_turn(w, said.turn);
        }
        theirs_text.push_str(&folded);
        theirs_text.push('\n');
    }

    // Every word the speaker's cut gives, with its tag.
    let mut words: Vec<(String, String)> = Vec::new();
    for (_, _, toks) in &passages {
        for t in toks {
            if t.word.chars().count() >= 2
                && candidate(&t.word, is_name)
                && !words.iter().any(|(w, _)| *w == t.word)
            {
                words.push((t.word.clone(), t.tag.clone()));
            }
        }
    }
    // One pass per passage finds them all, overlapping ones too.
    let Ok(finder) = aho_corasick::AhoCorasick::new(words.iter().map(|(w, _)| w)) else {
        return Vec::new();
    };
    let mut stats: HashMap<String, Stat> = HashMap::new();
    let mut total_mine = 0f32;
    for (said, folded, toks) in &passages {
        let quoted = quoted_spans(said.text);
        let sentence_ends = crate::transcript::sentence_ends(said.text);
        // The content words of the sentence around a place, and how many
        // of them are also said in other turns: an aside (an anecdote of
        // one turn) shares few, the discussion shares many.
        let topical = |range: &std::ops::Range<usize>, parts: &[String]| -> f32 {
            let end = sentence_ends
                .iter()
                .copied()
                .find(|&e| e >= range.end)
                .unwrap_or(said.text.len());
            let start = sentence_ends
                .iter()
                .copied()
                .rfind(|&e| e <= range.start)
                .unwrap_or(0);
            let words: Vec<&Token> = toks
                .iter()
                .filter(|t| t.original.start >= start && t.original.end <= end)
                .filter(|t| t.word.chars().count() >= 2 && candidate(&t.word, is_name))
                .filter(|t| !parts.contains(&t.word))
                .collect();
            if words.is_empty() {
                return 0.5;
            }
            let shared = words
                .iter()
                .filter(|t| {
                    turns_of
                        .get(&t.word)
                        .is_some_and(|turns| turns.iter().any(|&turn| turn != said.turn))
                })
                .count();
            shared as f32 / words.len() as f32
        };
        let mut add = |key: &str,
                       range: std::ops::Range<usize>,
                       tag: &str,
                       compound: bool,
                       parts: &[String]| {
            let before = said.text[..range.start].chars().next_back();
            let after = said.text[range.end..].chars().next();
            // A list of points (合作、開放、共贏), not of examples
            // (比如說像紐交所、納斯達克交易所).
            let enumerated =
                (before == Some('、') || after == Some('、')) && !in_examples(said.text, &range);
            let in_quotes = quoted
                .iter()
                .any(|q| q.start <= range.start && range.end <= q.end);
            // A closing statement is the speaker's own summary: what it
            // names counts whether or not the others said it.
            let topicality = if said.closing {
                topical(&range, parts).max(CLOSING_TOPICALITY)
            } else {
                topical(&range, parts)
            };
            let st = stats.entry(key.to_owned()).or_insert_with(|| Stat {
                original: said.text[range.clone()].to_owned(),
                tag: tag.to_owned(),
                compound,
                parts: parts.to_vec(),
                ..Stat::default()
            });
            st.count += 1.0;
            st.topicality += topicality;
            st.enumerated |= enumerated;
            st.quoted |= in_quotes;
            st.closing |= said.closing;
        };
        // Courtesy is left out; compounds, longest first, take their places.
        let mut taken: Vec<std::ops::Range<usize>> = clauses(said.text)
            .into_iter()
            .filter(|r| is_courtesy_clause(&said.text[r.clone()]))
            .collect();
        let mut used = vec![false; toks.len()];
        for len in (2..=3).rev() {
            for i in 0..toks.len().saturating_sub(len - 1) {
                let w = &toks[i..i + len];
                if used[i..i + len].iter().any(|&u| u) || w.iter().skip(1).any(|t| t.after_break) {
                    continue;
                }
                let joined: String = w.iter().map(|t| t.word.as_str()).collect();
                if let Some((parts, named)) = compounds.get(&joined) {
                    let range = w[0].original.start..w[len - 1].original.end;
                    let kind = if *named && is_proper(&w[0]) {
                        "named"
                    } else {
                        "compound"
                    };
                    add(&joined, range.clone(), kind, true, parts);
                    taken.push(range);
                    used[i..i + len].iter_mut().for_each(|u| *u = true);
                }
            }
        }
        // Words, wherever they occur outside the compounds (a word the cut
        // glued to a neighbour, 有念力 or 貼標籤, still counts as 念力, 標籤).
        total_mine += toks
            .iter()
            .filter(|t| t.word.chars().count() >= 2 && candidate(&t.word, is_name))
            .count() as f32;
        let chars: Vec<usize> = folded.text.char_indices().map(|(i, _)| i).collect();
        for m in finder.find_overlapping_iter(folded.text.as_str()) {
            let (word, tag) = &words[m.pattern().as_usize()];
            let first = chars.partition_point(|&i| i < m.start());
            let last = chars.partition_point(|&i| i < m.end());
            let Some(range) = folded.original_range(first, last) else {
                continue;
            };
            if taken
                .iter()
                .any(|t| t.start < range.end && range.start < t.end)
            {
                continue;
            }
            add(word, range, tag, false, std::slice::from_ref(word));
        }
    }

    let vocabulary = stats.len().max(1) as f32;
    let alpha = 0.5f32;
    let mut scored: Vec<(f32, &str)> = Vec::new();
    for (word, st) in &stats {
        let tag = st.tag.as_str();
        let chars = word.chars().count();
        let idiom = chars == 4 && word.chars().all(is_cjk) && matches!(tag, "i" | "l");
        let marked = st.enumerated || st.quoted;
        if !st.compound && !CONTENT_TAGS.contains(&tag) && !marked {
            continue;
        }
        // An idiom or set phrase only when the speaker stresses it.
        if matches!(tag, "i" | "l") && !(marked || st.closing || st.count >= 2.0) {
            continue;
        }
        // Against the other speakers of the same transcripts.
        let contrast = if total_theirs > 0.0 {
            let p_mine = (st.count + alpha) / (total_mine + alpha * vocabulary);
            let p_theirs = (theirs_text.matches(word.as_str()).count() as f32 + alpha)
                / (total_theirs + alpha * vocabulary);
            (p_mine / p_theirs).ln()
        } else {
            1.0
        };
        if contrast <= 0.0 {
            continue;
        }
        let rarity = rarity(analyzer, &st.parts);
        let topicality = 0.2 + 0.8 * st.topicality / st.count.max(1.0);
        let kind = if tag == "named" {
            3.0
        } else if st.compound {
            2.0
        } else if matches!(tag, "eng" | "nz" | "nt" | "j") || idiom {
            1.3
        } else if matches!(tag, "ns" | "nr" | "nrt" | "nrfg") {
            // A place or a person is rarely what someone talked about.
            0.5
        } else if tag == "v" && !marked {
            0.6
        } else {
            1.0
        };
        let stress = f32::from(u8::from(st.enumerated))
            + f32::from(u8::from(st.quoted))
            + f32::from(u8::from(st.closing))
            + 0.5 * f32::from(u8::from(st.count >= 2.0));
        let score =
            (1.0 + st.count.ln()) * contrast * rarity * kind * topicality * (1.0 + 0.5 * stress);
        scored.push((score, word.as_str()));
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    let mut chosen: Vec<&str> = Vec::new();
    for (_, word) in scored {
        // Never a piece of a keyword chosen, nor a compound of one.
        if chosen.iter().any(|c| c.contains(word) || word.contains(c)) {
            continue;
        }
        chosen.push(word);
        if chosen.len() == n {
            break;
        }
    }
    chosen
        .into_iter()
        .map(|w| stats[w].original.clone())
        .collect()
}

/// How rare a word (or the rarest word of a compound) is in Chinese at
/// large, from 0.25 (發展) to 1 (a term the table does not know).
fn rarity(analyzer: &Analyzer, parts: &[String]) -> f32 {
    /// jieba's table has no single characters and no Latin words: a bound
    /// character says about as much as a rare word, a Latin term (MarTech,
    /// CGO) as much as the table's median.
    const UNJUDGED: f64 = 10.0;
    let idfs: Vec<f64> = parts
        .iter()
        .map(|p| crate::lexicon::general_idf(analyzer, p).unwrap_or(UNJUDGED))
        .collect();
    // A compound is as specific as its most specific word (劍橋|分析).
    let most = idfs.iter().copied().fold(0.0, f64::max);
    (most.clamp(3.0, 12.0) / 12.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thanks_and_sign_offs_are_courtesy_not_content() {
        for c in [
            "謝謝李總",
            "今天就到這裡。",
            "谢谢大家!",
            "各位好",
            "歡迎來到今天的圓桌。",
        ] {
            assert!(is_courtesy_clause(c), "{c}");
        }
        for c in [
            "客服中心將會是銀行的一個很重要的部門",
            "感謝政策支持讓普惠金融在三年裡做到了全國第一",
        ] {
            assert!(!is_courtesy_clause(c), "{c}");
        }
        assert_eq!(substance("謝謝李總,今天就到這裡。"), 0);
        assert_eq!(substance("最後請三位用一句話談談?謝謝。"), 0);
        assert!(substance("我相信數據閉環跑得最快的企業會贏,謝謝大家!") > 12);
    }
}

#[cfg(test)]
mod extraction {
    use super::*;
    use std::sync::OnceLock;

    fn analyzer() -> &'static Analyzer {
        static A: OnceLock<Analyzer> = OnceLock::new();
        A.get_or_init(|| Analyzer::new(["甲", "陳大文"]))
    }

    fn said(texts: &[&'static str], speaker_turns: u64) -> Vec<Said<'static>> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| Said {
                text: t,
                turn: ("t", speaker_turns + 2 * i as u64),
                closing: false,
            })
            .collect()
    }

    fn of(mine: &[&'static str], others: &[&'static str]) -> Vec<String> {
        keywords(
            analyzer(),
            &said(mine, 1),
            &said(others, 2),
            &|w| w == "陈大文",
            8,
        )
    }

    #[test]
    fn compounds_are_kept_whole_and_their_pieces_are_no_keywords() {
        let k = of(
            &[
                "京東雲是一個雲計算公司,我們做雲計算已經很多年了。",
                "採用雲計算上的解決方案,磷酸鐵鋰電池的成本更低,磷酸鐵鋰也更安全。",
            ],
            &[
                "銀行的客戶越來越多,銀行的服務也越來越好。",
                "我同意,成本和安全都很重要。",
            ],
        );
        assert!(k.contains(&"雲計算".to_owned()), "{k:?}");
        assert!(k.contains(&"磷酸鐵鋰".to_owned()), "{k:?}");
        for piece in ["計算", "磷酸", "鐵鋰"] {
            assert!(!k.contains(&piece.to_owned()), "{piece} in {k:?}");
        }
    }

    #[test]
    fn thanks_names_and_everyday_words_are_never_keywords() {
        let k = of(
            &[
                "謝謝李總,今天就到這裡。",
                "我們談談虛擬電廠,虛擬電廠可以參與調峰,陳大文也談一談。",
            ],
            &["謝謝主持人。", "電網的負荷很高。"],
        );
        assert!(k.contains(&"虛擬電廠".to_owned()), "{k:?}");
        for never in [
            "謝謝李總",
            "李總",
            "謝謝",
            "陳大文",
            "談談",
            "談一談",
            "今天",
        ] {
            assert!(!k.iter().any(|w| w == never), "{never} in {k:?}");
        }
    }
}
