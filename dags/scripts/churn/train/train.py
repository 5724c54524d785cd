"""Train (SageMaker Training, script mode): fit the churn model, report validation AUC, save the model.

Run as ``python train.py --epochs N --learning-rate X`` in /opt/ml/code with the channels in SM_CHANNEL_*;
``validation:auc=...`` on stdout is what the job's MetricDefinitions pick up.
"""

from __future__ import annotations

import argparse
import glob
import os

import numpy as np
from churn_model import auc, fit, predict, save


def read_channel(name: str) -> tuple[np.ndarray, np.ndarray]:
    files = sorted(glob.glob(os.path.join(os.environ[f"SM_CHANNEL_{name.upper()}"], "*.csv")))
    data = np.vstack([np.loadtxt(f, delimiter=",", ndmin=2) for f in files])
    return data[:, 1:], data[:, 0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    args = parser.parse_args()

    x, y = read_channel("train")
    model = fit(x, y, args.epochs, args.learning_rate)
    x_val, y_val = read_channel("validation")
    print(f"train:auc={auc(y, predict(model, x)):.4f}")
    print(f"validation:auc={auc(y_val, predict(model, x_val)):.4f}")
    save(model, os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))


if __name__ == "__main__":
    main()
