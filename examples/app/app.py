#!/usr/bin/env python3
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small HTTP service for deployment tests, with nothing but the standard library.

Endpoints:
  /                 JSON: service, version, host, feature flags (a 5xx in the "errors" mode)
  /health/live      200 while the process runs
  /health/ready     200 when started and not draining (503 in the "readiness" mode)
  /health/startup   200 once start-up has finished
  /metrics          Prometheus text: http_requests_total{method,route,status},
                    http_request_duration_seconds (histogram), app_info{version}, app_ready
Settings come from the command line or the environment (APP_*), and from
``release.json`` next to this file, which a release build writes:
  {"version": "1.2.0", "fail_mode": "none|readiness|errors", "error_ratio": 1.0, "startup_seconds": 0.5}
In the "errors" mode a share ``error_ratio`` of the requests to / answer 500, spread
evenly (with 0.5 the first request succeeds and every second one fails).
Feature flags are read from the JSON object in APP_FLAG_FILE at every request,
so they change without a restart.  On SIGTERM the service stops being ready,
keeps serving in-flight requests (answering ``Connection: close``), and exits
once they are done or after APP_DRAIN_SECONDS.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
ROUTES = ("/", "/health/live", "/health/ready", "/health/startup", "/metrics")


class State:
    """What the handlers share: settings, readiness, metrics, in-flight requests."""

    def __init__(
        self,
        name: str,
        version: str,
        fail_mode: str,
        startup_seconds: float,
        flag_file: Optional[str],
        drain_seconds: float,
        error_ratio: float = 1.0,
    ) -> None:
        self.name = name
        self.version = version
        self.fail_mode = fail_mode
        self.error_ratio = error_ratio
        self.served = 0
        self.flag_file = flag_file
        self.drain_seconds = drain_seconds
        self.started_at = time.monotonic()
        self.startup_seconds = startup_seconds
        self.draining = False
        self.lock = threading.Lock()
        self.requests: Dict[Tuple[str, str, str], int] = {}
        self.durations: Dict[Tuple[str, str], List[float]] = {}
        self.in_flight = 0
        self.idle = threading.Condition(self.lock)

    def started(self) -> bool:
        return time.monotonic() - self.started_at >= self.startup_seconds

    def ready(self) -> bool:
        return self.started() and not self.draining and self.fail_mode != "readiness"

    def flags(self) -> Dict[str, Any]:
        if not self.flag_file:
            return {}
        try:
            with open(self.flag_file, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def fails_next(self) -> bool:
        """In the errors mode: whether the next request to / fails (an even spread)."""
        with self.lock:
            before = int(self.served * self.error_ratio)
            self.served += 1
            return int(self.served * self.error_ratio) > before

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self.lock:
            key = (method, route, str(status))
            self.requests[key] = self.requests.get(key, 0) + 1
            self.durations.setdefault((method, route), []).append(seconds)

    def metrics(self) -> str:
        lines = [
            "# HELP http_requests_total Requests handled, by method, route and status code.",
            "# TYPE http_requests_total counter",
        ]
        with self.lock:
            for (method, route, status), count in sorted(self.requests.items()):
                lines.append(
                    'http_requests_total{method="%s",route="%s",status="%s"} %d' % (method, route, status, count)
                )
            lines += [
                "# HELP http_request_duration_seconds Request duration.",
                "# TYPE http_request_duration_seconds histogram",
            ]
            for (method, route), values in sorted(self.durations.items()):
                labels = 'method="%s",route="%s"' % (method, route)
                for bound in BUCKETS:
                    count = sum(1 for v in values if v <= bound)
                    lines.append('http_request_duration_seconds_bucket{%s,le="%s"} %d' % (labels, bound, count))
                lines.append('http_request_duration_seconds_bucket{%s,le="+Inf"} %d' % (labels, len(values)))
                lines.append("http_request_duration_seconds_sum{%s} %.6f" % (labels, sum(values)))
                lines.append("http_request_duration_seconds_count{%s} %d" % (labels, len(values)))
        lines += [
            "# HELP app_info The running release.",
            "# TYPE app_info gauge",
            'app_info{service="%s",version="%s"} 1' % (self.name, self.version),
            "# HELP app_ready 1 when the service accepts traffic.",
            "# TYPE app_ready gauge",
            "app_ready %d" % (1 if self.ready() else 0),
        ]
        return "\n".join(lines) + "\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sdd-demo-app"
    state: State

    def log_message(self, format: str, *args: Any) -> None:
        if os.environ.get("APP_ACCESS_LOG"):
            sys.stderr.write("%s - %s\n" % (self.address_string(), format % args))

    def _send(self, status: int, body: str, content_type: str = "application/json") -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-App-Version", self.state.version)
        if self.state.draining:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        state = self.state
        start = time.monotonic()
        with state.lock:
            state.in_flight += 1
        status = 500
        try:
            status = self._route(self.path.split("?", 1)[0])
        finally:
            route = self.path.split("?", 1)[0]
            route = route if route in ROUTES else "other"
            state.observe(self.command, route, status, time.monotonic() - start)
            with state.lock:
                state.in_flight -= 1
                state.idle.notify_all()

    def _route(self, path: str) -> int:
        state = self.state
        if path == "/health/live":
            self._send(200, json.dumps({"status": "live", "version": state.version}))
            return 200
        if path == "/health/startup":
            status = 200 if state.started() else 503
            self._send(status, json.dumps({"status": "started" if status == 200 else "starting"}))
            return status
        if path == "/health/ready":
            status = 200 if state.ready() else 503
            self._send(
                status, json.dumps({"status": "ready" if status == 200 else "not ready", "version": state.version})
            )
            return status
        if path == "/metrics":
            self._send(200, state.metrics(), "text/plain; version=0.0.4")
            return 200
        if path == "/":
            delay = float(os.environ.get("APP_RESPONSE_DELAY", "0") or 0)
            if delay:
                time.sleep(delay)
            if state.fail_mode == "errors" and state.fails_next():
                self._send(500, json.dumps({"error": "this release is broken", "version": state.version}))
                return 500
            body = {
                "service": state.name,
                "version": state.version,
                "host": socket.gethostname(),
                "flags": state.flags(),
            }
            self._send(200, json.dumps(body, sort_keys=True))
            return 200
        self._send(404, json.dumps({"error": "not found"}))
        return 404


def _release(directory: str) -> Dict[str, Any]:
    path = os.path.join(directory, "release.json")
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def main(argv: Optional[List[str]] = None) -> int:
    release = _release(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--bind", default=os.environ.get("APP_BIND", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("APP_PORT", "8080")))
    parser.add_argument("--name", default=os.environ.get("APP_NAME", "demo-app"))
    parser.add_argument("--version", default=os.environ.get("APP_VERSION") or release.get("version", "0.0.0"))
    parser.add_argument(
        "--fail-mode",
        choices=("none", "readiness", "errors"),
        default=os.environ.get("APP_FAIL_MODE") or release.get("fail_mode", "none"),
    )
    parser.add_argument(
        "--startup-seconds",
        type=float,
        default=float(os.environ.get("APP_STARTUP_SECONDS") or release.get("startup_seconds", 0.2)),
    )
    parser.add_argument(
        "--error-ratio", type=float, default=float(os.environ.get("APP_ERROR_RATIO") or release.get("error_ratio", 1.0))
    )
    parser.add_argument("--flag-file", default=os.environ.get("APP_FLAG_FILE"))
    parser.add_argument("--drain-seconds", type=float, default=float(os.environ.get("APP_DRAIN_SECONDS", "10")))
    args = parser.parse_args(argv)

    state = State(
        args.name,
        str(args.version),
        args.fail_mode,
        args.startup_seconds,
        args.flag_file,
        args.drain_seconds,
        min(1.0, max(0.0, args.error_ratio)),
    )
    handler = type("BoundHandler", (Handler,), {"state": state})
    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer((args.bind, args.port), handler)
    server.daemon_threads = True

    def stop(signum: int, frame: Any) -> None:
        del signum, frame
        if state.draining:
            return
        state.draining = True

        def drain() -> None:
            deadline = time.monotonic() + state.drain_seconds
            with state.lock:
                while state.in_flight and time.monotonic() < deadline:
                    state.idle.wait(0.1)
            server.shutdown()

        threading.Thread(target=drain, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stderr.write(
        "%s %s listening on %s:%d (fail mode: %s)\n"
        % (state.name, state.version, args.bind, args.port, state.fail_mode)
    )
    sys.stderr.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
