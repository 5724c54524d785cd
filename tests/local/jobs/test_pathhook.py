"""The python sandbox's /opt/ml remapping (``_pathhook.py``, run as ``sitecustomize``) on every Python it
promises (>= 3.8: the user's interpreter need not be the engine's), not only the engine's own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

import airflow_sagemaker_mlops.local.jobs as jobs

HOOK = Path(jobs.__file__).with_name("_pathhook.py")

# What a training script does with /opt/ml: pathlib (its accessor binds os functions on Python < 3.11),
# open, rename, symlink, shutil, glob, listdir with and without a path, keywords, and an import from
# /opt/ml/code. It prints what it saw; the test checks the files landed under the job's real root.
PROBE = """
import glob, json, os, pathlib, shutil, sys
model = pathlib.Path("/opt/ml/model")
model.mkdir(parents=True, exist_ok=True)
(model / "a.txt").write_text("weights")
os.rename("/opt/ml/model/a.txt", dst="/opt/ml/model/b.txt")
os.symlink("/opt/ml/model/b.txt", "/opt/ml/model/link")
shutil.copy("/opt/ml/model/b.txt", "/opt/ml/model/c.txt")
os.makedirs("/opt/ml/code", exist_ok=True)
with open(file="/opt/ml/code/helper_mod.py", mode="w") as f:
    f.write("VALUE = 42\\n")
sys.path.insert(0, "/opt/ml/code")
import helper_mod
os.chdir("/opt/ml/model")
print(json.dumps({
    "listdir": sorted(os.listdir("/opt/ml/model")),
    "cwd_listdir": sorted(os.listdir()),
    "glob": sorted(glob.glob("/opt/ml/model/*.txt")),
    "exists": model.joinpath("c.txt").exists(),
    "stat": os.stat(path="/opt/ml/model/b.txt").st_size,
    "link": os.readlink("/opt/ml/model/link"),
    "import": helper_mod.VALUE,
    "name": os.stat.__name__,
}))
"""


def _interpreters() -> list[pytest.param]:
    found = {f"{sys.version_info[0]}.{sys.version_info[1]} (the engine's)": sys.executable}
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"), "versions")
    for minor in (8, 9, 10):  # pathlib's accessor: the versions where a function wrapper broke Path.mkdir
        for candidate in sorted(pyenv.glob(f"3.{minor}.*/bin/python")) or [shutil.which(f"python3.{minor}")]:
            if candidate:
                found[f"3.{minor}"] = str(candidate)
                break
    params = [pytest.param(path, id=label) for label, path in found.items()]
    for minor in (8, 9, 10):
        if f"3.{minor}" not in found:
            params.append(pytest.param(None, id=f"3.{minor}", marks=pytest.mark.skip(
                reason=f"no Python 3.{minor} on this machine (pyenv or PATH)")))
    return params


@pytest.mark.parametrize("python", _interpreters())
def test_opt_ml_is_remapped_on_every_python_the_hook_promises(python: str, tmp_path: Path) -> None:
    hook_dir, root = tmp_path / "hook", tmp_path / "root"
    hook_dir.mkdir()
    root.mkdir()
    shutil.copyfile(HOOK, hook_dir / "sitecustomize.py")
    script = tmp_path / f"probe_{uuid.uuid4().hex}.py"
    script.write_text(PROBE)
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(hook_dir), "SAGEMAKER_LOCAL_OPT_ML": str(root)}
    proc = subprocess.run([python, str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen == {
        "listdir": ["b.txt", "c.txt", "link"],
        "cwd_listdir": ["b.txt", "c.txt", "link"],
        "glob": ["/opt/ml/model/b.txt", "/opt/ml/model/c.txt"],
        "exists": True,
        "stat": 7,
        "link": f"{root}/model/b.txt",  # the link's stored target names the real file
        "import": 42,
        "name": "stat",
    }
    assert (root / "model" / "b.txt").read_text() == "weights"
    assert (root / "model" / "link").resolve() == (root / "model" / "b.txt").resolve()
    assert (root / "code" / "helper_mod.py").is_file()
