//! The HTML of the transcript pages, as pure functions of the catalog and
//! the stored passages, so it is tested without a server.
//!
//! Every piece of transcript or metadata text goes through [`escape`] on its
//! way into the page (a transcript can contain `<script>`); the only markup
//! is written here. The pages need no JavaScript: a turn is an element with
//! `id="turn-N"` and each of its paragraphs one with `id="turn-N-pP"`
//! (1-based), so `#turn-N` and `#turn-N-pP` scroll to them, and a `:target`
//! style shows the reader which turn and paragraph the link meant. The turn's
//! header (number, speaker, role) is sticky: while any paragraph of a long
//! turn is on screen, so is the name of who is speaking. Under the speakers,
//! an inline SVG picture ([`crate::chart`]) shows who spoke how much: a bar
//! per speaker and the turns in order, each a link to its `#turn-N`.

use crate::forums::Participation;
use crate::index::{Catalog, StoredPassage, TranscriptInfo};
use crate::links;
use std::fmt::Write as _;

/// Inline, so a page is one request and the CSP can forbid other origins.
/// The `:target` background is the colour `.ci/browser.sh` looks for in a
/// screenshot to prove the linked turn is highlighted and scrolled into view.
/// `:has(:target)` because with a `:~:text=` fragment Chromium targets the
/// paragraph holding the text, not the turn the `#turn-N` part names.
const CSS: &str = r#"
:root{color-scheme:light;--fg:#1d1d1f;--muted:#5f6368;--line:#e3e3e6;--accent:#0b57d0;--target:#fff3bf;--target-edge:#f0b400}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:#fff;color:var(--fg);font:17px/1.85 system-ui,-apple-system,"Segoe UI","Noto Sans CJK TC","Noto Sans CJK SC","PingFang TC","Microsoft JhengHei",sans-serif}
main,header.page,footer{max-width:44rem;margin:0 auto;padding:0 1rem}
header.page{padding-top:1.25rem;border-bottom:1px solid var(--line)}
a{color:var(--accent)}
.crumb{margin:0;font-size:.9rem}
h1{font-size:1.45rem;line-height:1.4;margin:.5rem 0 .75rem}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:0 0 1rem;font-size:.95rem}
dl.meta dt{color:var(--muted)}
dl.meta dd{margin:0;overflow-wrap:anywhere}
ul.speakers{list-style:none;padding:0;margin:0 0 1rem;font-size:.95rem}
ul.speakers li{margin:.2rem 0}
.name{font-weight:600}
.role,.count{color:var(--muted);font-size:.88em}
.turn{margin:0 -.75rem;padding:.6rem .75rem .2rem;border-left:4px solid transparent;border-radius:4px;scroll-margin-top:1rem}
.turn+.turn{border-top:1px solid var(--line)}
.who{font-size:1rem;margin:0 -.75rem .2rem;padding:.25rem .75rem;line-height:1.5;position:sticky;top:0;z-index:1;background:#fff;overflow-wrap:anywhere}
.turn:target>.who,.turn:has(:target)>.who{background:var(--target)}
.who .num{display:inline-block;min-width:2.2em;color:var(--muted);font-weight:400;font-size:.85em;text-decoration:none}
.who .num:hover{text-decoration:underline}
.turn p{margin:0 0 .8rem;overflow-wrap:anywhere;scroll-margin-top:4.5rem}
.turn p:target{box-shadow:-.75rem 0 0 var(--target-edge)}
.turn:target,.turn:has(:target){background:var(--target);border-left-color:var(--target-edge)}
::target-text{background:#ffd43b;color:inherit}
figure.participation{margin:0 0 1rem;overflow-x:auto}
figure.participation svg{display:block;width:100%;min-width:640px;height:auto;font-family:inherit}
figure.participation a:focus rect,figure.participation a:hover rect{stroke:var(--fg);stroke-width:1.5}
figure.participation figcaption{color:var(--muted);font-size:.85rem}
ol.transcripts{padding-left:1.2rem}
ol.transcripts li{margin:.6rem 0}
footer{margin-top:2rem;padding-bottom:2rem;color:var(--muted);font-size:.85rem}
"#;

/// The page's own words, in the transcript's script.
struct Labels {
    transcripts: &'static str,
    event: &'static str,
    date: &'static str,
    place: &'static str,
    source: &'static str,
    speakers: &'static str,
    transcript: &'static str,
    intro: &'static str,
    turns: &'static str,
    not_found: &'static str,
    not_found_hint: &'static str,
    error: &'static str,
    none: &'static str,
    participation: &'static str,
    participation_hint: &'static str,
}

static HANT: Labels = Labels {
    transcripts: "逐字稿",
    event: "活動",
    date: "日期",
    place: "地點",
    source: "原文",
    speakers: "講者",
    transcript: "實錄",
    intro: crate::links::INTRODUCTION,
    turns: "次發言",
    not_found: "找不到這份逐字稿",
    not_found_hint: "連結可能有誤,或逐字稿已被移除。",
    error: "頁面暫時無法顯示,請稍後再試。",
    none: "還沒有逐字稿。",
    participation: "誰說了多少",
    participation_hint:
        "長條:各講者所佔字數;色帶:依序每一次發言(點選可跳到該段),下方線段連起提問與回答。",
};

static HANS: Labels = Labels {
    transcripts: "逐字稿",
    event: "活动",
    date: "日期",
    place: "地点",
    source: "原文",
    speakers: "讲者",
    transcript: "实录",
    intro: crate::links::INTRODUCTION,
    turns: "次发言",
    not_found: "找不到这份逐字稿",
    not_found_hint: "链接可能有误,或逐字稿已被移除。",
    error: "页面暂时无法显示,请稍后再试。",
    none: "还没有逐字稿。",
    participation: "谁说了多少",
    participation_hint:
        "长条:各讲者所占字数;色带:依序每一次发言(点选可跳到该段),下方线段连起提问与回答。",
};

static EN: Labels = Labels {
    transcripts: "Transcripts",
    event: "Event",
    date: "Date",
    place: "Place",
    source: "Source",
    speakers: "Speakers",
    transcript: "Transcript",
    intro: "Introduction",
    turns: "turns",
    not_found: "No such transcript",
    not_found_hint: "The link may be mistyped, or the transcript was removed.",
    error: "The page cannot be shown right now; please try again later.",
    none: "No transcripts yet.",
    participation: "Who spoke how much",
    participation_hint: "Bars: each speaker's share of the words; strip: every turn in order (each links to it); lines under it join a question to its answers.",
};

fn labels(lang: &str) -> &'static Labels {
    let l = lang.to_ascii_lowercase();
    if l.starts_with("zh-hant") || l == "zh-tw" || l == "zh-hk" || l == "zh-mo" {
        &HANT
    } else if l.starts_with("zh") {
        &HANS
    } else {
        &EN
    }
}

/// The language of a page listing several transcripts: theirs if they
/// agree, else undetermined (each entry then carries its own `lang`).
fn common_lang(catalog: &Catalog) -> &str {
    let mut langs = catalog.transcripts.iter().map(|t| t.meta.lang.as_str());
    match langs.next() {
        Some(first) if langs.all(|l| l == first) => first,
        _ => "und",
    }
}

/// Escapes text for HTML content and double- or single-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
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

/// A language tag is only letters, digits and hyphens; anything else in the
/// metadata is not one, and must not reach the attribute unchecked.
fn lang_tag(lang: &str) -> &str {
    if !lang.is_empty()
        && lang.len() <= 35
        && lang.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        lang
    } else {
        "und"
    }
}

/// Only web addresses become links: a `javascript:` or `data:` URL in a
/// sidecar is shown as text, never made clickable.
fn is_web_url(url: &str) -> bool {
    let l = url.trim_start().to_ascii_lowercase();
    (l.starts_with("https://") || l.starts_with("http://")) && !url.chars().any(char::is_control)
}

fn head(out: &mut String, lang: &str, title: &str) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        escape(lang_tag(lang)),
        escape(title),
    );
}

fn tail(out: &mut String) {
    out.push_str("<footer><p>forumbot</p></footer>\n</body>\n</html>\n");
}

/// One paragraph of a turn, with the pieces a long paragraph was split into
/// for retrieval put back together.
struct Paragraph {
    number: u64,
    text: String,
}

/// One turn (0 is the introduction) and its paragraphs, in order.
struct Turn<'a> {
    number: u64,
    speaker: Option<&'a str>,
    role: Option<&'a str>,
    paragraphs: Vec<Paragraph>,
}

/// Groups the passages (ordered by `seq`) into turns and paragraphs.
fn turns(passages: &[StoredPassage]) -> Vec<Turn<'_>> {
    let mut out: Vec<Turn> = Vec::new();
    for p in passages {
        if out.last().is_none_or(|t| t.number != p.turn) {
            out.push(Turn {
                number: p.turn,
                speaker: p.speaker.as_deref(),
                role: p.role.as_deref(),
                paragraphs: Vec::new(),
            });
        }
        let Some(turn) = out.last_mut() else {
            continue;
        };
        match turn.paragraphs.last_mut() {
            Some(last) if last.number == p.paragraph => join_piece(&mut last.text, &p.text),
            _ => turn.paragraphs.push(Paragraph {
                number: p.paragraph,
                text: p.text.clone(),
            }),
        }
    }
    out
}

/// Appends the next sentence-aligned piece of a paragraph. The pieces were
/// trimmed when split; Chinese sentences follow each other with no space, but
/// Latin ones (`Really? Yes.`) need one back.
fn join_piece(text: &mut String, piece: &str) {
    let ends_latin = text.chars().last().is_some_and(|c| c.is_ascii());
    let starts_latin = piece.chars().next().is_some_and(|c| c.is_ascii());
    if ends_latin && starts_latin {
        text.push(' ');
    }
    text.push_str(piece);
}

/// The page of one transcript.
pub fn transcript(info: &TranscriptInfo, passages: &[StoredPassage]) -> String {
    let meta = &info.meta;
    let l = labels(&meta.lang);
    let mut out = String::with_capacity(passages.iter().map(|p| p.text.len()).sum::<usize>() * 2);
    head(&mut out, &meta.lang, &meta.title);

    out.push_str("<header class=\"page\">\n");
    let _ = writeln!(
        out,
        "<p class=\"crumb\"><a href=\"/\">{}</a></p>",
        l.transcripts
    );
    let _ = writeln!(out, "<h1>{}</h1>", escape(&meta.title));
    let mut rows = String::new();
    if let Some(event) = &meta.event {
        let _ = write!(rows, "<dt>{}</dt><dd>{}</dd>", l.event, escape(event));
    }
    if let Some(date) = &meta.date {
        let is_iso = date.len() == 10 && date.bytes().all(|b| b.is_ascii_digit() || b == b'-');
        if is_iso {
            let _ = write!(
                rows,
                "<dt>{}</dt><dd><time datetime=\"{d}\">{d}</time></dd>",
                l.date,
                d = escape(date)
            );
        } else {
            let _ = write!(rows, "<dt>{}</dt><dd>{}</dd>", l.date, escape(date));
        }
    }
    if let Some(place) = &meta.place {
        let _ = write!(rows, "<dt>{}</dt><dd>{}</dd>", l.place, escape(place));
    }
    if let Some(url) = meta.source_url.as_deref().filter(|u| !u.trim().is_empty()) {
        if is_web_url(url) {
            let _ = write!(
                rows,
                "<dt>{}</dt><dd><a class=\"source\" href=\"{u}\" rel=\"noopener noreferrer external\">{u}</a></dd>",
                l.source,
                u = escape(url.trim())
            );
        } else {
            let _ = write!(rows, "<dt>{}</dt><dd>{}</dd>", l.source, escape(url));
        }
    }
    if !rows.is_empty() {
        let _ = writeln!(out, "<dl class=\"meta\">{rows}</dl>");
    }
    let participation = Participation::of(info, passages);
    if !info.speakers.is_empty() {
        let _ = writeln!(out, "<h2>{}</h2>\n<ul class=\"speakers\">", l.speakers);
        for s in &info.speakers {
            let _ = write!(out, "<li><span class=\"name\">{}</span>", escape(&s.name));
            if let Some(role) = &s.role {
                let _ = write!(out, " <span class=\"role\">{}</span>", escape(role));
            }
            let count = info
                .turns_per_speaker
                .iter()
                .find(|(n, _)| *n == s.name)
                .map_or(0, |(_, c)| *c);
            let share = participation
                .speakers
                .iter()
                .find(|x| x.name == s.name)
                .map_or(0.0, |x| x.share);
            let _ = writeln!(
                out,
                " <span class=\"count\">· {count} {} · {}</span></li>",
                l.turns,
                crate::chart::percent(share)
            );
        }
        out.push_str("</ul>\n");
    }
    if !participation.turns.is_empty() {
        let scene = crate::chart::scene(&[std::sync::Arc::new(participation)], None);
        let _ = writeln!(
            out,
            "<h2>{}</h2>\n<figure class=\"participation\">\n{}<figcaption>{}</figcaption>\n</figure>",
            l.participation,
            crate::chart::svg(&scene, l.participation),
            l.participation_hint
        );
    }
    out.push_str("</header>\n<main>\n");
    let _ = writeln!(out, "<h2>{}</h2>", l.transcript);
    for turn in turns(passages) {
        let n = turn.number;
        let class = if n == 0 { "turn intro" } else { "turn" };
        let anchor = links::turn_anchor(n);
        let _ = write!(
            out,
            "<section class=\"{class}\" id=\"{anchor}\">\n<h3 class=\"who\"><a class=\"num\" href=\"#{anchor}\">#{n}</a> "
        );
        match turn.speaker {
            Some(name) => {
                let _ = write!(out, "<span class=\"name\">{}</span>", escape(name));
                if let Some(role) = turn.role {
                    let _ = write!(out, " <span class=\"role\">{}</span>", escape(role));
                }
            }
            None => {
                let _ = write!(out, "<span class=\"name\">{}</span>", l.intro);
            }
        }
        out.push_str("</h3>\n");
        for p in &turn.paragraphs {
            let _ = writeln!(
                out,
                "<p id=\"{}\">{}</p>",
                links::paragraph_anchor(n, p.number),
                escape(&p.text)
            );
        }
        out.push_str("</section>\n");
    }
    out.push_str("</main>\n");
    tail(&mut out);
    out
}

/// The list of transcripts (`GET /`).
pub fn transcript_list(catalog: &Catalog) -> String {
    let lang = common_lang(catalog);
    let l = labels(lang);
    let mut out = String::new();
    head(&mut out, lang, l.transcripts);
    let _ = writeln!(
        out,
        "<header class=\"page\"><h1>{}</h1></header>\n<main>",
        l.transcripts
    );
    if catalog.transcripts.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", l.none);
    } else {
        out.push_str("<ol class=\"transcripts\">\n");
        for t in &catalog.transcripts {
            let m = &t.meta;
            let tl = labels(&m.lang);
            let _ = write!(
                out,
                "<li lang=\"{}\"><a href=\"{}\">{}</a>",
                escape(lang_tag(&m.lang)),
                escape(&links::transcript_path(&m.id)),
                escape(&m.title)
            );
            let details: Vec<String> = [m.event.as_deref(), m.date.as_deref(), m.place.as_deref()]
                .into_iter()
                .flatten()
                .map(escape)
                .collect();
            if !details.is_empty() {
                let _ = write!(
                    out,
                    "<br><span class=\"role\">{}</span>",
                    details.join(" · ")
                );
            }
            let names: Vec<String> = t.speakers.iter().map(|s| escape(&s.name)).collect();
            if !names.is_empty() {
                let _ = write!(
                    out,
                    "<br><span class=\"role\">{}:{}</span>",
                    tl.speakers,
                    names.join("、")
                );
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</main>\n");
    tail(&mut out);
    out
}

/// The page for an id that is not a transcript (served with 404).
pub fn not_found(catalog: &Catalog) -> String {
    let lang = common_lang(catalog);
    let l = labels(lang);
    let mut out = String::new();
    head(&mut out, lang, l.not_found);
    let _ = writeln!(
        out,
        "<header class=\"page\"><p class=\"crumb\"><a href=\"/\">{}</a></p><h1>{}</h1></header>\n\
         <main><p>{}</p><p><a href=\"/\">{}</a></p></main>",
        l.transcripts, l.not_found, l.not_found_hint, l.transcripts
    );
    tail(&mut out);
    out
}

/// The page for a fault of ours (served with 500); the cause is logged only.
pub fn internal_error() -> String {
    let mut out = String::new();
    head(&mut out, "en", "Error");
    let _ = writeln!(
        out,
        "<main><h1>Error</h1><p>{}</p><p lang=\"zh-Hant\">{}</p><p><a href=\"/\">{}</a></p></main>",
        EN.error, HANT.error, EN.transcripts
    );
    tail(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::{Meta, Speaker};

    fn passage(turn: u64, paragraph: u64, seq: u64, text: &str) -> StoredPassage {
        StoredPassage {
            transcript: "t".into(),
            turn,
            paragraph,
            seq,
            speaker: (turn > 0).then(|| "甲".to_owned()),
            role: (turn > 0).then(|| "主持人 & <i>".to_owned()),
            text: text.into(),
            ..StoredPassage::default()
        }
    }

    fn info(source_url: Option<&str>) -> TranscriptInfo {
        TranscriptInfo {
            meta: Meta {
                id: "t".into(),
                title: "標題 <script>".into(),
                event: Some("論壇".into()),
                date: Some("2018-08-31".into()),
                place: Some("北京".into()),
                source_url: source_url.map(str::to_owned),
                lang: "zh-Hant".into(),
            },
            file: "t.txt".into(),
            speakers: vec![Speaker {
                name: "甲".into(),
                role: Some("主持人 & <i>".into()),
                aliases: vec![],
                pinyin: vec![],
                moderator: true,
            }],
            turns: 1,
            turns_per_speaker: vec![("甲".into(), 1)],
            chars_per_speaker: vec![("甲".into(), 10)],
            passages: 4,
            version: 1,
            since_unix: 0,
            text_hash: String::new(),
        }
    }

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(
            escape(r#"<a href="x" title='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(escape("說了什麼"), "說了什麼");
    }

    #[test]
    fn split_paragraphs_are_joined_back_into_one() {
        let ps = [
            passage(0, 1, 0, "前言。"),
            passage(1, 1, 1, "第一句。"),
            passage(1, 1, 2, "第二句。"),
            passage(1, 2, 3, "Really?"),
            passage(1, 2, 4, "Yes."),
        ];
        let html = transcript(&info(None), &ps);
        assert!(
            html.contains("<p id=\"turn-1-p1\">第一句。第二句。</p>"),
            "{html}"
        );
        assert!(
            html.contains("<p id=\"turn-1-p2\">Really? Yes.</p>"),
            "{html}"
        );
        assert!(html.contains("<section class=\"turn intro\" id=\"turn-0\">"));
        assert!(html.contains("<section class=\"turn\" id=\"turn-1\">"));
        assert_eq!(html.matches("<section").count(), 2);
    }

    #[test]
    fn every_paragraph_has_an_anchor_and_its_turn_a_sticky_speaker() {
        let ps: Vec<StoredPassage> = (1..=9)
            .map(|p| passage(12, p, p, &format!("第{p}段。")))
            .collect();
        let html = transcript(&info(None), &ps);
        // One anchor per paragraph, unique, inside the turn's section.
        let section = &html[html.find("id=\"turn-12\"").unwrap()..];
        let section = &section[..section.find("</section>").unwrap()];
        for p in 1..=9 {
            let id = format!("id=\"turn-12-p{p}\"");
            assert_eq!(html.matches(&id).count(), 1, "{id}");
            assert!(
                section.contains(&format!("<p {id}>第{p}段。</p>")),
                "{section}"
            );
        }
        // The speaker's header opens the section and is sticky, so it stays
        // on screen whichever paragraph a link scrolls to.
        let header = section.find("<h3 class=\"who\">").unwrap();
        assert!(section[header..].contains("<span class=\"name\">甲</span>"));
        assert!(section.find("<p ").unwrap() > header);
        let who_rule = CSS.lines().find(|l| l.starts_with(".who{")).unwrap();
        assert!(who_rule.contains("position:sticky") && who_rule.contains("top:0"));
        assert!(
            who_rule.contains("background:"),
            "sticky text needs a background"
        );
    }

    #[test]
    fn metadata_is_escaped_and_only_web_sources_are_links() {
        let ps = [passage(1, 1, 0, "<script>alert(1)</script>")];
        let html = transcript(&info(Some("javascript:alert(1)")), &ps);
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("主持人 &amp; &lt;i&gt;"));
        assert!(!html.contains("href=\"javascript:"));
        assert!(html.contains("<html lang=\"zh-Hant\">"));

        let html = transcript(&info(Some("https://example.org/a?b=1&c=\"2\"")), &ps);
        assert!(html.contains(
            "href=\"https://example.org/a?b=1&amp;c=&quot;2&quot;\" rel=\"noopener noreferrer external\""
        ));
    }

    #[test]
    fn odd_language_tags_do_not_reach_the_attribute() {
        assert_eq!(lang_tag("zh-Hant"), "zh-Hant");
        assert_eq!(lang_tag("x\" onload=\"y"), "und");
        assert!(std::ptr::eq(labels("zh-Hans"), &HANS));
        assert!(std::ptr::eq(labels("zh-Hant-TW"), &HANT));
        assert!(std::ptr::eq(labels("en"), &EN));
    }
}
