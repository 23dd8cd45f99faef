"""Issue 21's comparison: django-helpdesk 2.6.1's REST ticket create, measured on this machine.

    .venv/bin/python bench/helpdesk.py --tickets 10000 --runs 60 --warmup 10 [--json out.json]

Measured the way Sportello's intake is (bench/scenarios.py `intake`): in process, DRF's
APIClient through the REST API, after a warm-up, the median of the timed runs, each run's
statements captured. django-helpdesk lives in its own virtualenv, var/bench-helpdesk/venv
(created once and reused; --reinstall makes it again), with the Django, DRF and psycopg pip
resolves for it; the project around it is bench/helpdesk_project/, whose measure.py does the
work inside that venv on its own database (dropped and recreated each run). This script only
prepares the venv, runs measure.py, and adds the versions, the machine and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "bench" / "helpdesk_project"
VAR = ROOT / "var" / "bench-helpdesk"
VENV = VAR / "venv"
PYTHON = VENV / "bin" / "python"
HELPDESK = "django-helpdesk==2.6.1"
REQUIREMENTS = [HELPDESK, "psycopg[binary]"]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/sportello_bench_helpdesk"
_started = time.monotonic()

# What the venv holds, printed by its own interpreter as JSON.
VERSIONS_PROBE = """
import json, sys
from importlib.metadata import distributions
packages = {d.metadata["Name"]: d.version for d in distributions()}
print(json.dumps({"python": sys.version.split()[0], "packages": packages}))
"""


class Failure(Exception):
    """A step that failed, said in one line."""


def say(line: str) -> None:
    print(f"[{time.monotonic() - _started:7.1f}s] {line}", flush=True)


def machine() -> dict:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "host": platform.node(),
    }


def loadavg() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def clean_env() -> dict[str, str]:
    """The environment without Sportello's venv and settings, which must not leak in."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    env["PATH"] = os.pathsep.join([str(VENV / "bin"), env.get("PATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    return env


def installed() -> dict | None:
    """The venv's Python and packages, or None when it is missing or does not import."""
    if not PYTHON.exists():
        return None
    probe = subprocess.run(
        [str(PYTHON), "-c", VERSIONS_PROBE], capture_output=True, text=True, env=clean_env()
    )
    if probe.returncode != 0:
        return None
    return json.loads(probe.stdout)


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["(no output)"])[-1]


def ensure_venv(reinstall: bool) -> dict:
    found = None if reinstall else installed()
    if found and found["packages"].get("django-helpdesk") == HELPDESK.split("==")[1]:
        say(f"reusing {VENV.relative_to(ROOT)}")
        return found
    if reinstall or (PYTHON.exists() and found is None):
        shutil.rmtree(VENV, ignore_errors=True)
    if not PYTHON.exists():
        base = shutil.which("python3") or sys.executable
        say(f"creating {VENV.relative_to(ROOT)} ({base} -m venv)")
        VAR.mkdir(parents=True, exist_ok=True)
        made = subprocess.run([base, "-m", "venv", str(VENV)], capture_output=True, text=True)
        if made.returncode != 0:
            raise Failure(f"python3 -m venv failed: {last_line(made.stderr + made.stdout)}")
    say(f"installing {' '.join(REQUIREMENTS)} (pip)")
    pip = subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", *REQUIREMENTS],
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    if pip.returncode != 0:
        reason = last_line(pip.stderr + pip.stdout)
        if "No matching distribution" in reason or "Could not find a version" in reason:
            reason += " (is the package index reachable?)"
        raise Failure(f"pip could not install {HELPDESK}: {reason}")
    found = installed()
    if not found or found["packages"].get("django-helpdesk") != HELPDESK.split("==")[1]:
        raise Failure(f"{HELPDESK} is not importable in {VENV} after pip install")
    return found


def measure(args, url: str) -> dict:
    """Run measure.py in the venv, passing its progress through; its result as a dict."""
    env = clean_env()
    env["HELPDESK_BENCH_DATABASE_URL"] = url
    env["HELPDESK_BENCH_ERROR_LOG"] = str(VAR / "last-error.log")
    with tempfile.TemporaryDirectory(prefix="helpdesk-bench-") as work:
        out = Path(work) / "result.json"
        command = [
            str(PYTHON),
            str(PROJECT / "measure.py"),
            f"--tickets={args.tickets}",
            f"--runs={args.runs}",
            f"--warmup={args.warmup}",
            f"--out={out}",
        ]
        tail: deque[str] = deque(maxlen=20)
        with subprocess.Popen(
            command,
            cwd=PROJECT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as child:
            for line in child.stdout:
                line = line.rstrip("\n")
                tail.append(line)
                print(f"  {line}", flush=True)
        if child.returncode != 0:
            errors = [line for line in tail if line.startswith("error:")]
            raise Failure(
                errors[-1][len("error: ") :]
                if errors
                else f"measure.py exited {child.returncode}: {last_line(chr(10).join(tail))}"
            )
        return json.loads(out.read_text())


def summary_line(result: dict) -> str:
    create, floor, versions = result["create"], result["empty_drf_post"], result["versions"]
    statuses = "all 201" if create["all_201"] else f"statuses {create['status_codes']}"
    mails = "/".join(str(n) for n in create["emails_per_create"])
    return (
        f"django-helpdesk {versions['django-helpdesk']} (Django {versions['Django']}, "
        f"DRF {versions['djangorestframework']}) REST create at {result['tickets_before']:,} "
        f"tickets: median {create['median_ms']} ms = {create['per_s']} tickets/s, "
        f"p95 {create['p95_ms']} ms, {create['statements']} statements, {create['runs']} runs "
        f"{statuses}, {mails} e-mail each; empty DRF POST {floor['median_ms']} ms; "
        f"load {result['loadavg']['start'][0]} -> {result['loadavg']['end'][0]}"
    )


def side_by_side(*, tickets: int = 10000, runs: int = 200, warmup: int = 30):
    """bench/run.py's `helpdesk` group: this script run beside Sportello's intake, as a Result
    whose figure is django-helpdesk's creates per second (information: the intake's target is
    measured against it)."""
    from bench.scenarios import Result

    result = Result(
        name="django-helpdesk 2.6.1 REST create of a bare ticket (side by side, information)",
        target="no target: the intake's comparison",
        unit="tickets/s",
    )
    out = VAR / "side-by-side.json"
    command = [sys.executable, str(Path(__file__)), f"--tickets={tickets}", f"--runs={runs}"]
    command += [f"--warmup={warmup}", f"--json={out}"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0 or not out.exists():
        result.skipped = last_line(done.stderr or done.stdout) or f"exit {done.returncode}"
        return result
    figures = json.loads(out.read_text())
    result.median = figures["per_s"]
    result.p95 = round(1000 / figures["p95_ms"], 1)
    result.queries = figures["statements"]
    result.floor = round(1000 / figures["empty_drf_post"]["median_ms"], 1)
    result.floor_kind = "its own empty DRF POST, as requests/s"
    result.extra.update({"median_ms": figures["median_ms"], "tickets": tickets})
    result.notes.append(summary_line(figures))
    out.unlink()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10000, help="tickets loaded first")
    parser.add_argument("--runs", type=int, default=60, help="timed creates")
    parser.add_argument("--warmup", type=int, default=10, help="untimed creates before them")
    parser.add_argument("--json", type=Path, help="write the figures there")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("HELPDESK_BENCH_DATABASE_URL", DEFAULT_URL),
        help="dropped and recreated on every run (default %(default)s)",
    )
    parser.add_argument("--reinstall", action="store_true", help="make the venv again")
    args = parser.parse_args()
    if args.runs < 1 or args.warmup < 0 or args.tickets < 0:
        parser.error("--runs must be at least 1, --warmup and --tickets not negative")

    started_at = datetime.now(UTC)
    load_start = loadavg()
    say(f"django-helpdesk bench: {args.tickets} tickets, {args.warmup} + {args.runs} creates")
    try:
        venv = ensure_venv(args.reinstall)
        packages = venv["packages"]
        versions = {
            name: packages.get(name)
            for name in ("django-helpdesk", "Django", "djangorestframework", "psycopg")
        }
        versions["python"] = venv["python"]
        say("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
        result = measure(args, args.database_url)
    except Failure as failure:
        print(f"error: {failure}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr, flush=True)
        return 130
    versions["postgres"] = result.pop("postgres")
    create = result["create"]
    payload = {
        "what": "django-helpdesk REST create of a bare ticket, in process (DRF APIClient)",
        "median_ms": create["median_ms"],
        "p95_ms": create["p95_ms"],
        "per_s": create["per_s"],
        "statements": create["statements"],
        "all_201": create["all_201"],
        "runs": args.runs,
        "warmup": args.warmup,
        "tickets": args.tickets,
        **result,
        "versions": versions,
        "venv_packages": dict(sorted(packages.items(), key=lambda kv: kv[0].lower())),
        "database": args.database_url,
        "machine": machine(),
        "loadavg": {"start": load_start, "end": loadavg()},
        "measured_at": started_at.isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - _started, 1),
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        say(f"wrote {args.json}")
    print(summary_line(payload), flush=True)
    return 0 if create["all_201"] else 2


if __name__ == "__main__":
    sys.exit(main())
