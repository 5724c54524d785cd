"""Runs until killed; writes a marker so tests know it started."""

import os
import time

os.makedirs("/opt/ml/model", exist_ok=True)
print("started", flush=True)
for _ in range(600):
    time.sleep(0.1)
