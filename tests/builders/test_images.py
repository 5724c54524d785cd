"""image_uri answers what the SDK's image_uris.retrieve answers, from a table that is fresh."""

from __future__ import annotations

import json
import logging
import random
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_sagemaker_mlops import PipelineCompileError
from airflow_sagemaker_mlops.builders import image_uri
from airflow_sagemaker_mlops.builders.images import _table, frameworks

ROOT = Path(__file__).resolve().parents[2]


def test_lookup_of_known_images():
    assert image_uri("sklearn", "1.2-1", "us-east-1", instance_type="ml.m5.large") == (
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3")
    assert image_uri("xgboost", "1.7-1", "cn-north-1").endswith(".dkr.ecr.cn-north-1.amazonaws.com.cn/"
                                                                 "sagemaker-xgboost:1.7-1")


@pytest.mark.parametrize(("kwargs", "listed"), [
    ({"framework": "sklern"}, "did you mean 'sklearn'?"),
    ({"framework": "sklearn", "version": "9.9"}, "1.2-1"),
    ({"framework": "sklearn", "version": "1.2-1", "region": "mars-1"}, "eu-west-1"),
    ({"framework": "pytorch", "version": "2.1", "image_scope": "training"}, "one of cpu, gpu"),
])
def test_unknown_combination_lists_what_exists(kwargs, listed):
    with pytest.raises(PipelineCompileError) as info:
        image_uri(**kwargs)
    assert listed in str(info.value) and "test_images.py" in str(info.value)


def test_table_is_small():
    size = (ROOT / "airflow_sagemaker_mlops" / "builders" / "image_uris.json").stat().st_size
    assert size < 200_000, size


@pytest.mark.sdk
def test_table_is_fresh():
    """The table was generated from the SDK's image configuration as installed (same version, same files)."""
    pytest.importorskip("sagemaker.core")
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import gen_image_uris
    finally:
        sys.path.pop(0)
    from importlib.metadata import version

    assert _table()["sdk"] == version("sagemaker-core")
    assert _table()["config_sha256"] == gen_image_uris.config_digest(), "run python tools/gen_image_uris.py"


def _sample(count: int) -> list[dict]:
    """Every framework, a random spread of its versions, Python versions, processors and regions."""
    rng = random.Random(15)
    table = _table()
    cases = []
    for framework in frameworks():
        for scope, body in table["frameworks"][framework]["scopes"].items():
            for version, by_py in body["versions"].items():
                for py, by_processor in by_py.items():
                    for processor, (_, registry) in by_processor.items():
                        region = rng.choice(sorted(table["registries"][registry]))
                        cases.append({"framework": framework, "version": version, "region": region,
                                      "py_version": py or None, "processor": processor or None,
                                      "image_scope": scope})
    firsts = {}
    for case in cases:
        firsts.setdefault(case["framework"], case)
    return list(firsts.values()) + rng.sample(cases, min(count, len(cases)))


@pytest.mark.sdk
def test_answers_what_the_sdk_answers(monkeypatch):
    pytest.importorskip("sagemaker.core")
    code = f"""
import functools, json, logging, sys
logging.disable(logging.WARNING)
sys.path.insert(0, {str(ROOT / 'tools')!r})
from gen_image_uris import instance_for
from sagemaker.core import common_utils, image_uris
# The SDK reads botocore's endpoints.json again on every call (95% of the time of 400 calls); the same data.
common_utils._botocore_resolver = functools.lru_cache(maxsize=None)(common_utils._botocore_resolver)
out = []
for case in json.load(sys.stdin):
    out.append(image_uris.retrieve(case["framework"], case["region"], version=case["version"],
               py_version=case["py_version"], image_scope=case["image_scope"],
               instance_type=instance_for(case["processor"]) if case["processor"] else None))
print(json.dumps(out))
"""
    cases = _sample(400)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    result = subprocess.run([sys.executable, "-c", code], input=json.dumps(cases), capture_output=True, text=True,
                            check=True, timeout=300)
    expected = json.loads(result.stdout.strip().splitlines()[-1])


    ours = [image_uri(c["framework"], c["version"], c["region"], py_version=c["py_version"],
                      image_scope=c["image_scope"], processor=c["processor"]) for c in cases]
    wrong = [(c, o, e) for c, o, e in zip(cases, ours, expected, strict=True) if o != e]
    logging.getLogger(__name__).info("%d cases compared", len(cases))
    assert not wrong, wrong[:5]
    assert len(cases) > 300
