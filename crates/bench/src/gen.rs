//! Reproducible synthetic corpus generator for benchmarks.
//!
//! [`generate`] writes `N` forum transcripts in the same article format as the
//! bundled transcript (title line, intro paragraphs, `NAME:text` turns with
//! continuation paragraphs, repeated caption lines, optional `分享到:`
//! trailer) together with their TOML sidecars. The text is made by
//! recombining the sentences of a source transcript (usually the bundled one),
//! partly folded to Simplified Chinese with `hanconv::t2s`, under freshly
//! generated speaker names, so that segmentation and scoring do realistic work.
//!
//! Output is a pure function of `(source_text, seed, index)`: transcript `i`
//! uses its own ChaCha8 stream (`seed_from_u64(seed)` + `set_stream(i)`), so
//! the same seed always gives the same corpus byte for byte, and a larger
//! corpus is a superset of a smaller one generated with the same seed.

use forumbot::transcript::{is_closing_mark, is_sentence_end, sentence_ends};
use std::fs;

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenOptions {
    /// Number of transcripts to write.
    pub transcripts: usize,
    /// Seed of the ChaCha8 generator; the same seed gives the same corpus.
    pub seed: u64,
}

/// Summary of a [`generate`] run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GenReport {
    /// Number of transcripts written.
    pub transcripts: usize,
    /// Total number of turn lines (`NAME:…`) over all transcripts.
    pub turns: usize,
    /// Total bytes written (transcript texts plus sidecars).
    pub bytes: u64,
}

/// Errors from [`generate`].
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// Creating a directory or writing/renaming a file failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file or directory being written.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The source transcript does not yield enough usable sentences.
    #[error("unusable source transcript: {0}")]
    Source(String),
}

const FULL_COLON: char = '\u{ff1a}';
const HALF_COLON: char = ':';
/// A colon at char index `<= PREFIX_CHARS` of a line reads as a `NAME:` prefix.
const PREFIX_CHARS: usize = 8;

const SURNAMES: &str = "王李張劉陳楊黃趙吳周徐孫馬朱胡郭何高林羅鄭梁謝宋唐許韓馮鄧曹彭曾蕭田董袁潘於蔣蔡余杜葉程蘇魏呂丁任沈姚盧姜崔鍾譚陸汪范金石廖賈夏韋付方白鄒孟熊秦邱江尹薛閻段雷侯龍史陶黎賀顧毛郝龔邵萬錢嚴覃武戴莫孔向湯";
const GIVEN: &str = "偉芳娜敏靜麗強磊軍洋勇艷傑娟濤明超秀霞平剛英華玉蘭萍紅鵬輝玲峰琳晨瑞凱浩宇欣怡佳慧穎婷雪晶昊博然嘉思子立新文建志國慶麟波";

const BRANDS: &[&str] = &[
    "金科創新社",
    "金融科技觀察",
    "網金研究院",
    "數字金融沙龍",
    "新金融論壇組委會",
];
const VERBS: &[&str] = &["瞄準", "聚焦", "擁抱", "重塑", "探索", "深耕", "破局"];
const TOPICS: &[&str] = &[
    "人性",
    "數字化營銷",
    "普惠金融",
    "金融科技",
    "大數據風控",
    "客戶體驗",
    "渠道建設",
    "人才團隊",
    "場景合作",
    "移動互聯網",
    "人工智能",
    "雲計算",
    "精準營銷",
    "品牌創新",
    "長尾客戶",
    "開放銀行",
];
const TAILS: &[&str] = &[
    "打好互聯網下半場",
    "實現用戶增長",
    "共創新未來",
    "回歸金融本源",
    "科技推動營銷變革",
    "合作 開放 共贏",
];
const EVENT_TOPICS: &[&str] = &[
    "網絡金融營銷",
    "網絡金融",
    "金融科技創新",
    "數字銀行",
    "互聯網金融",
    "普惠金融",
    "財富管理",
];
const THEMES: &[&str] = &[
    "科技推動營銷變革 實現用戶增長",
    "數據驅動決策 科技賦能金融",
    "開放合作 共建生態",
    "以客戶為中心 重塑零售銀行",
    "普惠金融的下半場",
    "人工智能時代的金融服務",
];
const PLACES: &[&str] = &[
    "北京", "上海", "深圳", "杭州", "廣州", "成都", "貴陽", "南京", "武漢", "西安",
];
const BOOKS: &[&str] = &[
    "《輕營銷》",
    "《互聯網的下半場》",
    "《數字化生存》",
    "《增長黑客》",
    "《金融的邏輯》",
];
const COMPANIES: &[&str] = &["氫原子", "新金融研究院", "未來智庫", "零壹財經", "藍海諮詢"];
const MOD_TITLES: &[&str] = &["CEO", "創始人", "主編", "合夥人"];
const ORGS: &[&str] = &[
    "中國民生銀行",
    "中國光大銀行",
    "招商銀行",
    "平安銀行",
    "興業銀行",
    "浦發銀行",
    "中信銀行",
    "華夏銀行",
    "北京銀行",
    "上海銀行",
    "微眾銀行",
    "京東雲",
    "螞蟻金服",
    "騰訊金融科技",
    "百度金融",
    "網聯清算",
];
const BRANCHES: &[&str] = &["北京分行", "上海分行", "深圳分行", "杭州分行", "廣州分行"];
const DEPTS: &[&str] = &[
    "科技部",
    "電子銀行部",
    "零售部",
    "市場傳播部",
    "數據應用部",
    "網絡金融部",
    "信用卡中心",
    "風險管理部",
    "金融科技部",
    "產品創新部",
];
const JOB_TITLES: &[&str] = &[
    "總經理",
    "副總經理",
    "高級總監",
    "總監",
    "首席數據官",
    "負責人",
];
/// Moderator hand-over sentences: `prefix + addressee + suffix`.
const HANDOVERS: &[(&str, &str)] = &[
    ("接下來我們聽聽", "在這方面的思考?"),
    ("請", "談談您的看法。"),
    ("", "怎麼看這個問題?"),
    ("這個問題我想先請", "來回答。"),
];
/// Panelist openers referring to another panelist: `prefix + addressee + suffix`.
const AGREEMENTS: &[(&str, &str)] = &[
    ("我非常認同", "剛才說的。"),
    ("剛才", "講的都非常好,我補充一點。"),
    ("呼應一下", "的說法。"),
];
const SHARE_LINE: &str = "分享到:";

/// Weights of "number of paragraphs in a turn" (1..=4) and "sentences in a
/// paragraph" (1..=6), tuned so that the average transcript is about the size
/// of the bundled one (~19 KB, ~70 paragraphs).
const MOD_PARAS: &[u32] = &[70, 30];
const MOD_SENTS: &[u32] = &[45, 35, 12, 8];
const PANEL_PARAS: &[u32] = &[25, 35, 25, 15];
const PANEL_SENTS: &[u32] = &[40, 30, 15, 8, 4, 3];

/// Sentences of the source transcript in Traditional and Simplified form.
struct SentencePool {
    hant: Vec<String>,
    hans: Vec<String>,
    /// Indices of sentences that may open a line: no colon anywhere, no
    /// leading punctuation. Paragraphs draw from these until they are longer
    /// than `PREFIX_CHARS`, so no line reads as a `NAME:` turn.
    starters: Vec<usize>,
}

impl SentencePool {
    fn from_source(source: &str) -> Result<Self, GenError> {
        let hant = split_source_sentences(source);
        let starters: Vec<usize> = hant
            .iter()
            .enumerate()
            .filter(|(_, s)| can_open_line(s))
            .map(|(i, _)| i)
            .collect();
        if hant.len() < 16 || starters.len() < 8 {
            return Err(GenError::Source(format!(
                "need at least 16 sentences of which 8 can open a paragraph, found {} and {}",
                hant.len(),
                starters.len()
            )));
        }
        let hans = hant.iter().map(hanconv::t2s).collect();
        Ok(Self {
            hant,
            hans,
            starters,
        })
    }
}

/// Whether a sentence may start a paragraph line without looking like a turn.
fn can_open_line(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    !s.contains([FULL_COLON, HALF_COLON])
        && !is_sentence_end(first)
        && !is_closing_mark(first)
        && !matches!(first, '\u{ff0c}' | ',' | '、' | '—' | '…')
        && s.chars().count() >= 4
}

/// Index of the first colon of `line` if it is within the prefix window.
fn prefix_colon(line: &str) -> Option<usize> {
    line.char_indices()
        .take(PREFIX_CHARS + 1)
        .find(|&(_, c)| c == FULL_COLON || c == HALF_COLON)
        .map(|(b, _)| b)
}

/// Splits the paragraph text of a transcript into sentences.
///
/// The title (first non-empty line), repeated captions equal to it, the
/// `作者:` byline and `分享到:` / `相關文章:` boilerplate are ignored; a
/// leading `NAME:` speaker prefix is stripped. Sentences end at 。!?; (full
/// or half width, the terminator and any closing quotes stay attached);
/// trailing fragments without a terminator are dropped.
fn split_source_sentences(source: &str) -> Vec<String> {
    let mut lines = source.lines().map(str::trim).filter(|l| !l.is_empty());
    let title = lines.next().unwrap_or_default();
    let mut out = Vec::new();
    for line in lines {
        if line == title || is_boilerplate(line) {
            continue;
        }
        let body = match prefix_colon(line) {
            Some(b) if b > 0 => line[b..]
                .char_indices()
                .nth(1)
                .map_or("", |(k, _)| &line[b + k..]),
            _ => line,
        };
        split_sentences_into(body, &mut out);
    }
    out
}

fn is_boilerplate(line: &str) -> bool {
    let head = line.trim_end_matches([FULL_COLON, HALF_COLON]);
    ["作者:", "作者\u{ff1a}"]
        .iter()
        .any(|p| line.starts_with(p))
        || matches!(head, "分享到" | "相關文章" | "相关文章" | "分享")
}

fn split_sentences_into(text: &str, out: &mut Vec<String>) {
    // The bot's own sentence rule, so generated text splits as it indexes.
    let mut start = 0;
    for end in sentence_ends(text) {
        let s = text[start..end].trim();
        if s.chars().count() > 1 && s.ends_with(|c| is_sentence_end(c) || is_closing_mark(c)) {
            out.push(s.to_string());
        }
        start = end;
    }
}

/// Picks a uniformly random element.
fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

/// Picks an index according to integer weights.
fn weighted(rng: &mut ChaCha8Rng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut r = rng.gen_range(0..total);
    for (i, &w) in weights.iter().enumerate() {
        if r < w {
            return i;
        }
        r -= w;
    }
    weights.len() - 1
}

#[derive(Serialize)]
struct Sidecar {
    id: String,
    title: String,
    event: String,
    date: String,
    place: String,
    lang: String,
    speakers: Vec<SidecarSpeaker>,
}

#[derive(Serialize)]
struct SidecarSpeaker {
    name: String,
    role: String,
    aliases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    moderator: Option<bool>,
}

struct Speaker {
    name: String,
    /// Role as written in the sidecar.
    role: String,
    /// Role as written before the name in the intro paragraph.
    intro_role: String,
    alias: Option<String>,
}

impl Speaker {
    /// How other speakers refer to this one in running text.
    fn address(&self, rng: &mut ChaCha8Rng) -> &str {
        match &self.alias {
            Some(a) if rng.gen_bool(0.6) => a,
            _ => &self.name,
        }
    }
}

/// Shared read-only tables for one [`generate`] call.
struct Tables {
    pool: SentencePool,
    surnames: Vec<char>,
    given: Vec<char>,
}

/// One transcript being built.
struct Builder<'a> {
    tables: &'a Tables,
    rng: ChaCha8Rng,
    hans: bool,
    /// Output blocks; joined with blank lines.
    blocks: Vec<String>,
}

impl Builder<'_> {
    /// Converts generated (Traditional) text to the transcript's script.
    fn tr(&self, s: &str) -> String {
        if self.hans {
            hanconv::t2s(s)
        } else {
            s.to_string()
        }
    }

    fn sentence(&mut self, starter: bool, simplified: bool) -> &str {
        let pool = &self.tables.pool;
        let idx = if starter {
            *pick(&mut self.rng, &pool.starters)
        } else {
            self.rng.gen_range(0..pool.hant.len())
        };
        if simplified {
            &pool.hans[idx]
        } else {
            &pool.hant[idx]
        }
    }

    /// A paragraph of `n` recombined sentences, optionally opened by `lead`.
    fn paragraph(&mut self, n: usize, lead: Option<String>) -> String {
        // Traditional transcripts fold a few paragraphs to Simplified.
        let simplified = self.hans || self.rng.gen_bool(0.06);
        let mut p = String::with_capacity(n * 170);
        let mut remaining = n;
        if let Some(lead) = lead {
            p.push_str(&lead);
            remaining = remaining.saturating_sub(1);
        }
        for _ in 0..remaining {
            // Keep the first PREFIX_CHARS + 1 chars of the line colon-free
            // (a short sentence can be followed by one with an early colon).
            let starter = p.chars().take(PREFIX_CHARS + 1).count() <= PREFIX_CHARS;
            let s = self.sentence(starter, simplified);
            p.push_str(s);
        }
        p
    }

    fn make_speakers(&mut self, n: usize) -> Vec<Speaker> {
        let mut names: Vec<String> = Vec::with_capacity(n);
        let mut surnames: Vec<String> = Vec::with_capacity(n);
        while names.len() < n {
            let surname = *pick(&mut self.rng, &self.tables.surnames);
            let mut name = String::from(surname);
            let given_len = if self.rng.gen_bool(0.45) { 1 } else { 2 };
            for _ in 0..given_len {
                name.push(*pick(&mut self.rng, &self.tables.given));
            }
            let name = self.tr(&name);
            if names
                .iter()
                .any(|o| o.contains(name.as_str()) || name.contains(o.as_str()))
            {
                continue;
            }
            surnames.push(self.tr(surname.encode_utf8(&mut [0; 4])));
            names.push(name);
        }
        let mut speakers = Vec::with_capacity(n);
        for (i, name) in names.into_iter().enumerate() {
            let (role, intro_role) = if i == 0 {
                let desc = format!(
                    "{}作者、{}{}",
                    pick(&mut self.rng, BOOKS),
                    pick(&mut self.rng, COMPANIES),
                    pick(&mut self.rng, MOD_TITLES)
                );
                (self.tr(&format!("主持人,{desc}")), self.tr(&desc))
            } else {
                let mut r = String::from(*pick(&mut self.rng, ORGS));
                if self.rng.gen_bool(0.3) {
                    let branch = *pick(&mut self.rng, BRANCHES);
                    r.push_str(branch);
                }
                let dept = *pick(&mut self.rng, DEPTS);
                r.push_str(dept);
                if self.rng.gen_bool(0.15) {
                    let other = *pick(&mut self.rng, DEPTS);
                    if other != dept {
                        r.push('兼');
                        r.push_str(other);
                    }
                }
                let job = *pick(&mut self.rng, JOB_TITLES);
                r.push_str(job);
                let r = self.tr(&r);
                (r.clone(), r)
            };
            let unique_surname = surnames.iter().filter(|s| **s == surnames[i]).count() == 1;
            let alias = unique_surname.then(|| format!("{}{}", surnames[i], self.tr("總")));
            speakers.push(Speaker {
                name,
                role,
                intro_role,
                alias,
            });
        }
        speakers
    }

    /// Speaker index of every turn: moderator first, then every panelist in
    /// turn (so each opens at least one turn), then rounds of one moderator
    /// question and 1–3 panelist answers; the moderator usually closes.
    fn plan_turns(&mut self, n_speakers: usize, n_turns: usize) -> Vec<usize> {
        let mut plan = Vec::with_capacity(n_turns + 4);
        plan.push(0);
        let mut first: Vec<usize> = (1..n_speakers).collect();
        // Deterministic Fisher–Yates.
        for i in (1..first.len()).rev() {
            let j = self.rng.gen_range(0..=i);
            first.swap(i, j);
        }
        plan.extend(first);
        while plan.len() < n_turns {
            plan.push(0);
            let answers = self.rng.gen_range(1..=3.min(n_speakers - 1));
            let mut used: Vec<usize> = Vec::with_capacity(answers);
            while used.len() < answers {
                let s = self.rng.gen_range(1..n_speakers);
                if !used.contains(&s) {
                    used.push(s);
                }
            }
            plan.extend(used);
        }
        plan.truncate(n_turns);
        if plan[n_turns - 1] != 0 && plan[n_turns - 2] != 0 {
            plan[n_turns - 1] = 0;
        }
        plan
    }
}

/// A rendered transcript and its sidecar.
struct Rendered {
    text: String,
    sidecar: String,
    turns: usize,
}

fn render(tables: &Tables, seed: u64, index: usize) -> Result<Rendered, GenError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index as u64);
    let hans = rng.gen_bool(0.25);
    let mut b = Builder {
        tables,
        rng,
        hans,
        blocks: Vec::with_capacity(96),
    };
    // Turn colons: full-width only (60%), half-width only like the bundled
    // transcript (20%), or mixed turn by turn (20%).
    let colon_mode = weighted(&mut b.rng, &[60, 20, 20]);

    // Metadata.
    let brand = *pick(&mut b.rng, BRANDS);
    let t1 = *pick(&mut b.rng, TOPICS);
    let t2 = loop {
        let t = *pick(&mut b.rng, TOPICS);
        if t != t1 {
            break t;
        }
    };
    let verb = *pick(&mut b.rng, VERBS);
    let tail = *pick(&mut b.rng, TAILS);
    let title = b.tr(&format!("{brand}「對話」{verb}{t1} {t2},{tail}"));
    let edition = b.rng.gen_range(1..=20);
    let event_short = format!("第{edition}屆{}論壇", pick(&mut b.rng, EVENT_TOPICS));
    let event = if b.rng.gen_bool(0.5) {
        format!("{event_short} · 圓桌高峰論壇")
    } else {
        event_short.clone()
    };
    let (year, month, day) = (
        b.rng.gen_range(2015..=2023),
        b.rng.gen_range(1..=12),
        b.rng.gen_range(1..=28),
    );
    let place = *pick(&mut b.rng, PLACES);
    let theme = *pick(&mut b.rng, THEMES);
    let n_speakers = b.rng.gen_range(3..=6);
    let n_turns = b.rng.gen_range(20..=40);
    let speakers = b.make_speakers(n_speakers);

    // Title and intro.
    b.blocks.push(title.clone());
    let mut intro = b.tr(&format!(
        "{month}月{day}日,由{brand}主辦的“{event_short}”在{place}圓滿落幕,本次論壇的主題是“{theme}”。"
    ));
    let extra = b.rng.gen_range(1..=2);
    let simplified = b.hans;
    for _ in 0..extra {
        let s = b.sentence(false, simplified).to_string();
        intro.push_str(&s);
    }
    b.blocks.push(intro);
    if b.rng.gen_bool(0.5) {
        b.blocks.push(title.clone());
    }
    if b.rng.gen_bool(0.7) {
        let mut p = b.tr("本次論壇的圓桌環節,主持人");
        p.push_str(&speakers[0].intro_role);
        p.push_str(&speakers[0].name);
        p.push_str(&b.tr("與"));
        for (k, s) in speakers.iter().enumerate().skip(1) {
            if k > 1 {
                p.push_str(if k + 1 == n_speakers { "和" } else { "、" });
            }
            p.push_str(&s.intro_role);
            p.push_str(&s.name);
        }
        let topic = *pick(&mut b.rng, TOPICS);
        p.push_str(&b.tr(&format!(
            "就{topic}等熱點話題進行了精彩的討論和深度的剖析,現場氣氛十分熱烈。"
        )));
        b.blocks.push(p);
    }

    // Turns.
    let plan = b.plan_turns(n_speakers, n_turns);
    for (t, &who) in plan.iter().enumerate() {
        if t > 0 && t % 8 == 0 && b.rng.gen_bool(0.7) {
            b.blocks.push(title.clone());
        }
        let moderator = who == 0;
        let (para_w, sent_w) = if moderator {
            (MOD_PARAS, MOD_SENTS)
        } else {
            (PANEL_PARAS, PANEL_SENTS)
        };
        let n_paras = 1 + weighted(&mut b.rng, para_w);
        let mut paras = Vec::with_capacity(n_paras);
        for p in 0..n_paras {
            let n_sents = 1 + weighted(&mut b.rng, sent_w);
            // Panelists sometimes open by referring to another panelist.
            let lead = if p == 0 && !moderator && n_speakers > 2 && b.rng.gen_bool(0.15) {
                let other = loop {
                    let o = b.rng.gen_range(1..n_speakers);
                    if o != who {
                        break o;
                    }
                };
                let (pre, post) = *pick(&mut b.rng, AGREEMENTS);
                let addr = speakers[other].address(&mut b.rng).to_string();
                Some(format!("{}{addr}{}", b.tr(pre), b.tr(post)))
            } else {
                None
            };
            paras.push(b.paragraph(n_sents, lead));
        }
        // The moderator sometimes hands over to the next speaker by name.
        if moderator {
            if let Some(&next) = plan.get(t + 1) {
                if next != 0 && b.rng.gen_bool(0.4) {
                    let (pre, post) = *pick(&mut b.rng, HANDOVERS);
                    let addr = speakers[next].address(&mut b.rng).to_string();
                    let s = format!("{}{addr}{}", b.tr(pre), b.tr(post));
                    if let Some(last) = paras.last_mut() {
                        last.push_str(&s);
                    }
                }
            }
        }
        let colon = match colon_mode {
            0 => FULL_COLON,
            1 => HALF_COLON,
            _ if b.rng.gen_bool(0.5) => HALF_COLON,
            _ => FULL_COLON,
        };
        let mut head = String::with_capacity(speakers[who].name.len() + 3 + paras[0].len());
        head.push_str(&speakers[who].name);
        head.push(colon);
        if t > 0 && b.rng.gen_bool(0.05) {
            // A bare `NAME:` line, the words on the following lines.
            b.blocks.push(head);
            b.blocks.extend(paras);
        } else {
            let mut paras = paras.into_iter();
            head.push_str(&paras.next().unwrap_or_default());
            b.blocks.push(head);
            b.blocks.extend(paras);
        }
    }
    if b.rng.gen_bool(0.5) {
        b.blocks.push(SHARE_LINE.to_string());
    }

    let mut text = b.blocks.join("\n\n");
    text.push('\n');

    let id = format!("gen_{index:05}");
    let sidecar = Sidecar {
        id: id.clone(),
        title,
        event: b.tr(&event),
        date: format!("{year:04}-{month:02}-{day:02}"),
        place: b.tr(place),
        lang: if hans { "zh-Hans" } else { "zh-Hant" }.to_string(),
        speakers: speakers
            .into_iter()
            .enumerate()
            .map(|(i, s)| SidecarSpeaker {
                name: s.name,
                role: s.role,
                aliases: s.alias.into_iter().collect(),
                moderator: (i == 0).then_some(true),
            })
            .collect(),
    };
    let body = toml::to_string(&sidecar)
        .map_err(|e| GenError::Source(format!("cannot serialize sidecar {id}: {e}")))?;
    let sidecar = format!(
        "# Synthetic transcript {id}.txt generated by forumbot bench::gen (seed {seed}).\n{body}"
    );
    Ok(Rendered {
        text,
        sidecar,
        turns: plan.len(),
    })
}

/// Writes `bytes` to a temporary sibling of `path`, then renames it into place.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), GenError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    fs::write(&tmp, bytes).map_err(|source| GenError::Io {
        path: tmp.clone(),
        source,
    })?;
    fs::rename(&tmp, path).map_err(|source| GenError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Generates `opts.transcripts` transcripts into the data directory `out`.
///
/// `source_text` is the text of the bundled transcript (the caller reads it);
/// sentences are taken from it. Writes `out/transcripts/gen_{i:05}.txt` and
/// its sidecar `out/transcripts/gen_{i:05}.toml` for `i` in
/// `0..opts.transcripts`, creating directories as needed; each file is
/// written to a temporary name and renamed into place. Existing files with
/// other names are left alone. The output depends only on `source_text`,
/// `opts.seed` and the index.
pub fn generate(source_text: &str, opts: &GenOptions, out: &Path) -> Result<GenReport, GenError> {
    let tables = Tables {
        pool: SentencePool::from_source(source_text)?,
        surnames: SURNAMES.chars().collect(),
        given: GIVEN.chars().collect(),
    };
    let dir = out.join("transcripts");
    fs::create_dir_all(&dir).map_err(|source| GenError::Io {
        path: dir.clone(),
        source,
    })?;
    let mut report = GenReport::default();
    for i in 0..opts.transcripts {
        let r = render(&tables, opts.seed, i)?;
        // Sidecar first, so a transcript never appears without its metadata.
        write_atomic(&dir.join(format!("gen_{i:05}.toml")), r.sidecar.as_bytes())?;
        write_atomic(&dir.join(format!("gen_{i:05}.txt")), r.text.as_bytes())?;
        report.transcripts += 1;
        report.turns += r.turns;
        report.bytes += (r.text.len() + r.sidecar.len()) as u64;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn source() -> String {
        crate::SOURCE.to_owned()
    }

    fn gen_into(n: usize, seed: u64) -> (tempfile::TempDir, GenReport) {
        gen_from(&source(), n, seed)
    }

    fn gen_from(src: &str, n: usize, seed: u64) -> (tempfile::TempDir, GenReport) {
        let dir = tempfile::tempdir().unwrap();
        let report = generate(
            src,
            &GenOptions {
                transcripts: n,
                seed,
            },
            dir.path(),
        )
        .unwrap();
        (dir, report)
    }

    /// All files of `dir/transcripts`, by name.
    fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        fs::read_dir(dir.join("transcripts"))
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    fs::read(e.path()).unwrap(),
                )
            })
            .collect()
    }

    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct SidecarIn {
        id: String,
        title: String,
        event: String,
        date: String,
        place: String,
        lang: String,
        speakers: Vec<SpeakerIn>,
    }

    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct SpeakerIn {
        name: String,
        role: String,
        aliases: Vec<String>,
        moderator: Option<bool>,
    }

    /// What a transcript looks like to a parser of the article format.
    struct Parsed {
        title: String,
        /// Turn lines per speaker name.
        turns: BTreeMap<String, usize>,
        /// Speaker of every turn, in order.
        order: Vec<String>,
        /// Paragraph count of every turn.
        paras: Vec<usize>,
        colons: BTreeSet<char>,
    }

    /// Reads `text` the way the forumbot parser does; panics on any line that
    /// would read as a turn of someone who is not a listed speaker.
    fn parse(text: &str, speakers: &BTreeSet<String>) -> Parsed {
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let title = lines[0].to_string();
        let mut p = Parsed {
            title: title.clone(),
            turns: BTreeMap::new(),
            order: Vec::new(),
            paras: Vec::new(),
            colons: BTreeSet::new(),
        };
        for (k, line) in lines.iter().enumerate().skip(1) {
            if *line == title {
                continue;
            }
            if let Some(b) = prefix_colon(line) {
                let prefix = &line[..b];
                if *line == SHARE_LINE && k + 1 == lines.len() {
                    continue;
                }
                assert!(
                    speakers.contains(prefix),
                    "line {k} reads as a turn of non-speaker {prefix:?}: {line}"
                );
                let colon = line[b..].chars().next().unwrap();
                p.colons.insert(colon);
                *p.turns.entry(prefix.to_string()).or_default() += 1;
                p.order.push(prefix.to_string());
                let rest = &line[b + colon.len_utf8()..];
                p.paras.push(usize::from(!rest.trim().is_empty()));
            } else if let Some(last) = p.paras.last_mut() {
                *last += 1;
            }
        }
        p
    }

    /// Generates `n` transcripts and checks every structural property.
    fn check_corpus(n: usize, seed: u64) -> (usize, usize) {
        check_corpus_from(&source(), n, seed)
    }

    fn check_corpus_from(src: &str, n: usize, seed: u64) -> (usize, usize) {
        let (dir, report) = gen_from(src, n, seed);
        let all = files(dir.path());
        assert_eq!(
            all.len(),
            2 * n,
            "one .txt and one .toml each, no temp files"
        );
        assert_eq!(report.transcripts, n);
        let mut turns_total = 0;
        let mut bytes_total = 0u64;
        let mut langs = BTreeSet::new();
        let mut colons = BTreeSet::new();
        for i in 0..n {
            let id = format!("gen_{i:05}");
            let text = String::from_utf8(all[&format!("{id}.txt")].clone()).unwrap();
            let side_raw = String::from_utf8(all[&format!("{id}.toml")].clone()).unwrap();
            bytes_total += (text.len() + side_raw.len()) as u64;
            let side: SidecarIn = toml::from_str(&side_raw).unwrap();
            assert_eq!(side.id, id);
            for field in [&side.title, &side.event, &side.place] {
                assert!(!field.is_empty());
            }
            let date: Vec<&str> = side.date.split('-').collect();
            assert_eq!(date.len(), 3, "{}", side.date);
            assert!(date[0].len() == 4 && date[1].len() == 2 && date[2].len() == 2);
            let (m, d): (u32, u32) = (date[1].parse().unwrap(), date[2].parse().unwrap());
            assert!((1..=12).contains(&m) && (1..=31).contains(&d));
            langs.insert(side.lang.clone());

            let names: BTreeSet<String> = side.speakers.iter().map(|s| s.name.clone()).collect();
            assert_eq!(names.len(), side.speakers.len(), "{id}: duplicate names");
            assert!(
                (3..=6).contains(&names.len()),
                "{id}: {} speakers",
                names.len()
            );
            for a in &names {
                let len = a.chars().count();
                assert!((2..=3).contains(&len), "{id}: name {a}");
                for b in &names {
                    assert!(a == b || !a.contains(b.as_str()), "{id}: {b} inside {a}");
                }
            }
            assert_eq!(side.speakers[0].moderator, Some(true), "{id}");
            assert!(side.speakers[1..].iter().all(|s| s.moderator.is_none()));
            let mut aliases = BTreeSet::new();
            for s in &side.speakers {
                assert!(!s.role.is_empty());
                for a in &s.aliases {
                    assert!(a.starts_with(s.name.chars().next().unwrap()), "{id}: {a}");
                    assert!(aliases.insert(a.clone()), "{id}: alias {a} not unique");
                }
            }

            let parsed = parse(&text, &names);
            assert_eq!(parsed.title, side.title, "{id}: first line is the title");
            let used: BTreeSet<String> = parsed.turns.keys().cloned().collect();
            assert_eq!(used, names, "{id}: sidecar lists exactly the speakers used");
            assert_eq!(
                parsed.order[0], side.speakers[0].name,
                "{id}: moderator opens"
            );
            let turns: usize = parsed.turns.values().sum();
            assert!((20..=40).contains(&turns), "{id}: {turns} turns");
            assert!(parsed.paras.iter().all(|p| (1..=4).contains(p)), "{id}");
            turns_total += turns;
            colons.extend(parsed.colons);

            match side.lang.as_str() {
                // Common characters that differ between the scripts.
                "zh-Hans" => assert!(!text.contains('們') && !text.contains('說'), "{id}"),
                "zh-Hant" => assert!(text.contains('們') || text.contains('說'), "{id}"),
                other => panic!("{id}: lang {other}"),
            }
        }
        assert_eq!(report.turns, turns_total);
        assert_eq!(report.bytes, bytes_total);
        if n >= 40 {
            assert_eq!(langs.len(), 2, "both scripts occur: {langs:?}");
            assert_eq!(colons.len(), 2, "both colons occur: {colons:?}");
        }
        (turns_total, bytes_total as usize)
    }

    #[test]
    fn corpus_has_the_promised_shape() {
        let n = 60;
        let (turns, bytes) = check_corpus(n, 7);
        // Roughly the bundled transcript's size (~19 KB) on average.
        let avg = bytes / n;
        assert!((12_000..=30_000).contains(&avg), "average {avg} bytes");
        assert!(turns >= 20 * n);
    }

    #[test]
    fn other_seeds_have_the_promised_shape() {
        for seed in [0, 1, u64::MAX] {
            check_corpus(12, seed);
        }
    }

    /// A source full of sentences with an early colon (`提示:…`) must not
    /// produce lines that read as turns of non-speakers.
    #[test]
    fn early_colon_sentences_never_open_a_line() {
        let mut src = source();
        for k in 0..200 {
            src.push_str(&format!(
                "\n\n這是普通的第{k}句話。提示:第{k}句有冒號。說明\u{ff1a}另一句{k}。注意:最後一句!\n"
            ));
        }
        let pool = SentencePool::from_source(&src).unwrap();
        let early = pool
            .hant
            .iter()
            .filter(|s| prefix_colon(s).is_some())
            .count();
        assert!(early >= 600, "{early} early-colon sentences in the pool");
        check_corpus_from(&src, 30, 3);
    }

    #[test]
    fn same_seed_gives_identical_bytes() {
        let (a, ra) = gen_into(25, 42);
        let (b, rb) = gen_into(25, 42);
        assert_eq!(ra, rb);
        let (fa, fb) = (files(a.path()), files(b.path()));
        assert_eq!(fa.len(), 50);
        assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
        for (name, bytes) in &fa {
            assert!(bytes == &fb[name], "{name} differs between runs");
        }
        // A smaller corpus with the same seed is a prefix of the larger one.
        let (c, _) = gen_into(5, 42);
        for (name, bytes) in files(c.path()) {
            assert!(bytes == fa[&name], "{name} depends on the corpus size");
        }
    }

    #[test]
    fn different_seeds_give_different_output() {
        let (a, _) = gen_into(5, 1);
        let (b, _) = gen_into(5, 2);
        let (fa, fb) = (files(a.path()), files(b.path()));
        let differing = fa.iter().filter(|(k, v)| fb[*k] != **v).count();
        assert_eq!(differing, 10, "every file differs");
        // And transcripts within one corpus differ from each other.
        assert_ne!(fa["gen_00000.txt"], fa["gen_00001.txt"]);
    }

    #[test]
    fn regenerating_overwrites_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let opts = GenOptions {
            transcripts: 3,
            seed: 9,
        };
        generate(&source(), &opts, dir.path()).unwrap();
        let first = files(dir.path());
        generate(&source(), &opts, dir.path()).unwrap();
        assert_eq!(first, files(dir.path()));
    }

    #[test]
    fn source_sentences_are_clean() {
        let src = source();
        let sents = split_source_sentences(&src);
        assert!(sents.len() > 100, "{}", sents.len());
        let title = src.lines().next().unwrap();
        for s in &sents {
            assert!(s.ends_with(|c: char| is_sentence_end(c) || is_closing_mark(c)));
            assert!(!s.contains('\n'));
            assert!(!s.contains(title));
            assert!(!s.starts_with("作者"));
            assert!(!s.contains("分享到") && !s.contains("相關文章"));
            // Speaker prefixes are stripped.
            for name in ["唐文", "郭慶", "周伊麗", "陳慧菱"] {
                assert!(!s.starts_with(&format!("{name}:")), "{s}");
            }
        }
        assert!(sents.contains(&"非常榮幸跟三位一塊交流。".to_string()));
        assert!(sents.contains(&"他們有什麼變化?".to_string()));
        let pool = SentencePool::from_source(&src).unwrap();
        assert!(pool
            .starters
            .iter()
            .all(|&i| prefix_colon(&pool.hant[i]).is_none()));
        assert!(pool.hans.iter().any(|s| s.contains('们')));
    }

    #[test]
    fn splitter_keeps_terminators_and_closing_quotes() {
        let mut out = Vec::new();
        split_sentences_into("他說:“好。”然後走了!真的?末尾", &mut out);
        assert_eq!(out, ["他說:“好。”", "然後走了!", "真的?"]);
        let s = split_source_sentences(
            "標題\n\n作者:某人\n\n王五:第一句。第二句;\n\n標題\n\n分享到:\n",
        );
        assert_eq!(s, ["第一句。", "第二句;"]);
    }

    #[test]
    fn unusable_source_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let opts = GenOptions {
            transcripts: 1,
            seed: 0,
        };
        let err = generate("標題\n\n只有一句。\n", &opts, dir.path()).unwrap_err();
        assert!(matches!(err, GenError::Source(_)), "{err}");
    }

    #[test]
    fn unwritable_output_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        fs::write(&blocker, b"x").unwrap();
        let opts = GenOptions {
            transcripts: 1,
            seed: 0,
        };
        let err = generate(&source(), &opts, &blocker).unwrap_err();
        assert!(matches!(err, GenError::Io { .. }), "{err}");
    }

    /// Heavier sweep: `cargo test --release -- --ignored large_corpora`
    #[test]
    #[ignore]
    fn large_corpora_have_the_promised_shape() {
        check_corpus(2_000, 11);
        let mut src = source();
        for k in 0..200 {
            src.push_str(&format!(
                "\n\n好的{k}。提示:第{k}句。說明\u{ff1a}另一句{k}。\n"
            ));
        }
        check_corpus_from(&src, 1_000, 12);
    }
}
