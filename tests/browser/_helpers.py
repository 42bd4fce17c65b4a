"""Driving a real `streamlit run explorer.py` with Playwright and Debian's Chromium, offline."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "tests" / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               # every host but loopback fails at once inside the browser
               "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"]
APP_IDLE = ('[data-testid="stApp"][data-test-script-state="notRunning"]'
            '[data-test-connection-state="CONNECTED"]')
LOCAL = ("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "ws://localhost", "data:", "blob:", "about:")
_no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamlitServer:
    """`streamlit run explorer.py` (or `script`) on a free 127.0.0.1 port; waits for /_stcore/health."""

    def __init__(self, env: dict | None = None, timeout: float = 90, script: Path | None = None):
        self.env, self.timeout, self.script = env or {}, timeout, script or ROOT / "explorer.py"
        self.proc = None
        self.url = ""
        self.startup_s = 0.0

    def start(self) -> "StreamlitServer":
        for _ in range(3):
            port = free_port()
            log = open(ROOT / "tests" / "artifacts" / f"streamlit-{port}.log", "w")
            t0 = time.perf_counter()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(self.script), "--server.port", str(port),
                 "--server.address", "127.0.0.1", "--server.headless", "true",
                 "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **self.env})
            self.url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + self.timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    with _no_proxy.open(self.url + "/_stcore/health", timeout=1) as r:
                        if r.status == 200:
                            self.startup_s = time.perf_counter() - t0
                            return self
                except OSError:
                    time.sleep(0.1)
            self.stop()
        raise RuntimeError("streamlit did not start; see tests/artifacts/streamlit-*.log")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def goto(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(APP_IDLE, timeout=60_000)


GRAPH = '[data-testid="plm-graph"]'   # the graph component's root (inside its shadow root; locators pierce it)


def drawn(page, nth: int = 0) -> dict:
    """What the nth graph on the page says it drew: its `data-drawn` JSON (see frontend/src/graph.js)."""
    return json.loads(page.locator(GRAPH).nth(nth).get_attribute("data-drawn"))


def wait_graph(page, min_nodes: int = 2, nth: int = 0, interactive: bool = True) -> dict:
    """Wait until the nth graph has settled with at least `min_nodes` nodes and ink on screen; its drawing.

    The first picture is a sketch on a 2D canvas; with `interactive`, also wait until sigma has taken over
    (or could not: "sketch-only"), so that clicks, zoom and keys reach it."""
    loc = page.locator(GRAPH).nth(nth)
    loc.wait_for(state="attached", timeout=30_000)
    deadline = time.monotonic() + 30
    while True:
        raw = loc.get_attribute("data-drawn")
        if raw:
            d = json.loads(raw)
            if d.get("settled") and len(d["nodes"]) >= min_nodes and not (interactive and d["renderer"] == "sketch"):
                break
        if time.monotonic() > deadline:
            raise AssertionError(f"the graph did not settle with {min_nodes} nodes: {raw and raw[:300]}")
        page.wait_for_timeout(100)
    assert ink(page, nth) > 500, "the graph's canvas is blank"
    return drawn(page, nth)


def ink(page, nth: int = 0) -> int:
    """Non-white pixels in a screenshot of the nth graph (WebGL canvases cannot be read back)."""
    import io

    from PIL import Image

    png = page.locator(GRAPH).nth(nth).screenshot()
    img = Image.open(io.BytesIO(png)).convert("L")
    return sum(1 for v in img.get_flattened_data() if v < 235)


def node_point(page, node_id: str, nth: int = 0) -> tuple[float, float]:
    """Page coordinates of a drawn node (to click or hover it with the mouse)."""
    centre = next(n["centre"] for n in drawn(page, nth)["nodes"] if n["id"] == node_id)
    assert centre, f"{node_id} is not on screen"
    return tuple(centre)


def label_overlaps(d: dict) -> list[tuple[str, str]]:
    """Pairs of shown labels whose boxes intersect."""
    shown = [n for n in d["nodes"] if n["shown"]]
    out = []
    for i, a in enumerate(shown):
        ax, ay, aw, ah = a["labelBox"]
        for b in shown[i + 1:]:
            bx, by, bw, bh = b["labelBox"]
            if ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah:
                out.append((a["id"], b["id"]))
    return out


def screenshot(page, name: str) -> Path:
    """Full-page screenshot (Streamlit scrolls inside stMain, so grow the viewport first)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    vp = page.viewport_size
    h = page.evaluate("""() => { const m = document.querySelector('[data-testid="stMain"]');
        return Math.max(document.documentElement.scrollHeight, m ? m.scrollHeight : 0); }""")
    page.set_viewport_size({"width": vp["width"], "height": min(int(h) + 20, 6000)})
    page.wait_for_timeout(400)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    page.set_viewport_size(vp)
    return path
