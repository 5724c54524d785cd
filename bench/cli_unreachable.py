"""Benchmark: how long ``history`` takes to fail against an endpoint nobody listens on.

    python bench/cli_unreachable.py [--repeat 3]

A port is bound and closed again (a refused connection), then ``cli.main(["history", ...])`` runs in this
process (after a warm-up, so imports are not counted) and as a fresh ``python -m airflow_sagemaker_mlops``
process (what a user waits for, imports included). Before issue 17 the interactive command used the tasks'
retry policy (13 attempts with backoff): about 100 s.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from airflow_sagemaker_mlops import cli  # noqa: E402

ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def in_process(url: str) -> float:
    started = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()) as err:
        status = cli.main(["history", "--pipeline", "p", "--endpoint-url", url])
    took = time.perf_counter() - started
    assert status == 2 and "cannot reach SageMaker" in err.getvalue(), err.getvalue()
    return took


def fresh_process(url: str) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "airflow_sagemaker_mlops", "history", "--pipeline", "p",
                             "--endpoint-url", url], env={**os.environ, **ENV, "PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True)
    took = time.perf_counter() - started
    assert result.returncode == 2 and "cannot reach SageMaker" in result.stderr, result.stderr
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.update(ENV)
    url = f"http://127.0.0.1:{closed_port()}"
    in_process(url)  # warm-up: imports, botocore's service model
    warm = [in_process(url) for _ in range(args.repeat)]
    cold = [fresh_process(url) for _ in range(args.repeat)]
    print(f"history against a closed port ({url}), best of {args.repeat}:")
    print(f"  in process, after imports: {min(warm):.2f} s (worst {max(warm):.2f} s)")
    print(f"  fresh process, imports included: {min(cold):.2f} s (worst {max(cold):.2f} s)")


if __name__ == "__main__":
    main()
