//! How rare a word is in Chinese at large, from jieba's general-language IDF
//! table (the one `TfIdf::default()` carries, built from a large corpus).
//!
//! A question word the archive never saw says the question is about
//! something the archive does not cover only when the word is rare in
//! general (比特币, 区块链, a name): then it weighs fully. A common word
//! (故事, 方法, 天气) that happens not to occur in the archive says little
//! about the topic, and weighs little, so one such word added to a clear
//! question does not push its answer under the coverage threshold.
//!
//! The table is loaded once, on first use (about 270,000 words).

use crate::text::Analyzer;
use jieba_rs::{KeywordExtract, TfIdf};
use std::sync::OnceLock;

/// General IDF at or under which a word counts as common (方法 5.0, 故事
/// 6.1, 天气 6.5 in jieba's table).
const COMMON_IDF: f64 = 6.0;
/// General IDF at or over which a word counts as rare (收钱 9.7, 剑桥 9.4,
/// a word missing from the table takes its median, 11.9).
const RARE_IDF: f64 = 10.0;
/// The least share of its weight an unseen word keeps, however common.
const FLOOR: f32 = 0.15;

fn table() -> &'static TfIdf {
    static TABLE: OnceLock<TfIdf> = OnceLock::new();
    TABLE.get_or_init(TfIdf::default)
}

/// Loads the table now (a server does it at start, off the question path).
pub fn warm() {
    let _ = table();
}

/// jieba's general-language IDF of a folded word: the word's own entry, or,
/// when jieba cuts it into several words, the highest of theirs; the
/// table's median for a word it does not list; `None` for words it never
/// scores (single characters, numbers, Latin words).
pub fn general_idf(analyzer: &Analyzer, folded_word: &str) -> Option<f64> {
    let keywords = table().extract_keywords(analyzer.jieba(), folded_word, 8, Vec::new());
    let n = keywords.len() as f64;
    keywords
        .iter()
        .map(|k| k.weight * n)
        .max_by(|a, b| a.total_cmp(b))
}

/// Share of its corpus weight an unseen word keeps: [`FLOOR`] for common
/// words, 1 for rare ones, linear in between. Words the table cannot judge
/// (numbers, Latin words, single characters) keep it all.
pub fn unseen_share(analyzer: &Analyzer, folded_word: &str) -> f32 {
    match general_idf(analyzer, folded_word) {
        None => 1.0,
        Some(g) => {
            let s = ((g - COMMON_IDF) / (RARE_IDF - COMMON_IDF)) as f32;
            s.clamp(FLOOR, 1.0)
        }
    }
}

/// jieba's dictionary frequency of a character as a word of its own, at
/// or under which it carries sense alone (乞 807, 譽 1,858, 存 3,982, 類
/// 14,536); the commonest characters (人 313,210, 年 248,560, 地 160,542,
/// 分 34,660) are in too many words to say which one was meant.
const MORPHEME_MAX_FREQ: usize = 20_000;

/// Whether a folded Han character says something about a word it is part
/// of, so a passage holding it shows a trace of a word it paraphrases.
pub fn is_content_morpheme(analyzer: &Analyzer, c: char) -> bool {
    crate::text::is_cjk(c)
        && !crate::text::is_stop_char(c)
        && analyzer.jieba().suggest_freq(c.encode_utf8(&mut [0; 4])) <= MORPHEME_MAX_FREQ
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_words_weigh_less_than_rare_ones() {
        let a = Analyzer::new(std::iter::empty());
        let share = |w: &str| unseen_share(&a, w);
        for common in ["故事", "方法", "天气"] {
            assert!(share(common) < 0.3, "{common}: {}", share(common));
        }
        for rare in ["比特币", "区块链", "乞讨者"] {
            assert!(share(rare) > 0.9, "{rare}: {}", share(rare));
        }
        assert!(share("收钱") > share("故事"));
        assert_eq!(share("2018"), 1.0, "numbers are not judged");
    }

    #[test]
    fn rare_characters_are_morphemes_common_ones_are_not() {
        let a = Analyzer::new(std::iter::empty());
        for c in ['乞', '誉', '类', '存'] {
            assert!(is_content_morpheme(&a, c), "{c}");
        }
        for c in ['人', '年', '地', '的', 'a', '1'] {
            assert!(!is_content_morpheme(&a, c), "{c}");
        }
    }
}
