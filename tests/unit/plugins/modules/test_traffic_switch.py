"""traffic_switch against a real HAProxy (runtime API) and a real nginx."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from ansible_collections.sdd.devops_flow.plugins.module_utils.haproxy import RuntimeApi
from ansible_collections.sdd.devops_flow.plugins.modules import traffic_switch

MODULE = traffic_switch


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def haproxy(tmp_path):
    assert shutil.which("haproxy"), "haproxy is not installed (tests/system-packages.txt)"
    sock = tmp_path / "admin.sock"
    config = tmp_path / "haproxy.cfg"
    config.write_text(
        """
global
  stats socket {sock} mode 600 level admin
  pidfile {pid}
defaults
  mode http
  timeout connect 2s
  timeout client 10s
  timeout server 10s
frontend fe
  bind 127.0.0.1:{port}
  default_backend app
backend app
  server app1_blue 127.0.0.1:{p1} weight 100
  server app1_green 127.0.0.1:{p2} weight 0
""".format(sock=sock, pid=tmp_path / "haproxy.pid", port=free_port(), p1=free_port(), p2=free_port())
    )
    subprocess.run(["haproxy", "-c", "-f", str(config)], check=True, capture_output=True)
    subprocess.run(["haproxy", "-D", "-f", str(config)], check=True, capture_output=True)
    deadline = time.monotonic() + 5
    while not sock.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    yield str(sock)
    pid = int((tmp_path / "haproxy.pid").read_text().split()[0])
    os.kill(pid, 15)


def test_read_only(haproxy, run):
    code, result = run({"backend": "app", "socket": haproxy})
    assert code == 0 and not result["changed"]
    assert result["before"]["app1_blue"]["weight"] == 100 and result["before"]["app1_green"]["weight"] == 0
    assert result["before"]["app1_blue"]["state"] == "ready"


def test_switch_is_applied_once_then_idempotent(haproxy, run):
    servers = {"app1_green": {"weight": 100, "state": "ready"}, "app1_blue": {"state": "drain"}}
    code, result = run({"backend": "app", "socket": haproxy, "servers": servers}, diff=True)
    assert code == 0 and result["changed"]
    assert result["after"]["app1_green"]["weight"] == 100
    assert result["after"]["app1_blue"]["state"] == "drain"
    assert "app1_blue: state=ready" in result["diff"]["before"]
    assert "app1_blue: state=drain" in result["diff"]["after"]
    assert result["switch_seconds"] < 1
    code, again = run({"backend": "app", "socket": haproxy, "servers": servers})
    assert code == 0 and not again["changed"]


def test_check_mode_changes_nothing(haproxy, run):
    servers = {"app1_green": {"weight": 5}}
    code, result = run({"backend": "app", "socket": haproxy, "servers": servers}, check=True)
    assert code == 0 and result["changed"] and result["after"]["app1_green"]["weight"] == 5
    code, now = run({"backend": "app", "socket": haproxy})
    assert now["before"]["app1_green"]["weight"] == 0


def test_wait_drained_with_no_sessions(haproxy, run):
    code, result = run(
        {
            "backend": "app",
            "socket": haproxy,
            "servers": {"app1_blue": {"state": "maint"}},
            "wait_drained": True,
            "drain_timeout": 2,
        },
    )
    assert code == 0 and result["remaining_sessions"] == {}


@pytest.mark.parametrize(
    "servers,needle",
    [
        ({"nope": {"weight": 1}}, "has no server nope"),
        ({"app1_blue": {"weight": 300}}, "between 0 and 256"),
        ({"app1_blue": {"state": "off"}}, "state must be one of"),
        ({"app1_blue": {"colour": "x"}}, "unknown options colour"),
    ],
)
def test_bad_requests_fail_clearly(haproxy, run, servers, needle):
    code, result = run({"backend": "app", "socket": haproxy, "servers": servers})
    assert code == 1 and needle in result["msg"]


def test_missing_socket(run, tmp_path):
    code, result = run({"backend": "app", "socket": str(tmp_path / "none.sock")})
    assert code == 1 and "cannot connect" in result["msg"]


@pytest.fixture
def nginx(tmp_path):
    assert shutil.which("nginx") or Path("/usr/sbin/nginx").exists(), "nginx is not installed"
    upstream = tmp_path / "upstream.conf"
    port = free_port()
    config = tmp_path / "nginx.conf"
    config.write_text(
        """
pid {pid};
error_log {tmp}/error.log;
events {{}}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  include {upstream};
  server {{ listen 127.0.0.1:{port}; location / {{ proxy_pass http://app; }} }}
}}
""".format(pid=tmp_path / "nginx.pid", tmp=tmp_path, upstream=upstream, port=port)
    )
    upstream.write_text("upstream app {\n    server 127.0.0.1:9; # name=blue\n}\n")
    subprocess.run(["/usr/sbin/nginx", "-c", str(config)], check=True, capture_output=True)
    yield config, upstream
    subprocess.run(["/usr/sbin/nginx", "-c", str(config), "-s", "stop"], capture_output=True, check=False)


def test_nginx_weights_validated_and_reloaded(nginx, run):
    config, upstream = nginx
    args = {
        "lb": "nginx",
        "backend": "app",
        "nginx_upstream_file": str(upstream),
        "nginx_config": str(config),
        "servers": {"blue": {"address": "127.0.0.1:9", "weight": 9}, "green": {"address": "127.0.0.1:10", "weight": 1}},
    }
    code, result = run(args)
    assert code == 0 and result["changed"], result
    text = upstream.read_text()
    assert "server 127.0.0.1:9 weight=9; # name=blue" in text and "server 127.0.0.1:10 weight=1; # name=green" in text
    code, again = run(args)
    assert code == 0 and not again["changed"]
    bad = dict(args, servers={"green": {"address": "127.0.0.1:10;evil", "weight": 1}})
    code, result = run(bad)
    assert code == 1 and "invalid address" in result["msg"]
    assert upstream.read_text() == text


class _Ready(http.server.BaseHTTPRequestHandler):
    """Answers 200 on /ready, 503 elsewhere."""

    def do_GET(self):
        self.send_response(200 if self.path == "/ready" else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def ready_server():
    """An HTTP server on a free port that answers 200 on /ready; yields a function that binds it to a port."""
    servers = []

    def start(port):
        server = http.server.HTTPServer(("127.0.0.1", port), _Ready)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _address(sock, name):
    return RuntimeApi(sock).servers("app")[name].address


def test_ready_guard_refuses_a_server_that_does_not_answer(haproxy, run):
    green = _address(haproxy, "app1_green")
    assert green.startswith("127.0.0.1:")
    servers = {"app1_green": {"weight": 100, "state": "ready"}, "app1_blue": {"state": "drain"}}
    args = {"backend": "app", "socket": haproxy, "servers": servers, "ready_path": "/ready", "ready_timeout": 1}
    for check in (True, False):
        code, result = run(args, check=check)
        assert code == 1 and not result["changed"], result
        assert list(result["not_ready"]) == ["app1_green"] and green in result["not_ready"]["app1_green"]
        assert "traffic not moved" in result["msg"]
    # nothing moved
    code, now = run({"backend": "app", "socket": haproxy})
    assert now["before"]["app1_green"]["weight"] == 0 and now["before"]["app1_blue"]["state"] == "ready"


def test_ready_guard_lets_a_ready_server_take_the_traffic(haproxy, run, ready_server):
    ready_server(int(_address(haproxy, "app1_green").rsplit(":", 1)[1]))
    servers = {"app1_green": {"weight": 100, "state": "ready"}, "app1_blue": {"state": "drain"}}
    args = {"backend": "app", "socket": haproxy, "servers": servers, "ready_path": "/ready"}
    code, result = run(args)
    assert code == 0 and result["changed"] and "not_ready" not in result, result
    assert result["after"]["app1_green"]["weight"] == 100 and result["after"]["app1_blue"]["state"] == "drain"
    # a server that answers, but not 200, is not ready
    back = {"app1_green": {"weight": 0, "state": "maint"}, "app1_blue": {"state": "ready"}}
    run({"backend": "app", "socket": haproxy, "servers": back})
    code, result = run(dict(args, ready_path="/other"))
    assert code == 1 and "HTTP 503 on /other" in result["not_ready"]["app1_green"]


def test_ready_guard_with_nginx_asks_the_given_address(nginx, run):
    config, upstream = nginx
    before = upstream.read_text()
    args = {
        "lb": "nginx",
        "backend": "app",
        "nginx_upstream_file": str(upstream),
        "nginx_config": str(config),
        "servers": {"green": {"address": "127.0.0.1:%d" % free_port(), "weight": 1}},
        "ready_path": "/ready",
        "ready_timeout": 1,
    }
    code, result = run(args)
    assert code == 1 and list(result["not_ready"]) == ["green"]
    assert upstream.read_text() == before


def test_ready_path_must_be_a_path(haproxy, run):
    servers = {"app1_green": {"weight": 1, "state": "ready"}}
    code, result = run({"backend": "app", "socket": haproxy, "servers": servers, "ready_path": "ready"})
    assert code == 1 and "must start with /" in result["msg"]


def _state_file(tmp_path, live="blue", previous="green", versions=None):
    path = tmp_path / "state" / "app-prod.json"
    path.parent.mkdir(exist_ok=True)
    state = {"live": live, "previous": previous, "versions": versions or {"blue": "2.0.0", "green": "1.0.0"}}
    path.write_text(json.dumps(state))
    return path, state


def test_rollback_moves_the_traffic_and_records_it_in_one_call(haproxy, run, ready_server, tmp_path):
    ready_server(int(_address(haproxy, "app1_green").rsplit(":", 1)[1]))
    path, state = _state_file(tmp_path)
    args = {
        "backend": "app",
        "socket": haproxy,
        "rollback": {"state_file": str(path), "hosts": ["app1"]},
        "ready_path": "/ready",
    }
    # check mode: what would happen, nothing moved or written
    code, result = run(args, check=True)
    assert code == 0 and result["changed"] and result["state"]["live"] == "green"
    assert json.loads(path.read_text()) == state
    assert RuntimeApi(haproxy).servers("app")["app1_green"].weight == 0
    code, result = run(args, diff=True)
    assert code == 0 and result["changed"], result
    assert result["after"]["app1_green"]["weight"] == 100 and result["after"]["app1_blue"]["state"] == "drain"
    assert result["state_before"] == state
    assert json.loads(path.read_text()) == result["state"] == dict(state, live="green", previous="blue")
    # again: back to blue (a rollback of the rollback), which the guard asks first: blue does not answer
    code, result = run(dict(args, ready_timeout=1))
    assert code == 1 and list(result["not_ready"]) == ["app1_blue"], result
    assert result["state_before"]["live"] == "green" and "state" not in result
    assert json.loads(path.read_text())["live"] == "green"


@pytest.mark.parametrize(
    "content,needle",
    [
        (None, "no deployment state"),
        ({"live": "blue", "previous": None, "versions": {"blue": "1.0.0"}}, "records no previous release"),
        ({"live": "blue", "previous": "green", "versions": {"blue": "2.0.0"}}, "records no previous release"),
        ("not json", "deployment state"),
    ],
)
def test_rollback_without_a_previous_release_changes_nothing(haproxy, run, tmp_path, content, needle):
    path = tmp_path / "state.json"
    if content is not None:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    args = {"backend": "app", "socket": haproxy, "rollback": {"state_file": str(path), "hosts": ["app1"]}}
    code, result = run(args)
    assert code == 1 and needle in result["msg"] and not result.get("changed")
    assert RuntimeApi(haproxy).servers("app")["app1_blue"].weight == 100


def test_rollback_and_servers_exclude_each_other(haproxy, run, tmp_path):
    path, _state = _state_file(tmp_path)
    args = {
        "backend": "app",
        "socket": haproxy,
        "servers": {"app1_green": {"weight": 1}},
        "rollback": {"state_file": str(path), "hosts": ["app1"]},
    }
    code, result = run(args)
    assert code == 1 and "mutually exclusive" in result["msg"]


def test_rollback_with_nginx_gives_the_addresses(nginx, run, tmp_path, ready_server):
    config, upstream = nginx
    blue, green = free_port(), free_port()
    ready_server(blue)
    path, _state = _state_file(tmp_path, live="green", previous="blue")
    args = {
        "lb": "nginx",
        "backend": "app",
        "nginx_upstream_file": str(upstream),
        "nginx_config": str(config),
        "rollback": {
            "state_file": str(path),
            "hosts": ["app1"],
            "addresses": {"app1": "127.0.0.1"},
            "blue_port": blue,
            "green_port": green,
        },
        "ready_path": "/ready",
    }
    code, result = run(args)
    assert code == 0 and result["changed"], result
    text = upstream.read_text()
    assert "server 127.0.0.1:%d weight=100; # name=app1_blue" % blue in text
    assert "server 127.0.0.1:%d down; # name=app1_green" % green in text
    assert json.loads(path.read_text())["live"] == "blue"
