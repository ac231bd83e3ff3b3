"""The tables of docs/benchmarks.md, in Markdown, from a results file of `make bench`.

.venv/bin/python -m bench.report [bench/results/latest.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HTTP = {
    "baseline_insert": "baseline: bare insert",
    "session_post": "1. session POST",
    "session_replay": "2. replay",
    "baseline_document": "baseline: fixed document",
    "programme_get": "3. programme GET",
    "programme_304": "3. programme 304",
    "patients_list": "4. `GET /patients/`",
    "alerts_list": "4. `GET /alerts/`",
    "session_list_200": "7. a patient's `GET /sessions/?page_size=20`, 200 logs",
    "session_list_10000": "7. a patient's `GET /sessions/?page_size=20`, 10,000 logs",
}


def markdown(report: dict[str, Any]) -> str:
    scenarios = report["scenarios"]
    lines = ["| scenario | req/s | p50 ms | p99 ms | errors |", "|---|---:|---:|---:|---:|"]
    for key, label in HTTP.items():
        if key not in scenarios:  # a run of some scenarios only (bench.run --only)
            continue
        row = scenarios[key]
        if "queries" in row:
            label = f"{label}, {row['queries']} queries"
        lines.append(
            f"| {label} | {row['rps']} | {row['p50_ms']} | {row['p99_ms']} | {row['errors']} |"
        )
    jobs = {key: row for key, row in scenarios.items() if key not in HTTP}
    if jobs:
        lines += ["", "| job | seconds | queries | peak RSS |", "|---|---:|---:|---:|"]
    for key, row in jobs.items():
        name, size = key.rsplit("_", 1)
        alerts = row.get("alerts", 0)
        label = {
            "adherence": f"5. `evaluate_adherence`, {int(size):,} ({alerts:,} alerts)",
            "adherence_sql": f"5. SQL baseline, {int(size):,}",
            "reminders": f"6. `run_reminders`, {int(size):,}, "
            f"{row.get('reminders_written', 0):,} reminders written",
        }[name]
        queries = row.get("queries", 1)
        rss = f"{row['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in row else "–"
        lines.append(f"| {label} | {row['seconds']} | {queries:,} | {rss} |")
    lines += ["", "| target | measured | result |", "|---|---:|---|"]
    for check in report["targets"]:
        lines.append(f"| {check['target']} | {check['value']} | {check['result']} |")
    return "\n".join(lines)


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/latest.json")
    sys.stdout.write(markdown(json.loads(path.read_text())) + "\n")


if __name__ == "__main__":
    main()
