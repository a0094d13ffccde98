//! The slash commands. Each is thin: check who may do it and how often,
//! compute the [`Reply`] with [`crate::app`] (off the async threads when it
//! touches the index), and send it with [`super::convert`].
//!
//! What each command is called and says about itself comes from
//! [`app::COMMANDS`], the list `/help` shows too: [`all`] sets every
//! registered description from it. zh-TW and zh-CN localisations sit beside
//! each command. Names stay ASCII so they are typed the same in every locale.

use super::{convert, download, permissions, pictures::Png, ratelimit, Context, Data, Error};
use crate::app;
use crate::error::Failure;
use crate::ingest::Upload;
use crate::reply::{self, truncate, Reply};
use crate::search::Question;
use serenity::all::{Attachment, AutocompleteChoice, CreateAutocompleteResponse};
use std::time::{Duration, Instant};

/// How long a question may take before the bot defers (Discord allows 3 s
/// for the first response; the rest is margin for the network).
const ANSWER_BEFORE_DEFER: Duration = Duration::from_millis(1500);
/// Largest `limit` people may ask for on Discord (five embeds read well).
pub const MAX_LIMIT: u8 = 5;

/// Every command the bot registers, described as [`app::COMMANDS`] says.
pub fn all() -> Vec<poise::Command<Data, Error>> {
    let mut commands = vec![ask(), speaker(), transcripts(), reindex(), remove(), help()];
    for c in &mut commands {
        if let Some(doc) = app::command(&c.name) {
            c.description = Some(doc.description.into());
            c.help_text = None;
        }
    }
    commands
}

/// Sends `r` with no buttons.
async fn send(ctx: Context<'_>, r: &Reply) -> Result<(), Error> {
    ctx.send(convert::create_reply(r, Vec::new())).await?;
    Ok(())
}

/// Speakers matching what was typed, in either script, by alias or pinyin.
async fn complete_speaker(ctx: Context<'_>, partial: &str) -> CreateAutocompleteResponse {
    let loaded = ctx.data().engine.snapshot();
    let choices = loaded
        .speakers
        .suggest(partial, 25)
        .into_iter()
        .map(|i| {
            let e = &loaded.speakers.entries[i];
            let label = match e.role() {
                Some(role) => format!("{} · {role}", e.name),
                None => e.name.clone(),
            };
            // Choice names and values are limited to 100 characters.
            AutocompleteChoice::new(truncate(&label, 100), truncate(&e.name, 100))
        })
        .collect();
    CreateAutocompleteResponse::new().set_choices(choices)
}

/// Transcripts matching what was typed: id, title words, date or place.
async fn complete_transcript(ctx: Context<'_>, partial: &str) -> CreateAutocompleteResponse {
    let loaded = ctx.data().engine.snapshot();
    let choices = loaded
        .forums
        .suggest(partial, 25)
        .into_iter()
        .map(|i| {
            // Choice names and values are limited to 100 characters; ids
            // are short.
            AutocompleteChoice::new(
                truncate(loaded.forums.label(i), 100),
                truncate(loaded.forums.id(i), 100),
            )
        })
        .collect();
    CreateAutocompleteResponse::new().set_choices(choices)
}

/// Computes a reply off the async threads and renders its pictures, in
/// time for Discord's 3 s or after deferring (then the reply is public).
async fn with_pictures(
    ctx: Context<'_>,
    work: impl FnOnce() -> Reply + Send + 'static,
) -> Result<(Reply, Vec<Png>), Error> {
    let pictures = ctx.data().pictures.clone();
    let job = tokio::task::spawn_blocking(move || {
        let mut r = work();
        let files = pictures.render(&mut r);
        (r, files)
    });
    tokio::pin!(job);
    Ok(
        match tokio::time::timeout(ANSWER_BEFORE_DEFER, &mut job).await {
            Ok(done) => done?,
            Err(_) => {
                ctx.defer().await?;
                job.await?
            }
        },
    )
}

// [`app::ask`] within the rate limit, deferring when it is slow, with
// "more" buttons when there is a next page.
/// Described by [`app::COMMANDS`].
#[poise::command(
    slash_command,
    description_localized("zh-TW", "詢問論壇內容;回答一律逐字引用逐字稿原文。"),
    description_localized("zh-CN", "询问论坛内容;回答一律逐字引用逐字稿原文。")
)]
pub async fn ask(
    ctx: Context<'_>,
    #[description = "Your question, e.g. 郭慶怎麼看人才?"]
    #[description_localized("zh-TW", "你的問題,例如:郭慶怎麼看人才?")]
    #[description_localized("zh-CN", "你的问题,例如:郭庆怎么看人才?")]
    #[max_length = 300]
    question: String,
    #[description = "Only quotes of this speaker"]
    #[description_localized("zh-TW", "只引用這位講者的發言")]
    #[description_localized("zh-CN", "只引用这位讲者的发言")]
    #[autocomplete = "complete_speaker"]
    speaker: Option<String>,
    #[description = "Only quotes of this transcript (title, date, place or id)"]
    #[description_localized("zh-TW", "只引用這份逐字稿(標題、日期、地點或 id)")]
    #[description_localized("zh-CN", "只引用这份逐字稿(标题、日期、地点或 id)")]
    #[autocomplete = "complete_transcript"]
    transcript: Option<String>,
    #[description = "How many quotes (1-5)"]
    #[description_localized("zh-TW", "引用幾段(1–5)")]
    #[description_localized("zh-CN", "引用几段(1–5)")]
    #[min = 1]
    #[max = 5]
    limit: Option<u8>,
) -> Result<(), Error> {
    let data = ctx.data();
    let asker = ctx.author().id.get();
    if let Err(wait) = data.limiter.check(asker, Instant::now()) {
        tracing::debug!(user = asker, "rate limited");
        return send(ctx, &ratelimit::rate_limited(wait)).await;
    }
    // An unknown or ambiguous transcript is answered at once, privately,
    // with the ones to pick from.
    let transcripts = match app::transcript_ids(&data.engine, transcript.as_deref()) {
        Ok(ids) => ids,
        Err(f) => return send(ctx, &app::failure(f, "naming a transcript")).await,
    };
    let q = Question {
        text: question,
        speaker,
        limit: limit.map_or(data.default_limit, |l| l.clamp(1, MAX_LIMIT) as usize),
        offset: 0,
        transcripts,
    };
    tracing::debug!(user = asker, "question");
    let answering = data.answer(asker, q, None);
    tokio::pin!(answering);
    let (r, buttons) = match tokio::time::timeout(ANSWER_BEFORE_DEFER, &mut answering).await {
        Ok(answered) => answered,
        Err(_) => {
            // Slow (a loaded machine): acknowledge now, follow up later.
            ctx.defer().await?;
            answering.await
        }
    };
    ctx.send(convert::create_reply(&r, buttons)).await?;
    Ok(())
}

// [`app::speaker`] within the rate limit questions use (a summary costs
// more than a question the first time); an unknown name is answered at once.
/// Described by [`app::COMMANDS`].
#[poise::command(
    slash_command,
    description_localized("zh-TW", "講者摘要:身分、發言輪數、關鍵詞與代表性引文。"),
    description_localized("zh-CN", "讲者摘要:身份、发言轮数、关键词与代表性引文。")
)]
pub async fn speaker(
    ctx: Context<'_>,
    #[description = "Name, alias or pinyin"]
    #[description_localized("zh-TW", "姓名、別名或拼音")]
    #[description_localized("zh-CN", "姓名、别名或拼音")]
    #[autocomplete = "complete_speaker"]
    name: String,
) -> Result<(), Error> {
    let data = ctx.data();
    let asker = ctx.author().id.get();
    if let Err(wait) = data.limiter.check(asker, Instant::now()) {
        tracing::debug!(user = asker, "rate limited");
        return send(ctx, &ratelimit::rate_limited(wait)).await;
    }
    let engine = data.engine.clone();
    // Unknown names are answered at once and privately; a deferred answer
    // would be public.
    if !app::knows_speaker(&engine, &name) {
        return send(ctx, &app::speaker(&engine, &name)).await;
    }
    ctx.defer().await?;
    let pictures = ctx.data().pictures.clone();
    let (r, files) = tokio::task::spawn_blocking(move || {
        let mut r = app::speaker(&engine, &name);
        let files = pictures.render(&mut r);
        (r, files)
    })
    .await?;
    ctx.send(convert::create_reply_with_files(&r, Vec::new(), &files))
        .await?;
    Ok(())
}

/// Described by [`app::COMMANDS`].
#[poise::command(
    slash_command,
    description_localized("zh-TW", "已收錄的逐字稿:標題、日期、講者、發言輪數與連結。"),
    description_localized("zh-CN", "已收录的逐字稿:标题、日期、讲者、发言轮数与链接。")
)]
pub async fn transcripts(
    ctx: Context<'_>,
    #[description = "One transcript: who spoke how much (title, date, place or id)"]
    #[description_localized("zh-TW", "單看一份逐字稿:誰說了多少(標題、日期、地點或 id)")]
    #[description_localized("zh-CN", "单看一份逐字稿:谁说了多少(标题、日期、地点或 id)")]
    #[autocomplete = "complete_transcript"]
    transcript: Option<String>,
) -> Result<(), Error> {
    let engine = ctx.data().engine.clone();
    let (r, files) = with_pictures(ctx, move || match transcript {
        None => app::transcripts(&engine),
        Some(name) => app::transcript(&engine, &name),
    })
    .await?;
    ctx.send(convert::create_reply_with_files(&r, Vec::new(), &files))
        .await?;
    Ok(())
}

// Moderators only: downloads the attachments within `max_upload_bytes`,
// then [`app::reindex`].
/// Described by [`app::COMMANDS`].
#[poise::command(
    slash_command,
    default_member_permissions = "MANAGE_GUILD",
    description_localized("zh-TW", "版主:重建索引,或上傳新的逐字稿(UTF-8 文字檔)。"),
    description_localized("zh-CN", "版主:重建索引,或上传新的逐字稿(UTF-8 文本文件)。")
)]
pub async fn reindex(
    ctx: Context<'_>,
    #[description = "A transcript to add (UTF-8 .txt)"]
    #[description_localized("zh-TW", "要加入的逐字稿(UTF-8 .txt)")]
    #[description_localized("zh-CN", "要加入的逐字稿(UTF-8 .txt)")]
    file: Option<Attachment>,
    #[description = "Its metadata sidecar (.toml), optional"]
    #[description_localized("zh-TW", "逐字稿的中繼資料(.toml),可省略")]
    #[description_localized("zh-CN", "逐字稿的元数据(.toml),可省略")]
    sidecar: Option<Attachment>,
) -> Result<(), Error> {
    let data = ctx.data();
    let author = ctx.author();
    let who = format!("{} ({})", author.name, author.id);
    let member = match ctx {
        poise::Context::Application(actx) => actx.interaction.member.as_deref(),
        poise::Context::Prefix(_) => None,
    };
    if !permissions::member_is_moderator(member, &data.moderator_role_ids) {
        tracing::info!(who, "refused /reindex: not a moderator");
        return send(ctx, &permissions::not_a_moderator()).await;
    }
    if file.is_none() && sidecar.is_some() {
        return send(
            ctx,
            &reply::user_error(
                "只有中繼資料,沒有逐字稿:請同時附上 file。\nA sidecar needs its transcript: attach the transcript as `file` too.",
            ),
        )
        .await;
    }
    // Downloading and indexing take a while; Discord wants an answer in 3 s.
    ctx.defer_ephemeral().await?;
    let max = data.max_upload_bytes;
    let upload = match &file {
        None => None,
        Some(file) => {
            let fetched = match download::attachment(&data.http, file, max).await {
                Ok(bytes) => match &sidecar {
                    None => Ok((bytes, None)),
                    Some(s) => download::attachment(&data.http, s, max)
                        .await
                        .map(|side| (bytes, Some(side))),
                },
                Err(e) => Err(e),
            };
            match fetched {
                Ok((bytes, sidecar)) => Some(Upload {
                    filename: file.filename.clone(),
                    bytes,
                    sidecar,
                }),
                Err(e) => match Failure::from(e) {
                    Failure::Internal(e) => return Err(e),
                    f => {
                        tracing::info!(who, file = %file.filename, reason = %f, "upload refused");
                        let text = f.user_text().unwrap_or_default();
                        return send(ctx, &reply::user_error(&text)).await;
                    }
                },
            }
        }
    };
    tracing::info!(
        who,
        file = file.as_ref().map(|f| f.filename.as_str()),
        "reindex requested"
    );
    let engine = data.engine.clone();
    let r = tokio::task::spawn_blocking(move || app::reindex(&engine, &who, upload, max)).await?;
    send(ctx, &r).await
}

// Moderators only, as /reindex: [`app::remove`].
/// Described by [`app::COMMANDS`].
#[poise::command(
    slash_command,
    default_member_permissions = "MANAGE_GUILD",
    description_localized("zh-TW", "版主:移除一份逐字稿,或復原它上一次的變更。"),
    description_localized("zh-CN", "版主:移除一份逐字稿,或复原它上一次的变更。")
)]
pub async fn remove(
    ctx: Context<'_>,
    #[description = "The transcript's id (/transcripts lists them)"]
    #[description_localized("zh-TW", "逐字稿的 id(/transcripts 會列出)")]
    #[description_localized("zh-CN", "逐字稿的 id(/transcripts 会列出)")]
    #[autocomplete = "complete_transcript"]
    id: String,
    #[description = "Undo its last change instead: the version before comes back"]
    #[description_localized("zh-TW", "改為復原上一次的變更:換回先前的版本")]
    #[description_localized("zh-CN", "改为复原上一次的变更:换回先前的版本")]
    undo: Option<bool>,
) -> Result<(), Error> {
    let data = ctx.data();
    let author = ctx.author();
    let who = format!("{} ({})", author.name, author.id);
    let member = match ctx {
        poise::Context::Application(actx) => actx.interaction.member.as_deref(),
        poise::Context::Prefix(_) => None,
    };
    if !permissions::member_is_moderator(member, &data.moderator_role_ids) {
        tracing::info!(who, "refused /remove: not a moderator");
        return send(ctx, &permissions::not_a_moderator_to_remove()).await;
    }
    ctx.defer_ephemeral().await?;
    let engine = data.engine.clone();
    let undo = undo.unwrap_or(false);
    tracing::info!(who, id, undo, "removal requested");
    let r = tokio::task::spawn_blocking(move || app::remove(&engine, &who, &id, undo)).await?;
    send(ctx, &r).await
}

/// Described by [`app::COMMANDS`].
#[poise::command(
    slash_command,
    description_localized("zh-TW", "使用說明:怎麼問、有哪些指令。"),
    description_localized("zh-CN", "使用说明:怎么问、有哪些指令。")
)]
pub async fn help(ctx: Context<'_>) -> Result<(), Error> {
    send(ctx, &app::help()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_exactly_the_commands_help_lists_with_their_descriptions() {
        let registered = all();
        let names: Vec<&str> = registered.iter().map(|c| c.name.as_ref()).collect();
        let listed: Vec<&str> = app::COMMANDS.iter().map(|c| c.name).collect();
        assert_eq!(names, listed);
        for (c, doc) in registered.iter().zip(app::COMMANDS) {
            assert_eq!(
                c.description.as_deref(),
                Some(doc.description),
                "/{}",
                c.name
            );
            assert!(doc.description.chars().count() <= 100, "/{}", c.name);
            // Every command speaks both Chinese locales too.
            let locales: Vec<&str> = c
                .description_localizations
                .iter()
                .map(|(k, _)| k.as_ref())
                .collect();
            assert!(
                locales.contains(&"zh-TW") && locales.contains(&"zh-CN"),
                "/{}",
                c.name
            );
        }
    }
}
