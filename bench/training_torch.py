"""The training bench's PyTorch side (bench/training.ts runs it).

  training_torch.py sgemm                 prints single-core sgemm GFLOP/s (numpy), or why not
  training_torch.py net SECONDS [DEVICE]  reads a net's description (bench/training-nets.ts) on stdin and prints
                                          images per CPU-second of its Adam training step on one thread (DEVICE
                                          cpu, the default), or per wall-second on the GPU (DEVICE cuda: timed
                                          between torch.cuda.synchronize calls; {"skipped": why} without CUDA)

The net is rebuilt layer by layer by examples/pytorch/networks.py.
"""

import json
import os
import sys
import time

# The rebuild is the PyTorch example's (on the GPU machine, a copy beside this file).
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "pytorch"))
from networks import build, read_description  # noqa: E402

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


def net(seconds, device):
    import torch

    on_gpu = device == "cuda"
    if on_gpu and not torch.cuda.is_available():
        built = torch.version.cuda or "none"
        print(json.dumps({"skipped": f"torch {torch.__version__} (built for CUDA {built}): torch.cuda.is_available() is False"}))
        return
    torch.set_num_threads(1)
    spec = json.load(sys.stdin)
    modules, forward = build(read_description(spec), torch)
    modules.to(device)
    batch = spec["batch"]
    h, w, c = spec["inputShape"]
    images = torch.rand(batch, c, h, w, device=device)
    labels = torch.randint(0, 10, (batch,), device=device)
    optimizer = torch.optim.Adam(modules.parameters(), lr=1e-3)
    # GPU work is queued: the clock reads only after the queue is drained.
    synchronize = torch.cuda.synchronize if on_gpu else lambda: None

    # The loss is read every step, as NAS Studio's trainer and its side of the bench read it (on a GPU, a wait).
    def step():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(forward(images), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    step()
    step()
    synchronize()
    steps = 0
    cpu_start = time.process_time()
    wall_start = time.perf_counter()
    # A GPU's steps are short: more of them, bounded by the wall clock, the measure of its work.
    elapsed = (lambda: time.perf_counter() - wall_start) if on_gpu else (lambda: time.process_time() - cpu_start)
    max_steps = 2000 if on_gpu else 200
    while steps < 3 or (elapsed() < seconds and steps < max_steps):
        step()
        steps += 1
    synchronize()
    cpu = time.process_time() - cpu_start
    wall = time.perf_counter() - wall_start
    params = sum(p.numel() for p in modules.parameters())
    print(json.dumps({"imagesPerCpuSecond": steps * batch / cpu, "imagesPerSecond": steps * batch / wall, "params": params,
                      "torch": torch.__version__,
                      "device": torch.cuda.get_device_name() if on_gpu else "cpu, one thread"}))


if __name__ == "__main__":
    if sys.argv[1] == "sgemm":
        sgemm()
    else:
        net(float(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "cpu")
