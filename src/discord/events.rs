//! Gateway events that are not slash commands: messages that mention the bot
//! (answered like `/ask`, as a reply to the message) and presses of the
//! "more" buttons (only the person who asked may page).

use super::convert::{self, PageButton};
use super::{ratelimit, Data, Error};
use crate::app;
use crate::reply::{self, Reply};
use crate::search::Question;
use serenity::all::{
    ComponentInteraction, CreateActionRow, CreateInteractionResponse,
    CreateInteractionResponseMessage, FullEvent, Interaction, Message,
};
use std::time::Instant;

type FrameworkContext<'a> = poise::FrameworkContext<'a, Data, Error>;

pub async fn handle(fw: FrameworkContext<'_>, event: &FullEvent) -> Result<(), Error> {
    match event {
        FullEvent::Ready { data_about_bot } => {
            tracing::info!(
                bot = %data_about_bot.user.name,
                guilds = data_about_bot.guilds.len(),
                "connected to Discord"
            );
        }
        FullEvent::Message { new_message } => on_message(fw, new_message).await,
        FullEvent::InteractionCreate {
            interaction: Interaction::Component(press),
        } => on_press(fw, press).await,
        _ => {}
    }
    Ok(())
}

/// The question in a message that mentions the bot (`<@id>` or `<@!id>`),
/// without the mention; `None` when the bot is not mentioned in the text.
pub fn question_in(content: &str, bot_id: u64) -> Option<String> {
    let forms = [format!("<@{bot_id}>"), format!("<@!{bot_id}>")];
    if !forms.iter().any(|f| content.contains(f.as_str())) {
        return None;
    }
    // Every mention is addressing, not part of the question: users, roles,
    // channels, @everyone and @here.
    let words: Vec<&str> = content
        .split_whitespace()
        .flat_map(split_mentions)
        .filter(|w| !is_mention(w))
        .collect();
    Some(words.join(" "))
}

/// A word cut where a mention starts or ends (`<@42>郭慶` → `<@42>`, `郭慶`).
fn split_mentions(word: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = word;
    while let Some(start) = rest.find("<@").or_else(|| rest.find("<#")) {
        let Some(len) = rest[start..].find('>') else {
            break;
        };
        if start > 0 {
            out.push(&rest[..start]);
        }
        out.push(&rest[start..start + len + 1]);
        rest = &rest[start + len + 1..];
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

fn is_mention(word: &str) -> bool {
    let tagged = (word.starts_with("<@") || word.starts_with("<#")) && word.ends_with('>');
    tagged || word == "@everyone" || word == "@here"
}

async fn on_message(fw: FrameworkContext<'_>, msg: &Message) {
    if msg.author.bot {
        return;
    }
    let Some(text) = question_in(&msg.content, fw.bot_id().get()) else {
        return;
    };
    let data = fw.user_data;
    let asker = msg.author.id.get();
    let (r, buttons) = if text.is_empty() {
        let help = Reply {
            ephemeral: false,
            ..app::help()
        };
        (help, Vec::new())
    } else if let Err(wait) = data.limiter.check(asker, Instant::now()) {
        tracing::debug!(user = asker, "rate limited");
        (ratelimit::rate_limited(wait), Vec::new())
    } else {
        let q = Question {
            text,
            speaker: None,
            limit: data.default_limit,
            offset: 0,
            transcripts: Vec::new(),
        };
        data.answer(asker, q, None).await
    };
    let message = convert::channel_message(&r, buttons).reference_message(msg);
    if let Err(e) = msg
        .channel_id
        .send_message(&fw.serenity_context.http, message)
        .await
    {
        let _ = app::internal(&anyhow::Error::new(e), "replying to a mention");
    }
}

async fn on_press(fw: FrameworkContext<'_>, press: &ComponentInteraction) {
    let Some(button) = PageButton::parse(&press.data.custom_id) else {
        return;
    };
    let (r, buttons) = page(fw.user_data, press.user.id.get(), button).await;
    // A page replaces the one shown; a refusal is a private new message.
    let update = !r.ephemeral;
    respond(fw, press, convert::interaction_message(&r, buttons), update).await;
}

/// The page a button asks for, with the buttons to go on from there.
async fn page(data: &Data, presser: u64, button: PageButton) -> (Reply, Vec<CreateActionRow>) {
    if presser != button.owner {
        let refusal = reply::user_error(
            "只有提問的人可以翻頁;請用 /ask 問你自己的問題。\nOnly the person who asked can page through these answers: ask your own with /ask.",
        );
        return (refusal, Vec::new());
    }
    let Some(mut q) = data.pages.get(button.key, presser, Instant::now()) else {
        // Pages live in the memory of the process that answered: a restart,
        // or a press that reaches another process of the bot, loses them.
        let expired = reply::user_error(
            "抱歉,這一頁已經過期了。請用 /ask 再問一次,就能繼續翻頁。\nSorry, this page has expired. Ask again with /ask and you can page through the answers from there.",
        );
        return (expired, Vec::new());
    };
    q.offset = button.offset;
    data.answer(presser, q, Some(button.key)).await
}

/// Answers a press: updates the message in place (`update`), or sends a new
/// message (refusals, which are ephemeral).
async fn respond(
    fw: FrameworkContext<'_>,
    press: &ComponentInteraction,
    message: CreateInteractionResponseMessage,
    update: bool,
) {
    let response = if update {
        CreateInteractionResponse::UpdateMessage(message)
    } else {
        CreateInteractionResponse::Message(message)
    };
    if let Err(e) = press
        .create_response(&fw.serenity_context.http, response)
        .await
    {
        let _ = app::internal(&anyhow::Error::new(e), "answering a button");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_found_and_stripped() {
        assert_eq!(
            question_in("<@42> 郭慶怎麼看人才?", 42).as_deref(),
            Some("郭慶怎麼看人才?")
        );
        assert_eq!(
            question_in("請問 <@!42>  客服中心 <@42>", 42).as_deref(),
            Some("請問 客服中心")
        );
        assert_eq!(question_in("<@42>", 42).as_deref(), Some(""));
        assert_eq!(
            question_in("@everyone <@42>郭慶怎麼看人才? <@&7> <#9> @here", 42).as_deref(),
            Some("郭慶怎麼看人才?")
        );
        assert_eq!(question_in("<@43> 你好", 42), None);
        assert_eq!(question_in("大家好", 42), None);
    }
}
