"""The browser code the app serves is exactly what frontend/ builds: each bundle in app_pages/static/
names the sha256 of the inputs it was built from, and a rebuild from the lockfile (`npm ci`, then
`node build.mjs`) gives the same bytes."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FRONTEND = ROOT / "frontend"
STATIC = ROOT / "app_pages" / "static"
BANNER = re.compile(r"^/\* plm-map (\S+) · built by frontend/build\.mjs · inputs sha256 ([0-9a-f]{64}) \*/\n")


def inputs_digest(entry: str) -> str:
    """The same digest as build.mjs's inputsDigest(entry): its own text, package.json, the lockfile,
    the entry and the shared modules of src/ (named "_*.js")."""
    files = ["build.mjs", "package.json", "package-lock.json",
             *sorted("src/" + p.name for p in (FRONTEND / "src").glob("*.js")
                     if p.name == entry or p.name.startswith("_"))]
    h = hashlib.sha256()
    for f in files:
        h.update(f.encode() + b"\0" + (FRONTEND / f).read_bytes() + b"\0")
    return h.hexdigest()


def entries() -> list[str]:
    return sorted(p.name for p in (FRONTEND / "src").glob("*.js") if not p.name.startswith("_"))


def test_every_source_entry_has_a_bundle_and_every_bundle_a_source():
    assert entries(), "frontend/src holds no entry"
    assert sorted(p.name for p in STATIC.glob("*.js")) == entries()


@pytest.mark.parametrize("name", entries())
def test_each_bundle_was_built_from_the_committed_sources_and_lockfile(name):
    match = BANNER.match((STATIC / name).read_text(encoding="utf-8"))
    assert match, f"{name} has no build banner: rebuild with `cd frontend && npm ci && npm run build`"
    assert match.group(1) == name
    assert match.group(2) == inputs_digest(name), (
        f"app_pages/static/{name} is stale: its sources or lockfile changed; run `cd frontend && npm run build`")


def test_the_lockfile_pins_every_package_to_one_version_from_the_npm_registry():
    import json

    lock = json.loads((FRONTEND / "package-lock.json").read_text())
    declared = json.loads((FRONTEND / "package.json").read_text())
    for section in ("dependencies", "devDependencies"):
        for name, version in declared.get(section, {}).items():
            assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned to one version: {version}"
            assert lock["packages"][f"node_modules/{name}"]["version"] == version
    for path, meta in lock["packages"].items():
        if path:  # npm leaves `resolved` out for optional packages of other platforms (esbuild's binaries)
            assert meta.get("resolved", "https://registry.npmjs.org/").startswith("https://registry.npmjs.org/"), path
            assert meta.get("integrity", "").startswith("sha512-"), path


def test_a_clean_rebuild_from_the_lockfile_gives_the_committed_bytes(tmp_path):
    npm = shutil.which("npm")
    assert npm, "npm is missing: the README's test command installs Debian's nodejs and npm"
    work = tmp_path / "frontend"
    shutil.copytree(FRONTEND, work, ignore=shutil.ignore_patterns("node_modules"))
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=work, check=True, timeout=300)
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run(["node", "build.mjs", "--out", str(out)], cwd=work, check=True, timeout=120,
                   capture_output=True)
    for name in entries():
        assert (out / name).read_bytes() == (STATIC / name).read_bytes(), f"{name} differs from its rebuild"
