//! The local console (`forumbot console`): the bot's commands typed on a
//! terminal or piped in, one per line. Replies come from [`crate::app`],
//! the same use cases the Discord commands call, rendered for a terminal
//! with [`reply::render_text`]: plain text, the question's words in bold
//! (ANSI) only when stdout is a terminal, links on lines of their own.
//! `/help` is the console's own (its commands are typed differently).
//!
//! At a terminal the line is edited with rustyline, as in a shell: arrows
//! move and recall earlier lines (history, in memory for the session),
//! Ctrl-L clears the screen, Ctrl-C drops the line being typed, Ctrl-D on
//! an empty line leaves; a one-line banner says to type /help. When stdin
//! is not a terminal (a pipe, a file) lines are read as they come, with no
//! banner and no prompt, so the output is the replies alone.
//!
//! Commands: `/ask [--speaker NAME] [--transcript ID|WORDS] [--limit N]
//! QUESTION`, `/more` (or `more`, `m`), `/speaker NAME`, `/transcripts
//! [ID|WORDS]`, `/reindex [PATH [SIDECAR]]`, `/remove [--undo] ID`,
//! `/help`, `/quit`; a line without a leading `/` is a
//! question. Errors print the reply a user would get and the console keeps
//! reading: a line that is not UTF-8 is reported and skipped, and a reader
//! that goes away (`console | head`) ends the session quietly.

use crate::app::{self, Limits};
use crate::engine::Engine;
use crate::ingest::Upload;
use crate::reply::{self, Reply};
use crate::search::Question;
use crate::settings::Settings;
use reply::TextStyle;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

/// One parsed console line.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Ask {
        question: String,
        speaker: Option<String>,
        limit: Option<usize>,
        /// A transcript to search only (id, title words, date or place).
        transcript: Option<String>,
    },
    More,
    Speaker(String),
    /// All of them, or one (with who spoke how much).
    Transcripts(Option<String>),
    Reindex {
        path: Option<String>,
        sidecar: Option<String>,
    },
    Remove {
        id: String,
        undo: bool,
    },
    Help,
    Quit,
    Empty,
    /// Not a command; the message says what is wrong.
    Invalid(String),
}

/// `/help` in the console: the console's own commands and wording (the
/// Discord help speaks of slash-command options and mentions instead).
const CONSOLE_HELP: &str = "\
我只引用逐字稿原文回答問題,每段引文都標明講者並附上原文連結。
I answer with verbatim quotes from forum transcripts, each with its speaker and a link.

郭慶怎麼看人才?                        a line without a leading / is a question
/ask [--speaker NAME] [--transcript ID|WORDS] [--limit N] QUESTION
                                        the same, within a speaker's or a transcript's words, or with more quotes
more, m, /more                          the next quotes of the last answer
/speaker NAME                           a speaker's summary: turns, share, keywords, key quotes
/transcripts [ID|WORDS]                 what is indexed, with links; one transcript: who spoke how much
/reindex [PATH [SIDECAR]]               rebuild the index, or add a transcript file (UTF-8, optional TOML sidecar);
                                        a file with the id or title of an indexed transcript replaces it
/remove [--undo] ID                     remove a transcript, or undo its last change (kept until it changes again)
/help                                   this text
/quit                                   leave (so do Ctrl-D and the end of the input)

At a terminal: ← → edit the line, ↑ ↓ recall earlier lines, Ctrl-L clears the screen, Ctrl-C drops the line.

繁體、簡體、別名(周總、主持人)和拼音(Guo Qing)都可以。
Traditional, Simplified, aliases and pinyin all work.";

const USAGE_ASK: &str = "usage: /ask [--speaker NAME] [--transcript ID|WORDS] [--limit N] QUESTION";
const USAGE_REMOVE: &str =
    "usage: /remove [--undo] ID (the transcript's id, as /transcripts lists it)";

/// Reads one line of input.
pub fn parse(line: &str) -> Line {
    let line = line.trim();
    if line.is_empty() {
        return Line::Empty;
    }
    // What the paging hint says to type, with or without the slash.
    if line.eq_ignore_ascii_case("more") || line.eq_ignore_ascii_case("m") {
        return Line::More;
    }
    let Some(rest) = line.strip_prefix('/') else {
        return Line::Ask {
            question: line.to_owned(),
            speaker: None,
            limit: None,
            transcript: None,
        };
    };
    let (command, args) = match rest.split_once(char::is_whitespace) {
        Some((c, a)) => (c, a.trim()),
        None => (rest, ""),
    };
    match command {
        "ask" => parse_ask(args),
        "more" => Line::More,
        "speaker" if args.is_empty() => {
            Line::Invalid("usage: /speaker NAME (name, alias or pinyin)".into())
        }
        "speaker" => Line::Speaker(args.to_owned()),
        "transcripts" => Line::Transcripts((!args.is_empty()).then(|| args.to_owned())),
        "reindex" => {
            let mut words = args.split_whitespace();
            let path = words.next().map(str::to_owned);
            let sidecar = words.next().map(str::to_owned);
            if words.next().is_some() {
                return Line::Invalid("usage: /reindex [PATH [SIDECAR]]".into());
            }
            Line::Reindex { path, sidecar }
        }
        "remove" => {
            let mut undo = false;
            let mut id = None;
            for word in args.split_whitespace() {
                match word {
                    "--undo" => undo = true,
                    w if id.is_none() && !w.starts_with("--") => id = Some(w.to_owned()),
                    _ => return Line::Invalid(USAGE_REMOVE.into()),
                }
            }
            match id {
                Some(id) => Line::Remove { id, undo },
                None => Line::Invalid(USAGE_REMOVE.into()),
            }
        }
        "help" => Line::Help,
        "quit" | "exit" => Line::Quit,
        other => Line::Invalid(format!(
            "unknown command /{other}: type /help for the commands, or a question without a leading /"
        )),
    }
}

fn parse_ask(args: &str) -> Line {
    let mut speaker = None;
    let mut limit = None;
    let mut transcript = None;
    let mut rest = args;
    loop {
        let (word, after) = match rest.split_once(char::is_whitespace) {
            Some((w, a)) => (w, a.trim_start()),
            None => (rest, ""),
        };
        match word {
            "--speaker" | "--limit" | "--transcript" => {
                let (value, after) = match after.split_once(char::is_whitespace) {
                    Some((v, a)) => (v, a.trim_start()),
                    None => (after, ""),
                };
                if value.is_empty() {
                    return Line::Invalid(format!("{word} needs a value; {USAGE_ASK}"));
                }
                if word == "--speaker" {
                    speaker = Some(value.to_owned());
                } else if word == "--transcript" {
                    transcript = Some(value.to_owned());
                } else {
                    match value.parse::<usize>() {
                        Ok(n) if n >= 1 => limit = Some(n),
                        _ => {
                            return Line::Invalid(format!(
                                "--limit takes a number from 1; {USAGE_ASK}"
                            ))
                        }
                    }
                }
                rest = after;
            }
            _ => break,
        }
    }
    if rest.is_empty() {
        return Line::Invalid(format!("the question is empty; {USAGE_ASK}"));
    }
    Line::Ask {
        question: rest.to_owned(),
        speaker,
        limit,
        transcript,
    }
}

/// The line the console starts with at a terminal.
pub const BANNER: &str =
    "forumbot console · 輸入 /help 看指令 · type /help for the commands, a question to ask, Ctrl-D to leave";

/// The prompt at a terminal.
const PROMPT: &str = "forumbot> ";

/// Runs a session on the process's stdin and stdout: with the line editor
/// when stdin is a terminal, else reading lines as they come.
pub fn session(engine: Arc<Engine>, settings: &Settings) -> anyhow::Result<()> {
    let style =
        TextStyle::console().with_ansi(reply::emphasis_for(std::io::stdout().is_terminal()));
    if std::io::stdin().is_terminal() {
        interactive(engine, settings, style)
    } else {
        run_styled(
            engine,
            settings,
            std::io::stdin().lock(),
            std::io::stdout(),
            style,
        )
    }
}

/// The session at a terminal: rustyline reads each line (history, arrows,
/// Ctrl-L), replies go to stdout.
fn interactive(engine: Arc<Engine>, settings: &Settings, style: TextStyle) -> anyhow::Result<()> {
    use rustyline::error::ReadlineError;
    let config = rustyline::Config::builder()
        .max_history_size(1000)?
        .history_ignore_dups(true)?
        .history_ignore_space(true)
        .auto_add_history(false)
        .build();
    let mut editor = rustyline::DefaultEditor::with_config(config)?;
    let mut session = Session::new(engine, settings);
    let mut out = std::io::stdout();
    writeln!(out, "{BANNER}")?;
    loop {
        match editor.readline(PROMPT) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                match parse(&line) {
                    Line::Quit => break,
                    Line::Empty => {}
                    parsed => {
                        let r = session.reply(parsed);
                        out.write_all(reply::render_text(&r, &style).as_bytes())?;
                        out.flush()?;
                    }
                }
            }
            // Ctrl-C drops the line being typed, as in a shell.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Reads commands from `input`, writes replies to `output` as plain text,
/// until `/quit` or the end of the input.
pub fn run(
    engine: Arc<Engine>,
    settings: &Settings,
    input: impl BufRead,
    output: impl Write,
) -> anyhow::Result<()> {
    run_styled(engine, settings, input, output, TextStyle::console())
}

fn run_styled(
    engine: Arc<Engine>,
    settings: &Settings,
    input: impl BufRead,
    mut output: impl Write,
    style: TextStyle,
) -> anyhow::Result<()> {
    let mut session = Session::new(engine, settings);
    let mut input = input;
    let mut bytes = Vec::new();
    let mut line_no = 0usize;
    loop {
        bytes.clear();
        let Some(too_long) = read_line(&mut input, &mut bytes)? else {
            break;
        };
        line_no += 1;
        let r = match std::str::from_utf8(&bytes) {
            _ if too_long => Some(reply::user_error(&format!(
                "line {line_no} is longer than {MAX_LINE_BYTES} bytes and was skipped; ask about one thing in fewer words"
            ))),
            Ok(line) => match parse(line) {
                Line::Quit => break,
                Line::Empty => None,
                parsed => Some(session.reply(parsed)),
            },
            Err(_) => Some(reply::user_error(&format!(
                "line {line_no} is not valid UTF-8 text and was skipped; type or pipe UTF-8"
            ))),
        };
        if let Some(r) = r {
            let written = output
                .write_all(reply::render_text(&r, &style).as_bytes())
                .and_then(|()| output.flush());
            match written {
                Ok(()) => {}
                // Whoever read the replies is gone: nothing more to say.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// Longest line the console reads: far over any question or command, and
/// what bounds its memory however long a line it is given.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Reads one line into `bytes`, keeping at most [`MAX_LINE_BYTES`] of it:
/// `None` at the end of the input, else whether the line was longer (the
/// rest of it is read and dropped).
fn read_line(input: &mut impl BufRead, bytes: &mut Vec<u8>) -> std::io::Result<Option<bool>> {
    let mut too_long = false;
    let mut read_any = false;
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(read_any.then_some(too_long));
        }
        read_any = true;
        let (chunk, ends) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..=i], true),
            None => (buf, false),
        };
        let n = chunk.len();
        if !too_long && bytes.len() + n <= MAX_LINE_BYTES {
            bytes.extend_from_slice(chunk);
        } else {
            too_long = true;
            bytes.clear();
        }
        input.consume(n);
        if ends {
            return Ok(Some(too_long));
        }
    }
}

struct Session {
    engine: Arc<Engine>,
    limits: Limits,
    /// The last question that had more hits, with the next page's offset.
    last: Option<Question>,
}

impl Session {
    fn new(engine: Arc<Engine>, settings: &Settings) -> Self {
        Session {
            engine,
            limits: Limits::new(settings),
            last: None,
        }
    }

    fn reply(&mut self, line: Line) -> Reply {
        match line {
            Line::Ask {
                limit: Some(n),
                ..
            } if n > self.limits.max_limit => reply::user_error(&format!(
                "--limit {n} is out of range: give a number from 1 to {}; {USAGE_ASK}",
                self.limits.max_limit
            )),
            Line::Ask {
                question,
                speaker,
                limit,
                transcript,
            } => match app::transcript_ids(&self.engine, transcript.as_deref()) {
                Ok(transcripts) => self.ask(Question {
                    text: question,
                    speaker,
                    limit: limit.unwrap_or(self.limits.default_limit),
                    offset: 0,
                    transcripts,
                }),
                Err(f) => app::failure(f, "naming a transcript"),
            },
            Line::More => match self.last.clone() {
                Some(q) => self.ask(q),
                None => reply::user_error(
                    "nothing more to show: the last answer had no further quotes; ask another question",
                ),
            },
            Line::Speaker(name) => app::speaker(&self.engine, &name),
            Line::Transcripts(None) => app::transcripts(&self.engine),
            Line::Transcripts(Some(name)) => app::transcript(&self.engine, &name),
            Line::Reindex { path, sidecar } => self.reindex(path, sidecar),
            Line::Remove { id, undo } => app::remove(&self.engine, "console", &id, undo),
            Line::Help => reply::notice("forumbot · 說明 · Help", CONSOLE_HELP),
            Line::Invalid(message) => reply::user_error(&message),
            Line::Quit | Line::Empty => Reply::default(),
        }
    }

    /// Answers `q` and remembers the next page for `/more`.
    fn ask(&mut self, q: Question) -> Reply {
        let r = app::ask(&self.engine, &q);
        self.last = app::more(&q, &r);
        r
    }

    fn reindex(&self, path: Option<String>, sidecar: Option<String>) -> Reply {
        let max = self.limits.max_upload_bytes;
        let upload = match path {
            None => None,
            Some(path) => {
                let bytes = match read_limited(Path::new(&path), max) {
                    Ok(b) => b,
                    Err(message) => return reply::user_error(&message),
                };
                let sidecar = match sidecar {
                    None => None,
                    Some(s) => match read_limited(Path::new(&s), max) {
                        Ok(b) => Some(b),
                        Err(message) => return reply::user_error(&message),
                    },
                };
                let filename = Path::new(&path)
                    .file_name()
                    .map_or_else(|| path.clone(), |n| n.to_string_lossy().into_owned());
                Some(Upload {
                    filename,
                    bytes,
                    sidecar,
                })
            }
        };
        app::reindex(&self.engine, "console", upload, max)
    }
}

/// Reads a file the user named, refusing one over `max` bytes before reading it.
fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    crate::ingest::read_limited(path, max).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_into_commands() {
        assert_eq!(
            parse("郭慶怎麼看人才?"),
            Line::Ask {
                question: "郭慶怎麼看人才?".into(),
                speaker: None,
                limit: None,
                transcript: None
            }
        );
        assert_eq!(
            parse("/ask --speaker 周伊麗 --limit 2 客服 中心"),
            Line::Ask {
                question: "客服 中心".into(),
                speaker: Some("周伊麗".into()),
                limit: Some(2),
                transcript: None
            }
        );
        assert_eq!(
            parse("/ask --transcript 2018 --limit 2 客服"),
            Line::Ask {
                question: "客服".into(),
                speaker: None,
                limit: Some(2),
                transcript: Some("2018".into())
            }
        );
        assert_eq!(parse("/transcripts"), Line::Transcripts(None));
        assert_eq!(
            parse("/transcripts 金融科技峰會"),
            Line::Transcripts(Some("金融科技峰會".into()))
        );
        assert_eq!(
            parse("  /speaker  Guo Qing "),
            Line::Speaker("Guo Qing".into())
        );
        assert_eq!(
            parse("/reindex a.txt a.toml"),
            Line::Reindex {
                path: Some("a.txt".into()),
                sidecar: Some("a.toml".into())
            }
        );
        assert_eq!(
            parse("/reindex"),
            Line::Reindex {
                path: None,
                sidecar: None
            }
        );
        assert_eq!(
            parse("/remove fintech2023"),
            Line::Remove {
                id: "fintech2023".into(),
                undo: false
            }
        );
        assert_eq!(
            parse("/remove --undo fintech2023"),
            Line::Remove {
                id: "fintech2023".into(),
                undo: true
            }
        );
        assert_eq!(parse("/quit"), Line::Quit);
        // What the paging hint says to type pages, with or without the slash.
        for more in ["/more", "more", " m ", "More", "M"] {
            assert_eq!(parse(more), Line::More, "{more}");
        }
        assert!(matches!(parse("more 人才"), Line::Ask { .. }));
        assert_eq!(parse("   "), Line::Empty);
        for bad in [
            "/ask",
            "/ask --limit x 問題",
            "/ask --speaker",
            "/ask --transcript",
            "/speaker",
            "/remove",
            "/remove a b",
            "/remove --all a",
            "/nope",
        ] {
            assert!(matches!(parse(bad), Line::Invalid(_)), "{bad}");
        }
    }
}
