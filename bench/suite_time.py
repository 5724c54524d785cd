"""Wall time of the two test speeds against their targets: ``make test-fast`` under 3 minutes and the
Airflow 3 suite of ``make test`` (``make test-af3``) under 12 minutes, both on 2 cores (issue #14).

Usage: ``.venv/bin/python bench/suite_time.py [--target test-fast|test-af3|both] [--serial]``

Each target runs once through ``make`` (so with the Makefile's pytest-xdist settings; ``--serial`` passes
``XDIST=`` for the one-worker figure), with the venv already built: the figure is the suite, not the install.
Reported per target: wall time, pytest's own duration and counts (passed, skipped, failed), the cores, and
the load average before the run and at its end; a busy machine shows up in the load, not as a faster or
slower suite. The exit status is 1 when a target is missed or its tests fail.

Results go to stdout as a markdown table and to ``bench/results/suite_time.md``, which keeps each target's
latest run (per worker count) with the commit it measured.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "suite_time.md"
TARGETS_S = {"test-fast": 180.0, "test-af3": 720.0}
SUMMARY = re.compile(r"^=*\s*(?P<counts>\d+ \w+.*) in (?P<seconds>[\d.]+)s")


@dataclass(frozen=True)
class Run:
    target: str
    wall_s: float
    pytest_s: float | None
    counts: dict[str, int]
    load_before: float
    load_after: float
    returncode: int

    @property
    def met(self) -> bool:
        return self.returncode == 0 and not self.counts.get("failed") and self.wall_s < TARGETS_S[self.target]


def parse_summary(output: str) -> tuple[dict[str, int], float | None]:
    """pytest's last summary line (``1474 passed, 3 skipped, 15 warnings in 145.56s``) -> counts, seconds."""
    for line in reversed(output.splitlines()):
        match = SUMMARY.match(line.strip())
        if match:
            counts = {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", match["counts"])}
            return counts, float(match["seconds"])
    return {}, None


def run(target: str, serial: bool) -> Run:
    command = ["make", target] + (["XDIST="] if serial else [])
    load_before = os.getloadavg()[0]
    start = time.monotonic()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - start
    counts, seconds = parse_summary(proc.stdout)
    log = Path(tempfile.gettempdir(), f"suite_time-{target}.log")
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode:
        sys.stderr.write(f"make {target} failed (exit {proc.returncode}); its whole output: {log}\n")
    return Run(target, wall, seconds, counts, load_before, os.getloadavg()[0], proc.returncode)


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:04.1f} s"


HEADER = [
    "Suite times: each target's latest run (`bench/suite_time.py`).",
    "",
    "| target | workers | wall | pytest | passed | skipped | failed | load before -> after | target | met | "
    "commit, date, cores, Python |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
]


def row(r: Run, serial: bool) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip() or "?"
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    return (f"| make {r.target} | {1 if serial else 2} | {_minutes(r.wall_s)} | "
            f"{_minutes(r.pytest_s) if r.pytest_s else '-'} | {r.counts.get('passed', 0):,} | "
            f"{r.counts.get('skipped', 0)} | {r.counts.get('failed', 0)} | {r.load_before:.2f} -> {r.load_after:.2f} | "
            f"< {_minutes(TARGETS_S[r.target])} | {'yes' if r.met else 'NO'} | {commit}{'+changes' if dirty else ''}, "
            f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, Python {platform.python_version()} |")


def merged(previous: str, rows: dict[str, str]) -> str:
    """The results table with these targets' rows replaced (or added) and the other targets' rows kept."""
    keep = {}
    for line in previous.splitlines():
        if line.startswith("| make "):
            keep[line.split("|")[1].strip() + line.split("|")[2].strip()] = line
    keep.update(rows)
    return "\n".join(HEADER + [keep[key] for key in sorted(keep)]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=["test-fast", "test-af3", "both"], default="both")
    parser.add_argument("--serial", action="store_true", help="one pytest worker (XDIST=)")
    args = parser.parse_args(argv)
    targets = ["test-fast", "test-af3"] if args.target == "both" else [args.target]
    runs = [run(target, args.serial) for target in targets]
    rows = {f"make {r.target}{1 if args.serial else 2}": row(r, args.serial) for r in runs}
    print("\n".join(HEADER + list(rows.values())))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(merged(RESULTS.read_text() if RESULTS.exists() else "", rows))
    return 0 if all(r.met for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
