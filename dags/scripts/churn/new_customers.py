"""New customers to score (SageMaker Processing): features only, the shape inference.py reads.

Writes /opt/ml/processing/batch/customers.csv with ROWS rows (no header, no label), drawn like the
training data by preprocess.py (given as the job's input ``lib``).
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, "/opt/ml/processing/input/lib")  # preprocess.py, an input of the job
from preprocess import generate

rows = int(os.environ.get("ROWS", "500"))
batch = generate(rows, int(os.environ.get("SEED", "11")))[:, 1:]  # drop the label column
os.makedirs("/opt/ml/processing/batch", exist_ok=True)
np.savetxt("/opt/ml/processing/batch/customers.csv", batch, delimiter=",", fmt="%.4f")
print(f"{rows} customers to score")
