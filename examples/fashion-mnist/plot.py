#!/usr/bin/python3
"""Draws the main job's learning curve from its CSV (examples/fashion-mnist/main.cpp, --csv).

    examples/fashion-mnist/plot.py fashion_mnist.csv fashion_mnist.svg

Left: training loss and the training and test accuracy per epoch. Right: each parameter's
gradient norm, averaged over the epoch, on a log scale, with the reference notes' healthy band
(vanishing below 1e-7, exploding above 100): stable training keeps every line flat and inside it.
Refuses a CSV without the expected columns or with a non-finite or non-positive norm.
"""
import csv
import math
import sys


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"plot.py: {path}: no epochs recorded")
    needed = ["epoch", "train_loss", "train_accuracy", "test_accuracy"]
    missing = [c for c in needed if c not in rows[0]]
    norms = [c for c in rows[0] if c.startswith("grad_norm:")]
    if missing or not norms:
        sys.exit(f"plot.py: {path}: missing columns {', '.join(missing or ['grad_norm:*'])}")
    data = {c: [float(r[c]) for r in rows] for c in needed + norms}
    for c in norms:
        bad = [v for v in data[c] if not (math.isfinite(v) and v > 0)]
        if bad:
            sys.exit(f"plot.py: {path}: column {c} holds {bad[0]} (a gradient norm must be finite and positive)")
    return data, norms


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plot.py CSV SVG")
    data, norms = read(sys.argv[1])
    import matplotlib
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "tapeless"
    import matplotlib.pyplot as plt
    epochs = data["epoch"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    left.plot(epochs, data["train_loss"], "o-", color="tab:red", label="training loss")
    left.set_xlabel("epoch")
    left.set_ylabel("training loss (cross-entropy)")
    acc = left.twinx()
    acc.plot(epochs, [100 * v for v in data["train_accuracy"]], "s-", color="tab:blue", label="training accuracy")
    acc.plot(epochs, [100 * v for v in data["test_accuracy"]], "D-", color="tab:green", label="test accuracy")
    acc.set_ylabel("accuracy, %")
    lines = left.get_lines() + acc.get_lines()
    left.legend(lines, [l.get_label() for l in lines], loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3,
                fontsize=8)
    left.set_title("learning curve")
    left.grid(True, alpha=0.3)
    for c in norms:
        right.plot(epochs, data[c], "o-", label=c.split(":", 1)[1])
    right.set_yscale("log")
    lo = min(min(data[c]) for c in norms)
    hi = max(max(data[c]) for c in norms)
    right.set_ylim(min(lo / 10, 1e-2), max(hi * 10, 1e1))
    right.set_xlabel("epoch")
    right.set_ylabel("gradient norm, mean over the epoch (log scale)")
    right.set_title(f"gradient norms: all within the healthy band 1e-7 to 100"
                    if lo >= 1e-7 and hi <= 100 else "gradient norms: OUTSIDE the healthy band 1e-7 to 100")
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=len(norms), fontsize=8)
    right.grid(True, which="both", alpha=0.3)
    fig.suptitle("Fashion-MNIST, 784-256-10 ReLU MLP trained with tapeless (examples/fashion-mnist/run)")
    fig.tight_layout()
    fig.savefig(sys.argv[2], metadata={"Date": None})
    print(f"learning curve: {sys.argv[2]}")


if __name__ == "__main__":
    main()
