"""The Streamlit settings the app ships with are the ones for serving it to others (security notes §6.2, §10 G).

The file is read as TOML and every value checked; then a real `streamlit run explorer.py`, started
with nothing but that file and a port, shows the settings at work: only loopback is listened on,
and the WebSocket that carries every page refuses a foreign Host or Origin (DNS rebinding, other
sites). Streamlit 1.67 enforces `allowedHosts` on the WebSocket only: the static shell (index.html,
scripts, /_stcore/health) answers any Host, and holds no data.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest
from streamlit import config as st_config

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".streamlit" / "config.toml"
LOOPBACK_V4 = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it
LOOPBACK_V6 = "00000000000000000000000001000000"  # ::1

EXPECTED = {
    "server.address": "127.0.0.1",
    "server.enableXsrfProtection": True,
    "server.enableCORS": True,
    "server.xsrfCookieSameSite": "lax",
    "server.enableStaticServing": False,
    "server.enableAgentApi": False,
    "server.fileWatcherType": "none",
    "server.runOnSave": False,
    "server.headless": True,
    "client.toolbarMode": "viewer",
    "client.showErrorLinks": False,
    "browser.gatherUsageStats": False,
}


def _settings() -> dict:
    cfg = tomllib.loads(CONFIG.read_text())
    return {f"{section}.{name}": value for section, options in cfg.items() for name, value in options.items()}


def test_every_option_in_the_config_file_is_one_streamlit_knows():
    known = st_config.get_config_options()
    assert [name for name in _settings() if name not in known] == []


@pytest.mark.parametrize("name", EXPECTED)
def test_the_config_sets_the_public_deployment_value(name):
    assert _settings()[name] == EXPECTED[name]


def test_the_config_hides_error_details_and_caps_sizes():
    cfg = _settings()
    assert cfg["client.showErrorDetails"] in ("none", "type")
    assert cfg["server.maxUploadSize"] <= 20
    # the largest page measured (a CONSTRUCT of the whole survey graph) sends 0.74 MB; results are
    # capped at 10,000 rows and 32 MiB, so 50 MB is room enough and a quarter of the default 200
    assert 1 <= cfg["server.maxMessageSize"] <= 50
    assert cfg["server.disconnectedSessionTTL"] <= 120


def test_the_config_accepts_only_named_hosts():
    hosts = _settings()["server.allowedHosts"]
    assert hosts and "*" not in hosts and {"localhost", "127.0.0.1"} <= set(hosts)


# ---------------------------------------------------------------------------------------------
# The settings at work in a running server
# ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app():
    """`streamlit run explorer.py --server.port PORT` in the project directory: every other setting
    comes from .streamlit/config.toml."""
    port = _free_port()
    log = ROOT / "tests" / "artifacts" / f"streamlit-config-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "explorer.py", "--server.port", str(port)],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env={**os.environ})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with opener.open(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail(f"streamlit did not start; see {log}")
    yield port
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _status(port: int, host: str, *, websocket: bool = False, origin: str | None = None) -> int:
    """The status of one request to the app on 127.0.0.1:port, with these Host and Origin headers."""
    lines = [f"GET {'/_stcore/stream' if websocket else '/'} HTTP/1.1", f"Host: {host}", "Connection: close"]
    if websocket:
        key = base64.b64encode(os.urandom(16)).decode()
        lines[2:] = ["Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                     "Sec-WebSocket-Version: 13", "Sec-WebSocket-Protocol: streamlit"]
    if origin:
        lines.append(f"Origin: {origin}")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        status_line = s.makefile("rb").readline().decode("latin-1")
    return int(status_line.split()[1])


def test_the_app_answers_its_own_host(app):
    assert _status(app, f"localhost:{app}") == 200
    assert _status(app, f"localhost:{app}", websocket=True) == 101
    assert _status(app, f"127.0.0.1:{app}", websocket=True, origin=f"http://127.0.0.1:{app}") == 101


def test_the_app_refuses_a_foreign_host_or_origin(app):
    assert _status(app, "evil.example", websocket=True) != 101
    assert _status(app, f"evil.example:{app}", websocket=True, origin=f"http://evil.example:{app}") != 101
    assert _status(app, f"localhost:{app}", websocket=True, origin="http://evil.example") != 101


def _listening(port: int) -> list[str]:
    """The local addresses (as /proc/net/tcp{,6} write them) of sockets listening on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, _, hex_port = fields[1].partition(":")
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.append(address)
    return found


def _outward_address() -> str | None:
    """This machine's address on the interface a packet out would take (no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            address = s.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/net/tcp")
def test_the_app_listens_on_loopback_only(app):
    listening = _listening(app)
    assert listening and set(listening) <= {LOOPBACK_V4, LOOPBACK_V6}
    if (outward := _outward_address()) is not None:
        with pytest.raises(OSError), socket.create_connection((outward, app), timeout=2):
            pass
