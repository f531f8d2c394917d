"""Benchmark of the deploy role: every strategy under constant load, on real hosts.

Builds the test bed of the integration tests (a load balancer and three application hosts,
network namespaces reached over SSH, HAProxy, Prometheus scraping both colours), then,
while a bounded load generator keeps keep-alive connections busy through the load
balancer, runs in turn:

    first release (1.0.0), blue-green 1.0.0 -> 2.0.0, rollback to 1.0.0 and forward again,
    canary 2.0.0 -> 3.0.0 (every step of the documents, with analysis), canary of a bad
    release (aborted by the analysis), rolling 3.0.0 -> 4.0.0

and records per run: requests, failed requests, p50/p99 latency, requests per second, the
wall time of the playbook (deploy time), when the traffic had moved (seconds from the start of
the playbook to the last answer of the old release: for a rollback, the time to restore) and
the switch time seen by clients (the seconds during which both releases answered). Prints a
Markdown table for docs/benchmarks.md.

Needs root (network namespaces) and the packages of tests/system-packages.txt:

    .venv/bin/python benchmarks/deploy.py [--connections 8] [--hold 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from conftest import ansible_env  # noqa: E402
from load import Load  # noqa: E402
from test_deploy import PORTS, RELEASES, REQ, SERVICE, _prometheus  # noqa: E402
from testbed import Testbed  # noqa: E402

APP = REPO / "examples" / "app"
BIN = Path(sys.executable).parent


def play(site: Dict[str, Any], playbook: str, extra: Sequence[str], version: str = "") -> subprocess.CompletedProcess:
    argv = [str(BIN / "ansible-playbook"), "-i", site["inventory"], playbook]
    for item in [
        "deploy_req=%s" % REQ,
        "deploy_environment=staging",
        "deploy_prometheus_url=%s" % site["prometheus"],
        *extra,
    ]:
        argv += ["-e", item]
    if version:
        argv += ["-e", "deploy_version=%s" % version]
        argv += ["-e", "deploy_artifact=%s" % (site["releases"] / ("demo-app-%s.tar.gz" % version))]
    env = ansible_env(site["tmp"])
    # as users run it: Python caches the compiled plugins (an environment that forbids this
    # recompiles the collection's plugins on every start)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=1800)


def measured(
    site: Dict[str, Any], name: str, playbook: str, extra: Sequence[str], old: str, new: str, connections: int
) -> Dict[str, Any]:
    with Load(*site["lb"], connections=connections) as load:
        time.sleep(2)
        start = time.monotonic()
        proc = play(site, playbook, extra, new if playbook.endswith("deploy") else "")
        seconds = time.monotonic() - start
        time.sleep(2)
    stats = load.stats()
    return {
        "run": name,
        "ok": proc.returncode == 0,
        "requests": stats["requests"],
        "failed": stats["failed"],
        "p50_ms": stats["p50_ms"],
        "p99_ms": stats["p99_ms"],
        "rps": stats["rps"],
        "deploy_s": round(seconds, 1),
        "switch_s": round(load.overlap(old, new), 3) if old != new else 0.0,
        "moved_s": _moved(load, old, new, start),
        "tail": proc.stdout[-3000:] if proc.returncode else "",
    }


def _moved(load: Load, old: str, new: str, start: float) -> str:
    """Seconds from the start of the playbook to the last answer of the old release, when all
    traffic had moved to the new one ("-" when it did not move: an aborted canary, a failed run)."""
    last_old, last_new = load.last_answer(old), load.last_answer(new)
    if old == new or last_old is None or last_new is None or last_new < last_old:
        return "-"
    return "%.1f" % max(0.0, last_old - start)


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections of the load (default 8)")
    parser.add_argument("--hold", type=int, default=2, help="seconds each canary step is held (default 2)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="deploy-bench-") as folder:
        tmp = Path(folder)
        releases = tmp / "releases"
        for spec in RELEASES:
            subprocess.run(
                ["bash", str(APP / "build-release.sh"), spec[0], str(releases), *spec[1:]],
                check=True,
                capture_output=True,
            )
        with Testbed(["lb1", "app1", "app2", "app3"], subnet="10.129.0", bridge="sddbr6", prefix="sbd") as bed:
            site = {
                "bed": bed,
                "tmp": tmp,
                "inventory": bed.inventory(
                    str(tmp / "hosts.ini"), groups={"lb": ["lb1"], "app": ["app1", "app2", "app3"]}
                ),
                "releases": releases,
                "lb": (bed.address("lb1"), 80),
                "prometheus": "http://%s:9090" % bed.gateway,
            }
            prometheus = _prometheus(bed, tmp)
            try:
                first = play(site, "sdd.devops_flow.deploy", [], "1.0.0")
                if first.returncode:
                    sys.stderr.write(first.stdout[-4000:])
                    return 1
                canary = ["deploy_strategy=canary", "deploy_canary_hold_seconds=%d" % args.hold]
                runs = [
                    ("blue-green 1.0.0 -> 2.0.0", "sdd.devops_flow.deploy", [], "1.0.0", "2.0.0"),
                    ("rollback 2.0.0 -> 1.0.0", "sdd.devops_flow.rollback", [], "2.0.0", "1.0.0"),
                    ("roll forward 1.0.0 -> 2.0.0", "sdd.devops_flow.rollback", [], "1.0.0", "2.0.0"),
                    ("canary 2.0.0 -> 3.0.0", "sdd.devops_flow.deploy", canary, "2.0.0", "3.0.0"),
                    ("canary of a bad release (aborted)", "sdd.devops_flow.deploy", canary, "3.0.0", "9.9.9-bad"),
                    (
                        "rolling 3.0.0 -> 4.0.0",
                        "sdd.devops_flow.deploy",
                        ["deploy_strategy=rolling"],
                        "3.0.0",
                        "4.0.0",
                    ),
                ]
                results = [measured(site, *run, args.connections) for run in runs]
            finally:
                prometheus.terminate()
                prometheus.wait(10)
    print("| Run | Playbook ok | Requests | Failed | p50 ms | p99 ms | req/s | Playbook s | Moved at s | Switch s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in results:
        print(
            "| %(run)s | %(ok)s | %(requests)d | %(failed)d | %(p50_ms).1f | %(p99_ms).1f | %(rps).0f "
            "| %(deploy_s).1f | %(moved_s)s | %(switch_s).3f |" % row
        )
    for row in results:
        if row["tail"] and "bad" not in row["run"]:
            sys.stderr.write("%s failed:\n%s\n" % (row["run"], row["tail"]))
    print("\nservice %s, %d keep-alive connections, ports %s" % (SERVICE, args.connections, PORTS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
