//! The use cases every face shares (ask, more, speaker, transcripts,
//! reindex and upload, help), each answering with a [`Reply`]: the Discord
//! bot converts it into embeds and the console prints it with
//! [`reply::to_console_text`], so both show the same thing, and no face
//! imports another.
//!
//! Every use case answers with a reply, never an error: a failure is shown
//! the one way [`crate::error`] classifies it (the user's: the message and
//! its hint; busy: try again; ours: logged with its cause chain under an
//! error id, which the apology shows). Functions that touch the index
//! block: call them from a blocking thread in async code.

use crate::engine::Engine;
use crate::error::{Failure, Kind};
use crate::index::BuildReport;
use crate::ingest::{self, Upload};
use crate::reply::{self, limits, truncate, Field, Reply};
use crate::search::{Answer, Question};
use crate::settings::Settings;
use crate::summary;
use std::collections::HashSet;

/// What the use cases take from the settings, read in one place so no face
/// reads another face's section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Quotes per answer when the question names no limit (`search.default_limit`).
    pub default_limit: usize,
    /// Most quotes one may ask for (`search.max_limit`, at least 1).
    pub max_limit: usize,
    /// Largest transcript (and sidecar) an upload may add, on any face
    /// (the setting keeps its name, `discord.max_upload_bytes`).
    pub max_upload_bytes: u64,
}

impl Limits {
    pub fn new(settings: &Settings) -> Self {
        let max_limit = settings.search.max_limit.max(1);
        Limits {
            default_limit: settings.search.default_limit.clamp(1, max_limit),
            max_limit,
            max_upload_bytes: settings.discord.max_upload_bytes,
        }
    }
}

/// A command of the chat faces, as `/help` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandDoc {
    /// Typed after the `/`; ASCII, the same in every locale.
    pub name: &'static str,
    /// One line, at most 100 characters (Discord's limit for a description).
    pub description: &'static str,
    /// More on how to use it, for `/help`; may be empty.
    pub details: &'static str,
}

/// Every command, in the order `/help` lists them. Discord registers exactly
/// these, with these descriptions (its test checks that).
pub const COMMANDS: &[CommandDoc] = &[
    CommandDoc {
        name: "ask",
        description: "Ask about the forum; the answer quotes the transcripts word for word.",
        details: "Write the question in Traditional or Simplified Chinese (e.g. 郭慶怎麼看人才?); \
            name a speaker in it or pick one in `speaker`, and a forum (2018年那場論壇) or pick \
            one in `transcript` to search only there. Each answer is a verbatim quote with \
            its speaker and a link to the turn; \"More\" shows the next page.",
    },
    CommandDoc {
        name: "speaker",
        description: "A speaker's role, turns, keywords and key quotes, all from the transcripts.",
        details: "Type a name, alias or pinyin (郭慶, 郭總, Guo Qing); the suggestions list the \
            matching speakers.",
    },
    CommandDoc {
        name: "transcripts",
        description: "The transcripts the bot can quote: title, date, speakers, turns, link.",
        details: "With `transcript`, one of them: each speaker's share of the words and turns, \
            and a picture of who spoke how much and when.",
    },
    CommandDoc {
        name: "reindex",
        description: "Moderators: rebuild the index, or add an uploaded transcript (UTF-8 text).",
        details: "Without a file the index is rebuilt from the transcripts directory. With a file \
            (and optionally its TOML sidecar) the transcript is checked first and refused with \
            the line and reason if it is not valid; a refused file changes nothing. A file with \
            the id or title of an indexed transcript is its corrected version and replaces it.",
    },
    CommandDoc {
        name: "remove",
        description: "Moderators: remove a transcript, or undo the last change of one.",
        details:
            "Give the transcript's id (/transcripts lists them). It stops answering at once and \
            its pages go; until that transcript changes again it is kept, and `undo` brings it \
            back. `undo` after a corrected upload brings the version it replaced back instead.",
    },
    CommandDoc {
        name: "help",
        description: "How to ask, in Chinese and English.",
        details: "",
    },
];

/// The entry of `COMMANDS` called `name`.
pub fn command(name: &str) -> Option<&'static CommandDoc> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// Answers a question (one page of hits, from `q.offset`).
pub fn ask(engine: &Engine, q: &Question) -> Reply {
    match engine.ask(q) {
        Ok(a) => answer(engine, &a, q.offset),
        Err(e) => failure(e.into(), "answering a question"),
    }
}

/// The reply showing `answer`, a page from `offset`; the command line's
/// text output is this reply too.
pub fn answer(engine: &Engine, answer: &Answer, offset: usize) -> Reply {
    // Speakers to suggest only when nothing answers (see reply::answer_with_speakers).
    let names = if answer.hits.is_empty() {
        engine.snapshot().speakers.names()
    } else {
        Vec::new()
    };
    let mut r = reply::answer_with_speakers(answer, offset, &names);
    // Issue 22: which transcripts were searched, when not all.
    if !answer.transcripts.is_empty() {
        let loaded = engine.snapshot();
        let labels: Vec<String> = answer
            .transcripts
            .iter()
            .map(|id| {
                loaded
                    .generation
                    .catalog
                    .transcript(id)
                    .map_or_else(|| id.clone(), crate::forums::label)
            })
            .collect();
        reply::searched_in(&mut r, &labels);
    }
    r
}

/// The transcripts an option names, as the ids a [`Question`] takes: none
/// when nothing was given; refused (with the ones to pick from) when the
/// name fits no transcript or several.
pub fn transcript_ids(engine: &Engine, typed: Option<&str>) -> Result<Vec<String>, Failure> {
    let Some(typed) = typed.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(Vec::new());
    };
    let loaded = engine.snapshot();
    let i = loaded.forums.resolve(typed)?;
    Ok(vec![loaded.forums.id(i).to_owned()])
}

/// Pictures of the first transcripts of `/transcripts` at most (one
/// picture, a panel each: a list of many stays one attachment).
pub const PICTURED: usize = 4;

/// The question that shows the next page after `r` answered `q`, if there
/// is a next page: the one paging rule of every face.
pub fn more(q: &Question, r: &Reply) -> Option<Question> {
    r.more.as_ref().map(|m| Question {
        offset: m.offset,
        ..q.clone()
    })
}

/// Whether `name` names a known speaker (cheap: no summary is computed).
pub fn knows_speaker(engine: &Engine, name: &str) -> bool {
    !engine.snapshot().speakers.resolve(name).is_empty()
}

/// The summary of one speaker.
pub fn speaker(engine: &Engine, name: &str) -> Reply {
    let loaded = engine.snapshot();
    match summary::speaker(&loaded, engine.options(), name) {
        Ok(s) => {
            let mut r = reply::summary(&s);
            // Issue 22: who spoke how much where the speaker said most,
            // with the speaker picked out.
            let main = s
                .transcripts
                .iter()
                .max_by(|a, b| {
                    a.share
                        .total_cmp(&b.share)
                        .then(b.transcript.cmp(&a.transcript))
                })
                .map(|t| t.transcript.as_str());
            if let Some(p) = main.and_then(|id| participation(&loaded, id)) {
                r.pictures.push(reply::Picture {
                    embed: 0,
                    generation: loaded.generation.name.clone(),
                    participation: vec![p],
                    highlight: Some(s.speaker.clone()),
                });
            }
            r
        }
        Err(e) => failure(e.into(), "summarising a speaker"),
    }
}

/// Who spoke how much in transcript `id`; a failure to read it is logged
/// and the reply goes without its picture.
fn participation(
    loaded: &crate::engine::Loaded,
    id: &str,
) -> Option<std::sync::Arc<crate::forums::Participation>> {
    match loaded.forums.participation(&loaded.generation, id) {
        Ok(p) => p,
        Err(e) => {
            let error_id = uuid::Uuid::new_v4().to_string();
            tracing::error!(error_id = %error_id, transcript = id, "internal error: reading who spoke how much: {e:#}");
            None
        }
    }
}

/// What is indexed, with a picture of who spoke how much in the first
/// [`PICTURED`] transcripts listed.
pub fn transcripts(engine: &Engine) -> Reply {
    let loaded = engine.snapshot();
    let list = &loaded.generation.catalog.transcripts;
    let mut r = reply::transcripts(
        list,
        &engine.options().public_url,
        &loaded.semantic_status().to_string(),
    );
    let parts: Vec<_> = list
        .iter()
        .take(PICTURED)
        .filter_map(|t| participation(&loaded, &t.meta.id))
        .collect();
    if !parts.is_empty() {
        r.pictures.push(reply::Picture {
            embed: 0,
            generation: loaded.generation.name.clone(),
            participation: parts,
            highlight: None,
        });
    }
    r
}

/// One transcript, named by id, title words, date or place: its speakers'
/// shares of the words and turns, its exchanges, and its picture.
pub fn transcript(engine: &Engine, name: &str) -> Reply {
    let loaded = engine.snapshot();
    let i = match loaded.forums.resolve(name) {
        Ok(i) => i,
        Err(e) => return failure(e.into(), "naming a transcript"),
    };
    let id = loaded.forums.id(i);
    let (Some(info), Some(p)) = (
        loaded.generation.catalog.transcript(id),
        participation(&loaded, id),
    ) else {
        return internal(
            &anyhow::anyhow!("transcript {id} has no participation"),
            "showing a transcript",
        );
    };
    reply::transcript(
        info,
        p,
        &loaded.generation.name,
        &engine.options().public_url,
    )
}

/// What the bot does and how to ask: the overview, then each command of
/// [`COMMANDS`] with its description and details.
pub fn help() -> Reply {
    let mut r = reply::help();
    let fields = COMMANDS.iter().map(|c| {
        let text = [c.description, c.details]
            .into_iter()
            .filter(|t| !t.is_empty())
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\n");
        Field {
            name: format!("/{}", c.name),
            value: truncate(&text, HELP_FIELD),
            inline: false,
        }
    });
    if let Some(e) = r.embeds.first_mut() {
        e.fields.extend(fields);
    }
    r
}

/// Room per command in `/help`, so the whole stays within one message.
const HELP_FIELD: usize = 600;

/// A failure as the reply that shows it: the user's (with its hint) and
/// busy ones say what to do; ours is reported with [`internal`].
pub fn failure(f: Failure, during: &str) -> Reply {
    match f {
        Failure::Internal(e) => internal(&e, during),
        f => reply::user_error(&f.user_text().unwrap_or_default()),
    }
}

/// Rebuilds from the transcripts directory (`upload` is `None`) or adds an
/// uploaded transcript, and reports what is indexed now or exactly why the
/// upload was refused. `who` names the person for the log.
pub fn reindex(engine: &Engine, who: &str, upload: Option<Upload>, max_bytes: u64) -> Reply {
    let before: HashSet<String> = engine
        .snapshot()
        .generation
        .catalog
        .transcripts
        .iter()
        .map(|t| t.meta.id.clone())
        .collect();
    let quiet = |_| {};
    match upload {
        None => match engine.reindex(&quiet) {
            Ok(report) => {
                tracing::info!(
                    who,
                    generation = %report.generation,
                    transcripts = report.transcripts.len(),
                    passages = report.passages,
                    "reindexed the transcripts directory"
                );
                report_reply("已重建索引 · Reindexed", &report, &before)
            }
            Err(e) => {
                let f = Failure::from(e);
                if f.kind() != Kind::Internal {
                    tracing::info!(who, reason = %f, "reindex refused");
                }
                failure(f, "reindexing")
            }
        },
        Some(upload) => {
            let file = upload.filename.clone();
            let bytes = upload.bytes.len();
            match ingest::add(engine, &upload, max_bytes, &quiet) {
                Ok(added) => {
                    let report = &added.report;
                    let changed: Vec<&str> = report
                        .transcripts
                        .iter()
                        .filter(|t| !before.contains(&t.id))
                        .map(|t| t.id.as_str())
                        .chain(added.replaced.as_ref().map(|r| r.id.as_str()))
                        .collect();
                    tracing::info!(
                        who,
                        file,
                        bytes,
                        changed = ?changed,
                        replaced = added.replaced.as_ref().map(|r| format!("{} v{} -> v{}", r.id, r.from, r.to)),
                        generation = %report.generation,
                        "indexed an uploaded transcript"
                    );
                    match &added.replaced {
                        None => report_reply("已加入逐字稿 · Transcript added", report, &before),
                        Some(r) => {
                            let mut reply = report_reply_marking(
                                "已更新逐字稿 · Transcript replaced",
                                report,
                                &before,
                                Some(&r.id),
                            );
                            prepend(
                                &mut reply,
                                &format!(
                                    "「{title}」第 {to} 版取代了第 {from} 版;第 {from} 版保留到這份逐字稿下次變更,用 `/remove` `{id}` 加上 undo 可以換回。\n\
                                     {title:?} version {to} replaced version {from}, which is kept until this transcript changes again: `/remove` `{id}` with undo brings it back.",
                                    title = truncate(&r.title, 60),
                                    id = r.id,
                                    from = r.from,
                                    to = r.to,
                                ),
                            );
                            reply
                        }
                    }
                }
                Err(e) => match Failure::from(e) {
                    Failure::User { message, hint } => {
                        tracing::info!(who, file, bytes, reason = %message, "upload refused");
                        refused(&file, &message, hint)
                    }
                    f => failure(f, &format!("indexing the upload {file}")),
                },
            }
        }
    }
}

/// Removes the transcript `id`, or (`undo`) takes its last change back, and
/// reports what is indexed now or why not. `who` names the person for the log.
pub fn remove(engine: &Engine, who: &str, id: &str, undo: bool) -> Reply {
    let before: HashSet<String> = engine
        .snapshot()
        .generation
        .catalog
        .transcripts
        .iter()
        .map(|t| t.meta.id.clone())
        .collect();
    match ingest::remove(engine, id, undo, &|_| {}) {
        Ok(r) => {
            tracing::info!(
                who,
                id = %r.id,
                version = r.version,
                undo,
                generation = %r.report.generation,
                "{}",
                if undo { "undid the last change of a transcript" } else { "removed a transcript" }
            );
            let (title, text) = if undo {
                let kept = match r.kept {
                    Some(k) => format!(
                        "第 {k} 版改為保留,再用一次 undo 可以換回。\nVersion {k} is kept instead: undo again brings it back."
                    ),
                    None => String::new(),
                };
                (
                    "已復原逐字稿 · Transcript restored",
                    format!(
                        "「{title}」(`{id}`)恢復為第 {v} 版。\n{title:?} (`{id}`) is back at version {v}.\n{kept}",
                        title = truncate(&r.title, 60),
                        id = r.id,
                        v = r.version,
                    ),
                )
            } else {
                (
                    "已移除逐字稿 · Transcript removed",
                    format!(
                        "「{title}」(`{id}`,第 {v} 版)已移除,不再回答問題。保留到下次變更:用 `/remove` `{id}` 加上 undo 可以復原。\n\
                         {title:?} (`{id}`, version {v}) was removed and no longer answers. It is kept until this transcript changes again: `/remove` `{id}` with undo brings it back.",
                        title = truncate(&r.title, 60),
                        id = r.id,
                        v = r.version,
                    ),
                )
            };
            let mut reply = report_reply_marking(title, &r.report, &before, undo.then_some(id));
            prepend(&mut reply, text.trim_end());
            reply
        }
        Err(e) => match Failure::from(e) {
            Failure::User { message, hint } => {
                tracing::info!(who, id, undo, reason = %message, "removal refused");
                let mut text = format!("{id} 未變更 · {id} was not changed:\n{message}");
                if let Some(hint) = hint {
                    text.push_str("\n\n");
                    text.push_str(hint);
                }
                reply::user_error(&text)
            }
            f => failure(f, &format!("removing the transcript {id}")),
        },
    }
}

/// Puts `text` before the first embed's description.
fn prepend(reply: &mut Reply, text: &str) {
    if let Some(e) = reply.embeds.first_mut() {
        let body = e.description.take().unwrap_or_default();
        e.description = Some(truncate(
            &format!("{text}\n\n{body}"),
            limits::EMBED_DESCRIPTION,
        ));
    }
}

fn refused(file: &str, message: &str, hint: Option<&str>) -> Reply {
    let mut text = format!("{file} 未加入 · {file} was refused:\n{message}");
    if let Some(hint) = hint {
        text.push_str("\n\n");
        text.push_str(hint);
    }
    reply::user_error(&text)
}

/// Fields per transcript, newest first; sized so that even a long list
/// stays within the 6000 characters of one message.
const REPORT_FIELDS: usize = 15;
const REPORT_NAME: usize = 100;
const REPORT_VALUE: usize = 250;

/// What a build indexed: per transcript, the turns of each speaker. The
/// transcripts that were not indexed before come first, marked as new.
pub fn report_reply(title: &str, report: &BuildReport, before: &HashSet<String>) -> Reply {
    report_reply_marking(title, report, before, None)
}

/// [`report_reply`], with the transcript `updated` (a new version, or one
/// restored) first after the new ones, marked with its version.
fn report_reply_marking(
    title: &str,
    report: &BuildReport,
    before: &HashSet<String>,
    updated: Option<&str>,
) -> Reply {
    let body = format!(
        "{} 份逐字稿、{} 段,用時 {:.1} 秒。\n{} transcript(s), {} passages, {:.1} s (generation {}).",
        report.transcripts.len(),
        report.passages,
        report.elapsed.as_secs_f64(),
        report.transcripts.len(),
        report.passages,
        report.elapsed.as_secs_f64(),
        report.generation,
    );
    let mut r = reply::notice(title, &body);
    let (new, old): (Vec<_>, Vec<_>) = report
        .transcripts
        .iter()
        .partition(|t| !before.contains(&t.id));
    let (changed, old): (Vec<_>, Vec<_>) = old
        .into_iter()
        .partition(|t| Some(t.id.as_str()) == updated);
    let fields: Vec<Field> = new
        .iter()
        .map(|t| (Mark::New, *t))
        .chain(changed.iter().map(|t| (Mark::Updated, *t)))
        .chain(old.iter().map(|t| (Mark::Same, *t)))
        .take(REPORT_FIELDS)
        .map(|(mark, t)| {
            let turns = t
                .turns_per_speaker
                .iter()
                .map(|(n, c)| format!("{n} {c}"))
                .collect::<Vec<_>>()
                .join("、");
            let name = match mark {
                Mark::New => format!("新增 · New: {}", t.title),
                Mark::Updated => format!("更新 · Updated (v{}): {}", t.version, t.title),
                Mark::Same => t.title.clone(),
            };
            Field {
                name: truncate(&name, REPORT_NAME.min(limits::FIELD_NAME)),
                value: truncate(
                    &format!("`{}`\n發言輪數 · Turns: {turns}", t.id),
                    REPORT_VALUE.min(limits::FIELD_VALUE),
                ),
                inline: false,
            }
        })
        .collect();
    let hidden = report.transcripts.len().saturating_sub(fields.len());
    if let Some(e) = r.embeds.first_mut() {
        e.fields = fields;
        if hidden > 0 {
            e.footer = Some(format!("還有 {hidden} 份未列出 · {hidden} more not shown"));
        }
    }
    r
}

/// How a transcript of a build report is marked.
#[derive(Clone, Copy)]
enum Mark {
    New,
    Updated,
    Same,
}

/// Reports a fault of ours: logs it with its cause chain under a fresh
/// error id and returns the apology showing that id.
pub fn internal(error: &anyhow::Error, during: &str) -> Reply {
    let id = uuid::Uuid::new_v4().to_string();
    tracing::error!(error_id = %id, during, "internal error: {error:#}");
    reply::internal_error(&id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::TranscriptSummary;
    use std::time::Duration;

    #[test]
    fn the_next_page_starts_where_the_reply_says() {
        let q = Question {
            text: "客服".into(),
            speaker: Some("周伊麗".into()),
            limit: 2,
            offset: 0,
            transcripts: vec!["t".into()],
        };
        let mut r = Reply::default();
        assert!(more(&q, &r).is_none());
        r.more = Some(reply::More { offset: 2 });
        let next = more(&q, &r).unwrap();
        assert_eq!((next.offset, next.limit), (2, 2));
        assert_eq!((next.text, next.speaker), (q.text, q.speaker));
        assert_eq!(next.transcripts, q.transcripts);
    }

    #[test]
    fn failures_are_shown_by_their_class() {
        let user = failure(
            Failure::User {
                message: "bad".into(),
                hint: Some("fix it"),
            },
            "testing",
        );
        assert!(user.ephemeral);
        assert!(reply::to_text(&user).contains("bad\n\nfix it"));
        let ours = failure(anyhow::anyhow!("secret cause").into(), "testing");
        let text = reply::to_text(&ours);
        assert!(
            text.contains("error id") && !text.contains("secret cause"),
            "{text}"
        );
        assert_eq!(Failure::from(anyhow::anyhow!("x")).kind(), Kind::Internal);
    }

    #[test]
    fn a_long_report_stays_within_discord_limits() {
        let report = BuildReport {
            generation: "gen-1".into(),
            transcripts: (0..40)
                .map(|i| TranscriptSummary {
                    id: format!("t{i}"),
                    title: "很長的標題".repeat(60),
                    version: 1,
                    turns_per_speaker: (0..50).map(|s| (format!("講者{s}"), s)).collect(),
                })
                .collect(),
            passages: 1000,
            text_bytes: 1,
            elapsed: Duration::from_millis(1500),
        };
        let before: HashSet<String> = (1..40).map(|i| format!("t{i}")).collect();
        let r = report_reply("已加入逐字稿 · Transcript added", &report, &before);
        let e = &r.embeds[0];
        assert!(r.ephemeral);
        assert_eq!(e.fields.len(), REPORT_FIELDS);
        assert!(e.fields[0].name.starts_with("新增 · New"));
        assert!(e.fields[0].value.contains("`t0`"));
        let total: usize = [&e.title, &e.description, &e.footer]
            .iter()
            .map(|s| s.as_ref().map_or(0, |s| s.chars().count()))
            .sum::<usize>()
            + e.fields
                .iter()
                .map(|f| f.name.chars().count() + f.value.chars().count())
                .sum::<usize>();
        assert!(total <= limits::EMBEDS_TOTAL, "{total}");
        assert_eq!(
            e.footer.as_deref(),
            Some("還有 25 份未列出 · 25 more not shown")
        );
    }

    #[test]
    fn help_lists_every_command_with_its_description_and_details() {
        let r = help();
        let e = &r.embeds[0];
        let names: Vec<&str> = e.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "/ask",
                "/speaker",
                "/transcripts",
                "/reindex",
                "/remove",
                "/help"
            ]
        );
        assert_eq!(
            e.fields[0].value,
            "Ask about the forum; the answer quotes the transcripts word for word.\nWrite the question in Traditional or Simplified Chinese (e.g. 郭慶怎麼看人才?); name a speaker in it or pick one in `speaker`, and a forum (2018年那場論壇) or pick one in `transcript` to search only there. Each answer is a verbatim quote with its speaker and a link to the turn; \"More\" shows the next page."
        );
        assert_eq!(e.fields[5].value, "How to ask, in Chinese and English.");
        for c in COMMANDS {
            assert!(c.description.chars().count() <= 100, "{}", c.name);
            assert!(c.name.is_ascii() && !c.name.is_empty());
        }
        let total = e.description.as_ref().unwrap().chars().count()
            + e.title.as_ref().unwrap().chars().count()
            + e.fields
                .iter()
                .map(|f| f.name.chars().count() + f.value.chars().count())
                .sum::<usize>();
        assert!(total <= limits::EMBEDS_TOTAL, "{total}");
    }
}
