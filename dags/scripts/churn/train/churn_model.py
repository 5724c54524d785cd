"""The model shared by training, evaluation and inference: standardised logistic regression in numpy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


def fit(x: np.ndarray, y: np.ndarray, epochs: int, learning_rate: float) -> dict[str, Any]:
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / std
    weights, bias = np.zeros(z.shape[1]), 0.0
    for _ in range(epochs):  # full-batch gradient descent: the data set is small
        error = 1 / (1 + np.exp(-(z @ weights + bias))) - y
        weights -= learning_rate * z.T @ error / len(y)
        bias -= learning_rate * error.mean()
    return {"mean": mean.tolist(), "std": std.tolist(), "weights": weights.tolist(), "bias": bias}


def predict(model: dict[str, Any], x: np.ndarray) -> np.ndarray:
    z = (np.atleast_2d(x) - np.asarray(model["mean"])) / np.asarray(model["std"])
    return 1 / (1 + np.exp(-(z @ np.asarray(model["weights"]) + model["bias"])))


def auc(y: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U; ties count half)."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores):  # average ranks of tied scores
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    positives = y == 1
    n_pos, n_neg = positives.sum(), (~positives).sum()
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def save(model: dict[str, Any], model_dir: str) -> None:
    Path(model_dir, "model.json").write_text(json.dumps(model))


def load(model_dir: str) -> dict[str, Any]:
    return json.loads(Path(model_dir, "model.json").read_text())
