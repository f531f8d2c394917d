"""canary_analysis against a Prometheus HTTP API answering recorded values."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.sdd.devops_flow.plugins.module_utils.prometheus import holds, parse_condition
from ansible_collections.sdd.devops_flow.plugins.modules import canary_analysis


class Api:
    """Answers /api/v1/query with the next value of a series per query text."""

    def __init__(self, series):
        self.series = {k: list(v) for k, v in series.items()}
        self.seen = []

    def __enter__(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                del args

            def do_GET(self):
                query = parse_qs(urlparse(self.path).query)["query"][0]
                api.seen.append(query)
                values = api.series.get(query, [])
                value = values.pop(0) if len(values) > 1 else (values[0] if values else None)
                result = [] if value is None else [{"metric": {}, "value": [0, str(value)]}]
                body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        return self

    def __exit__(self, *exc):
        self.server.shutdown()


METRICS = [
    {"name": "errors", "query": "error_ratio", "success_condition": "result < 0.01"},
    {"name": "p95", "query": "p95_ms", "success_condition": "result <= 500", "failure_limit": 1},
]


def run(args, capsys):
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        canary_analysis.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def test_healthy_canary_passes(capsys):
    with Api({"error_ratio": [0.0], "p95_ms": [120]}) as api:
        code, result = run({"prometheus_url": api.url, "metrics": METRICS, "count": 3, "interval": 0}, capsys)
    assert code == 0 and result["phase"] == "Successful" and len(result["measurements"]) == 6


def test_errors_fail_at_the_first_measurement(capsys):
    with Api({"error_ratio": [0.4], "p95_ms": [100]}) as api:
        code, result = run({"prometheus_url": api.url, "metrics": METRICS, "count": 5, "interval": 0}, capsys)
    assert code == 1 and result["phase"] == "Failed"
    assert len(result["measurements"]) == 1 and "errors" in result["msg"]


def test_failure_limit_tolerates_one_slow_measurement(capsys):
    with Api({"error_ratio": [0.0], "p95_ms": [900, 100, 100]}) as api:
        code, result = run({"prometheus_url": api.url, "metrics": METRICS, "count": 3, "interval": 0}, capsys)
    assert code == 0 and result["phase"] == "Successful"
    with Api({"error_ratio": [0.0], "p95_ms": [900, 900, 100]}) as api:
        code, result = run({"prometheus_url": api.url, "metrics": METRICS, "count": 3, "interval": 0}, capsys)
    assert code == 1 and result["phase"] == "Failed"


def test_no_data_is_inconclusive(capsys):
    with Api({}) as api:
        code, result = run({"prometheus_url": api.url, "metrics": METRICS[:1], "count": 1, "interval": 0}, capsys)
        assert code == 1 and result["phase"] == "Inconclusive"
        code, result = run(
            {
                "prometheus_url": api.url,
                "metrics": METRICS[:1],
                "count": 1,
                "interval": 0,
                "fail_on_inconclusive": False,
            },
            capsys,
        )
        assert code == 0 and result["phase"] == "Inconclusive"


def test_unreachable_prometheus_fails(capsys):
    code, result = run(
        {"prometheus_url": "http://127.0.0.1:9", "metrics": METRICS[:1], "count": 1, "interval": 0}, capsys
    )
    assert code == 1 and result["phase"] == "Failed" and "cannot query" in result["msg"]


@pytest.mark.parametrize("text", ["result < 1; import os", "__import__('os')", "result <", "x < 1"])
def test_conditions_are_never_evaluated_as_code(text, capsys):
    with pytest.raises(ValueError):
        parse_condition(text)
    code, result = run(
        {
            "prometheus_url": "http://127.0.0.1:9",
            "count": 1,
            "interval": 0,
            "metrics": [{"name": "m", "query": "q", "success_condition": text}],
        },
        capsys,
    )
    assert code == 1 and "not of the form" in result["msg"]


def test_condition_operators():
    assert holds("result[0] <= 5", 5) and holds("result != 1", 2) and not holds("result > 1e3", 10)
