"""Writes the evaluation report the condition step reads (SageMaker Processing conventions)."""

import json
import os

os.makedirs("/opt/ml/processing/evaluation", exist_ok=True)
with open("/opt/ml/processing/evaluation/evaluation.json", "w") as handle:
    json.dump({"metrics": {"score": float(os.environ["SCORE"])}}, handle)
print("score", os.environ["SCORE"])
