"""Driving a real `streamlit run explorer.py` with Playwright and Debian's Chromium, offline."""

from __future__ import annotations

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

# non-white pixels drawn on the graph's canvas
INK_JS = """() => { const g = globalThis.__plmGraph; const c = g && g.body.container.querySelector('canvas');
  if (!c || !c.width) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240)) n++;
  return n; }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamlitServer:
    """`streamlit run explorer.py` on a free 127.0.0.1 port; waits for /_stcore/health."""

    def __init__(self, env: dict | None = None, timeout: float = 90):
        self.env, self.timeout = env or {}, timeout
        self.proc = None
        self.url = ""
        self.startup_s = 0.0

    def start(self) -> "StreamlitServer":
        for _ in range(3):
            port = free_port()
            log = open(ROOT / "tests" / "artifacts" / f"streamlit-{port}.log", "w")
            t0 = time.perf_counter()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(ROOT / "explorer.py"), "--server.port", str(port),
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


def wait_graph(page, min_nodes: int = 2) -> int:
    """The vis-network canvas exists, holds the nodes and has drawn something; returns the ink count."""
    page.wait_for_function("() => globalThis.__plmGraph !== undefined", timeout=30_000)
    page.wait_for_function(f"() => globalThis.__plmGraph.body.data.nodes.length >= {min_nodes}", timeout=30_000)
    page.wait_for_function(f"() => ({INK_JS})() > 500", timeout=30_000)
    return page.evaluate(INK_JS)


def node_point(page, node_id: str) -> tuple[float, float]:
    """Page coordinates of a node of the graph component (to click it with the mouse)."""
    page.evaluate("(id) => { const n = globalThis.__plmGraph; n.stopSimulation(); n.focus(id, {scale: 1.2}); }", node_id)
    page.wait_for_timeout(300)
    return tuple(page.evaluate("""(id) => { const n = globalThis.__plmGraph;
        const d = n.canvasToDOM(n.getPositions([id])[id]);
        const r = n.body.container.querySelector('canvas').getBoundingClientRect();
        return [r.left + d.x, r.top + d.y]; }""", node_id))


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
