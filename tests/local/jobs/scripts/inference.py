"""Inference entry point with all four handlers of the SageMaker inference toolkit."""

import json
import os


def model_fn(model_dir):
    with open(os.path.join(model_dir, "model.json")) as handle:
        return json.load(handle)


def input_fn(body, content_type):
    assert content_type == "text/csv", content_type
    assert isinstance(body, str)  # CSV and JSON bodies arrive decoded, as in the toolkit
    return [[float(v) for v in line.split(",")] for line in body.splitlines() if line.strip()]


def predict_fn(data, model):
    weights = model["weights"]
    return [sum(weights[i] * x for i, x in enumerate(row)) + model["bias"] for row in data]


def output_fn(prediction, accept):
    print(f"batch of {len(prediction)}")
    return "\n".join(f"{p:.2f}" for p in prediction)
