//! What each command answers, as a [`Reply`], for every front end: the
//! Discord commands convert these replies into embeds and the local console
//! prints them with [`reply::to_text`], so both show the same thing.
//!
//! Errors the user caused come back as `Ok(reply::user_error(..))`, to be
//! shown to them; only faults of ours are `Err`, for the caller to report
//! with [`internal`] (log with cause chain, apologise with an error id).
//! Functions that touch the index block: call them from a blocking thread
//! in async code.

use crate::error::{Failure, Kind};
use crate::index::BuildReport;
use crate::ingest::{self, Upload};
use crate::reply::{self, limits, truncate, Field, Reply};
use crate::search::{Engine, Question};
use crate::summary;
use std::collections::HashSet;
use std::time::Duration;

/// Answers a question (one page of hits, from `q.offset`).
pub fn ask(engine: &Engine, q: &Question) -> anyhow::Result<Reply> {
    match engine.ask(q) {
        Ok(answer) => {
            // Speakers to suggest only when nothing answers (see reply::answer_with_speakers).
            let names = if answer.hits.is_empty() {
                engine.snapshot().speakers.names()
            } else {
                Vec::new()
            };
            Ok(reply::answer_with_speakers(&answer, q.offset, &names))
        }
        Err(e) => shown(Failure::from(e).context("answering a question")),
    }
}

/// A user's or a busy failure as the reply that says so; ours stays `Err`.
fn shown(f: Failure) -> anyhow::Result<Reply> {
    match f {
        Failure::Internal(e) => Err(e),
        f => Ok(reply::user_error(&f.user_text().unwrap_or_default())),
    }
}

/// Whether `name` names a known speaker (cheap: no summary is computed).
pub fn knows_speaker(engine: &Engine, name: &str) -> bool {
    !engine.snapshot().speakers.resolve(name).is_empty()
}

/// The summary of one speaker.
pub fn speaker(engine: &Engine, name: &str) -> anyhow::Result<Reply> {
    let loaded = engine.snapshot();
    match summary::speaker(&loaded, engine.options(), name) {
        Ok(s) => Ok(reply::summary(&s)),
        Err(e) => shown(Failure::from(e).context("summarising a speaker")),
    }
}

/// What is indexed.
pub fn transcripts(engine: &Engine) -> Reply {
    let loaded = engine.snapshot();
    reply::transcripts(
        &loaded.generation.catalog.transcripts,
        &engine.options().public_url,
    )
}

/// What the bot does and how to ask: the overview, then each command's
/// own doc comment (so the code documents what `/help` says).
pub fn help() -> Reply {
    let mut r = reply::help();
    let fields = super::commands::all().into_iter().map(|c| {
        // Doc comments wrap at 80 columns; Discord wraps by itself.
        let text = [c.description.as_deref(), c.help_text.as_deref()]
            .into_iter()
            .flatten()
            .flat_map(|t| t.split("\n\n"))
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
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

/// The answer to somebody asking too fast.
pub fn rate_limited(wait: Duration) -> Reply {
    let n = super::ratelimit::wait_seconds(wait);
    reply::user_error(&format!(
        "問得太快了,請 {n} 秒後再試。\nYou are asking too fast: try again in {n} s."
    ))
}

/// The answer to somebody who may not reindex.
pub fn not_a_moderator() -> Reply {
    reply::user_error(
        "只有版主可以重建索引(需要「管理伺服器」權限或版主身分組)。\n\
         Only moderators can reindex (Manage Server permission or a moderator role). \
         Ask a moderator to upload the transcript.",
    )
}

/// Rebuilds from the transcripts directory (`upload` is `None`) or adds an
/// uploaded transcript, and reports what is indexed now or exactly why the
/// upload was refused. `who` names the person for the log.
pub fn reindex(
    engine: &Engine,
    who: &str,
    upload: Option<Upload>,
    max_bytes: u64,
) -> anyhow::Result<Reply> {
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
                Ok(report_reply("已重建索引 · Reindexed", &report, &before))
            }
            Err(e) => {
                let f = Failure::from(e);
                if f.kind() != Kind::Internal {
                    tracing::info!(who, reason = %f, "reindex refused");
                }
                shown(f.context("reindexing"))
            }
        },
        Some(upload) => {
            let file = upload.filename.clone();
            let bytes = upload.bytes.len();
            match ingest::add(engine, &upload, max_bytes, &quiet) {
                Ok(report) => {
                    let added: Vec<&str> = report
                        .transcripts
                        .iter()
                        .filter(|t| !before.contains(&t.id))
                        .map(|t| t.id.as_str())
                        .collect();
                    tracing::info!(
                        who,
                        file,
                        bytes,
                        added = ?added,
                        generation = %report.generation,
                        "indexed an uploaded transcript"
                    );
                    Ok(report_reply(
                        "已加入逐字稿 · Transcript added",
                        &report,
                        &before,
                    ))
                }
                Err(e) => match Failure::from(e) {
                    Failure::User { message, hint } => {
                        tracing::info!(who, file, bytes, reason = %message, "upload refused");
                        Ok(refused(&file, &message, hint))
                    }
                    f => shown(f.context(format!("indexing the upload {file}"))),
                },
            }
        }
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
    let fields: Vec<Field> = new
        .iter()
        .map(|t| (true, *t))
        .chain(old.iter().map(|t| (false, *t)))
        .take(REPORT_FIELDS)
        .map(|(is_new, t)| {
            let turns = t
                .turns_per_speaker
                .iter()
                .map(|(n, c)| format!("{n} {c}"))
                .collect::<Vec<_>>()
                .join("、");
            let name = if is_new {
                format!("新增 · New: {}", t.title)
            } else {
                t.title.clone()
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

    #[test]
    fn a_long_report_stays_within_discord_limits() {
        let report = BuildReport {
            generation: "gen-1".into(),
            transcripts: (0..40)
                .map(|i| TranscriptSummary {
                    id: format!("t{i}"),
                    title: "很長的標題".repeat(60),
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
    fn help_lists_every_command_with_its_doc_comment() {
        let r = help();
        let e = &r.embeds[0];
        let names: Vec<&str> = e.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["/ask", "/speaker", "/transcripts", "/reindex", "/help"]
        );
        assert!(e.fields[0]
            .value
            .contains("verbatim quote with its speaker"));
        let total = e.description.as_ref().unwrap().chars().count()
            + e.title.as_ref().unwrap().chars().count()
            + e.fields
                .iter()
                .map(|f| f.name.chars().count() + f.value.chars().count())
                .sum::<usize>();
        assert!(total <= limits::EMBEDS_TOTAL, "{total}");
    }

    #[test]
    fn rate_limit_says_when_to_try_again() {
        let r = rate_limited(Duration::from_millis(12_300));
        assert!(r.ephemeral);
        assert!(reply::to_text(&r).contains("try again in 13 s"));
    }
}
