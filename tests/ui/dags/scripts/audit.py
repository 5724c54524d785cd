"""A step with no data dependency: it runs after evaluate only through DependsOn."""

import os

os.makedirs("/opt/ml/processing/audit", exist_ok=True)
with open("/opt/ml/processing/audit/audit.txt", "w") as handle:
    handle.write("audited\n")
print("audited")
