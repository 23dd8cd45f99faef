"""Throughput of casework.sla.business_time arithmetic; prints ops/s and writes results_sla.json.

Runs on its own (`python bench/bench_sla.py`, no database) and as a scenario of `bench/run.py`,
which calls `measure()`.
"""

import json
import platform
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

# Run as `python bench/bench_sla.py` from anywhere: the project root is not on sys.path then.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from casework.sla.business_time import DEMO_WEEKLY_HOURS, BusinessCalendar, CalendarSpec  # noqa: E402

OPERATIONS = 200_000
ROME = ZoneInfo("Europe/Rome")
SPEC = CalendarSpec(weekly_hours=DEMO_WEEKLY_HOURS, holiday_subdiv="BO")


def random_instants(count: int, rng: random.Random) -> list[datetime]:
    first = int(datetime(2026, 1, 1, tzinfo=ROME).timestamp())
    last = int(datetime(2029, 1, 1, tzinfo=ROME).timestamp())
    return [datetime.fromtimestamp(rng.randrange(first, last), ROME) for _ in range(count)]


def ops_per_second(operation, arguments) -> float:
    started = time.perf_counter()
    for argument in arguments:
        operation(*argument)
    return len(arguments) / (time.perf_counter() - started)


def _floor(start: datetime, minutes: int) -> datetime:
    # What every operation does anyway: read an aware instant, build one in the calendar's zone.
    return datetime.fromtimestamp(int(start.timestamp()) + minutes * 60, ROME)


def measure(operations: int = OPERATIONS) -> dict:
    rng = random.Random(20260329)
    starts = random_instants(operations, rng)
    minutes = [rng.randint(1, 5 * 8 * 60) for _ in range(operations)]
    ends = [start + timedelta(seconds=rng.randint(0, 30 * 86400)) for start in starts]

    started = time.perf_counter()
    calendar = BusinessCalendar(SPEC)
    calendar.is_open(starts[0])
    first_build_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    calendar.is_open(datetime(2040, 6, 1, tzinfo=ROME))
    extension_years = 2040 + 1 - 2029
    extend_ms_per_year = (time.perf_counter() - started) * 1000 / extension_years
    # Measure steady state over the three years the instants fall in.
    calendar = BusinessCalendar(SPEC)
    calendar.minutes_between(starts[0], datetime(2029, 6, 1, tzinfo=ROME))

    pairs = list(zip(starts, minutes, strict=True))
    return {
        "operations": operations,
        "calendar": "Mon-Fri 09-13 14-18, Bologna holidays, instants 2026-2028",
        "add_minutes_ops_per_s": round(ops_per_second(calendar.add_minutes, pairs)),
        "minutes_between_ops_per_s": round(
            ops_per_second(calendar.minutes_between, list(zip(starts, ends, strict=True)))
        ),
        "is_open_ops_per_s": round(ops_per_second(calendar.is_open, [(s,) for s in starts])),
        "floor_ops_per_s": round(ops_per_second(_floor, pairs)),
        "first_use_build_ms": round(first_build_ms, 2),
        "extend_ms_per_year": round(extend_ms_per_year, 2),
        "python": platform.python_version(),
        "measured_at": datetime.now(ROME).isoformat(timespec="seconds"),
    }


def main() -> None:
    results = measure()
    for key, value in results.items():
        print(f"{key:28} {value}")
    (ROOT / "bench" / "results_sla.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
