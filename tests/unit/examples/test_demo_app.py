"""The demo app used by the deployment tests: health, metrics, bad releases, graceful shutdown."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parents[3] / "examples" / "app"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port, path="/"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode(), dict(response.getheaders())
    finally:
        conn.close()


def start(*args, env=None, app=None):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(app or APP_DIR / "app.py"), "--port", str(port), *args],
        env=dict(os.environ, **(env or {})),
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if get(port, "/health/live")[0] == 200:
                return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("the app did not start")


@pytest.fixture
def app():
    procs = []

    def _start(*args, **kwargs):
        proc, port = start(*args, **kwargs)
        procs.append(proc)
        return proc, port

    yield _start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_endpoints_and_metrics(app, tmp_path):
    flags = tmp_path / "flags.json"
    flags.write_text('{"NEW_CHECKOUT": false}')
    _proc, port = app("--version", "1.2.3", "--startup-seconds", "0", "--flag-file", str(flags))
    status, body, headers = get(port)
    assert status == 200 and json.loads(body)["version"] == "1.2.3"
    assert headers["X-App-Version"] == "1.2.3"
    assert json.loads(body)["flags"] == {"NEW_CHECKOUT": False}
    flags.write_text('{"NEW_CHECKOUT": true}')  # toggled without a restart
    assert json.loads(get(port)[1])["flags"] == {"NEW_CHECKOUT": True}
    for path in ("/health/live", "/health/ready", "/health/startup"):
        assert get(port, path)[0] == 200
    assert get(port, "/nope")[0] == 404
    metrics = get(port, "/metrics")[1]
    assert 'http_requests_total{method="GET",route="/",status="200"} 2' in metrics
    assert 'http_request_duration_seconds_bucket{method="GET",route="/",le="+Inf"} 2' in metrics
    assert 'app_info{service="demo-app",version="1.2.3"} 1' in metrics
    assert "app_ready 1" in metrics


def test_startup_then_ready(app):
    _proc, port = app("--startup-seconds", "1.0")
    assert get(port, "/health/startup")[0] == 503
    assert get(port, "/health/ready")[0] == 503
    time.sleep(1.1)
    assert get(port, "/health/ready")[0] == 200


@pytest.mark.parametrize("mode,path,status", [("readiness", "/health/ready", 503), ("errors", "/", 500)])
def test_bad_releases(app, tmp_path, mode, path, status):
    subprocess.run(
        ["bash", str(APP_DIR / "build-release.sh"), "9.9.9", str(tmp_path), "--bad", mode, "--startup-seconds", "0"],
        check=True,
        capture_output=True,
    )
    with tarfile.open(tmp_path / "demo-app-9.9.9.tar.gz") as tar:
        tar.extractall(tmp_path, filter="data")
    _proc, port = app(app=tmp_path / "demo-app-9.9.9" / "app.py")
    assert get(port, path)[0] == status
    assert get(port, "/health/live")[0] == 200
    assert json.loads(get(port, "/health/live")[1])["version"] == "9.9.9"


def test_error_ratio_spreads_failures(app, tmp_path):
    _proc, port = app("--startup-seconds", "0", "--fail-mode", "errors", "--error-ratio", "0.5")
    assert [get(port)[0] for _index in range(6)] == [200, 500, 200, 500, 200, 500]


def test_release_tarballs_are_reproducible(tmp_path):
    for folder in ("a", "b"):
        subprocess.run(
            ["bash", str(APP_DIR / "build-release.sh"), "1.0.0", str(tmp_path / folder)],
            check=True,
            capture_output=True,
        )
    assert (tmp_path / "a/demo-app-1.0.0.tar.gz").read_bytes() == (tmp_path / "b/demo-app-1.0.0.tar.gz").read_bytes()


def test_sigterm_finishes_in_flight_requests(app):
    proc, port = app("--startup-seconds", "0", env={"APP_RESPONSE_DELAY": "1.0"})
    result = {}

    def slow():
        result["response"] = get(port, "/")

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.1)
    status, _body, headers = get(port, "/health/ready")
    assert status == 503 and headers.get("Connection") == "close"
    thread.join(5)
    assert result["response"][0] == 200
    assert proc.wait(10) == 0
