//! Which forum: the archive's transcripts as people name them, and who
//! spoke how much in each. Built once per served generation (it is part of
//! [`crate::engine::Loaded`]), from the catalog and the index's stored
//! passages: nothing here reads a transcript file.
//!
//! - **Naming** a transcript ([`Forums::resolve`] for an option,
//!   [`Forums::suggest`] for autocomplete): by its id, by words of its title,
//!   event or place in either script (folded like every other text, see
//!   [`crate::text::fold_str`]), by its date or year (`2018`, `2018-08-31`,
//!   `2018年8月`), or by several of these at once. A name that fits no
//!   transcript, or several, is refused with the close matches to pick from,
//!   the way an unknown speaker is.
//! - **In a question** ([`Forums::narrow`]): title words, an edition (第3屆)
//!   or a date right before a word for a forum (論壇, 峰會, 會議, 圓桌,
//!   forum, summit …): `2018年那場論壇`, `金融科技峰会`, `the 2023 summit`;
//!   or a transcript's id. Those words say where to search, not what to
//!   find: they are taken out of the question, as a named speaker is. A
//!   forum word alone (`論壇上大家怎麼說`) names nothing.
//! - **Participation** ([`Forums::participation`]): for one transcript, each
//!   speaker's share of the words (not only of the turns), the order of the
//!   turns, and the exchanges (which prompt each answer replies to), from the
//!   passages the index stores, computed once per generation and shared.
//!
//! Words are counted as word processors count Chinese ([`words`]): each Han
//! character is one word, and each run of Latin letters or digits is one.

use crate::index::{Catalog, Generation, IndexError, StoredPassage, TranscriptInfo};
use crate::speakers::NameProblem;
use crate::text::{fold_str, is_cjk};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::{Arc, Mutex};

/// A name that is no transcript's, or several transcripts': refused with
/// the transcripts to pick from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", problem_text(.name, .known, *.problem))]
pub struct UnknownTranscript {
    /// The name as typed (or as it stands in the question).
    pub name: String,
    /// The transcripts to pick from, as [`label`]s.
    pub known: Vec<String>,
    pub problem: NameProblem,
}

fn problem_text(name: &str, known: &[String], problem: NameProblem) -> String {
    let mut list = known
        .iter()
        .take(LISTED)
        .map(|k| format!("\n  - {k}"))
        .collect::<String>();
    if known.len() > LISTED {
        list.push_str(&format!("\n  - … ({} in all)", known.len()));
    }
    match problem {
        NameProblem::Several => format!(
            "{name:?} fits several transcripts; name one by its id, more of its title or its date:{list}"
        ),
        NameProblem::Unknown { close: true } => {
            format!("no transcript is called {name:?}; did you mean:{list}")
        }
        NameProblem::Unknown { close: false } => {
            format!("no transcript is called {name:?}; the transcripts are:{list}")
        }
    }
}

/// Transcripts listed in a refusal at most.
const LISTED: usize = 10;

/// How a transcript is shown when people pick one: title, date, place, id.
pub fn label(info: &TranscriptInfo) -> String {
    let m = &info.meta;
    let title: String = if m.title.chars().count() > 40 {
        m.title.chars().take(39).chain(['…']).collect()
    } else {
        m.title.clone()
    };
    let mut out = title;
    for part in [m.date.as_deref(), m.place.as_deref()]
        .into_iter()
        .flatten()
    {
        out.push_str(" · ");
        out.push_str(part);
    }
    out.push_str(&format!(" [{}]", m.id));
    out
}

/// Words of a text: a Han character (or another character of a script
/// written without spaces) is one word, a run of other letters or digits is
/// one. As word processors count Chinese, so a share of words means the same
/// in either script and in mixed text.
pub fn words(text: &str) -> usize {
    let mut n = 0;
    let mut in_run = false;
    for c in text.chars() {
        if is_cjk(c) {
            n += 1;
            in_run = false;
        } else if c.is_alphanumeric() {
            if !in_run {
                n += 1;
            }
            in_run = true;
        } else {
            in_run = false;
        }
    }
    n
}

/// A date as far as it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct When {
    year: Option<u32>,
    month: Option<u32>,
    day: Option<u32>,
}

impl When {
    /// Parses a sidecar date (`2018-08-31`, `2018-08`, `2018`).
    fn of_meta(date: &str) -> Option<When> {
        let found = dates_in(date.trim());
        found.into_iter().next().map(|(_, w)| w)
    }

    /// Whether a transcript dated `date` fits what was given.
    fn fits(&self, date: Option<When>) -> bool {
        let Some(d) = date else {
            return false;
        };
        let same = |a: Option<u32>, b: Option<u32>| a.is_none() || a == b;
        same(self.year, d.year) && same(self.month, d.month) && same(self.day, d.day)
    }
}

/// Something a name says about the transcript it means.
#[derive(Debug, Clone, PartialEq)]
enum Clue {
    /// Folded words standing in its title, event or place.
    Words(String),
    When(When),
}

/// Words for a forum, folded: a title word or date right before one of
/// these names a transcript. Longest first where one holds another.
const FORUM_WORDS: &[&str] = &[
    "研讨会",
    "座谈会",
    "论坛",
    "峰会",
    "大会",
    "会议",
    "沙龙",
    "圆桌",
    "对话",
    "roundtable",
    "conference",
    "symposium",
    "summit",
    "forum",
    "panel",
];

/// Words between a name and the forum word (那場, 的), folded; longest first.
const FILLERS: &[&str] = &[
    "那一场",
    "这一场",
    "那一次",
    "这一次",
    "那一届",
    "这一届",
    "那场",
    "这场",
    "那次",
    "这次",
    "那届",
    "这届",
    "本届",
    "那个",
    "这个",
    "的",
    "在",
    "于",
    "the",
    "at",
    "in",
    "of",
];

/// Characters that may stand between a name and the forum word.
fn is_gap(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '「' | '」'
                | '『'
                | '』'
                | '“'
                | '”'
                | '"'
                | '\''
                | '《'
                | '》'
                | '('
                | ')'
                | '·'
                | ','
        )
}

/// A character of a title word: Han, or an ASCII letter or digit.
fn is_name_char(c: char) -> bool {
    is_cjk(c) || c.is_ascii_alphanumeric()
}

/// Longest title word taken from before a forum word, in characters.
const MAX_WORDS_CHARS: usize = 16;

/// Dates in folded text: `2018`, `2018年`, `2018年8月31日`, `2018-08-31`,
/// `2018/8`, `8月31日`; byte ranges and what they say. Years outside
/// 1900–2100 are not years.
fn dates_in(s: &str) -> Vec<(Range<usize>, When)> {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let end_of = |i: usize| chars.get(i).map_or(s.len(), |x| x.0);
    let digits = |from: usize| {
        let mut j = from;
        while j < chars.len() && chars[j].1.is_ascii_digit() {
            j += 1;
        }
        j
    };
    let number = |from: usize, to: usize| -> u32 {
        chars[from..to].iter().fold(0u32, |n, (_, c)| {
            n.saturating_mul(10).saturating_add(*c as u32 - '0' as u32)
        })
    };
    let at = |i: usize| chars.get(i).map(|x| x.1);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        let prev_is_word = i > 0 && chars[i - 1].1.is_ascii_alphanumeric();
        if !c.is_ascii_digit() || prev_is_word {
            i += 1;
            continue;
        }
        let j = digits(i);
        let n = j - i;
        let value = number(i, j);
        if n == 4 && (1900..=2100).contains(&value) {
            let mut when = When {
                year: Some(value),
                ..When::default()
            };
            let mut end = j;
            // 年, or a separator followed by a month.
            let sep = at(j);
            let month_from = match sep {
                Some('年') => {
                    end = j + 1;
                    Some(j + 1)
                }
                Some('-' | '/' | '.') if at(j + 1).is_some_and(|c| c.is_ascii_digit()) => {
                    Some(j + 1)
                }
                _ => None,
            };
            if let Some(m) = month_from {
                let mj = digits(m);
                let month = number(m, mj);
                if (1..=2).contains(&(mj - m)) && (1..=12).contains(&month) {
                    let after = at(mj);
                    let day_from = match after {
                        Some('月') => {
                            when.month = Some(month);
                            end = mj + 1;
                            Some(mj + 1)
                        }
                        Some('-' | '/' | '.') if sep != Some('年') => {
                            when.month = Some(month);
                            end = mj;
                            Some(mj + 1)
                        }
                        _ if sep != Some('年') => {
                            when.month = Some(month);
                            end = mj;
                            None
                        }
                        _ => None,
                    };
                    if let Some(d) = day_from {
                        let dj = digits(d);
                        let day = number(d, dj);
                        if (1..=2).contains(&(dj - d)) && (1..=31).contains(&day) {
                            when.day = Some(day);
                            end = dj;
                            if matches!(at(dj), Some('日' | '号')) {
                                end = dj + 1;
                            }
                        }
                    }
                }
            }
            if !at(end).is_some_and(|c| c.is_ascii_digit()) {
                out.push((chars[i].0..end_of(end), when));
            }
            i = end.max(i + 1);
            continue;
        }
        if (1..=2).contains(&n) && at(j) == Some('月') && (1..=12).contains(&value) {
            let mut when = When {
                month: Some(value),
                ..When::default()
            };
            let mut end = j + 1;
            let dj = digits(j + 1);
            let day = number(j + 1, dj);
            if (1..=2).contains(&(dj - j - 1))
                && (1..=31).contains(&day)
                && matches!(at(dj), Some('日' | '号'))
            {
                when.day = Some(day);
                end = dj + 1;
            }
            out.push((chars[i].0..end_of(end), when));
            i = end;
            continue;
        }
        i = j;
    }
    out
}

/// One transcript as people name it.
#[derive(Debug)]
struct Entry {
    id: String,
    /// Folded title, event and place, white space taken out.
    names: String,
    /// Folded title alone, white space taken out.
    title: String,
    date: Option<When>,
    label: String,
}

/// A transcript named in a question (see [`Forums::narrow`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mentions {
    /// The transcripts named (positions in the catalog).
    pub transcripts: Vec<usize>,
    /// Where, as byte ranges of the folded question.
    pub spans: Vec<Range<usize>>,
}

/// How much one speaker said in one transcript.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    pub name: String,
    pub role: Option<String>,
    pub moderator: bool,
    pub turns: usize,
    pub words: usize,
    /// Of the words of all the speakers of the transcript (0 to 1).
    pub share: f64,
}

/// One turn, in the order spoken.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TurnMark {
    pub turn: u64,
    pub speaker: String,
    pub words: usize,
    /// Words spoken before this turn (where it starts on a time line).
    pub start: usize,
    /// The turn whose question this one answers, if it answers one.
    pub prompt: Option<u64>,
}

/// A question and the turns that answer it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exchange {
    /// The turn that asks.
    pub prompt: u64,
    pub asker: String,
    pub answers: Vec<u64>,
}

/// Who spoke how much in one transcript, and in what order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Participation {
    pub transcript: String,
    pub title: String,
    pub date: Option<String>,
    pub place: Option<String>,
    pub lang: String,
    /// Words of every turn (the introduction is nobody's).
    pub words: usize,
    /// One per speaker, in the sidecar's order.
    pub speakers: Vec<Share>,
    pub turns: Vec<TurnMark>,
    pub exchanges: Vec<Exchange>,
}

impl Participation {
    /// Computed from a transcript's catalog entry and its stored passages
    /// (in order, as [`Generation::transcript_passages`] gives them).
    pub fn of(info: &TranscriptInfo, passages: &[StoredPassage]) -> Participation {
        let mut turns: Vec<TurnMark> = Vec::new();
        let mut total = 0usize;
        // The prompt's speaker as the index stores it, for each prompt turn.
        let mut askers: BTreeMap<u64, String> = BTreeMap::new();
        for p in passages.iter().filter(|p| p.turn > 0) {
            let Some(speaker) = p.speaker.as_deref() else {
                continue;
            };
            if turns.last().is_none_or(|t| t.turn != p.turn) {
                let prompt = p.prompt.as_ref().map(|x| {
                    askers
                        .entry(x.turn as u64)
                        .or_insert_with(|| x.speaker.clone());
                    x.turn as u64
                });
                turns.push(TurnMark {
                    turn: p.turn,
                    speaker: speaker.to_owned(),
                    words: 0,
                    start: total,
                    prompt,
                });
            }
            let n = words(&p.text);
            if let Some(t) = turns.last_mut() {
                t.words += n;
            }
            total += n;
        }
        let mut speakers: Vec<Share> = info
            .speakers
            .iter()
            .map(|s| Share {
                name: s.name.clone(),
                role: s.role.clone(),
                moderator: s.moderator,
                turns: 0,
                words: 0,
                share: 0.0,
            })
            .collect();
        for t in &turns {
            let i = match speakers.iter().position(|s| s.name == t.speaker) {
                Some(i) => i,
                None => {
                    speakers.push(Share {
                        name: t.speaker.clone(),
                        role: None,
                        moderator: false,
                        turns: 0,
                        words: 0,
                        share: 0.0,
                    });
                    speakers.len() - 1
                }
            };
            speakers[i].turns += 1;
            speakers[i].words += t.words;
        }
        for s in &mut speakers {
            s.share = if total == 0 {
                0.0
            } else {
                s.words as f64 / total as f64
            };
        }
        let mut exchanges: Vec<Exchange> = Vec::new();
        for t in &turns {
            let Some(prompt) = t.prompt else {
                continue;
            };
            match exchanges.iter_mut().find(|e| e.prompt == prompt) {
                Some(e) => e.answers.push(t.turn),
                None => exchanges.push(Exchange {
                    prompt,
                    asker: turns
                        .iter()
                        .find(|x| x.turn == prompt)
                        .map(|x| x.speaker.clone())
                        .or_else(|| askers.get(&prompt).cloned())
                        .unwrap_or_default(),
                    answers: vec![t.turn],
                }),
            }
        }
        exchanges.sort_by_key(|e| e.prompt);
        let m = &info.meta;
        Participation {
            transcript: m.id.clone(),
            title: m.title.clone(),
            date: m.date.clone(),
            place: m.place.clone(),
            lang: m.lang.clone(),
            words: total,
            speakers,
            turns,
            exchanges,
        }
    }

    /// The speaker's position in `speakers` (their colour in pictures).
    pub fn speaker_index(&self, name: &str) -> Option<usize> {
        self.speakers.iter().position(|s| s.name == name)
    }
}

/// Participations kept per generation at most (each is a few kilobytes).
const KEPT: usize = 1024;

/// The transcripts of one generation as people name them, and the
/// participation of each once asked for.
#[derive(Debug)]
pub struct Forums {
    entries: Vec<Entry>,
    /// Every entry's `names`, one per line: where a title word is looked up
    /// in one pass.
    all_names: String,
    /// Lowercase id → entry.
    ids: HashMap<String, usize>,
    /// Whether any transcript has a date (else a year names nothing).
    dated: bool,
    participation: Mutex<HashMap<String, Arc<Participation>>>,
}

/// Folded, white space taken out.
fn squeeze(s: &str) -> String {
    fold_str(s).split_whitespace().collect()
}

impl Forums {
    pub fn new(catalog: &Catalog) -> Self {
        let entries: Vec<Entry> = catalog
            .transcripts
            .iter()
            .map(|t| {
                let m = &t.meta;
                let mut names = squeeze(&m.title);
                for extra in [m.event.as_deref(), m.place.as_deref()]
                    .into_iter()
                    .flatten()
                {
                    names.push('\u{1}');
                    names.push_str(&squeeze(extra));
                }
                Entry {
                    id: m.id.clone(),
                    names,
                    title: squeeze(&m.title),
                    date: m.date.as_deref().and_then(When::of_meta),
                    label: label(t),
                }
            })
            .collect();
        let all_names = entries
            .iter()
            .map(|e| e.names.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let ids = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id.to_ascii_lowercase(), i))
            .collect();
        Forums {
            dated: entries.iter().any(|e| e.date.is_some()),
            entries,
            all_names,
            ids,
            participation: Mutex::new(HashMap::new()),
        }
    }

    /// How many transcripts there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The id of the transcript at `i` (a position in the catalog).
    pub fn id(&self, i: usize) -> &str {
        &self.entries[i].id
    }

    /// How the transcript at `i` is shown to pick it.
    pub fn label(&self, i: usize) -> &str {
        &self.entries[i].label
    }

    fn labels(&self, of: &[usize]) -> Vec<String> {
        of.iter().map(|&i| self.entries[i].label.clone()).collect()
    }

    fn fits(&self, i: usize, clue: &Clue) -> bool {
        let e = &self.entries[i];
        match clue {
            Clue::Words(w) => e.names.contains(w.as_str()),
            Clue::When(w) => w.fits(e.date),
        }
    }

    /// The transcript a typed name means: its id, its title, or words of its
    /// title, event or place and its date, in any combination
    /// (`2018 北京`, `金融科技峰會`). Refused with the close matches when
    /// it fits none, with the candidates when it fits several.
    pub fn resolve(&self, typed: &str) -> Result<usize, UnknownTranscript> {
        let name = typed.trim();
        if let Some(&i) = self.ids.get(&name.to_ascii_lowercase()) {
            return Ok(i);
        }
        let folded = squeeze(name);
        let titled: Vec<usize> = (0..self.entries.len())
            .filter(|&i| !folded.is_empty() && self.entries[i].title == folded)
            .collect();
        if titled.len() == 1 {
            return Ok(titled[0]);
        }
        let clues = typed_clues(&fold_str(name));
        let fitting: Vec<usize> = (0..self.entries.len())
            .filter(|&i| !clues.is_empty() && clues.iter().all(|c| self.fits(i, c)))
            .collect();
        match fitting.len() {
            1 => Ok(fitting[0]),
            n if n > 1 => Err(UnknownTranscript {
                name: name.to_owned(),
                known: self.labels(&fitting),
                problem: NameProblem::Several,
            }),
            _ => {
                let close = self.close(&clues);
                Err(UnknownTranscript {
                    name: name.to_owned(),
                    problem: NameProblem::Unknown {
                        close: !close.is_empty(),
                    },
                    known: if close.is_empty() {
                        self.labels(&(0..self.entries.len()).collect::<Vec<_>>())
                    } else {
                        self.labels(&close)
                    },
                })
            }
        }
    }

    /// Transcripts that fit some of the clues, those fitting most first
    /// (a word held in part counts by its share of character pairs).
    fn close(&self, clues: &[Clue]) -> Vec<usize> {
        let mut scored: Vec<(i64, usize)> = Vec::new();
        for i in 0..self.entries.len() {
            let mut score = 0.0f64;
            for c in clues {
                if self.fits(i, c) {
                    score += 1.0;
                } else if let Clue::Words(w) = c {
                    let chars: Vec<char> = w.chars().collect();
                    let pairs: Vec<String> = chars.windows(2).map(|p| p.iter().collect()).collect();
                    if !pairs.is_empty() {
                        let held = pairs
                            .iter()
                            .filter(|p| self.entries[i].names.contains(p.as_str()))
                            .count();
                        score += 0.9 * held as f64 / pairs.len() as f64;
                    }
                } else if let Clue::When(w) = c {
                    // The same year, another day: close.
                    if w.year.is_some()
                        && (When {
                            year: w.year,
                            ..When::default()
                        })
                        .fits(self.entries[i].date)
                    {
                        score += 0.5;
                    }
                }
            }
            if score > 0.0 {
                scored.push((-(score * 1000.0) as i64, i));
            }
        }
        scored.sort();
        scored.into_iter().take(LISTED).map(|(_, i)| i).collect()
    }

    /// Transcripts for autocomplete: an id starting with what was typed,
    /// then those fitting every clue typed, then those fitting some; at
    /// most `max`, in catalog order within each group. Nothing typed: the
    /// first `max`.
    pub fn suggest(&self, typed: &str, max: usize) -> Vec<usize> {
        let typed = typed.trim();
        if typed.is_empty() {
            return (0..self.entries.len().min(max)).collect();
        }
        let lower = typed.to_ascii_lowercase();
        let clues = typed_clues(&fold_str(typed));
        let mut scored: Vec<(usize, usize)> = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            if e.id.to_ascii_lowercase().starts_with(&lower) {
                scored.push((0, i));
                continue;
            }
            let fit = clues.iter().filter(|c| self.fits(i, c)).count();
            if fit > 0 {
                scored.push((1 + clues.len() - fit, i));
            }
        }
        scored.sort();
        scored.into_iter().take(max).map(|(_, i)| i).collect()
    }

    /// The transcripts a question is restricted to, as ids: `given` (ids
    /// already resolved, from an option) when there are any, else those the
    /// folded question names ([`Forums::find_in`]). The words naming them
    /// are taken out of `rest` either way. A transcript named in the
    /// question that is unknown or ambiguous is refused (unless `given`).
    pub fn narrow(
        &self,
        given: &[String],
        rest: &mut String,
    ) -> Result<Vec<String>, UnknownTranscript> {
        let found = self.find_in(rest);
        let mut spans = match &found {
            Ok(m) => m.spans.clone(),
            Err(_) => Vec::new(),
        };
        spans.sort_by_key(|r| std::cmp::Reverse(r.start));
        for span in &spans {
            if span.end <= rest.len()
                && rest.is_char_boundary(span.start)
                && rest.is_char_boundary(span.end)
            {
                rest.replace_range(span.clone(), " ");
            }
        }
        if !given.is_empty() {
            return Ok(given.to_vec());
        }
        let m = found?;
        Ok(m.transcripts
            .iter()
            .map(|&i| self.entries[i].id.clone())
            .collect())
    }

    /// Transcripts a folded question names: an id as a word of its own, or
    /// title words, an edition or a date right before a forum word. A name
    /// that fits every transcript narrows nothing; one that fits none, or
    /// several, is refused with the transcripts to pick from.
    pub fn find_in(&self, folded: &str) -> Result<Mentions, UnknownTranscript> {
        let mut m = Mentions::default();
        if self.entries.is_empty() {
            return Ok(m);
        }
        let add = |m: &mut Mentions, found: &[usize], span: Range<usize>| {
            // Naming them all narrows nothing (金科創新社的對話, when every
            // transcript is one).
            if found.len() < self.entries.len() || self.entries.len() == 1 {
                for &i in found {
                    if !m.transcripts.contains(&i) {
                        m.transcripts.push(i);
                    }
                }
            }
            m.spans.push(span);
        };
        // An id, as a word of its own (ids with a digit, `_` or `-` only:
        // a plain word such as `panel` is a word first).
        let id_like = folded
            .bytes()
            .any(|b| b == b'_' || b == b'-' || b.is_ascii_digit());
        for (start, word) in id_words(folded).into_iter().filter(|_| id_like) {
            if !word.contains(|c: char| c.is_ascii_digit() || c == '_' || c == '-') {
                continue;
            }
            if let Some(&i) = self.ids.get(word) {
                add(&mut m, &[i], start..start + word.len());
            }
        }
        let forum_words = forum_words_in(folded);
        if forum_words.is_empty() {
            return Ok(m);
        }
        let dates = dates_in(folded);
        for venue in forum_words {
            let (start, clues) = self.clues_before(folded, venue.start, &dates);
            if clues.is_empty() {
                continue;
            }
            // 論壇上, 會議中: the place word goes with the forum word.
            let after = folded[venue.end..]
                .chars()
                .next()
                .filter(|c| matches!(c, '上' | '中' | '里' | '内'))
                .map_or(0, char::len_utf8);
            let span = start..venue.end + after;
            let fitting: Vec<usize> = (0..self.entries.len())
                .filter(|&i| clues.iter().all(|c| self.fits(i, c)))
                .collect();
            let name = folded[start..venue.end].trim().to_owned();
            match fitting.len() {
                0 => {
                    let close = self.close(&clues);
                    return Err(UnknownTranscript {
                        name,
                        problem: NameProblem::Unknown {
                            close: !close.is_empty(),
                        },
                        known: if close.is_empty() {
                            self.labels(&(0..self.entries.len()).collect::<Vec<_>>())
                        } else {
                            self.labels(&close)
                        },
                    });
                }
                n if n > 1 && n < self.entries.len() => {
                    return Err(UnknownTranscript {
                        name,
                        known: self.labels(&fitting),
                        problem: NameProblem::Several,
                    })
                }
                _ => add(&mut m, &fitting, span),
            }
        }
        Ok(m)
    }

    /// The clues standing right before byte `end` of a folded question
    /// (walking back over fillers such as 那場 and 的), and where the first
    /// of them starts.
    fn clues_before(
        &self,
        q: &str,
        end: usize,
        dates: &[(Range<usize>, When)],
    ) -> (usize, Vec<Clue>) {
        let mut pos = end;
        let mut start = end;
        let mut clues = Vec::new();
        loop {
            let head = &q[..pos];
            // A Latin filler only as a word of its own (`the`, not `bathe`).
            let filler = FILLERS.iter().find(|f| {
                head.ends_with(*f)
                    && !(f.is_ascii()
                        && head[..head.len() - f.len()]
                            .chars()
                            .next_back()
                            .is_some_and(|c| c.is_ascii_alphanumeric()))
            });
            if let Some(f) = filler {
                pos -= f.len();
                continue;
            }
            if let Some(c) = head.chars().next_back().filter(|&c| is_gap(c)) {
                pos -= c.len_utf8();
                continue;
            }
            if let Some((r, w)) = dates.iter().find(|(r, _)| r.end == pos) {
                // A year names nothing in an archive without dates.
                if self.dated {
                    clues.push(Clue::When(*w));
                    start = r.start;
                }
                pos = r.start;
                continue;
            }
            if let Some(len) = self.title_words_ending(head) {
                clues.push(Clue::Words(head[pos - len..].to_owned()));
                pos -= len;
                start = pos;
                continue;
            }
            break;
        }
        (start, clues)
    }

    /// Bytes of the longest run of at least two characters at the end of
    /// `head` that stands in some transcript's title, event or place.
    fn title_words_ending(&self, head: &str) -> Option<usize> {
        let run: Vec<(usize, char)> = head
            .char_indices()
            .rev()
            .take_while(|&(_, c)| is_name_char(c))
            .take(MAX_WORDS_CHARS)
            .collect();
        // A Latin word is not cut: the run must start at its beginning.
        for k in (2..=run.len()).rev() {
            let from = run[k - 1].0;
            let piece = &head[from..];
            let cuts_a_word = head[..from]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric())
                && piece.starts_with(|c: char| c.is_ascii_alphanumeric());
            if cuts_a_word || piece.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            if self.all_names.contains(piece) {
                return Some(piece.len());
            }
        }
        None
    }

    /// Who spoke how much in transcript `id` (`None` if there is no such
    /// transcript), computed once per generation from the stored passages.
    pub fn participation(
        &self,
        generation: &Generation,
        id: &str,
    ) -> Result<Option<Arc<Participation>>, IndexError> {
        if let Some(p) = self
            .participation
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
        {
            return Ok(Some(p.clone()));
        }
        let Some(info) = generation.catalog.transcript(id) else {
            return Ok(None);
        };
        let passages = generation.transcript_passages(id)?;
        let p = Arc::new(Participation::of(info, &passages));
        let mut kept = self.participation.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= KEPT {
            kept.clear();
        }
        kept.insert(id.to_owned(), p.clone());
        Ok(Some(p))
    }
}

/// Words made of ASCII letters, digits, `_` and `-` (how ids are spelt),
/// with their byte offsets.
fn id_words(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    let is_id_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    for (i, c) in s.char_indices() {
        match (is_id_char(c), start) {
            (true, None) => start = Some(i),
            (false, Some(st)) => {
                out.push((st, &s[st..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push((st, &s[st..]));
    }
    out
}

/// Forum words in a folded question, as byte ranges, in order; Latin ones
/// only as whole words.
fn forum_words_in(q: &str) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    for w in FORUM_WORDS {
        for (at, _) in q.match_indices(w) {
            let range = at..at + w.len();
            if w.is_ascii() {
                let before = q[..at].chars().next_back();
                let after = q[range.end..].chars().next();
                if before.is_some_and(|c| c.is_ascii_alphanumeric())
                    || after.is_some_and(|c| c.is_ascii_alphanumeric())
                {
                    continue;
                }
            }
            if !out
                .iter()
                .any(|r| r.start < range.end && range.start < r.end)
            {
                out.push(range);
            }
        }
    }
    out.sort_by_key(|r| r.start);
    out
}

/// Clues of a typed name (an option, not a question): its dates, and its
/// other words with fillers and forum words taken out.
fn typed_clues(folded: &str) -> Vec<Clue> {
    let dates = dates_in(folded);
    let mut clues: Vec<Clue> = dates.iter().map(|(_, w)| Clue::When(*w)).collect();
    let mut rest = folded.to_owned();
    for (r, _) in dates.iter().rev() {
        rest.replace_range(r.clone(), " ");
    }
    // Chinese ones anywhere (they are written without spaces), Latin ones
    // as words of their own.
    for w in FORUM_WORDS
        .iter()
        .chain(FILLERS)
        .filter(|w| !w.is_ascii() && w.chars().count() > 1)
    {
        rest = rest.replace(w, " ");
    }
    for chunk in rest.split(|c: char| !is_name_char(c)) {
        let chunk = chunk.trim_matches('的');
        let dropped =
            chunk.is_ascii() && (FORUM_WORDS.contains(&chunk) || FILLERS.contains(&chunk));
        if !chunk.is_empty() && !dropped {
            clues.push(Clue::Words(chunk.to_owned()));
        }
    }
    clues
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::{Meta, Speaker};

    fn info(id: &str, title: &str, event: &str, date: &str, place: &str) -> TranscriptInfo {
        TranscriptInfo {
            meta: Meta {
                id: id.into(),
                title: title.into(),
                event: Some(event.into()),
                date: Some(date.into()),
                place: Some(place.into()),
                source_url: None,
                lang: "zh-Hant".into(),
            },
            file: format!("{id}.txt"),
            speakers: vec![],
            turns: 0,
            turns_per_speaker: vec![],
            chars_per_speaker: vec![],
            passages: 0,
            version: 1,
            since_unix: 0,
            text_hash: String::new(),
        }
    }

    fn archive() -> Forums {
        Forums::new(&Catalog {
            transcripts: vec![
                info(
                    "000_075a307d861b3240",
                    "金科創新社「對話」瞄準人性 合作 開放 共贏,打好互聯網下半場",
                    "2018網絡金融營銷論壇 · 圓桌高峰論壇",
                    "2018-08-31",
                    "北京",
                ),
                info(
                    "gen_00000",
                    "數字金融沙龍「對話」聚焦金融科技 人工智能,實現用戶增長",
                    "第3屆金融科技創新論壇",
                    "2021-05-12",
                    "上海",
                ),
                info(
                    "gen_00001",
                    "網金研究院「對話」擁抱普惠金融 雲計算,共創新未來",
                    "第12屆普惠金融論壇 · 圓桌高峰論壇",
                    "2018-11-03",
                    "深圳",
                ),
            ],
        })
    }

    fn ids(f: &Forums, found: &[usize]) -> Vec<String> {
        found.iter().map(|&i| f.id(i).to_owned()).collect()
    }

    fn named(f: &Forums, q: &str) -> Result<Vec<String>, UnknownTranscript> {
        let mut rest = fold_str(q);
        f.narrow(&[], &mut rest)
    }

    #[test]
    fn words_count_han_characters_and_latin_runs() {
        assert_eq!(words("我們談談 MarTech 和 5G。"), 2 + 2 + 1 + 1 + 1);
        assert_eq!(words("2018年,AI+大數據"), 1 + 1 + 1 + 3);
        assert_eq!(words("……!?"), 0);
    }

    #[test]
    fn dates_are_read_in_the_forms_people_write_them() {
        let when = |s: &str| dates_in(s).into_iter().map(|(_, w)| w).collect::<Vec<_>>();
        let ymd = |y, m, d| When {
            year: y,
            month: m,
            day: d,
        };
        assert_eq!(when("2018年那场论坛"), [ymd(Some(2018), None, None)]);
        assert_eq!(when("2018-08-31"), [ymd(Some(2018), Some(8), Some(31))]);
        assert_eq!(when("2018年8月31日"), [ymd(Some(2018), Some(8), Some(31))]);
        assert_eq!(when("2018/8"), [ymd(Some(2018), Some(8), None)]);
        assert_eq!(when("8月31日的论坛"), [ymd(None, Some(8), Some(31))]);
        assert!(when("12345 和 1000亿").is_empty());
        let (r, _) = &dates_in("在2018年的峰会")[0];
        assert_eq!(&"在2018年的峰会"[r.clone()], "2018年");
    }

    #[test]
    fn an_option_names_a_transcript_by_id_title_words_date_or_place() {
        let f = archive();
        let one = |typed: &str| f.resolve(typed).map(|i| f.id(i).to_owned());
        assert_eq!(one("GEN_00001").unwrap(), "gen_00001");
        assert_eq!(one("金融科技峰會").unwrap(), "gen_00000");
        assert_eq!(one("金融科技峰会").unwrap(), "gen_00000");
        assert_eq!(one("2021").unwrap(), "gen_00000");
        assert_eq!(one("深圳").unwrap(), "gen_00001");
        assert_eq!(one("2018 北京").unwrap(), "000_075a307d861b3240");
        assert_eq!(one("第12屆").unwrap(), "gen_00001");
        // Several fit: all of them offered.
        let e = one("2018").unwrap_err();
        assert_eq!(e.problem, NameProblem::Several);
        assert_eq!(e.known.len(), 2, "{e}");
        assert!(e.to_string().contains("[gen_00001]"), "{e}");
        // None fits: the close ones offered.
        let e = one("2018年的上海論壇").unwrap_err();
        assert_eq!(e.problem, NameProblem::Unknown { close: true }, "{e}");
        let e = one("區塊鏈大會").unwrap_err();
        assert!(matches!(e.problem, NameProblem::Unknown { .. }), "{e}");
        assert!(
            e.to_string()
                .starts_with("no transcript is called \"區塊鏈大會\""),
            "{e}"
        );
    }

    #[test]
    fn a_question_names_a_transcript_by_title_words_or_date_before_a_forum_word() {
        let f = archive();
        assert_eq!(
            named(&f, "金融科技峰会上大家怎么看人才").unwrap(),
            ["gen_00000"]
        );
        assert_eq!(named(&f, "2021年那場論壇說了什麼?").unwrap(), ["gen_00000"]);
        assert_eq!(
            named(&f, "what did the 2021 summit say about AI?").unwrap(),
            ["gen_00000"]
        );
        assert_eq!(
            named(&f, "網絡金融營銷論壇上郭慶怎麼看人才?").unwrap(),
            ["000_075a307d861b3240"]
        );
        assert_eq!(named(&f, "gen_00001 裡說了什麼").unwrap(), ["gen_00001"]);
        // A forum word alone, or a topic, names nothing.
        assert!(named(&f, "論壇上大家怎麼看人才?").unwrap().is_empty());
        assert!(named(&f, "金融科技怎麼改變營銷?").unwrap().is_empty());
        assert!(named(&f, "人民币汇率明年会贬值吗").unwrap().is_empty());
        // Naming every transcript narrows nothing.
        assert!(named(&f, "「對話」圓桌上大家怎麼說").is_ok());
        // Ambiguous and unknown, with the ones to pick from.
        let e = named(&f, "2018年那場論壇上說了什麼").unwrap_err();
        assert_eq!(e.problem, NameProblem::Several, "{e}");
        assert_eq!(e.name, "2018年那场论坛");
        let e = named(&f, "2030年的峰會上說了什麼").unwrap_err();
        assert!(matches!(e.problem, NameProblem::Unknown { .. }), "{e}");
    }

    #[test]
    fn the_naming_words_are_taken_out_of_the_question() {
        let f = archive();
        let mut rest = fold_str("郭慶在2021年那場論壇上怎麼看人才?");
        assert_eq!(f.narrow(&[], &mut rest).unwrap(), ["gen_00000"]);
        assert!(
            !rest.contains("2021") && !rest.contains("论坛") && !rest.contains('上'),
            "{rest}"
        );
        assert!(rest.contains("人才") && rest.contains("郭庆"), "{rest}");
        // An option wins over the question, whose naming words still go.
        let mut rest = fold_str("2030年的峰會上說了什麼");
        let given = vec!["gen_00001".to_owned()];
        assert_eq!(f.narrow(&given, &mut rest).unwrap(), given);
    }

    #[test]
    fn suggestions_start_with_ids_then_fitting_titles() {
        let f = archive();
        assert_eq!(ids(&f, &f.suggest("gen", 25)), ["gen_00000", "gen_00001"]);
        assert_eq!(ids(&f, &f.suggest("普惠", 25)), ["gen_00001"]);
        assert_eq!(ids(&f, &f.suggest("2018", 25)).len(), 2);
        assert_eq!(f.suggest("", 2).len(), 2);
        assert!(f.suggest("zzz", 25).is_empty());
    }

    #[test]
    fn participation_counts_words_turns_and_exchanges() {
        use crate::conversation::Prompt;
        let mut i = info("t", "標題", "論壇", "2018-01-01", "北京");
        i.speakers = ["主持", "甲", "乙"]
            .iter()
            .map(|n| Speaker {
                name: (*n).into(),
                role: None,
                aliases: vec![],
                pinyin: vec![],
                moderator: *n == "主持",
            })
            .collect();
        let p = |turn: u64, speaker: &str, text: &str, prompt: Option<u64>| StoredPassage {
            transcript: "t".into(),
            turn,
            speaker: (turn > 0).then(|| speaker.to_owned()),
            text: text.into(),
            prompt: prompt.map(|t| Prompt {
                turn: t as usize,
                speaker: "主持".into(),
                text: "?".into(),
            }),
            ..StoredPassage::default()
        };
        let passages = [
            p(0, "", "前言不算。", None),
            p(1, "主持", "請問?", None),
            p(2, "甲", "我說兩句。", Some(1)),
            p(2, "甲", "AI 很重要。", Some(1)),
            p(3, "乙", "同意。", Some(1)),
            p(4, "主持", "下一題?", None),
            p(5, "乙", "好。", Some(4)),
        ];
        let part = Participation::of(&i, &passages);
        assert_eq!(part.words, 2 + 4 + 4 + 2 + 3 + 1);
        let share = |n: &str| part.speakers.iter().find(|s| s.name == n).unwrap().clone();
        assert_eq!((share("甲").words, share("甲").turns), (8, 1));
        assert_eq!((share("乙").words, share("乙").turns), (3, 2));
        assert!((share("甲").share - 8.0 / 16.0).abs() < 1e-9);
        let order: Vec<(u64, &str, usize)> = part
            .turns
            .iter()
            .map(|t| (t.turn, t.speaker.as_str(), t.start))
            .collect();
        assert_eq!(
            order,
            [
                (1, "主持", 0),
                (2, "甲", 2),
                (3, "乙", 10),
                (4, "主持", 12),
                (5, "乙", 15)
            ]
        );
        assert_eq!(
            part.exchanges,
            [
                Exchange {
                    prompt: 1,
                    asker: "主持".into(),
                    answers: vec![2, 3]
                },
                Exchange {
                    prompt: 4,
                    asker: "主持".into(),
                    answers: vec![5]
                }
            ]
        );
    }
}
