"""Writes bench/results.json and bench/results.md, and prints the table."""

from __future__ import annotations

import json
from pathlib import Path


def _figure(value, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value:,.1f} ms"
    return f"{value:,.0f} {unit}" if value >= 100 else f"{value:,.1f} {unit}"


def _floor_unit(result: dict) -> str:
    return (
        "ms"
        if result["unit"] in ("ms", "req/s") and "p99" in result["floor_kind"]
        else result["unit"]
    )


def table(results: list[dict]) -> str:
    lines = [
        "| scenario | target | median | p95 | queries | floor | ratio | pass |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r["skipped"]:
            lines.append(
                f"| {r['name']} | {r['target']} | - | - | - | - | - | skipped: {r['skipped']} |"
            )
            continue
        unit = r["unit"]
        p95_unit = "ms" if unit == "req/s" else unit
        verdict = {True: "PASS", False: "**FAIL**", None: "info"}[r["passed"]]
        floor = _figure(r["floor"], _floor_unit(r)) if r["floor"] else "-"
        queries = r["queries"] if r["queries"] is not None else "-"
        ratio = r["ratio"] if r["ratio"] is not None else "-"
        lines.append(
            f"| {r['name']} | {r['target']} | {_figure(r['median'], unit)} | "
            f"{_figure(r['p95'], p95_unit)} | {queries} | {floor} | {ratio} | {verdict} |"
        )
    return "\n".join(lines)


def merged(path_json: Path, new: dict) -> dict:
    """The previous results with the scenarios measured again replaced (`run.py --merge`)."""
    old = json.loads(path_json.read_text())
    if old["meta"]["size"] != new["meta"]["size"]:
        raise SystemExit(
            f"--merge: bench/results.json holds figures at {old['meta']['size']:,} cases, this "
            f"run measured {new['meta']['size']:,}; run every scenario at that size instead"
        )
    names = {row["name"] for row in new["scenarios"]}
    # Keep the table's order: re-measured rows take the place of the rows they replace.
    order = [row["name"] for row in old["scenarios"]]
    scenarios = [row for row in old["scenarios"] if row["name"] not in names]
    scenarios += new["scenarios"]
    scenarios.sort(key=lambda row: order.index(row["name"]) if row["name"] in order else 999)
    meta = old["meta"]
    meta.setdefault("merged", []).append(
        {"measured_at": new["meta"]["measured_at"], "scenarios": sorted(names)}
    )
    return {
        "meta": meta,
        "scenarios": scenarios,
        "sql": {**{k: v for k, v in old["sql"].items() if k not in names}, **new["sql"]},
        "explain": [e for e in old["explain"] if e["scenario"] not in names] + new["explain"],
        "findings": [f for f in old["findings"] if not any(f.startswith(n) for n in names)]
        + new["findings"],
    }


def write(
    path_json: Path,
    path_md: Path,
    meta: dict,
    results: list,
    explains: list,
    findings: list,
    *,
    merge: bool = False,
):
    data = {
        "meta": meta,
        "scenarios": [r.as_dict() for r in results],
        "sql": {r.name: r.sql for r in results if r.sql},
        "explain": explains,
        "findings": findings,
    }
    if merge and path_json.exists():
        data = merged(path_json, data)
    meta, explains, findings = data["meta"], data["explain"], data["findings"]
    path_json.write_text(json.dumps(data, indent=2, default=str) + "\n")
    rows = data["scenarios"]
    md = [
        f"# Sportello benchmarks at {meta['size']:,} cases",
        "",
        f"Measured {meta['measured_at']} on {meta['machine']}; PostgreSQL {meta['postgres']} "
        f"({meta['postgres_settings']}); Python {meta['python']}, Django {meta['django']}.",
        f"Database: {meta['rows_line']}. Open cases: {meta['open_line']}.",
        f"Load average (1, 5, 15 min) at start {meta.get('load_average_at_start')}, at end "
        f"{meta.get('load_average_at_end')}: the machine is shared, other jobs run beside these.",
        *(
            f"Re-measured {m['measured_at']} (`run.py --merge`): {', '.join(m['scenarios'])}."
            for m in meta.get("merged", [])
        ),
        "",
        "Each figure is the median (and p95) of repeated runs after a warm-up, beside a floor "
        "measured in the same run on the same database (see *floor*); *ratio* is figure / floor "
        "(for rates, floor rate / rate). Targets are issue 7's, set for 1,000,000 cases.",
        "",
        table(rows),
        "",
        "## Notes per scenario",
        "",
    ]
    for r in rows:
        bits = [f"floor: {r['floor_kind']}"] if r["floor_kind"] else []
        bits += r["notes"]
        extra = {k: v for k, v in r["extra"].items() if k in _SHOWN}
        if extra:
            bits.append(", ".join(f"{k}: {v}" for k, v in extra.items()))
        md.append(f"- **{r['name']}**: " + "; ".join(str(b) for b in bits))
    md += ["", "## Findings (automatic)", ""]
    md += [f"- {f}" for f in findings] or ["- none"]
    md += ["", "## Query plans", ""]
    for entry in explains:
        flag = f" — **Seq Scan on {', '.join(entry['seq_scans'])}**" if entry["seq_scans"] else ""
        md += [
            f"### {entry['title']}{flag}",
            "",
            "```sql",
            entry["sql"],
            "```",
            "",
            "```",
            entry["plan"],
            "```",
            "",
        ]
    history = path_md.parent / "history.md"
    if history.exists():
        md += ["", history.read_text().rstrip()]
    path_md.write_text("\n".join(md) + "\n")
    return table(rows)


_SHOWN = {
    "page_items",
    "count",
    "queries_page_10",
    "median_page_10",
    "median_ms_per_case",
    "sustained_cases_per_s",
    "new_case_statuses",
    "open_cases",
    "running_cases",
    "newly_due",
    "marked",
    "projected_s_for_1m",
    "read_s",
    "compute_s",
    "copy_s",
    "update_s",
    "events_s",
    "moved",
    "bytes",
    "db_planning_ms",
    "load_average",
    "queries_by_path",
    "db_execution_ms",
    "query",
    "gin_indexes",
    "path",
    "added_ms",
    "trigger_ms",
    "median_without_ms",
    "rates",
    "floor_rates",
    "per_path",
    "outcomes",
}
