//! The shape of a conversation, worked out once per transcript at index time
//! so that retrieval can use it: who asks and who answers, which question
//! each turn answers, and how the paragraphs of one turn hang together.
//!
//! - **Exchanges**: a turn that asks (a moderator's turn holding a question;
//!   without a moderator, a turn that ends in a question) opens an exchange,
//!   and the turns of other speakers after it answer it, until the next
//!   question. The question sentences are the exchange's **prompt**.
//! - **Lead-ins**: a turn that opens with a short paragraph and goes on
//!   (「我覺得兩者差別挺大的。」) announces what follows; the lead-in and the
//!   paragraph after it are quoted together.
//! - **Context**: the words of a passage's turn before it (the turn's opening,
//!   the paragraph just before) and of the prompt it answers, so a paragraph
//!   that never repeats the topic named earlier in its turn is still found
//!   through it, weighed lower than its own words.
//! - **Position**: each speaker's first and last turn in a transcript, for
//!   questions about what someone said to open or in closing.
//!
//! Everything here is pure and works on any transcript: nothing is keyed to
//! particular words of one.

use crate::transcript::{is_question, sentences, Passage, Transcript, QUESTION_MARKS};

/// A paragraph this short (in characters) that opens a turn with more to
/// come is a lead-in.
pub const LEAD_IN_MAX_CHARS: usize = 40;

/// A question sentence longer than this is cut to its end (the part that
/// asks) when it is kept as a prompt.
pub const PROMPT_MAX_CHARS: usize = 160;

/// Flags of a passage (stored as one number in the index).
pub mod flags {
    /// The passage holds the question that opens an exchange.
    pub const PROMPT: u64 = 1;
    /// A short opening paragraph followed by the substance it announces.
    pub const LEAD_IN: u64 = 2;
    /// Spoken by a moderator.
    pub const MODERATOR: u64 = 4;
    /// In the speaker's first turn of the transcript.
    pub const FIRST_TURN: u64 = 8;
    /// In the speaker's last turn of the transcript.
    pub const LAST_TURN: u64 = 16;
    /// The paragraph right after a lead-in (quoted with it).
    pub const AFTER_LEAD_IN: u64 = 32;
}

/// The question an answer responds to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Prompt {
    pub turn: usize,
    pub speaker: String,
    /// The question sentences, verbatim.
    pub text: String,
}

/// What a passage knows about its place in the conversation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Place {
    pub flags: u64,
    /// The prompt the passage's turn answers (not set on the prompt itself).
    pub prompt: Option<Prompt>,
    /// Earlier text of the same turn that frames this passage: the turn's
    /// opening paragraph and the one just before (each once).
    pub context: String,
    /// For a lead-in: the paragraph that follows it; for the paragraph after
    /// a lead-in: the lead-in. Verbatim, to quote the two together.
    pub partner: Option<String>,
}

/// Sentences ending in a question mark, verbatim, in order.
pub fn question_sentences(text: &str) -> Vec<&str> {
    sentences(text)
        .filter(|s| is_question(s))
        .map(str::trim)
        .collect()
}

/// The start of `s`, at most `max` characters, on a char boundary.
fn head_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}

/// How much of each earlier piece of a turn frames a passage, in characters.
const CONTEXT_PART_CHARS: usize = 200;

/// The end of `s`, at most `max` characters, on a char boundary.
fn tail_chars(s: &str, max: usize) -> &str {
    // From the end: the cost is the tail's, however long `s` is.
    match max
        .checked_sub(1)
        .and_then(|m| s.char_indices().rev().nth(m))
    {
        Some((at, _)) => &s[at..],
        None if max == 0 => "",
        None => s,
    }
}

/// The question a turn asks, if it asks one: the question sentences at the
/// end of its last paragraph (the last few), joined. A question asked
/// early and then answered by the speaker themself (我為什麼提出這個問題?
/// …) is rhetorical, not a prompt. A short turn that announces a question
/// without a question mark (有一個問題,…) asks it in full.
fn asks(paragraphs: &[&str]) -> Option<String> {
    let last = paragraphs.last()?;
    let sents: Vec<&str> = sentences(last).collect();
    let is_q = |s: &&str| is_question(s);
    let Some(last_q) = sents.iter().rposition(is_q) else {
        let whole: usize = paragraphs.iter().map(|p| p.chars().count()).sum();
        let announces = paragraphs
            .iter()
            .any(|p| p.contains("問題") || p.contains("问题"));
        if announces && whole <= 2 * PROMPT_MAX_CHARS && !last.contains(QUESTION_MARKS) {
            return Some(tail_chars(last.trim(), PROMPT_MAX_CHARS).to_owned());
        }
        return None;
    };
    if sents.len() - last_q > 2 {
        return None;
    }
    let mut qs: Vec<&str> = sents[..=last_q]
        .iter()
        .rev()
        .take_while(|s| is_q(s) || s.chars().count() < 30)
        .filter(|s| is_q(s))
        .map(|s| s.trim())
        .collect();
    qs.reverse();
    if qs.is_empty() {
        return None;
    }
    // The question that opens the exchange is what the turn ends asking.
    if qs.len() > 3 {
        qs.drain(..qs.len() - 3);
    }
    let joined: Vec<&str> = qs.iter().map(|q| tail_chars(q, PROMPT_MAX_CHARS)).collect();
    Some(joined.join(""))
}

/// Whether the turn's last sentence is a question (for transcripts without
/// a moderator, where any speaker may ask).
fn ends_asking(paragraphs: &[&str]) -> bool {
    paragraphs.last().is_some_and(|p| is_question(p))
}

/// The place of every passage of `t`, in the order of [`Transcript::passages`].
pub fn places(t: &Transcript, passages: &[Passage]) -> Vec<Place> {
    let has_moderator = t.speakers.iter().any(|s| s.moderator);
    let is_moderator = |name: &str| t.speaker(name).is_some_and(|s| s.moderator);

    // Per turn: the prompt it answers, and whether it opens an exchange.
    let mut answers: Vec<Option<Prompt>> = vec![None; t.turns.len() + 1];
    let mut opens: Vec<bool> = vec![false; t.turns.len() + 1];
    let mut current: Option<Prompt> = None;
    for turn in &t.turns {
        let texts: Vec<&str> = turn.paragraphs.iter().map(|p| p.text.as_str()).collect();
        let asker = if has_moderator {
            is_moderator(&turn.speaker)
        } else {
            ends_asking(&texts) && texts.iter().map(|p| p.chars().count()).sum::<usize>() < 400
        };
        if asker {
            if let Some(text) = asks(&texts) {
                opens[turn.number] = true;
                current = Some(Prompt {
                    turn: turn.number,
                    speaker: turn.speaker.clone(),
                    text,
                });
                continue;
            }
            // A moderator who sums up without asking leaves the exchange open.
            continue;
        }
        if let Some(p) = &current {
            if p.speaker != turn.speaker {
                answers[turn.number] = Some(p.clone());
            }
        }
    }

    // Each speaker's first and last turn.
    let mut first_turn = std::collections::HashMap::new();
    let mut last_turn = std::collections::HashMap::new();
    for turn in &t.turns {
        first_turn
            .entry(turn.speaker.as_str())
            .or_insert(turn.number);
        last_turn.insert(turn.speaker.as_str(), turn.number);
    }

    let mut cursor: Option<(usize, usize, usize)> = None;
    passages
        .iter()
        .map(|p| {
            let mut place = Place::default();
            if p.turn == 0 {
                return place;
            }
            // Turns are numbered from 1 in order; look one up directly.
            let Some(turn) = t
                .turns
                .get(p.turn - 1)
                .filter(|x| x.number == p.turn)
                .or_else(|| t.turns.iter().find(|x| x.number == p.turn))
            else {
                return place;
            };
            let speaker = turn.speaker.as_str();
            if is_moderator(speaker) {
                place.flags |= flags::MODERATOR;
            }
            if first_turn.get(speaker) == Some(&turn.number) {
                place.flags |= flags::FIRST_TURN;
            }
            if last_turn.get(speaker) == Some(&turn.number) {
                place.flags |= flags::LAST_TURN;
            }
            let para = p.paragraph.saturating_sub(1);
            let own = turn.paragraphs.get(para).map(|x| x.text.as_str());
            if opens[turn.number] && !question_sentences(&p.text).is_empty() {
                place.flags |= flags::PROMPT;
            }
            place.prompt = answers[turn.number].clone();
            let lead_in = turn.paragraphs.len() > 1
                && turn.paragraphs[0].text.chars().count() <= LEAD_IN_MAX_CHARS;
            if lead_in && para == 0 {
                place.flags |= flags::LEAD_IN;
                place.partner = turn.paragraphs.get(1).map(|x| x.text.clone());
            }
            if lead_in && para == 1 {
                place.flags |= flags::AFTER_LEAD_IN;
                place.partner = Some(turn.paragraphs[0].text.clone());
            }
            // Earlier text of the turn: its opening, and what came just
            // before this passage (the previous paragraph, or the previous
            // piece of a split one).
            let n = CONTEXT_PART_CHARS;
            let mut context: Vec<&str> = Vec::new();
            if para > 0 {
                context.push(head_chars(&turn.paragraphs[0].text, n));
                if para > 1 {
                    context.push(tail_chars(&turn.paragraphs[para - 1].text, n));
                }
            }
            // A piece of a split paragraph: the paragraph's opening and the
            // text just before the piece frame it.
            if let Some(text) = own {
                // Pieces of a split paragraph come in order: look for each
                // from where the last one ended, so a paragraph split into
                // thousands of pieces is read once, not once per piece.
                let from = match cursor {
                    Some((t, q, end)) if t == p.turn && q == p.paragraph => end,
                    _ => 0,
                };
                let at = text
                    .get(from..)
                    .and_then(|rest| rest.find(p.text.as_str()))
                    .map(|i| i + from);
                if let Some(at) = at {
                    cursor = Some((p.turn, p.paragraph, at + p.text.len()));
                }
                if let Some(at) = at.filter(|&at| at > 0) {
                    let before = &text[..at];
                    if para == 0 {
                        context.push(head_chars(before, n));
                    }
                    context.push(tail_chars(before, n));
                }
            }
            context.dedup();
            place.context = context.join("\n");
            place
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::{Meta, Paragraph, Speaker, Turn};

    fn speaker(name: &str, moderator: bool) -> Speaker {
        Speaker {
            name: name.into(),
            role: None,
            aliases: Vec::new(),
            pinyin: Vec::new(),
            moderator,
        }
    }

    fn transcript(speakers: Vec<Speaker>, turns: &[(&str, &[&str])]) -> Transcript {
        Transcript {
            meta: Meta {
                id: "t".into(),
                title: "t".into(),
                event: None,
                date: None,
                place: None,
                source_url: None,
                lang: "zh-Hant".into(),
            },
            speakers,
            intro: Vec::new(),
            turns: turns
                .iter()
                .enumerate()
                .map(|(i, (who, paras))| Turn {
                    number: i + 1,
                    speaker: (*who).into(),
                    line: i + 1,
                    paragraphs: paras
                        .iter()
                        .map(|p| Paragraph {
                            line: i + 1,
                            text: (*p).into(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    fn panel() -> Transcript {
        transcript(
            vec![
                speaker("主持", true),
                speaker("甲", false),
                speaker("乙", false),
            ],
            &[
                ("主持", &["歡迎各位。第一個問題,人才培養最難的是什麼?"]),
                (
                    "甲",
                    &[
                        "我覺得兩者差別挺大的。",
                        "首先是留住人才,薪酬要和互聯網公司對標。",
                    ],
                ),
                ("乙", &["最難的是找到懂業務的技術人員。"]),
                ("主持", &["我概括一下,人才是關鍵。"]),
                ("甲", &["我再補充一點,培訓也很重要。"]),
                ("主持", &["最後一個問題:風控怎麼做?"]),
                ("乙", &["風控要有自己的模型。"]),
            ],
        )
    }

    #[test]
    fn a_moderator_question_is_the_prompt_of_the_turns_that_answer_it() {
        let t = panel();
        let passages = t.passages();
        let places = places(&t, &passages);
        let at = |turn: usize, para: usize| {
            let i = passages
                .iter()
                .position(|p| p.turn == turn && p.paragraph == para)
                .unwrap();
            &places[i]
        };
        assert_ne!(at(1, 1).flags & flags::PROMPT, 0);
        assert!(at(1, 1).prompt.is_none(), "a prompt answers nothing");
        for (turn, para) in [(2, 1), (2, 2), (3, 1)] {
            let p = at(turn, para).prompt.as_ref().expect("answers the prompt");
            assert_eq!(p.turn, 1);
            assert_eq!(p.text, "第一個問題,人才培養最難的是什麼?");
        }
        // A summary without a question leaves the exchange open.
        assert_eq!(at(4, 1).flags & flags::PROMPT, 0);
        assert_eq!(at(5, 1).prompt.as_ref().unwrap().turn, 1);
        assert_eq!(
            at(7, 1).prompt.as_ref().unwrap().text,
            "最後一個問題:風控怎麼做?"
        );
        assert_ne!(at(6, 1).flags & flags::MODERATOR, 0);
        assert_eq!(at(7, 1).flags & flags::MODERATOR, 0);
    }

    #[test]
    fn a_lead_in_is_paired_with_the_substance_after_it() {
        let t = panel();
        let passages = t.passages();
        let places = places(&t, &passages);
        assert_ne!(places[1].flags & flags::LEAD_IN, 0);
        assert_eq!(
            places[1].partner.as_deref(),
            Some("首先是留住人才,薪酬要和互聯網公司對標。")
        );
        assert_ne!(places[2].flags & flags::AFTER_LEAD_IN, 0);
        assert_eq!(places[2].partner.as_deref(), Some("我覺得兩者差別挺大的。"));
        assert!(places[2].context.contains("差別挺大"));
        // A one-paragraph turn has no lead-in, however short.
        assert_eq!(places[3].flags & flags::LEAD_IN, 0);
    }

    #[test]
    fn a_topic_named_once_frames_the_paragraphs_after_it() {
        let t = transcript(
            vec![speaker("主持", true), speaker("甲", false)],
            &[
                ("主持", &["你怎麼看?"]),
                (
                    "甲",
                    &[
                        "兩三年前我看到一家公司叫劍橋分析,很有意思。",
                        "過去我們貼標籤,看職業、收入、年齡。",
                        "它引入了大五人格,用心理學給人分類。",
                        "這家公司後來關門了。",
                    ],
                ),
            ],
        );
        let passages = t.passages();
        let places = places(&t, &passages);
        for (i, place) in places.iter().enumerate().skip(2) {
            assert!(place.context.contains("劍橋分析"), "{i}");
        }
        assert!(
            places[4].context.contains("大五人格"),
            "the paragraph before"
        );
        assert!(
            !places[2].context.contains("大五人格"),
            "never what follows"
        );
    }

    #[test]
    fn without_a_moderator_a_short_turn_ending_in_a_question_asks() {
        let t = transcript(
            vec![speaker("甲", false), speaker("乙", false)],
            &[
                ("甲", &["這段歷史很長,從1937年說起。"]),
                ("乙", &["那麼戰爭是怎麼結束的?"]),
                ("甲", &["1945年日本投降。"]),
            ],
        );
        let passages = t.passages();
        let places = places(&t, &passages);
        assert!(places[0].prompt.is_none());
        assert_ne!(places[1].flags & flags::PROMPT, 0);
        assert_eq!(places[2].prompt.as_ref().unwrap().turn, 2);
        // Position in the transcript.
        assert_ne!(places[0].flags & flags::FIRST_TURN, 0);
        assert_ne!(places[2].flags & flags::LAST_TURN, 0);
        assert_eq!(places[0].flags & flags::LAST_TURN, 0);
    }

    #[test]
    fn a_huge_paragraph_is_framed_in_one_pass() {
        // 600,000 characters with no sentence end: thousands of pieces, each
        // framed by the text just before it (a search per piece from the
        // start of the paragraph would take minutes here).
        let huge = "數據營銷".repeat(150_000);
        let t = transcript(
            vec![speaker("甲", false), speaker("乙", false)],
            &[("甲", &[huge.as_str()]), ("乙", &["好。"])],
        );
        let passages = t.passages();
        assert!(passages.len() > 1000, "{}", passages.len());
        let places = places(&t, &passages);
        assert_eq!(places.len(), passages.len());
        assert!(places[0].context.is_empty());
        for place in &places[1..passages.len() - 1] {
            assert!(place.context.chars().count() <= 2 * CONTEXT_PART_CHARS + 1);
            assert!(place.context.starts_with("數據營銷"), "{}", place.context);
        }
    }

    #[test]
    fn question_sentences_are_verbatim_and_tail_cut() {
        assert_eq!(
            question_sentences("好。有沒有特別注重90後?有沒有年齡側重點?謝謝。"),
            ["有沒有特別注重90後?", "有沒有年齡側重點?"]
        );
        assert_eq!(tail_chars("一二三四五", 2), "四五");
        assert_eq!(tail_chars("一二", 5), "一二");
        assert_eq!(tail_chars("一二", 0), "");
        assert_eq!(head_chars("一二三", 2), "一二");
        assert!(question_sentences("沒有問題。").is_empty());
    }
}
