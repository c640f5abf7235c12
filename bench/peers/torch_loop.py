"""PyTorch peer for `npm run bench`: the same gradient ascent on the input (Adam, clip to [0, 1],
logits of 10 classes x restarts as one batch) on the bundled MLP and the small CNN; and, with
--pipeline SPEC.json, the image-defaults loop (per-row jitter of +-2 px with the fill value, total
variation 0.5 subtracted) on the bundled MLP and on the sequential network SPEC describes.
Prints one JSON line per measurement. Usage: python3 torch_loop.py MODEL_DIR [--pipeline SPEC.json]
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


def load_spec(path):
    """A sequential network exported by bench.ts: conv/pool/flatten/dense layers with Keras weights."""
    with open(path) as f:
        spec = json.load(f)
    raw = open(os.path.join(os.path.dirname(path), spec["weights"]), "rb").read()

    def tensor(w):
        return torch.from_numpy(np.frombuffer(raw, dtype=np.float32, count=int(np.prod(w["shape"])), offset=w["offset"]).reshape(w["shape"]).copy())

    ops = []
    for layer in spec["layers"]:
        kind = layer["kind"]
        if kind == "conv":
            k = tensor(layer["kernel"]).permute(3, 2, 0, 1).contiguous()  # HWIO -> OIHW
            ops.append(("conv", k, tensor(layer["bias"]), layer["pads"]))
        elif kind == "maxpool":
            ops.append(("maxpool", layer["size"]))
        elif kind == "flatten":
            ops.append(("flatten",))
        elif kind == "dense":
            ops.append(("dense", tensor(layer["kernel"]), tensor(layer["bias"]), layer["relu"]))

    def f(x):
        for op in ops:
            if op[0] == "conv":
                x = torch.relu(torch.nn.functional.conv2d(x, op[1], op[2], padding=op[3]))
            elif op[0] == "maxpool":
                x = torch.nn.functional.max_pool2d(x, op[1])
            elif op[0] == "flatten":
                x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # Keras flattens channels-last
            else:
                x = x @ op[1] + op[2]
                if op[3]:
                    x = torch.relu(x)
        return x

    return f, tuple(spec["shape"]), spec["name"]


def jitter_tv_throughput(f, shape, classes, restarts, how, jitter=2, tv=0.5, fill=0.0, budget=float(os.environ.get("PEER_BUDGET", "3"))):
    """The image-defaults loop: every row drawn its own whole-pixel shift each step (the uncovered
    border filled with `fill`), total variation of the un-shifted picture subtracted, Adam, clip."""
    batch = classes * restarts
    c, h, w = shape
    sel = torch.zeros(batch, classes)
    for r in range(batch):
        sel[r, r // restarts] = 1
    x = torch.rand((batch,) + shape, requires_grad=True)
    opt = torch.optim.Adam([x], lr=0.05, maximize=True)
    hp, wp = h + 2 * jitter, w + 2 * jitter
    # Index of (ch, y, x) in the padded, flattened picture for a zero shift.
    base = (torch.arange(c).view(c, 1, 1) * hp * wp + (torch.arange(h).view(1, h, 1) + jitter) * wp + torch.arange(w).view(1, 1, w) + jitter).reshape(1, -1)
    ys = torch.linspace(-1, 1, h).view(1, h, 1).expand(1, h, w)
    xs = torch.linspace(-1, 1, w).view(1, 1, w).expand(1, h, w)

    def shifted(z):
        dy = torch.randint(-jitter, jitter + 1, (batch,))
        dx = torch.randint(-jitter, jitter + 1, (batch,))
        if how == "gather":
            zp = torch.nn.functional.pad(z, (jitter, jitter, jitter, jitter), value=fill).reshape(batch, -1)
            idx = base - (dy * wp + dx).view(batch, 1)
            return torch.gather(zp, 1, idx).view(batch, c, h, w)
        # grid_sample with per-row translations (what augmentation libraries do).
        gy = ys - dy.view(batch, 1, 1) * 2.0 / (h - 1)
        gx = xs - dx.view(batch, 1, 1) * 2.0 / (w - 1)
        grid = torch.stack([gx, gy], dim=3)
        return torch.nn.functional.grid_sample(z - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=True) + fill

    def total_variation(z):
        return (z[:, :, :, :-1] - z[:, :, :, 1:]).abs().mean(dim=(1, 2, 3)) + (z[:, :, :-1, :] - z[:, :, 1:, :]).abs().mean(dim=(1, 2, 3))

    steps, t0, c0 = 0, None, None
    while True:
        opt.zero_grad()
        value = (f(shifted(x)) * sel).sum() - tv * total_variation(x).sum()
        value.backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)
        steps += 1
        if steps == 3:
            t0, c0 = time.perf_counter(), time.process_time()
        elif steps > 3 and time.perf_counter() - t0 > budget:
            break
    # Wall and CPU (this process, all threads): under load the CPU rate is the steadier one.
    return (steps - 3) * batch / (time.perf_counter() - t0), (steps - 3) * batch / max(1e-9, time.process_time() - c0)


def pipeline_main(model_dir, spec_path):
    mlp, _ = load_mlp(model_dir)
    nets = [("fashion-mnist-mlp", lambda z: mlp(z.reshape(z.shape[0], -1)), (1, 28, 28), 100)]
    if spec_path:
        f, shape, name = load_spec(spec_path)
        nets.append((name, f, shape, 6))
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for name, f, shape, restarts in nets:
            for how in ("gather", "grid_sample"):
                rate, cpu_rate = jitter_tv_throughput(f, shape, 10, restarts, how)
                print(json.dumps({"model": name, "engine": "pytorch " + torch.__version__, "backend": "torch-cpu", "threads": threads, "batch": 10 * restarts, "pipeline": "jitter 2 + tv 0.5", "jitter": how, "imageStepsPerSec": rate, "imageStepsPerCpuSec": cpu_rate}), flush=True)


def main():
    if "--pipeline" in sys.argv:
        i = sys.argv.index("--pipeline")
        return pipeline_main(sys.argv[1], sys.argv[i + 1] if i + 1 < len(sys.argv) else None)
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
