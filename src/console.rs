//! The local console (`forumbot console`): the bot's commands typed on a
//! terminal or piped in, one per line, each reply printed as it would read
//! in Discord. Replies come from [`crate::app`], the same use cases the
//! Discord commands call, rendered with [`reply::to_console_text`]: plain
//! text, without Discord's markdown escapes. `/help` is the console's own
//! (its commands are typed differently).
//!
//! Commands: `/ask [--speaker NAME] [--limit N] QUESTION`, `/more`,
//! `/speaker NAME`, `/transcripts`, `/reindex [PATH [SIDECAR]]`,
//! `/remove [--undo] ID`, `/help`, `/quit`; a line without a leading `/` is a question. Errors print the
//! reply a Discord user would get and the console keeps reading: a line
//! that is not UTF-8 is reported and skipped, and a reader that goes away
//! (`console | head`) ends the session quietly.

use crate::app::{self, Limits};
use crate::engine::Engine;
use crate::ingest::Upload;
use crate::reply::{self, Reply};
use crate::search::Question;
use crate::settings::Settings;
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
    },
    More,
    Speaker(String),
    Transcripts,
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
/ask [--speaker NAME] [--limit N] QUESTION   the same, restricted to a speaker or with more quotes
/more                                   the next quotes of the last answer
/speaker NAME                           a speaker's summary: turns, share, keywords, key quotes
/transcripts                            what is indexed, with links
/reindex [PATH [SIDECAR]]               rebuild the index, or add a transcript file (UTF-8, optional TOML sidecar);
                                        a file with the id or title of an indexed transcript replaces it
/remove [--undo] ID                     remove a transcript, or undo its last change (kept until it changes again)
/help                                   this text
/quit                                   leave (so does the end of the input)

繁體、簡體、別名(周總、主持人)和拼音(Guo Qing)都可以。
Traditional, Simplified, aliases and pinyin all work.";

const USAGE_ASK: &str = "usage: /ask [--speaker NAME] [--limit N] QUESTION";
const USAGE_REMOVE: &str =
    "usage: /remove [--undo] ID (the transcript's id, as /transcripts lists it)";

/// Reads one line of input.
pub fn parse(line: &str) -> Line {
    let line = line.trim();
    if line.is_empty() {
        return Line::Empty;
    }
    let Some(rest) = line.strip_prefix('/') else {
        return Line::Ask {
            question: line.to_owned(),
            speaker: None,
            limit: None,
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
        "transcripts" => Line::Transcripts,
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
    let mut rest = args;
    loop {
        let (word, after) = match rest.split_once(char::is_whitespace) {
            Some((w, a)) => (w, a.trim_start()),
            None => (rest, ""),
        };
        match word {
            "--speaker" | "--limit" => {
                let (value, after) = match after.split_once(char::is_whitespace) {
                    Some((v, a)) => (v, a.trim_start()),
                    None => (after, ""),
                };
                if value.is_empty() {
                    return Line::Invalid(format!("{word} needs a value; {USAGE_ASK}"));
                }
                if word == "--speaker" {
                    speaker = Some(value.to_owned());
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
    }
}

/// Reads commands from `input`, writes replies to `output`, until `/quit`
/// or the end of the input.
pub fn run(
    engine: Arc<Engine>,
    settings: &Settings,
    input: impl BufRead,
    mut output: impl Write,
) -> anyhow::Result<()> {
    // A prompt helps a person at a terminal and would litter piped output,
    // so it goes to stderr and only when stdin is a terminal.
    let prompt = std::io::stdin().is_terminal();
    let mut session = Session {
        engine,
        limits: Limits::new(settings),
        last: None,
    };
    let show_prompt = || {
        if prompt {
            eprint!("forumbot> ");
            let _ = std::io::stderr().flush();
        }
    };
    show_prompt();
    let mut input = input;
    let mut bytes = Vec::new();
    let mut line_no = 0usize;
    loop {
        bytes.clear();
        if input.read_until(b'\n', &mut bytes)? == 0 {
            break;
        }
        line_no += 1;
        let r = match std::str::from_utf8(&bytes) {
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
                .write_all(reply::to_console_text(&r).as_bytes())
                .and_then(|()| output.flush());
            match written {
                Ok(()) => {}
                // Whoever read the replies is gone: nothing more to say.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
        show_prompt();
    }
    Ok(())
}

struct Session {
    engine: Arc<Engine>,
    limits: Limits,
    /// The last question that had more hits, with the next page's offset.
    last: Option<Question>,
}

impl Session {
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
            } => self.ask(Question {
                text: question,
                speaker,
                limit: limit.unwrap_or(self.limits.default_limit),
                offset: 0,
            }),
            Line::More => match self.last.clone() {
                Some(q) => self.ask(q),
                None => reply::user_error(
                    "nothing more to show: the last answer had no further quotes; ask another question",
                ),
            },
            Line::Speaker(name) => app::speaker(&self.engine, &name),
            Line::Transcripts => app::transcripts(&self.engine),
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
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{shown} is not a file"));
    }
    if meta.len() > max {
        return Err(format!(
            "{shown} is too large ({} bytes; at most {max} bytes)",
            meta.len()
        ));
    }
    std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))
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
                limit: None
            }
        );
        assert_eq!(
            parse("/ask --speaker 周伊麗 --limit 2 客服 中心"),
            Line::Ask {
                question: "客服 中心".into(),
                speaker: Some("周伊麗".into()),
                limit: Some(2)
            }
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
        assert_eq!(parse("   "), Line::Empty);
        for bad in [
            "/ask",
            "/ask --limit x 問題",
            "/ask --speaker",
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
