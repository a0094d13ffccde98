//! The transcript pages, through a real server on port 0: the link of every
//! answer opens a page whose `turn-N` element holds the quote and the
//! `:~:text=` start; bad ids get a 404 page; transcript text cannot inject
//! markup; a reindex publishes a new transcript's page together with its
//! answers.
//!
//! The server is the one `forumbot web` runs ([`forumbot::web::serve_on`]),
//! the engine is opened on a temporary copy of the data, and links are
//! built with the server's own address, so they are followed as they are.

use crate::support;

use forumbot::{Engine, EngineOptions, Question};
use percent_encoding::percent_decode_str;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// A served engine on a temporary data directory.
struct App {
    base: String,
    engine: Arc<Engine>,
    dir: tempfile::TempDir,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl App {
    /// Serves a data directory whose `transcripts/` is filled by `fill`.
    async fn spawn(fill: impl FnOnce(&Path)) -> App {
        let listener = support::local_listener().await;
        let base = format!("http://{}", listener.local_addr().unwrap());
        let dir = support::archive(&[]);
        fill(&dir.path().join("transcripts"));
        let opts = EngineOptions {
            public_url: base.clone(),
            ..EngineOptions::new(dir.path())
        };
        let engine = Arc::new(support::open_engine_async(opts).await);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(forumbot::web::serve_on(engine.clone(), listener, async {
            let _ = stopped.await;
        }));
        App {
            base,
            engine,
            dir,
            client: reqwest::Client::new(),
            stop: Some(stop),
            server: Some(server),
        }
    }

    /// Serves a copy of the bundled transcripts.
    async fn bundled() -> App {
        App::spawn(|to| {
            support::copy_bundled_transcripts(to);
        })
        .await
    }

    /// GETs a path or a full URL (its fragment is not sent); status and body.
    async fn get(&self, path_or_url: &str) -> (u16, String, String) {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            format!("{}{path_or_url}", self.base)
        };
        let r = self.client.get(&url).send().await.unwrap();
        let status = r.status().as_u16();
        let kind = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, kind, r.text().await.unwrap())
    }

    async fn ask(&self, question: &str) -> forumbot::Answer {
        let engine = self.engine.clone();
        let q = Question::new(question);
        tokio::task::spawn_blocking(move || engine.ask(&q))
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{question}: {e}"))
    }

    /// Stops the server and checks it shut down cleanly.
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.server.take().unwrap().await.unwrap().unwrap();
    }
}

/// The HTML element whose `id` is `id`, markup included. The pages never
/// nest an element inside one of the same tag, so the first closing tag
/// ends it.
fn element_by_id<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let attr = format!(" id=\"{id}\"");
    assert!(
        html.matches(&attr).count() <= 1,
        "id {id} appears more than once"
    );
    let at = html.find(&attr)?;
    let open = html[..at].rfind('<')?;
    let tag: String = html[open + 1..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let close = format!("</{tag}>");
    let end = at + html[at..].find(&close)? + close.len();
    Some(&html[open..end])
}

/// What a reader sees of some markup: tags dropped, entities decoded.
fn text_of(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// HTML escaping as the page must do it, written out independently.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Follows a hit's link and checks the page shows the quote where it says:
/// the link names the paragraph (`#turn-N-pP`), that paragraph holds the
/// quote, sits in the turn `turn-N` whose header names the speaker, and the
/// text fragment's start and end are found in it, in that order, so the
/// whole quote is highlighted.
async fn check_hit_link(app: &App, question: &str, hit: &forumbot::Hit) {
    let link = &hit.link;
    let prefix = format!("{}/t/{}#", app.base, hit.transcript);
    assert!(link.starts_with(&prefix), "{question}: link {link}");
    let (url, fragment) = link.split_once('#').unwrap();
    let (anchor, directive) = fragment.split_once(":~:text=").unwrap_or((fragment, ""));
    assert_eq!(
        anchor,
        format!("turn-{}-p{}", hit.turn, hit.paragraph),
        "{question}: {link}"
    );

    let (status, kind, page) = app.get(url).await;
    assert_eq!(status, 200, "{question}: {url}");
    assert!(kind.starts_with("text/html"), "{question}: {kind}");
    let paragraph = element_by_id(&page, anchor)
        .unwrap_or_else(|| panic!("{question}: no element {anchor} on {url}"));
    // A quote of a lead-in and the paragraph after it spans two paragraphs,
    // one line each, from the one the link names.
    let mut seen_parts = Vec::new();
    for (i, line) in hit.text.split('\n').enumerate() {
        let id = format!("turn-{}-p{}", hit.turn, hit.paragraph + i as u64);
        let p = element_by_id(&page, &id)
            .unwrap_or_else(|| panic!("{question}: no element {id} on {url}"));
        assert!(p.starts_with("<p "), "{question}: {id} is not a paragraph");
        assert!(
            p.contains(&escaped(line)),
            "{question}: {id} lacks the quote {line:?}"
        );
        let text = text_of(p);
        assert!(text.contains(line), "{question}: {id} text");
        seen_parts.push(text);
    }
    let seen = seen_parts.join("\n");
    // The paragraph is inside its turn, under the speaker's header.
    let turn = element_by_id(&page, &format!("turn-{}", hit.turn)).unwrap();
    assert!(
        turn.contains(paragraph),
        "{question}: {anchor} outside its turn"
    );
    let header = &turn[..turn.find("</h3>").unwrap()];
    let who = hit.speaker.as_deref().unwrap_or("前言");
    assert!(text_of(header).contains(who), "{question}: header {header}");

    assert!(
        !directive.is_empty(),
        "{question}: {link} has no text fragment"
    );
    let pieces: Vec<String> = directive
        .split(',')
        .map(|p| percent_decode_str(p).decode_utf8().unwrap().into_owned())
        .collect();
    assert!(pieces.len() <= 2, "{question}: {link}");
    let start = seen.find(pieces[0].as_str()).unwrap_or_else(|| {
        panic!(
            "{question}: {anchor} lacks the fragment start {:?}",
            pieces[0]
        )
    });
    assert!(
        hit.text.starts_with(pieces[0].as_str()),
        "{question}: start {:?}",
        pieces[0]
    );
    if let Some(end) = pieces.get(1) {
        assert!(
            seen[start + pieces[0].len()..].contains(end.as_str()),
            "{question}: no fragment end {end:?} after its start"
        );
        // Only punctuation follows the end piece in the quote.
        let after = &hit.text[hit.text.rfind(end.as_str()).unwrap() + end.len()..];
        assert!(
            after.chars().all(|c| !c.is_alphanumeric()),
            "{question}: end {end:?} is not the quote's end"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hit_link_opens_the_turn_holding_its_quote() {
    let app = App::bundled().await;
    let questions = [
        "周伊麗怎麼看客服中心?",
        "念力",
        "光大銀行信息科技部有多少人?",
        "京东云智慧教育发布会",
        "陳慧菱說了什麼?",
    ];
    let mut checked = 0;
    for q in questions {
        let answer = app.ask(q).await;
        assert!(!answer.hits.is_empty(), "{q}: no hits");
        for hit in &answer.hits {
            check_hit_link(&app, q, hit).await;
            checked += 1;
        }
    }
    assert!(checked >= questions.len());

    // The page itself: language, metadata, speakers and the introduction.
    let (_, _, page) = app.get("/t/000_075a307d861b3240").await;
    assert!(page.contains("<html lang=\"zh-Hant\">"));
    assert!(page.contains("<meta name=\"viewport\""));
    assert!(page.contains("2018網絡金融營銷論壇"));
    assert!(page.contains("京東雲市場傳播部高級總監"));
    let intro = element_by_id(&page, "turn-0").expect("turn-0");
    assert!(text_of(intro).contains("以下為圓桌高峰論壇環節實錄"));
    assert!(!page.contains("<script"), "the page needs no script");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trailing_slash_is_sent_on_to_the_page() {
    let app = App::bundled().await;
    let id = "000_075a307d861b3240";
    // Followed, as a browser does: the page itself.
    let (status, _, page) = app.get(&format!("/t/{id}/")).await;
    assert_eq!(status, 200);
    assert!(element_by_id(&page, "turn-1").is_some(), "{page}");
    // The redirect itself is relative, so a proxy's prefix stays.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client
        .get(format!("{}/t/{id}/", app.base))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    assert_eq!(r.headers()["location"], format!("../{id}").as_str());
    // An unknown id with a slash is still a 404 page, not a redirect.
    assert_eq!(app.get("/t/no-such-transcript/").await.0, 404);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_hostile_ids_get_a_404_page() {
    let app = App::bundled().await;
    for path in [
        "/t/no-such-transcript",
        "/t/..%2F..%2Fetc",
        "/t/..%2F..%2Fetc%2Fpasswd",
        "/t/%FF%FE",
        "/t/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/t/",
        "/nowhere",
    ] {
        let (status, kind, page) = app.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(kind.starts_with("text/html"), "{path}: {kind}");
        assert!(page.contains("href=\"/\""), "{path}: no way back");
        assert!(!page.contains("<script"), "{path} echoed markup");
    }

    let (status, kind, body) = app.get("/healthz").await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("application/json"), "{kind}");
    let health: serde_json::Value = serde_json::from_str(&body).expect("JSON health");
    assert_eq!(health["status"], "ok", "{body}");
    assert!(
        health["generation"].as_str().unwrap().starts_with("gen-"),
        "{body}"
    );
    assert!(
        health["built_at"].as_str().unwrap().ends_with('Z'),
        "{body}"
    );
    assert_eq!(health["transcripts"], 1, "{body}");

    let (status, _, list) = app.get("/").await;
    assert_eq!(status, 200);
    assert!(
        list.contains("<a href=\"/t/000_075a307d861b3240\">"),
        "{list}"
    );
    assert!(list.contains("打好互聯網下半場"));
    app.stop().await;
}

const EVIL: &str = "\
<script>alert(1)</script> 標題

甲:大家好<script>alert(1)</script>,這是\"quotes\" & <b>粗體</b>。

乙:我同意 \"quotes\" & <b> 的說法,也談談營銷。

甲:謝謝。
";

const EVIL_SIDECAR: &str = r#"
id = "evil"
title = "<script>alert(1)</script> \"quotes\" & <b>"
event = "<img src=x onerror=alert(1)>"
place = "it's <here>"
source_url = "javascript:alert(1)"
lang = "zh-Hant"

[[speakers]]
name = "甲"
role = "<i>主持人</i> & \"co\""

[[speakers]]
name = "乙"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_in_a_transcript_is_shown_not_run() {
    let app = App::spawn(|dir| {
        std::fs::write(dir.join("evil.txt"), EVIL).unwrap();
        std::fs::write(dir.join("evil.toml"), EVIL_SIDECAR).unwrap();
    })
    .await;
    let (status, _, page) = app.get("/t/evil").await;
    assert_eq!(status, 200);
    for raw in ["<script", "<b>", "<img", "<i>", "href=\"javascript:"] {
        assert!(!page.contains(raw), "{raw} reached the page:\n{page}");
    }
    // Speech, title (in <title> and <h1>), role, event and place, escaped.
    assert!(page.contains("大家好&lt;script&gt;alert(1)&lt;/script&gt;,這是&quot;quotes&quot; &amp; &lt;b&gt;粗體&lt;/b&gt;。"));
    assert!(page.contains(
        "<title>&lt;script&gt;alert(1)&lt;/script&gt; &quot;quotes&quot; &amp; &lt;b&gt;</title>"
    ));
    assert!(page.contains(
        "<h1>&lt;script&gt;alert(1)&lt;/script&gt; &quot;quotes&quot; &amp; &lt;b&gt;</h1>"
    ));
    assert!(page.contains("&lt;i&gt;主持人&lt;/i&gt; &amp; &quot;co&quot;"));
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(page.contains("it&#39;s &lt;here&gt;"));
    // A non-web source is named as text, never linked.
    assert!(page.contains("javascript:alert(1)"));

    let (_, _, list) = app.get("/").await;
    assert!(!list.contains("<script"), "{list}");
    assert!(list.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));

    // A hit on the hostile text still links to a turn holding it verbatim.
    let answer = app.ask("營銷").await;
    assert!(!answer.hits.is_empty(), "營銷: no hits");
    for hit in &answer.hits {
        check_hit_link(&app, "營銷", hit).await;
    }
    app.stop().await;
}

const FIRST: &str = "小論壇\n\n甲:我們談談營銷。\n\n乙:數據很重要。\n\n甲:謝謝。\n";
// Without a sidecar a speaker is a name opening two or more lines.
const SECOND: &str =
    "第二場\n\n丙:區塊鏈可以用在供應鏈金融。\n\n丁:監管沙盒值得一試。\n\n丙:好的。\n\n丁:謝謝。\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reindex_publishes_the_page_with_the_answers() {
    let app = App::spawn(|dir| std::fs::write(dir.join("first.txt"), FIRST).unwrap()).await;
    assert_eq!(app.get("/t/first").await.0, 200);
    assert_eq!(app.get("/t/second").await.0, 404);

    let transcripts = app.dir.path().join("transcripts");
    std::fs::write(transcripts.join("second.txt"), SECOND).unwrap();
    // Not published before the index has it: pages follow the index.
    assert_eq!(app.get("/t/second").await.0, 404);

    let engine = app.engine.clone();
    tokio::task::spawn_blocking(move || engine.reindex(&|_| {}))
        .await
        .unwrap()
        .expect("reindex");
    let (status, _, page) = app.get("/t/second").await;
    assert_eq!(status, 200);
    assert!(text_of(element_by_id(&page, "turn-2").unwrap()).contains("監管沙盒值得一試。"));
    let (_, _, list) = app.get("/").await;
    assert!(list.contains("href=\"/t/second\""), "{list}");

    let answer = app.ask("監管沙盒").await;
    assert!(!answer.hits.is_empty(), "監管沙盒: no hits after reindex");
    for hit in &answer.hits {
        check_hit_link(&app, "監管沙盒", hit).await;
    }
    app.stop().await;
}

/// Serves the bundled data with `limits` on a fresh port; the address, the
/// stop switch and the server task.
async fn spawn_with(
    limits: forumbot::web::Limits,
) -> (
    tempfile::TempDir,
    std::net::SocketAddr,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let listener = support::local_listener().await;
    let addr = listener.local_addr().unwrap();
    let dir = support::bundled_data();
    let engine = support::open_engine_async(EngineOptions::new(dir.path())).await;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(forumbot::web::serve_with(
        Arc::new(engine),
        listener,
        limits,
        async {
            let _ = stopped.await;
        },
    ));
    (dir, addr, stop, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_neither_starve_healthz_nor_block_shutdown() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let cap = 8;
    let limits = forumbot::web::Limits {
        header_read_timeout: Duration::from_secs(1),
        max_connections: cap,
        shutdown_grace: Duration::from_secs(2),
        ..Default::default()
    };
    let (_dir, addr, stop, server) = spawn_with(limits).await;
    // Twice the cap of connections that never finish a request: half send
    // nothing, half the start of a request line.
    let mut idle = Vec::new();
    for i in 0..2 * cap {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        if i % 2 == 1 {
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                .await
                .unwrap();
        }
        idle.push(s);
    }
    // The server closes a connection that sends no headers in time.
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(15), idle[0].read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "an idle connection was not closed: {read:?}"
    );
    // /healthz still answers.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let r = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .expect("/healthz answers with idle connections open");
    assert_eq!(r.status().as_u16(), 200);
    let health: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(health["status"], "ok", "{health}");
    // Open fresh half-open connections, then stop: bounded, not forever.
    let mut more = Vec::new();
    for _ in 0..cap {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        more.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = stop.send(());
    let stopped = tokio::time::timeout(Duration::from_secs(10), server).await;
    assert!(
        matches!(stopped, Ok(Ok(Ok(())))),
        "shutdown did not complete in bounded time: {stopped:?}"
    );
    drop((idle, more));
}

// ---------------------------------------------------------------------------
// Hostile load: slow readers, idle sockets, pipelines, one greedy client.

const PAGE: &str = "/t/000_075a307d861b3240";

/// `n` pipelined GETs of `path`, as one write.
fn pipelined(path: &str, n: usize) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n")
        .repeat(n)
        .into_bytes()
}

/// A connection with a 4 KB receive buffer: a reader that reads nothing
/// fills it at once.
async fn slow_reader(addr: std::net::SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(addr).await.unwrap()
}

/// Reads until the server closes the connection, at most `within`: what
/// was read, and whether it was closed.
async fn read_until_closed(s: &mut tokio::net::TcpStream, within: Duration) -> (Vec<u8>, bool) {
    use tokio::io::AsyncReadExt;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (out, true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (out, false),
        }
    }
}

/// The status line of a `GET path` on a new connection, if it is answered
/// within `within`.
async fn status_within(addr: std::net::SocketAddr, path: &str, within: Duration) -> Option<String> {
    use tokio::io::AsyncWriteExt;
    let asked = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .ok()?;
        let (answer, _) = read_until_closed(&mut s, within).await;
        let text = String::from_utf8_lossy(&answer).into_owned();
        text.lines()
            .next()
            .map(str::to_owned)
            .filter(|l| l.starts_with("HTTP/1.1"))
    };
    tokio::time::timeout(within, asked).await.ok().flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stops_reading_is_dropped_after_the_write_timeout() {
    use tokio::io::AsyncWriteExt;
    let limits = forumbot::web::Limits {
        write_timeout: Duration::from_secs(1),
        max_requests_per_connection: 1000,
        ..Default::default()
    };
    let (_dir, addr, stop, server) = spawn_with(limits).await;
    let page_len = {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let ask = format!("GET {PAGE} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        s.write_all(ask.as_bytes()).await.unwrap();
        read_until_closed(&mut s, Duration::from_secs(10))
            .await
            .0
            .len()
    };
    assert!(page_len > 10_000, "{page_len}");
    // 300 pages asked for (about 8 MB): more than the socket buffers hold.
    let mut s = slow_reader(addr).await;
    s.write_all(&pipelined(PAGE, 300)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (read, closed) = read_until_closed(&mut s, Duration::from_secs(15)).await;
    assert!(closed, "the connection stayed open");
    assert!(
        read.len() < 300 * page_len / 2,
        "a reader that stopped for 3 s still got {} of {} bytes",
        read.len(),
        300 * page_len
    );
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_gets_its_share_of_connections_and_health_still_answers() {
    use tokio::io::AsyncWriteExt;
    let limits = forumbot::web::Limits {
        max_connections_per_client: 4,
        ..Default::default()
    };
    let (_dir, addr, stop, server) = spawn_with(limits).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A fifth connection from the same address: no page, a quick 503 that
    // says when to come back; the health check is answered.
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(&pipelined(PAGE, 1)).await.unwrap();
    let (answer, closed) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: "),
        "{answer}"
    );
    assert!(closed);
    let health = status_within(addr, "/healthz", Duration::from_secs(1)).await;
    assert_eq!(health.as_deref(), Some("HTTP/1.1 200 OK"));
    // Once the client lets go, it is served pages again.
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let page = status_within(addr, PAGE, Duration::from_secs(5)).await;
    assert_eq!(page.as_deref(), Some("HTTP/1.1 200 OK"));
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_is_cut_at_the_requests_a_connection_may_make() {
    use tokio::io::AsyncWriteExt;
    let limits = forumbot::web::Limits {
        max_requests_per_connection: 10,
        ..Default::default()
    };
    let (_dir, addr, stop, server) = spawn_with(limits).await;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(&pipelined("/healthz", 50)).await.unwrap();
    let (answer, closed) = read_until_closed(&mut s, Duration::from_secs(10)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert_eq!(answer.matches("HTTP/1.1 200 OK").count(), 10, "{answer}");
    assert!(closed, "the connection stayed open after its last request");
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_at_once_when_every_connection_is_taken() {
    use tokio::io::AsyncWriteExt;
    let limits = forumbot::web::Limits {
        max_connections: 8,
        header_read_timeout: Duration::from_secs(30),
        ..Default::default()
    };
    let (_dir, addr, stop, server) = spawn_with(limits).await;
    // Every page connection taken by a client that never finishes its
    // request, and the reserve flooded with idle sockets.
    let mut idle = Vec::new();
    for i in 0..8 + 3 * forumbot::web::RESERVE_CONNECTIONS {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        if i < 8 {
            s.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        }
        idle.push(s);
    }
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let health = status_within(addr, "/healthz", Duration::from_secs(1)).await;
        assert_eq!(
            health.as_deref(),
            Some("HTTP/1.1 200 OK"),
            "/healthz not answered within 1 s (after {:?})",
            started.elapsed()
        );
        let page = status_within(addr, PAGE, Duration::from_secs(1)).await;
        assert_eq!(page.as_deref(), Some("HTTP/1.1 503 Service Unavailable"));
    }
    drop(idle);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
