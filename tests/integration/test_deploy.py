"""The deploy role on real hosts over SSH, behind a real HAProxy, under load.

One test bed for the module: a load balancer and three application hosts (network
namespaces with sshd), Prometheus scraping both colours of every host, and the demo
app's releases. The tests run in order, each starting from what the previous left:
blue-green v1 -> v2, idempotence and check mode, rollback (and forward again with one host's
colour stopped), a canary v2 -> v3, a canary of a bad release, rolling v3 -> v4, and a host
that dies during a rolling deployment to v5.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import REPO, ansible_env
from load import Load
from testbed import Testbed

REQ = REPO / "examples" / "docs" / "07_REQ" / "REQ-14_order_intake_api.md"
APP = REPO / "examples" / "app"
SERVICE = "order-intake-api"
BIN = Path(sys.executable).parent
PORTS = {"blue": 8080, "green": 8081}
#: The releases of the demo app the tests deploy (build-release.sh arguments).
RELEASES = (
    ["1.0.0"],
    ["2.0.0"],
    ["3.0.0"],
    ["4.0.0"],
    ["5.0.0"],
    ["9.9.9-bad", "--bad", "errors", "--error-ratio", "0.5"],
)
#: The clients of the tests: four keep-alive connections with a 10 ms pause between requests
#: (a few hundred requests per second). Enough to see a dropped request or both releases
#: answering; unpaced load would take the cores the playbook under test needs. Full load is
#: benchmarks/deploy.py's.
CLIENTS = {"connections": 4, "pause": 0.01}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The test bed, Prometheus, the releases and an inventory."""
    tmp = tmp_path_factory.mktemp("deploy")
    releases = tmp / "releases"
    for args in RELEASES:
        subprocess.run(
            ["bash", str(APP / "build-release.sh"), args[0], str(releases), *args[1:]], check=True, capture_output=True
        )
    with Testbed(["lb1", "app1", "app2", "app3"], subnet="10.124.0", bridge="sddbr1", prefix="sdp") as bed:
        inventory = bed.inventory(str(tmp / "hosts.ini"), groups={"lb": ["lb1"], "app": ["app1", "app2", "app3"]})
        prometheus = _prometheus(bed, tmp)
        try:
            yield {
                "bed": bed,
                "tmp": tmp,
                "inventory": inventory,
                "releases": releases,
                "lb": (bed.address("lb1"), 80),
                "prometheus": "http://%s:9090" % bed.gateway,
            }
        finally:
            prometheus.terminate()
            prometheus.wait(10)


def _prometheus(bed, tmp):
    config = tmp / "prometheus.yml"
    targets = {
        colour: ["'%s:%d'" % (bed.address(h), port) for h in ("app1", "app2", "app3")] for colour, port in PORTS.items()
    }
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n  - job_name: %s\n    static_configs:\n"
        % SERVICE
        + "".join(
            "      - targets: [%s]\n        labels: {colour: %s}\n" % (", ".join(t), c) for c, t in targets.items()
        )
    )
    proc = subprocess.Popen(
        [
            "prometheus",
            "--config.file=%s" % config,
            "--storage.tsdb.path=%s" % (tmp / "tsdb"),
            "--web.listen-address=%s:9090" % bed.gateway,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(bed.gateway, 9090, timeout=1)
            conn.request("GET", "/-/ready")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("Prometheus did not start")


def play(site, playbook, *extra, check=False, version=None, artifact=True):
    argv = [
        str(BIN / "ansible-playbook"),
        "-i",
        site["inventory"],
        playbook,
        "-e",
        "deploy_req=%s" % REQ,
        "-e",
        "deploy_environment=staging",
        "-e",
        "deploy_prometheus_url=%s" % site["prometheus"],
    ]
    if version:
        argv += ["-e", "deploy_version=%s" % version]
        if artifact:
            argv += ["-e", "deploy_artifact=%s" % (site["releases"] / ("demo-app-%s.tar.gz" % version))]
    for item in extra:
        argv += ["-e", item]
    if check:
        argv.append("--check")
    start = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=ansible_env(site["tmp"]), check=False, timeout=900)
    proc.seconds = time.monotonic() - start
    # every run's output is kept beside the bed's files, for a look after the test
    site["runs"] = site.get("runs", 0) + 1
    (site["tmp"] / ("run-%02d.log" % site["runs"])).write_text(proc.stdout + proc.stderr, encoding="utf-8")
    return proc


def recap(proc):
    """host -> {ok, changed, unreachable, failed, ...} from the PLAY RECAP."""
    out = {}
    for m in re.finditer(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout, re.M):
        out[m.group(1)] = {
            "ok": int(m.group(2)),
            "changed": int(m.group(3)),
            "unreachable": int(m.group(4)),
            "failed": int(m.group(5)),
        }
    return out


def state(site):
    text = site["bed"].ssh("lb1", "cat /var/lib/sdd-devops-flow/%s-staging.json" % SERVICE).stdout
    return json.loads(text)


def live_versions(site):
    """The version each application host answers on its live colour."""
    live = state(site)["live"]
    port = PORTS[live]
    out = {}
    for host in ("app1", "app2", "app3"):
        out[host] = json.loads(
            site["bed"].ssh(host, "curl -s http://%s:%d/" % (site["bed"].address(host), port)).stdout
        )["version"]
    return out


def haproxy_servers(site):
    answer = site["bed"].ssh("lb1", "echo 'show stat' | socat stdio unix-connect:/run/haproxy/admin.sock").stdout
    header = []
    rows = {}
    for line in answer.splitlines():
        if line.startswith("# "):
            header = line[2:].split(",")
        elif line and header:
            row = dict(zip(header, line.split(",")))
            if row.get("pxname") == SERVICE and row.get("svname") not in ("FRONTEND", "BACKEND"):
                rows[row["svname"]] = row
    return rows


PLAYBOOK = "sdd.devops_flow.deploy"
ROLLBACK = "sdd.devops_flow.rollback"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_first_release(site):
    # another HAProxy runs in the process table the namespaces share (that of another bed, or of the
    # machine): the role must still start the load balancer's own
    decoy = site["tmp"] / "decoy-haproxy.cfg"
    decoy.write_text(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n"
        "frontend decoy\n  bind 127.0.0.1:%d\n  http-request return status 200\n" % _free_port(),
        encoding="utf-8",
    )
    stray = subprocess.Popen(["haproxy", "-db", "-f", str(decoy)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(0.5)
        assert stray.poll() is None, stray.stderr.read()
        proc = play(site, PLAYBOOK, version="1.0.0")
    finally:
        stray.terminate()
        stray.wait(10)
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert set(live_versions(site).values()) == {"1.0.0"}
    # the flags of REQ 7.2 are served, and the scripts of 9.5.3 are on the hosts
    status = site["bed"].ssh("app1", "cat /opt/%s/shared/flags.json; ls /opt/%s/bin" % (SERVICE, SERVICE)).stdout
    assert "PARTNER_BULK_SUBMIT" in status and "deploy.sh" in status


def test_blue_green_has_no_failed_request_and_switches_in_under_a_second(site):
    with Load(*site["lb"], **CLIENTS) as load:
        time.sleep(1)
        proc = play(site, PLAYBOOK, version="2.0.0")
        time.sleep(1)
    stats = load.stats()
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert stats["failed"] == 0, stats
    assert stats["versions"].get("2.0.0", 0) > 0 and stats["requests"] > 500
    assert load.overlap("1.0.0", "2.0.0") < 1.0, stats["seen"]
    assert set(live_versions(site).values()) == {"2.0.0"}
    assert state(site)["versions"] == {"green": "1.0.0", "blue": "2.0.0"} or state(site)["versions"] == {
        "blue": "1.0.0",
        "green": "2.0.0",
    }


def test_second_run_changes_nothing(site):
    proc = play(site, PLAYBOOK, version="2.0.0")
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert all(host["changed"] == 0 for host in recap(proc).values()), proc.stdout[-3000:]


def test_check_mode_changes_nothing(site):
    before = state(site)
    proc = play(site, PLAYBOOK, version="3.0.0", check=True)
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert state(site) == before
    assert set(live_versions(site).values()) == {"2.0.0"}
    assert site["bed"].ssh("app1", "test -e /opt/%s/releases/3.0.0" % SERVICE, check=False).returncode != 0


def rollback_under_load(site):
    """Runs the rollback playbook while the clients are busy; returns it, the load and its stats."""
    with Load(*site["lb"], **CLIENTS) as load:
        time.sleep(1)
        proc = play(site, ROLLBACK)
        time.sleep(1)
    assert proc.returncode == 0, proc.stdout[-5000:]
    return proc, load, load.stats()


def test_rollback_is_fast_and_drops_nothing(site):
    proc, load, stats = rollback_under_load(site)
    assert stats["failed"] == 0, stats
    assert set(live_versions(site).values()) == {"1.0.0"}
    # the fast path: the previous colour answered its readiness path, so the traffic moved in one call
    # on the load balancer and no service was touched (the time it takes is benchmarks/deploy.py's)
    assert "not ready, traffic not moved" not in proc.stdout
    assert "Restart the program" not in proc.stdout and "Is systemd running" not in proc.stdout
    # the switch seen by clients: both releases answered for less than a second
    assert load.overlap("2.0.0", "1.0.0") < 1.0


def test_rollback_starts_a_stopped_previous_colour_first(site):
    previous = state(site)["previous"]
    site["bed"].ssh("app2", "supervisorctl stop %s-%s" % (SERVICE, previous))
    proc, _load, stats = rollback_under_load(site)
    # the readiness guard saw it, nothing moved until the colour ran again on every host
    assert "not ready, traffic not moved: app2_%s" % previous in proc.stdout
    assert stats["failed"] == 0, stats
    assert set(live_versions(site).values()) == {"2.0.0"}
    assert state(site)["live"] == previous


def canary(site, version, *extra, hold=3, count=3):
    """A canary deployment with short holds (a one-second analysis interval)."""
    return play(
        site,
        PLAYBOOK,
        "deploy_strategy=canary",
        "deploy_canary_hold_seconds=%d" % hold,
        "deploy_analysis_count=%d" % count,
        "deploy_analysis_interval=1",
        *extra,
        version=version,
    )


def test_canary_of_a_good_release_is_promoted_step_by_step(site):
    with Load(*site["lb"], **CLIENTS) as load:
        time.sleep(1)
        proc = canary(site, "3.0.0", '{"deploy_canary_steps": [50, 100]}', hold=2, count=2)
        time.sleep(1)
    stats = load.stats()
    # the analysis judged the requests of the canary, not the 503s its readiness path gave the load
    # balancer's health checks while it started
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert "idle colour 50]" in proc.stdout and "canary analysis failed" not in proc.stdout
    assert stats["failed"] == 0, stats
    assert stats["versions"].get("2.0.0", 0) > 0 and stats["versions"].get("3.0.0", 0) > 0
    assert set(live_versions(site).values()) == {"3.0.0"}


def test_canary_of_a_bad_release_aborts_at_the_first_step(site):
    live_before = state(site)["live"]
    with Load(*site["lb"], **CLIENTS) as load:
        time.sleep(2)
        proc = canary(site, "9.9.9-bad")
        ended = time.monotonic() - load.started
        time.sleep(2)
    stats = load.stats()
    assert proc.returncode != 0
    assert "was not promoted and traffic went back" in proc.stdout
    assert "canary analysis failed: error-ratio" in proc.stdout
    # the analysis failed at the first step (5 percent): no later step was set
    assert "idle colour 5]" in proc.stdout and "idle colour 25]" not in proc.stdout
    assert state(site)["live"] == live_before
    assert set(live_versions(site).values()) == {"3.0.0"}
    # the only failed requests are the canary's 500s during the first step, before the abort
    assert stats["failed"] > 0 and all(reason == "HTTP 500" for _at, reason in stats["failures"])
    assert all(at < ended for at, _reason in stats["failures"])
    share = stats["failed"] / stats["requests"]
    assert share < 0.05, stats


def test_rolling_has_no_failed_request(site):
    with Load(*site["lb"], **CLIENTS) as load:
        time.sleep(1)
        proc = play(site, PLAYBOOK, "deploy_strategy=rolling", version="4.0.0")
        time.sleep(1)
    stats = load.stats()
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert stats["failed"] == 0, stats
    assert set(live_versions(site).values()) == {"4.0.0"}
    assert stats["versions"].get("4.0.0", 0) > 0


def test_a_host_that_dies_stops_the_rollout_and_traffic_stays_on_healthy_hosts(site):
    bed = site["bed"]
    live = state(site)["live"]
    port = PORTS[live]
    stopped = threading.Event()

    def kill_app2_when_app1_is_updated():
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and not stopped.is_set():
            proc = subprocess.run(
                ["curl", "-s", "--max-time", "1", "http://%s:%d/" % (bed.address("app1"), port)],
                capture_output=True,
                text=True,
                check=False,
            )
            if '"5.0.0"' in proc.stdout:
                bed.stop_sshd("app2")
                return
            time.sleep(0.2)

    watcher = threading.Thread(target=kill_app2_when_app1_is_updated, daemon=True)
    watcher.start()
    with Load(*site["lb"], **CLIENTS) as load:
        proc = play(site, PLAYBOOK, "deploy_strategy=rolling", version="5.0.0")
        stopped.set()
        watcher.join(10)
        time.sleep(2)
        after = len(load.failures)
        time.sleep(2)
        assert len(load.failures) == after  # traffic is served after the failure
    assert proc.returncode != 0
    rec = recap(proc)
    assert rec["app2"]["unreachable"] == 1, proc.stdout[-4000:]
    assert "app3" not in rec or rec["app3"]["changed"] == 0
    servers = haproxy_servers(site)
    for host in ("app1", "app2", "app3"):
        assert servers["%s_%s" % (host, live)]["status"] == "UP", servers
    versions = {
        host: json.loads(
            subprocess.run(
                ["curl", "-s", "http://%s:%d/" % (bed.address(host), port)], capture_output=True, text=True, check=False
            ).stdout
        )["version"]
        for host in ("app1", "app2", "app3")
    }
    assert versions == {"app1": "5.0.0", "app2": "4.0.0", "app3": "4.0.0"}


@pytest.fixture(autouse=True)
def _report_timing(request):
    start = time.monotonic()
    yield
    sys.stderr.write("%s: %.1f s\n" % (request.node.name, time.monotonic() - start))
