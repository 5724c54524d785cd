"""Training: dumps what the job sees (config files, SM_* variables, argv) into the model dir."""

import json
import os
import pathlib
import sys

config = pathlib.Path("/opt/ml/input/config")
seen = {
    "argv": sys.argv[1:],
    "cwd_files": sorted(os.listdir(".")),
    "config": {p.name: json.loads(p.read_text()) for p in sorted(config.glob("*.json"))},
    "env": {
        k: v for k, v in os.environ.items() if k.startswith("SM_") or k.startswith("AWS_") or k == "TRAINING_JOB_NAME"
    },
    "channel_files": sorted(
        str(p.relative_to("/opt/ml/input/data")) for p in pathlib.Path("/opt/ml/input/data").rglob("*") if p.is_file()
    ),
}
pathlib.Path("/opt/ml/model/seen.json").write_text(json.dumps(seen))
print("seen written")
