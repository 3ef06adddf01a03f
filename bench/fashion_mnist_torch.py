#!/usr/bin/python3
"""The main job's recipe in PyTorch, for a side-by-side comparison with examples/fashion-mnist.

    bench/fashion_mnist_torch.py [--epochs 10] [--threads 1] [--data /usr/share/datasets/fashion-mnist]
                                 [--json out.json]

The same recipe as the tapeless example: a 784-256-10 ReLU MLP, He-normal weights and zero biases
(the example's Init::he), pixels scaled to [0, 1], Adam (lr 1e-3, PyTorch's defaults otherwise),
softmax cross-entropy, batch 64 reshuffled every epoch with the last short batch kept, float32.
Training accuracy is counted from each step's own logits, as the example does. Prints one line
per epoch and the test accuracy; --json writes the figures bench/run reports: training samples
per second (the epochs' total, data shuffling included, test evaluation excluded) and the test
accuracy. Needs Debian's python3-torch and python3-numpy (run it with /usr/bin/python3).
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch


def read_idx(path, magic):
    with gzip.open(path, "rb") as f:
        data = f.read()
    if int.from_bytes(data[:4], "big") != magic:
        sys.exit(f"{path}: not an IDX file of the expected kind")
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(data[3])]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


def load(data, split):
    images = read_idx(os.path.join(data, f"{split}-images-idx3-ubyte.gz"), 0x803)
    labels = read_idx(os.path.join(data, f"{split}-labels-idx1-ubyte.gz"), 0x801)
    return torch.from_numpy(images.reshape(-1, 784).astype(np.float32) / 255.0), torch.from_numpy(labels.astype(np.int64))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x, y = load(a.data, "train")
    tx, ty = load(a.data, "t10k")

    net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    with torch.no_grad():
        for layer in (net[0], net[2]):  # He normal, zero bias: the example's Init::he
            layer.weight.normal_(0.0, math.sqrt(2.0 / layer.in_features))
            layer.bias.zero_()
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    loss_fn = torch.nn.CrossEntropyLoss()

    n = x.shape[0]
    seconds = 0.0
    for epoch in range(1, a.epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(n)
        loss_sum, hits = 0.0, 0
        for b in range(0, n, a.batch):
            idx = order[b:b + a.batch]
            xb, yb = x[idx], y[idx]
            logits = net(xb)
            loss = loss_fn(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            hits += (logits.argmax(1) == yb).sum().item()
        secs = time.perf_counter() - start
        seconds += secs
        with torch.no_grad():
            test_accuracy = (net(tx).argmax(1) == ty).float().mean().item()
        print(f"epoch {epoch:2d}: loss {loss_sum / n:.4f}, train accuracy {hits / n:.4f}, "
              f"test accuracy {test_accuracy:.4f}, {secs:.2f} s ({n / secs:.0f} samples/s)", flush=True)
    print(f"test accuracy: {100 * test_accuracy:.2f}%")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"threads": a.threads, "epochs": a.epochs, "samples_per_second": n * a.epochs / seconds,
                       "test_accuracy": test_accuracy, "torch": torch.__version__}, f)


if __name__ == "__main__":
    main()
