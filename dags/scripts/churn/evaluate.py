"""Evaluate (SageMaker Processing): score the test split with the trained model; write evaluation.json.

Inputs: /opt/ml/processing/model/model.tar.gz (the training job's artifact), /opt/ml/processing/test/*.csv
and the training source's churn_model.py in /opt/ml/processing/input/lib (one model module for both).
evaluation.json is the property file the AUC gate reads.
"""

from __future__ import annotations

import glob
import json
import os
import sys
import tarfile

import numpy as np

sys.path.insert(0, "/opt/ml/processing/input/lib")
from churn_model import auc, load, predict


def main() -> None:
    with tarfile.open("/opt/ml/processing/model/model.tar.gz") as archive:
        try:
            archive.extractall("/opt/ml/processing/model/extracted", filter="data")
        except TypeError:  # Python < 3.10.12 (the SageMaker scikit-learn 1.2 image has 3.9)
            archive.extractall("/opt/ml/processing/model/extracted")
    model = load("/opt/ml/processing/model/extracted")
    data = np.vstack([np.loadtxt(f, delimiter=",", ndmin=2)
                      for f in sorted(glob.glob("/opt/ml/processing/test/*.csv"))])
    y, scores = data[:, 0], predict(model, data[:, 1:])
    report = {"metrics": {"auc": {"value": round(auc(y, scores), 4)},
                          "accuracy": {"value": round(float(((scores >= 0.5) == y).mean()), 4)},
                          "test_rows": len(y)}}
    os.makedirs("/opt/ml/processing/evaluation", exist_ok=True)
    with open("/opt/ml/processing/evaluation/evaluation.json", "w") as handle:
        json.dump(report, handle)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
