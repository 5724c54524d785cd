"""Training: a tiny logistic regression in numpy; prints SageMaker-style metric lines."""

import argparse
import json
import os

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=50)
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--fail", type=str, default="no")
args = parser.parse_args()

if args.fail == "yes":
    with open("/opt/ml/output/failure", "w") as handle:
        handle.write("bad hyperparameter: fail=yes")
    raise SystemExit(3)

train_dir = os.environ["SM_CHANNEL_TRAIN"]
data = np.loadtxt(os.path.join(train_dir, "train.csv"), delimiter=",", skiprows=1)
x, y = data[:, :-1], data[:, -1]
w = np.zeros(x.shape[1])
b = 0.0
for epoch in range(args.epochs):
    p = 1 / (1 + np.exp(-(x @ w + b)))
    w -= args.lr * x.T @ (p - y) / len(y)
    b -= args.lr * float(np.mean(p - y))
    if epoch % 10 == 0:
        print(f"epoch={epoch} loss={float(np.mean((p - y) ** 2)):.4f}")
accuracy = float(np.mean((p > 0.5) == y))
# The score depends on lr so that tuning has something to pick.
auc = round(0.5 + 0.4 * min(args.lr, 1.0), 4)
print(f"train:accuracy={accuracy:.4f}")
print(f"validation:auc={auc}")
np.save("/opt/ml/model/weights.npy", np.append(w, b))
with open(os.path.join(os.environ["SM_MODEL_DIR"], "meta.json"), "w") as handle:
    json.dump({"epochs": args.epochs, "lr": args.lr, "hps": json.loads(os.environ["SM_HPS"])}, handle)
with open("/opt/ml/output/data/report.txt", "w") as handle:
    handle.write(f"auc={auc}\n")
