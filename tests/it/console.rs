//! `forumbot console` end to end: commands piped into the built binary,
//! with `--data` on a temporary copy of `data/transcripts`, and the printed
//! replies checked, including that they are the very replies the Discord
//! commands send (`app`, rendered with `reply::to_console_text`).

use forumbot::app;
use forumbot::reply;
use forumbot::Question;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

const TRANSCRIPT: &str = "000_075a307d861b3240";

use crate::support::bundled_data as data_copy;
use crate::support::forumbot_command;

/// Runs `forumbot --data DIR console` with `input` on stdin; returns stdout.
fn console(data: &Path, input: &str) -> String {
    console_bytes(data, input.as_bytes())
}

/// Runs the console on raw bytes (which need not be UTF-8).
fn console_bytes(data: &Path, input: &[u8]) -> String {
    let mut child = forumbot_command(data)
        .arg("console")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run forumbot");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The blocks of output, one per reply, in order.
fn find_in_order(out: &str, needles: &[&str]) {
    let mut from = 0;
    for n in needles {
        match out[from..].find(n) {
            Some(at) => from += at + n.len(),
            None => panic!("{n:?} not found (in order) in:\n{out}"),
        }
    }
}

#[test]
fn a_line_that_is_not_utf8_is_reported_and_the_session_goes_on() {
    let data = data_copy();
    let mut input = b"/help\n\xff\xfe\xe9t\xe9\n".to_vec();
    input.extend_from_slice("郭慶怎麼看人才?\n".as_bytes());
    let out = console_bytes(data.path(), &input);
    find_in_order(&out, &["/ask", "line 2 is not valid UTF-8", "郭慶", "人才"]);
}

#[test]
fn the_console_answers_every_command_and_survives_errors() {
    let data = data_copy();
    let latin1 = data.path().join("latin1.txt");
    std::fs::write(&latin1, b"title\n\nA: ok\n\xe9t\xe9\n").unwrap();
    let input = format!(
        "/help\n\
         /ask 郭慶怎麼看人才?\n\
         /ask --speaker 王小明 人才\n\
         /ask --limit 50 人才\n\
         /speaker Guo Qing\n\
         /transcripts\n\
         /reindex {missing}\n\
         /reindex {latin1}\n\
         /nonsense\n\
         \n\
         周伊麗怎麼看客服?\n\
         /more\n\
         今天天氣怎麼樣?\n\
         /quit\n\
         郭慶怎麼看人才?\n",
        missing = data.path().join("missing.txt").display(),
        latin1 = latin1.display(),
    );
    let out = console(data.path(), &input);
    let link = format!("http://127.0.0.1:8080/t/{TRANSCRIPT}#turn-");
    find_in_order(
        &out,
        &[
            // /help, once, in the console's own words
            "== forumbot · 說明 · Help ==",
            "/ask [--speaker NAME] [--transcript ID|WORDS] [--limit N] QUESTION",
            "/more",
            // /ask: quote, speaker and role, link
            "== 郭慶怎麼看人才? ==",
            "[郭慶 · 中國民生銀行北京分行科技部兼數據應用部總經理]",
            "綜合人才將一定炙手可熱",
            &link,
            // unknown speaker
            "unknown speaker \"王小明\"; known speakers: 唐文, 郭慶, 周伊麗, 陳慧菱",
            // a limit out of range is refused with the range
            "--limit 50 is out of range: give a number from 1 to 10",
            // /speaker
            "== 郭慶 · 中國民生銀行北京分行科技部兼數據應用部總經理 ==",
            "發言 · Turns: 5",
            "關鍵詞 · Keywords:",
            // /transcripts
            "== 已收錄 1 份逐字稿 · Transcripts ==",
            "唐文(10)、郭慶(5)、周伊麗(4)、陳慧菱(6)",
            &format!("閱讀全文\n  http://127.0.0.1:8080/t/{TRANSCRIPT}\n"),
            // /reindex with a bad path, then a bad file: refused, nothing changed
            "cannot read",
            "missing.txt",
            "latin1.txt was refused",
            "line 4: not valid UTF-8",
            "Nothing was changed",
            "unknown command /nonsense",
            // a bare line is a question, and still answered after the refusals
            "== 周伊麗怎麼看客服? ==",
            "[周伊麗 · 中國光大銀行電子銀行部副總經理]",
            "(more: type more or /more for the next quotes, from 4)",
            // /more: the next page, the last one
            "== 周伊麗怎麼看客服? ==",
            "說到銀行哪個部門的擴張速度最快",
            "第 4 段,共 4 段 · 逐字引用 · verbatim quotes",
            "The transcripts do not cover this",
        ],
    );
    // Help is printed once, and the console shows no Discord markdown
    // escapes or Discord-only wording.
    assert_eq!(
        out.matches("== forumbot · 說明 · Help ==").count(),
        1,
        "{out}"
    );
    assert!(!out.contains("**"), "{out}");
    assert!(!out.contains(":~:text="), "{out}");
    for discord_only in ["自動完成", "suggestions", "leave the option empty"] {
        assert!(!out.contains(discord_only), "{discord_only} in:\n{out}");
    }
    for escape in ["\\(", "\\)", "\\-", "\\*", "\\_"] {
        assert!(!out.contains(escape), "{escape} in:\n{out}");
    }
    // Nothing after /quit is read.
    assert_eq!(out.matches("== 郭慶怎麼看人才? ==").count(), 1, "{out}");
    // The refused file was not added.
    let files = std::fs::read_dir(data.path().join("transcripts"))
        .unwrap()
        .count();
    assert_eq!(files, 2);
}

#[test]
fn the_console_prints_the_replies_the_discord_commands_send() {
    let data = data_copy();
    let questions = ["金融业为什么对营销新技术很敏感", "今天天氣怎麼樣?"];
    let out = console(data.path(), &questions.join("\n"));
    // Same data, same code: the library's replies rendered as text.
    let (_reference, engine) = crate::support::bundled_engine();
    let expected: String = questions
        .iter()
        .map(|q| {
            let q = Question::new(*q);
            reply::to_console_text(&app::ask(&engine, &q))
        })
        .collect();
    assert_eq!(out, expected);
    assert!(out.contains(&format!("/t/{TRANSCRIPT}#turn-1")), "{out}");
}

#[test]
fn the_console_adds_a_transcript_file() {
    let data = data_copy();
    let upload = data.path().join("區塊鏈.txt");
    std::fs::write(
        &upload,
        "區塊鏈論壇\n\n王大明:區塊鏈技術會改變跨境結算的方式。\n\n李小華:我同意,跨境結算的成本會大幅下降。\n\n王大明:監管沙盒讓試點更快。\n\n李小華:謝謝大家。\n",
    )
    .unwrap();
    let out = console(
        data.path(),
        &format!(
            "/reindex {0}\n區塊鏈怎麼改變跨境結算?\n周伊麗怎麼看客服?\n/reindex {0}\n",
            upload.display()
        ),
    );
    find_in_order(
        &out,
        &[
            "== 已加入逐字稿 · Transcript added ==",
            "新增 · New: 區塊鏈論壇",
            "王大明 2、李小華 2",
            "== 區塊鏈怎麼改變跨境結算? ==",
            "[王大明]",
            "跨境結算",
            "[周伊麗 · 中國光大銀行電子銀行部副總經理]",
            // The same file again: refused, and nothing needs fixing.
            "is already indexed",
            "no need to upload it again",
        ],
    );
    assert!(!out.contains("fix the file"), "{out}");
    let saved: Vec<String> = std::fs::read_dir(data.path().join("transcripts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    // Saved under a name derived from the file name given.
    assert!(saved.iter().any(|n| n == "qu-kuai-lian.txt"), "{saved:?}");
}

#[test]
fn control_characters_and_endless_lines_are_not_echoed_or_kept() {
    let data = data_copy();
    let mut input = "\u{1b}]0;pwned\u{7}客服\n/speaker \u{1b}[2J某人\n"
        .as_bytes()
        .to_vec();
    input.extend(std::iter::repeat_n(b'a', 1 << 20));
    input.extend_from_slice("\n郭慶怎麼看人才?\n".as_bytes());
    let out = console_bytes(data.path(), &input);
    assert!(
        !out.chars().any(|c| c.is_control() && c != '\n'),
        "control characters echoed: {out:?}"
    );
    find_in_order(
        &out,
        &[" ]0;pwned 客服", "某人", "line 3 is longer than", "郭慶"],
    );
}

/// The console at a terminal, as a person uses it: the real binary on a
/// pseudo-terminal (nix's `openpty`), whose output is fed to a terminal
/// emulator (`vt100`), so the test reads the screen a person would see.
/// It answers the cursor-position query a real terminal answers (the line
/// editor asks where the prompt starts).
mod terminal {
    use super::*;
    use std::io::Read;
    use std::os::fd::OwnedFd;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    const ROWS: u16 = 40;
    const COLS: u16 = 120;
    const LEFT: &str = "\x1b[D";
    const UP: &str = "\x1b[A";
    const CTRL_C: &str = "\x03";
    const CTRL_D: &str = "\x04";
    const CTRL_L: &str = "\x0c";

    struct Terminal {
        child: std::process::Child,
        master: std::fs::File,
        /// Everything the program wrote, and the screen it makes.
        seen: Arc<Mutex<(Vec<u8>, vt100::Parser)>>,
    }

    impl Terminal {
        fn spawn(data: &Path) -> Terminal {
            let size = nix::pty::Winsize {
                ws_row: ROWS,
                ws_col: COLS,
                ws_xpixel: 0,
                ws_ypixel: 0,
            };
            let pty = nix::pty::openpty(Some(&size), None).expect("a pseudo-terminal");
            let slave = |fd: &OwnedFd| Stdio::from(fd.try_clone().unwrap());
            let child = forumbot_command(data)
                .arg("console")
                .env("TERM", "xterm-256color")
                .env_remove("NO_COLOR")
                .stdin(slave(&pty.slave))
                .stdout(slave(&pty.slave))
                .stderr(slave(&pty.slave))
                .spawn()
                .expect("run forumbot");
            drop(pty.slave);
            let master = std::fs::File::from(pty.master);
            let seen = Arc::new(Mutex::new((Vec::new(), vt100::Parser::new(ROWS, COLS, 0))));
            let reader = master.try_clone().unwrap();
            let answer = master.try_clone().unwrap();
            let sink = seen.clone();
            std::thread::spawn(move || read_screen(reader, answer, sink));
            Terminal {
                child,
                master,
                seen,
            }
        }

        fn typed(&mut self, keys: &str) {
            self.master.write_all(keys.as_bytes()).unwrap();
            self.master.flush().unwrap();
        }

        fn screen(&self) -> String {
            self.seen.lock().unwrap().1.screen().contents()
        }

        fn raw(&self) -> String {
            String::from_utf8_lossy(&self.seen.lock().unwrap().0).into_owned()
        }

        /// The characters shown in bold on the screen, in order.
        fn bold(&self) -> String {
            let seen = self.seen.lock().unwrap();
            let screen = seen.1.screen();
            let mut out = String::new();
            for row in 0..ROWS {
                for col in 0..COLS {
                    if let Some(cell) = screen.cell(row, col) {
                        if cell.bold() {
                            out.push_str(cell.contents());
                        }
                    }
                }
                out.push('\n');
            }
            out
        }

        /// Waits until the output holds `needle` `times` times.
        fn wait_for(&self, needle: &str, times: usize) {
            let deadline = Instant::now() + Duration::from_secs(120);
            while self.raw().matches(needle).count() < times {
                assert!(
                    Instant::now() < deadline,
                    "{needle:?} ({times}×) not shown; screen:\n{}",
                    self.screen()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }

        /// The line the cursor is on.
        fn cursor_line(&self) -> String {
            let seen = self.seen.lock().unwrap();
            let screen = seen.1.screen();
            let row = screen.cursor_position().0 as usize;
            let line = screen.rows(0, COLS).nth(row).unwrap_or_default();
            line
        }

        /// Waits until the console waits for a line: an empty prompt under
        /// the cursor and nothing more written for a moment (the line
        /// editor sets itself up after drawing it).
        fn wait_prompt(&self) {
            let deadline = Instant::now() + Duration::from_secs(120);
            loop {
                let before = self.raw().len();
                if self.cursor_line().trim_end() == "forumbot>" {
                    std::thread::sleep(Duration::from_millis(300));
                    if self.raw().len() == before {
                        return;
                    }
                }
                assert!(
                    Instant::now() < deadline,
                    "no prompt; screen:\n{}",
                    self.screen()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Copies the program's output into the screen, answering the
    /// cursor-position query (`ESC [ 6 n`) as a terminal does.
    fn read_screen(
        mut from: std::fs::File,
        mut answer: std::fs::File,
        seen: Arc<Mutex<(Vec<u8>, vt100::Parser)>>,
    ) {
        let mut buf = [0u8; 4096];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let mut seen = seen.lock().unwrap();
            seen.0.extend_from_slice(&buf[..n]);
            seen.1.process(&buf[..n]);
            if buf[..n].windows(4).any(|w| w == b"\x1b[6n") {
                let (row, col) = seen.1.screen().cursor_position();
                let _ = write!(answer, "\x1b[{};{}R", row + 1, col + 1);
            }
        }
    }

    /// What a person would see as garbage: escape sequences or control
    /// characters echoed as text.
    fn assert_clean(screen: &str) {
        for raw in ["^[", "^L", "^C", "[D", "[A", "\x1b", "**"] {
            assert!(!screen.contains(raw), "{raw:?} on the screen:\n{screen}");
        }
    }

    #[test]
    fn a_person_at_a_terminal_edits_recalls_clears_and_pages() {
        let data = data_copy();
        let mut t = Terminal::spawn(data.path());
        // A banner that says how to start, then the prompt.
        t.wait_prompt();
        assert!(t.screen().contains("type /help"), "{}", t.screen());

        // ← moves into the line: 客服心, ←, 中 asks 客服中心.
        t.typed(&format!("客服心{LEFT}中\r"));
        t.wait_for("== 客服中心 ==", 1);
        t.wait_prompt();
        let screen = t.screen();
        assert_clean(&screen);
        // The question's word in bold, by the terminal's own means.
        assert!(t.bold().contains("客服中心"), "bold:\n{}", t.bold());
        // Links on a line of their own, without the text directive.
        assert!(
            screen.lines().any(|l| l
                .trim()
                .starts_with("http://127.0.0.1:8080/t/000_075a307d861b3240#turn-")),
            "{screen}"
        );
        assert!(!t.raw().contains(":~:text="), "{}", t.raw());

        // ↑ recalls the question; Enter asks it again.
        t.typed(&format!("{UP}\r"));
        t.wait_for("== 客服中心 ==", 2);
        t.wait_prompt();
        assert_clean(&t.screen());

        // Ctrl-L clears the screen down to the prompt.
        t.typed(CTRL_L);
        let deadline = Instant::now() + Duration::from_secs(10);
        while t.screen().trim() != "forumbot>" {
            assert!(Instant::now() < deadline, "not cleared:\n{}", t.screen());
            std::thread::sleep(Duration::from_millis(20));
        }
        t.wait_prompt();

        // `more`, typed as the paging hint says, shows the next page.
        t.typed("周伊麗怎麼看客服?\r");
        t.wait_for("(more: type more", 1);
        t.wait_prompt();
        t.typed("more\r");
        t.wait_for("說到銀行哪個部門的擴張速度最快", 1);
        t.wait_prompt();
        let screen = t.screen();
        assert_clean(&screen);
        assert!(screen.contains("第 4 段,共 4 段"), "{screen}");
        assert!(!screen.contains("nothing more to show"), "{screen}");

        // Ctrl-C drops a half-typed line; Ctrl-D leaves.
        t.typed(&format!("半句話{CTRL_C}"));
        t.wait_prompt();
        t.typed(CTRL_D);
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(s) = t.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "Ctrl-D did not end the console");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "{status:?}");
        assert!(!t.raw().contains("== 半句話"), "a dropped line was asked");
        assert_clean(&t.screen());
    }
}
