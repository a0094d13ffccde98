//! Text analysis shared by indexing and questions, so both sides cut text the
//! same way.
//!
//! 1. **Folding** ([`fold`]): NFKC width folding, lowercase, Traditional →
//!    Simplified character by character (OpenCC's character table through
//!    `hanconv`), control characters to spaces. Folding one character at a
//!    time keeps a map from every folded character back to the bytes of the
//!    original, so matches can be highlighted in the text that is shown.
//! 2. **Words** ([`Analyzer`]): jieba in search mode over the folded text,
//!    with speaker names and aliases as user words. jieba's dictionary is
//!    Simplified only, which is why folding comes first.
//! 3. **Bigrams** ([`BigramTokenizer`]): overlapping character pairs of Han
//!    runs, whole Latin words, for what one jieba cut misses.
//!
//! [`ANALYZER_VERSION`] is stored with every index: change it whenever
//! anything here changes how text is cut, and indexes are rebuilt.

use jieba_rs::{Jieba, TokenizeMode};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, OnceLock};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Bump when folding, segmentation, stop words or what is worked out at
/// index time (prompts, lead-ins, context) change.
pub const ANALYZER_VERSION: u32 = 8;

/// Name the word tokenizer is registered under in tantivy.
pub const WORD_TOKENIZER: &str = "forumbot_words";
/// Name the bigram tokenizer is registered under in tantivy.
pub const BIGRAM_TOKENIZER: &str = "forumbot_bigrams";

/// Text folded for matching, with the way back to the original.
#[derive(Debug, Clone, PartialEq)]
pub struct Folded {
    /// The folded text.
    pub text: String,
    /// For each char of `text`, the byte range of the original it came from.
    pub origin: Vec<Range<usize>>,
}

impl Folded {
    /// Original byte range of the folded chars `start..end` (char indices).
    pub fn original_range(&self, start: usize, end: usize) -> Option<Range<usize>> {
        if start >= end || end > self.origin.len() {
            return None;
        }
        Some(self.origin[start].start..self.origin[end - 1].end)
    }
}

fn ts_table() -> &'static HashMap<char, char> {
    static TABLE: OnceLock<HashMap<char, char>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut map = HashMap::new();
        let single = |s: &str| {
            let mut it = s.chars();
            match (it.next(), it.next()) {
                (Some(c), None) => Some(c),
                _ => None,
            }
        };
        // OpenCC's character table alone: it already maps the Taiwan and
        // Hong Kong forms people type (週 裡 臺 啟). Its variant tables are
        // not chained in: 麼 → 么 → 幺 would fold 什麼 and 什么 apart.
        for (t, s) in hanconv::RawDictionary::TSCharacters.iter() {
            if let (Some(t), Some(s)) = (single(t), single(s)) {
                map.insert(t, s);
            }
        }
        map
    })
}

/// Folds one character to its search form (one or more chars, usually one).
fn fold_char(c: char, out: &mut impl FnMut(char)) {
    if c.is_control() || c.is_whitespace() {
        out(' ');
        return;
    }
    if c.is_ascii() {
        out(c.to_ascii_lowercase());
        return;
    }
    let table = ts_table();
    // CJK Unified Ideographs: NFKC and lowercase leave them alone, so only
    // the script table applies. They are most of the text, and the general
    // path below costs several times more per character.
    if ('\u{4E00}'..='\u{9FFF}').contains(&c) {
        out(*table.get(&c).unwrap_or(&c));
        return;
    }
    for n in std::iter::once(c).nfkc() {
        for l in n.to_lowercase() {
            let l = strip_latin_diacritics(l);
            out(*table.get(&l).unwrap_or(&l));
        }
    }
}

/// A Latin letter with diacritics folds to its base letter (ō → o, é → e),
/// so pinyin typed with tone marks (Zhōu Yīlì) and accented Latin terms match
/// their plain spelling. One char in, one char out, so offsets keep mapping.
fn strip_latin_diacritics(c: char) -> char {
    if !matches!(c as u32, 0x00C0..=0x024F | 0x1E00..=0x1EFF) {
        return c;
    }
    let mut base = std::iter::once(c).nfd().filter(|d| !is_combining_mark(*d));
    match (base.next(), base.next()) {
        (Some(b), None) if b.is_ascii_alphabetic() => b,
        _ => c,
    }
}

/// Folds text for matching (see the module docs), keeping the map back.
pub fn fold(original: &str) -> Folded {
    let mut text = String::with_capacity(original.len());
    let mut origin = Vec::with_capacity(original.len() / 2);
    for (i, c) in original.char_indices() {
        let range = i..i + c.len_utf8();
        fold_char(c, &mut |f| {
            text.push(f);
            origin.push(range.clone());
        });
    }
    Folded { text, origin }
}

/// Folds text without keeping the map (questions, names, lookups).
pub fn fold_str(s: &str) -> String {
    let mut text = String::with_capacity(s.len());
    for c in s.chars() {
        fold_char(c, &mut |f| text.push(f));
    }
    text
}

/// Han ideographs (and the other scripts written without spaces).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F
        | 0x3040..=0x30FF | 0xAC00..=0xD7AF)
}

/// A token worth indexing or querying: it holds a letter or digit.
pub fn is_wordlike(s: &str) -> bool {
    s.chars().any(char::is_alphanumeric)
}

/// Question and function words: they say how something is asked, not what
/// it is about, so they never make a passage match. Simplified (folded) form.
const STOP_WORDS: &[&str] = &[
    // Chinese question words and particles
    "时候",
    "为何",
    "什么",
    "什么样",
    "怎么",
    "怎么样",
    "怎样",
    "如何",
    "为什么",
    "为何",
    "哪",
    "哪个",
    "哪些",
    "哪里",
    "哪儿",
    "哪几个",
    "几个",
    "几",
    "谁",
    "多少",
    "是否",
    "有没有",
    "是不是",
    "能不能",
    "会不会",
    "要不要",
    "吗",
    "呢",
    "吧",
    "啊",
    "呀",
    "么",
    "嘛",
    "哦",
    "嗯",
    "请问",
    "请",
    "问",
    "一下",
    "告诉",
    "介绍",
    // function words
    "的",
    "了",
    "是",
    "在",
    "和",
    "与",
    "及",
    "或",
    "或者",
    "也",
    "都",
    "就",
    "还",
    "又",
    "很",
    "把",
    "被",
    "给",
    "让",
    "从",
    "向",
    "到",
    "于",
    "由",
    "为",
    "将",
    "即",
    "则",
    "却",
    "以及",
    "而且",
    "并且",
    "因为",
    "所以",
    "如果",
    "虽然",
    "以",
    "之",
    "其",
    "这",
    "那",
    "这个",
    "那个",
    "这些",
    "那些",
    "一个",
    "着",
    "过",
    "得",
    "地",
    "所",
    "并",
    "而",
    "但",
    "但是",
    "对",
    "对于",
    "关于",
    "有关",
    "会",
    "能",
    "要",
    "可以",
    "应该",
    "有",
    "没有",
    "没",
    "不",
    "等",
    "等等",
    "吗?",
    "啥",
    "咋",
    // pronouns
    "我",
    "你",
    "您",
    "他",
    "她",
    "它",
    "我们",
    "你们",
    "他们",
    "她们",
    "它们",
    "自己",
    "大家",
    "人家",
    // verbs of saying and thinking: how the question is put, not its subject
    "说",
    "说过",
    "说了",
    "讲",
    "讲过",
    "讲了",
    "谈",
    "谈到",
    "谈过",
    "提到",
    "提过",
    "认为",
    "觉得",
    "看",
    "看法",
    "观点",
    "想法",
    "怎么看",
    "如何看",
    "表示",
    "指出",
    "提出",
    "发言",
    "回答",
    "主张",
    // English
    "what",
    "whats",
    "did",
    "does",
    "do",
    "say",
    "said",
    "says",
    "about",
    "the",
    "a",
    "an",
    "of",
    "to",
    "in",
    "on",
    "for",
    "is",
    "are",
    "was",
    "were",
    "how",
    "why",
    "who",
    "whom",
    "which",
    "when",
    "where",
    "think",
    "thinks",
    "thought",
    "view",
    "views",
    "opinion",
    "and",
    "or",
    "tell",
    "me",
    "please",
    "his",
    "her",
    "their",
    "he",
    "she",
    "they",
    "it",
    "its",
    "this",
    "that",
    "with",
    "from",
    "by",
    "as",
    "at",
    "be",
    "been",
    "can",
    "could",
    "would",
    "should",
    "will",
    "talk",
    "talked",
    "mention",
    "mentioned",
    "any",
    "some",
    "there",
    "i",
    "you",
    "we",
    "s",
];

/// Whether a folded word is a question or function word.
pub fn is_stop_word(folded_word: &str) -> bool {
    static SET: OnceLock<std::collections::HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| STOP_WORDS.iter().copied().collect())
        .contains(folded_word)
        || is_interrogative(folded_word)
}

/// Whether a folded character is a function word on its own (的, 是, 了).
pub fn is_stop_char(c: char) -> bool {
    is_stop_word(c.encode_utf8(&mut [0; 4]))
}

/// Question words jieba keeps whole with what they ask for: 哪一年, 哪个,
/// 哪位, 几月, 几岁, 何时, 何种, 多久. They say what kind of answer is
/// wanted (a year, a person), never what the answer is about.
fn is_interrogative(folded_word: &str) -> bool {
    let mut chars = folded_word.chars();
    let (Some(first), second) = (chars.next(), chars.next()) else {
        return false;
    };
    let short = folded_word.chars().count() <= 4;
    match first {
        '哪' => true,
        '几' => short,
        '何' => matches!(
            second,
            Some('时' | '年' | '地' | '处' | '种' | '人' | '者' | '谓' | '以' | '故' | '在')
        ),
        '多' => {
            matches!(
                second,
                Some('少' | '久' | '长' | '大' | '高' | '远' | '深' | '重' | '宽')
            ) && short
        }
        _ => false,
    }
}

/// A word of analysed text: folded form and where it stands in the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    /// Byte range in the original text.
    pub original: Range<usize>,
}

/// jieba with the corpus's names added, loaded once and shared.
pub struct Analyzer {
    jieba: Jieba,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Analyzer")
    }
}

/// Frequency given to names added to jieba: enough to keep a name whole,
/// low enough that it does not swallow a common word around it.
const USER_WORD_FREQ: usize = 2000;

impl Analyzer {
    /// Loads jieba's dictionary and adds `user_words` (names, aliases), folded.
    pub fn new<'a>(user_words: impl IntoIterator<Item = &'a str>) -> Self {
        let mut jieba = Jieba::new();
        for w in user_words {
            let folded = fold_str(w.trim());
            if folded.chars().count() >= 2 && folded.chars().all(is_cjk) {
                jieba.add_word(&folded, Some(USER_WORD_FREQ), Some("nr"));
            }
        }
        Analyzer { jieba }
    }

    /// Search-mode words of `original` for the index: overlapping words of a
    /// compound included (互联网金融 gives 互联网 and 金融 as well).
    pub fn index_words(&self, original: &str) -> Vec<Word> {
        self.words(original, TokenizeMode::Search)
    }

    /// Words of `original` as one cut (no overlaps): what a question says.
    pub fn cut_words(&self, original: &str) -> Vec<Word> {
        self.words(original, TokenizeMode::Default)
    }

    fn words(&self, original: &str, mode: TokenizeMode) -> Vec<Word> {
        let folded = fold(original);
        self.jieba
            .tokenize(&folded.text, mode, true)
            .into_iter()
            .filter(|t| is_wordlike(t.word))
            .filter_map(|t| {
                Some(Word {
                    text: t.word.to_owned(),
                    original: folded.original_range(t.start, t.end)?,
                })
            })
            .collect()
    }

    /// The segmenter itself, for jieba's own keyword extraction.
    pub fn jieba(&self) -> &Jieba {
        &self.jieba
    }

    /// One default cut of already folded text.
    pub fn cut_folded<'a>(&self, folded: &'a str) -> Vec<&'a str> {
        self.jieba
            .cut(folded, true)
            .into_iter()
            .map(|t| t.word)
            .filter(|w| is_wordlike(w))
            .collect()
    }

    /// One cut of already folded text with jieba's dictionary alone (no
    /// guessing of unknown words).
    pub fn cut_folded_dict<'a>(&self, folded: &'a str) -> Vec<&'a str> {
        self.jieba
            .cut(folded, false)
            .into_iter()
            .map(|t| t.word)
            .filter(|w| is_wordlike(w))
            .collect()
    }

    /// Whether jieba's dictionary (with the corpus's names) holds the word.
    pub fn knows(&self, folded_word: &str) -> bool {
        self.jieba.has_word(folded_word)
    }

    /// Search-mode cut of already folded text (a compound and its parts).
    pub fn search_folded<'a>(&self, folded: &'a str) -> Vec<&'a str> {
        self.jieba
            .cut_for_search(folded, true)
            .into_iter()
            .map(|t| t.word)
            .filter(|w| is_wordlike(w))
            .collect()
    }
}

/// Character bigrams of folded text: each pair of adjacent Han characters,
/// a lone Han character, and whole runs of other letters or digits.
pub fn bigrams(folded: &str) -> Vec<(String, Range<usize>)> {
    let chars: Vec<(usize, char)> = folded.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if is_cjk(c) {
            let mut j = i;
            while j < chars.len() && is_cjk(chars[j].1) {
                j += 1;
            }
            let end_of = |k: usize| chars.get(k).map_or(folded.len(), |x| x.0);
            if j - i == 1 {
                out.push((c.to_string(), start..end_of(i + 1)));
            } else {
                for k in i..j - 1 {
                    out.push((
                        folded[chars[k].0..end_of(k + 2)].to_owned(),
                        chars[k].0..end_of(k + 2),
                    ));
                }
            }
            i = j;
        } else if c.is_alphanumeric() {
            let mut j = i;
            while j < chars.len() && chars[j].1.is_alphanumeric() && !is_cjk(chars[j].1) {
                j += 1;
            }
            let end = chars.get(j).map_or(folded.len(), |x| x.0);
            out.push((folded[start..end].to_owned(), start..end));
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// A finished list of tokens handed to tantivy.
pub struct VecTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

fn stream(tokens: Vec<Token>) -> VecTokenStream {
    VecTokenStream { tokens, next: 0 }
}

/// tantivy tokenizer for the word field, sharing one [`Analyzer`].
#[derive(Clone)]
pub struct WordTokenizer(pub Arc<Analyzer>);

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = VecTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let tokens = self
            .0
            .index_words(text)
            .into_iter()
            .enumerate()
            .map(|(position, w)| Token {
                offset_from: w.original.start,
                offset_to: w.original.end,
                position,
                text: w.text,
                position_length: 1,
            })
            .collect();
        stream(tokens)
    }
}

/// tantivy tokenizer for the bigram field.
#[derive(Clone, Default)]
pub struct BigramTokenizer;

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = VecTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let folded = fold(text);
        let starts: Vec<usize> = folded.text.char_indices().map(|(i, _)| i).collect();
        let char_of = |byte: usize| starts.partition_point(|&s| s < byte);
        let tokens = bigrams(&folded.text)
            .into_iter()
            .enumerate()
            .filter_map(|(position, (text, range))| {
                let original = folded.original_range(char_of(range.start), char_of(range.end))?;
                Some(Token {
                    offset_from: original.start,
                    offset_to: original.end,
                    position,
                    text,
                    position_length: 1,
                })
            })
            .collect();
        stream(tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_is_width_case_and_script() {
        assert_eq!(fold_str("銀行數據營銷雲後裡"), "银行数据营销云后里");
        assert_eq!(fold_str("PR CEO 12"), "pr ceo 12");
        assert_eq!(fold_str("週總"), "周总");
        assert_eq!(fold_str("慶麗"), "庆丽");
        assert_eq!(fold_str("什麼"), fold_str("什么"));
        assert_eq!(fold_str("啟動"), fold_str("启动"));
        assert_eq!(fold_str("a\u{0}b\tc"), "a b c");
        assert_eq!(fold_str("Zhōu Yīlì Lǚ café"), "zhou yili lu cafe");
    }

    #[test]
    fn folding_keeps_a_char_map_to_the_original() {
        let original = "京東雲的MarTech、PR部門";
        let f = fold(original);
        assert_eq!(f.text, "京东云的martech、pr部门");
        assert_eq!(f.origin.len(), f.text.chars().count());
        // Every folded char maps to exactly one original char here.
        let back: String = f.origin.iter().map(|r| &original[r.clone()]).collect();
        assert_eq!(back, original);
    }

    #[test]
    fn word_offsets_point_into_the_original_on_mixed_text() {
        let a = Analyzer::new(["陳慧菱"]);
        let original = "陳慧菱說MarTech和大數据、营銷";
        let words = a.cut_words(original);
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert!(texts.contains(&"陈慧菱"), "{texts:?}");
        assert!(texts.contains(&"martech"), "{texts:?}");
        assert!(texts.contains(&"营销"), "{texts:?}");
        for w in &words {
            // The original slice folds to the word: offsets are right.
            assert_eq!(fold_str(&original[w.original.clone()]), w.text, "{w:?}");
        }
    }

    #[test]
    fn traditional_and_simplified_cut_the_same() {
        let a = Analyzer::new(std::iter::empty());
        let t: Vec<String> = a
            .cut_words("銀行數據應用部")
            .into_iter()
            .map(|w| w.text)
            .collect();
        let s: Vec<String> = a
            .cut_words("银行数据应用部")
            .into_iter()
            .map(|w| w.text)
            .collect();
        assert_eq!(t, s);
        assert!(t.contains(&"银行".to_owned()), "{t:?}");
    }

    #[test]
    fn bigrams_cover_han_runs_and_keep_latin_words() {
        let b: Vec<String> = bigrams("念力 mar2tech 的")
            .into_iter()
            .map(|x| x.0)
            .collect();
        assert_eq!(b, ["念力", "mar2tech", "的"]);
        let b: Vec<String> = bigrams("互联网金融").into_iter().map(|x| x.0).collect();
        assert_eq!(b, ["互联", "联网", "网金", "金融"]);
    }

    #[test]
    fn stop_words_are_question_and_function_words_only() {
        for w in [
            "什么", "怎么", "吗", "的", "了", "是", "在", "说", "看法", "what", "did", "say",
            "about",
        ] {
            assert!(is_stop_word(w), "{w}");
        }
        for w in ["人才", "银行", "营销", "pr", "青睐"] {
            assert!(!is_stop_word(w), "{w}");
        }
    }

    #[test]
    fn tokenizers_never_cut_inside_a_char() {
        let mut t = BigramTokenizer;
        let text = "😀營銷🎉 x\u{7}y";
        let mut s = t.token_stream(text);
        while s.advance() {
            let tok = s.token();
            assert!(text.is_char_boundary(tok.offset_from) && text.is_char_boundary(tok.offset_to));
        }
    }
}
