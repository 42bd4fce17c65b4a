"""Which JavaScript renderer should draw the explorer's graph page? Measured, not guessed.

    python bench/bench_renderers.py                      # everything: 3 renderers x 4 sizes; 231-286 s on this
                                                         # 2-core machine when idle, ~6 min when other work runs
    python bench/bench_renderers.py --repeats 2 --sizes 92 400 --renderers sigma
    python bench/bench_renderers.py --rebuild --shots    # rebuild dist/ first; screenshots in bench/renderers/dist/shots/

Candidates (bench/renderers/package.json, exact versions): vis-network 10.1.5 (canvas 2D), sigma 3.0.3 with
graphology 0.26.0 (WebGL), cytoscape 3.35.0 (canvas 2D). bench/renderers/build.mjs bundles one page script per
renderer with esbuild and writes deterministic synthetic graphs (92, 400, 2,000, 20,000 nodes, ~2.4 directed
edges per node, preset positions in a disc) into bench/renderers/dist/; this script runs `npm ci` and the build
when dist/ is missing.

Each renderer x size gets N fresh page loads (a new browser context each: empty HTTP and code cache) in Debian's
Chromium (headless, the project's CHROME_ARGS, viewport 1440x900, 1100x640 graph container, physics/layout off,
labels and arrows on). A page records on window.__bench (see bench/renderers/src/harness.js):
  first draw   navigation start -> the library's first draw event + one requestAnimationFrame (performance.now(),
               and Date.now() - performance.timing.navigationStart)
  zoom frames  30 programmatic camera steps (x1 -> x4 -> x1, one per frame), rAF-to-rAF interval: mean and p95
               (60 Hz vsync: 16.7 ms is the floor); plus the library's own JS render time per frame. A page
               stops zooming after 6 s of frames and reports how many it did ("(N frames)" in the table)
  heap         performance.memory.usedJSHeapSize after the first draw (precise: --enable-precise-memory-info)
Medians over the loads are printed and written, with every run, to bench/out/renderers.json.
A load that has not finished within 60 s is recorded as a failure (with whatever it had measured by then, from
its console progress lines), and the remaining loads of that renderer x size are skipped.
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "bench" / "renderers"
DIST = HERE / "dist"
OUT = ROOT / "bench" / "out" / "renderers.json"
sys.path.insert(0, str(ROOT / "tests" / "browser"))

RENDERERS = ["vis-network", "sigma", "cytoscape"]
SIZES = [92, 400, 2000, 20000]
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1440, "height": 900}
LOAD_TIMEOUT_S = 60
FRAMES = 30
ZOOM_CAP_MS = 6_000  # a page stops zooming after 6 s of frames (and says so): bounds a slow renderer's load
# heap numbers are bucketed and cached without the first flag; the second gives the page window.gc()
EXTRA_ARGS = ["--enable-precise-memory-info", "--js-flags=--expose-gc"]


def build(force: bool = False) -> None:
    need = [DIST / f"{r}.js" for r in RENDERERS] + [DIST / f"graph-{n}.json" for n in SIZES] + [DIST / "build.json"]
    if not force and all(p.exists() for p in need):
        return
    if force or not (HERE / "node_modules" / ".package-lock.json").exists():
        print("npm ci …", flush=True)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)
    print("node build.mjs …", flush=True)
    subprocess.run(["node", "build.mjs"], cwd=HERE, check=True)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no per-request lines
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


def serve() -> tuple[http.server.ThreadingHTTPServer, str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(HERE)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def bundle_sizes() -> dict:
    out = {}
    for r in RENDERERS:
        data = (DIST / f"{r}.js").read_bytes()
        out[r] = {"raw": len(data), "gzip": len(gzip.compress(data, 9))}
    return out


def one_load(browser, url: str, shot: Path | None = None) -> dict:
    """One fresh page load; the page's __bench dict, or {'error': …} after LOAD_TIMEOUT_S or a page error."""
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    errors: list[str] = []
    progress: list[str] = []  # the page's console.debug("__bench {json}") lines: what a cut-off load had reached
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: progress.append(m.text[8:]) if m.text.startswith("__bench ") else None)
    t0 = time.monotonic()
    try:
        page.goto(url, timeout=LOAD_TIMEOUT_S * 1000)
        left = max(1.0, LOAD_TIMEOUT_S - (time.monotonic() - t0))
        page.wait_for_function("() => window.__bench && window.__bench.done", timeout=left * 1000, polling=100)
        res = page.evaluate("() => window.__bench")
        if errors and "error" not in res:
            res["error"] = "; ".join(errors)
        if shot is not None and "error" not in res:
            page.locator("#graph").screenshot(path=str(shot))
    except Exception as e:  # timeout, crash: a failure, not a hang
        res = json.loads(progress[-1]) if progress else {}
        res["partial"] = bool(progress)
        res["error"] = f"{type(e).__name__}: {str(e).splitlines()[0]}"
    res["wall_s"] = round(time.monotonic() - t0, 2)
    try:
        ctx.close()
    except Exception:
        pass
    return res


METRICS = {  # name in the summary -> how to read it from one run's __bench
    "first_draw_ms": lambda b: b["firstDraw"],
    "ctor_ms": lambda b: b["ctorMs"],
    "nav_to_draw_ms": lambda b: b["navToDraw"],
    "script_start_ms": lambda b: b["scriptStart"],
    "fetch_ms": lambda b: b["fetchMs"],
    "draw_ms": lambda b: b["drawMs"],
    "first_render_ms": lambda b: b["firstRenderMs"],
    "frame_mean_ms": lambda b: b["frame"]["mean"],
    "frame_p95_ms": lambda b: b["frame"]["p95"],
    "render_mean_ms": lambda b: b["render"]["mean"],
    "render_p95_ms": lambda b: b["render"]["p95"],
    "heap_mib": lambda b: b["heapAfterDraw"] / 2**20,
    "heap_after_gc_mib": lambda b: b["heapAfterGc"] / 2**20,
}


def summarise(runs: list[dict]) -> dict:
    ok = [r for r in runs if "error" not in r]
    # nothing finished: report what the cut-off loads had measured (first draw, the frames done), marked partial
    partial = not ok and any(r.get("partial") for r in runs)
    src = ok or [r for r in runs if r.get("partial")]
    med = {}
    for name, get in METRICS.items():
        vals = []
        for r in src:
            try:
                v = get(r)
            except (KeyError, TypeError):
                v = None
            if v is not None:
                vals.append(v)
        med[name] = round(statistics.median(vals), 2) if vals else None
    done = [r.get("framesDone") for r in src if r.get("framesDone") is not None]
    return {"ok": len(ok), "failed": len(runs) - len(ok), "median": med, "from_partial_runs": partial,
            "zoom_frames_done": min(done) if done else None,
            "zoom_truncated": any(r.get("zoomTruncated") for r in src) or partial,
            "errors": sorted({r["error"] for r in runs if "error" in r})}


def fmt(v, nd=0) -> str:
    return "—" if v is None else f"{v:,.{nd}f}"


def table(results: dict, bundles: dict, repeats: dict) -> str:
    head = ("| renderer | nodes | bundle KiB raw / gzip | loads ok | first draw ms (nav→draw+rAF) | data→draw event ms "
            "| zoom frame ms mean / p95 | render JS ms mean | heap MiB after draw / after GC |")
    lines = [head, "|" + "|".join(["---"] * 9) + "|"]
    for r, by_size in results.items():
        b = bundles[r]
        for n, s in by_size.items():
            m = s["median"]
            mark = " (partial)" if s["from_partial_runs"] else ""
            zf = f" ({s['zoom_frames_done']} frames)" if s["zoom_truncated"] and s["zoom_frames_done"] is not None else ""
            lines.append(
                f"| {r} | {int(n):,} | {b['raw'] / 1024:.0f} / {b['gzip'] / 1024:.0f} | {s['ok']}/{s['ok'] + s['failed']} "
                f"| {fmt(m['first_draw_ms'])}{mark} | {fmt(m['draw_ms'])} "
                f"| {fmt(m['frame_mean_ms'], 1)} / {fmt(m['frame_p95_ms'], 1)}{zf} | {fmt(m['render_mean_ms'], 1)} "
                f"| {fmt(m['heap_mib'], 1)} / {fmt(m['heap_after_gc_mib'], 1)} |")
    return "\n".join(lines)


def pivot(results: dict, cell) -> str:
    """One row per renderer, one column per graph size; cell(summary) -> str."""
    sizes = sorted({int(n) for by in results.values() for n in by})
    lines = ["| renderer | " + " | ".join(f"{n:,} nodes" for n in sizes) + " |", "|---" * (len(sizes) + 1) + "|"]
    for r, by in results.items():
        lines.append(f"| {r} | " + " | ".join(cell(by[str(n)]) if str(n) in by else "—" for n in sizes) + " |")
    return "\n".join(lines)


def zoom_cell(s: dict) -> str:
    m = s["median"]
    out = f"{fmt(m['frame_mean_ms'], 1)} / {fmt(m['frame_p95_ms'], 1)}"
    return out + (f" ({s['zoom_frames_done']} fr.)" if s["zoom_truncated"] and s["zoom_frames_done"] is not None else "")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--renderers", nargs="+", default=RENDERERS, choices=RENDERERS)
    ap.add_argument("--sizes", nargs="+", type=int, default=SIZES, choices=SIZES)
    ap.add_argument("--repeats", type=int, default=5, help="fresh loads per renderer x size (default 5)")
    ap.add_argument("--repeats-large", type=int, default=3,
                    help="fresh loads for the 20,000-node graph (default 3, to stay within 5 minutes)")
    ap.add_argument("--rebuild", action="store_true", help="npm ci + node build.mjs even if dist/ exists")
    ap.add_argument("--shots", action="store_true",
                    help="save bench/renderers/dist/shots/<renderer>-<n>.png (the graph container, first load)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    from _helpers import CHROME_ARGS

    t_all = time.monotonic()
    load_start = os.getloadavg()
    if load_start[0] > 0.7:
        print(f"warning: load average {load_start[0]:.2f} at start: other work shares the cores, timings will be "
              "slower and noisier", flush=True)
    build(args.rebuild)
    info = json.loads((DIST / "build.json").read_text())
    bundles = bundle_sizes()
    httpd, base = serve()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.shots:
        (DIST / "shots").mkdir(exist_ok=True)
    repeats = {n: (args.repeats_large if n >= 20000 else args.repeats) for n in args.sizes}
    results: dict = {}
    raw: dict = {}
    webgl = None
    try:
        with sync_playwright() as pw:
            for r in args.renderers:
                # one browser process per renderer (no cross-talk between libraries), a fresh context per load
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS + EXTRA_ARGS)
                chromium_version = browser.version
                if webgl is None:
                    webgl = webgl_info(browser)
                results[r], raw[r] = {}, {}
                for n in args.sizes:
                    runs = []
                    for i in range(repeats[n]):
                        shot = DIST / "shots" / f"{r}-{n}.png" if args.shots and i == 0 else None
                        runs.append(one_load(browser, f"{base}/pages/{r}.html?n={n}&frames={FRAMES}&zoomcap={ZOOM_CAP_MS}",
                                             shot))
                        if "Timeout" in runs[-1].get("error", ""):
                            print(f"{r} {n:,}: load {i + 1} timed out after {LOAD_TIMEOUT_S} s; "
                                  f"skipping its remaining {repeats[n] - i - 1} loads", flush=True)
                            break
                    s = summarise(runs)
                    results[r][str(n)], raw[r][str(n)] = s, runs
                    m = s["median"]
                    print(f"{r:12s} {n:>6,} nodes: first draw {fmt(m['first_draw_ms'])} ms, zoom frame "
                          f"{fmt(m['frame_mean_ms'], 1)}/{fmt(m['frame_p95_ms'], 1)} ms, heap {fmt(m['heap_mib'], 1)} MiB"
                          f"  [{s['ok']}/{len(runs)} ok, {sum(x['wall_s'] for x in runs):.0f} s]"
                          + (f"  errors: {s['errors']}" if s["errors"] else ""), flush=True)
                browser.close()
    finally:
        httpd.shutdown()

    total_s = time.monotonic() - t_all
    doc = {
        "what": "bench/bench_renderers.py: medians over fresh page loads; every run under 'runs'",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "chromium": chromium_version, "webgl": webgl,
                    "loadavg_start": [round(x, 2) for x in load_start],
                    "loadavg_end": [round(x, 2) for x in os.getloadavg()],
                    "chrome_args": CHROME_ARGS + EXTRA_ARGS, "viewport": VIEWPORT, "device_scale_factor": 1},
        "versions": info["versions"], "esbuild": info["esbuild"], "graphs": info["graphs"],
        "bundles": {r: {**bundles[r], "label": info["bundles"][r]["label"]} for r in bundles},
        "protocol": {"repeats": {str(k): v for k, v in repeats.items()}, "zoom_frames": FRAMES,
                     "zoom": "x1 -> x4 -> x1, geometric, one camera step per rAF, no library animation",
                     "zoom_cap_ms": ZOOM_CAP_MS,
                     "load_timeout_s": LOAD_TIMEOUT_S},
        "results": results, "runs": raw, "total_s": round(total_s, 1),
    }
    args.out.write_text(json.dumps(doc, indent=1))
    print()
    print(f"Chromium {chromium_version}, {os.cpu_count()} cores, WebGL: {webgl}; load average at start "
          f"{load_start[0]:.2f}, at end {os.getloadavg()[0]:.2f}")
    print("loads per renderer x size: " + ", ".join(f"{n:,}: {k}" for n, k in repeats.items())
          + (" (fewer for 20,000 nodes to keep the run short)" if repeats.get(20000, args.repeats) < args.repeats else ""))
    print(table(results, bundles, repeats))
    print("\nbundle KiB raw / gzip: " + ", ".join(f"{r} {b['raw'] / 1024:.0f} / {b['gzip'] / 1024:.0f}"
                                              for r, b in bundles.items() if r in results))
    print("\nfirst draw, ms from navigation start (median):")
    print(pivot(results, lambda s: fmt(s["median"]["first_draw_ms"]) + (" (partial)" if s["from_partial_runs"] else "")
                + (f" ({s['failed']} failed)" if s["failed"] else "")))
    print("\nzoom frame ms, mean / p95 (rAF interval, 16.7 = 60 fps):")
    print(pivot(results, zoom_cell))
    print("\nJS heap MiB after the first draw / after a forced GC:")
    print(pivot(results, lambda s: f"{fmt(s['median']['heap_mib'], 1)} / {fmt(s['median']['heap_after_gc_mib'], 1)}"))
    print(f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}; total {total_s:.0f} s")
    return 0 if all(s["failed"] == 0 for by in results.values() for s in by.values()) else 1


def webgl_info(browser) -> str | None:
    page = browser.new_page()
    try:
        return page.evaluate("""() => { const gl = document.createElement('canvas').getContext('webgl2');
            if (!gl) return null; const d = gl.getExtension('WEBGL_debug_renderer_info');
            return d ? gl.getParameter(d.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER); }""")
    finally:
        page.close()


if __name__ == "__main__":
    sys.exit(main())
