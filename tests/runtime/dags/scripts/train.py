"""A training script that logs its epochs and metrics (MetricDefinitions read them), or fails at FAIL_AT."""

import os
import sys

fail_at = int(os.environ.get("FAIL_AT", "0"))
loss = 1.0
for epoch in range(1, int(os.environ.get("EPOCHS", "5")) + 1):
    loss *= 0.8
    print(f"epoch {epoch} loss={loss:.4f}", flush=True)
    if epoch == fail_at:
        print("Traceback (most recent call last):", file=sys.stderr)
        print(f"ValueError: loss diverged at epoch {epoch}", file=sys.stderr)
        sys.exit(1)
print(f"train:loss={loss:.4f}")
print("validation:auc=0.9123")
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as handle:
    handle.write(str(loss))
