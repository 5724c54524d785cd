"""Function steps and a notebook step for tests/local/test_engine_function_steps.py."""

from __future__ import annotations

from airflow_sagemaker_mlops import sagemaker_step

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROOT = "s3://{bucket}/fn"


def prepare(rows: int, seed: int = 0) -> dict:
    import random

    rnd = random.Random(seed)
    return {"rows": rows, "values": [round(rnd.random(), 6) for _ in range(rows)]}


def score(data: dict, threshold: float, label: str) -> dict:
    import statistics

    mean = statistics.fmean(data["values"])
    print(f"scoring {data['rows']} rows for {label}")
    return {"mean": mean, "passed": mean >= threshold, "label": label}


def step(function, bucket: str, **options):
    return sagemaker_step(image=IMAGE, s3_root_uri=ROOT.format(bucket=bucket), **options)(function)
