//! Speaker lines: how a line says who speaks, and whether what it names
//! reads like a person or a role.
//!
//! A label is written `名字:` / `名字：`, `名字（角色）：` / `Name (role):`, or
//! `【名字】` (the words after it or on the next lines). What it names is
//! judged on its folded form (either script, either width): a personal name
//! (a surname and one or two characters, 郭慶, 歐陽娜娜), a surname with a
//! title (唐總, 李老師), a role (主持人, 嘉賓A, Moderator), or a Latin name of
//! two or three capitalised words reads like a speaker even when it speaks
//! once; an ordinal, list marker, heading or discourse word (第一, 一是,
//! 首先, Q1, 時間, 作者, 注意) never does; anything else short and made of
//! letters only may be a speaker when it opens two or more lines (甲, 乙).
//! `Q:`/`A:` (問/答) mark who asks and who answers: a sidecar names them.

use crate::text::{fold_str, is_cjk};
use std::collections::HashSet;
use std::sync::OnceLock;

/// Longest role in parentheses after a name, in characters.
pub(super) const MAX_ROLE_CHARS: usize = 40;
/// Longest name guessed without a sidecar, in characters.
pub(super) const MAX_GUESSED_NAME_CHARS: usize = 8;
/// Longest Latin name (letters and spaces) guessed without a sidecar.
const MAX_LATIN_NAME_CHARS: usize = 24;

/// How a speaker line is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Form {
    /// `名字:`
    Colon,
    /// `名字（角色）：`, `Name (role):`
    Role,
    /// `【名字】`
    Bracket,
}

/// The label of a speaker line and what follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Label<'a> {
    pub name: &'a str,
    pub role: Option<&'a str>,
    /// The words on the same line after the label, trimmed (may be empty:
    /// the words follow on the next lines).
    pub rest: &'a str,
    pub form: Form,
}

/// How a label reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Reading {
    /// An ordinal, list marker, heading, URL scheme, reported speech, or not
    /// made of letters.
    NotSpeaker,
    /// `Q`, `A`, `問`, `答`: who asks and who answers, named by a sidecar.
    Marker,
    /// Short and made of letters, nothing more: a speaker if it opens two
    /// or more lines.
    Weak,
    /// Reads like a person or a role: a speaker even if it speaks once.
    Strong,
}

/// The label `line` (already trimmed) opens with, if any. `window` bounds
/// the name's length in characters.
pub(super) fn label(line: &str, window: usize) -> Option<Label<'_>> {
    if let Some(inner) = line.strip_prefix('【') {
        let close = inner
            .char_indices()
            .take(window + MAX_ROLE_CHARS + 3)
            .find(|(_, c)| *c == '】')?
            .0;
        let inside = inner[..close].trim();
        let rest = inner[close + '】'.len_utf8()..].trim_start();
        let rest = rest.strip_prefix([':', '\u{ff1a}']).unwrap_or(rest).trim();
        let (name, role) = split_role(inside).unwrap_or((inside, None));
        return fits(name, window).then_some(Label {
            name,
            role,
            rest,
            form: Form::Bracket,
        });
    }
    let (pos, colon) = line
        .char_indices()
        .take(window + MAX_ROLE_CHARS + 3)
        .find(|(_, c)| *c == ':' || *c == '\u{ff1a}')?;
    let head = line[..pos].trim();
    let rest = &line[pos + colon.len_utf8()..];
    // A URL (`https://…`, `ftp://…`) is never a speaker.
    if colon == ':' && rest.starts_with("//") {
        return None;
    }
    let (name, role, form) = match split_role(head) {
        Some((name, role)) => (name, role, Form::Role),
        None => (head, None, Form::Colon),
    };
    if !fits(name, window)
        || name.eq_ignore_ascii_case("http")
        || name.eq_ignore_ascii_case("https")
    {
        return None;
    }
    Some(Label {
        name,
        role,
        rest: rest.trim(),
        form,
    })
}

fn fits(name: &str, window: usize) -> bool {
    !name.is_empty() && name.chars().count() <= window
}

/// `名字（角色）` → (名字, 角色): a name followed by a role in parentheses of
/// either width that close the label.
fn split_role(head: &str) -> Option<(&str, Option<&str>)> {
    let close = head.chars().last()?;
    if close != ')' && close != '\u{ff09}' {
        return None;
    }
    let open = head.rfind(['(', '\u{ff08}'])?;
    let open_len = head[open..].chars().next()?.len_utf8();
    let name = head[..open].trim();
    let role = head[open + open_len..head.len() - close.len_utf8()].trim();
    if name.is_empty() || role.chars().count() > MAX_ROLE_CHARS {
        return None;
    }
    Some((name, Some(role).filter(|r| !r.is_empty())))
}

/// The key a label and a sidecar name are matched on: folded like questions
/// are (width, case, script), white space left out.
pub(super) fn key(name: &str) -> String {
    fold_str(name).split_whitespace().collect()
}

/// `Q1` → `Q`: a numbered question or answer marker, matched to the
/// speaker a sidecar gives that marker to.
pub(super) fn unnumbered_marker(key: &str) -> Option<&str> {
    let head = key.trim_end_matches(|c: char| c.is_ascii_digit());
    (head.len() < key.len() && is_marker(head)).then_some(head)
}

/// How the name of a label reads (see the module docs). `form`: a role in
/// parentheses or brackets around a short name make it a speaker.
pub(super) fn reading(name: &str, form: Form) -> Reading {
    if name.chars().any(super::is_invisible) {
        // Refused apart, with the character named.
        return Reading::NotSpeaker;
    }
    let k = key(name);
    if k.is_empty()
        || !name.chars().all(|c| {
            c.is_alphanumeric() || c.is_whitespace() || matches!(c, '·' | '・' | '.' | '-' | '\'')
        })
    {
        return Reading::NotSpeaker;
    }
    if is_marker(&k) {
        return Reading::Marker;
    }
    if is_ordinal(&k) || is_stop_label(&k) || is_reported_speech(&k) {
        return Reading::NotSpeaker;
    }
    if is_role(&k) || is_titled(&k) {
        return Reading::Strong;
    }
    if k.chars().any(|c| c.is_ascii_digit()) {
        return Reading::NotSpeaker;
    }
    if k.chars()
        .next()
        .is_some_and(|c| FUNCTION_STARTS.contains(c))
    {
        return Reading::NotSpeaker;
    }
    if is_latin_name(name) || is_personal_name(&k) {
        return Reading::Strong;
    }
    if k.chars().count() > 1 && k.chars().all(is_cjk) && reads_like_a_word(&k) {
        return Reading::NotSpeaker;
    }
    let chars = name.chars().filter(|c| !c.is_whitespace()).count();
    if chars > MAX_GUESSED_NAME_CHARS
        || !name
            .chars()
            .all(|c| c.is_alphabetic() || c == '·' || c == ' ')
    {
        return Reading::NotSpeaker;
    }
    let short = k.chars().count() <= 4 || k.contains('·');
    match form {
        Form::Role | Form::Bracket if short => Reading::Strong,
        _ => Reading::Weak,
    }
}

fn is_marker(k: &str) -> bool {
    matches!(k, "q" | "a" | "问" | "答")
}

const NUMERALS: &str = "一二三四五六七八九十百千零〇两";

/// 第一, 一, 12, 一是, 二点, Q1, step 2, part3.
fn is_ordinal(k: &str) -> bool {
    if k.starts_with('第') {
        return true;
    }
    if k.chars()
        .all(|c| c.is_ascii_digit() || NUMERALS.contains(c))
    {
        return true;
    }
    let mut chars = k.chars();
    let last = chars.next_back();
    let body = chars.as_str();
    if matches!(last, Some('是' | '点' | '则' | '者'))
        && !body.is_empty()
        && body.chars().all(|c| NUMERALS.contains(c))
    {
        return true;
    }
    // Latin letters then digits: q1, a2, step2, part3.
    let letters = k.trim_end_matches(|c: char| c.is_ascii_digit());
    letters.len() < k.len() && letters.len() <= 5 && letters.chars().all(|c| c.is_ascii_lowercase())
}

/// `他表示`, `張總說`: somebody's words reported inside a turn.
fn is_reported_speech(k: &str) -> bool {
    k.chars().count() > 1
        && [
            "说",
            "讲",
            "表示",
            "认为",
            "指出",
            "强调",
            "提到",
            "问道",
            "称",
            "坦言",
            "透露",
            "直言",
            "笑称",
            "回应",
            "补充道",
            "总结道",
        ]
        .iter()
        .any(|s| k.ends_with(s))
}

/// 主持人, 嘉宾, 嘉宾A, 观众1, moderator, host.
fn is_role(k: &str) -> bool {
    let mut base = k;
    for _ in 0..=2 {
        if in_list(ROLES, &ROLE_SET, base) {
            return true;
        }
        match base.chars().next_back() {
            Some(c) if c.is_ascii_alphanumeric() || "甲乙丙丁一二三四五六七八九十".contains(c) =>
            {
                base = &base[..base.len() - c.len_utf8()];
            }
            _ => return false,
        }
    }
    false
}

/// 唐总, 李老师, 欧阳教授, 唐文老师, 老王, 小李.
fn is_titled(k: &str) -> bool {
    let chars: Vec<char> = k.chars().collect();
    if chars.len() == 2 && matches!(chars[0], '老' | '小') && is_surname(chars[1]) {
        return true;
    }
    let Some(after) = surname_len(k).map(|n| &k[n..]) else {
        return false;
    };
    TITLES.iter().any(|t| {
        after
            .strip_suffix(t)
            .is_some_and(|given| given.chars().count() <= 2)
    })
}

/// Byte length of the surname `k` opens with, if any (compound first).
fn surname_len(k: &str) -> Option<usize> {
    if let Some(c) = COMPOUND_SURNAMES.iter().find(|c| k.starts_with(*c)) {
        return Some(c.len());
    }
    let first = k.chars().next()?;
    is_surname(first).then(|| first.len_utf8())
}

/// A surname and one or two more characters (two or three after a compound
/// surname), not a common word that happens to open with a surname's
/// character (方法, 金融業, 文化).
fn is_personal_name(k: &str) -> bool {
    if !k.chars().all(is_cjk) {
        return false;
    }
    let Some(surname) = surname_len(k) else {
        return false;
    };
    (1..=2).contains(&k[surname..].chars().count()) && !reads_like_a_word(k)
}

/// Han text that ends like a word rather than a given name (方法, 金融業,
/// 重要性) or is a common word opening with a surname's character (文化).
fn reads_like_a_word(k: &str) -> bool {
    k.chars()
        .last()
        .is_some_and(|c| NOT_NAME_ENDINGS.contains(c))
        || in_list(COMMON_WORDS, &COMMON_SET, k)
}

/// Two or three capitalised Latin words (`Jane Smith`); one word alone
/// (`Note`, `However`) is too often a heading.
fn is_latin_name(name: &str) -> bool {
    use unicode_normalization::UnicodeNormalization;
    let name: String = name.nfkc().collect();
    if name.chars().count() > MAX_LATIN_NAME_CHARS {
        return false;
    }
    let words: Vec<&str> = name.split_whitespace().collect();
    (2..=3).contains(&words.len())
        && words.iter().all(|w| {
            let mut chars = w.chars();
            chars.next().is_some_and(|c| c.is_ascii_uppercase())
                && chars.all(|c| c.is_ascii_alphabetic() || matches!(c, '.' | '-' | '\''))
        })
        && !is_stop_label(&key(&name))
}

/// Whether `k` is one of `words`, through a set built on first use (the
/// lists are looked up for every speaker line of every transcript).
fn in_list(
    words: &'static [&'static str],
    set: &'static OnceLock<HashSet<&'static str>>,
    k: &str,
) -> bool {
    set.get_or_init(|| words.iter().copied().collect())
        .contains(k)
}

static ROLE_SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
static STOP_SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
static COMMON_SET: OnceLock<HashSet<&'static str>> = OnceLock::new();

fn is_stop_label(k: &str) -> bool {
    in_list(STOP_LABELS, &STOP_SET, k)
}

fn is_surname(c: char) -> bool {
    static SET: OnceLock<HashSet<char>> = OnceLock::new();
    SET.get_or_init(|| SURNAMES.chars().collect()).contains(&c)
}

/// Single-character surnames, Simplified (labels are folded first).
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利呼居揭干尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由";

const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "令狐", "端木", "轩辕", "南宫", "独孤", "西门", "百里", "呼延", "申屠", "澹台", "拓跋",
];

/// Titles after a surname (or a full name): 唐总, 李老师, 王教授.
const TITLES: &[&str] = &[
    "总",
    "老师",
    "教授",
    "博士",
    "先生",
    "女士",
    "小姐",
    "经理",
    "总经理",
    "总监",
    "总裁",
    "主任",
    "院长",
    "行长",
    "董事长",
    "主席",
    "律师",
    "医生",
    "部长",
    "局长",
    "会长",
    "秘书长",
    "处长",
    "校长",
    "书记",
    "社长",
    "所长",
    "工",
    "记者",
    "代表",
    "委员",
    "研究员",
    "分析师",
    "老",
];

/// Roles that speak in transcripts (folded).
const ROLES: &[&str] = &[
    "主持人",
    "主持",
    "主持嘉宾",
    "嘉宾",
    "特邀嘉宾",
    "分享嘉宾",
    "对话嘉宾",
    "演讲嘉宾",
    "圆桌嘉宾",
    "记者",
    "观众",
    "现场观众",
    "听众",
    "提问者",
    "提问人",
    "主讲人",
    "主讲",
    "演讲者",
    "演讲人",
    "发言人",
    "发言者",
    "专家",
    "评论员",
    "采访者",
    "受访者",
    "访谈者",
    "被访者",
    "学员",
    "学生",
    "网友",
    "读者",
    "讲者",
    "旁白",
    "司仪",
    "moderator",
    "host",
    "guest",
    "interviewer",
    "interviewee",
    "audience",
    "speaker",
    "panelist",
    "panellist",
    "reporter",
    "chair",
];

/// Headings, metadata fields, discourse words and page furniture that are
/// written like a label but never speak (folded).
const STOP_LABELS: &[&str] = &[
    // Discourse and enumeration
    "首先",
    "其次",
    "再次",
    "然后",
    "最后",
    "另外",
    "此外",
    "总之",
    "总结",
    "小结",
    "综上",
    "例如",
    "比如",
    "譬如",
    "比方说",
    "因此",
    "所以",
    "但是",
    "然而",
    "同时",
    "其实",
    "当然",
    "其一",
    "其二",
    "其三",
    "一方面",
    "另一方面",
    "总的来说",
    "简单来说",
    "换句话说",
    "也就是说",
    "举例",
    "举个例子",
    // Notes and headings
    "注",
    "注意",
    "备注",
    "附注",
    "注释",
    "按",
    "编者按",
    "编按",
    "导语",
    "导读",
    "摘要",
    "前言",
    "引言",
    "序言",
    "后记",
    "结语",
    "结论",
    "背景",
    "简介",
    "介绍",
    "提示",
    "说明",
    "补充",
    "声明",
    "免责声明",
    "来源",
    "原文",
    "原标题",
    "标题",
    "题目",
    "主题",
    "话题",
    "议题",
    "问题",
    "答案",
    "回答",
    "观点",
    "建议",
    "重点",
    "要点",
    "特点",
    "优势",
    "挑战",
    "风险",
    "机会",
    "现状",
    "趋势",
    "案例",
    "例子",
    "结果",
    "原因",
    "目标",
    "目的",
    "方法",
    "方案",
    "方向",
    "策略",
    "思路",
    "步骤",
    "原则",
    "前提",
    "核心",
    "本质",
    "关键",
    "定义",
    "概念",
    "内容",
    "方式",
    "形式",
    "效果",
    "价值",
    "意义",
    "影响",
    "作用",
    "数据",
    "亮点",
    "金句",
    "精彩观点",
    "观点摘要",
    "本文",
    "全文",
    "正文",
    "附件",
    "附录",
    "目录",
    "图",
    "图片",
    "视频",
    "音频",
    "链接",
    "网址",
    "电话",
    "邮箱",
    "微信",
    "关键词",
    "关键字",
    "标签",
    "分类",
    // Event metadata
    "时间",
    "日期",
    "地点",
    "地址",
    "会场",
    "场地",
    "主办",
    "主办方",
    "承办",
    "承办方",
    "协办",
    "指导单位",
    "支持单位",
    "嘉宾名单",
    "参会",
    "参会人员",
    "与会",
    "与会人员",
    "出席",
    "出席者",
    "活动",
    "会议",
    "论坛",
    "议程",
    "专访",
    "采访",
    "访谈",
    "对话",
    "实录",
    "纪要",
    // Bylines and furniture
    "作者",
    "文",
    "编辑",
    "责编",
    "责任编辑",
    "审核",
    "校对",
    "记录",
    "整理",
    "撰文",
    "翻译",
    "摄影",
    "出品",
    "策划",
    "分享到",
    "相关文章",
    "相关阅读",
    "版权",
    "转载",
    // Latin
    "note",
    "notes",
    "nb",
    "ps",
    "summary",
    "update",
    "source",
    "date",
    "time",
    "location",
    "place",
    "venue",
    "topic",
    "title",
    "subject",
    "author",
    "editor",
    "agenda",
    "question",
    "answer",
    "example",
    "step",
    "part",
    "tags",
    "tag",
    "edit",
    "warning",
    "important",
    "disclaimer",
    "photo",
    "credit",
    "credits",
    "link",
    "email",
    "tel",
    "url",
    "www",
    "http",
    "https",
    "ftp",
    "mailto",
];

/// First characters of labels that are sentences, not names (pronouns,
/// demonstratives, prepositions, adverbs): 我認為, 這一點, 在這裡.
const FUNCTION_STARTS: &str = "我你他她它咱您这那哪什怎在从对为因如若当把被让给与及但而所就也都还又再才其此各每某没是不很最更太非已将会能要可应该";

/// Last characters that end words, not given names: 方法, 金融业, 重要性.
const NOT_NAME_ENDINGS: &str = "业性化率论度类型式法们时间面上下里后前的是了说道么吗呢吧啊和与及等中外内部场费价额量品款户商务网站划表单线台机器库统链技院局厅室组队团会社报刊书题点者物感期";

/// Common words that open with a surname's character and end like a name.
const COMMON_WORDS: &[&str] = &[
    "安全", "成本", "成果", "成功", "成长", "成熟", "成员", "高端", "高效", "高层", "金融", "金额",
    "关键", "关于", "关注", "关系", "马上", "文化", "文章", "文字", "时代", "时候", "明年", "明天",
    "明白", "明确", "明显", "全面", "全球", "全国", "全新", "全体", "黄金", "石油", "平安", "平衡",
    "平均", "平时", "平台", "国家", "国际", "国内", "国外", "阳光", "海外", "海量", "强调", "强大",
    "强化", "利润", "利益", "利用", "利率", "公司", "公众", "公开", "公益", "公平", "单位", "单纯",
    "单一", "常常", "常见", "常规", "信用", "信息", "信任", "信心", "信贷", "元素", "都市", "门槛",
    "门户", "容易", "原来", "原始", "原理", "原本", "方便", "方针", "温度", "温暖", "宣传", "宣布",
    "计算", "计划", "相信", "相关", "相对", "相比", "初心", "初期", "普通", "普惠", "普及", "普遍",
    "印象", "战略", "战术", "危机", "危险", "银联", "银行", "支付", "支持", "支撑", "展望", "展示",
    "幸福", "幸运", "衡量", "由于", "由此", "包括", "包容", "包装", "符合", "简单", "简化", "连接",
    "连续", "连锁", "曲线", "游戏", "游客", "路径", "路上", "管理", "管道", "解决", "解释", "解读",
    "项目", "费用", "费率", "卫生", "卫星", "宗旨", "商业", "商品", "商家", "商务", "沙龙", "荣誉",
    "荣幸", "官方", "封闭", "谈判", "南方", "储蓄", "储备", "劳动", "满意", "位置", "厉害", "海洋",
    "权益", "权力", "练习", "丰富", "丰收", "智能", "智慧", "任何", "任务", "程序", "范围", "夏天",
    "付出", "白银", "雷达", "龙头", "顾客", "顾问", "钱包", "严格", "严重", "安排", "安心", "颜色",
    "申请", "欧洲", "左右", "焦虑", "焦点", "季度", "蓝图", "蓝海", "辛苦", "房子", "房价", "尤其",
    "农民", "农村", "司法", "卓越", "古老", "冷静", "应用", "应对", "边缘", "边界", "麻烦", "官员",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &str) -> Reading {
        reading(name, Form::Colon)
    }

    #[test]
    fn every_common_layout_has_a_label() {
        let cases = [
            ("唐文:非常榮幸。", "唐文", None, "非常榮幸。", Form::Colon),
            (
                "唐文\u{ff1a}非常榮幸。",
                "唐文",
                None,
                "非常榮幸。",
                Form::Colon,
            ),
            ("唐文:", "唐文", None, "", Form::Colon),
            (
                "张伟（招商银行零售部总经理）：我们先看数据。",
                "张伟",
                Some("招商银行零售部总经理"),
                "我们先看数据。",
                Form::Role,
            ),
            (
                "Jane Smith (CFO, Acme): We moved.",
                "Jane Smith",
                Some("CFO, Acme"),
                "We moved.",
                Form::Role,
            ),
            (
                "【李娜】保险公司在用大模型。",
                "李娜",
                None,
                "保险公司在用大模型。",
                Form::Bracket,
            ),
            ("【李娜】", "李娜", None, "", Form::Bracket),
            (
                "【李娜（平安保险）】：好。",
                "李娜",
                Some("平安保险"),
                "好。",
                Form::Bracket,
            ),
            ("Q: Why?", "Q", None, "Why?", Form::Colon),
        ];
        for (line, name, role, rest, form) in cases {
            assert_eq!(
                label(line, 26),
                Some(Label {
                    name,
                    role,
                    rest,
                    form
                }),
                "{line}"
            );
        }
        for line in [
            "https://example.com/a",
            "ftp://example.com",
            "http:不是人",
            "沒有冒號的一句話。",
            "以下為圓桌高峰論壇環節實錄:",
            "【沒有結尾",
        ] {
            assert_eq!(label(line, 10), None, "{line}");
        }
    }

    #[test]
    fn names_and_roles_read_as_speakers_ordinals_and_headings_do_not() {
        for name in [
            "郭慶",
            "周伊麗",
            "陳慧菱",
            "张伟",
            "李娜",
            "歐陽娜娜",
            "唐總",
            "李老師",
            "老王",
            "主持人",
            "嘉賓A",
            "觀眾1",
            "Moderator",
            "Jane Smith",
            "唐文老師",
        ] {
            assert_eq!(read(name), Reading::Strong, "{name}");
        }
        for name in [
            "第一",
            "第二",
            "一",
            "一是",
            "二點",
            "首先",
            "Q1",
            "q2",
            "Step 2",
            "時間",
            "作者",
            "注意",
            "方法",
            "金融業",
            "文化",
            "他表示",
            "我認為",
            "在這裡",
            "2018年",
            "Note",
            "一、",
            "(1)",
            "http",
        ] {
            assert_eq!(read(name), Reading::NotSpeaker, "{name}");
        }
        for name in ["Q", "A", "問", "答", "q"] {
            assert_eq!(read(name), Reading::Marker, "{name}");
        }
        // Short and made of letters: a speaker only if it speaks twice.
        for name in ["甲", "乙", "Bob", "Jane"] {
            assert_eq!(read(name), Reading::Weak, "{name}");
        }
        // A role in parentheses or brackets makes a short label a speaker.
        assert_eq!(reading("甲", Form::Role), Reading::Strong);
        assert_eq!(reading("Bob", Form::Bracket), Reading::Strong);
        assert_eq!(reading("編者按", Form::Bracket), Reading::NotSpeaker);
        // Invisible characters are refused apart, never read as a name.
        assert_eq!(read("郭\u{200d}慶"), Reading::NotSpeaker);
    }

    #[test]
    fn keys_fold_script_width_and_case() {
        assert_eq!(key("郭慶"), key("郭庆"));
        assert_eq!(key("Ｊａｎｅ"), key("Jane"));
        assert_eq!(key("Jane Smith"), "janesmith");
        assert_eq!(unnumbered_marker("q1"), Some("q"));
        assert_eq!(unnumbered_marker("答2"), Some("答"));
        assert_eq!(unnumbered_marker("q"), None);
        assert_eq!(unnumbered_marker("step1"), None);
    }
}
