"""A bounded load generator: a few threads, each with one keep-alive HTTP/1.1 connection.

    with Load("10.123.0.10", 80) as load:
        ...                               # deploy, switch, roll back
    print(load.stats())                   # requests, failed, p50_ms, p99_ms, versions

A request fails when it gets no answer, an answer other than 200, or a broken
connection; each failure is kept with the time it happened (seconds from the
start) so a test can tell when failures occurred.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import Dict, List, Optional, Tuple


class Load:
    def __init__(
        self, host: str, port: int, path: str = "/", connections: int = 8, pause: float = 0.0, timeout: float = 5.0
    ) -> None:
        self.host = host
        self.port = port
        self.path = path
        self.connections = connections
        self.pause = pause
        self.timeout = timeout
        self.started = 0.0
        self.stopped = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: List[threading.Thread] = []
        self.latencies: List[float] = []
        self.failures: List[Tuple[float, str]] = []
        self.versions: Dict[str, int] = {}
        self.seen: Dict[str, List[float]] = {}

    def __enter__(self) -> Load:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.started = time.monotonic()
        for _index in range(self.connections):
            thread = threading.Thread(target=self._worker, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 1)
        self.stopped = time.monotonic()

    def _worker(self) -> None:
        conn: Optional[http.client.HTTPConnection] = None
        while not self._stop.is_set():
            if conn is None:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            begin = time.monotonic()
            try:
                conn.request("GET", self.path, headers={"Connection": "keep-alive"})
                response = conn.getresponse()
                body = response.read()
                elapsed = time.monotonic() - begin
                version = ""
                if response.status == 200:
                    try:
                        version = str(json.loads(body).get("version", ""))
                    except ValueError:
                        version = ""
                with self._lock:
                    if response.status == 200:
                        self.latencies.append(elapsed)
                        self.versions[version] = self.versions.get(version, 0) + 1
                        at = begin - self.started
                        window = self.seen.setdefault(version, [at, at])
                        window[1] = at
                    else:
                        self.failures.append((begin - self.started, "HTTP %d" % response.status))
                if response.getheader("Connection", "").lower() == "close" or response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                with self._lock:
                    self.failures.append((begin - self.started, type(exc).__name__))
                if conn is not None:
                    conn.close()
                conn = None
            if self.pause:
                time.sleep(self.pause)
        if conn is not None:
            conn.close()

    def overlap(self, old: str, new: str) -> float:
        """Seconds during which both releases answered (the switch time seen by clients)."""
        with self._lock:
            if old not in self.seen or new not in self.seen:
                return 0.0
            return max(0.0, self.seen[old][1] - self.seen[new][0])

    def last_answer(self, version: str) -> Optional[float]:
        """time.monotonic() of the last request the release answered (None when it answered none):
        once traffic has moved away from a release, when it moved."""
        with self._lock:
            window = self.seen.get(version)
            return None if window is None else self.started + window[1]

    def stats(self) -> Dict[str, object]:
        with self._lock:
            ordered = sorted(self.latencies)
            failures = list(self.failures)
            versions = dict(self.versions)
            seen = {k: [round(v[0], 3), round(v[1], 3)] for k, v in self.seen.items()}

        def percentile(p: float) -> float:
            if not ordered:
                return 0.0
            return round(1000 * ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)

        duration = (self.stopped or time.monotonic()) - self.started
        return {
            "requests": len(ordered) + len(failures),
            "failed": len(failures),
            "p50_ms": percentile(0.50),
            "p99_ms": percentile(0.99),
            "rps": round((len(ordered) + len(failures)) / duration, 1) if duration else 0.0,
            "versions": versions,
            "seen": seen,
            "failures": failures[:20],
        }
