"""Training without third-party packages: the score depends on lr so tuning has something to pick."""

import argparse
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--fail", type=str, default="no")
args, _ = parser.parse_known_args()
if args.fail == "yes":
    with open("/opt/ml/output/failure", "w") as handle:
        handle.write("bad hyperparameter: fail=yes")
    raise SystemExit(3)
rows = open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv")).read().splitlines()[1:]
for epoch in range(args.epochs):
    print(f"epoch={epoch} loss={1.0 / (epoch + 1):.4f}")
print(f"validation:auc={0.5 + 0.4 * min(args.lr, 1.0):.4f}")
with open("/opt/ml/model/model.json", "w") as handle:
    json.dump({"lr": args.lr, "epochs": args.epochs, "rows": len(rows)}, handle)
