"""The training bench's PyTorch side (bench/training.ts runs it).

  training_torch.py sgemm        prints single-core sgemm GFLOP/s (numpy), or why not
  training_torch.py net SECONDS  reads a net's description (bench/training-nets.ts) on stdin and prints
                                 images per CPU-second of its Adam training step on one thread

The net is rebuilt layer by layer: TensorFlow 'same' padding as explicit (possibly asymmetric) padding,
separable convs as depthwise + pointwise, the softmax folded into the loss. Average pooling counts the
padded zeros (TensorFlow does not): the same work, slightly different values.
"""

import json
import os
import sys
import time

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


def same_padding(size, kernel, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def build(layers, torch):
    nn = torch.nn
    F = torch.nn.functional
    modules = nn.ModuleDict()
    shapes = {}
    steps = []
    for layer in layers:
        name, kind, config, inputs = layer["name"], layer["className"], layer["config"], layer["inputs"]
        shapes[name] = layer["outputShape"]
        source = shapes[inputs[0]] if inputs else None
        key = name.replace("/", "_")
        if kind == "Conv2D":
            kh, kw = config["kernelSize"]
            modules[key] = nn.Conv2d(source[2], config["filters"], (kh, kw), tuple(config["strides"]))
        elif kind == "SeparableConv2D":
            kh, kw = config["kernelSize"]
            channels = source[2]
            multiplier = config.get("depthMultiplier", 1)
            modules[key] = nn.Sequential(
                nn.Conv2d(channels, channels * multiplier, (kh, kw), tuple(config["strides"]), groups=channels, bias=False),
                nn.Conv2d(channels * multiplier, config["filters"], 1),
            )
        elif kind == "Dense":
            size = 1
            for d in source:
                size *= d
            modules[key] = nn.Linear(size, config["units"])
        steps.append((key, kind, config, inputs, source))

    def pad_same(x, source, kernel, strides, value=0.0):
        top, bottom = same_padding(source[0], kernel[0], strides[0])
        left, right = same_padding(source[1], kernel[1], strides[1])
        return F.pad(x, (left, right, top, bottom), value=value) if top or bottom or left or right else x

    def forward(image):
        values = {}
        output = None
        for key, kind, config, inputs, source in steps:
            x = values[inputs[0]] if inputs else None
            if kind == "InputLayer":
                y = image
            elif kind in ("Conv2D", "SeparableConv2D"):
                if config.get("padding") == "same":
                    x = pad_same(x, source, config["kernelSize"], config["strides"])
                y = modules[key](x)
                if config.get("activation") == "relu":
                    y = F.relu(y)
            elif kind in ("MaxPooling2D", "AveragePooling2D"):
                kernel, strides = config["poolSize"], config["strides"]
                if config.get("padding") == "same":
                    x = pad_same(x, source, kernel, strides, float("-inf") if kind == "MaxPooling2D" else 0.0)
                pool = F.max_pool2d if kind == "MaxPooling2D" else F.avg_pool2d
                y = pool(x, tuple(kernel), tuple(strides))
            elif kind == "ZeroPadding2D":
                (top, bottom), (left, right) = config["padding"]
                y = F.pad(x, (left, right, top, bottom))
            elif kind == "Concatenate":
                y = torch.cat([values[i] for i in inputs], dim=1)
            elif kind == "Add":
                y = sum(values[i] for i in inputs)
            elif kind == "Flatten":
                y = torch.flatten(x, 1)
            elif kind == "Dense":
                y = modules[key](x)
            else:
                raise ValueError(f"layer {kind} is not rebuilt in PyTorch")
            values[key] = y
            output = y
        return output

    return modules, forward


def net(seconds):
    import torch

    torch.set_num_threads(1)
    spec = json.load(sys.stdin)
    layers = spec["layers"]
    for layer in layers:
        layer["name"] = layer["name"].replace("/", "_")
        layer["inputs"] = [i.replace("/", "_") for i in layer["inputs"]]
    modules, forward = build(layers, torch)
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
