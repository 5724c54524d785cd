"""Writes NOTE to its output; fails with a clear message when FAIL_WITH is set."""

import os
import sys

if os.environ.get("FAIL_WITH"):
    print(os.environ["FAIL_WITH"], file=sys.stderr)
    sys.exit(3)
os.makedirs("/opt/ml/processing/report", exist_ok=True)
with open("/opt/ml/processing/report/note.txt", "w") as handle:
    handle.write(os.environ.get("NOTE", ""))
