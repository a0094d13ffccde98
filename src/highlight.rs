//! Which characters of a quote are shown as the question's words (bold in
//! Discord and on a terminal, `highlights` in the JSON): a pure function of
//! the quote, its folding, the question's words and the segmentation the
//! index uses, so a reader can trust that what stands out is what they
//! asked about.
//!
//! - A question word of two or more characters is marked where it stands in
//!   the quote as a word, or as a run of whole words: its ends fall on word
//!   boundaries of the quote's cut (客服 in 客服中心 cut 客服|中心), or it
//!   is one of the sub-words the index keeps of a compound (互聯網 in
//!   互聯網金融). Never inside another word: 聯網 is not marked in 互聯網.
//! - A single character is marked only where the quote's cut has it as a
//!   word by itself. The words given are the question's own cut, so a
//!   single character among them is a word by itself in the question too:
//!   the 後 of 90後 is never marked in 然後 or 最後.
//!
//! Spans are `[start, end)` character offsets into the original quote,
//! sorted and merged. One cut of the quote and one scan per word: a long
//! quote costs linear time.

use crate::text::{is_wordlike, Analyzer, Folded};
use jieba_rs::TokenizeMode;
use std::collections::HashSet;

/// Character spans of `original` where the question's `words` (folded, as
/// the question's cut gives them) stand as words (see the module docs).
/// `folded` is `original` folded by [`crate::text::fold`].
pub fn highlights(
    original: &str,
    folded: &Folded,
    words: &[&str],
    analyzer: &Analyzer,
) -> Vec<[usize; 2]> {
    let text = folded.text.as_str();
    if text.is_empty() || words.iter().all(|w| w.is_empty()) {
        return Vec::new();
    }
    // Byte offset of each folded char, and the text's end.
    let mut folded_starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    let n = folded_starts.len();
    folded_starts.push(text.len());
    let char_at = |byte: usize| folded_starts.partition_point(|&s| s < byte);

    // The quote's segmentation, in folded chars: where words start and end
    // in one cut, and the sub-words of compounds the index also keeps.
    let mut starts = vec![false; n + 1];
    let mut ends = vec![false; n + 1];
    for t in analyzer.jieba().tokenize(text, TokenizeMode::Default, true) {
        starts[t.start] = true;
        ends[t.end] = true;
    }
    let sub_words: HashSet<(usize, usize)> = analyzer
        .jieba()
        .tokenize(text, TokenizeMode::Search, true)
        .into_iter()
        .map(|t| (t.start, t.end))
        .collect();
    let stands_as_words =
        |s: usize, e: usize| (starts[s] && ends[e]) || sub_words.contains(&(s, e));

    let original_starts: Vec<usize> = original.char_indices().map(|(i, _)| i).collect();
    let original_char = |byte: usize| original_starts.partition_point(|&s| s < byte);
    let mut spans: Vec<[usize; 2]> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for &word in words {
        if word.is_empty() || !is_wordlike(word) || !seen.insert(word) {
            continue;
        }
        // Every occurrence, overlapping ones too: one that is not a word
        // here must not hide one that is.
        let mut from = 0;
        while let Some(found) = text[from..].find(word) {
            let at = from + found;
            let (s, e) = (char_at(at), char_at(at + word.len()));
            if stands_as_words(s, e) {
                if let Some(r) = folded.original_range(s, e) {
                    spans.push([original_char(r.start), original_char(r.end)]);
                }
                from = at + word.len();
            } else {
                from = at + text[at..].chars().next().map_or(1, char::len_utf8);
            }
        }
    }
    spans.sort();
    let mut merged: Vec<[usize; 2]> = Vec::new();
    for s in spans {
        match merged.last_mut() {
            Some(last) if s[0] <= last[1] => last[1] = last[1].max(s[1]),
            _ => merged.push(s),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::fold;
    use std::sync::OnceLock;

    fn analyzer() -> &'static Analyzer {
        static A: OnceLock<Analyzer> = OnceLock::new();
        A.get_or_init(|| Analyzer::new(["郭慶", "周伊麗"]))
    }

    /// The highlighted pieces of `text`, as strings.
    fn marked(text: &str, words: &[&str]) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        highlights(text, &fold(text), words, analyzer())
            .into_iter()
            .map(|[s, e]| chars[s..e].iter().collect())
            .collect()
    }

    #[test]
    fn a_single_character_is_marked_only_where_it_is_a_word() {
        // 郭總有沒有特別注重90後? cuts to 90 | 后: the 後 of 然後 and 最後
        // is part of another word.
        let text =
            "我們在分析系統中都有設計,然後通過模型融合的方式,每個客戶最後分析的結果都會不同。";
        assert_eq!(marked(text, &["注重", "90", "后"]), Vec::<String>::new());
        // Where it stands alone, it is marked.
        let alone = "他們是90後,後來居上的一代。";
        let m = marked(alone, &["90", "后"]);
        assert!(m.contains(&"90後".to_owned()) || m == ["90", "後"], "{m:?}");
    }

    #[test]
    fn words_are_marked_whole_never_inside_another_word() {
        let text = "京東雲是一個雲計算公司,互聯網金融的發展很快,客服中心很重要。";
        // 計算 is inside 雲計算 when the cut keeps 雲計算 whole; 聯網 is
        // inside 互聯網.
        let m = marked(text, &["联网", "互联网", "金融", "客服", "中心"]);
        assert!(m.iter().any(|s| s == "互聯網金融"), "{m:?}");
        assert!(m.iter().any(|s| s == "客服中心"), "{m:?}");
        assert!(!m.iter().any(|s| s == "聯網"), "{m:?}");
        assert_eq!(marked("客服是一個部門", &["服"]), Vec::<String>::new());
    }

    #[test]
    fn offsets_point_into_the_original_script() {
        let text = "周伊麗說客服中心很重要";
        let h = highlights(text, &fold(text), &["客服"], analyzer());
        assert_eq!(h, [[4, 6]]);
        // Latin words in any case, by the quote's characters.
        let text = "透過MarTech的方式";
        assert_eq!(marked(text, &["martech"]), ["MarTech"]);
        assert_eq!(marked(text, &["tech"]), Vec::<String>::new());
    }

    #[test]
    fn a_long_passage_costs_linear_time_and_stays_exact() {
        let text = "金融".repeat(20_000);
        let h = highlights(&text, &fold(&text), &["金融"], analyzer());
        assert_eq!(h, [[0, 40_000]]);
        assert!(highlights("", &fold(""), &["金融"], analyzer()).is_empty());
        assert!(highlights("金融", &fold("金融"), &[""], analyzer()).is_empty());
    }
}
