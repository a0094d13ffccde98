//! Transcripts: parsing the article format into speaker turns, and validating
//! it, with no I/O beyond reading the file and its metadata sidecar.
//!
//! A transcript is a plain UTF-8 text file. A turn opens at a speaker line:
//! `名字:` / `名字：`, `名字（角色）：` / `Name (role):` or `【名字】` (see
//! `transcript/labels.rs`), the words after the label or on the next lines. With a
//! sidecar, its speakers open turns, by name, alias or label (`Q`), matched
//! folded as questions are (郭庆 and Ｊａｎｅ open 郭慶's and Jane's turns);
//! a line that reads as a speaker line for nobody listed, and a listed
//! speaker who never speaks, refuse the file. With none, a label that reads
//! like a person or a role opens turns even once, a short one of letters
//! only when it opens two or more lines, an ordinal or heading never. A URL
//! never opens a turn. Lines without a label continue the current turn as
//! new paragraphs. Before the first turn, paragraphs are the introduction
//! (kept, with no speaker). The title line repeated between sections (a
//! caption) and the page furniture after the last turn (分享到:, 相關文章: …)
//! are not content; a speaker's line is never the title, and a furniture
//! word inside the conversation, or opening a sentence of the last turn, is
//! content.
//!
//! Guarantees: control characters never reach a [`Transcript`] (they become
//! spaces in the title, the metadata, names and paragraphs); a speaker name,
//! alias or label (in the sidecar or the text) holding an invisible or
//! bidirectional-control character is refused; every passage is a verbatim slice of its paragraph and at most
//! [`MAX_PASSAGE_CHARS`] characters long.
//!
//! Everything here is pure: `parse` takes bytes and returns a [`Transcript`] or
//! a [`TranscriptError`] naming the file (the sidecar for sidecar errors) and,
//! where it applies, the line.

mod labels;

use labels::{Label, Reading};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// A paragraph longer than this (in characters) is split at sentence ends so
/// a quote stays readable and a hit points at the sentences that matched.
pub const MAX_PASSAGE_CHARS: usize = 320;

/// Words that start the page furniture after the article (`分享到:`): such a
/// line after the last turn ends the content (see [`content_end`]).
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
    #[error("{path}: this is {encoding} text, not UTF-8; convert it first, e.g. `iconv -f {encoding} -t UTF-8 in.txt > out.txt`")]
    Utf16 {
        path: PathBuf,
        encoding: &'static str,
    },
    #[error("{path}: no speaker turn found: {hint}")]
    NoTurns { path: PathBuf, hint: String },
    /// Speaker lines that do not say who speaks: each problem quotes its
    /// lines and says what to change.
    #[error("{path}: {}", speaker_problems(.problems))]
    Speakers {
        path: PathBuf,
        problems: Vec<String>,
    },
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
            | TranscriptError::Utf16 { path, .. }
            | TranscriptError::NoTurns { path, .. }
            | TranscriptError::Speakers { path, .. }
            | TranscriptError::Sidecar { path, .. } => path,
        }
    }
}

fn speaker_problems(problems: &[String]) -> String {
    match problems {
        [one] => one.clone(),
        many => format!(
            "the speaker lines need fixing:\n{}",
            many.iter()
                .map(|p| format!("    * {p}"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
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
    /// Other labels that open this speaker's turns in the text, never
    /// searched for (`Q`, `A`, `問`).
    #[serde(default)]
    labels: Vec<String>,
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
        .map(|s| s.to_string_lossy())
        .unwrap_or_else(|| "transcript".into());
    parse(path, &stem, &bytes, sidecar.as_deref())
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
    let sidecar_path = path.with_extension("toml");
    let sidecar = sidecar.map(|s| parse_sidecar(path, s)).transpose()?;

    let id = match sidecar.as_ref().and_then(|s| s.id.clone()) {
        Some(id) if !is_valid_id(&id) => {
            return Err(TranscriptError::Sidecar {
                path: sidecar_path,
                message: format!("id {id:?} must be 1-64 characters of A-Z a-z 0-9 _ -"),
            })
        }
        Some(id) => id,
        None => sanitize_id(default_id),
    };

    let listed = sidecar.as_ref().is_some_and(|s| !s.speakers.is_empty());
    let cast = match &sidecar {
        Some(s) if listed => Cast::listed(&s.speakers),
        _ => Cast::guessed(path, &lines)?,
    };
    let mut problems = invisible_labels(&lines, &cast);
    if !problems.is_empty() {
        return Err(TranscriptError::Speakers {
            path: path.to_owned(),
            problems,
        });
    }
    let opens = cast.openers(&lines);
    // Sidecar speakers are known: furniture is what follows the last turn.
    // Guessed ones may include page furniture's own `作者:` lines, so a
    // name only seen after the furniture word does not keep it content.
    let end = content_end(&lines, &opens, !listed);
    let (lines, opens) = (&lines[..end], &opens[..end]);
    if listed {
        problems.extend(cast.unmatched_lines(lines, opens));
    }

    // The title: the sidecar's, else the first line unless somebody speaks
    // on it (then the file name). Only a title from the text is a caption.
    let first_line = lines
        .iter()
        .zip(opens)
        .map(|(l, o)| (clean_line(l), o))
        .find(|(l, _)| !l.is_empty());
    let caption = match first_line {
        Some((l, None)) => Some(strip_controls(l)).filter(|l| !l.is_empty()),
        _ => None,
    };
    let title = sidecar
        .as_ref()
        .and_then(|s| s.title.clone())
        .or_else(|| caption.clone())
        .unwrap_or_else(|| strip_controls(default_id));
    let caption = sidecar.as_ref().and_then(|s| s.title.clone()).or(caption);

    let (intro, turns) = split_turns(lines, opens, caption.as_deref(), &cast);
    if listed {
        problems.extend(cast.silent(&turns));
    }
    if !problems.is_empty() {
        return Err(TranscriptError::Speakers {
            path: path.to_owned(),
            problems,
        });
    }
    if turns.is_empty() {
        return Err(TranscriptError::NoTurns {
            path: path.to_owned(),
            hint: no_turns_hint(lines, opens, &cast, listed),
        });
    }
    // Only people who speak are searched and summarised; a role written
    // in the speaker line (`名字（角色）：`) stands in for a missing one.
    let roles = cast.label_roles(lines, opens);
    let speakers: Vec<Speaker> = cast
        .speakers
        .into_iter()
        .zip(roles)
        .filter(|(s, _)| turns.iter().any(|t| t.speaker == s.name))
        .map(|(mut s, role)| {
            if s.role.is_none() {
                s.role = role;
            }
            s
        })
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
    if let Some(encoding) = utf16_encoding(bytes) {
        return Err(TranscriptError::Utf16 {
            path: path.to_owned(),
            encoding,
        });
    }
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

/// `Some("UTF-16")` for an even-length file that opens with a UTF-16 byte order mark,
/// `Some("UTF-16LE")`/`Some("UTF-16BE")` for one whose NUL bytes fall on
/// alternate bytes (UTF-16 without a mark: the ASCII characters, newlines
/// included, have a zero byte), `None` otherwise.
fn utf16_encoding(bytes: &[u8]) -> Option<&'static str> {
    // UTF-16 comes in pairs of bytes: an odd length is something else.
    if bytes.len() % 2 == 1 {
        return None;
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Some("UTF-16");
    }
    let sample = &bytes[..bytes.len().min(4096) & !1];
    let pairs = sample.len() / 2;
    if pairs < 2 {
        return None;
    }
    let zeros = |parity: usize| {
        sample
            .iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (zeros(0), zeros(1));
    if odd * 10 >= pairs && even * 10 <= odd {
        Some("UTF-16LE")
    } else if even * 10 >= pairs && odd * 10 <= even {
        Some("UTF-16BE")
    } else {
        None
    }
}

fn parse_sidecar(path: &Path, text: &str) -> Result<SidecarFile, TranscriptError> {
    let sidecar_path = path.with_extension("toml");
    let file: SidecarFile = toml::from_str(text).map_err(|e| TranscriptError::Sidecar {
        path: sidecar_path.clone(),
        message: e.to_string().trim().to_owned(),
    })?;
    let file = clean_sidecar(file);
    let refuse = |message: String| TranscriptError::Sidecar {
        path: sidecar_path.clone(),
        message,
    };
    // Names are matched folded (either script, either width): two names
    // that fold alike are one name.
    let mut names: HashMap<String, &str> = HashMap::new();
    for s in &file.speakers {
        if s.name.is_empty() || s.name.contains([':', '\u{ff1a}']) {
            return Err(refuse(format!(
                "speaker name {:?} is empty or holds a colon",
                s.name
            )));
        }
        for name in std::iter::once(&s.name).chain(&s.aliases).chain(&s.labels) {
            if let Some(c) = name.chars().find(|&c| is_invisible(c)) {
                return Err(refuse(format!(
                    "speaker {:?}: the name or alias {:?} holds the invisible or direction-changing character U+{:04X}, which would let one name pass for another; remove it",
                    s.name,
                    name.escape_debug().to_string(),
                    c as u32
                )));
            }
        }
        if let Some(first) = names.insert(labels::key(&s.name), &s.name) {
            return Err(refuse(if first == s.name {
                format!("speaker {:?} is listed twice", s.name)
            } else {
                format!(
                    "speaker {:?} is listed twice ({:?} is the same name in another script or width)",
                    s.name, first
                )
            }));
        }
    }
    // An alias or label that is another speaker's name would make that
    // name mean two people; a label two speakers share, the same.
    let mut labelled: HashMap<String, &str> = HashMap::new();
    for s in &file.speakers {
        for (kind, kinds, other) in s
            .aliases
            .iter()
            .map(|a| ("alias", "aliases", a))
            .chain(s.labels.iter().map(|l| ("label", "labels", l)))
        {
            if other.contains([':', '\u{ff1a}']) {
                return Err(refuse(format!(
                    "speaker {:?}: the {kind} {other:?} holds a colon; give it without one",
                    s.name
                )));
            }
            let key = labels::key(other);
            match names.get(&key) {
                Some(named) if *named != s.name => {
                    return Err(refuse(format!(
                        "speaker {:?}: the {kind} {other:?} is the name of another speaker, {named:?}; remove it from {:?}'s {kinds}",
                        s.name, s.name
                    )))
                }
                _ => {}
            }
            if kind == "label" {
                if let Some(first) = labelled.insert(key, &s.name) {
                    if first != s.name {
                        return Err(refuse(format!(
                            "the label {other:?} is given to two speakers, {first:?} and {:?}; a label opens the turns of one speaker",
                            s.name
                        )));
                    }
                }
            }
        }
    }
    Ok(file)
}

/// Control characters out of every field of a sidecar (they would reach
/// terminals raw), surrounding spaces trimmed, empty fields dropped.
fn clean_sidecar(file: SidecarFile) -> SidecarFile {
    let field = |f: Option<String>| f.map(|v| strip_controls(&v)).filter(|v| !v.is_empty());
    SidecarFile {
        id: file.id,
        title: field(file.title),
        event: field(file.event),
        date: field(file.date),
        place: field(file.place),
        source_url: field(file.source_url),
        lang: field(file.lang),
        speakers: file
            .speakers
            .into_iter()
            .map(|s| SidecarSpeaker {
                name: strip_controls(&s.name),
                role: field(s.role),
                aliases: s
                    .aliases
                    .iter()
                    .map(|a| strip_controls(a))
                    .filter(|a| !a.is_empty())
                    .collect(),
                labels: s
                    .labels
                    .iter()
                    .map(|a| strip_controls(a))
                    .filter(|a| !a.is_empty())
                    .collect(),
                moderator: s.moderator,
            })
            .collect(),
    }
}

/// Characters that show nothing or reorder what follows: zero-width spaces
/// and joiners, bidirectional marks, embeddings, overrides and isolates,
/// fillers, variation selectors and tags. In a name they make a spoof that
/// looks exactly like another speaker.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00ad}' | '\u{034f}' | '\u{061c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
        | '\u{180b}'..='\u{180f}'
        | '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}'
        | '\u{3164}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}' | '\u{ffa0}'
        | '\u{fff9}'..='\u{fffb}'
        | '\u{1bca0}'..='\u{1bca3}'
        | '\u{1d173}'..='\u{1d17a}'
        | '\u{e0000}'..='\u{e0fff}')
}

/// Trims the line and drops control characters other than tab.
fn clean_line(line: &str) -> &str {
    line.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// The one rule for text that reaches a terminal or a page: a control
/// character (terminal escapes such as ESC and BEL, tabs, C1 controls)
/// becomes a space.
pub fn control_to_space(c: char) -> char {
    if c.is_control() {
        ' '
    } else {
        c
    }
}

/// Control characters become spaces ([`control_to_space`]); the result is
/// trimmed.
fn strip_controls(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.trim().to_owned();
    }
    s.chars()
        .map(control_to_space)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Text for a terminal: control characters become spaces by the same rule
/// as transcript text ([`control_to_space`]), line breaks stay, so nothing
/// echoed (a question, a name, a file name) can move the cursor, retitle
/// the window or ring the bell.
pub fn for_terminal(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n') {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.chars()
            .map(|c| if c == '\n' { c } else { control_to_space(c) })
            .collect(),
    )
}

/// Who can open a turn, and the labels that name them.
struct Cast {
    speakers: Vec<Speaker>,
    /// Folded label (name, alias or sidecar label) → the speakers it names.
    keys: HashMap<String, Vec<usize>>,
    /// Longest label looked for, in characters.
    window: usize,
}

/// Which speakers a label names.
enum Named<'a> {
    Nobody,
    One(usize),
    Several(&'a [usize]),
}

/// How far into a line a label is looked for when nobody listed the speakers.
const GUESS_WINDOW: usize = 26;

/// Quoted lines in one refusal: enough to find the pattern, never a flood.
const MAX_QUOTED_LINES: usize = 8;

impl Cast {
    /// The speakers of a sidecar: their names, aliases and labels (`Q`)
    /// open their turns, matched folded (郭庆 for 郭慶, Ｊａｎｅ for Jane).
    fn listed(listed: &[SidecarSpeaker]) -> Cast {
        let mut keys: HashMap<String, Vec<usize>> = HashMap::new();
        let mut longest = 0;
        for (i, s) in listed.iter().enumerate() {
            for n in std::iter::once(&s.name).chain(&s.aliases).chain(&s.labels) {
                longest = longest.max(n.chars().count());
                let v = keys.entry(labels::key(n)).or_default();
                if !v.contains(&i) {
                    v.push(i);
                }
            }
        }
        let speakers = listed
            .iter()
            .map(|sp| Speaker {
                pinyin: pinyin_spellings(&sp.name),
                name: sp.name.clone(),
                role: sp.role.clone(),
                aliases: sp.aliases.clone(),
                moderator: sp.moderator,
            })
            .collect();
        Cast {
            speakers,
            keys,
            window: (longest + 4).max(GUESS_WINDOW),
        }
    }

    /// With no sidecar: labels that read like a person or a role (even
    /// once), and short ones of letters only that open two or more lines;
    /// spellings of one name (郭慶, 郭庆, Ｊａｎｅ) are one speaker, named as
    /// most lines write it. A name only seen after the page furniture
    /// (`相關文章:` … `作者:`) is not a speaker.
    fn guessed(path: &Path, lines: &[&str]) -> Result<Cast, TranscriptError> {
        let all = Cast::from_labels(path, lines)?;
        if all.speakers.is_empty() {
            return Ok(all);
        }
        let opens = all.openers(lines);
        let end = content_end(lines, &opens, true);
        if end == lines.len() {
            Ok(all)
        } else {
            Cast::from_labels(path, &lines[..end])
        }
    }

    fn from_labels(path: &Path, lines: &[&str]) -> Result<Cast, TranscriptError> {
        struct Group<'a> {
            spellings: Vec<(&'a str, usize)>,
            lines: usize,
            strong: bool,
        }
        let mut groups: Vec<(String, Group)> = Vec::new();
        let mut markers: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, line) in lines.iter().enumerate() {
            let Some(l) = labels::label(clean_line(line), GUESS_WINDOW) else {
                continue;
            };
            let reading = labels::reading(l.name, l.form);
            let key = labels::key(l.name);
            if reading == Reading::Marker {
                markers.entry(key).or_default().push(i + 1);
                continue;
            }
            // `Q1:` is a list marker, unless the file is written in questions
            // and answers: then it is a question like `Q:`.
            if let Some(mark) = labels::unnumbered_marker(&key) {
                markers.entry(mark.to_owned()).or_default().push(i + 1);
                continue;
            }
            if reading < Reading::Weak {
                continue;
            }
            let at = match groups.iter().position(|(k, _)| *k == key) {
                Some(at) => at,
                None => {
                    groups.push((
                        key,
                        Group {
                            spellings: Vec::new(),
                            lines: 0,
                            strong: false,
                        },
                    ));
                    groups.len() - 1
                }
            };
            let g = &mut groups[at].1;
            g.lines += 1;
            g.strong |= reading == Reading::Strong;
            match g.spellings.iter_mut().find(|(n, _)| *n == l.name) {
                Some((_, n)) => *n += 1,
                None => g.spellings.push((l.name, 1)),
            }
        }
        // `Q:`/`A:` (問/答) say who asks and who answers, not who they are.
        let asks = ["q", "问"].iter().find_map(|m| markers.get(*m));
        let answers = ["a", "答"].iter().find_map(|m| markers.get(*m));
        if let (Some(q), Some(a)) = (asks, answers) {
            let mut at: Vec<usize> = q.iter().chain(a).copied().collect();
            at.sort_unstable();
            return Err(TranscriptError::Speakers {
                path: path.to_owned(),
                problems: vec![format!(
                    "{} open with a question or answer mark (`Q:`/`A:`, `問:`/`答:`) that names nobody: say who asks and who answers in a sidecar ({}) with their names and the mark each uses, e.g. [[speakers]] name = \"主持人\" labels = [\"Q\"] and [[speakers]] name = \"張偉\" labels = [\"A\"]",
                    line_list(&at),
                    sidecar_name(path)
                )],
            });
        }
        let mut keys = HashMap::new();
        let mut speakers = Vec::new();
        for (key, g) in groups {
            if !(g.strong || g.lines >= 2) {
                continue;
            }
            // The spelling most lines use (the first of equals).
            let name = g
                .spellings
                .iter()
                .enumerate()
                .max_by_key(|(i, (_, n))| (*n, std::cmp::Reverse(*i)))
                .map(|(_, (s, _))| s.to_string())
                .unwrap_or_default();
            keys.insert(key, vec![speakers.len()]);
            speakers.push(Speaker {
                pinyin: pinyin_spellings(&name),
                name,
                role: None,
                aliases: Vec::new(),
                moderator: false,
            });
        }
        Ok(Cast {
            speakers,
            keys,
            window: GUESS_WINDOW,
        })
    }

    /// Which speakers a label names (`Q1` names who `Q` names).
    fn named(&self, name: &str) -> Named<'_> {
        let key = labels::key(name);
        let found = self
            .keys
            .get(&key)
            .or_else(|| labels::unnumbered_marker(&key).and_then(|m| self.keys.get(m)));
        match found.map(Vec::as_slice) {
            None | Some([]) => Named::Nobody,
            Some([one]) => Named::One(*one),
            Some(several) => Named::Several(several),
        }
    }

    fn label<'a>(&self, line: &'a str) -> Option<Label<'a>> {
        labels::label(clean_line(line), self.window)
    }

    /// For each line, the speaker whose turn it opens.
    fn openers(&self, lines: &[&str]) -> Vec<Option<usize>> {
        lines
            .iter()
            .map(|l| match self.label(l).map(|l| self.named(l.name)) {
                Some(Named::One(i)) => Some(i),
                _ => None,
            })
            .collect()
    }

    /// Lines of the content that read as speaker lines but open no turn
    /// (with a sidecar): somebody the sidecar does not list, a mark (`Q:`)
    /// given to nobody, or a name several listed speakers answer to.
    fn unmatched_lines(&self, lines: &[&str], opens: &[Option<usize>]) -> Vec<String> {
        let mut unknown: BTreeMap<String, (Vec<usize>, String, Reading)> = BTreeMap::new();
        let mut problems = Vec::new();
        for (i, (line, open)) in lines.iter().zip(opens).enumerate() {
            if open.is_some() {
                continue;
            }
            let Some(l) = self.label(line) else {
                continue;
            };
            match self.named(l.name) {
                Named::One(_) => {}
                Named::Several(ids) => {
                    let names: Vec<&str> = ids
                        .iter()
                        .map(|&i| self.speakers[i].name.as_str())
                        .collect();
                    problems.push(format!(
                        "line {} `{}`: {:?} is a name or alias of several speakers of the sidecar ({}); write the speaker's own name",
                        i + 1,
                        quote(line),
                        l.name,
                        names.join(", ")
                    ));
                }
                Named::Nobody => {
                    let reading = labels::reading(l.name, l.form);
                    if reading >= Reading::Weak || reading == Reading::Marker {
                        let e = unknown
                            .entry(labels::key(l.name))
                            .or_insert_with(|| (Vec::new(), l.name.to_owned(), reading));
                        e.0.push(i + 1);
                        e.2 = e.2.max(reading);
                    }
                }
            }
        }
        for (at, name, reading) in unknown.into_values() {
            // Short words of letters only speak when they open lines again.
            if reading == Reading::Weak && at.len() < 2 {
                continue;
            }
            let fix = if reading == Reading::Marker {
                format!(
                    "give `{name}` to the speaker it marks in the sidecar: labels = [\"{name}\"]"
                )
            } else {
                format!(
                    "add {name} to the sidecar's speakers ([[speakers]] name = \"{name}\"), or to the aliases of the speaker it names; if nobody speaks there, write the line without the colon"
                )
            };
            problems.push(format!(
                "{} `{}` read as the speaker line of {name:?}, who is not in the sidecar: {fix}",
                line_list(&at),
                quote(lines[at[0] - 1])
            ));
        }
        problems
    }

    /// Listed speakers with no turn.
    fn silent(&self, turns: &[Turn]) -> Vec<String> {
        self.speakers
            .iter()
            .filter(|s| !turns.iter().any(|t| t.speaker == s.name))
            .map(|s| {
                format!(
                    "{:?} is in the sidecar but never speaks: no line opens with `{}:` (or one of their aliases or labels) followed by words; fix the lines where they speak, or take them out of the sidecar",
                    s.name, s.name
                )
            })
            .collect()
    }

    /// For each speaker, the first role written in a speaker line of theirs.
    fn label_roles(&self, lines: &[&str], opens: &[Option<usize>]) -> Vec<Option<String>> {
        let mut roles = vec![None; self.speakers.len()];
        for (line, open) in lines.iter().zip(opens) {
            if let (Some(i), Some(role)) = (open, self.label(line).and_then(|l| l.role)) {
                let role = strip_controls(role);
                if roles[*i].is_none() && !role.is_empty() {
                    roles[*i] = Some(role);
                }
            }
        }
        roles
    }
}

/// Lines whose label holds an invisible or direction-changing character
/// and would otherwise read as a speaker's (`郭\u{200d}慶:`): a spoof of a
/// name, refused as in sidecars.
fn invisible_labels(lines: &[&str], cast: &Cast) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(l) = labels::label(clean_line(line), cast.window) else {
            continue;
        };
        let Some(c) = l.name.chars().find(|&c| is_invisible(c)) else {
            continue;
        };
        let seen: String = l.name.chars().filter(|&c| !is_invisible(c)).collect();
        let speaks = labels::reading(&seen, l.form) >= Reading::Weak
            || !matches!(cast.named(&seen), Named::Nobody);
        if speaks {
            problems.push(format!(
                "line {} `{}`: the speaker label holds the invisible or direction-changing character U+{:04X}, which would let it pass for {seen:?}; remove it",
                i + 1,
                quote(line),
                c as u32
            ));
        }
    }
    problems
}

/// Why no turn was found, and what to write instead.
fn no_turns_hint(lines: &[&str], opens: &[Option<usize>], cast: &Cast, listed: bool) -> String {
    let opening: Vec<usize> = opens
        .iter()
        .enumerate()
        .filter(|(_, o)| o.is_some())
        .map(|(i, _)| i + 1)
        .collect();
    if let Some(&first) = opening.first() {
        return format!(
            "every turn is empty: {} open a turn (`{}`) but no words follow; write the words after the colon or on the lines below",
            line_list(&opening),
            quote(lines[first - 1])
        );
    }
    if listed {
        let names: Vec<&str> = cast.speakers.iter().map(|s| s.name.as_str()).collect();
        format!(
            "no line starts with `NAME:` for a listed speaker ({})",
            names.join(", ")
        )
    } else {
        "no line opens a speaker's turn: write the speaker before their words (`名字:`, `名字（角色）：`, `【名字】`), or add a sidecar listing the speakers".to_owned()
    }
}

/// `line 4`, `lines 4, 9, 12`, `lines 4, 9, … (12 in all)`.
fn line_list(at: &[usize]) -> String {
    let shown: Vec<String> = at
        .iter()
        .take(MAX_QUOTED_LINES)
        .map(ToString::to_string)
        .collect();
    match at.len() {
        1 => format!("line {}", shown[0]),
        n if n > MAX_QUOTED_LINES => format!("lines {}, … ({n} in all)", shown.join(", ")),
        _ => format!("lines {}", shown.join(", ")),
    }
}

/// The start of a line as a message quotes it: invisible characters shown
/// as `<U+200D>`, control characters as spaces, at most 24 characters.
fn quote(line: &str) -> String {
    let line = clean_line(line);
    let mut out = String::new();
    for (n, c) in line.chars().enumerate() {
        if n == 24 {
            out.push('…');
            break;
        }
        if is_invisible(c) {
            out.push_str(&format!("<U+{:04X}>", c as u32));
        } else if c.is_control() {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// The sidecar a transcript file would have.
fn sidecar_name(path: &Path) -> String {
    path.with_extension("toml").file_name().map_or_else(
        || "NAME.toml".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// A line of page furniture: a trailer word alone or followed by a colon,
/// a space or a bar and a few words (`分享到:`, `相關文章`, `責任編輯:張三`),
/// not a sentence that happens to start with one (`分享到這裡,我再補充一點。`,
/// `責任編輯 也好,記者也好,都要對讀者負責。`).
fn is_furniture(line: &str) -> bool {
    TRAILER_MARKERS.iter().any(|m| {
        line.strip_prefix(m).is_some_and(|rest| {
            let after = rest
                .trim_start_matches(|c: char| {
                    c.is_whitespace() || matches!(c, ':' | '\u{ff1a}' | '|' | '\u{ff5c}')
                })
                .trim_end();
            let separated = rest.is_empty() || after.len() < rest.len();
            // Somebody's words: a sentence, or more than a name or a headline.
            let words =
                after.chars().any(is_sentence_end) || after.chars().count() > MAX_FURNITURE_WORDS;
            separated && !words
        })
    })
}

/// Longest text after a furniture word (a name, a headline) that is still
/// furniture rather than somebody's words, in characters.
const MAX_FURNITURE_WORDS: usize = 40;

/// Where the content ends: at the first furniture line after the
/// conversation (`lines.len()` when there is none). With `per_speaker`, only
/// a speaker who also spoke before a furniture line keeps it inside the
/// conversation; else any later turn does.
fn content_end(lines: &[&str], opens: &[Option<usize>], per_speaker: bool) -> usize {
    let n = lines.len();
    let mut spans: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
    for (i, o) in opens.iter().enumerate() {
        if let Some(s) = o {
            let key = if per_speaker { *s } else { 0 };
            spans.entry(key).and_modify(|e| e.1 = i).or_insert((i, i));
        }
    }
    // Lines strictly inside a span are inside the conversation.
    let mut delta = vec![0i64; n + 1];
    for &(first, last) in spans.values() {
        if first + 1 < last {
            delta[first + 1] += 1;
            delta[last] -= 1;
        }
    }
    let mut inside = 0;
    let mut spoken = false;
    for (i, line) in lines.iter().enumerate() {
        inside += delta[i];
        if opens[i].is_some() {
            spoken = true;
        } else if spoken && inside == 0 && is_furniture(clean_line(line)) {
            return i;
        }
    }
    n
}

fn split_turns(
    lines: &[&str],
    opens: &[Option<usize>],
    caption: Option<&str>,
    cast: &Cast,
) -> (Vec<Paragraph>, Vec<Turn>) {
    let mut intro = Vec::new();
    let mut turns: Vec<Turn> = Vec::new();
    for (i, (raw, open)) in lines.iter().zip(opens).enumerate() {
        let line_no = i + 1;
        let line = clean_line(raw);
        if line.is_empty() {
            continue;
        }
        match open {
            Some(s) => {
                let rest = cast.label(line).map_or("", |l| l.rest);
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
                    speaker: cast.speakers[*s].name.clone(),
                    line: line_no,
                    paragraphs,
                });
            }
            None => {
                let text = strip_controls(line);
                // The title opens the article and stands again between
                // sections as a caption: neither is something anybody said.
                if text.is_empty() || Some(text.as_str()) == caption {
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

/// The id of a transcript whose sidecar gives none: the file stem when it is
/// already a valid id; else a readable ASCII spelling of it (Han characters
/// in pinyin, Latin letters without accents, anything else `_`) followed by
/// a hash of the whole stem, so that two file names never share an id
/// (`圓桌論壇` → `yuan-zhuo-lun-tan_1f0a3b2c`, `论坛` and `論壇` differ).
pub fn sanitize_id(stem: &str) -> String {
    use pinyin::ToPinyin;
    use unicode_normalization::UnicodeNormalization;
    if is_valid_id(stem) {
        return stem.to_owned();
    }
    // Words: runs of ASCII letters and digits (accents dropped), and the
    // pinyin of each Han character; anything else only separates them.
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in stem.nfd() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
            continue;
        }
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if let Some(p) = c.to_pinyin() {
            words.push(p.plain().to_owned());
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    let mut readable = words.join("-");
    readable.truncate(55);
    let readable = match readable.trim_matches('-') {
        "" => "transcript",
        r => r,
    };
    let hash = stem.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    });
    format!("{readable}_{:08x}", (hash ^ (hash >> 32)) as u32)
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

/// Splits `text` into trimmed pieces of at most `max` characters: at
/// sentence ends where possible, else at clause punctuation (,、,:), else
/// after white space, else at any character boundary. Every piece is a
/// verbatim slice of `text`, in order; only white space between pieces is
/// left out. Linear in the length of `text`.
pub fn split_long(text: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    split_at_level(text, max.max(1), 0, &mut out);
    out
}

fn split_at_level<'a>(text: &'a str, max: usize, level: u8, out: &mut Vec<&'a str>) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    if text.chars().count() <= max {
        out.push(text);
        return;
    }
    let ends = match level {
        0 => sentence_ends(text),
        1 => ends_after(text, |c| {
            matches!(
                c,
                ',' | '\u{ff0c}' | '\u{3001}' | ':' | '\u{ff1a}' | '\u{2014}' | '\u{ff64}'
            )
        }),
        2 => ends_after(text, char::is_whitespace),
        _ => {
            // No break of any kind: cut every `max` characters.
            let mut start = 0;
            for (n, (i, _)) in text.char_indices().enumerate() {
                if n > 0 && n % max == 0 {
                    push_trimmed(&text[start..i], out);
                    start = i;
                }
            }
            push_trimmed(&text[start..], out);
            return;
        }
    };
    for piece in pack(text, &ends, max) {
        split_at_level(piece, max, level + 1, out);
    }
}

fn push_trimmed<'a>(piece: &'a str, out: &mut Vec<&'a str>) {
    let piece = piece.trim();
    if !piece.is_empty() {
        out.push(piece);
    }
}

/// Byte offsets just after each character matching `is_break` (and the end).
fn ends_after(text: &str, is_break: impl Fn(char) -> bool) -> Vec<usize> {
    let mut ends: Vec<usize> = text
        .char_indices()
        .filter(|&(_, c)| is_break(c))
        .map(|(i, c)| i + c.len_utf8())
        .collect();
    if ends.last() != Some(&text.len()) {
        ends.push(text.len());
    }
    ends
}

/// Greedily joins the segments between `ends` into pieces of at most `max`
/// characters; a single segment longer than `max` is a piece of its own.
fn pack<'a>(text: &'a str, ends: &[usize], max: usize) -> Vec<&'a str> {
    let mut out = Vec::new();
    let (mut start, mut last_end, mut len) = (0, 0, 0);
    for &end in ends {
        let seg = text[last_end..end].chars().count();
        if len + seg > max && last_end > start {
            out.push(&text[start..last_end]);
            start = last_end;
            len = 0;
        }
        len += seg;
        last_end = end;
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Punctuation that ends a sentence, in Chinese or Latin script: the one
/// definition the crate splits sentences by (a clause end, such as a comma,
/// is a different notion: see [`crate::links`]). An ASCII `.` is not one:
/// in the transcripts it is as often a decimal point.
pub fn is_sentence_end(c: char) -> bool {
    matches!(
        c,
        '。' | '\u{ff01}' | '\u{ff1f}' | '\u{ff1b}' | '!' | '?' | ';' | '…'
    )
}

/// Closing quotation marks and brackets: after a sentence end they still
/// belong to the sentence.
pub fn is_closing_mark(c: char) -> bool {
    matches!(c, '」' | '』' | '”' | '’' | '"' | ')' | '\u{ff09}')
}

/// The question marks, full-width and ASCII.
pub const QUESTION_MARKS: [char; 2] = ['?', '\u{ff1f}'];

/// The sentences of `text`, verbatim, each with its end marks (the text
/// between two [`sentence_ends`]); pieces with no letter or digit are
/// skipped.
pub fn sentences(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    sentence_ends(text).into_iter().filter_map(move |end| {
        let piece = &text[start..end];
        start = end;
        piece.chars().any(char::is_alphanumeric).then_some(piece)
    })
}

/// Whether a sentence asks: it ends in a question mark, with closing marks
/// and white space after it set aside (「是嗎?」).
pub fn is_question(sentence: &str) -> bool {
    sentence
        .trim_end_matches(|c: char| c.is_whitespace() || is_closing_mark(c))
        .ends_with(QUESTION_MARKS)
}

/// Byte offsets just after each sentence terminator (and the end of text).
pub fn sentence_ends(text: &str) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if is_sentence_end(c) {
            let mut end = i + c.len_utf8();
            // Keep closing quotes and repeated terminators (not semicolons)
            // with the sentence.
            while let Some(&(j, n)) = chars.peek() {
                if is_closing_mark(n) || (is_sentence_end(n) && !matches!(n, ';' | '\u{ff1b}')) {
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
    fn sentences_are_verbatim_and_questions_are_told_by_their_end() {
        let text = "好。「有沒有特別注重90後?」 …… 謝謝!";
        let got: Vec<&str> = sentences(text).collect();
        // " ……" ends a piece with no letter: skipped.
        assert_eq!(got, ["好。", "「有沒有特別注重90後?」", " 謝謝!"]);
        assert!(is_question("「有沒有特別注重90後?」 "));
        assert!(is_question("是嗎?"));
        assert!(!is_question("好。"));
        assert!(!is_question("?不是"));
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
    }

    fn turns_of(t: &Transcript) -> Vec<(&str, &str)> {
        t.turns
            .iter()
            .flat_map(|x| {
                x.paragraphs
                    .iter()
                    .map(move |p| (x.speaker.as_str(), p.text.as_str()))
            })
            .collect()
    }

    #[test]
    fn sidecar_names_of_any_length_open_turns() {
        let text = "Panel\n\nJane Smith: We moved to cloud.\n\nBob: Why?\n\nJane Smith: Because blockchain settlement was too slow.\n\nBob: Thanks.\n";
        let sidecar = "[[speakers]]\nname=\"Jane Smith\"\n[[speakers]]\nname=\"Bob\"\n";
        let t = parse(Path::new("l.txt"), "l", text.as_bytes(), Some(sidecar)).unwrap();
        assert_eq!(
            turns_of(&t),
            [
                ("Jane Smith", "We moved to cloud."),
                ("Bob", "Why?"),
                ("Jane Smith", "Because blockchain settlement was too slow."),
                ("Bob", "Thanks."),
            ]
        );
        let long = "中國民生銀行總經理郭慶";
        let text = format!("論壇\n\n{long}:人才很重要。\n\n唐文:謝謝。\n");
        let sidecar = format!("[[speakers]]\nname=\"{long}\"\n[[speakers]]\nname=\"唐文\"\n");
        let t = parse(Path::new("g.txt"), "g", text.as_bytes(), Some(&sidecar)).unwrap();
        assert_eq!(turns_of(&t), [(long, "人才很重要。"), ("唐文", "謝謝。")]);
    }

    #[test]
    fn a_furniture_word_inside_the_conversation_is_content() {
        let text = "論壇\n\n甲:我先說。\n\n分享到這裡,我再補充一點。\n\n乙:好的。\n\n甲:謝謝。\n\n乙:再見。\n\n分享到:\n\n相關文章:\n\n作者:某人\n";
        for sidecar in [
            None,
            Some("[[speakers]]\nname=\"甲\"\n[[speakers]]\nname=\"乙\"\n"),
        ] {
            let t = parse(Path::new("f.txt"), "f", text.as_bytes(), sidecar).unwrap();
            assert_eq!(
                turns_of(&t),
                [
                    ("甲", "我先說。"),
                    ("甲", "分享到這裡,我再補充一點。"),
                    ("乙", "好的。"),
                    ("甲", "謝謝。"),
                    ("乙", "再見。"),
                ],
                "{sidecar:?}"
            );
        }
        // Even in the last turn, a sentence is not furniture; a `分享到:` line
        // in the middle of the conversation is skipped neither.
        let text = "論壇\n\n甲:我先說。\n\n分享到:\n\n乙:好的。\n\n甲:謝謝。\n\n乙:嗯。\n\n分享到這裡為止。\n";
        let t = parse(Path::new("f.txt"), "f", text.as_bytes(), None).unwrap();
        let said: Vec<&str> = turns_of(&t).into_iter().map(|(_, p)| p).collect();
        assert_eq!(
            said,
            [
                "我先說。",
                "分享到:",
                "好的。",
                "謝謝。",
                "嗯。",
                "分享到這裡為止。"
            ]
        );
        // Furniture with author lines of its own: they are not speakers.
        let text = "論壇\n\n甲:我先說。\n\n乙:好的。\n\n甲:謝謝。\n\n乙:再見。\n\n相關文章:\n\n作者:張三\n\n作者:李四\n";
        let t = parse(Path::new("f.txt"), "f", text.as_bytes(), None).unwrap();
        let names: Vec<&str> = t.speakers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["甲", "乙"]);
        assert_eq!(t.turns.len(), 4);
    }

    #[test]
    fn a_speaker_line_is_never_the_title() {
        let text = "甲:第一句話很重要。\n\n乙:同意。\n\n甲:謝謝。\n\n乙:好。\n";
        let t = parse(Path::new("首.txt"), "首", text.as_bytes(), None).unwrap();
        assert_eq!(t.turns.len(), 4);
        assert_eq!(turns_of(&t)[0], ("甲", "第一句話很重要。"));
        assert_eq!(t.meta.title, "首");
    }

    #[test]
    fn urls_are_never_speakers() {
        let text = "標題\n\nhttps://example.com/a\n\nhttps://example.com/b\n\n甲:你好。\n\n甲:再見。\n\nhttp:不是人\n\nhttp:也不是\n";
        let t = parse(Path::new("u.txt"), "u", text.as_bytes(), None).unwrap();
        let names: Vec<&str> = t.speakers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["甲"]);
        assert_eq!(t.intro.len(), 2);
        assert_eq!(t.turns[1].paragraphs.len(), 3);
    }

    #[test]
    fn control_characters_never_get_in() {
        let text = "Ti\u{1b}[31mtle\u{7}\n\n甲:你\u{1b}[2J好。\n\n乙:好\u{9b}31m。\n\n甲:謝謝。\n\n乙:\t再見。\n";
        let sidecar = "title = \"T\\u001b]0;x\\u0007\"\nevent = \"E\\u001b[1m\"\nplace = \"P\\u0008\"\n\
            [[speakers]]\nname = \"\\u001b甲\\u0007\"\nrole = \"R\\u001b[5m\"\naliases = [\"甲總\\u0007\"]\n\
            [[speakers]]\nname = \"乙\"\n";
        for sidecar in [None, Some(sidecar)] {
            let t = parse(Path::new("c.txt"), "c", text.as_bytes(), sidecar).unwrap();
            let json = serde_json::to_string(&t).unwrap();
            let t2: Transcript = serde_json::from_str(&json).unwrap();
            let all = format!("{:?}", (&t2.meta, &t2.speakers, &t2.intro, &t2.turns));
            assert!(!all.contains("\\u{1b}") && !all.contains("\\u{7}"), "{all}");
            let strings = [&t.meta.title]
                .into_iter()
                .chain(t.meta.event.iter())
                .chain(t.meta.place.iter())
                .chain(t.speakers.iter().map(|s| &s.name))
                .chain(t.speakers.iter().flat_map(|s| s.role.iter()))
                .chain(t.speakers.iter().flat_map(|s| s.aliases.iter()))
                .chain(
                    t.turns
                        .iter()
                        .flat_map(|x| x.paragraphs.iter().map(|p| &p.text)),
                );
            for s in strings {
                assert!(!s.chars().any(char::is_control), "{s:?}");
            }
            assert_eq!(t.turns.len(), 4, "{sidecar:?}");
            assert_eq!(t.speakers[0].name, "甲");
        }
    }

    #[test]
    fn invisible_or_bidi_characters_in_names_are_refused() {
        let text = "論壇\n\n郭慶:你好。\n\n郭慶:再見。\n";
        for (name, alias) in [
            ("郭\u{200d}慶", "郭總"),
            ("郭慶\u{200b}", "郭總"),
            ("\u{202e}慶郭", "郭總"),
            ("郭慶", "郭\u{2066}總\u{2069}"),
            ("郭慶", "\u{feff}郭總"),
        ] {
            let sidecar = format!(
                "[[speakers]]\nname = \"{name}\"\naliases = [\"{alias}\"]\n[[speakers]]\nname = \"唐文\"\n"
            );
            match parse(Path::new("dir/s.txt"), "s", text.as_bytes(), Some(&sidecar)) {
                Err(e @ TranscriptError::Sidecar { .. }) => {
                    let msg = e.to_string();
                    assert!(msg.starts_with("dir/s.toml"), "{msg}");
                    assert!(msg.contains("invisible"), "{msg}");
                }
                other => panic!("{name:?}/{alias:?} accepted: {other:?}"),
            }
        }
    }

    #[test]
    fn sidecar_errors_name_the_sidecar() {
        let text = "甲:一\n甲:二\n".as_bytes();
        for sidecar in [
            "id = \"../etc\"\n",
            "bogus = 1\n",
            "[[speakers]]\nname = \"甲:乙\"\n",
            "[[speakers]]\nname = \" \"\n",
            "[[speakers]]\nname = \"甲\"\n[[speakers]]\nname = \"甲 \"\n",
        ] {
            let e = parse(Path::new("d/x.txt"), "x", text, Some(sidecar)).unwrap_err();
            assert_eq!(e.path(), Path::new("d/x.toml"), "{sidecar}: {e}");
            assert!(e.to_string().starts_with("d/x.toml:"), "{e}");
        }
    }

    #[test]
    fn utf16_is_named_with_how_to_convert() {
        let text = "標題\n\n甲:你好。\n\n甲:再見。\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let ascii = "Title\n\nA: hello\n\nA: bye\n";
        let ascii_le: Vec<u8> = ascii.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let ascii_be: Vec<u8> = ascii.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let cases = [
            ([&b"\xff\xfe"[..], &le].concat(), "UTF-16"),
            ([&b"\xfe\xff"[..], &be].concat(), "UTF-16"),
            (ascii_le, "UTF-16LE"),
            (ascii_be, "UTF-16BE"),
        ];
        for (bytes, encoding) in cases {
            match parse(Path::new("w.txt"), "w", &bytes, None) {
                Err(e @ TranscriptError::Utf16 { .. }) => {
                    let msg = e.to_string();
                    assert!(msg.contains("w.txt"), "{msg}");
                    assert!(
                        msg.contains(&format!("iconv -f {encoding} -t UTF-8 in.txt > out.txt")),
                        "{msg}"
                    );
                }
                other => panic!("expected Utf16 ({encoding}), got {other:?}"),
            }
        }
        // Binary data with NULs everywhere is still binary.
        let binary: Vec<u8> = (0..400u32)
            .map(|i| if i % 3 == 0 { 0 } else { i as u8 })
            .collect();
        assert!(matches!(
            parse(Path::new("b.txt"), "b", &binary, None),
            Err(TranscriptError::Binary { .. })
        ));
    }

    #[test]
    fn non_ascii_file_names_get_readable_distinct_ids() {
        assert_eq!(sanitize_id("000_075a307d861b3240"), "000_075a307d861b3240");
        let ids: Vec<String> = [
            "圓桌論壇",
            "圓桌论坛",
            "對話",
            "αβγ",
            "ωψ",
            "Café forum",
            "cafe forum",
            "??",
            "!!",
        ]
        .iter()
        .map(|s| sanitize_id(s))
        .collect();
        assert!(ids[0].starts_with("yuan-zhuo-lun-tan_"), "{ids:?}");
        assert!(ids[1].starts_with("yuan-zhuo-lun-tan_"), "{ids:?}");
        assert!(ids[2].starts_with("dui-hua_"), "{ids:?}");
        assert!(ids[5].starts_with("Cafe-forum_"), "{ids:?}");
        let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len(), "{ids:?}");
        assert!(ids.iter().all(|id| is_valid_id(id)), "{ids:?}");
        assert!(is_valid_id(&sanitize_id(&"長".repeat(200))));
    }

    #[test]
    fn paragraphs_without_sentence_ends_are_split_anyway() {
        let check = |text: &str, max: usize| -> Vec<String> {
            let pieces = split_long(text, max);
            let mut at = 0;
            for p in &pieces {
                assert!(p.chars().count() <= max, "{} > {max}", p.chars().count());
                // A verbatim slice, in order, with only white space skipped.
                let offset = p.as_ptr() as usize - text.as_ptr() as usize;
                assert!(offset >= at && text[at..offset].trim().is_empty());
                at = offset + p.len();
            }
            assert!(text[at..].trim().is_empty());
            pieces.iter().map(|p| p.to_string()).collect()
        };
        let clauses = "一二三四五六七八九,".repeat(40);
        let pieces = check(&clauses, 50);
        assert!(pieces.len() >= 8 && pieces.iter().all(|p| p.ends_with(',')));
        let words = "word ".repeat(200);
        let pieces = check(&words, 50);
        assert!(pieces.len() >= 20 && pieces.iter().all(|p| p.ends_with("word")));
        let solid = "字".repeat(500);
        assert_eq!(check(&solid, 50).len(), 10);
        let mixed = format!("{}。{}", "甲".repeat(30), "乙😀".repeat(400));
        let pieces = check(&mixed, 64);
        assert_eq!(pieces[0], format!("{}。", "甲".repeat(30)));
        // A 2 MB upload with no sentence end at all.
        let big = "數據".repeat(1_000_000);
        assert_eq!(
            check(&big, MAX_PASSAGE_CHARS).len(),
            2_000_000_usize.div_ceil(MAX_PASSAGE_CHARS)
        );
    }
}
