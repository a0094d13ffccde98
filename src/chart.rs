//! The "who spoke how much" picture of a transcript, drawn once as a
//! [`Scene`] (rectangles and text) from a [`Participation`] and rendered
//! three ways, so every face shows the same numbers:
//!
//! - [`svg`]: inline SVG for the transcript page, each turn of the strip a
//!   link to its anchor (`#turn-N`) with a tooltip;
//! - [`png`]: a PNG for Discord, rasterised here (rectangles by hand, text
//!   through `ab_glyph` with a CJK font of the system found by [`Painter`]);
//!   without such a font the PNG carries no text and [`legend`] gives the
//!   colours in words instead;
//! - [`text`]: text bars for the command line and the console.
//!
//! The picture: a bar per speaker (length = share of the transcript's
//! words; words and turns beside it), then the turns in the order spoken as
//! one strip (each turn as wide as its words, in its speaker's colour), and
//! under it the exchanges (a line from each prompt to the last turn that
//! answers it, in the asker's colour). With a speaker to highlight, the
//! others are drawn faded.

use crate::forums::Participation;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// A colour, `0xRRGGBB`.
pub type Rgb = u32;

/// Speakers' colours, in the order of the sidecar: those of Discord's
/// coloured squares (🟦🟧🟩🟪🟥🟫🟨⬛⬜), so a legend in text can name them.
pub const PALETTE: [(Rgb, &str); 9] = [
    (0x55acee, "🟦"),
    (0xf4900c, "🟧"),
    (0x78b159, "🟩"),
    (0xaa8ed6, "🟪"),
    (0xdd2e44, "🟥"),
    (0xc1694f, "🟫"),
    (0xfdcb58, "🟨"),
    (0x31373d, "⬛"),
    (0xb8babd, "⬜"),
];

const INK: Rgb = 0x1d1d1f;
const MUTED: Rgb = 0x5f6368;
const RULE: Rgb = 0xe3e3e6;
const BACKGROUND: Rgb = 0xffffff;

/// The colour of speaker `i` of a transcript.
pub fn colour(i: usize) -> Rgb {
    PALETTE[i % PALETTE.len()].0
}

/// Mixes `c` with white: the others, when one speaker is highlighted.
fn faded(c: Rgb) -> Rgb {
    let mix = |shift: u32| {
        let v = (c >> shift) & 0xff;
        (v + (0xff - v) * 7 / 10) << shift
    };
    mix(16) | mix(8) | mix(0)
}

/// One thing drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        fill: Rgb,
        /// A link (`#turn-N`) in the SVG.
        link: Option<String>,
        /// A tooltip in the SVG.
        tip: Option<String>,
        /// `data-*` attributes in the SVG (what the rectangle stands for).
        data: Vec<(&'static str, String)>,
    },
    Text {
        x: f32,
        /// The baseline.
        y: f32,
        size: f32,
        fill: Rgb,
        text: String,
        bold: bool,
        /// Anchored at its end (right-aligned) instead of its start.
        end: bool,
    },
}

/// A picture: its size and what is drawn, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    pub width: f32,
    pub height: f32,
    pub items: Vec<Item>,
    /// What it shows, in words (the SVG's description).
    pub summary: String,
}

/// Width of a picture, in pixels.
pub const WIDTH: f32 = 800.0;
const PAD: f32 = 14.0;
const NAME_W: f32 = 132.0;
const BAR_W: f32 = 420.0;
const ROW: f32 = 26.0;
const STRIP_H: f32 = 24.0;

/// The labels of a picture, in the transcript's script.
struct Labels {
    who: &'static str,
    order: &'static str,
    exchanges: &'static str,
    words: &'static str,
    turns: &'static str,
    turn: &'static str,
    asks: &'static str,
}

static HANT: Labels = Labels {
    who: "誰說了多少 · Who spoke how much (words)",
    order: "發言順序 · Order of turns",
    exchanges: "問答 · Exchanges",
    words: "字",
    turns: "輪",
    turn: "第 {} 輪",
    asks: "提問",
};

static HANS: Labels = Labels {
    who: "谁说了多少 · Who spoke how much (words)",
    order: "发言顺序 · Order of turns",
    exchanges: "问答 · Exchanges",
    words: "字",
    turns: "轮",
    turn: "第 {} 轮",
    asks: "提问",
};

fn labels(lang: &str) -> &'static Labels {
    let l = lang.to_ascii_lowercase();
    if l.starts_with("zh-hans") || l == "zh-cn" || l == "zh-sg" {
        &HANS
    } else {
        &HANT
    }
}

fn turn_label(l: &Labels, n: u64) -> String {
    l.turn.replace("{}", &n.to_string())
}

/// `1234` → `1,234`.
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A share as a percentage with one decimal (`32.1%`).
pub fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// Cuts a label to `max` characters with an ellipsis.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        s.chars().take(max.saturating_sub(1)).chain(['…']).collect()
    }
}

/// The panel of one transcript, drawn from `top`; returns its bottom.
fn panel(p: &Participation, highlight: Option<&str>, top: f32, items: &mut Vec<Item>) -> f32 {
    let l = labels(&p.lang);
    let fill_of = |i: usize, name: &str| {
        let c = colour(i);
        match highlight {
            Some(h) if h != name => faded(c),
            _ => c,
        }
    };
    let mut head = clip(&p.title, 36);
    for part in [p.date.as_deref(), p.place.as_deref()]
        .into_iter()
        .flatten()
    {
        head.push_str(" · ");
        head.push_str(part);
    }
    let mut y = top + 22.0;
    items.push(Item::Text {
        x: PAD,
        y,
        size: 15.0,
        fill: INK,
        text: head,
        bold: true,
        end: false,
    });
    y += 20.0;
    items.push(Item::Text {
        x: PAD,
        y,
        size: 12.0,
        fill: MUTED,
        text: l.who.to_owned(),
        bold: false,
        end: false,
    });
    y += 10.0;
    for (i, s) in p.speakers.iter().enumerate() {
        let bar_top = y + 4.0;
        items.push(Item::Text {
            x: PAD + NAME_W - 8.0,
            y: bar_top + 13.0,
            size: 13.0,
            fill: INK,
            text: clip(&s.name, 8),
            bold: highlight == Some(s.name.as_str()),
            end: true,
        });
        items.push(Item::Rect {
            x: PAD + NAME_W,
            y: bar_top,
            w: BAR_W,
            h: 18.0,
            fill: 0xf1f3f4,
            link: None,
            tip: None,
            data: Vec::new(),
        });
        items.push(Item::Rect {
            x: PAD + NAME_W,
            y: bar_top,
            w: (s.share as f32 * BAR_W).max(if s.words > 0 { 1.0 } else { 0.0 }),
            h: 18.0,
            fill: fill_of(i, &s.name),
            link: None,
            tip: Some(format!(
                "{} · {} · {} {} · {} {}",
                s.name,
                percent(s.share),
                thousands(s.words),
                l.words,
                s.turns,
                l.turns
            )),
            data: vec![
                ("speaker", s.name.clone()),
                ("words", s.words.to_string()),
                ("turns", s.turns.to_string()),
                ("share", format!("{:.4}", s.share)),
            ],
        });
        items.push(Item::Text {
            x: PAD + NAME_W + BAR_W + 8.0,
            y: bar_top + 13.0,
            size: 12.0,
            fill: MUTED,
            text: format!(
                "{} · {} {} · {} {}",
                percent(s.share),
                thousands(s.words),
                l.words,
                s.turns,
                l.turns
            ),
            bold: false,
            end: false,
        });
        y += ROW;
    }
    y += 16.0;
    items.push(Item::Text {
        x: PAD,
        y,
        size: 12.0,
        fill: MUTED,
        text: format!("{} ({} {})", l.order, thousands(p.words), l.words),
        bold: false,
        end: false,
    });
    y += 8.0;
    let strip_w = WIDTH - 2.0 * PAD;
    let total = p.words.max(1) as f32;
    let x_at = |words: usize| PAD + words as f32 / total * strip_w;
    items.push(Item::Rect {
        x: PAD,
        y,
        w: strip_w,
        h: STRIP_H,
        fill: RULE,
        link: None,
        tip: None,
        data: Vec::new(),
    });
    for t in &p.turns {
        let i = p.speaker_index(&t.speaker).unwrap_or(0);
        let x = x_at(t.start);
        // Every turn stays visible and clickable, however short.
        let w = (x_at(t.start + t.words) - x).max(2.0);
        items.push(Item::Rect {
            x,
            y,
            w,
            h: STRIP_H,
            fill: fill_of(i, &t.speaker),
            link: Some(format!("#{}", crate::links::turn_anchor(t.turn))),
            tip: Some(format!(
                "{} · {} · {} {}",
                turn_label(l, t.turn),
                t.speaker,
                thousands(t.words),
                l.words
            )),
            data: vec![("turn", t.turn.to_string())],
        });
    }
    y += STRIP_H + 6.0;
    // The exchanges: a line from each prompt to its last answer.
    for e in &p.exchanges {
        let Some(asked) = p.turns.iter().find(|t| t.turn == e.prompt) else {
            continue;
        };
        let Some(last) = e
            .answers
            .iter()
            .filter_map(|a| p.turns.iter().find(|t| t.turn == *a))
            .next_back()
        else {
            continue;
        };
        let i = p.speaker_index(&e.asker).unwrap_or(0);
        let x0 = x_at(asked.start);
        let x1 = x_at(last.start + last.words).max(x0 + 2.0);
        let answers = e
            .answers
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join("、");
        let tip = format!(
            "{} · {} {} → {}",
            turn_label(l, e.prompt),
            e.asker,
            l.asks,
            l.turn.replace("{}", &answers)
        );
        items.push(Item::Rect {
            x: x0,
            y,
            w: 2.0,
            h: 8.0,
            fill: fill_of(i, &e.asker),
            link: Some(format!("#{}", crate::links::turn_anchor(e.prompt))),
            tip: Some(tip.clone()),
            data: vec![("prompt", e.prompt.to_string())],
        });
        items.push(Item::Rect {
            x: x0,
            y: y + 6.0,
            w: x1 - x0,
            h: 2.0,
            fill: fill_of(i, &e.asker),
            link: None,
            tip: Some(tip),
            data: Vec::new(),
        });
    }
    if !p.exchanges.is_empty() {
        items.push(Item::Text {
            x: WIDTH - PAD,
            y: y + 22.0,
            size: 11.0,
            fill: MUTED,
            text: format!("{} · {}", l.exchanges, p.exchanges.len()),
            bold: false,
            end: true,
        });
    }
    y + 32.0
}

/// The picture of one or more transcripts, stacked; `highlight` draws every
/// other speaker faded.
pub fn scene(parts: &[Arc<Participation>], highlight: Option<&str>) -> Scene {
    let mut items = vec![Item::Rect {
        x: 0.0,
        y: 0.0,
        w: WIDTH,
        h: 0.0,
        fill: BACKGROUND,
        link: None,
        tip: None,
        data: Vec::new(),
    }];
    let mut y = 0.0;
    for (n, p) in parts.iter().enumerate() {
        if n > 0 {
            items.push(Item::Rect {
                x: PAD,
                y: y + 2.0,
                w: WIDTH - 2.0 * PAD,
                h: 1.0,
                fill: RULE,
                link: None,
                tip: None,
                data: Vec::new(),
            });
        }
        y = panel(p, highlight, y, &mut items);
    }
    let height = y.max(1.0).ceil();
    if let Some(Item::Rect { h, .. }) = items.first_mut() {
        *h = height;
    }
    let summary = parts
        .iter()
        .map(|p| {
            let shares = p
                .speakers
                .iter()
                .map(|s| format!("{} {}", s.name, percent(s.share)))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "{}: {shares}; {} turns, {} exchanges",
                p.title,
                p.turns.len(),
                p.exchanges.len()
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    Scene {
        width: WIDTH,
        height,
        items,
        summary,
    }
}

/// Escapes text for SVG content and double-quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn hex(c: Rgb) -> String {
    format!("#{c:06x}")
}

/// The scene as inline SVG (no script, no external reference): it scales to
/// the width of its container, and every turn links to its anchor.
pub fn svg(scene: &Scene, title: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"participation\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"{t}\">\n<title>{t}</title>\n<desc>{d}</desc>\n",
        w = scene.width,
        h = scene.height,
        t = escape(title),
        d = escape(&scene.summary),
    );
    for item in &scene.items {
        match item {
            Item::Rect {
                x,
                y,
                w,
                h,
                fill,
                link,
                tip,
                data,
            } => {
                let mut rect = format!(
                    "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{}\"",
                    hex(*fill)
                );
                for (k, v) in data {
                    let _ = write!(rect, " data-{k}=\"{}\"", escape(v));
                }
                match tip {
                    Some(t) => {
                        let _ = write!(rect, "><title>{}</title></rect>", escape(t));
                    }
                    None => rect.push_str("/>"),
                }
                match link {
                    Some(href) => {
                        let _ = writeln!(out, "<a href=\"{}\">{rect}</a>", escape(href));
                    }
                    None => {
                        let _ = writeln!(out, "{rect}");
                    }
                }
            }
            Item::Text {
                x,
                y,
                size,
                fill,
                text,
                bold,
                end,
            } => {
                let _ = writeln!(
                    out,
                    "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{size}\" fill=\"{}\"{}{}>{}</text>",
                    hex(*fill),
                    if *bold { " font-weight=\"600\"" } else { "" },
                    if *end { " text-anchor=\"end\"" } else { "" },
                    escape(text)
                );
            }
        }
    }
    out.push_str("</svg>\n");
    out
}

/// The picture's colours in words, for a PNG drawn without text: one line
/// per transcript, each speaker's square, name and share.
pub fn legend(parts: &[Arc<Participation>]) -> String {
    parts
        .iter()
        .map(|p| {
            let who = p
                .speakers
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    format!(
                        "{} {} {}",
                        PALETTE[i % PALETTE.len()].1,
                        s.name,
                        percent(s.share)
                    )
                })
                .collect::<Vec<_>>()
                .join(" · ");
            if parts.len() > 1 {
                format!("{}: {who}", clip(&p.title, 30))
            } else {
                who
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Columns a string takes on a terminal (Han and full-width: two).
fn columns(s: &str) -> usize {
    s.chars()
        .map(|c| {
            if crate::text::is_cjk(c) || ('\u{ff00}'..='\u{ffef}').contains(&c) {
                2
            } else {
                1
            }
        })
        .sum()
}

const TEXT_BAR: usize = 24;
/// Turns shown as letters in the text form at most.
const TEXT_TURNS: usize = 120;
/// Exchanges listed in the text form at most.
const TEXT_EXCHANGES: usize = 12;

/// A bar of `share` in `width` cells, to an eighth of a cell.
fn bar(share: f64, width: usize) -> String {
    let eighths = (share.clamp(0.0, 1.0) * (width * 8) as f64).round() as usize;
    let mut s = "█".repeat(eighths / 8);
    let part = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"][eighths % 8];
    s.push_str(part);
    let used = eighths / 8 + usize::from(!part.is_empty());
    s.push_str(&" ".repeat(width.saturating_sub(used)));
    s
}

/// The picture as text: a bar per speaker, the turns as letters (one per
/// speaker), and the exchanges.
pub fn text(parts: &[Arc<Participation>], highlight: Option<&str>) -> String {
    let mut out = String::new();
    for p in parts {
        let l = labels(&p.lang);
        let mut head = p.title.clone();
        for part in [p.date.as_deref(), p.place.as_deref()]
            .into_iter()
            .flatten()
        {
            head.push_str(" · ");
            head.push_str(part);
        }
        let _ = writeln!(out, "{} — {head}", l.who);
        let width = p
            .speakers
            .iter()
            .map(|s| columns(&s.name))
            .max()
            .unwrap_or(0);
        for (i, s) in p.speakers.iter().enumerate() {
            let mark = if highlight == Some(s.name.as_str()) {
                "▶"
            } else {
                " "
            };
            let _ = writeln!(
                out,
                "{mark} {} {}{} {} {:>6} · {} {} · {} {}",
                letter(i),
                s.name,
                " ".repeat(width - columns(&s.name)),
                bar(s.share, TEXT_BAR),
                percent(s.share),
                thousands(s.words),
                l.words,
                s.turns,
                l.turns
            );
        }
        let letters: String = p
            .turns
            .iter()
            .take(TEXT_TURNS)
            .map(|t| letter(p.speaker_index(&t.speaker).unwrap_or(0)))
            .collect();
        let more = if p.turns.len() > TEXT_TURNS {
            format!("… (+{})", p.turns.len() - TEXT_TURNS)
        } else {
            String::new()
        };
        let _ = writeln!(out, "{}: {letters}{more}", l.order);
        if !p.exchanges.is_empty() {
            let list = p
                .exchanges
                .iter()
                .take(TEXT_EXCHANGES)
                .map(|e| {
                    let answers = e
                        .answers
                        .iter()
                        .map(|a| format!("#{a}"))
                        .collect::<Vec<_>>()
                        .join(" ");
                    format!("#{} {} → {answers}", e.prompt, e.asker)
                })
                .collect::<Vec<_>>()
                .join("; ");
            let more = if p.exchanges.len() > TEXT_EXCHANGES {
                format!("; … (+{})", p.exchanges.len() - TEXT_EXCHANGES)
            } else {
                String::new()
            };
            let _ = writeln!(out, "{}: {list}{more}", l.exchanges);
        }
    }
    out
}

/// The letter of speaker `i` in the text form (A, B, …).
fn letter(i: usize) -> char {
    char::from(b'A' + (i % 26) as u8)
}

// ---------------------------------------------------------------------------
// PNG

/// Where Debian's CJK font packages put their fonts, best first
/// (fonts-noto-cjk, fonts-wqy-zenhei, fonts-wqy-microhei, fonts-arphic-uming).
const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
];

/// Directories searched, a few levels deep, when none of [`FONT_PATHS`] is there.
const FONT_DIRS: &[&str] = &["/usr/share/fonts", "/usr/local/share/fonts"];

/// A font file whose name says it covers Chinese.
fn looks_cjk(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let font_file = [".ttf", ".ttc", ".otf"].iter().any(|e| name.ends_with(e));
    font_file
        && [
            "cjk",
            "wqy",
            "droidsansfallback",
            "uming",
            "ukai",
            "hei",
            "song",
            "ming",
        ]
        .iter()
        .any(|k| name.contains(k))
}

/// Finds a font file for Chinese among the system's packages: the known
/// places first, then a bounded look through the font directories.
pub fn find_cjk_font() -> Option<PathBuf> {
    if let Some(p) = FONT_PATHS.iter().map(Path::new).find(|p| p.is_file()) {
        return Some(p.to_owned());
    }
    let mut stack: Vec<(PathBuf, usize)> =
        FONT_DIRS.iter().map(|d| (PathBuf::from(d), 0)).collect();
    let mut seen = 0usize;
    let mut found: Vec<PathBuf> = Vec::new();
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            seen += 1;
            if seen > 20_000 {
                break;
            }
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() && depth < 4 => stack.push((p, depth + 1)),
                Ok(t) if t.is_file() && looks_cjk(&p) => found.push(p),
                _ => {}
            }
        }
    }
    found.sort();
    found.into_iter().next()
}

/// Draws pictures as PNG with the CJK font found when it was made (loaded
/// on the first picture, then kept); without one, PNGs carry no text.
pub struct Painter {
    path: Option<PathBuf>,
    font: OnceLock<Option<ab_glyph::FontVec>>,
}

impl std::fmt::Debug for Painter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Painter").field("path", &self.path).finish()
    }
}

impl Painter {
    /// Looks for a CJK font and says in the log which one, or that there is
    /// none and pictures come with a colour legend instead.
    pub fn discover() -> Self {
        let path = find_cjk_font();
        match &path {
            Some(p) => tracing::info!(font = %p.display(), "pictures: labels drawn with this CJK font"),
            None => tracing::warn!(
                "pictures: no CJK font found (install fonts-noto-cjk or fonts-wqy-zenhei); pictures are drawn without labels and replies carry a colour legend"
            ),
        }
        Painter::with_font(path)
    }

    /// A painter with this font file (or none).
    pub fn with_font(path: Option<PathBuf>) -> Self {
        Painter {
            path,
            font: OnceLock::new(),
        }
    }

    fn font(&self) -> Option<&ab_glyph::FontVec> {
        self.font
            .get_or_init(|| {
                let path = self.path.as_ref()?;
                match load_font(path) {
                    Ok(f) => Some(f),
                    Err(e) => {
                        tracing::warn!(font = %path.display(), error = %e, "pictures: the CJK font cannot be used; pictures carry a colour legend instead");
                        None
                    }
                }
            })
            .as_ref()
    }

    /// Whether pictures carry their labels (a usable font was found).
    pub fn has_labels(&self) -> bool {
        self.font().is_some()
    }

    /// The scene as PNG bytes.
    pub fn png(&self, scene: &Scene) -> Vec<u8> {
        png(scene, self.font())
    }
}

fn load_font(path: &Path) -> Result<ab_glyph::FontVec, String> {
    use ab_glyph::Font as _;
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let font = ab_glyph::FontVec::try_from_vec_and_index(bytes, 0).map_err(|e| e.to_string())?;
    // It must have the characters of both scripts.
    if ['慶', '庆', '說', '说']
        .iter()
        .any(|&c| font.glyph_id(c).0 == 0)
    {
        return Err("it has no Chinese characters".into());
    }
    Ok(font)
}

/// An RGB picture being drawn.
struct Canvas {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Canvas {
    fn new(w: usize, h: usize) -> Self {
        Canvas {
            w,
            h,
            px: [0xffu8, 0xff, 0xff].repeat(w * h),
        }
    }

    fn blend(&mut self, x: i64, y: i64, c: Rgb, alpha: f32) {
        if x < 0 || y < 0 || x as usize >= self.w || y as usize >= self.h || alpha <= 0.0 {
            return;
        }
        let a = alpha.min(1.0);
        let at = (y as usize * self.w + x as usize) * 3;
        for (k, shift) in [16u32, 8, 0].into_iter().enumerate() {
            let src = ((c >> shift) & 0xff) as f32;
            let dst = self.px[at + k] as f32;
            self.px[at + k] = (dst + (src - dst) * a).round() as u8;
        }
    }

    fn fill(&mut self, x: f32, y: f32, w: f32, h: f32, c: Rgb) {
        let (x0, y0) = (x.round() as i64, y.round() as i64);
        let x1 = ((x + w).round() as i64).max(x0 + i64::from(w > 0.0));
        let y1 = ((y + h).round() as i64).max(y0 + i64::from(h > 0.0));
        for yy in y0.max(0)..y1.min(self.h as i64) {
            for xx in x0.max(0)..x1.min(self.w as i64) {
                self.blend(xx, yy, c, 1.0);
            }
        }
    }
}

fn text_width(font: &ab_glyph::FontVec, size: f32, text: &str) -> f32 {
    use ab_glyph::{Font as _, ScaleFont as _};
    let scaled = font.as_scaled(size);
    text.chars()
        .map(|c| scaled.h_advance(font.glyph_id(c)))
        .sum()
}

fn draw_text(
    canvas: &mut Canvas,
    font: &ab_glyph::FontVec,
    item: (f32, f32, f32, Rgb, &str, bool, bool),
) {
    use ab_glyph::{point, Font as _, ScaleFont as _};
    let (x, y, size, fill, text, bold, end) = item;
    let scaled = font.as_scaled(size);
    let mut pen = if end {
        x - text_width(font, size, text)
    } else {
        x
    };
    for c in text.chars() {
        let id = font.glyph_id(c);
        let glyph = id.with_scale_and_position(size, point(pen, y));
        pen += scaled.h_advance(id);
        let Some(outline) = font.outline_glyph(glyph) else {
            continue;
        };
        let b = outline.px_bounds();
        // Bold: the glyph drawn twice, half a pixel apart.
        let passes: &[i64] = if bold { &[0, 1] } else { &[0] };
        for &dx in passes {
            outline.draw(|gx, gy, cov| {
                canvas.blend(
                    b.min.x as i64 + gx as i64 + dx,
                    b.min.y as i64 + gy as i64,
                    fill,
                    cov,
                );
            });
        }
    }
}

/// Renders a scene as PNG; text is drawn only with a font.
pub fn png(scene: &Scene, font: Option<&ab_glyph::FontVec>) -> Vec<u8> {
    let (w, h) = (
        scene.width.ceil() as usize,
        scene.height.ceil().max(1.0) as usize,
    );
    let mut canvas = Canvas::new(w, h);
    for item in &scene.items {
        match item {
            Item::Rect {
                x, y, w, h, fill, ..
            } => canvas.fill(*x, *y, *w, *h, *fill),
            Item::Text {
                x,
                y,
                size,
                fill,
                text,
                bold,
                end,
            } => {
                if let Some(font) = font {
                    draw_text(&mut canvas, font, (*x, *y, *size, *fill, text, *bold, *end));
                }
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = ::png::Encoder::new(&mut out, w as u32, h as u32);
        encoder.set_color(::png::ColorType::Rgb);
        encoder.set_depth(::png::BitDepth::Eight);
        encoder.set_compression(::png::Compression::Balanced);
        // Writing into memory cannot fail but for sizes PNG cannot hold,
        // which a scene never has.
        let written = encoder
            .write_header()
            .and_then(|mut writer| writer.write_image_data(&canvas.px));
        if let Err(e) = written {
            tracing::error!(error = %e, "pictures: PNG encoding failed");
            return Vec::new();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forums::{Exchange, Share, TurnMark};

    fn sample() -> Arc<Participation> {
        let share = |name: &str, words: usize, turns: usize| Share {
            name: name.into(),
            role: None,
            moderator: name == "主持",
            turns,
            words,
            share: words as f64 / 100.0,
        };
        Arc::new(Participation {
            transcript: "t".into(),
            title: "標題 <b>".into(),
            date: Some("2018-08-31".into()),
            place: Some("北京".into()),
            lang: "zh-Hant".into(),
            words: 100,
            speakers: vec![share("主持", 20, 2), share("甲", 50, 1), share("乙", 30, 1)],
            turns: vec![
                TurnMark {
                    turn: 1,
                    speaker: "主持".into(),
                    words: 10,
                    start: 0,
                    prompt: None,
                },
                TurnMark {
                    turn: 2,
                    speaker: "甲".into(),
                    words: 50,
                    start: 10,
                    prompt: Some(1),
                },
                TurnMark {
                    turn: 3,
                    speaker: "主持".into(),
                    words: 10,
                    start: 60,
                    prompt: None,
                },
                TurnMark {
                    turn: 4,
                    speaker: "乙".into(),
                    words: 30,
                    start: 70,
                    prompt: Some(3),
                },
            ],
            exchanges: vec![
                Exchange {
                    prompt: 1,
                    asker: "主持".into(),
                    answers: vec![2],
                },
                Exchange {
                    prompt: 3,
                    asker: "主持".into(),
                    answers: vec![4],
                },
            ],
        })
    }

    #[test]
    fn bars_are_as_long_as_the_shares_and_the_strip_as_the_words() {
        let s = scene(&[sample()], None);
        let bars: Vec<(String, f32)> = s
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Rect { w, data, .. } if data.first().is_some_and(|d| d.0 == "speaker") => {
                    Some((data[0].1.clone(), *w))
                }
                _ => None,
            })
            .collect();
        assert_eq!(bars.len(), 3);
        for (name, w) in &bars {
            let want = match name.as_str() {
                "主持" => 0.2,
                "甲" => 0.5,
                _ => 0.3,
            } * BAR_W;
            assert!((w - want).abs() < 0.01, "{name}: {w} vs {want}");
        }
        let turns: Vec<(String, f32)> = s
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Rect {
                    link: Some(l),
                    w,
                    data,
                    ..
                } if data[0].0 == "turn" => Some((l.clone(), *w)),
                _ => None,
            })
            .collect();
        assert_eq!(turns.len(), 4);
        assert_eq!(turns[1].0, "#turn-2");
        let strip = WIDTH - 2.0 * PAD;
        assert!((turns[1].1 - 0.5 * strip).abs() < 0.01);
    }

    #[test]
    fn svg_escapes_text_and_links_every_turn() {
        let p = sample();
        let svg = svg(&scene(&[p], None), "誰說了多少");
        assert!(svg.contains("標題 &lt;b&gt;"), "{svg}");
        assert!(!svg.contains("<b>"));
        for n in 1..=4 {
            assert!(svg.contains(&format!("<a href=\"#turn-{n}\">")), "{n}");
        }
        assert!(svg.contains("data-share=\"0.5000\""), "{svg}");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn text_bars_and_legend_say_the_same_numbers() {
        let p = sample();
        let t = text(std::slice::from_ref(&p), Some("甲"));
        assert!(t.contains("50.0%"), "{t}");
        assert!(t.contains("▶ B 甲"), "{t}");
        assert!(t.contains(": ABAC"), "{t}");
        assert!(t.contains("#1 主持 → #2"), "{t}");
        let bar_line = t.lines().find(|l| l.contains(" 甲 ")).unwrap();
        assert_eq!(bar_line.matches('█').count(), 12, "{bar_line}");
        let l = legend(&[p]);
        assert_eq!(l, "🟦 主持 20.0% · 🟧 甲 50.0% · 🟩 乙 30.0%");
    }

    #[test]
    fn a_png_without_a_font_still_shows_the_bars_in_their_colours() {
        let s = scene(&[sample()], None);
        let bytes = png(&s, None);
        let decoder = ::png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width as f32, info.height as f32), (s.width, s.height));
        // The middle of each speaker's bar is that speaker's colour.
        let mut checked = 0;
        for item in &s.items {
            if let Item::Rect {
                x,
                y,
                w,
                h,
                fill,
                data,
                ..
            } = item
            {
                if data.first().is_some_and(|d| d.0 == "speaker") {
                    let (cx, cy) = ((x + w / 2.0) as usize, (y + h / 2.0) as usize);
                    let at = (cy * info.width as usize + cx) * 3;
                    let rgb =
                        (buf[at] as u32) << 16 | (buf[at + 1] as u32) << 8 | buf[at + 2] as u32;
                    assert_eq!(rgb, *fill, "{:?}", data);
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 3);
    }

    #[test]
    fn a_highlight_fades_the_others() {
        let s = scene(&[sample()], Some("甲"));
        let fill_of = |who: &str| {
            s.items
                .iter()
                .find_map(|i| match i {
                    Item::Rect { fill, data, .. }
                        if data.first().is_some_and(|d| d.0 == "speaker" && d.1 == who) =>
                    {
                        Some(*fill)
                    }
                    _ => None,
                })
                .unwrap()
        };
        assert_eq!(fill_of("甲"), colour(1));
        assert_eq!(fill_of("主持"), faded(colour(0)));
    }
}
