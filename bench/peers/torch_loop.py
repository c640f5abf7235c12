"""PyTorch peer for `npm run bench`: the same gradient ascent on the input (Adam, clip to [0, 1],
logits of 10 classes x restarts as one batch) on the bundled MLP and the small CNN.
Prints one JSON line per measurement. Usage: python3 torch_loop.py MODEL_DIR
Needs `torch` (Debian: python3-torch) and numpy; the bench skips it when torch is missing."""
import json
import os
import sys
import time

import numpy as np
import torch


def load_mlp(model_dir):
    with open(os.path.join(model_dir, "model.json")) as f:
        spec = json.load(f)
    raw = b"".join(open(os.path.join(model_dir, p), "rb").read() for g in spec["weightsManifest"] for p in g["paths"])
    weights, off = {}, 0
    for g in spec["weightsManifest"]:
        for w in g["weights"]:
            n = int(np.prod(w["shape"]))
            weights[w["name"]] = torch.from_numpy(np.frombuffer(raw, dtype=np.float32, count=n, offset=off).reshape(w["shape"]).copy())
            off += 4 * n
    k1, b1, k2, b2 = weights["dense/kernel"], weights["dense/bias"], weights["dense_1/kernel"], weights["dense_1/bias"]
    return lambda x: torch.relu(x.reshape(x.shape[0], -1) @ k1 + b1) @ k2 + b2, (28, 28)


def small_cnn():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(64 * 5 * 5, 10),
    )
    for p in net.parameters():
        p.requires_grad_(False)
    return net, (1, 28, 28)


def throughput(f, shape, batch, budget=1.5):
    classes = min(10, batch) if batch % min(10, batch) == 0 else 1
    sel = torch.zeros(batch, 10)
    for r in range(batch):
        sel[r, r // (batch // classes)] = 1
    x = torch.rand((batch,) + shape, requires_grad=True)
    opt = torch.optim.Adam([x], lr=0.05, maximize=True)
    steps, t0 = 0, None
    while True:
        opt.zero_grad()
        (f(x) * sel).sum().backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)
        steps += 1
        if steps == 3:
            t0 = time.perf_counter()
        elif steps > 3 and time.perf_counter() - t0 > budget:
            break
    return (steps - 3) * batch / (time.perf_counter() - t0)


def main():
    mlp, mlp_shape = load_mlp(sys.argv[1])
    cnn, cnn_shape = small_cnn()
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for batch in (1, 10, 160, 1000):
            rate = throughput(mlp, mlp_shape, batch)
            print(json.dumps({"model": "fashion-mnist-mlp", "engine": "pytorch " + torch.__version__, "backend": "torch-cpu", "threads": threads, "batch": batch, "imageStepsPerSec": rate}), flush=True)
        rate = throughput(cnn, cnn_shape, 64, budget=3)
        print(json.dumps({"model": "small-cnn", "engine": "pytorch " + torch.__version__, "backend": "torch-cpu", "threads": threads, "batch": 64, "imageStepsPerSec": rate}), flush=True)


if __name__ == "__main__":
    main()
