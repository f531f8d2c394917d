"""Benchmark of generate-all.

Measures, and prints as Markdown for docs/benchmarks.md:

1. ``devops-flow generate-all`` on each bundled example, the whole command as a user
   runs it (process start included), without and with validation;
2. a synthetic set of services (200 by default, generated from the examples with
   other names, clouds and strategies), rendered in one process: total time and
   time per service for growing counts, to show the growth is linear;
3. the same files produced the way an Ansible user would do it today: a playbook
   with one ``ansible.builtin.template`` task per file (each template being the
   generated file, so the work is only the templating and writing).

    .venv/bin/python benchmarks/generate.py [--services 200] [--repeat 3] [--no-validation]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "docs"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / ".build" / "collections"))

from ansible_collections.sdd.devops_flow.plugins.module_utils.generate import Options, render  # noqa: E402
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model  # noqa: E402
from ansible_collections.sdd.devops_flow.plugins.module_utils.writer import write  # noqa: E402

SERVICES = {
    "order-intake-api": "07_REQ/REQ-14_order_intake_api.md",
    "catalog-search": "07_REQ/REQ-21_catalog_search.md",
    "ledger-events": "07_REQ/REQ-102_ledger_events.md",
}


def env() -> Dict[str, str]:
    out = dict(os.environ)
    out["PATH"] = "%s:%s" % (BIN, out.get("PATH", ""))
    out["PYTHONPATH"] = str(REPO / ".build" / "collections")
    # as users run it: Python caches the compiled modules (an environment that forbids this
    # recompiles every module on every start, about 0.45 s of each run)
    out.pop("PYTHONDONTWRITEBYTECODE", None)
    return out


def timed(fn: Callable[[], object], repeat: int) -> List[float]:
    runs = []
    for _round in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return runs


def cli_generate_all(req: Path, output: Path, validate: bool) -> None:
    argv = [str(BIN / "devops-flow"), "generate-all", "--req", str(req), "--output", str(output), "--force"]
    if not validate:
        argv.append("--no-validate")
    proc = subprocess.run(argv, capture_output=True, text=True, env=env(), check=False)
    if proc.returncode not in (0, 1):
        raise RuntimeError("generate-all failed: %s" % proc.stderr[-2000:])


def synthetic_docs(root: Path, count: int) -> List[Path]:
    """``count`` services: copies of the examples with new ids, names and strategies (the
    cloud is chosen per service when they are rendered)."""
    strategies = ["Blue-Green", "Canary", "Rolling"]
    reqs: List[Path] = []
    sources = [(EXAMPLES / rel).read_text() for rel in SERVICES.values() if "REQ-102" not in rel]
    spec_sources = [
        (EXAMPLES / "09_SPEC" / name).read_text()
        for name in ("SPEC-14_order_intake_api.yaml", "SPEC-21_catalog_search.yaml")
    ]
    (root / "07_REQ").mkdir(parents=True)
    (root / "09_SPEC").mkdir(parents=True)
    (root / "06_SYS").mkdir(parents=True)
    shutil.copy(EXAMPLES / "06_SYS" / "SYS-05_search_platform.md", root / "06_SYS")
    for i in range(count):
        number = 500 + i
        base = i % len(sources)
        text = sources[base].replace("REQ-14", "REQ-%d" % number).replace("REQ-21", "REQ-%d" % number)
        text = text.replace("Production | Canary", "Production | %s" % strategies[i % 3])
        text = text.replace("| `CLOUD_PROVIDER`", "| `UNUSED_PARAMETER`")
        req = root / "07_REQ" / ("REQ-%d_service_%d.md" % (number, i))
        req.write_text(text)
        spec = (
            spec_sources[base].replace("order_intake_api", "service_%d" % i).replace("catalog_search", "service_%d" % i)
        )
        (root / "09_SPEC" / ("SPEC-%d_service_%d.yaml" % (number, i))).write_text(spec)
        reqs.append(req)
    return reqs


def render_many(reqs: List[Path], output: Path) -> None:
    for i, req in enumerate(reqs):
        model = load_model(req=str(req), cloud=["aws", "gcp", "azure"][i % 3])
        files = render(model, Options(target="all"))
        write(files, str(output / req.stem), force=True)


def template_tasks(source: Path, work: Path, repeat: int) -> List[float]:
    """One ansible.builtin.template task per file of a generate-all tree."""
    templates = work / "templates"
    files = [p for p in source.rglob("*") if p.is_file() and ".devops-flow" not in p.parts]
    tasks = []
    for i, path in enumerate(sorted(files)):
        rel = path.relative_to(source)
        template = templates / (str(rel) + ".j2")
        template.parent.mkdir(parents=True, exist_ok=True)
        template.write_text("{% raw %}" + path.read_text(errors="replace") + "{% endraw %}")
        tasks.append(
            '    - name: File %d\n      ansible.builtin.template:\n        src: "%s"\n        dest: "%s"\n'
            '        mode: "0644"\n' % (i, template, work / "out" / rel)
        )
    dirs = sorted({str((work / "out" / p.relative_to(source)).parent) for p in files})
    playbook = work / "templates.yml"
    playbook.write_text(
        "- name: One template task per file\n  hosts: localhost\n  gather_facts: false\n"
        '  tasks:\n    - name: Folders\n      ansible.builtin.file:\n        path: "{{ item }}"\n'
        '        state: directory\n        mode: "0755"\n      loop: %s\n%s' % (dirs, "".join(tasks))
    )
    run_env = env()
    run_env.update(
        {
            "ANSIBLE_HOME": str(work / "ah"),
            "ANSIBLE_LOCAL_TEMP": str(work / "at"),
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        }
    )

    def run() -> None:
        shutil.rmtree(work / "out", ignore_errors=True)
        proc = subprocess.run(
            [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)],
            capture_output=True,
            text=True,
            env=run_env,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(proc.stdout[-2000:])

    return timed(run, repeat)


def fmt(runs: List[float]) -> str:
    return "%.2f s (median of %d, min %.2f)" % (statistics.median(runs), len(runs), min(runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-validation", action="store_true", help="skip the runs with validation (slow)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sdd-bench-"))
    lines = ["| measurement | time |", "|---|---|"]
    try:
        for name, rel in SERVICES.items():
            req = EXAMPLES / rel
            out = work / "cli" / name
            runs = timed(lambda r=req, o=out: cli_generate_all(r, o, False), args.repeat)
            lines.append("| `devops-flow generate-all --no-validate`, %s (whole command) | %s |" % (name, fmt(runs)))
            if not args.no_validation:
                runs = timed(lambda r=req, o=out: cli_generate_all(r, o, True), 1)
                lines.append("| `devops-flow generate-all` with validation, %s | %s |" % (name, fmt(runs)))
        files = len([p for p in (work / "cli" / "order-intake-api").rglob("*") if p.is_file()])
        runs = template_tasks(work / "cli" / "order-intake-api", work / "tpl", args.repeat)
        cli_runs = timed(
            lambda: cli_generate_all(EXAMPLES / SERVICES["order-intake-api"], work / "cli2", False), args.repeat
        )
        lines.append(
            "| one `ansible.builtin.template` task per file (%d files), order-intake-api | %s |" % (files, fmt(runs))
        )
        ratio = statistics.median(runs) / statistics.median(cli_runs)
        lines.append("| ratio: template tasks / generate-all | %.1fx |" % ratio)
        reqs = synthetic_docs(work / "docs", args.services)
        for count in sorted({max(1, args.services // 4), max(1, args.services // 2), args.services}):
            runs = timed(lambda c=count: render_many(reqs[:c], work / ("many-%d" % c)), 1)
            lines.append(
                "| %d synthetic services in one process, without validation | %.2f s (%.1f ms a service) |"
                % (count, runs[0], 1000 * runs[0] / count)
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
