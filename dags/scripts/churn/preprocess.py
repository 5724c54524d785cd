"""Preprocess (SageMaker Processing): generate a synthetic churn data set and split it.

Writes CSV files without a header, label first (the SageMaker convention for training data), to
/opt/ml/processing/{train,validation,test}/. ROWS and SEED come from the job's environment.
"""

from __future__ import annotations

import os

import numpy as np

FEATURES = ["tenure_months", "monthly_charges", "support_calls", "month_to_month", "paperless_billing"]


def generate(rows: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 73, rows).astype(float)
    charges = rng.normal(70, 25, rows).clip(15, 150)
    calls = rng.poisson(1.5, rows).astype(float)
    monthly = rng.binomial(1, 0.55, rows).astype(float)
    paperless = rng.binomial(1, 0.6, rows).astype(float)
    # Short tenure, high charges, many support calls and no contract make customers leave.
    logit = -1.0 - 0.05 * tenure + 0.02 * charges + 0.45 * calls + 1.2 * monthly + 0.3 * paperless
    churn = rng.binomial(1, 1 / (1 + np.exp(-logit))).astype(float)
    return np.column_stack([churn, tenure, charges, calls, monthly, paperless])


def main() -> None:
    rows = int(os.environ.get("ROWS", "5000"))
    data = generate(rows, int(os.environ.get("SEED", "7")))
    n_train, n_validation = int(rows * 0.7), int(rows * 0.15)
    splits = {"train": data[:n_train], "validation": data[n_train:n_train + n_validation],
              "test": data[n_train + n_validation:]}
    for name, part in splits.items():
        os.makedirs(f"/opt/ml/processing/{name}", exist_ok=True)
        np.savetxt(f"/opt/ml/processing/{name}/{name}.csv", part, delimiter=",", fmt="%.4f")
        print(f"{name}: {len(part)} rows, churn rate {part[:, 0].mean():.3f}")


if __name__ == "__main__":
    main()
