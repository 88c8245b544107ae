"""The training bench's PyTorch side (bench/training.ts runs it).

  training_torch.py sgemm        prints single-core sgemm GFLOP/s (numpy), or why not
  training_torch.py net SECONDS  reads a net's description (bench/training-nets.ts) on stdin and prints
                                 images per CPU-second of its Adam training step on one thread

The net is rebuilt layer by layer by torch_rebuild.py.
"""

import json
import os
import sys
import time

from torch_rebuild import build, read_description

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def sgemm():
    try:
        import numpy as np
    except ImportError as error:
        print(json.dumps({"skipped": f"numpy is not importable ({error})"}))
        return
    n = 1024
    a = np.random.rand(n, n).astype(np.float32)
    b = np.random.rand(n, n).astype(np.float32)
    a @ b
    best = float("inf")
    for _ in range(7):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    print(json.dumps({"gflops": 2 * n**3 / best / 1e9}))


def net(seconds):
    import torch

    torch.set_num_threads(1)
    spec = json.load(sys.stdin)
    modules, forward = build(read_description(spec), torch)
    batch = spec["batch"]
    h, w, c = spec["inputShape"]
    images = torch.rand(batch, c, h, w)
    labels = torch.randint(0, 10, (batch,))
    optimizer = torch.optim.Adam(modules.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(forward(images), labels)
        loss.backward()
        optimizer.step()

    step()
    step()
    steps = 0
    cpu_start = time.process_time()
    wall_start = time.perf_counter()
    while steps < 3 or (time.process_time() - cpu_start < seconds and steps < 200):
        step()
        steps += 1
    cpu = time.process_time() - cpu_start
    wall = time.perf_counter() - wall_start
    params = sum(p.numel() for p in modules.parameters())
    print(json.dumps({"imagesPerCpuSecond": steps * batch / cpu, "imagesPerSecond": steps * batch / wall, "params": params,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    if sys.argv[1] == "sgemm":
        sgemm()
    else:
        net(float(sys.argv[2]))
