//! The transcript pages under hostile load, as `forumbot web` serves them
//! (a child process, so its memory is its own), on 127.0.0.1 only and for a
//! few seconds: 128 slow readers (a 4 KB receive buffer, 100 pipelined
//! requests each, nothing read) and 300 idle sockets, all from one
//! address, while a supervisor asks `/healthz` every 200 ms. Every health
//! check must be answered within 1 s, and the server's resident memory
//! must stay within [`RSS_GROWTH_MB`] of what it was before the load.
//! These are the first and second scenarios of issue 20, scaled down to a
//! test; `bench/hostile.py` runs them at full size against a release build.

use crate::support;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// How much the server's RSS may grow under the load (the README states it).
const RSS_GROWTH_MB: u64 = 64;
const PAGE: &str = "/t/000_075a307d861b3240";

/// The child, killed when the test ends however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Resident memory of a process, in KB.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A free port on 127.0.0.1 (free when asked: the server binds it next).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The status of a `GET /healthz` on a new connection, and how long it took.
async fn health(addr: SocketAddr) -> (Option<u16>, Duration) {
    use tokio::io::AsyncReadExt;
    let started = Instant::now();
    let asked = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).await.ok()?;
        let text = String::from_utf8_lossy(&answer).into_owned();
        text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
    };
    let status = tokio::time::timeout(Duration::from_secs(1), asked)
        .await
        .ok()
        .flatten();
    (status, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_within_a_second_and_memory_holds_under_slow_readers_and_idle_sockets() {
    let data = support::bundled_data();
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut child = support::forumbot_command(data.path())
        .arg("web")
        .env("FORUMBOT__WEB__LISTEN", addr.to_string())
        // No page kept: every reader is served the one copy being sent.
        .env("FORUMBOT__WEB__PAGE_CACHE_MB", "0")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drain stderr so the child never blocks on it.
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || for _ in BufReader::new(stderr).lines() {});
    let server = Server(child);
    let pid = server.0.id();

    // Up (the index is built on the way) and warm: one page, one check.
    let deadline = Instant::now() + Duration::from_secs(120);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = reqwest::get(format!("http://{addr}{PAGE}")).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    page.bytes().await.unwrap();
    assert_eq!(health(addr).await.0, Some(200));
    let before = rss_kb(pid);
    assert!(before > 0, "no RSS for {pid}");

    // The load: slow readers asking for pages, then idle sockets.
    let request = format!("GET {PAGE} HTTP/1.1\r\nHost: x\r\n\r\n").repeat(100);
    let mut hostile = Vec::new();
    for _ in 0..128 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        if let Ok(mut s) = socket.connect(addr).await {
            let _ = s.write_all(request.as_bytes()).await;
            hostile.push(s);
        }
    }
    for _ in 0..300 {
        if let Ok(s) = tokio::net::TcpStream::connect(addr).await {
            hostile.push(s);
        }
    }

    // A supervisor checks every 200 ms for 8 s.
    let mut worst = Duration::ZERO;
    let mut peak = before;
    let until = Instant::now() + Duration::from_secs(8);
    while Instant::now() < until {
        let (status, took) = health(addr).await;
        assert_eq!(
            status,
            Some(200),
            "/healthz not answered within 1 s under load (gave up after {took:?})"
        );
        worst = worst.max(took);
        peak = peak.max(rss_kb(pid));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "under load: /healthz at worst {worst:?}; RSS {} MB before, {} MB at peak",
        before / 1024,
        peak / 1024
    );
    assert!(
        peak <= before + RSS_GROWTH_MB * 1024,
        "RSS grew from {} MB to {} MB under load (bound: {RSS_GROWTH_MB} MB more)",
        before / 1024,
        peak / 1024
    );
    drop(hostile);
}
