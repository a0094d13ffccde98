//! Transcripts: parsing the article format into speaker turns, and validating
//! it, with no I/O beyond reading the file and its metadata sidecar.
//!
//! A transcript is a plain UTF-8 text file. A turn opens at a line `NAME:` or
//! `NAME:` (full- or half-width colon) for a speaker of the sidecar, or, with no
//! sidecar, for a name that opens two or more lines. A line holding only
//! `NAME:` opens a turn whose words follow. Lines without a prefix continue
//! the current turn as new paragraphs. Before the first turn, paragraphs are
//! the introduction (kept, with no speaker). The title line repeated between
//! sections (a caption) and the page boilerplate at the end are not content.
//!
//! Everything here is pure: `parse` takes bytes and returns a [`Transcript`] or
//! a [`TranscriptError`] naming the file and, where it applies, the line.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Longest plausible speaker name, in characters, when guessing speakers
/// from a transcript without a sidecar.
const MAX_GUESSED_NAME_CHARS: usize = 8;

/// A paragraph longer than this (in characters) is split at sentence ends so
/// a quote stays readable and a hit points at the sentences that matched.
pub const MAX_PASSAGE_CHARS: usize = 320;

/// Lines that start the page furniture after the article: nothing after them
/// is content.
const TRAILER_MARKERS: &[&str] = &[
    "分享到",
    "相關文章",
    "相关文章",
    "相關閱讀",
    "相关阅读",
    "責任編輯",
    "责任编辑",
];

/// Metadata of one transcript, from its sidecar (or guessed from the file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub id: String,
    pub title: String,
    pub event: Option<String>,
    pub date: Option<String>,
    pub place: Option<String>,
    pub source_url: Option<String>,
    /// BCP 47 tag of the script the transcript is written in (`zh-Hant`, `zh-Hans`).
    pub lang: String,
}

/// A person who speaks in a transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Speaker {
    /// Canonical name, as it opens the speaker's turns.
    pub name: String,
    pub role: Option<String>,
    /// Other names people use (郭總, 主持人), as written in the sidecar.
    pub aliases: Vec<String>,
    /// Generated pinyin spellings of the name, lowercase, no spaces
    /// (`guoqing`, and given name first: `qingguo`).
    pub pinyin: Vec<String>,
    pub moderator: bool,
}

/// One paragraph of text and the line it came from (1-based).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paragraph {
    pub line: usize,
    pub text: String,
}

/// A speaker's turn: what one person said before the next person spoke.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// 1-based position among the transcript's turns.
    pub number: usize,
    pub speaker: String,
    pub line: usize,
    pub paragraphs: Vec<Paragraph>,
}

/// A parsed transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    pub meta: Meta,
    pub speakers: Vec<Speaker>,
    /// Paragraphs before the first turn (date, place, theme, participants).
    pub intro: Vec<Paragraph>,
    pub turns: Vec<Turn>,
}

/// The unit of retrieval: one paragraph (or a sentence-aligned piece of a
/// long one) with everything needed to quote and link it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Passage {
    pub transcript: String,
    /// 0 for the introduction, else the turn number.
    pub turn: usize,
    /// 1-based paragraph within the turn (pieces of a split paragraph share it).
    pub paragraph: usize,
    pub speaker: Option<String>,
    pub role: Option<String>,
    pub text: String,
}

/// Why a transcript was refused. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the file is empty")]
    Empty { path: PathBuf },
    #[error("{path}, line {line}: not valid UTF-8 text (save the file as UTF-8)")]
    NotUtf8 { path: PathBuf, line: usize },
    #[error(
        "{path}, line {line}: contains a NUL byte; this looks like a binary file, not a transcript"
    )]
    Binary { path: PathBuf, line: usize },
    #[error("{path}: no speaker turn found: {hint}")]
    NoTurns { path: PathBuf, hint: String },
    #[error("{path}: metadata sidecar: {message}")]
    Sidecar { path: PathBuf, message: String },
}

impl TranscriptError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            TranscriptError::Io { path, .. }
            | TranscriptError::Empty { path }
            | TranscriptError::NotUtf8 { path, .. }
            | TranscriptError::Binary { path, .. }
            | TranscriptError::NoTurns { path, .. }
            | TranscriptError::Sidecar { path, .. } => path,
        }
    }
}

/// The sidecar as written by people: everything optional but the speakers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SidecarFile {
    id: Option<String>,
    title: Option<String>,
    event: Option<String>,
    date: Option<String>,
    place: Option<String>,
    source_url: Option<String>,
    lang: Option<String>,
    #[serde(default)]
    speakers: Vec<SidecarSpeaker>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SidecarSpeaker {
    name: String,
    role: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    moderator: bool,
}

/// Reads `path` and the sidecar beside it (`same-stem.toml`), if any.
pub fn load(path: &Path) -> Result<Transcript, TranscriptError> {
    let bytes = std::fs::read(path).map_err(|source| TranscriptError::Io {
        path: path.to_owned(),
        source,
    })?;
    let sidecar_path = path.with_extension("toml");
    let sidecar = match std::fs::read(&sidecar_path) {
        Ok(b) => Some(String::from_utf8(b).map_err(|_| TranscriptError::Sidecar {
            path: sidecar_path.clone(),
            message: "not valid UTF-8".into(),
        })?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(TranscriptError::Io {
                path: sidecar_path,
                source,
            })
        }
    };
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("transcript");
    parse(path, stem, &bytes, sidecar.as_deref())
}

/// Parses a transcript. `path` is only used in errors; `default_id` is the id
/// when the sidecar gives none (the file stem).
pub fn parse(
    path: &Path,
    default_id: &str,
    bytes: &[u8],
    sidecar: Option<&str>,
) -> Result<Transcript, TranscriptError> {
    let text = decode(path, bytes)?;
    let lines: Vec<&str> = text.lines().collect();
    let sidecar = sidecar.map(|s| parse_sidecar(path, s)).transpose()?;

    let title = sidecar
        .as_ref()
        .and_then(|s| s.title.clone())
        .or_else(|| {
            lines
                .iter()
                .map(|l| clean_line(l))
                .find(|l| !l.is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let id = sidecar
        .as_ref()
        .and_then(|s| s.id.clone())
        .unwrap_or_else(|| sanitize_id(default_id));
    if !is_valid_id(&id) {
        return Err(TranscriptError::Sidecar {
            path: path.to_owned(),
            message: format!("id {id:?} must be 1-64 characters of A-Z a-z 0-9 _ -"),
        });
    }

    let speakers: Vec<Speaker> = match &sidecar {
        Some(s) if !s.speakers.is_empty() => s
            .speakers
            .iter()
            .map(|sp| Speaker {
                name: sp.name.trim().to_owned(),
                role: sp.role.clone().filter(|r| !r.trim().is_empty()),
                aliases: sp
                    .aliases
                    .iter()
                    .map(|a| a.trim().to_owned())
                    .filter(|a| !a.is_empty())
                    .collect(),
                pinyin: pinyin_spellings(sp.name.trim()),
                moderator: sp.moderator,
            })
            .collect(),
        _ => guess_speakers(&lines)
            .into_iter()
            .map(|name| Speaker {
                pinyin: pinyin_spellings(&name),
                name,
                role: None,
                aliases: Vec::new(),
                moderator: false,
            })
            .collect(),
    };
    if let Some(bad) = speakers
        .iter()
        .find(|s| s.name.is_empty() || s.name.contains([':', '\u{ff1a}']))
    {
        return Err(TranscriptError::Sidecar {
            path: path.to_owned(),
            message: format!("speaker name {:?} is empty or holds a colon", bad.name),
        });
    }

    let (intro, turns) = split_turns(&lines, &title, &speakers);
    if turns.is_empty() {
        let hint = if speakers.is_empty() {
            "no line starts with `NAME:` for a name that opens two or more lines; add a sidecar listing the speakers".to_owned()
        } else {
            let names: Vec<&str> = speakers.iter().map(|s| s.name.as_str()).collect();
            format!(
                "no line starts with `NAME:` for a listed speaker ({})",
                names.join(", ")
            )
        };
        return Err(TranscriptError::NoTurns {
            path: path.to_owned(),
            hint,
        });
    }
    // Speakers of the sidecar that never speak are kept out of search and summaries.
    let speakers: Vec<Speaker> = speakers
        .into_iter()
        .filter(|s| turns.iter().any(|t| t.speaker == s.name))
        .collect();

    let lang = sidecar
        .as_ref()
        .and_then(|s| s.lang.clone())
        .unwrap_or_else(|| detect_script(&text).to_owned());
    let meta = Meta {
        id,
        title,
        event: sidecar.as_ref().and_then(|s| s.event.clone()),
        date: sidecar.as_ref().and_then(|s| s.date.clone()),
        place: sidecar.as_ref().and_then(|s| s.place.clone()),
        source_url: sidecar.as_ref().and_then(|s| s.source_url.clone()),
        lang,
    };
    Ok(Transcript {
        meta,
        speakers,
        intro,
        turns,
    })
}

fn decode<'a>(path: &Path, bytes: &'a [u8]) -> Result<std::borrow::Cow<'a, str>, TranscriptError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(TranscriptError::Empty {
            path: path.to_owned(),
        });
    }
    let line_of = |offset: usize| 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count();
    if let Some(pos) = bytes.iter().position(|&b| b == 0) {
        return Err(TranscriptError::Binary {
            path: path.to_owned(),
            line: line_of(pos),
        });
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(std::borrow::Cow::Borrowed(s)),
        Err(e) => Err(TranscriptError::NotUtf8 {
            path: path.to_owned(),
            line: line_of(e.valid_up_to()),
        }),
    }
}

fn parse_sidecar(path: &Path, text: &str) -> Result<SidecarFile, TranscriptError> {
    let sidecar_path = path.with_extension("toml");
    let file: SidecarFile = toml::from_str(text).map_err(|e| TranscriptError::Sidecar {
        path: sidecar_path.clone(),
        message: e.to_string().trim().to_owned(),
    })?;
    let mut seen = std::collections::BTreeSet::new();
    for s in &file.speakers {
        if !seen.insert(s.name.trim().to_owned()) {
            return Err(TranscriptError::Sidecar {
                path: sidecar_path,
                message: format!("speaker {:?} is listed twice", s.name),
            });
        }
    }
    Ok(file)
}

/// Trims the line and drops control characters other than tab.
fn clean_line(line: &str) -> &str {
    line.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

fn strip_controls(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// If `line` opens with `NAME:` or `NAME:`, the name and the rest.
fn speaker_prefix(line: &str) -> Option<(&str, &str)> {
    let (pos, colon) = line
        .char_indices()
        .take(MAX_GUESSED_NAME_CHARS + 2)
        .find(|(_, c)| *c == ':' || *c == '\u{ff1a}')?;
    let name = line[..pos].trim();
    if name.is_empty() {
        return None;
    }
    Some((name, line[pos + colon.len_utf8()..].trim()))
}

/// With no sidecar: names that open two or more lines are the speakers.
fn guess_speakers(lines: &[&str]) -> Vec<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for line in lines {
        let line = clean_line(line);
        if TRAILER_MARKERS.iter().any(|m| line.starts_with(m)) {
            break;
        }
        if let Some((name, _)) = speaker_prefix(line) {
            let plausible = name.chars().count() <= MAX_GUESSED_NAME_CHARS
                && name
                    .chars()
                    .all(|c| c.is_alphabetic() || c == '·' || c == ' ');
            if plausible {
                let n = counts.entry(name).or_default();
                if *n == 0 {
                    order.push(name);
                }
                *n += 1;
            }
        }
    }
    order
        .into_iter()
        .filter(|n| counts[n] >= 2)
        .map(str::to_owned)
        .collect()
}

fn split_turns(lines: &[&str], title: &str, speakers: &[Speaker]) -> (Vec<Paragraph>, Vec<Turn>) {
    let mut intro = Vec::new();
    let mut turns: Vec<Turn> = Vec::new();
    for (i, raw) in lines.iter().enumerate() {
        let line_no = i + 1;
        let line = clean_line(raw);
        if line.is_empty() {
            continue;
        }
        if TRAILER_MARKERS.iter().any(|m| line.starts_with(m)) {
            break;
        }
        // The title opens the article and stands again between sections as a
        // caption: neither is something anybody said.
        if !title.is_empty() && line == title.trim() {
            continue;
        }
        let opened = speaker_prefix(line).and_then(|(name, rest)| {
            speakers
                .iter()
                .find(|s| s.name == name)
                .map(|s| (s.name.clone(), rest))
        });
        match opened {
            Some((speaker, rest)) => {
                let mut paragraphs = Vec::new();
                let rest = strip_controls(rest);
                if !rest.is_empty() {
                    paragraphs.push(Paragraph {
                        line: line_no,
                        text: rest,
                    });
                }
                turns.push(Turn {
                    number: turns.len() + 1,
                    speaker,
                    line: line_no,
                    paragraphs,
                });
            }
            None => {
                let text = strip_controls(line);
                if text.is_empty() {
                    continue;
                }
                let paragraph = Paragraph {
                    line: line_no,
                    text,
                };
                match turns.last_mut() {
                    Some(turn) => turn.paragraphs.push(paragraph),
                    None => intro.push(paragraph),
                }
            }
        }
    }
    // A `NAME:` line with nothing after it and no continuation says nothing.
    turns.retain(|t| !t.paragraphs.is_empty());
    for (i, t) in turns.iter_mut().enumerate() {
        t.number = i + 1;
    }
    (intro, turns)
}

fn sanitize_id(stem: &str) -> String {
    let s: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if s.is_empty() {
        "transcript".into()
    } else {
        s
    }
}

/// Transcript ids appear in URLs and file names: keep them plain.
pub fn is_valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `zh-Hans` when the text reads the same folded to Simplified, else `zh-Hant`.
fn detect_script(text: &str) -> &'static str {
    let sample: String = text.chars().filter(|c| !c.is_ascii()).take(2000).collect();
    if sample.is_empty() {
        return "und";
    }
    let folded = hanconv::t2s(&sample);
    let changed = folded
        .chars()
        .zip(sample.chars())
        .filter(|(a, b)| a != b)
        .count();
    if changed * 50 < sample.chars().count() {
        "zh-Hans"
    } else {
        "zh-Hant"
    }
}

/// Pinyin spellings of a Chinese name: surname first (`chenhuiling`) and
/// given name first (`huilingchen`), lowercase without tones or spaces.
pub fn pinyin_spellings(name: &str) -> Vec<String> {
    use pinyin::ToPinyin;
    let syllables: Vec<&str> = name
        .to_pinyin()
        .map(|p| p.map(|p| p.plain()))
        .collect::<Option<Vec<_>>>()
        .unwrap_or_default();
    if syllables.len() < 2 {
        return Vec::new();
    }
    let surname_first = syllables.concat();
    let given_first = format!("{}{}", syllables[1..].concat(), syllables[0]);
    let mut out = vec![surname_first];
    if given_first != out[0] {
        out.push(given_first);
    }
    out
}

impl Transcript {
    /// Every passage: the introduction (turn 0), then each turn's paragraphs,
    /// long ones split at sentence ends.
    pub fn passages(&self) -> Vec<Passage> {
        let mut out = Vec::new();
        let mut push = |turn: usize, paragraph: usize, speaker: Option<&Speaker>, text: &str| {
            for piece in split_long(text, MAX_PASSAGE_CHARS) {
                out.push(Passage {
                    transcript: self.meta.id.clone(),
                    turn,
                    paragraph,
                    speaker: speaker.map(|s| s.name.clone()),
                    role: speaker.and_then(|s| s.role.clone()),
                    text: piece.to_owned(),
                });
            }
        };
        for (i, p) in self.intro.iter().enumerate() {
            push(0, i + 1, None, &p.text);
        }
        for turn in &self.turns {
            let speaker = self.speaker(&turn.speaker);
            for (i, p) in turn.paragraphs.iter().enumerate() {
                push(turn.number, i + 1, speaker, &p.text);
            }
        }
        out
    }

    pub fn speaker(&self, name: &str) -> Option<&Speaker> {
        self.speakers.iter().find(|s| s.name == name)
    }

    /// Number of turns each speaker took, in order of first appearance.
    pub fn turns_per_speaker(&self) -> Vec<(String, usize)> {
        self.speakers
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    self.turns.iter().filter(|t| t.speaker == s.name).count(),
                )
            })
            .collect()
    }
}

/// Splits `text` into pieces of at most about `max` characters, at sentence
/// ends where possible. Every piece is a verbatim slice of `text`.
pub fn split_long(text: &str, max: usize) -> Vec<&str> {
    if text.chars().count() <= max {
        return vec![text];
    }
    let ends: Vec<usize> = sentence_ends(text);
    let mut out = Vec::new();
    let mut start = 0;
    let mut last_end = 0;
    let mut chars_since_start = 0;
    let mut prev = 0;
    for &end in &ends {
        let len = text[prev..end].chars().count();
        if chars_since_start + len > max && last_end > start {
            out.push(&text[start..last_end]);
            start = last_end;
            chars_since_start = text[start..end].chars().count();
        } else {
            chars_since_start += len;
        }
        last_end = end;
        prev = end;
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out.into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Byte offsets just after each sentence terminator (and the end of text).
pub fn sentence_ends(text: &str) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if matches!(
            c,
            '。' | '\u{ff01}' | '\u{ff1f}' | '\u{ff1b}' | '!' | '?' | ';' | '…'
        ) {
            let mut end = i + c.len_utf8();
            // Keep closing quotes and repeated terminators with the sentence.
            while let Some(&(j, n)) = chars.peek() {
                if matches!(
                    n,
                    '」' | '』'
                        | '”'
                        | '’'
                        | '"'
                        | ')'
                        | '\u{ff09}'
                        | '。'
                        | '\u{ff01}'
                        | '\u{ff1f}'
                        | '!'
                        | '?'
                        | '…'
                ) {
                    end = j + n.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            ends.push(end);
        }
    }
    if ends.last() != Some(&text.len()) {
        ends.push(text.len());
    }
    ends
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUNDLED: &str = include_str!("../data/transcripts/000_075a307d861b3240.txt");
    const SIDECAR: &str = include_str!("../data/transcripts/000_075a307d861b3240.toml");

    fn bundled() -> Transcript {
        parse(
            Path::new("bundled.txt"),
            "bundled",
            BUNDLED.as_bytes(),
            Some(SIDECAR),
        )
        .unwrap()
    }

    fn count(t: &Transcript, name: &str) -> usize {
        t.turns.iter().filter(|x| x.speaker == name).count()
    }

    #[test]
    fn bundled_ground_truth_turn_counts() {
        let t = bundled();
        assert_eq!(t.turns.len(), 25);
        assert_eq!(count(&t, "唐文"), 10);
        assert_eq!(count(&t, "郭慶"), 5);
        assert_eq!(count(&t, "周伊麗"), 4);
        assert_eq!(count(&t, "陳慧菱"), 6);
        assert_eq!(t.meta.id, "000_075a307d861b3240");
        assert_eq!(t.meta.date.as_deref(), Some("2018-08-31"));
    }

    #[test]
    fn bundled_without_sidecar_finds_the_same_turns() {
        let t = parse(Path::new("b.txt"), "b", BUNDLED.as_bytes(), None).unwrap();
        let names: Vec<&str> = t.speakers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["唐文", "郭慶", "周伊麗", "陳慧菱"]);
        assert_eq!(t.turns.len(), 25);
        assert!(t.speakers.iter().all(|s| s.role.is_none()));
    }

    #[test]
    fn continuation_lines_are_new_paragraphs_of_the_turn() {
        let t = bundled();
        // 周伊麗's second turn has 7 paragraphs (首先, 第二 … 第五, 比如, 再比如, 所以).
        let zhou: Vec<&Turn> = t.turns.iter().filter(|x| x.speaker == "周伊麗").collect();
        assert_eq!(zhou[0].paragraphs.len(), 4);
        assert!(zhou[0].paragraphs[1]
            .text
            .starts_with("首先,我們的產品不同"));
        assert_eq!(zhou[0].paragraphs[1].line, 28);
    }

    #[test]
    fn name_alone_on_a_line_opens_a_turn_with_the_next_lines() {
        let t = bundled();
        let turn = t
            .turns
            .iter()
            .find(|x| x.line == 50)
            .expect("turn at line 50");
        assert_eq!(turn.speaker, "唐文");
        assert_eq!(turn.paragraphs.len(), 1);
        assert!(turn.paragraphs[0]
            .text
            .starts_with("在你的部門迅速擴張當中"));
        assert_eq!(turn.paragraphs[0].line, 52);
    }

    #[test]
    fn captions_and_trailer_are_dropped_intro_is_kept() {
        let t = bundled();
        let all: Vec<&str> = t
            .intro
            .iter()
            .chain(t.turns.iter().flat_map(|x| x.paragraphs.iter()))
            .map(|p| p.text.as_str())
            .collect();
        assert!(
            !all.iter().any(|p| *p == t.meta.title),
            "caption kept as content"
        );
        assert!(!all
            .iter()
            .any(|p| p.starts_with("分享到") || p.starts_with("相關文章")));
        assert_eq!(t.intro.len(), 4);
        assert!(t.intro.iter().any(|p| p.text.contains("本次論壇的主題是")));
        assert!(t
            .passages()
            .iter()
            .filter(|p| p.turn == 0)
            .all(|p| p.speaker.is_none()));
    }

    #[test]
    fn pinyin_aliases_are_generated() {
        let t = bundled();
        let chen = t.speaker("陳慧菱").unwrap();
        assert_eq!(chen.pinyin, ["chenhuiling", "huilingchen"]);
        assert_eq!(t.speaker("周伊麗").unwrap().pinyin[0], "zhouyili");
        assert_eq!(t.speaker("郭慶").unwrap().pinyin[0], "guoqing");
    }

    #[test]
    fn simplified_text_with_half_width_colons_parses_the_same() {
        let simplified = hanconv::t2s(BUNDLED).replace(':', "\u{ff1a}");
        let t = parse(Path::new("s.txt"), "s", simplified.as_bytes(), None).unwrap();
        assert_eq!(t.turns.len(), 25);
        assert_eq!(t.meta.lang, "zh-Hans");
        assert_eq!(t.turns.iter().filter(|x| x.speaker == "陈慧菱").count(), 6);
    }

    #[test]
    fn bad_files_are_refused_with_file_and_line() {
        let p = Path::new("bad.txt");
        assert!(matches!(
            parse(p, "x", b"", None),
            Err(TranscriptError::Empty { .. })
        ));
        assert!(matches!(
            parse(p, "x", b" \n\n ", None),
            Err(TranscriptError::Empty { .. })
        ));
        match parse(p, "x", b"ok\nline two\n\xff\xfe bad", None) {
            Err(e @ TranscriptError::NotUtf8 { line: 3, .. }) => {
                assert!(e.to_string().contains("bad.txt, line 3"))
            }
            other => panic!("expected NotUtf8 at line 3, got {other:?}"),
        }
        match parse(
            p,
            "x",
            "標題\n\n只有一段沒有人說話的文字。\n".as_bytes(),
            None,
        ) {
            Err(e @ TranscriptError::NoTurns { .. }) => assert!(e.to_string().contains("bad.txt")),
            other => panic!("expected NoTurns, got {other:?}"),
        }
        assert!(matches!(
            parse(p, "x", b"a\0b", None),
            Err(TranscriptError::Binary { line: 1, .. })
        ));
        let sidecar = "title = \"t\"\nbogus = 1\n";
        assert!(matches!(
            parse(p, "x", "甲:一\n甲:二\n".as_bytes(), Some(sidecar)),
            Err(TranscriptError::Sidecar { .. })
        ));
        let bad_id = "id = \"../etc\"\n";
        assert!(matches!(
            parse(p, "x", "甲:一\n甲:二\n".as_bytes(), Some(bad_id)),
            Err(TranscriptError::Sidecar { .. })
        ));
    }

    #[test]
    fn long_paragraphs_split_at_sentence_ends_verbatim() {
        let text = "一二三四五。".repeat(100);
        let pieces = split_long(&text, 50);
        assert!(pieces.len() > 1);
        assert_eq!(pieces.concat(), text);
        assert!(pieces
            .iter()
            .all(|p| p.ends_with('。') && p.chars().count() <= 50));
        // No terminator at all: one piece, never cut inside a character.
        let solid = "字".repeat(500);
        assert_eq!(split_long(&solid, 50), vec![solid.as_str()]);
    }
}
