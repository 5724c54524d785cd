"""Load every core while a test runs: the Airflow components then compete for CPU as on a busy machine."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cpu_stress(workers: int | None = None) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``workers`` busy-looping processes (default: one per core), ended when the block ends."""
    processes = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                 for _ in range(workers or os.cpu_count() or 2)]
    try:
        yield processes
    finally:
        for process in processes:
            process.kill()
        for process in processes:
            process.wait()
