//! Who is who: every speaker of the corpus with the names people use for
//! them, and finding them in a question.
//!
//! A speaker is known by canonical name (merged across transcripts), aliases
//! from the sidecars (郭總, 主持人), and generated pinyin (`guoqing`, `Guo Qing`,
//! `qingguo`). Matching is on folded text, so either Chinese script works.

use crate::index::Catalog;
use crate::text::{self, fold_str};
use aho_corasick::{AhoCorasick, MatchKind};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

/// A name that is no speaker's, or several speakers': what a question's
/// `speaker` option and a summary both refuse, with the names to pick from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", name_problem_text(.name, .known, *.problem))]
pub struct UnknownSpeaker {
    /// The name as typed.
    pub name: String,
    /// The names to pick from (see [`NameProblem`]).
    pub known: Vec<String>,
    pub problem: NameProblem,
}

/// Why a name named nobody (or several).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameProblem {
    /// Nothing fits; `known` holds the close matches, else every speaker.
    Unknown { close: bool },
    /// Several speakers fit; `known` lists them to pick from.
    Several,
}

fn name_problem_text(name: &str, known: &[String], problem: NameProblem) -> String {
    let list = |v: &[String]| {
        let mut s = v.iter().take(25).cloned().collect::<Vec<_>>().join(", ");
        if v.len() > 25 {
            s.push_str(&format!(", … ({} in all)", v.len()));
        }
        s
    };
    match problem {
        NameProblem::Several => format!(
            "{name:?} fits several speakers: {}; give one of these names",
            list(known)
        ),
        NameProblem::Unknown { close: true } => {
            format!("unknown speaker {name:?}; did you mean: {}?", list(known))
        }
        NameProblem::Unknown { close: false } => {
            format!("unknown speaker {name:?}; known speakers: {}", list(known))
        }
    }
}

/// One person, merged over every transcript they speak in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpeakerEntry {
    pub name: String,
    pub roles: Vec<String>,
    pub aliases: Vec<String>,
    pub pinyin: Vec<String>,
    pub turns: usize,
    pub transcripts: Vec<String>,
}

impl SpeakerEntry {
    /// The role to show: the first one given.
    pub fn role(&self) -> Option<&str> {
        self.roles.first().map(String::as_str)
    }
}

/// Speakers found in a question, and where (byte ranges of the folded question).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mentions {
    pub speakers: Vec<usize>,
    pub spans: Vec<Range<usize>>,
}

/// Index of speakers and their names.
#[derive(Debug)]
pub struct SpeakerDirectory {
    pub entries: Vec<SpeakerEntry>,
    /// Folded Chinese names and aliases, matched in questions.
    han: Option<AhoCorasick>,
    han_targets: Vec<Vec<usize>>,
    /// Folded names, aliases and pinyin → speakers (exact look-ups); a key
    /// that is somebody's name names only them.
    exact: HashMap<String, Vec<usize>>,
    /// Folded names and their pinyin alone.
    named: HashMap<String, Vec<usize>>,
    pinyin: HashMap<String, Vec<usize>>,
    /// Each speaker's roles, folded (for affiliations: 光大那位).
    roles: Vec<String>,
}

/// How many ASCII words a pinyin name may be written in (`Chen Hui Ling`).
const MAX_PINYIN_WORDS: usize = 4;

/// Titles said after a surname (唐老師, 周女士, 郭行長), folded: a surname
/// with one of them names the one speaker of that surname.
const TITLES: &[&str] = &[
    "老师",
    "先生",
    "女士",
    "小姐",
    "总",
    "总监",
    "总经理",
    "经理",
    "行长",
    "博士",
    "教授",
    "主任",
    "董事长",
    "院长",
    "部长",
    "处长",
    "局长",
    "老板",
    "律师",
    "医生",
    "同学",
    "老",
];

/// What a moderator is called without their name, folded.
const MODERATOR_WORDS: &[&str] = &["主持人", "moderator", "host"];

/// Words after an affiliation that make it a reference to a person
/// (光大那位, 京东云的嘉宾), folded.
const PERSON_AFTER: &[&str] = &[
    "那位",
    "的那位",
    "这位",
    "的这位",
    "的嘉宾",
    "那个嘉宾",
    "的代表",
    "的老师",
    "的专家",
];

/// Compound surnames, folded (欧阳娜娜 is 欧阳, not 欧).
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "司徒", "夏侯",
];

/// The surname of a folded Chinese name of 2 to 4 characters.
fn surname(folded: &str) -> Option<String> {
    let chars: Vec<char> = folded.chars().collect();
    if !(2..=4).contains(&chars.len()) || !chars.iter().all(|&c| text::is_cjk(c)) {
        return None;
    }
    let two: String = chars[..2].iter().collect();
    if chars.len() >= 3 && COMPOUND_SURNAMES.contains(&two.as_str()) {
        return Some(two);
    }
    Some(chars[0].to_string())
}

impl SpeakerDirectory {
    pub fn new(catalog: &Catalog) -> Self {
        let mut by_name: BTreeMap<String, SpeakerEntry> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        let mut moderator_names: std::collections::HashSet<String> = Default::default();
        for t in &catalog.transcripts {
            for s in &t.speakers {
                if s.moderator {
                    moderator_names.insert(s.name.clone());
                }
                let e = by_name.entry(s.name.clone()).or_insert_with(|| {
                    order.push(s.name.clone());
                    SpeakerEntry {
                        name: s.name.clone(),
                        roles: Vec::new(),
                        aliases: Vec::new(),
                        pinyin: Vec::new(),
                        turns: 0,
                        transcripts: Vec::new(),
                    }
                });
                if let Some(r) = &s.role {
                    if !e.roles.contains(r) {
                        e.roles.push(r.clone());
                    }
                }
                for a in &s.aliases {
                    if !e.aliases.contains(a) {
                        e.aliases.push(a.clone());
                    }
                }
                for p in &s.pinyin {
                    if !e.pinyin.contains(p) {
                        e.pinyin.push(p.clone());
                    }
                }
                e.turns += t
                    .turns_per_speaker
                    .iter()
                    .find(|(n, _)| *n == s.name)
                    .map_or(0, |x| x.1);
                e.transcripts.push(t.meta.id.clone());
            }
        }
        let entries: Vec<SpeakerEntry> = order
            .into_iter()
            .filter_map(|n| by_name.remove(&n))
            .collect();
        let moderator: Vec<bool> = entries
            .iter()
            .map(|e| moderator_names.contains(&e.name))
            .collect();
        let roles: Vec<String> = entries
            .iter()
            .map(|e| fold_str(&e.roles.join(" ")))
            .collect();

        // Two tiers: what a speaker is called (the name and its pinyin), and
        // what others call them (aliases). A key that is somebody's name
        // names only them, so a speaker called 主持人 is reached by 主持人
        // even where 主持人 is another speaker's alias.
        let mut named: HashMap<String, Vec<usize>> = HashMap::new();
        let mut aliased: HashMap<String, Vec<usize>> = HashMap::new();
        let add = |map: &mut HashMap<String, Vec<usize>>, key: String, i: usize| {
            if key.is_empty() {
                return;
            }
            let v = map.entry(key).or_default();
            if !v.contains(&i) {
                v.push(i);
            }
        };
        // Names as people say them: surname + title for the one speaker of
        // that surname (a surname shared by two speakers names neither),
        // and "the moderator" for the one moderator. Written aliases and
        // names win over these.
        let mut by_surname: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            if let Some(s) = surname(&fold_str(&e.name)) {
                by_surname.entry(s).or_default().push(i);
            }
        }
        let moderators: Vec<usize> = (0..entries.len()).filter(|&i| moderator[i]).collect();
        let mut said: Vec<(String, usize)> = Vec::new();
        for (s, ids) in &by_surname {
            if let [i] = ids[..] {
                said.extend(TITLES.iter().map(|t| (format!("{s}{t}"), i)));
            }
        }
        if let [i] = moderators[..] {
            said.extend(MODERATOR_WORDS.iter().map(|w| (w.to_string(), i)));
        }
        let written: std::collections::HashSet<String> = entries
            .iter()
            .flat_map(|e| std::iter::once(&e.name).chain(e.aliases.iter()))
            .map(|n| fold_str(n).split_whitespace().collect::<String>())
            .collect();
        said.retain(|(n, _)| !written.contains(n));
        for (i, e) in entries.iter().enumerate() {
            add(&mut named, name_key(&e.name), i);
            for p in &e.pinyin {
                // Folded like questions are (lü → lu).
                add(&mut named, fold_str(p), i);
            }
            for a in &e.aliases {
                add(&mut aliased, name_key(a), i);
            }
        }
        // Said names are aliases of the lowest tier: never over a written
        // name or alias.
        for (n, i) in said {
            if !named.contains_key(&n) && !aliased.contains_key(&n) {
                add(&mut aliased, n, i);
            }
        }
        let mut exact = aliased;
        exact.extend(named.clone());
        let mut pinyin: HashMap<String, Vec<usize>> = HashMap::new();
        let mut han_patterns: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (key, ids) in &exact {
            if key.chars().any(text::is_cjk) {
                han_patterns.insert(key.clone(), ids.clone());
            } else {
                pinyin.insert(key.clone(), ids.clone());
            }
        }
        let (patterns, han_targets): (Vec<String>, Vec<Vec<usize>>) =
            han_patterns.into_iter().unzip();
        let han = if patterns.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&patterns)
                .ok()
        };
        SpeakerDirectory {
            entries,
            han,
            han_targets,
            exact,
            named,
            pinyin,
            roles,
        }
    }

    /// Speakers a name, alias or pinyin spelling refers to (any script, any
    /// case, spaces ignored). A name as written wins over the same name in
    /// the other script (周伊麗 and 周伊丽 of two transcripts), and a name
    /// over an alias; `NAME (ROLE)`, as a list of speakers to pick from
    /// shows them, is NAME. So every name such a list offers names one
    /// speaker.
    pub fn resolve(&self, name: &str) -> Vec<usize> {
        let typed = name.trim();
        if let Some(i) = self.entries.iter().position(|e| e.name == typed) {
            return vec![i];
        }
        let key = name_key(typed);
        if let Some(ids) = self.exact.get(&key) {
            return ids.clone();
        }
        match without_role(typed) {
            Some(bare) => self.resolve(bare),
            None => Vec::new(),
        }
    }

    /// Speakers whose own name (not an alias) folds to what was typed.
    pub fn named(&self, name: &str) -> Vec<usize> {
        self.named.get(&name_key(name)).cloned().unwrap_or_default()
    }

    /// Whether a folded word is a name, alias or pinyin of any speaker
    /// (summaries keep names out of keywords without folding them all).
    pub fn is_name(&self, folded: &str) -> bool {
        self.exact.contains_key(folded)
    }

    /// Canonical names, for error messages.
    pub fn names(&self) -> Vec<String> {
        self.entries.iter().map(|e| e.name.clone()).collect()
    }

    /// Speakers named in a folded question: Chinese names and aliases
    /// anywhere, pinyin as whole ASCII words (`Guo Qing`, `guoqing`).
    pub fn find_in(&self, folded: &str) -> Mentions {
        let mut m = Mentions::default();
        let push = |ids: &[usize], span: Range<usize>, m: &mut Mentions| {
            for &i in ids {
                if !m.speakers.contains(&i) {
                    m.speakers.push(i);
                }
            }
            m.spans.push(span);
        };
        if let Some(ac) = &self.han {
            for hit in ac.find_iter(folded) {
                push(
                    &self.han_targets[hit.pattern().as_usize()],
                    hit.start()..hit.end(),
                    &mut m,
                );
            }
        }
        self.find_affiliations(folded, &mut m);
        // ASCII words with their byte ranges.
        let words: Vec<Range<usize>> = ascii_words(folded);
        let mut i = 0;
        while i < words.len() {
            let mut matched = false;
            for n in (1..=MAX_PINYIN_WORDS.min(words.len() - i)).rev() {
                let key: String = words[i..i + n].iter().map(|r| &folded[r.clone()]).collect();
                if let Some(ids) = self.pinyin.get(&key) {
                    push(ids, words[i].start..words[i + n - 1].end, &mut m);
                    i += n;
                    matched = true;
                    break;
                }
            }
            if !matched {
                i += 1;
            }
        }
        m
    }

    /// A person referred to by affiliation (光大那位, 京东云的嘉宾): the
    /// longest run of two or more Han characters just before a word that
    /// makes it a person, found in exactly one speaker's role.
    fn find_affiliations(&self, folded: &str, m: &mut Mentions) {
        for after in PERSON_AFTER {
            for (at, _) in folded.match_indices(after) {
                let before: Vec<(usize, char)> = folded[..at]
                    .char_indices()
                    .rev()
                    .take_while(|(_, c)| text::is_cjk(*c))
                    .take(8)
                    .collect();
                // Longest first: 京东云 before 东云.
                for n in (2..=before.len()).rev() {
                    let start = before[n - 1].0;
                    let org = &folded[start..at];
                    let fits: Vec<usize> = (0..self.roles.len())
                        .filter(|&i| self.roles[i].contains(org))
                        .collect();
                    if let [i] = fits[..] {
                        if !m.speakers.contains(&i) {
                            m.speakers.push(i);
                        }
                        m.spans.push(start..at + after.len());
                        break;
                    }
                }
            }
        }
    }

    /// Speakers whose name, alias or pinyin starts with or contains what was
    /// typed (for autocomplete), best first, at most `max`.
    pub fn suggest(&self, typed: &str, max: usize) -> Vec<usize> {
        let typed: String = fold_str(typed).split_whitespace().collect();
        if typed.is_empty() {
            return (0..self.entries.len().min(max)).collect();
        }
        let mut scored: Vec<(u8, usize)> = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            let keys = std::iter::once(fold_str(&e.name))
                .chain(e.aliases.iter().map(|a| fold_str(a)))
                .chain(e.pinyin.iter().map(|p| fold_str(p)));
            let mut best = None;
            for k in keys {
                let k: String = k.split_whitespace().collect();
                let rank = if k == typed {
                    0
                } else if k.starts_with(&typed) {
                    1
                } else if k.contains(&typed) {
                    2
                } else {
                    continue;
                };
                best = Some(best.map_or(rank, |b: u8| b.min(rank)));
            }
            if let Some(r) = best {
                scored.push((r, i));
            }
        }
        scored.sort();
        scored.into_iter().take(max).map(|(_, i)| i).collect()
    }
}

/// A name as looked up: folded, white space left out.
fn name_key(name: &str) -> String {
    fold_str(name).split_whitespace().collect()
}

/// `唐文 (主持人)` → `唐文`: a name followed by a role in parentheses.
fn without_role(typed: &str) -> Option<&str> {
    let inner = typed.strip_suffix([')', '\u{ff09}'])?;
    let open = inner.rfind(['(', '\u{ff08}'])?;
    Some(inner[..open].trim()).filter(|n| !n.is_empty())
}

/// Byte ranges of runs of ASCII letters in `s`.
fn ascii_words(s: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (c.is_ascii_alphabetic(), start) {
            (true, None) => start = Some(i),
            (false, Some(st)) => {
                out.push(st..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push(st..s.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::TranscriptInfo;
    use crate::transcript::{self, Meta};

    pub(crate) fn bundled_directory() -> SpeakerDirectory {
        SpeakerDirectory::new(&Catalog {
            transcripts: vec![bundled_directory_info()],
        })
    }

    fn bundled_directory_info() -> TranscriptInfo {
        let t = transcript::parse(
            std::path::Path::new("b.txt"),
            "b",
            include_bytes!("../data/transcripts/000_075a307d861b3240.txt"),
            Some(include_str!(
                "../data/transcripts/000_075a307d861b3240.toml"
            )),
        )
        .unwrap();
        TranscriptInfo {
            meta: Meta { ..t.meta.clone() },
            file: "b.txt".into(),
            speakers: t.speakers.clone(),
            turns: t.turns.len(),
            turns_per_speaker: t.turns_per_speaker(),
            chars_per_speaker: vec![],
            passages: 0,
            version: 1,
            since_unix: 0,
            text_hash: String::new(),
        }
    }

    fn found(d: &SpeakerDirectory, q: &str) -> Vec<String> {
        d.find_in(&fold_str(q))
            .speakers
            .into_iter()
            .map(|i| d.entries[i].name.clone())
            .collect()
    }

    /// A directory of hand-made speakers (name, role, moderator).
    fn directory_of(speakers: &[(&str, &str, bool)]) -> SpeakerDirectory {
        let speakers = speakers
            .iter()
            .map(|(name, role, moderator)| crate::transcript::Speaker {
                name: (*name).into(),
                role: Some((*role).into()),
                aliases: Vec::new(),
                pinyin: Vec::new(),
                moderator: *moderator,
            })
            .collect();
        let mut info = bundled_directory_info();
        info.speakers = speakers;
        SpeakerDirectory::new(&Catalog {
            transcripts: vec![info],
        })
    }

    #[test]
    fn a_surname_with_a_title_names_the_one_speaker_of_that_surname() {
        let d = directory_of(&[
            ("王芳", "主持人", true),
            ("李明", "招商銀行行長", false),
            ("李娜", "平安保險副總裁", false),
            ("歐陽娜娜", "京東雲總監", false),
        ]);
        assert_eq!(found(&d, "王老師怎麼看人才?"), ["王芳"]);
        assert_eq!(found(&d, "欧阳女士说了什么"), ["歐陽娜娜"]);
        // Two speakers named 李: 李總 names neither.
        assert!(found(&d, "李總怎麼看人才?").is_empty());
        // The one moderator, without a name, in either language.
        assert_eq!(found(&d, "主持人問了什麼?"), ["王芳"]);
        assert_eq!(found(&d, "what did the moderator ask"), ["王芳"]);
    }

    #[test]
    fn an_affiliation_names_a_speaker_only_when_it_refers_to_a_person_and_fits_one_role() {
        let d = directory_of(&[
            ("王芳", "主持人", true),
            ("李明", "招商銀行零售部總經理", false),
            ("張偉", "平安銀行科技部總經理", false),
            ("歐陽娜娜", "京東雲市場部總監", false),
        ]);
        assert_eq!(found(&d, "招商那位怎麼說"), ["李明"]);
        assert_eq!(found(&d, "那位京東雲的嘉賓講了什麼"), ["歐陽娜娜"]);
        // 銀行 fits two roles; 京東雲 alone is a topic, not a person.
        assert!(found(&d, "銀行那位怎麼說").is_empty());
        assert!(found(&d, "京東雲的方案多少錢").is_empty());
        // The reference is taken out of the question's words.
        let m = d.find_in(&fold_str("招商那位怎麼說"));
        assert_eq!(m.spans.len(), 1);
        assert_eq!(m.spans[0], 0..fold_str("招商那位").len());
    }

    #[test]
    fn every_name_and_alias_in_both_scripts() {
        let d = bundled_directory();
        let cases = [
            ("郭慶怎麼看人才?", "郭慶"),
            ("郭庆怎么看人才", "郭慶"),
            ("郭總說了什麼", "郭慶"),
            ("郭总", "郭慶"),
            ("周總說創新", "周伊麗"),
            ("週總說創新", "周伊麗"),
            ("周伊丽", "周伊麗"),
            ("陳總說", "陳慧菱"),
            ("陈慧菱", "陳慧菱"),
            ("主持人問了什麼", "唐文"),
            ("唐文", "唐文"),
        ];
        for (q, want) in cases {
            assert_eq!(found(&d, q), [want], "question {q:?}");
        }
    }

    #[test]
    fn pinyin_in_any_case_with_or_without_spaces() {
        let d = bundled_directory();
        for q in [
            "Chen Huiling 關鍵詞",
            "chenhuiling",
            "CHEN HUI LING?",
            "Huiling Chen",
            "what did chen huiling say",
        ] {
            assert_eq!(found(&d, q), ["陳慧菱"], "question {q:?}");
        }
        assert_eq!(found(&d, "Guo Qing on talent"), ["郭慶"]);
        assert_eq!(found(&d, "zhou yili"), ["周伊麗"]);
        // Tone marks, as pinyin is often typed.
        assert_eq!(found(&d, "Zhōu Yīlì 說了什麼"), ["周伊麗"]);
        assert_eq!(found(&d, "Chén Huìlíng"), ["陳慧菱"]);
        // Pinyin inside another word is not a name.
        assert!(found(&d, "tangwenx").is_empty());
        assert!(found(&d, "quantum computing roadmap").is_empty());
    }

    #[test]
    fn resolve_and_suggest() {
        let d = bundled_directory();
        let name = |v: Vec<usize>| {
            v.into_iter()
                .map(|i| d.entries[i].name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(name(d.resolve("週總")), ["周伊麗"]);
        assert_eq!(name(d.resolve("Guo Qing")), ["郭慶"]);
        assert!(d.resolve("某人").is_empty());
        assert_eq!(name(d.suggest("chen", 25)), ["陳慧菱"]);
        assert_eq!(name(d.suggest("陈", 25)), ["陳慧菱"]);
        assert_eq!(d.suggest("", 2).len(), 2);
        assert_eq!(name(d.suggest("主持", 25)), ["唐文"]);
    }

    /// A directory of the bundled transcript and one more, whose speakers
    /// are (name, aliases).
    fn with_second(speakers: &[(&str, &[&str])]) -> SpeakerDirectory {
        let mut catalog = Catalog {
            transcripts: bundled_directory_catalog(),
        };
        let second = TranscriptInfo {
            meta: Meta {
                id: "second".into(),
                title: "second".into(),
                event: None,
                date: None,
                place: None,
                source_url: None,
                lang: "zh-Hant".into(),
            },
            file: "second.txt".into(),
            speakers: speakers
                .iter()
                .map(|(n, a)| transcript::Speaker {
                    name: n.to_string(),
                    role: None,
                    aliases: a.iter().map(|a| a.to_string()).collect(),
                    pinyin: transcript::pinyin_spellings(n),
                    moderator: false,
                })
                .collect(),
            turns: speakers.len(),
            turns_per_speaker: speakers.iter().map(|(n, _)| (n.to_string(), 1)).collect(),
            chars_per_speaker: vec![],
            passages: 0,
            version: 1,
            since_unix: 0,
            text_hash: String::new(),
        };
        catalog.transcripts.push(second);
        SpeakerDirectory::new(&catalog)
    }

    fn bundled_directory_catalog() -> Vec<TranscriptInfo> {
        let t = transcript::parse(
            std::path::Path::new("b.txt"),
            "b",
            include_bytes!("../data/transcripts/000_075a307d861b3240.txt"),
            Some(include_str!(
                "../data/transcripts/000_075a307d861b3240.toml"
            )),
        )
        .unwrap();
        vec![TranscriptInfo {
            meta: t.meta.clone(),
            file: "b.txt".into(),
            speakers: t.speakers.clone(),
            turns: t.turns.len(),
            turns_per_speaker: t.turns_per_speaker(),
            chars_per_speaker: vec![],
            passages: 0,
            version: 1,
            since_unix: 0,
            text_hash: String::new(),
        }]
    }

    #[test]
    fn a_speaker_named_like_another_speakers_alias_wins_over_the_alias() {
        let d = with_second(&[("主持人", &[]), ("王大明", &[])]);
        let name = |v: Vec<usize>| {
            v.into_iter()
                .map(|i| d.entries[i].name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(name(d.resolve("主持人")), ["主持人"]);
        assert_eq!(found(&d, "主持人問了什麼"), ["主持人"]);
        // 唐文's other names still reach 唐文.
        assert_eq!(name(d.resolve("唐總")), ["唐文"]);
        assert_eq!(name(d.resolve("唐文")), ["唐文"]);
    }

    #[test]
    fn every_name_a_choice_list_offers_names_one_speaker() {
        // The same name in two scripts (two transcripts), and an alias two
        // speakers share: each fits several, and each name offered to pick
        // from (alone, or as the list shows it with the role) names one.
        let d = with_second(&[("周伊丽", &["周總"]), ("周大為", &["周總"])]);
        for typed in ["周總", "zhouyili", "周伊丽", "Zhou Yili"] {
            let ids = d.resolve(typed);
            assert!(!ids.is_empty(), "{typed}");
            for &i in &ids {
                let e = &d.entries[i];
                assert_eq!(d.resolve(&e.name), [i], "{typed}: {}", e.name);
                if let Some(role) = e.role() {
                    assert_eq!(d.resolve(&format!("{} ({role})", e.name)), [i]);
                }
            }
        }
        assert_eq!(d.resolve("周總").len(), 3);
    }
}
