//! A reply's "who spoke how much" pictures as PNG attachments: drawn by
//! [`crate::chart`] with the CJK font found when the bot started, kept per
//! index generation (the same picture is drawn once), and shown as the
//! image of the embed each illustrates. Without a usable font the PNG has
//! no labels, and that embed gets the colours in words instead (a legend
//! of coloured squares, names and shares).

use crate::chart::{self, Painter};
use crate::reply::{limits, truncate, Field, Reply};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One rendered picture, ready to attach.
#[derive(Debug, Clone)]
pub struct Png {
    /// The attachment's file name (ASCII), `attachment://` + it in the embed.
    pub name: String,
    /// The embed whose image it is.
    pub embed: usize,
    pub bytes: Arc<Vec<u8>>,
}

/// Rendered pictures kept at most (of the current generation).
const KEPT: usize = 256;

/// The painter and the pictures it drew for the current generation.
#[derive(Debug)]
pub struct Pictures {
    painter: Painter,
    kept: Mutex<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    generation: String,
    files: HashMap<String, Arc<Vec<u8>>>,
}

impl Pictures {
    pub fn new(painter: Painter) -> Self {
        Pictures {
            painter,
            kept: Mutex::new(Kept::default()),
        }
    }

    /// The PNG of each picture of `r` (drawn, or kept from before); when
    /// they carry no labels, the embed each illustrates gets a legend.
    /// Blocks (drawing takes milliseconds): call it off the async threads.
    pub fn render(&self, r: &mut Reply) -> Vec<Png> {
        let labelled = self.painter.has_labels();
        let mut out = Vec::new();
        let pictures = r.pictures.clone();
        for (n, p) in pictures.iter().enumerate() {
            let key = format!("{}|{labelled}", p.key());
            let kept = {
                let mut k = self.kept.lock().unwrap_or_else(|e| e.into_inner());
                if k.generation != p.generation {
                    *k = Kept {
                        generation: p.generation.clone(),
                        ..Kept::default()
                    };
                }
                k.files.get(&key).cloned()
            };
            let bytes = match kept {
                Some(b) => b,
                None => {
                    let scene = chart::scene(&p.participation, p.highlight.as_deref());
                    let b = Arc::new(self.painter.png(&scene));
                    let mut k = self.kept.lock().unwrap_or_else(|e| e.into_inner());
                    if k.generation == p.generation {
                        if k.files.len() >= KEPT {
                            k.files.clear();
                        }
                        k.files.insert(key, b.clone());
                    }
                    b
                }
            };
            if bytes.is_empty() {
                continue;
            }
            if !labelled {
                add_legend(r, p.embed, &chart::legend(&p.participation));
            }
            out.push(Png {
                name: format!("participation-{}.png", n + 1),
                embed: p.embed,
                bytes,
            });
        }
        out
    }
}

/// Characters of every embed of a reply, as Discord counts them.
fn total(r: &Reply) -> usize {
    let n = |s: &Option<String>| s.as_ref().map_or(0, |s| s.chars().count());
    r.embeds
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

const LEGEND: &str = "圖例 · Legend";

/// Adds the legend as a field of embed `i`, within Discord's limits (cut
/// short, or left out when the message has no room for it).
fn add_legend(r: &mut Reply, i: usize, legend: &str) {
    let room = limits::EMBEDS_TOTAL.saturating_sub(total(r) + LEGEND.chars().count());
    let Some(e) = r.embeds.get_mut(i) else {
        return;
    };
    if room < 40 || e.fields.len() >= limits::FIELDS {
        return;
    }
    e.fields.push(Field {
        name: LEGEND.into(),
        value: truncate(legend, room.min(limits::FIELD_VALUE)),
        inline: false,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forums::{Participation, Share};
    use crate::reply::{Embed, Picture};

    fn reply_with_picture() -> Reply {
        let p = Participation {
            transcript: "t".into(),
            title: "標題".into(),
            date: None,
            place: None,
            lang: "zh-Hant".into(),
            words: 10,
            speakers: vec![Share {
                name: "甲".into(),
                role: None,
                moderator: false,
                turns: 1,
                words: 10,
                share: 1.0,
            }],
            turns: vec![],
            exchanges: vec![],
        };
        Reply {
            embeds: vec![Embed::default()],
            pictures: vec![Picture {
                embed: 0,
                generation: "gen-1".into(),
                participation: vec![Arc::new(p)],
                highlight: None,
            }],
            ..Reply::default()
        }
    }

    #[test]
    fn without_a_font_the_png_comes_with_a_legend_and_is_drawn_once() {
        let pictures = Pictures::new(Painter::with_font(None));
        let mut r = reply_with_picture();
        let files = pictures.render(&mut r);
        assert_eq!(files.len(), 1);
        assert!(files[0].bytes.starts_with(b"\x89PNG"));
        assert_eq!(r.embeds[0].fields[0].name, LEGEND);
        assert_eq!(r.embeds[0].fields[0].value, "🟦 甲 100.0%");
        let again = pictures.render(&mut reply_with_picture());
        assert!(Arc::ptr_eq(&files[0].bytes, &again[0].bytes));
    }

    #[test]
    fn a_legend_never_breaks_the_limits() {
        let mut r = reply_with_picture();
        r.embeds[0].description = Some("字".repeat(limits::EMBEDS_TOTAL - 10));
        add_legend(&mut r, 0, "🟦 甲 100.0%");
        assert!(r.embeds[0].fields.is_empty());
        assert!(total(&r) <= limits::EMBEDS_TOTAL);
    }
}
