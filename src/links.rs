//! Where a quote lives on the web: the one place that knows the transcript
//! pages' route (`/t/{id}`), the anchors of their turns and paragraphs
//! (`#turn-N`, `#turn-N-pP`) and the `:~:text=` fragment that highlights a
//! quote.
//!
//! Guarantees: the router ([`crate::web`]), the page markup
//! ([`crate::web::page`]) and every link in an answer or summary are built
//! from the items here, so a link always names a route that is served and an
//! element the page has; the text fragment's pieces are verbatim slices of
//! the quote, cut on clause boundaries and percent-encoded, so no quote can
//! break the URL's syntax.

use crate::transcript::is_sentence_end;

/// The route of a transcript page, in the router's syntax.
pub const TRANSCRIPT_ROUTE: &str = "/t/{id}";
/// The same with a trailing slash, which the router sends on to the page.
pub const TRANSCRIPT_ROUTE_SLASH: &str = "/t/{id}/";

/// The path of transcript `id`'s page (`/t/{id}`).
pub fn transcript_path(id: &str) -> String {
    format!("/t/{id}")
}

/// The address of transcript `id`'s page under `public_url`.
pub fn transcript_url(public_url: &str, id: &str) -> String {
    format!(
        "{}{}",
        public_url.trim_end_matches('/'),
        transcript_path(id)
    )
}

/// The element id of turn `turn` on its page (`turn-N`; 0 is the
/// introduction).
pub fn turn_anchor(turn: u64) -> String {
    format!("turn-{turn}")
}

/// The element id of paragraph `paragraph` (1-based) of turn `turn`
/// (`turn-N-pP`).
pub fn paragraph_anchor(turn: u64, paragraph: u64) -> String {
    format!("turn-{turn}-p{paragraph}")
}

/// What the introduction (turn 0, the paragraphs before the first speaker)
/// is called wherever a reader sees it in Chinese: on the page, in answers
/// and in the command line. One word everywhere (and the same in both
/// scripts).
pub const INTRODUCTION: &str = "前言";

/// A link as short as a terminal wants it: the page and the paragraph's
/// anchor, without the `:~:text=` directive (hundreds of percent-encoded
/// characters that only a browser reads). Answers in JSON and on Discord
/// keep the whole link.
pub fn without_text_directive(url: &str) -> &str {
    url.split_once(":~:").map_or(url, |(page, _)| page)
}

/// A text fragment's start or end is a few whole clauses of at least this
/// many characters…
const FRAGMENT_MIN: usize = 8;
/// …and at most this many; a longer single clause is cut to
/// [`FRAGMENT_CHARS`].
const FRAGMENT_MAX: usize = 48;
/// Longest piece of a clause put in a link's text fragment, in characters.
const FRAGMENT_CHARS: usize = 24;

/// Punctuation that ends a clause (a sentence end, a comma, a colon, an
/// enumeration comma, a line break): browsers match a text fragment only
/// on word boundaries, and a clause boundary is one in any script.
fn is_clause_end(c: char) -> bool {
    is_sentence_end(c) || matches!(c, '\u{ff0c}' | '\u{ff1a}' | '、' | ',' | ':' | '\n')
}

/// The clauses of a text, each with its closing punctuation, trimmed.
fn clauses(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev_end = false;
    for (i, c) in text.char_indices() {
        let end = is_clause_end(c);
        if prev_end && !end {
            out.push(text[start..i].trim());
            start = i;
        }
        prev_end = end;
    }
    out.push(text[start..].trim());
    out.retain(|c| !c.is_empty());
    out
}

/// A fragment piece: the clauses joined as in the text, closing
/// punctuation off, at most [`FRAGMENT_MAX`] characters (else the first
/// [`FRAGMENT_CHARS`], or with `from_end` the last ones).
fn fragment_piece(text: &str, from_end: bool) -> String {
    let piece = text.trim().trim_end_matches(is_clause_end).trim();
    let n = piece.chars().count();
    if n <= FRAGMENT_MAX {
        piece.to_owned()
    } else if from_end {
        piece.chars().skip(n - FRAGMENT_CHARS).collect()
    } else {
        piece.chars().take(FRAGMENT_CHARS).collect()
    }
}

/// `{base}/t/{id}#turn-{N}-p{P}:~:text={start},{end}`: opens the page at
/// the quoted paragraph (`#turn-{N}` when `paragraph` is 0), and browsers
/// that support text fragments highlight the whole quote, from its first
/// clause to its last. Short quotes are one piece (`text={quote}`). Both
/// pieces are percent-encoded, so a `,` or `-` in them is not syntax.
pub fn link(public_url: &str, transcript: &str, turn: u64, paragraph: u64, text: &str) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let page = transcript_url(public_url, transcript);
    let anchor = if paragraph > 0 {
        paragraph_anchor(turn, paragraph)
    } else {
        turn_anchor(turn)
    };
    let parts = clauses(text);
    let span = |range: std::ops::Range<usize>| -> &str {
        match (
            parts.get(range.start),
            range.end.checked_sub(1).and_then(|e| parts.get(e)),
        ) {
            (Some(first), Some(last)) if range.start < range.end => {
                // Clauses are slices of `text`: the span between them, verbatim.
                let start = first.as_ptr() as usize - text.as_ptr() as usize;
                let end = last.as_ptr() as usize - text.as_ptr() as usize + last.len();
                &text[start..end]
            }
            _ => "",
        }
    };
    let chars = |r: std::ops::Range<usize>| span(r).chars().count();
    // Clauses from the front, then from the back, until each piece is long
    // enough to be found once.
    let mut head = 1;
    while head < parts.len() && chars(0..head) < FRAGMENT_MIN {
        head += 1;
    }
    let mut tail = parts.len();
    while tail > head && chars(tail..parts.len()) < FRAGMENT_MIN {
        tail -= 1;
    }
    let encode = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    let whole = fragment_piece(text, false);
    let short = text.trim().chars().count() <= FRAGMENT_MAX;
    let directive = if whole.is_empty() {
        String::new()
    } else if tail >= parts.len() || short {
        // One piece: the quote is short, or one clause.
        encode(&whole)
    } else {
        let start = fragment_piece(span(0..head), false);
        let end = fragment_piece(span(tail..parts.len()), true);
        format!("{},{}", encode(&start), encode(&end))
    };
    if directive.is_empty() {
        format!("{page}#{anchor}")
    } else {
        format!("{page}#{anchor}:~:text={directive}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The decoded pieces of a link's text directive.
    fn directive(l: &str) -> Vec<String> {
        let fragment = l.split(":~:text=").nth(1).unwrap();
        assert!(fragment.is_ascii(), "{l}");
        fragment
            .split(',')
            .map(|p| {
                percent_encoding::percent_decode_str(p)
                    .decode_utf8()
                    .unwrap()
                    .into_owned()
            })
            .collect()
    }

    #[test]
    fn links_open_the_paragraph_and_highlight_the_whole_quote() {
        // A short quote is one piece, closing punctuation off.
        let l = link("http://h:1/", "abc", 3, 2, "我們可以用這個方法,再說。");
        assert!(l.starts_with("http://h:1/t/abc#turn-3-p2:~:text="), "{l}");
        assert_eq!(directive(&l), ["我們可以用這個方法,再說"]);
        // The introduction and callers without a paragraph keep `#turn-N`.
        let l = link("http://h", "abc", 0, 0, "前言。");
        assert!(l.starts_with("http://h/t/abc#turn-0:~:text="), "{l}");

        // A long quote: its first and last clauses, so the highlight runs
        // from start to end, each piece a verbatim slice ending on a
        // clause boundary.
        let long = "金融業對營銷新技術很敏感,因為客戶的需求變化很快。我們做了很多嘗試,\
                    有成功也有失敗,但是不發展是更大的風險。所以我們要堅持下去,不忘初心。";
        let l = link("http://h", "t", 12, 7, long);
        assert!(l.contains("#turn-12-p7:~:text="), "{l}");
        let pieces = directive(&l);
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        assert!(long.starts_with(&pieces[0]), "{pieces:?}");
        assert!(
            long.trim_end_matches('。').ends_with(&pieces[1]),
            "{pieces:?}"
        );
        assert!(pieces
            .iter()
            .all(|p| (FRAGMENT_MIN..=FRAGMENT_MAX).contains(&p.chars().count())));
        assert_eq!(pieces[0], "金融業對營銷新技術很敏感");
        assert_eq!(pieces[1], "所以我們要堅持下去,不忘初心");

        // Characters that mean something in a text directive are encoded.
        let l = link("http://h", "a", 1, 1, "a-b&c,d");
        assert!(l.ends_with("text=a%2Db%26c%2Cd"), "{l}");
        // Nothing to quote: the anchor alone.
        assert_eq!(link("http://h", "a", 1, 3, " 。"), "http://h/t/a#turn-1-p3");
    }

    #[test]
    fn routes_and_anchors_agree_with_links() {
        assert_eq!(
            TRANSCRIPT_ROUTE.replace("{id}", "abc"),
            transcript_path("abc")
        );
        assert_eq!(transcript_url("http://h/", "abc"), "http://h/t/abc");
        let l = link("http://h", "abc", 4, 2, "。");
        assert_eq!(
            l,
            format!(
                "{}#{}",
                transcript_url("http://h", "abc"),
                paragraph_anchor(4, 2)
            )
        );
        let l = link("http://h", "abc", 4, 0, "。");
        assert_eq!(l, format!("http://h/t/abc#{}", turn_anchor(4)));
    }

    #[test]
    fn a_short_link_keeps_the_paragraph_anchor() {
        let l = link(
            "http://h",
            "abc",
            12,
            5,
            "金融業對營銷新技術很敏感,因為客戶的需求變化很快。",
        );
        assert_eq!(without_text_directive(&l), "http://h/t/abc#turn-12-p5");
        assert_eq!(
            without_text_directive("http://h/t/abc#turn-1"),
            "http://h/t/abc#turn-1"
        );
    }
}
