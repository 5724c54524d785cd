"""Writes NOTE to its output after SLEEP seconds; fails with a clear message when FAIL_WITH is set."""

import os
import sys
import time

if os.environ.get("FAIL_WITH"):
    print(os.environ["FAIL_WITH"], file=sys.stderr)
    sys.exit(3)
print(f"report: sleeping {os.environ.get('SLEEP', '0')} s", flush=True)
time.sleep(float(os.environ.get("SLEEP", "0")))
os.makedirs("/opt/ml/processing/report", exist_ok=True)
with open("/opt/ml/processing/report/note.txt", "w") as handle:
    handle.write(os.environ.get("NOTE", ""))
