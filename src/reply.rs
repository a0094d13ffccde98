//! Rendering answers for people: a Discord-shaped [`Reply`] (embeds within
//! Discord's limits), and the same reply as plain text for the console and
//! the command line. Pure functions; the Discord layer only converts a
//! `Reply` into serenity builders.
//!
//! Every length is counted in characters, and text is only ever cut at a
//! character boundary (at a sentence end where one is near), with an ellipsis.

use crate::index::TranscriptInfo;
use crate::search::Answer;
use crate::summary::SpeakerSummary;
use crate::transcript::is_sentence_end;
use serde::Serialize;

/// Discord's limits, in characters.
pub mod limits {
    pub const CONTENT: usize = 2000;
    pub const EMBED_TITLE: usize = 256;
    pub const EMBED_DESCRIPTION: usize = 4096;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1024;
    pub const FIELDS: usize = 25;
    pub const EMBEDS: usize = 10;
    pub const AUTHOR_NAME: usize = 256;
    pub const FOOTER: usize = 2048;
    /// All embeds of one message together.
    pub const EMBEDS_TOTAL: usize = 6000;
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Embed {
    pub title: Option<String>,
    pub url: Option<String>,
    pub author: Option<String>,
    pub description: Option<String>,
    pub fields: Vec<Field>,
    pub footer: Option<String>,
    pub color: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

/// A "more" button: the next page of the same question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct More {
    pub offset: usize,
}

/// A message as Discord would show it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Reply {
    pub content: Option<String>,
    pub embeds: Vec<Embed>,
    /// Only the person who asked sees it.
    pub ephemeral: bool,
    pub more: Option<More>,
}

const COLOR_ANSWER: u32 = 0x2b6cb0;
const COLOR_NONE: u32 = 0x718096;
const COLOR_ERROR: u32 = 0xc53030;

/// Cuts `s` to at most `max` characters: whole if it fits, else at the last
/// sentence end in the second half of the budget, else at `max - 1`
/// characters, and adds `…`.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let keep = max - 1;
    let byte_end = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
    let head = &s[..byte_end];
    let sentence_end = head
        .char_indices()
        // Also at an ASCII full stop (English quotes), never after an
        // ellipsis (the cut would read as two).
        .filter(|&(_, c)| c == '.' || (is_sentence_end(c) && c != '…'))
        .map(|(i, c)| i + c.len_utf8())
        .rfind(|&end| head[..end].chars().count() * 2 >= keep);
    format!("{}…", &head[..sentence_end.unwrap_or(byte_end)])
}

/// Longest prompt shown above an answer, in characters.
const PROMPT_CHARS: usize = 60;

/// "第 N 輪", or the introduction.
fn turn_label(turn: u64) -> String {
    if turn == 0 {
        "導言".to_owned()
    } else {
        format!("第 {turn} 輪")
    }
}

/// Escapes Discord markdown so a quote shows exactly as written.
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '*'
                | '_'
                | '`'
                | '~'
                | '|'
                | '>'
                | '['
                | ']'
                | '('
                | ')'
                | '#'
                | '-'
                | '<'
                | '@'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The quote with matched spans in bold, cut to `max` characters of quote
/// text (markup and escapes not counted) at a character boundary.
pub fn bold_quote(text: &str, highlights: &[[usize; 2]], max: usize) -> String {
    let shown = truncate(text, max);
    let cut = shown.chars().count();
    let mut out = String::new();
    let mut pos = 0;
    let chars: Vec<char> = shown.chars().collect();
    let take = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    for &[start, end] in highlights {
        let (start, end) = (start.min(cut), end.min(cut));
        if start < pos || start >= end {
            continue;
        }
        out.push_str(&escape_markdown(&take(pos, start)));
        out.push_str("**");
        out.push_str(&escape_markdown(&take(start, end)));
        out.push_str("**");
        pos = end;
    }
    out.push_str(&escape_markdown(&take(pos, cut)));
    out
}

fn embeds_total(embeds: &[Embed]) -> usize {
    let n = |s: &Option<String>| s.as_ref().map_or(0, |s| s.chars().count());
    embeds
        .iter()
        .map(|e| {
            n(&e.title)
                + n(&e.author)
                + n(&e.description)
                + n(&e.footer)
                + e.fields
                    .iter()
                    .map(|f| f.name.chars().count() + f.value.chars().count())
                    .sum::<usize>()
        })
        .sum()
}

/// Renders an answer: one embed per hit (speaker and role, the quote with
/// matched words in bold, a link to the turn); the question is the title.
pub fn answer(a: &Answer, offset: usize) -> Reply {
    answer_with_speakers(a, offset, &[])
}

/// Whether a question is written in Latin letters with no Chinese in it
/// (an English question, or pinyin): the transcripts are Chinese, so such a
/// question finds little, and fewer words will not help.
pub fn is_latin_question(question: &str) -> bool {
    let letters = question.chars().filter(|c| c.is_alphabetic()).count();
    letters > 0
        && !question.chars().any(crate::text::is_cjk)
        && question
            .chars()
            .filter(|c| c.is_alphabetic())
            .all(|c| c.is_ascii_alphabetic() || ('\u{c0}'..='\u{24f}').contains(&c))
}

/// The hint under "not covered": for a question in Latin letters, that the
/// transcripts are in Chinese, with the speakers' names in Chinese
/// characters to ask about; otherwise, how to broaden the question.
fn no_hits_hint(query: &str, speakers: &[String]) -> String {
    if is_latin_question(query) {
        let names: Vec<&str> = speakers
            .iter()
            .map(String::as_str)
            .filter(|n| n.chars().any(crate::text::is_cjk))
            .take(8)
            .collect();
        let (zh_names, en_names) = if names.is_empty() {
            (String::new(), String::new())
        } else {
            (
                format!("講者:{}。", names.join("、")),
                format!(" Speakers: {}.", names.join(", ")),
            )
        };
        let example = names
            .first()
            .map_or_else(|| "人才".to_owned(), |n| format!("{n}怎麼看人才?"));
        format!(
            "逐字稿是中文的,請用中文提問,例如 `{example}`。{zh_names}\n\
             The transcripts are in Chinese: ask in Chinese (Traditional or Simplified), \
             e.g. `{example}`, with speakers' names in Chinese characters.{en_names}"
        )
    } else {
        "提示 · Tips:少用幾個字詞、換一位講者,或用 `/speaker` 看看某位講者談了什麼。\n\
         Use fewer words, try another speaker, or see `/speaker`."
            .to_owned()
    }
}

/// As [`answer`], with the archive's speakers to suggest when a question
/// in English finds nothing.
pub fn answer_with_speakers(a: &Answer, offset: usize, speakers: &[String]) -> Reply {
    let title = truncate(&a.query, limits::EMBED_TITLE);
    if a.hits.is_empty() {
        // Every speaker the question was restricted to, not only the first.
        let who = if a.speakers.is_empty() {
            String::new()
        } else {
            format!("（講者:{}）", a.speakers.join("、"))
        };
        let hint = no_hits_hint(&a.query, speakers);
        let description = format!(
            "逐字稿裡找不到回答這個問題的段落{who}。\nThe transcripts do not cover this.\n\n{hint}"
        );
        // The nearest passages, offered as what they are: not answers.
        let fields = a
            .weak
            .iter()
            .take(3)
            .enumerate()
            .map(|(i, h)| {
                let who = h.speaker.as_deref().unwrap_or("導言 · Introduction");
                Field {
                    name: truncate(
                        &format!("相近但不確定 · Weak match {} · {who}", i + 1),
                        limits::FIELD_NAME,
                    ),
                    value: format!(
                        "> {}\n[查看原文 · {}]({})",
                        escape_markdown(&truncate(&h.text, 200)).replace('\n', "\n> "),
                        turn_label(h.turn),
                        h.link
                    ),
                    inline: false,
                }
            })
            .collect();
        return Reply {
            embeds: vec![Embed {
                title: Some(title),
                description: Some(truncate(&description, limits::EMBED_DESCRIPTION)),
                fields,
                color: Some(COLOR_NONE),
                ..Embed::default()
            }],
            ..Reply::default()
        };
    }
    let n = a.hits.len().min(limits::EMBEDS);
    // Share the 6000-character budget between the hits, keeping room for
    // the title, author lines and links.
    let per_hit = ((limits::EMBEDS_TOTAL - 300 - title.chars().count()) / n).min(1400);
    let mut embeds = Vec::new();
    for (i, h) in a.hits.iter().take(n).enumerate() {
        let author = match (&h.speaker, &h.role) {
            (Some(s), Some(r)) => format!("{s} · {r}"),
            (Some(s), None) => s.clone(),
            (None, _) => "導言 · Introduction".to_owned(),
        };
        let author = truncate(&author, limits::AUTHOR_NAME.min(120));
        let link_line = format!("\n\n[查看原文 · {}]({})", turn_label(h.turn), h.link);
        // The question this answers, as one short line above the quote.
        let prompt_line = h
            .prompt
            .as_ref()
            .map(|p| {
                format!(
                    "↳ 回應 {} 第 {} 輪的提問:{}\n",
                    escape_markdown(&p.speaker),
                    p.turn,
                    escape_markdown(&truncate(&p.text, PROMPT_CHARS))
                )
            })
            .unwrap_or_default();
        let budget = per_hit
            .saturating_sub(
                author.chars().count()
                    + link_line.chars().count()
                    + prompt_line.chars().count() * 2,
            )
            .max(80);
        let quote = bold_quote(
            &h.text,
            &h.highlights,
            budget.min(limits::EMBED_DESCRIPTION - 400),
        )
        .replace('\n', "\n> ");
        embeds.push(Embed {
            title: (i == 0).then(|| title.clone()),
            url: None,
            author: Some(author),
            description: Some(format!("{prompt_line}> {quote}{link_line}")),
            fields: Vec::new(),
            footer: None,
            color: Some(COLOR_ANSWER),
        });
    }
    if let Some(last) = embeds.last_mut() {
        let shown_to = offset + n;
        last.footer = Some(if a.total > shown_to {
            format!(
                "第 {}–{} 段,共 {} 段 · 逐字引用",
                offset + 1,
                shown_to,
                a.total
            )
        } else {
            format!(
                "共 {} 段 · 逐字引用 · verbatim quotes",
                a.total.max(shown_to)
            )
        });
    }
    debug_assert!(embeds_total(&embeds) <= limits::EMBEDS_TOTAL);
    Reply {
        embeds,
        more: (a.total > offset + n).then_some(More { offset: offset + n }),
        ..Reply::default()
    }
}

/// Renders a speaker summary.
pub fn summary(s: &SpeakerSummary) -> Reply {
    let title = match &s.role {
        Some(r) => format!("{} · {r}", s.speaker),
        None => s.speaker.clone(),
    };
    let mut fields = vec![Field {
        name: "發言 · Turns".into(),
        value: s.turns.to_string(),
        inline: true,
    }];
    // Share of each transcript's talk: one line per transcript.
    if s.transcripts.len() > 1 {
        let lines: Vec<String> = s
            .transcripts
            .iter()
            .map(|t| {
                format!(
                    "{:.0}% · {} 輪 · {}",
                    t.share * 100.0,
                    t.turns,
                    escape_markdown(&truncate(&t.title, 60))
                )
            })
            .collect();
        fields.push(Field {
            name: "佔該場發言 · Share per transcript".into(),
            value: truncate(&lines.join("\n"), limits::FIELD_VALUE),
            inline: false,
        });
    } else {
        fields.push(Field {
            name: "佔該場發言 · Share".into(),
            value: format!("{:.0}%", s.share * 100.0),
            inline: true,
        });
    }
    if !s.aliases.is_empty() {
        fields.push(Field {
            name: "別名 · Aliases".into(),
            value: truncate(&s.aliases.join("、"), limits::FIELD_VALUE),
            inline: true,
        });
    }
    if !s.keywords.is_empty() {
        fields.push(Field {
            name: "關鍵詞 · Keywords".into(),
            value: truncate(
                &escape_markdown(&s.keywords.join("、")),
                limits::FIELD_VALUE,
            ),
            inline: false,
        });
    }
    for (i, q) in s.quotes.iter().enumerate() {
        let link = format!("\n[第 {} 輪]({})", q.turn, q.link);
        let room = limits::FIELD_VALUE
            .saturating_sub(link.chars().count() + 4)
            .max(40);
        let name = if s.moderator {
            format!("提問 · Question {}", i + 1)
        } else if q.closing {
            format!("引文 · Quote {} · 結語 · closing statement", i + 1)
        } else {
            format!("引文 · Quote {}", i + 1)
        };
        fields.push(Field {
            name,
            value: format!(
                "「{}」{link}",
                escape_markdown(&truncate(&q.text, room / 2))
            ),
            inline: false,
        });
    }
    fields.truncate(limits::FIELDS);
    Reply {
        embeds: vec![Embed {
            title: Some(truncate(&title, limits::EMBED_TITLE)),
            fields,
            footer: Some("關鍵詞與引文皆取自逐字稿 · keywords and quotes are verbatim".into()),
            color: Some(COLOR_ANSWER),
            ..Embed::default()
        }],
        ..Reply::default()
    }
}

/// Renders the list of indexed transcripts with links to their pages.
pub fn transcripts(list: &[TranscriptInfo], public_url: &str) -> Reply {
    let fields: Vec<Field> = list
        .iter()
        .take(limits::FIELDS)
        .map(|t| {
            let when = [t.meta.date.as_deref(), t.meta.place.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · ");
            let who = t
                .turns_per_speaker
                .iter()
                .map(|(n, c)| format!("{n}({c})"))
                .collect::<Vec<_>>()
                .join("、");
            // No date and no place: no empty line (and no dangling colon).
            let when = if when.is_empty() {
                String::new()
            } else {
                format!("{when}\n")
            };
            // Which version, since when: a moderator checks a correction took.
            let version = match t.since_unix {
                0 => format!("v{}", t.version),
                since => format!("v{} · {}", t.version, crate::versions::utc_date(since)),
            };
            let value = format!(
                "{when}講者 · Speakers: {who}\n{} 輪 · `{}` {version} · [閱讀全文]({})",
                t.turns,
                t.meta.id,
                crate::links::transcript_url(public_url, &t.meta.id)
            );
            Field {
                name: truncate(&t.meta.title, limits::FIELD_NAME),
                value: truncate(&value, limits::FIELD_VALUE),
                inline: false,
            }
        })
        .collect();
    let more = list.len().saturating_sub(limits::FIELDS);
    Reply {
        embeds: vec![Embed {
            title: Some(format!("已收錄 {} 份逐字稿 · Transcripts", list.len())),
            fields,
            footer: (more > 0).then(|| format!("還有 {more} 份未列出")),
            color: Some(COLOR_ANSWER),
            ..Embed::default()
        }],
        ..Reply::default()
    }
}

/// What the bot does and how to ask.
pub fn help() -> Reply {
    let description = "\
我只引用逐字稿原文回答問題,每段引文都標明講者並附上原文連結。\n\
I answer with verbatim quotes from forum transcripts, each with its speaker and a link.\n\n\
**/ask** `question` — 問問題,例如 `郭慶怎麼看人才?`、`周總說創新主要考慮哪幾個因素?`;可指定 `speaker`、`limit`。\n\
**/speaker** `name` — 某位講者的摘要:發言輪數、關鍵詞、代表性引文。\n\
**/transcripts** — 已收錄的逐字稿。\n\
**/reindex** `[file]` — 版主:重建索引,或上傳新的逐字稿(UTF-8 文字檔,可附 TOML 中繼資料);同 id 或同標題即為更正版。\n\
**/remove** `id` — 版主:移除逐字稿,或以 `undo` 復原上一次的變更。\n\n\
繁體、簡體、別名(周總、主持人)和拼音(Guo Qing)都可以。Traditional, Simplified, aliases and pinyin all work.\n\
也可以直接 @ 我提問 · You can also mention me with a question.";
    Reply {
        embeds: vec![Embed {
            title: Some("forumbot · 說明 · Help".into()),
            description: Some(description.into()),
            color: Some(COLOR_ANSWER),
            ..Embed::default()
        }],
        ephemeral: true,
        ..Reply::default()
    }
}

/// An error the user can fix: shown only to them.
pub fn user_error(message: &str) -> Reply {
    Reply {
        embeds: vec![Embed {
            title: Some("無法處理 · Can't do that".into()),
            description: Some(truncate(message, limits::EMBED_DESCRIPTION)),
            color: Some(COLOR_ERROR),
            ..Embed::default()
        }],
        ephemeral: true,
        ..Reply::default()
    }
}

/// A fault of ours: a short apology and an id to find the log line.
pub fn internal_error(error_id: &str) -> Reply {
    user_error(&format!(
        "抱歉,出了點問題,請稍後再試。Sorry, something went wrong on our side; please try again later. (error id `{error_id}`)"
    ))
}

/// A notice (progress, confirmation) shown only to the user.
pub fn notice(title: &str, body: &str) -> Reply {
    Reply {
        embeds: vec![Embed {
            title: Some(truncate(title, limits::EMBED_TITLE)),
            description: Some(truncate(body, limits::EMBED_DESCRIPTION)),
            color: Some(COLOR_ANSWER),
            ..Embed::default()
        }],
        ephemeral: true,
        ..Reply::default()
    }
}

/// Takes Discord's markdown escapes (`\\(`, `\\*`) back out: plain text
/// shows the characters as written. Bold markers stay as emphasis.
pub fn unescape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(&next) = chars.peek() {
                if next.is_ascii_punctuation() {
                    out.push(next);
                    chars.next();
                    continue;
                }
            }
        }
        out.push(c);
    }
    out
}

/// The reply as plain text, as it reads in Discord but without Discord's
/// markdown escapes (command line output); paging is `--offset N`.
pub fn to_text(r: &Reply) -> String {
    render_text(r, |offset| format!("(more: --offset {offset})\n"))
}

/// As [`to_text`], for the console, where the next page is `/more`.
pub fn to_console_text(r: &Reply) -> String {
    render_text(r, |offset| {
        format!("(more: /more shows the next quotes, from {})\n", offset + 1)
    })
}

fn render_text(r: &Reply, more: impl Fn(usize) -> String) -> String {
    let mut out = String::new();
    if let Some(c) = &r.content {
        out.push_str(&unescape_markdown(c));
        out.push('\n');
    }
    for e in &r.embeds {
        if let Some(t) = &e.title {
            out.push_str(&format!("== {} ==\n", unescape_markdown(t)));
        }
        if let Some(a) = &e.author {
            out.push_str(&format!("[{}]\n", unescape_markdown(a)));
        }
        if let Some(d) = &e.description {
            out.push_str(&unescape_markdown(d));
            out.push('\n');
        }
        for f in &e.fields {
            let value = unescape_markdown(&f.value);
            // A value of several lines starts on its own line, so no name
            // ends in a dangling colon.
            if value.contains('\n') {
                out.push_str(&format!("{}\n  {}\n", f.name, value.replace('\n', "\n  ")));
            } else {
                out.push_str(&format!("{}: {value}\n", f.name));
            }
        }
        if let Some(f) = &e.footer {
            out.push_str(&format!("-- {f}\n"));
        }
        out.push('\n');
    }
    if let Some(m) = &r.more {
        out.push_str(&more(m.offset));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::Hit;

    /// An answer that found nothing.
    fn no_hits(query: &str) -> Answer {
        Answer {
            query: query.into(),
            speaker: None,
            speakers: Vec::new(),
            hits: Vec::new(),
            weak: Vec::new(),
            total: 0,
            terms: Vec::new(),
        }
    }

    fn hit(text: &str, highlights: Vec<[usize; 2]>) -> Hit {
        Hit {
            transcript: "t".into(),
            turn: 3,
            paragraph: 1,
            speaker: Some("郭慶".into()),
            role: Some("總經理".into()),
            text: text.into(),
            highlights,
            score: 1.0,
            link: "http://x/t/t#turn-3".into(),
            prompt: None,
        }
    }

    #[test]
    fn truncate_counts_chars_and_prefers_sentence_ends() {
        assert_eq!(truncate("短句。", 10), "短句。");
        let s = "第一句話很長很長。第二句話也很長很長。第三句";
        let t = truncate(s, 15);
        assert_eq!(t, "第一句話很長很長。…");
        assert!(t.chars().count() <= 15);
        let solid = "字".repeat(50);
        let t = truncate(&solid, 10);
        assert_eq!(t.chars().count(), 10);
        assert!(t.ends_with('…'));
        assert_eq!(truncate("😀😀😀", 2), "😀…");
    }

    #[test]
    fn quotes_are_escaped_and_highlighted() {
        let q = bold_quote("人才*很*重要", &[[0, 2]], 100);
        assert_eq!(q, "**人才**\\*很\\*重要");
        // A highlight beyond the cut is dropped, not broken.
        let q = bold_quote(&"字".repeat(30), &[[25, 28]], 10);
        assert!(!q.contains("**"));
    }

    #[test]
    fn weak_matches_are_shown_apart_from_answers() {
        let mut a = no_hits("區塊鏈清算");
        a.weak = vec![hit("銀行的清算系統很老。", vec![[3, 5]])];
        let r = answer(&a, 0);
        let e = &r.embeds[0];
        assert!(e.description.as_deref().unwrap().contains("do not cover"));
        assert_eq!(e.fields.len(), 1);
        assert!(
            e.fields[0].name.contains("Weak match 1"),
            "{:?}",
            e.fields[0]
        );
        assert!(e.fields[0].value.contains("銀行的清算系統很老"));
        assert!(e.fields[0].value.chars().count() <= limits::FIELD_VALUE);
    }

    #[test]
    fn answers_stay_within_discord_limits_whatever_the_input() {
        let long = "很長的段落。".repeat(2000);
        let a = Answer {
            query: "問".repeat(1000),
            speaker: None,
            speakers: Vec::new(),
            weak: Vec::new(),
            hits: (0..10)
                .map(|i| {
                    let mut h = hit(&long.replacen('。', "。\n", i), vec![[0, 2], [10, 12]]);
                    // Every other hit answers a (long, markdown-laden) prompt.
                    h.prompt = (i % 2 == 0).then(|| crate::conversation::Prompt {
                        turn: 2,
                        speaker: "主持*人*".into(),
                        text: "_問題_?".repeat(300),
                    });
                    h
                })
                .collect(),
            total: 20,
            terms: vec![],
        };
        let r = answer(&a, 0);
        assert_eq!(r.embeds.len(), 10);
        let first = r.embeds[0].description.as_deref().unwrap();
        assert!(
            first.starts_with("↳ 回應 主持\\*人\\* 第 2 輪的提問:"),
            "{first}"
        );
        assert!(first.lines().nth(1).unwrap().starts_with("> "), "{first}");
        assert!(
            embeds_total(&r.embeds) <= limits::EMBEDS_TOTAL,
            "{}",
            embeds_total(&r.embeds)
        );
        for e in &r.embeds {
            assert!(e
                .title
                .as_ref()
                .is_none_or(|t| t.chars().count() <= limits::EMBED_TITLE));
            assert!(e.description.as_ref().unwrap().chars().count() <= limits::EMBED_DESCRIPTION);
            assert!(e
                .description
                .as_ref()
                .unwrap()
                .contains("[查看原文 · 第 3 輪](http://x/t/t#turn-3)"));
        }
        assert_eq!(r.more, Some(More { offset: 10 }));
    }

    #[test]
    fn no_hits_says_so_without_quoting() {
        let a = no_hits("今天天氣怎麼樣?");
        let r = answer(&a, 0);
        let text = to_text(&r);
        assert!(text.contains("The transcripts do not cover this"));
        assert!(!text.contains('>'));
        assert!(r.more.is_none());
        let two = Answer {
            speaker: Some("郭慶".into()),
            speakers: vec!["郭慶".into(), "周伊麗".into()],
            ..no_hits("郭慶和周伊麗怎麼看比特幣?")
        };
        let text = to_text(&answer(&two, 0));
        assert!(text.contains("（講者:郭慶、周伊麗）"), "{text}");
    }

    #[test]
    fn plain_text_has_no_discord_escapes_and_no_dangling_colons() {
        for raw in ["賦能(empower)", "a\\(b", "*粗*_斜_ `code` #1 -2 <x> @y [z]"] {
            assert_eq!(unescape_markdown(&escape_markdown(raw)), raw);
        }
        let r = Reply {
            embeds: vec![Embed {
                description: Some(escape_markdown("\u{8ce6}能(賦能)")),
                fields: vec![
                    Field {
                        name: "標題".into(),
                        value: "講者 · Speakers: 甲\n2 輪".into(),
                        inline: false,
                    },
                    Field {
                        name: "發言 · Turns".into(),
                        value: "5".into(),
                        inline: true,
                    },
                ],
                ..Embed::default()
            }],
            more: Some(More { offset: 3 }),
            ..Reply::default()
        };
        let text = to_text(&r);
        assert!(
            text.contains("賦能(賦能)") && !text.contains('\\'),
            "{text}"
        );
        assert!(
            text.contains("標題\n  講者 · Speakers: 甲\n  2 輪"),
            "{text}"
        );
        assert!(text.contains("發言 · Turns: 5"), "{text}");
        assert!(text.lines().all(|l| !l.trim_end().ends_with(':')), "{text}");
        assert!(text.contains("(more: --offset 3)"), "{text}");
        assert!(to_console_text(&r).contains("/more"));
    }

    #[test]
    fn english_questions_that_find_nothing_are_told_to_ask_in_chinese() {
        assert!(is_latin_question("what about quantum computing?"));
        assert!(is_latin_question("Zhōu Yīlì"));
        assert!(!is_latin_question("郭慶 talent"));
        assert!(!is_latin_question("2024?"));
        let a = no_hits("what did they say about blockchain");
        let names = vec!["郭慶".to_owned(), "陳慧菱".to_owned()];
        let text = to_text(&answer_with_speakers(&a, 0, &names));
        assert!(text.contains("The transcripts are in Chinese"), "{text}");
        assert!(text.contains("郭慶") && text.contains("陳慧菱"), "{text}");
        assert!(!text.contains("fewer words"), "{text}");
    }
}
