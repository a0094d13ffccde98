//! Rendering answers for people: a Discord-shaped [`Reply`] (embeds within
//! Discord's limits), and the same reply as plain text for the console and
//! the command line. Pure functions; the Discord layer only converts a
//! `Reply` into serenity builders.
//!
//! Every length is counted in characters, and text is only ever cut at a
//! character boundary (at a sentence end where one is near), with an ellipsis.

use crate::forums::Participation;
use crate::index::TranscriptInfo;
use crate::links::INTRODUCTION;
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
    /// "Who spoke how much" pictures: Discord attaches them as PNG, text
    /// faces print them as text bars.
    #[serde(skip)]
    pub pictures: Vec<Picture>,
}

/// A picture of who spoke how much in one or more transcripts.
#[derive(Debug, Clone, PartialEq)]
pub struct Picture {
    /// The embed it illustrates (Discord shows the PNG as its image).
    pub embed: usize,
    /// The generation it was drawn from (rendered pictures are kept per
    /// generation).
    pub generation: String,
    pub participation: Vec<std::sync::Arc<Participation>>,
    /// The speaker the picture is about: the others are drawn faded.
    pub highlight: Option<String>,
}

impl Picture {
    /// A name for the rendered picture, the same for the same picture of
    /// the same generation.
    pub fn key(&self) -> String {
        let ids: Vec<&str> = self
            .participation
            .iter()
            .map(|p| p.transcript.as_str())
            .collect();
        format!(
            "{}|{}|{}",
            self.generation,
            ids.join(","),
            self.highlight.as_deref().unwrap_or("")
        )
    }
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

/// Cuts `s` to at most `max` characters from the front, keeping its end:
/// whole if it fits, else from the first clause or sentence start in the
/// first half of what fits, else at a character, after `…`. A question
/// ends in what it asks (…有沒有一些顯著的區別?), so that is what stays.
pub fn truncate_front(s: &str, max: usize) -> String {
    let s = s.trim();
    let n = s.chars().count();
    if n <= max {
        return s.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let keep = max - 1;
    let byte_start = s.char_indices().nth(n - keep).map_or(0, |(i, _)| i);
    let tail = &s[byte_start..];
    let clause_start = tail
        .char_indices()
        .filter(|&(_, c)| {
            is_sentence_end(c)
                || matches!(
                    c,
                    ',' | '\u{ff0c}' | '、' | ';' | '\u{ff1b}' | ':' | '\u{ff1a}'
                )
        })
        .map(|(i, c)| i + c.len_utf8())
        .find(|&start| start < tail.len() && tail[start..].chars().count() * 2 >= keep)
        .filter(|&start| tail[..start].chars().count() * 2 <= keep);
    let shown = &tail[clause_start.unwrap_or(0)..];
    format!("…{}", shown.trim_start())
}

/// Longest prompt shown above an answer, in characters.
const PROMPT_CHARS: usize = 60;

/// "第 N 輪", or the introduction.
fn turn_label(turn: u64) -> String {
    if turn == 0 {
        INTRODUCTION.to_owned()
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
    if a.hits.is_empty() && a.total > 0 {
        // A page past the last quote: the question is answered, this page
        // is just empty.
        let description = format!(
            "沒有更多引文了:這個問題共 {total} 段引文,{range}。\n\
             No more quotes: this answer has {total}, and this page starts after the last one.",
            total = a.total,
            range = if a.total == 1 {
                "已經列出".to_owned()
            } else {
                format!("{}已經列出", quote_range(1, a.total))
            },
        );
        return Reply {
            embeds: vec![Embed {
                title: Some(title),
                description: Some(description),
                color: Some(COLOR_NONE),
                ..Embed::default()
            }],
            ..Reply::default()
        };
    }
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
                let intro = format!("{INTRODUCTION} · Introduction");
                let who = h.speaker.as_deref().unwrap_or(&intro);
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
            (None, _) => format!("{INTRODUCTION} · Introduction"),
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
                    escape_markdown(&truncate_front(&p.text, PROMPT_CHARS))
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
        let total = a.total.max(shown_to);
        // The range whenever this is not the whole answer: a later page,
        // the last one included, says which quotes it shows.
        last.footer = Some(if offset == 0 && total == shown_to {
            format!("共 {total} 段 · 逐字引用 · verbatim quotes")
        } else {
            format!(
                "{},共 {total} 段 · 逐字引用 · verbatim quotes",
                quote_range(offset + 1, shown_to)
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

/// "第 3 段" or "第 13–14 段".
fn quote_range(first: usize, last: usize) -> String {
    if first >= last {
        format!("第 {first} 段")
    } else {
        format!("第 {first}–{last} 段")
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
/// Room for the transcript list's footer (a failure's reason can be long).
const FOOTER_NOTE: usize = 300;

/// What is indexed; `search` says how questions are searched (by meaning
/// and words, or by words only and why), in the footer.
pub fn transcripts(list: &[TranscriptInfo], public_url: &str, search: &str) -> Reply {
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
            footer: Some(truncate(
                &if more > 0 {
                    format!("還有 {more} 份未列出 · {search}")
                } else {
                    search.to_owned()
                },
                FOOTER_NOTE,
            )),
            color: Some(COLOR_ANSWER),
            ..Embed::default()
        }],
        ..Reply::default()
    }
}

/// Says which transcripts an answer searched, when not all of them.
pub fn searched_in(r: &mut Reply, labels: &[String]) {
    if labels.is_empty() {
        return;
    }
    let text = format!(
        "只在這些逐字稿中搜尋 · Searched only in: {}",
        labels
            .iter()
            .map(|l| escape_markdown(l))
            .collect::<Vec<_>>()
            .join("; ")
    );
    r.content = Some(truncate(&text, limits::CONTENT));
}

/// One transcript: what it is, each speaker's share of the words and turns,
/// its exchanges, and its picture.
pub fn transcript(
    info: &TranscriptInfo,
    p: std::sync::Arc<Participation>,
    generation: &str,
    public_url: &str,
) -> Reply {
    let m = &info.meta;
    let mut lines: Vec<String> = [m.event.as_deref(), m.date.as_deref(), m.place.as_deref()]
        .into_iter()
        .flatten()
        .map(escape_markdown)
        .collect();
    lines.push(format!(
        "`{}` · [閱讀全文 · Read]({})",
        m.id,
        crate::links::transcript_url(public_url, &m.id)
    ));
    let speakers = p
        .speakers
        .iter()
        .map(|s| {
            format!(
                "{} · {} · {} 字 · {} 輪",
                escape_markdown(&s.name),
                crate::chart::percent(s.share),
                s.words,
                s.turns
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let fields = vec![
        Field {
            name: "誰說了多少 · Share of the words".into(),
            value: truncate(&speakers, limits::FIELD_VALUE),
            inline: false,
        },
        Field {
            name: "發言 · Turns".into(),
            value: p.turns.len().to_string(),
            inline: true,
        },
        Field {
            name: "問答 · Exchanges".into(),
            value: p.exchanges.len().to_string(),
            inline: true,
        },
    ];
    Reply {
        embeds: vec![Embed {
            title: Some(truncate(&m.title, limits::EMBED_TITLE)),
            description: Some(truncate(&lines.join("\n"), limits::EMBED_DESCRIPTION)),
            fields,
            color: Some(COLOR_ANSWER),
            ..Embed::default()
        }],
        pictures: vec![Picture {
            embed: 0,
            generation: generation.to_owned(),
            participation: vec![p],
            highlight: None,
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

/// Which face prints a reply as text: they page and name commands
/// differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFace {
    /// `forumbot ask …`: the next page is `--offset N` (with the `--limit`
    /// the command gave, which the next page needs too), and a command is
    /// `forumbot NAME`.
    Cli { limit: Option<usize> },
    /// The console: the next page is `more` (or `/more`), and commands are
    /// typed as `/NAME`.
    Console,
}

/// How a reply is rendered for a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextStyle {
    pub face: TextFace,
    /// Emphasis (the question's words in a quote) by the terminal's own
    /// means, ANSI bold: only when the output is a terminal (see
    /// [`emphasis_for`]); otherwise none, so a pipe gets the bare text.
    pub ansi: bool,
}

impl TextStyle {
    /// The command line, without emphasis.
    pub fn cli() -> Self {
        TextStyle {
            face: TextFace::Cli { limit: None },
            ansi: false,
        }
    }

    /// The console, without emphasis.
    pub fn console() -> Self {
        TextStyle {
            face: TextFace::Console,
            ansi: false,
        }
    }

    pub fn with_ansi(self, ansi: bool) -> Self {
        TextStyle { ansi, ..self }
    }
}

/// Whether output that `is_terminal` gets emphasis: a terminal does,
/// unless `NO_COLOR` is set (to anything but empty) or `TERM` is `dumb`.
pub fn emphasis_for(is_terminal: bool) -> bool {
    is_terminal
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

const BOLD: &str = "\x1b[1m";
const NOT_BOLD: &str = "\x1b[22m";

/// The reply as plain text for the command line: no markup, no escapes,
/// links on lines of their own; paging is `--offset N`.
pub fn to_text(r: &Reply) -> String {
    render_text(r, &TextStyle::cli())
}

/// As [`to_text`], for the console, where the next page is `more`.
pub fn to_console_text(r: &Reply) -> String {
    render_text(r, &TextStyle::console())
}

/// The reply as a terminal shows it: Discord's markdown turned into the
/// terminal's own means (bold by ANSI only with `style.ansi`; code marks
/// dropped; a link as its label, then its address alone on the next line,
/// without the text directive), and commands named as `style.face` types
/// them.
pub fn render_text(r: &Reply, style: &TextStyle) -> String {
    let mut out = String::new();
    if let Some(c) = &r.content {
        out.push_str(&markdown_to_terminal(c, style));
        out.push('\n');
    }
    let literal = |s: &str| plain(&unescape_markdown(s));
    for e in &r.embeds {
        if let Some(t) = &e.title {
            out.push_str(&format!("== {} ==\n", literal(t)));
        }
        if let Some(a) = &e.author {
            out.push_str(&format!("[{}]\n", literal(a)));
        }
        if let Some(d) = &e.description {
            out.push_str(&markdown_to_terminal(d, style));
            out.push('\n');
        }
        for f in &e.fields {
            let value = markdown_to_terminal(&f.value, style);
            let name = literal(&f.name);
            // A value of several lines starts on its own line, so no name
            // ends in a dangling colon.
            if value.contains('\n') {
                out.push_str(&format!("{name}\n  {}\n", value.replace('\n', "\n  ")));
            } else {
                out.push_str(&format!("{name}: {value}\n"));
            }
        }
        if let Some(f) = &e.footer {
            out.push_str(&format!("-- {}\n", literal(f)));
        }
        out.push('\n');
    }
    for p in &r.pictures {
        out.push_str(&crate::chart::text(
            &p.participation,
            p.highlight.as_deref(),
        ));
        out.push('\n');
    }
    if let Some(m) = &r.more {
        out.push_str(&match style.face {
            TextFace::Cli { limit: None } => format!("(more: --offset {})\n", m.offset),
            TextFace::Cli { limit: Some(n) } => {
                format!("(more: --offset {} --limit {n})\n", m.offset)
            }
            TextFace::Console => format!(
                "(more: type more or /more for the next quotes, from {})\n",
                m.offset + 1
            ),
        });
    }
    out
}

/// Text with every control character (an escape, a tab) made a space,
/// line breaks kept: nothing a reply quotes can drive the terminal.
fn plain(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

/// A slash command of the chat faces as the command line spells it
/// (`/speaker` → `forumbot speaker`), with what follows it.
fn cli_command(code: &str) -> Option<String> {
    let rest = code.strip_prefix('/')?;
    let (name, args) = rest.split_once(' ').unwrap_or((rest, ""));
    let command = match name {
        "ask" => "forumbot ask",
        "speaker" => "forumbot speaker",
        "transcripts" => "forumbot transcripts",
        "reindex" => "forumbot index",
        "help" => "forumbot --help",
        _ => return None,
    };
    Some(if args.is_empty() {
        command.to_owned()
    } else {
        format!("{command} {args}")
    })
}

/// The label and address of a link `[label](url)` opening at `chars[at]`,
/// and where the text after it starts.
fn link_at(chars: &[char], at: usize) -> Option<(String, String, usize)> {
    let mut i = at + 1;
    let mut label = String::new();
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                label.push('\\');
                label.push(chars[i + 1]);
                i += 2;
            }
            ']' => break,
            '\n' => return None,
            c => {
                label.push(c);
                i += 1;
            }
        }
    }
    if chars.get(i) != Some(&']') || chars.get(i + 1) != Some(&'(') {
        return None;
    }
    let url_start = i + 2;
    let url_len = chars[url_start..]
        .iter()
        .position(|&c| c == ')' || c.is_whitespace())?;
    if chars[url_start + url_len] != ')' || url_len == 0 {
        return None;
    }
    let url: String = chars[url_start..url_start + url_len].iter().collect();
    Some((label, url, url_start + url_len + 1))
}

/// Discord markdown (as this module writes it) for a terminal.
fn markdown_to_terminal(s: &str, style: &TextStyle) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut bold = false;
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' if chars.get(i + 1).is_some_and(char::is_ascii_punctuation) => {
                out.push(chars[i + 1]);
                i += 2;
            }
            '*' if chars.get(i + 1) == Some(&'*') => {
                bold = !bold;
                if style.ansi {
                    out.push_str(if bold { BOLD } else { NOT_BOLD });
                }
                i += 2;
            }
            '`' => match chars[i + 1..].iter().position(|&c| c == '`') {
                Some(len) => {
                    let code: String = plain(&chars[i + 1..i + 1 + len].iter().collect::<String>());
                    let shown = match style.face {
                        TextFace::Cli { .. } => cli_command(&code).unwrap_or(code),
                        TextFace::Console => code,
                    };
                    out.push_str(&shown);
                    i += len + 2;
                }
                None => {
                    out.push('`');
                    i += 1;
                }
            },
            '[' => match link_at(&chars, i) {
                Some((label, url, next)) => {
                    out.push_str(&markdown_to_terminal(&label, style));
                    if !out.is_empty() && !out.ends_with('\n') {
                        out.push('\n');
                    }
                    out.push_str(&plain(crate::links::without_text_directive(&url)));
                    if chars.get(next).is_some_and(|&c| c != '\n') {
                        out.push('\n');
                    }
                    i = next;
                }
                None => {
                    out.push('[');
                    i += 1;
                }
            },
            c if c.is_control() && c != '\n' => {
                out.push(' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    if bold && style.ansi {
        out.push_str(NOT_BOLD);
    }
    // Everything echoed (the question in the title, names) reached a
    // terminal as transcript text does: every control character of the
    // text became a space above; only the emphasis codes added here remain.
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
            transcripts: Vec::new(),
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
            transcripts: Vec::new(),
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
    fn the_prompt_line_keeps_the_question_and_trims_the_preamble() {
        let prompt = "道理很簡單,第一金融業有錢,第二個因為新技術帶來了很多顯而易見的好處,\
            但是金融業在任何一個國家都是高監管的行業,不是像實業那樣想創新就創新,\
            因此我想請問三位,在你們看來金融的營銷跟實業的營銷有沒有一些顯著的區別?";
        let shown = truncate_front(prompt, PROMPT_CHARS);
        assert!(shown.chars().count() <= PROMPT_CHARS, "{shown}");
        assert!(shown.starts_with('…'), "{shown}");
        assert!(shown.ends_with("有沒有一些顯著的區別?"), "{shown}");
        // From the start of a clause, not mid-word.
        let kept = shown.trim_start_matches('…');
        let before = prompt[..prompt.find(kept).unwrap()].chars().next_back();
        assert!(before.is_some_and(|c| !c.is_alphanumeric()), "{shown}");
        assert_eq!(truncate_front("短問題?", 10), "短問題?");
        let solid = "字".repeat(50);
        assert_eq!(truncate_front(&solid, 10).chars().count(), 10);
        // In the answer, the prompt line ends with the question.
        let mut h = hit("銀行業有自己的行業特點。", vec![]);
        h.prompt = Some(crate::conversation::Prompt {
            turn: 1,
            speaker: "唐文".into(),
            text: prompt.into(),
        });
        let a = Answer {
            hits: vec![h],
            total: 1,
            ..no_hits("創新")
        };
        let text = to_text(&answer(&a, 0));
        let line = text.lines().find(|l| l.starts_with("↳")).unwrap();
        assert!(line.ends_with("有沒有一些顯著的區別?"), "{line}");
    }

    #[test]
    fn terminal_text_has_no_markdown_and_links_on_their_own_lines() {
        let mut h = hit("客服中心很重要。", vec![[0, 4]]);
        h.link = "http://x/t/t#turn-12-p5:~:text=%E5%AE%A2%E6%9C%8D".into();
        let a = Answer {
            hits: vec![h],
            total: 1,
            ..no_hits("客服中心")
        };
        let r = answer(&a, 0);
        // Discord keeps its markdown and the whole link.
        let d = r.embeds[0].description.as_deref().unwrap();
        assert!(d.contains("**客服中心**") && d.contains(":~:text="), "{d}");
        // Piped: no markup at all.
        let plain = to_text(&r);
        assert!(plain.contains("> 客服中心很重要。"), "{plain}");
        assert!(!plain.contains("**") && !plain.contains('\x1b'), "{plain}");
        assert!(!plain.contains("](") && !plain.contains(":~:"), "{plain}");
        let lines: Vec<&str> = plain.lines().collect();
        assert!(lines.contains(&"查看原文 · 第 3 輪"), "{plain}");
        assert!(lines.contains(&"http://x/t/t#turn-12-p5"), "{plain}");
        // A terminal: bold by ANSI, switched off after the word.
        let tty = render_text(&r, &TextStyle::cli().with_ansi(true));
        assert!(tty.contains("> \x1b[1m客服中心\x1b[22m很重要。"), "{tty:?}");
        // Escapes the transcript might hold never reach the terminal.
        let evil = Reply {
            content: Some("a\x1b[31mb".into()),
            ..Reply::default()
        };
        assert_eq!(to_text(&evil), "a [31mb\n");
    }

    #[test]
    fn tips_name_the_commands_of_the_face_that_shows_them() {
        let r = answer(&no_hits("今天天氣怎麼樣?"), 0);
        let cli = to_text(&r);
        assert!(cli.contains("forumbot speaker"), "{cli}");
        assert!(!cli.contains("/speaker") && !cli.contains('`'), "{cli}");
        let console = to_console_text(&r);
        assert!(
            console.contains("/speaker") && !console.contains('`'),
            "{console}"
        );
        // Paging: the command line keeps the limit it was given.
        let more = Reply {
            more: Some(More { offset: 5 }),
            ..Reply::default()
        };
        let style = TextStyle {
            face: TextFace::Cli { limit: Some(2) },
            ansi: false,
        };
        assert_eq!(render_text(&more, &style), "(more: --offset 5 --limit 2)\n");
        assert_eq!(to_text(&more), "(more: --offset 5)\n");
    }

    #[test]
    fn every_later_page_says_which_quotes_it_shows() {
        let page = |offset: usize, n: usize, total: usize| {
            let a = Answer {
                hits: (0..n).map(|_| hit("一段話。", vec![])).collect(),
                total,
                ..no_hits("客服")
            };
            answer(&a, offset)
                .embeds
                .last()
                .unwrap()
                .footer
                .clone()
                .unwrap()
        };
        assert_eq!(page(0, 3, 3), "共 3 段 · 逐字引用 · verbatim quotes");
        assert!(
            page(0, 3, 14).starts_with("第 1–3 段,共 14 段"),
            "{}",
            page(0, 3, 14)
        );
        assert!(
            page(12, 2, 14).starts_with("第 13–14 段,共 14 段"),
            "{}",
            page(12, 2, 14)
        );
        assert!(
            page(3, 1, 4).starts_with("第 4 段,共 4 段"),
            "{}",
            page(3, 1, 4)
        );
    }

    #[test]
    fn a_page_past_the_last_quote_says_so_not_that_nothing_answers() {
        let a = Answer {
            total: 3,
            ..no_hits("客服中心")
        };
        let text = to_text(&answer(&a, 3));
        assert!(text.contains("No more quotes"), "{text}");
        assert!(text.contains("第 1–3 段"), "{text}");
        assert!(!text.contains("do not cover"), "{text}");
    }

    #[test]
    fn the_introduction_has_the_name_the_page_gives_it() {
        let mut h = hit("論壇在北京舉行。", vec![]);
        h.speaker = None;
        h.role = None;
        h.turn = 0;
        let a = Answer {
            hits: vec![h],
            total: 1,
            ..no_hits("論壇")
        };
        let text = to_text(&answer(&a, 0));
        assert!(
            text.contains(&format!("[{INTRODUCTION} · Introduction]")),
            "{text}"
        );
        assert!(
            text.contains(&format!("查看原文 · {INTRODUCTION}")),
            "{text}"
        );
        assert!(!text.contains("導言"), "{text}");
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
