#!/usr/bin/python3
"""The main job's recipe in PyTorch, for a side-by-side comparison with examples/fashion-mnist.

    bench/fashion_mnist_torch.py [--epochs 10] [--threads 1] [--seed 1] [--init init.safetensors]
                                 [--data /usr/share/datasets/fashion-mnist] [--json out.json]

The same recipe as the tapeless example: a 784-256-10 ReLU MLP, He-normal weights and zero biases
(the example's Init::he), pixels scaled to [0, 1], Adam (lr 1e-3, PyTorch's defaults otherwise),
softmax cross-entropy, batch 64 reshuffled every epoch with the last short batch kept, float32.
Training accuracy is counted from each step's own logits, as the example does.

The same draws too, so that the two test accuracies differ by rounding, not by luck:
- --init starts from the weights the example saved with --save-init (the same --seed's He draw);
  without it, PyTorch draws its own He-normal weights;
- every epoch's order is the example's: its Fisher-Yates shuffle driven by tapeless::Rng(seed + 1),
  a std::mt19937_64 (checked here against the standard's 10000th value) with the same conversion
  to an index.

Prints one line per epoch and the test accuracy; --json writes the figures bench/run reports:
training samples per second (the epochs' total; the shuffle, like the example's, and the test
evaluation excluded) and the test accuracy. Needs Debian's python3-torch and python3-numpy (run it
with /usr/bin/python3).
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


MASK = (1 << 64) - 1


class Mt19937_64:
    """std::mt19937_64 (the engine of tapeless::Rng), twisted 312 words at a time in numpy."""
    N, M = 312, 156

    def __init__(self, seed):
        x = [seed & MASK]
        for i in range(1, self.N):
            x.append((6364136223846793005 * (x[-1] ^ (x[-1] >> 62)) + i) & MASK)
        self.x = np.array(x, dtype=np.uint64)
        self.out, self.next = [], self.N

    def _twist(self):
        x, n, m = self.x, self.N, self.M
        upper, lower, a = np.uint64(MASK ^ 0x7FFFFFFF), np.uint64(0x7FFFFFFF), np.uint64(0xB5026F5AA96619E9)
        one = np.uint64(1)

        def step(lo, hi, nxt, far):  # x[i] for i in [lo, hi): from x[i + 1] and x[i + m] (mod n)
            y = (x[lo:hi] & upper) | (nxt & lower)
            x[lo:hi] = far ^ (y >> one) ^ np.where((y & one) != 0, a, np.uint64(0))

        step(0, n - m, x[1:n - m + 1], x[m:n])  # every operand not yet replaced
        step(n - m, n - 1, x[n - m + 1:n], x[0:m - 1])  # x[i + m - n]: replaced above
        step(n - 1, n, x[0:1], x[m - 1:m])
        y = x.copy()  # tempering
        y ^= (y >> np.uint64(29)) & np.uint64(0x5555555555555555)
        y ^= (y << np.uint64(17)) & np.uint64(0x71D67FFFEDA60000)
        y ^= (y << np.uint64(37)) & np.uint64(0xFFF7EEE000000000)
        y ^= y >> np.uint64(43)
        self.out, self.next = y.tolist(), 0

    def __call__(self):
        if self.next == self.N:
            self._twist()
        self.next += 1
        return self.out[self.next - 1]


class ExampleRng:
    """tapeless::Rng's below(n): 53 bits to a double in [0, 1), times n, truncated."""

    def __init__(self, seed):
        self.engine = Mt19937_64(seed)

    def below(self, n):
        return int((self.engine() >> 11) * 2.0 ** -53 * float(n))


def check_engine():
    g = Mt19937_64(5489)  # [rand.predef]: the 10000th value of a default-constructed mt19937_64
    for _ in range(9999):
        g()
    if g() != 9981545732273789042:
        sys.exit("fashion_mnist_torch.py: the mt19937_64 reproduction is wrong")


def shuffle(order, rng):
    """The example's Fisher-Yates pass, in place."""
    for i in range(len(order) - 1, 0, -1):
        j = rng.below(i + 1)
        order[i], order[j] = order[j], order[i]


def read_safetensors(path):
    """{name: float32 array} from a safetensors file of F32 tensors (what the example saves)."""
    with open(path, "rb") as f:
        data = f.read()
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + size])
    header.pop("__metadata__", None)
    out = {}
    for name, t in header.items():
        if t["dtype"] != "F32":
            sys.exit(f"{path}: {name} is {t['dtype']}, expected F32")
        begin, end = t["data_offsets"]
        out[name] = np.frombuffer(data, dtype="<f4", count=(end - begin) // 4, offset=8 + size + begin).reshape(t["shape"])
    return out


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
    ap.add_argument("--seed", type=int, default=1, help="the example's --seed: shuffles with Rng(seed + 1)")
    ap.add_argument("--init", help="initial weights saved by the example's --save-init")
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
        if a.init:
            weights = read_safetensors(a.init)
            state = net.state_dict()
            if sorted(weights) != sorted(state):
                sys.exit(f"{a.init}: holds {sorted(weights)}, expected {sorted(state)}")
            for name, t in state.items():
                if list(weights[name].shape) != list(t.shape):
                    sys.exit(f"{a.init}: {name} has shape {list(weights[name].shape)}, expected {list(t.shape)}")
                t.copy_(torch.from_numpy(weights[name].copy()))
        else:
            for layer in (net[0], net[2]):  # He normal, zero bias: the example's Init::he
                layer.weight.normal_(0.0, math.sqrt(2.0 / layer.in_features))
                layer.bias.zero_()
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    loss_fn = torch.nn.CrossEntropyLoss()

    n = x.shape[0]
    check_engine()
    rng = ExampleRng(a.seed + 1)
    order_list = list(range(n))
    seconds = 0.0
    for epoch in range(1, a.epochs + 1):
        shuffle(order_list, rng)
        order = torch.tensor(order_list, dtype=torch.int64)
        start = time.perf_counter()
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
                       "test_accuracy": test_accuracy, "torch": torch.__version__, "init": a.init or "torch",
                       "seed": a.seed}, f)


if __name__ == "__main__":
    main()
