"""Inference entry point (SageMaker scikit-learn serving / batch transform, script mode).

Ships in the same source directory as train.py, so one sourcedir.tar.gz trains and serves. Input: CSV
lines of the features (preprocess.FEATURES order, no label); output: one ``probability,churn`` line per
input line. CHURN_THRESHOLD (the model's environment) is the probability from which a customer counts as a
churner.
"""

from __future__ import annotations

import io
import os
from typing import Any

import numpy as np
from churn_model import load, predict


def model_fn(model_dir: str) -> dict[str, Any]:
    return load(model_dir)


def input_fn(body: str | bytes, content_type: str) -> np.ndarray:
    if content_type != "text/csv":
        raise ValueError(f"unsupported content type {content_type}; send text/csv")
    text = body.decode() if isinstance(body, bytes) else body
    return np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2)


def predict_fn(data: np.ndarray, model: dict[str, Any]) -> np.ndarray:
    return predict(model, data)


def output_fn(prediction: np.ndarray, accept: str) -> str:
    threshold = float(os.environ.get("CHURN_THRESHOLD", "0.5"))
    return "".join(f"{p:.4f},{int(p >= threshold)}\n" for p in prediction)
