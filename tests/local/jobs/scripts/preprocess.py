"""Processing: read the CSV input, split it into train and test (no third-party packages)."""

import argparse
import csv
import os

parser = argparse.ArgumentParser()
parser.add_argument("--train-ratio", type=float, default=0.75)
args = parser.parse_args()

input_dir = "/opt/ml/processing/input/data"
rows = []
for name in sorted(os.listdir(input_dir)):
    with open(os.path.join(input_dir, name), newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows.extend(reader)
cut = int(len(rows) * args.train_ratio)
for split, part in (("train", rows[:cut]), ("test", rows[cut:])):
    os.makedirs(f"/opt/ml/processing/output/{split}", exist_ok=True)
    with open(f"/opt/ml/processing/output/{split}/{split}.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(part)
print(f"rows={len(rows)} train={cut} test={len(rows) - cut} env={os.environ.get('GREETING')}")
