#!/usr/bin/env python3
"""The hostile trial of issue 20, against a `forumbot web` on 127.0.0.1.

    bench/hostile.py [--bin target/release/forumbot] [--out DIR] [SCENARIO...]

Scenarios (all by default):

  slow      256 sockets with a 4 KB receive buffer, each sending 300
            pipelined GET /t/<bundled page> and reading nothing, for 60 s.
  idle      300 idle connections from one client for 40 s, then 1,100
            connection attempts at once.
  big       a 50 MB transcript (its page about 65 MB) with
            web.page_cache_mb = 1: 12 slow readers of the page.
  heavy     the same 50 MB transcript in `forumbot console`: a question
            naming four speakers only, twice, then /speaker twice.

For each, a supervisor asks /healthz every second (8 s timeout) and the
server's VmRSS is sampled; the script prints the health latencies (worst,
median, timed out), the RSS before and at peak, and for `heavy` the time
and peak memory of each reply. Builds its data directories under --out
(default /tmp/forumbot-hostile); the 50 MB index takes a minute to build.
Linux only (reads /proc).
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = "/t/000_075a307d861b3240"


def rss_mb(pid, field="VmRSS"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def health(port, timeout=8.0):
    """Seconds /healthz took, or None if not answered within timeout."""
    start = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        s.settimeout(max(0.01, timeout - (time.monotonic() - start)))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        if data.startswith(b"HTTP/1.1 200"):
            return time.monotonic() - start
    except OSError:
        pass
    return None


class Supervisor(threading.Thread):
    """Asks /healthz every second and samples the server's RSS."""

    def __init__(self, port, pid):
        super().__init__(daemon=True)
        self.port, self.pid = port, pid
        self.latencies, self.rss, self.stop = [], [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.latencies.append(health(self.port))
            self.rss.append(rss_mb(self.pid))
            self.stop.wait(1.0)

    def report(self, name, before):
        done = [x for x in self.latencies if x is not None]
        lost = len(self.latencies) - len(done)
        worst = max(done) if done else float("nan")
        median = statistics.median(done) if done else float("nan")
        print(
            f"{name}: /healthz {len(self.latencies)} checks, {lost} timed out (8 s), "
            f"answered: median {median * 1000:.1f} ms, worst {worst * 1000:.1f} ms; "
            f"RSS {before:.0f} MB before, {max(self.rss, default=0):.0f} MB at peak",
            flush=True,
        )


def start_web(binary, data, port, env_extra=None):
    env = dict(os.environ, FORUMBOT__WEB__LISTEN=f"127.0.0.1:{port}", RUST_LOG="error")
    env.update(env_extra or {})
    p = subprocess.Popen(
        [binary, "--data", data, "web"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 600
    while health(port, 2.0) is None:
        if p.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"forumbot web did not come up on {port}")
        time.sleep(0.2)
    return p


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def slow_reader(port, request):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
        s.setblocking(False)
        try:
            s.send(request)
        except OSError:
            pass
    except OSError:
        pass
    return s


def bundled(out):
    d = os.path.join(out, "bundled")
    os.makedirs(os.path.join(d, "transcripts"), exist_ok=True)
    src = os.path.join(REPO, "data", "transcripts")
    for f in os.listdir(src):
        shutil.copy(os.path.join(src, f), os.path.join(d, "transcripts", f))
    return d


def big(out, binary, mb=50):
    """A data directory with one transcript of about `mb` MB: the bundled
    one's turns over and over, with its sidecar (four speakers)."""
    d = os.path.join(out, f"big{mb}")
    t = os.path.join(d, "transcripts")
    if not os.path.exists(os.path.join(t, "big.txt")):
        os.makedirs(t, exist_ok=True)
        src = os.path.join(REPO, "data", "transcripts")
        name = [f for f in os.listdir(src) if f.endswith(".txt")][0]
        text = open(os.path.join(src, name), encoding="utf-8").read()
        title, _, body = text.partition("\n")
        sidecar = open(os.path.join(src, name[:-4] + ".toml"), encoding="utf-8").read()
        sidecar = "\n".join(l for l in sidecar.splitlines() if not l.startswith("id ="))
        reps = max(1, mb * 1024 * 1024 // len(body.encode()))
        with open(os.path.join(t, "big.txt"), "w", encoding="utf-8") as f:
            f.write(title + "\n")
            for _ in range(reps):
                f.write(body)
        with open(os.path.join(t, "big.toml"), "w", encoding="utf-8") as f:
            f.write('id = "big"\n' + sidecar + "\n")
    if not os.path.exists(os.path.join(d, "index", "CURRENT")):
        subprocess.run(
            [binary, "--data", d, "index"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    return d


def scenario_slow(binary, out, seconds=60):
    data, port = bundled(out), free_port()
    p = start_web(binary, data, port)
    before = rss_mb(p.pid)
    sup = Supervisor(port, p.pid)
    sup.start()
    request = f"GET {PAGE} HTTP/1.1\r\nHost: x\r\n\r\n".encode() * 300
    socks = [slow_reader(port, request) for _ in range(256)]
    time.sleep(seconds)
    sup.stop.set()
    sup.join()
    sup.report(f"slow readers (256 x 300 pipelined, {seconds} s)", before)
    for s in socks:
        s.close()
    after = health(port)
    print(f"  after they close: /healthz {after * 1000 if after else float('nan'):.1f} ms")
    stop(p)


def scenario_idle(binary, out, seconds=40):
    data, port = bundled(out), free_port()
    p = start_web(binary, data, port)
    before = rss_mb(p.pid)
    sup = Supervisor(port, p.pid)
    sup.start()
    socks = []
    for _ in range(300):
        try:
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        except OSError:
            pass
    time.sleep(seconds)
    sup.stop.set()
    sup.join()
    sup.report(f"idle sockets (300, {seconds} s)", before)
    for s in socks:
        s.close()
    # 1,100 connection attempts at once, each sending nothing.
    accepted, refused, timed_out = 0, 0, 0
    many = []
    lock = threading.Lock()

    def attempt():
        nonlocal accepted, refused, timed_out
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=8)
            with lock:
                accepted += 1
                many.append(s)
        except socket.timeout:
            with lock:
                timed_out += 1
        except OSError:
            with lock:
                refused += 1

    threads = [threading.Thread(target=attempt) for _ in range(1100)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    during = health(port)
    for t in threads:
        t.join()
    print(
        f"1,100 connection attempts: {accepted} connected, {refused} refused, {timed_out} timed out; "
        f"/healthz meanwhile {during * 1000 if during else float('nan'):.1f} ms",
        flush=True,
    )
    for s in many:
        s.close()
    stop(p)


def scenario_big(binary, out):
    data, port = big(out, binary), free_port()
    p = start_web(binary, data, port, {"FORUMBOT__WEB__PAGE_CACHE_MB": "1"})
    before = rss_mb(p.pid)
    sup = Supervisor(port, p.pid)
    sup.start()
    request = b"GET /t/big HTTP/1.1\r\nHost: x\r\n\r\n"
    socks = [slow_reader(port, request)]
    time.sleep(10)
    one = rss_mb(p.pid)
    for _ in range(11):
        socks.append(slow_reader(port, request))
        time.sleep(1)
    time.sleep(10)
    sup.stop.set()
    sup.join()
    sup.report("12 slow readers of a 65 MB page (page_cache_mb = 1)", before)
    print(f"  RSS with one reader {one:.0f} MB, with twelve {rss_mb(p.pid):.0f} MB", flush=True)
    for s in socks:
        s.close()
    stop(p)


def scenario_heavy(binary, out):
    data = big(out, binary)
    p = subprocess.Popen(
        [binary, "--data", data, "console"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, RUST_LOG="error"),
    )
    os.set_blocking(p.stdout.fileno(), False)

    def reply_to(line):
        """Sends a line; seconds until its reply is complete (the output has
        been quiet for 0.5 s after it began), and the peak RSS so far."""
        start = time.monotonic()
        p.stdin.write((line + "\n").encode())
        p.stdin.flush()
        got, last = False, None
        while True:
            try:
                chunk = os.read(p.stdout.fileno(), 65536)
            except BlockingIOError:
                chunk = None
            if chunk:
                got, last = True, time.monotonic()
            elif got and time.monotonic() - last > 0.5:
                return last - start, rss_mb(p.pid, "VmHWM")
            else:
                time.sleep(0.01)

    reply_to("/transcripts")  # opened, warm
    base = rss_mb(p.pid)
    print(f"console on 50 MB: RSS {base:.0f} MB once open", flush=True)
    for line in ["郭慶周伊麗陳慧菱唐文", "郭慶周伊麗陳慧菱唐文", "/speaker 郭慶", "/speaker 郭慶"]:
        took, peak = reply_to(line)
        print(f"  {line}: {took:.2f} s, peak RSS {peak:.0f} MB", flush=True)
    p.stdin.close()
    p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(REPO, "target", "release", "forumbot"))
    ap.add_argument("--out", default="/tmp/forumbot-hostile")
    ap.add_argument("scenarios", nargs="*", default=["slow", "idle", "big", "heavy"])
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for name in a.scenarios:
        globals()["scenario_" + name](a.bin, a.out)


if __name__ == "__main__":
    main()
