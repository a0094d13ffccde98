#!/usr/bin/env bash
# Opens the link of a real answer in headless Chromium and checks what a
# person would see: the page loads, the paragraph the link names
# (`#turn-N-pP`) is in the DOM holding the quote, it is the `:target` and
# its turn is highlighted, it is scrolled into the viewport, the turn's
# sticky header (the speaker's name) is on screen with it, and a screenshot
# shows the highlight. Then the page's picture of who spoke how much: drawn,
# a bar per speaker, a link per turn that goes to the turn when clicked.
#
# Chromium is installed from Debian when missing; the script skips (exit 0,
# with the reason) only when that is impossible. Everything else that goes
# wrong fails it.
#
# Why the DevTools protocol (over --remote-debugging-pipe, driven by a small
# Python program with only the standard library) and not only `--screenshot`:
# headless Chromium's `--screenshot` paints a blank image when the page
# scrolled to a fragment (checked with Chromium 156), and `--dump-dom` cannot
# tell which element is targeted or where it is. `--dump-dom` is still used
# for the plain DOM check.
#
# Environment: FORUMBOT_BIN (binary to use), QUESTION (question whose first
# hit is opened), SCREENSHOT (where to keep the screenshot; default: a temp
# file), PICTURE_SHOT (where to keep the screenshot of the page's picture of
# who spoke how much), WIDTH / HEIGHT (viewport, default 900×1200), MOBILE=1 (emulate a
# phone; e.g. WIDTH=390 HEIGHT=844 MOBILE=1), KEEP=1 (keep the work directory).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
QUESTION=${QUESTION:-周伊麗怎麼看客服中心?}
WIDTH=${WIDTH:-900}
HEIGHT=${HEIGHT:-1200}
MOBILE=${MOBILE:-0}
if [ -n "${SCREENSHOT:-}" ]; then
    case $SCREENSHOT in /*) ;; *) SCREENSHOT=$ROOT/$SCREENSHOT ;; esac
fi

skip() {
    echo "SKIP browser test: $*"
    exit 0
}
fail() {
    echo "FAIL browser test: $*" >&2
    exit 1
}

# --- tools --------------------------------------------------------------
apt_install() {
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        return 1
    fi
    echo "browser: installing $* with apt-get"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } \
        >/tmp/forumbot-browser-apt.log 2>&1
}

CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
    apt_install chromium fonts-noto-cjk ||
        skip "chromium is not installed and could not be installed with apt-get (needs root and a reachable Debian mirror; log: /tmp/forumbot-browser-apt.log)"
    CHROME=$(command -v chromium || true)
    [ -n "$CHROME" ] || skip "apt-get ran but no chromium binary is on PATH"
fi
# Without a CJK font the page is boxes: install one, but a missing font is
# not what this test is about, so only warn if that fails.
if command -v fc-list >/dev/null 2>&1 && ! fc-list :lang=zh-tw | grep -q .; then
    apt_install fonts-noto-cjk || echo "browser: warning: no CJK font; the screenshot will show boxes"
fi
PYTHON=$(command -v python3 || true)
if [ -z "$PYTHON" ]; then
    apt_install python3-minimal || fail "python3 is needed to drive Chromium and could not be installed"
    PYTHON=$(command -v python3)
fi

if [ -n "${FORUMBOT_BIN:-}" ]; then
    BIN=$FORUMBOT_BIN
elif [ -x target/release/forumbot ] &&
    [ -z "$(find src Cargo.toml Cargo.lock -newer target/release/forumbot -print -quit 2>/dev/null)" ]; then
    BIN=target/release/forumbot # present and not older than the sources
else
    cargo build --quiet --bin forumbot
    BIN=target/debug/forumbot
fi
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

# --- server ---------------------------------------------------------------
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "${KEEP:-0}" = 1 ]; then echo "browser: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

mkdir -p "$WORK/data"
cp -r "$ROOT/data/transcripts" "$WORK/data/"
PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
export FORUMBOT__WEB__LISTEN="127.0.0.1:$PORT" FORUMBOT__WEB__PUBLIC_URL="$BASE"
# Settings files of the checkout (config/local.toml) must not leak in.
cd "$WORK"

"$BIN" --data "$WORK/data" web >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 600); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; fail "forumbot web exited"; }
    sleep 0.1
done
curl -fsS "$BASE/healthz" >/dev/null || { cat "$WORK/server.log" >&2; fail "no /healthz within 60 s"; }

"$BIN" --data "$WORK/data" ask --json "$QUESTION" >"$WORK/answer.json"
read -r LINK TURN < <("$PYTHON" -c '
import json, sys
hits = json.load(open(sys.argv[1]))["hits"]
if not hits:
    sys.exit("no hits for the question")
print(hits[0]["link"], hits[0]["turn"])
' "$WORK/answer.json") || fail "no hit link for $QUESTION"
case "$LINK" in
"$BASE/t/"*"#turn-$TURN"*) ;;
*) fail "link $LINK does not point at this server's turn $TURN" ;;
esac
echo "browser: opening $LINK"

CHROME_FLAGS=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
    --disable-background-networking --disable-component-update --disable-sync
    --hide-scrollbars --window-size="$WIDTH,$HEIGHT")

# --- 1: the DOM after load holds the turn and its quote ---------------------
timeout 60 "$CHROME" "${CHROME_FLAGS[@]}" --user-data-dir="$(mktemp -d -p "$WORK")" \
    --run-all-compositor-stages-before-draw --virtual-time-budget=2000 \
    --dump-dom "$LINK" >"$WORK/dom.html" 2>"$WORK/chrome-dump.log" ||
    { tail -5 "$WORK/chrome-dump.log" >&2; fail "chromium --dump-dom failed"; }
"$PYTHON" - "$WORK/dom.html" "$WORK/answer.json" <<'PY' || fail "the dumped DOM lacks the quoted turn"
import html, json, re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
hit = json.load(open(sys.argv[2]))["hits"][0]
m = re.search(r'<section[^>]*\bid="turn-%d"[^>]*>(.*?)</section>' % hit["turn"], dom, re.S)
if not m:
    sys.exit("no element with id turn-%d in the DOM" % hit["turn"])
text = html.unescape(re.sub(r"<[^>]+>", "", m.group(1)))
if hit["text"] not in text:
    sys.exit("turn-%d does not hold the quote %r" % (hit["turn"], hit["text"][:40]))
print("browser: DOM has turn-%d with the quote (%d characters)" % (hit["turn"], len(hit["text"])))
PY

# --- 2: targeted, scrolled into view, and seen in a screenshot --------------
SHOT=${SCREENSHOT:-$WORK/screenshot.png}
cat >"$WORK/cdp.py" <<'PY'
"""Drives Chromium over --remote-debugging-pipe (fd 3 in, fd 4 out, JSON
messages ended by NUL): opens the link, waits until the linked turn is the
:target and inside the viewport, then saves a screenshot of the viewport and
checks that its pixels show the :target highlight."""
import base64, json, os, subprocess, sys, time, zlib

chrome, link, turn, quote, shot, width, height, profile, mobile, speaker = sys.argv[1:11]
turn, width, height, mobile = int(turn), int(width), int(height), mobile == "1"
flags = sys.argv[11:]
HIGHLIGHT = (0xFF, 0xF3, 0xBF)  # --target in src/web/page.rs

to_chrome_r, to_chrome_w = os.pipe()
from_chrome_r, from_chrome_w = os.pipe()

def child_fds():
    # Copies first, so neither end is clobbered when it already sits on 3 or 4.
    r, w = os.dup(to_chrome_r), os.dup(from_chrome_w)
    os.dup2(r, 3)
    os.dup2(w, 4)

proc = subprocess.Popen(
    [chrome, *flags, "--remote-debugging-pipe", "--user-data-dir=" + profile, "about:blank"],
    pass_fds=(3, 4), preexec_fn=child_fds,  # kept open after child_fds ran
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(to_chrome_r)
os.close(from_chrome_w)
out = os.fdopen(to_chrome_w, "wb", buffering=0)
inp = os.fdopen(from_chrome_r, "rb", buffering=0)
buf = b""
next_id = 0
events = []

def recv():
    global buf
    while b"\0" not in buf:
        chunk = inp.read(65536)
        if not chunk:
            raise SystemExit("chromium closed the pipe")
        buf += chunk
    msg, buf = buf.split(b"\0", 1)
    return json.loads(msg)

def call(method, session=None, **params):
    global next_id
    next_id += 1
    msg = {"id": next_id, "method": method, "params": params}
    if session:
        msg["sessionId"] = session
    out.write(json.dumps(msg).encode() + b"\0")
    while True:
        m = recv()
        if m.get("id") == next_id:
            if "error" in m:
                raise SystemExit("%s failed: %s" % (method, m["error"]))
            return m.get("result", {})
        events.append(m)

def wait_event(name, session, timeout):
    end = time.time() + timeout
    while time.time() < end:
        for i, e in enumerate(events):
            if e.get("method") == name and e.get("sessionId") == session:
                del events[i]
                return e
        events.append(recv())
    raise SystemExit("no %s within %ss" % (name, timeout))

PROBE = """(() => {
  const t = document.querySelector(':target');
  const e = document.getElementById('turn-%d');
  if (!e) return {found: false};
  const r = e.getBoundingClientRect();
  const turn = t && t.closest('.turn');
  // With a text fragment Chromium targets the element holding the text (the
  // <p>), with a plain #turn-N the turn itself: either way, the turn.
  const who = e.querySelector('.who');
  const w = who.getBoundingClientRect();
  const tr = t ? t.getBoundingClientRect() : null;
  return {found: true, target: turn ? turn.id : null, targetTag: t ? t.tagName : null,
          targetId: t ? t.id : null,
          targetTop: tr ? tr.top : null, targetBottom: tr ? tr.bottom : null,
          whoTop: w.top, whoBottom: w.bottom, who: who.textContent,
          top: r.top, bottom: r.bottom,
          viewport: innerHeight, scrollY: scrollY,
          background: getComputedStyle(e).backgroundColor,
          quote: e.textContent.includes(%s)};
})()""" % (turn, json.dumps(quote))

def png_pixels(data):
    """Decodes an 8-bit RGB(A) non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h = int.from_bytes(body[0:4], "big"), int.from_bytes(body[4:8], "big")
            depth, ctype, interlace = body[8], body[9], body[12]
            assert depth == 8 and ctype in (2, 6) and interlace == 0, "unexpected PNG kind"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = 4 if ctype == 6 else 3
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows

try:
    target = call("Target.createTarget", url="about:blank")["targetId"]
    session = call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    call("Page.enable", session)
    call("Emulation.setDeviceMetricsOverride", session, width=width, height=height,
         deviceScaleFactor=1, mobile=mobile)
    call("Page.navigate", session, url=link)
    wait_event("Page.loadEventFired", session, 30)
    # Scrolling to a fragment happens after load; give it a moment to settle.
    state, end = None, time.time() + 10
    while time.time() < end:
        state = call("Runtime.evaluate", session, expression=PROBE, returnByValue=True)["result"]["value"]
        if state.get("found") and state["target"] == "turn-%d" % turn and \
                state["top"] < state["viewport"] and state["bottom"] > 0:
            break
        time.sleep(0.2)
    print("browser: after load:", json.dumps(state))
    if not state.get("found"):
        raise SystemExit("turn-%d is not in the page" % turn)
    if not state["quote"]:
        raise SystemExit("turn-%d does not hold the quote" % turn)
    if state["target"] != "turn-%d" % turn:
        raise SystemExit("the :target is %r, not turn-%d" % (state["target"], turn))
    if state["background"] != "rgb(%d, %d, %d)" % HIGHLIGHT:
        raise SystemExit("turn-%d is not highlighted (background %s)" % (turn, state["background"]))
    if not (state["top"] < state["viewport"] and state["bottom"] > 0):
        raise SystemExit("turn-%d is not scrolled into view (top %s, viewport %s)"
                         % (turn, state["top"], state["viewport"]))
    if state["scrollY"] <= 0 and state["top"] > state["viewport"] / 2:
        raise SystemExit("the page did not scroll to turn-%d" % turn)
    # The link names the paragraph: it is the :target, and on screen.
    if not (state["targetTag"] == "P" and (state["targetId"] or "").startswith("turn-%d-p" % turn)):
        raise SystemExit("the :target is %r, not a paragraph of turn-%d" % (state["targetId"], turn))
    if not (state["targetTop"] < state["viewport"] and state["targetBottom"] > 0):
        raise SystemExit("the targeted paragraph is not in view")
    # Whoever is speaking stays visible: the sticky header is on screen.
    if not (state["whoTop"] >= -1 and state["whoBottom"] <= state["viewport"] and speaker in state["who"]):
        raise SystemExit("the speaker's header is not on screen (top %s, bottom %s, %r)"
                         % (state["whoTop"], state["whoBottom"], state["who"]))
    png = base64.b64decode(call("Page.captureScreenshot", session, format="png")["data"])
    with open(shot, "wb") as f:
        f.write(png)
    w, h, bpp, rows = png_pixels(png)
    lit = sum(1 for row in rows for x in range(0, w * bpp, bpp) if tuple(row[x:x + 3]) == HIGHLIGHT)
    colours = len({bytes(row[x:x + 3]) for row in rows[::8] for x in range(0, w * bpp, bpp * 8)})
    print("browser: screenshot %s: %dx%d, %d bytes, %d highlighted pixels, %d colours sampled"
          % (shot, w, h, len(png), lit, colours))
    if (w, h) != (width, height) or len(png) < 10000 or colours < 8:
        raise SystemExit("the screenshot is blank or the wrong size")
    if lit < w * 20:
        raise SystemExit("the screenshot does not show the highlighted turn")
finally:
    try:
        call("Browser.close")
    except BaseException:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
PY
QUOTE=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["hits"][0]["text"])' "$WORK/answer.json")
SPEAKER=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["hits"][0]["speaker"] or "")' "$WORK/answer.json")
timeout 90 "$PYTHON" "$WORK/cdp.py" "$CHROME" "$LINK" "$TURN" "$QUOTE" "$SHOT" "$WIDTH" "$HEIGHT" \
    "$(mktemp -d -p "$WORK")" "$MOBILE" "$SPEAKER" "${CHROME_FLAGS[@]}" || fail "the linked turn is not shown as targeted"
[ "$SHOT" = "$WORK/screenshot.png" ] || echo "browser: screenshot kept at $SHOT"

# --- 3: the "who spoke how much" picture of the page -----------------------
# The transcript page opened at its top: the inline SVG is drawn at a useful
# size, has a bar per speaker and a link per turn, a click on a turn of the
# strip targets that turn and scrolls to it, and a screenshot of the picture
# shows the speakers' colours (PICTURE_SHOT keeps it; docs/ has one).
PAGE="${LINK%%#*}"
PICTURE_SHOT=${PICTURE_SHOT:-$WORK/picture.png}
case $PICTURE_SHOT in /*) ;; *) PICTURE_SHOT=$ROOT/$PICTURE_SHOT ;; esac
cat >"$WORK/picture.py" <<'PY'
"""Checks the picture of who spoke how much on a transcript page, over
--remote-debugging-pipe like cdp.py."""
import base64, json, os, subprocess, sys, time, zlib

chrome, page, shot, width, height, profile, mobile = sys.argv[1:8]
width, height, mobile = int(width), int(height), mobile == "1"
flags = sys.argv[8:]
FIRST = (0x55, 0xAC, 0xEE)  # the first speaker's colour, src/chart.rs PALETTE

to_r, to_w = os.pipe()
from_r, from_w = os.pipe()
def child_fds():
    r, w = os.dup(to_r), os.dup(from_w)
    os.dup2(r, 3)
    os.dup2(w, 4)
proc = subprocess.Popen(
    [chrome, *flags, "--remote-debugging-pipe", "--user-data-dir=" + profile, "about:blank"],
    pass_fds=(3, 4), preexec_fn=child_fds, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(to_r)
os.close(from_w)
out, inp = os.fdopen(to_w, "wb", buffering=0), os.fdopen(from_r, "rb", buffering=0)
buf, next_id, events = b"", 0, []

def recv():
    global buf
    while b"\0" not in buf:
        chunk = inp.read(65536)
        if not chunk:
            raise SystemExit("chromium closed the pipe")
        buf += chunk
    msg, buf = buf.split(b"\0", 1)
    return json.loads(msg)

def call(method, session=None, **params):
    global next_id
    next_id += 1
    msg = {"id": next_id, "method": method, "params": params}
    if session:
        msg["sessionId"] = session
    out.write(json.dumps(msg).encode() + b"\0")
    while True:
        m = recv()
        if m.get("id") == next_id:
            if "error" in m:
                raise SystemExit("%s failed: %s" % (method, m["error"]))
            return m.get("result", {})
        events.append(m)

def wait_load(session, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        for i, e in enumerate(events):
            if e.get("method") == "Page.loadEventFired" and e.get("sessionId") == session:
                del events[i]
                return
        events.append(recv())
    raise SystemExit("the page did not load")

def js(session, expression):
    r = call("Runtime.evaluate", session, expression=expression, returnByValue=True)
    return r["result"].get("value")

def pixels(data):
    pos, idat = 8, b""
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, ctype = int.from_bytes(body[0:4], "big"), int.from_bytes(body[4:8], "big"), body[9]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = 4 if ctype == 6 else 3
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows

PROBE = """(() => {
  const svg = document.querySelector('figure.participation svg');
  if (!svg) return {found: false};
  const r = svg.getBoundingClientRect();
  const turns = [...document.querySelectorAll('section.turn:not(.intro)')].map(s => s.id);
  const links = [...svg.querySelectorAll('a')].map(a => a.getAttribute('href'));
  return {found: true, width: r.width, height: r.height, top: r.top + scrollY,
          bars: svg.querySelectorAll('rect[data-speaker]').length,
          speakers: document.querySelectorAll('ul.speakers li').length,
          turns: turns, links: links,
          text: svg.querySelectorAll('text').length,
          fill: getComputedStyle(svg.querySelector('rect[data-speaker]')).fill};
})()"""

try:
    target = call("Target.createTarget", url="about:blank")["targetId"]
    session = call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    call("Page.enable", session)
    call("Emulation.setDeviceMetricsOverride", session, width=width, height=height,
         deviceScaleFactor=1, mobile=mobile)
    call("Page.navigate", session, url=page)
    wait_load(session)
    state = js(session, PROBE)
    print("browser: picture:", json.dumps({k: v for k, v in (state or {}).items() if k not in ("turns", "links")}))
    if not state or not state["found"]:
        raise SystemExit("the page has no picture of who spoke how much")
    if state["width"] < min(300, width - 40) or state["height"] < 120:
        raise SystemExit("the picture is drawn too small: %sx%s" % (state["width"], state["height"]))
    if state["bars"] != state["speakers"] or state["bars"] == 0:
        raise SystemExit("%d bars for %d speakers" % (state["bars"], state["speakers"]))
    turn_links = sorted(set(l for l in state["links"] if l.startswith("#turn-")), key=lambda l: int(l.split("-")[1]))
    if ["#" + t for t in state["turns"]] != turn_links:
        raise SystemExit("the strip's links %s are not the page's turns %s" % (turn_links[:5], state["turns"][:5]))
    if state["fill"] != "rgb(%d, %d, %d)" % FIRST:
        raise SystemExit("the first bar is %s, not the first speaker's colour" % state["fill"])
    # Clicking a turn of the strip goes to that turn.
    pick = state["turns"][len(state["turns"]) // 2]
    js(session, "document.querySelector('figure.participation a[href=\"#%s\"]')"
                ".dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true, view: window}))" % pick)
    end, where = time.time() + 5, None
    while time.time() < end:
        where = js(session, """(() => { const t = document.querySelector(':target');
            const r = t ? t.getBoundingClientRect() : null;
            return {hash: location.hash, target: t ? t.id : null, top: r ? r.top : null, viewport: innerHeight}; })()""")
        if where["target"] == pick and 0 <= where["top"] < where["viewport"]:
            break
        time.sleep(0.1)
    print("browser: after a click on the strip:", json.dumps(where))
    if where["target"] != pick or where["hash"] != "#" + pick:
        raise SystemExit("a click on %s of the strip did not target it" % pick)
    if not (0 <= where["top"] < where["viewport"]):
        raise SystemExit("%s is not scrolled into view after the click" % pick)
    # Back to the top; the screenshot shows the header and the picture.
    js(session, "history.replaceState(null, '', location.pathname); window.scrollTo(0, 0)")
    bottom = state["top"] + state["height"] + 40
    clip = {"x": 0, "y": 0, "width": width, "height": min(bottom, 4000), "scale": 1}
    png = base64.b64decode(call("Page.captureScreenshot", session, format="png", clip=clip,
                                captureBeyondViewport=True)["data"])
    with open(shot, "wb") as f:
        f.write(png)
    w, h, bpp, rows = pixels(png)
    coloured = sum(1 for row in rows for x in range(0, w * bpp, bpp) if tuple(row[x:x + 3]) == FIRST)
    print("browser: picture screenshot %s: %dx%d, %d pixels in the first speaker's colour" % (shot, w, h, coloured))
    if coloured < 500:
        raise SystemExit("the screenshot does not show the picture's bars")
finally:
    try:
        call("Browser.close")
    except BaseException:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
PY
timeout 90 "$PYTHON" "$WORK/picture.py" "$CHROME" "$PAGE" "$PICTURE_SHOT" "$WIDTH" "$HEIGHT" \
    "$(mktemp -d -p "$WORK")" "$MOBILE" "${CHROME_FLAGS[@]}" || fail "the picture of who spoke how much is wrong"
[ "$PICTURE_SHOT" = "$WORK/picture.png" ] || echo "browser: picture screenshot kept at $PICTURE_SHOT"
echo "browser: OK"
