//! `forumbot console` end to end: commands piped into the built binary,
//! with `--data` on a temporary copy of `data/transcripts`, and the printed
//! replies checked, including that they are the very replies the Discord
//! commands send (`app`, rendered with `reply::to_console_text`).

use forumbot::app;
use forumbot::reply;
use forumbot::{Engine, EngineOptions, Question};
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
            "綜合**人才**將一定炙手可熱",
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
            &format!("[閱讀全文](http://127.0.0.1:8080/t/{TRANSCRIPT})"),
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
            "(more: /more shows the next quotes, from 4)",
            // /more: the next page, the last one
            "== 周伊麗怎麼看客服? ==",
            "說到銀行哪個部門的擴張速度最快",
            "共 4 段 · 逐字引用 · verbatim quotes",
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
    assert!(!out.contains("**/ask**"), "{out}");
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
    let reference = data_copy();
    let engine = Engine::open(EngineOptions::new(reference.path()), &|_| {})
        .unwrap()
        .engine;
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
            "/reindex {}\n區塊鏈怎麼改變跨境結算?\n周伊麗怎麼看客服?\n",
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
        ],
    );
    let saved: Vec<String> = std::fs::read_dir(data.path().join("transcripts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    // Saved under a name derived from the file name given.
    assert!(saved.iter().any(|n| n == "qu-kuai-lian.txt"), "{saved:?}");
}
