//! `reply::Reply` → serenity/poise builders, and the "more" buttons.
//!
//! [`crate::reply`] already keeps every length within Discord's limits, so
//! this is a field-by-field copy. Every message built here carries an empty
//! `allowed_mentions`: a question can hold `@everyone` and a transcript can
//! hold anything, and the bot must never ping.
//!
//! Paging buttons carry `more:{asker}:{key}:{offset}` as their `custom_id`:
//! the asker's user id (only they may page), the [`super::pages`] key of the
//! question, and the offset of the page the button opens.

use super::pictures::Png;
use crate::reply::{self, More, Reply};
use poise::CreateReply;
use serenity::builder::{
    CreateActionRow, CreateAllowedMentions, CreateAttachment, CreateButton, CreateEmbed,
    CreateEmbedAuthor, CreateEmbedFooter, CreateInteractionResponseMessage, CreateMessage,
};
use serenity::model::application::ButtonStyle;

/// Lets nobody be pinged: no `@everyone`/`@here`, roles, users or the
/// author of a replied-to message.
pub fn no_pings() -> CreateAllowedMentions {
    CreateAllowedMentions::new().replied_user(false)
}

pub fn embed(e: &reply::Embed) -> CreateEmbed {
    let mut out = CreateEmbed::new();
    if let Some(t) = &e.title {
        out = out.title(t);
    }
    if let Some(u) = &e.url {
        out = out.url(u);
    }
    if let Some(a) = &e.author {
        out = out.author(CreateEmbedAuthor::new(a));
    }
    if let Some(d) = &e.description {
        out = out.description(d);
    }
    for f in &e.fields {
        out = out.field(&f.name, &f.value, f.inline);
    }
    if let Some(f) = &e.footer {
        out = out.footer(CreateEmbedFooter::new(f));
    }
    if let Some(c) = e.color {
        out = out.colour(c);
    }
    out
}

pub fn embeds(r: &Reply) -> Vec<CreateEmbed> {
    r.embeds.iter().map(embed).collect()
}

/// A reply to a slash command (initial response or follow-up).
pub fn create_reply(r: &Reply, components: Vec<CreateActionRow>) -> CreateReply {
    create_reply_with_files(r, components, &[])
}

/// As [`create_reply`], with the pictures rendered for it attached, each
/// the image of the embed it illustrates.
pub fn create_reply_with_files(
    r: &Reply,
    components: Vec<CreateActionRow>,
    files: &[Png],
) -> CreateReply {
    let mut out = CreateReply::default()
        .ephemeral(r.ephemeral)
        .allowed_mentions(no_pings())
        .components(components);
    if let Some(c) = &r.content {
        out = out.content(c);
    }
    for (i, e) in r.embeds.iter().enumerate() {
        let mut e = embed(e);
        if let Some(f) = files.iter().find(|f| f.embed == i) {
            e = e.image(format!("attachment://{}", f.name));
        }
        out = out.embed(e);
    }
    for f in files {
        out = out.attachment(CreateAttachment::bytes(f.bytes.to_vec(), f.name.clone()));
    }
    out
}

/// The calls every serenity message builder takes the same way: no pings,
/// the embeds, the buttons, and the text when there is one.
macro_rules! message {
    ($builder:expr, $r:expr, $components:expr) => {{
        let out = $builder
            .allowed_mentions(no_pings())
            .embeds(embeds($r))
            .components($components);
        match &$r.content {
            Some(c) => out.content(c),
            None => out,
        }
    }};
}

/// A reply to a component interaction (a new message or an update).
pub fn interaction_message(
    r: &Reply,
    components: Vec<CreateActionRow>,
) -> CreateInteractionResponseMessage {
    message!(
        CreateInteractionResponseMessage::new().ephemeral(r.ephemeral),
        r,
        components
    )
}

/// A channel message (answers to mentions). Ephemeral does not exist there.
pub fn channel_message(r: &Reply, components: Vec<CreateActionRow>) -> CreateMessage {
    message!(CreateMessage::new(), r, components)
}

/// What a paging button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageButton {
    /// The user who asked; nobody else may page.
    pub owner: u64,
    /// The question's key in [`super::pages::PageStore`].
    pub key: u64,
    /// Offset of the page to show.
    pub offset: usize,
}

const PREFIX: &str = "more";

impl PageButton {
    pub fn custom_id(&self) -> String {
        format!("{PREFIX}:{}:{:x}:{}", self.owner, self.key, self.offset)
    }

    /// Reads a `custom_id`; `None` if it is not one of ours.
    pub fn parse(custom_id: &str) -> Option<PageButton> {
        let mut parts = custom_id.split(':');
        if parts.next()? != PREFIX {
            return None;
        }
        let owner = parts.next()?.parse().ok()?;
        let key = u64::from_str_radix(parts.next()?, 16).ok()?;
        let offset = parts.next()?.parse().ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some(PageButton { owner, key, offset })
    }
}

/// Buttons under a page of hits shown at `offset` with pages of `limit`:
/// back (when not on the first page) and more (when `more` is set). Empty
/// when there is nowhere to go, which also removes old buttons on update.
pub fn pager(
    owner: u64,
    key: u64,
    offset: usize,
    limit: usize,
    more: Option<&More>,
) -> Vec<CreateActionRow> {
    let mut buttons = Vec::new();
    if offset > 0 {
        let back = PageButton {
            owner,
            key,
            offset: offset.saturating_sub(limit.max(1)),
        };
        buttons.push(
            CreateButton::new(back.custom_id())
                .label("◀ 上一頁 · Back")
                .style(ButtonStyle::Secondary),
        );
    }
    if let Some(m) = more {
        let next = PageButton {
            owner,
            key,
            offset: m.offset,
        };
        buttons.push(
            CreateButton::new(next.custom_id())
                .label("更多 · More ▶")
                .style(ButtonStyle::Primary),
        );
    }
    if buttons.is_empty() {
        Vec::new()
    } else {
        vec![CreateActionRow::Buttons(buttons)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn custom_ids_round_trip_and_fit() {
        let b = PageButton {
            owner: u64::MAX,
            key: u64::MAX,
            offset: 123_456,
        };
        let id = b.custom_id();
        assert!(id.len() <= 100, "{id}");
        assert_eq!(PageButton::parse(&id), Some(b));
        for bad in [
            "",
            "more",
            "more:1:2",
            "more:x:2:3",
            "more:1:2:3:4",
            "less:1:2:3",
        ] {
            assert_eq!(PageButton::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_builder_pings_nobody() {
        let r = reply::help();
        let check = |v: Value| {
            let am = &v["allowed_mentions"];
            assert_eq!(am["parse"], json!([]), "{v}");
            assert_eq!(am["users"], json!([]), "{v}");
            assert_eq!(am["roles"], json!([]), "{v}");
            assert_eq!(am["replied_user"], json!(false), "{v}");
        };
        check(serde_json::to_value(interaction_message(&r, vec![])).unwrap());
        check(serde_json::to_value(channel_message(&r, vec![])).unwrap());
        let embed = serde_json::to_value(embed(&r.embeds[0])).unwrap();
        assert_eq!(embed["title"], json!(r.embeds[0].title.as_deref().unwrap()));
    }

    #[test]
    fn pager_offers_back_and_more() {
        let more = More { offset: 6 };
        assert!(pager(1, 2, 0, 3, None).is_empty());
        let row = serde_json::to_value(&pager(1, 2, 3, 3, Some(&more))[0]).unwrap();
        let ids: Vec<&str> = row["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["custom_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["more:1:2:0", "more:1:2:6"]);
    }
}
