"""Results: a table for people and a JSON file for machines (bench/results/<timestamp>.json)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

RESULTS_DIR = Path(__file__).resolve().parent / "results"
IMPORT_TARGET_PER_SECOND = 2000.0
MEMORY_TARGET_MB = 300.0


def verdict(met: bool | None, failed: bool = False, shortfall: str = "") -> str:
    if failed:
        return "FAILED (errors)"
    if met is False and shortfall:
        return f"NOT met ({shortfall})"
    return {True: "met", False: "NOT met", None: "-"}[met]


def summary_rows(run: dict) -> list[dict]:
    """One row per measured number with its target and whether it was met."""
    rows = []
    for name in ("import", "refresh_unchanged"):
        result = run.get(name)
        if result:
            rate = result["entities_per_second"]
            target = IMPORT_TARGET_PER_SECOND if name == "import" else None
            rows.append({"measure": f"{name.replace('_', ' ')} ({result['entities']:,} entities)",
                         "value": f"{rate:,.0f} entities/s ({result['seconds']:.1f} s)",
                         "target": f">= {target:,.0f}/s" if target else "-",
                         "met": None if target is None else rate >= target,
                         "shortfall": f"{rate / target:.0%} of target" if target else ""})
    for latency in run.get("latency", []):
        value = (f"p50 {latency['p50_ms']:.2f} / p95 {latency['p95_ms']:.2f} / p99 {latency['p99_ms']:.2f}"
                 f" / max {latency['max_ms']:.0f} ms (n={latency['requests']})")
        if latency["failures"]:
            value += f" ({latency['failures']} failed)"
        target = latency["target_p95_ms"]
        rows.append({"measure": latency["name"], "value": value,
                     "target": f"p95 <= {target:g} ms" if target is not None else "-",
                     "met": latency["met"], "failed": bool(latency["failures"]),
                     "shortfall": f"{latency['p95_ms'] / target:.2f}x target" if target else ""})
    for moment, memory in run.get("memory", {}).items():
        peak = memory.get("VmHWM", 0.0)
        label = f"server memory {moment.replace('_', ' ')}"
        concurrent = run.get("concurrent_load")
        if moment == "after_concurrent_load" and concurrent:
            label += (f" ({concurrent['clients']} clients, {concurrent['seconds']:.0f} s, "
                      f"{concurrent['requests']:,} requests, {concurrent['failures']} failed)")
        rows.append({"measure": label,
                     "value": f"RSS {memory.get('VmRSS', 0):.0f} MB, peak {peak:.0f} MB",
                     "target": f"<= {MEMORY_TARGET_MB:.0f} MB", "met": peak <= MEMORY_TARGET_MB})
    return rows


def _row_verdict(row: dict) -> str:
    return verdict(row["met"], row.get("failed", False), row.get("shortfall", ""))


def print_table(console: Console, run: dict) -> None:
    table = Table(title=f"Flowport on {run['database']['label']} ({run['database']['server_version']})")
    for column in ("measure", "value", "target", "met"):
        table.add_column(column)
    for row in summary_rows(run):
        table.add_row(row["measure"], row["value"], row["target"], _row_verdict(row))
    console.print(table)
    for problem in run.get("problems", []):
        console.print(f"[yellow]problem:[/] {problem}")


def markdown_table(run: dict) -> str:
    """The same table as Markdown, for docs/benchmarks.md."""
    lines = ["| measure | value | target | met |", "|---|---|---|---|"]
    for row in summary_rows(run):
        lines.append(f"| {row['measure']} | {row['value']} | {row['target']} | {_row_verdict(row)} |")
    return "\n".join(lines)


def write_results(results: dict, directory: Path = RESULTS_DIR) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"{stamp}.json"
    path.write_text(json.dumps(results, indent=2))
    return path


def markdown_report(results: dict) -> str:
    """Every database's table from a results file, with the machine it ran on."""
    machine = results["machine"]
    parts = ["Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items())]
    code = results.get("code")
    if code:
        changed = ", ".join(code["uncommitted_changes"]) or "none"
        parts.append(f"Code: commit {code['commit']}, uncommitted changes in: {changed}")
    for run in results["runs"]:
        database = run["database"]
        loads = f"load average before {run['load_average_before'][0]:.2f}, after {run['load_average_after'][0]:.2f}"
        section = f"### {database['label']} ({database['server_version']}; {loads})\n\n{markdown_table(run)}"
        problems = "\n".join(f"- problem: {problem}" for problem in run.get("problems", []))
        parts.append(f"{section}\n\n{problems}" if problems else section)
    return "\n\n".join(parts)
