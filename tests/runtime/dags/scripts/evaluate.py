"""Writes the evaluation report a ConditionStep reads (SageMaker Processing conventions)."""

import json
import os
import time

time.sleep(float(os.environ.get("SLEEP", "0")))

os.makedirs("/opt/ml/processing/evaluation", exist_ok=True)
with open("/opt/ml/processing/evaluation/evaluation.json", "w") as handle:
    json.dump({"metrics": {"score": float(os.environ["SCORE"])}}, handle)
print("score", os.environ["SCORE"])
