"""Touches /opt/ml through many file APIs; prints one line per check."""

import glob
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile

out = "/opt/ml/processing/output/probe"
os.makedirs(out + "/nested", exist_ok=True)
pathlib.Path(out, "p.txt").write_text("pathlib")
with open(out + "/o.txt", "w") as handle:
    handle.write(os.environ.get("JOB_TAG", "?"))
shutil.copy(out + "/o.txt", out + "/nested/copy.txt")
with tarfile.open(out + "/t.tar.gz", "w:gz") as tar:
    tar.add(out + "/nested", arcname="nested")
print("glob", sorted(os.path.basename(p) for p in glob.glob(out + "/*")))
print("exists", os.path.exists("/opt/ml/processing/input/data/data.csv"))
# A child Python process sees the same sandbox.
code = "import pathlib; pathlib.Path('/opt/ml/processing/output/probe/child.txt').write_text('child')"
subprocess.run([sys.executable, "-c", code], check=True)
# A shell command too (argv rewriting or a mount namespace, depending on the backend).
shell = subprocess.run(["/bin/sh", "-c", "cat /opt/ml/processing/input/data/data.csv > /dev/null 2>&1"])
print("shell", shell.returncode)
print("tag", os.environ.get("JOB_TAG"))
print("listing", sorted(os.listdir(out)))
