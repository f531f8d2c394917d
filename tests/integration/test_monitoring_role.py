"""The monitoring role (playbook sdd.devops_flow.monitoring) on real hosts over SSH.

One test bed for the module: a monitoring host (``mon1``: Prometheus, Alertmanager and a
node exporter, from the Debian packages, run by supervisor) and two application hosts
(``app1``, ``app2``: a node exporter each, and the demo app started by the test on the
blue and green ports).  Alertmanager's Slack receiver of the example documents posts to
a small HTTP server of the test on the bridge address: its URL is the receiver
credential ``slack_api_url``, given to the role as a secret.

The tests run in order, each starting from what the previous left:
check mode on fresh hosts changes nothing -> the playbook configures everything and
Prometheus scrapes both colours of every application host and every node exporter ->
a second run reports changed=0 -> a configuration change (another ``for`` of TargetDown,
another Alertmanager group_interval) reloads Prometheus and Alertmanager without
restarting them -> the app stopped on a host fires the generated TargetDown alert, which
reaches the webhook; it resolves when the app returns.

Intervals and ``for`` durations are the role's overrides (1s scrapes and evaluations,
TargetDown after 2s, 1s Alertmanager grouping), so the alert test takes seconds.

    PYTHONPATH=.build/collections .venv/bin/pytest -p no:cacheprovider tests/integration/test_monitoring_role.py -x
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest
from conftest import REPO, ansible_env
from testbed import Testbed

REQ = REPO / "examples" / "docs" / "07_REQ" / "REQ-14_order_intake_api.md"
APP = REPO / "examples" / "app" / "app.py"
SERVICE = "order-intake-api"
BIN = Path(sys.executable).parent
PLAYBOOK = "sdd.devops_flow.monitoring"
APP_HOSTS = ("app1", "app2")
PORTS = {"blue": 8080, "green": 8081}
# The receiver credential: a token in the URL path that must never show in Ansible's output.
TOKEN = "hook-Secret-4d7e2a9c"
PROGRAMS = ("/usr/bin/prometheus", "/usr/bin/promtool", "/usr/bin/prometheus-alertmanager", "/usr/bin/amtool")
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"


# --------------------------------------------------------------------------- servers of the test


class Webhook:
    """A tiny HTTP server on the bridge address that records every JSON body posted to it."""

    def __init__(self, address: str) -> None:
        posts: List[Dict[str, Any]] = []
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                try:
                    data = json.loads(body.decode("utf-8"))
                except ValueError:
                    data = {"raw": body.decode("utf-8", "replace")}
                with lock:
                    posts.append({"time": time.monotonic(), "path": self.path, "body": data})
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                return

        self.posts = posts
        self.lock = lock
        self.server = ThreadingHTTPServer((address, 0), Handler)
        self.url = "http://%s:%d" % (address, self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def received(self) -> List[Dict[str, Any]]:
        with self.lock:
            return list(self.posts)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def start_app(bed: Testbed, host: str, colour: str) -> int:
    """The demo app on a colour's port of a host (its own address), detached; returns its pid."""
    port = PORTS[colour]
    script = (
        "nohup /usr/bin/python3 %s --bind %s --port %d --name %s --version 1.0.0 "
        ">/var/log/demo-%s.log 2>&1 </dev/null & echo $!"
    ) % (APP, bed.address(host), port, SERVICE, colour)
    pid = int(bed.run(host, ["setsid", "sh", "-c", script]).stdout.split()[-1])
    wait_for(
        lambda: _get("http://%s:%d/health/ready" % (bed.address(host), port)) is not None,
        20,
        "the demo app on %s:%d" % (host, port),
    )
    return pid


def _get(url: str, timeout: float = 2) -> Optional[bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 - a test bed address
            return answer.read()
    except OSError:
        return None


def wait_for(check: Callable[[], Any], timeout: float, what: str, step: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


# --------------------------------------------------------------------------- the site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    missing = [p for p in (*PROGRAMS, NODE_EXPORTER, "/usr/bin/supervisord") if not os.access(p, os.X_OK)]
    if missing:
        raise RuntimeError(
            "missing %s: install prometheus, prometheus-alertmanager, prometheus-node-exporter and supervisor "
            "(tests/system-packages.txt)" % ", ".join(missing)
        )
    if shutil.which("ansible-playbook", path=str(BIN)) is None:
        raise RuntimeError("ansible-playbook is not installed in %s" % BIN)
    tmp = tmp_path_factory.mktemp("monitoring")
    with Testbed(["mon1", *APP_HOSTS], subnet="10.126.0", bridge="sddbr3", prefix="smo") as bed:
        inventory = bed.inventory(str(tmp / "hosts.ini"), groups={"monitoring": ["mon1"], "app": list(APP_HOSTS)})
        for host in bed.hosts:
            # the machine's shell start-up files (pyenv) would run at every SSH command of every task
            bed.run(host, ["sh", "-c", ": > /root/.bashrc"])
        hook = Webhook(bed.gateway)
        try:
            settings = {
                "monitoring_req": str(REQ),
                "monitoring_scrape_interval": "1s",
                "monitoring_evaluation_interval": "1s",
                "monitoring_alert_for": {"TargetDown": "5s"},
                "monitoring_group_wait": "1s",
                "monitoring_group_interval": "2s",
                "monitoring_alertmanager_secrets": {"slack_api_url": "%s/services/T0/B0/%s" % (hook.url, TOKEN)},
            }
            extra = tmp / "settings.json"
            extra.write_text(json.dumps(settings))
            # the settings of the configuration change (and of the alert test)
            changed = tmp / "changed.json"
            changed.write_text(
                json.dumps(
                    {**settings, "monitoring_alert_for": {"TargetDown": "2s"}, "monitoring_group_interval": "1s"}
                )
            )
            apps = {(host, colour): start_app(bed, host, colour) for host in APP_HOSTS for colour in PORTS}
            yield {
                "bed": bed,
                "tmp": tmp,
                "inventory": inventory,
                "extra": extra,
                "changed": changed,
                "hook": hook,
                "apps": apps,
                "prometheus": "http://%s:9090" % bed.address("mon1"),
                "alertmanager": "http://%s:9093" % bed.address("mon1"),
                "outputs": [],
            }
        finally:
            hook.stop()


def play(site: Dict[str, Any], *args: str, extra: str = "extra") -> subprocess.CompletedProcess:
    argv = [str(BIN / "ansible-playbook"), "-i", site["inventory"], PLAYBOOK, "-e", "@%s" % site[extra], *args]
    start, cpu, remote = time.monotonic(), children_cpu(), hosts_cpu(site["bed"])
    proc = subprocess.run(argv, capture_output=True, text=True, env=ansible_env(site["tmp"]), check=False, timeout=600)
    proc.seconds = time.monotonic() - start  # type: ignore[attr-defined]
    close_connections(site["tmp"] / "cp")
    # on a busy machine the wall time is mostly waiting for a core: the CPU is what a run costs
    proc.cpu = "controller CPU %.1fs, hosts CPU %.1fs" % (  # type: ignore[attr-defined]
        children_cpu() - cpu,
        hosts_cpu(site["bed"]) - remote,
    )
    site["outputs"].append(proc.stdout + proc.stderr)
    return proc


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def close_connections(control_dir: Path) -> None:
    """End Ansible's persistent SSH connections (their sessions' CPU is counted when they end)."""
    for socket_path in control_dir.glob("*"):
        subprocess.run(
            ["ssh", "-O", "exit", "-o", "ControlPath=%s" % socket_path, "host"], capture_output=True, check=False
        )
    time.sleep(0.2)


def hosts_cpu(bed: Testbed) -> float:
    """CPU seconds of the ended SSH sessions of every host (Ansible's modules; the daemons they start leave
    their sessions): the listening sshd's own and its reaped children's time."""
    total = 0
    for host in bed.hosts.values():
        with open("/proc/%d/stat" % bed._sshd_pid(host)) as handle:
            total += sum(int(f) for f in handle.read().rsplit(")", 1)[1].split()[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def recap(proc: subprocess.CompletedProcess) -> Dict[str, Dict[str, int]]:
    """host -> {ok, changed, unreachable, failed} from the PLAY RECAP."""
    out = {}
    for m in re.finditer(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout, re.M):
        out[m.group(1)] = {
            "ok": int(m.group(2)),
            "changed": int(m.group(3)),
            "unreachable": int(m.group(4)),
            "failed": int(m.group(5)),
        }
    return out


def snapshot(bed: Testbed, host: str) -> Dict[str, Tuple[int, int, float]]:
    """Every file a host changed (its overlay's upper layers): path -> (mode, size, mtime).
    Ansible's own temporary files are left out."""
    root = Path(bed.dir) / host / "upper"
    out = {}
    for path in root.rglob("*"):
        relative = "/" + str(path.relative_to(root))
        if relative.startswith("/root/.ansible"):
            continue
        info = path.lstat()
        out[relative] = (info.st_mode, info.st_size, info.st_mtime)
    return out


def api(base: str, path: str, **query: str) -> Any:
    url = "%s%s%s" % (base, path, ("?" + urllib.parse.urlencode(query)) if query else "")
    body = _get(url)
    return json.loads(body.decode("utf-8")) if body else None


def query(site: Dict[str, Any], promql: str) -> List[Dict[str, Any]]:
    answer = api(site["prometheus"], "/api/v1/query", query=promql)
    return answer["data"]["result"] if answer and answer.get("status") == "success" else []


def slack_posts(site: Dict[str, Any], status: str) -> List[Dict[str, Any]]:
    """Slack messages of the TargetDown alert with a title like ``[FIRING:2] TargetDown ...`` or ``[RESOLVED] ...``."""
    out = []
    for post in site["hook"].received():
        if not post["path"].endswith("/" + TOKEN):
            continue
        for attachment in post["body"].get("attachments") or []:
            title = attachment.get("title", "")
            if title.startswith("[%s" % status) and "TargetDown" in title:
                out.append({"time": post["time"], "title": title, "text": attachment.get("text", "")})
    return out


# --------------------------------------------------------------------------- tests


def test_check_mode_on_fresh_hosts_changes_nothing(site: Dict[str, Any]) -> None:
    bed = site["bed"]
    before = {host: snapshot(bed, host) for host in bed.hosts}
    proc = play(site, "--check", "--diff")
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
    assert recap(proc)["mon1"]["changed"] > 0, proc.stdout[-3000:]
    after = {host: snapshot(bed, host) for host in bed.hosts}
    for host in bed.hosts:
        added = sorted(set(after[host]) - set(before[host]))
        changed = sorted(p for p in before[host] if after[host].get(p) != before[host][p])
        assert not added and not changed, (host, added, changed)
    assert _get(site["prometheus"] + "/-/ready") is None
    print("check mode on fresh hosts: %.1fs (%s)" % (proc.seconds, proc.cpu))


def test_playbook_configures_prometheus_alertmanager_and_node_exporters(site: Dict[str, Any]) -> None:
    bed = site["bed"]
    proc = play(site)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    print("first run: %.1fs (%s)" % (proc.seconds, proc.cpu))
    # both colours of every application host, with their colour label, under job = the service name
    expected = {(bed.address(h), c) for h in APP_HOSTS for c in PORTS}

    def app_targets_up() -> bool:
        series = query(site, 'up{job="%s"} == 1' % SERVICE)
        seen = {(s["metric"]["instance"].rsplit(":", 1)[0], s["metric"].get("colour")) for s in series}
        return seen == expected

    wait_for(app_targets_up, 20, "Prometheus to scrape both colours of every application host")
    versions = query(site, 'app_info{job="%s"}' % SERVICE)
    assert {(s["metric"]["host"], s["metric"]["colour"]) for s in versions} == {
        (h, c) for h in APP_HOSTS for c in PORTS
    }, versions
    # the node exporter of every host
    wait_for(lambda: len(query(site, 'up{job="node"} == 1')) == 3, 20, "the three node exporters")
    # the generated rules, with the role's overrides
    rules = api(site["prometheus"], "/api/v1/rules")["data"]["groups"]
    alerts = {r["name"]: r for g in rules for r in g["rules"] if r["type"] == "alerting"}
    assert {"TargetDown", "ServiceDown", "ErrorRate", "P95Latency"} <= set(alerts), sorted(alerts)
    assert alerts["TargetDown"]["duration"] == 5
    # Alertmanager runs the generated configuration, without a cluster listener
    status = api(site["alertmanager"], "/api/v2/status")
    assert "%s-slack-email" % SERVICE in status["config"]["original"]
    assert status["cluster"]["status"] == "disabled"
    listening = bed.run("mon1", ["ss", "-Hltn"]).stdout
    assert ":9094" not in listening and ":9093" in listening and ":9090" in listening
    # every file came through its checker and the credential is only in its file
    files = bed.ssh(
        "mon1",
        "ls /etc/prometheus/rules /etc/prometheus/targets; stat -c '%a %U:%G' /etc/alertmanager/secrets/slack_api_url; "
        "head -1 /etc/prometheus/prometheus.yml",
    ).stdout
    assert "%s.rules.yml" % SERVICE in files and "node-exporter.json" in files
    assert "640 root:prometheus" in files and "Generated by sdd.devops_flow" in files
    leaks = bed.ssh("mon1", "grep -rl %s /etc/prometheus /etc/supervisor /var/log/prometheus || true" % TOKEN).stdout
    assert leaks.strip() == "", leaks


def test_second_run_changes_nothing(site: Dict[str, Any]) -> None:
    proc = play(site)
    assert proc.returncode == 0, proc.stdout[-5000:]
    print("second run: %.1fs (%s)" % (proc.seconds, proc.cpu))
    counts = recap(proc)
    assert set(counts) == {"mon1", *APP_HOSTS}
    assert all(host["changed"] == 0 for host in counts.values()), proc.stdout[-4000:]


def _pids(bed: Testbed) -> Dict[str, str]:
    return {
        name: bed.run("mon1", ["supervisorctl", "pid", name]).stdout.strip()
        for name in ("prometheus", "prometheus-alertmanager")
    }


def _loaded_at(url: str, metric: str) -> float:
    text = (_get(url + "/metrics") or b"").decode("utf-8")
    match = re.search(r"(?m)^%s (\S+)$" % metric, text)
    return float(match.group(1)) if match else 0.0


def test_a_configuration_change_reloads_without_restart(site: Dict[str, Any]) -> None:
    bed = site["bed"]
    pids = _pids(bed)
    prometheus_before = _loaded_at(site["prometheus"], "prometheus_config_last_reload_success_timestamp_seconds")
    alertmanager_before = _loaded_at(site["alertmanager"], "alertmanager_config_last_reload_success_timestamp_seconds")
    proc = play(site, "--limit", "mon1", extra="changed")
    assert proc.returncode == 0, proc.stdout[-5000:]
    print("configuration change on the monitoring host: %.1fs (%s)" % (proc.seconds, proc.cpu))
    assert recap(proc)["mon1"]["changed"] > 0
    # the same processes, each with a newer successful load
    assert _pids(bed) == pids and all(pid.isdigit() for pid in pids.values()), pids
    assert _loaded_at(site["prometheus"], "prometheus_config_last_reload_success_timestamp_seconds") > (
        prometheus_before
    )
    assert _loaded_at(site["alertmanager"], "alertmanager_config_last_reload_success_timestamp_seconds") > (
        alertmanager_before
    )
    for handler in ("Reload Prometheus under supervisor", "Reload Alertmanager under supervisor"):
        assert re.search(r"RUNNING HANDLER \[[^]]*%s\]" % handler, proc.stdout), handler
    rules = api(site["prometheus"], "/api/v1/rules", type="alert")["data"]["groups"]
    assert [r["duration"] for g in rules for r in g["rules"] if r["name"] == "TargetDown"] == [2]
    assert "group_interval: 1s" in api(site["alertmanager"], "/api/v2/status")["config"]["original"]


def test_target_down_alert_fires_reaches_the_webhook_and_resolves(site: Dict[str, Any]) -> None:
    bed = site["bed"]
    assert not slack_posts(site, "FIRING"), "an alert fired while every target was up"
    stopped = time.monotonic()
    for colour in PORTS:
        os.kill(site["apps"][("app1", colour)], signal.SIGKILL)
    fired = wait_for(lambda: slack_posts(site, "FIRING"), 40, "the TargetDown notification")
    print("TargetDown reached the webhook %.1fs after the app stopped" % (fired[0]["time"] - stopped))
    assert "app1" in fired[0]["title"] + fired[0]["text"], fired[0]
    assert "app2" not in fired[0]["title"], fired[0]
    firing = query(site, 'ALERTS{alertname="TargetDown",alertstate="firing"}')
    assert {s["metric"]["host"] for s in firing} == {"app1"}
    assert {s["metric"]["colour"] for s in firing} == set(PORTS)
    for colour in PORTS:
        site["apps"][("app1", colour)] = start_app(bed, "app1", colour)
    back = time.monotonic()
    wait_for(lambda: len(query(site, 'up{job="%s",host="app1"} == 1' % SERVICE)) == 2, 20, "app1's targets up again")
    up = time.monotonic()
    resolved = wait_for(lambda: slack_posts(site, "RESOLVED"), 40, "the resolved notification")
    print(
        "app1 scraped again %.1fs after the app returned; the resolved notification came %.1fs after that"
        % (up - back, resolved[0]["time"] - up)
    )
    assert "app1" in resolved[0]["title"] + resolved[0]["text"], resolved[0]
    assert not query(site, 'ALERTS{alertname="TargetDown"}')


def test_secrets_never_show_in_ansible_output(site: Dict[str, Any]) -> None:
    assert len(site["outputs"]) >= 3
    for output in site["outputs"]:
        assert TOKEN not in output
