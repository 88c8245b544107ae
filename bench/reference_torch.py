"""The PyTorch side of the trainer check (bench/reference.ts runs it): trains a tfjs child, rebuilt by
examples/pytorch/networks.py, with the recipe of the project's trainer (src/engine/evaluators/train-from-scratch.ts and
training-recipe.ts), on the split the TypeScript side wrote, on one thread.

Reads on stdin {layers, inputShape, classes, seed, evaluation, train, validation}, where each part is
{images: path of count*H*W*C float32 values in HWC order, labels: path of count int32 labels, count};
prints {valAccuracy (per epoch), seconds, params}.

With sameStart {weights: [{layer, weight, shape, values, gradient?}], images (HWC), labels} instead of the
parts, it trains nothing: from the trainer's own weights it takes the loss and gradients of that one batch
and prints {loss, worst: the largest gradient difference relative to the weight's largest gradient, weight}.
"""

import json
import math
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "pytorch"))
from networks import build, read_description  # noqa: E402
from tfjs_weights import tfjs_weights  # noqa: E402

MOMENTUM = 0.9
EVALUATION_BATCH = 256


def read_part(part, shape):
    height, width, channels = shape
    images = np.fromfile(part["images"], dtype=np.float32).reshape(part["count"], height, width, channels)
    labels = np.fromfile(part["labels"], dtype=np.int32)
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(labels).long()


def learning_rate_at(evaluation, step, total_steps, steps_per_epoch):
    """training-recipe.ts learningRateAt."""
    rate = evaluation["learning_rate"]
    # JavaScript's Math.round rounds halves up; Python's round would round them to even.
    warmup_steps = math.floor(evaluation["warmup_epochs"] * steps_per_epoch + 0.5)
    if step < warmup_steps:
        return rate * (step + 1) / warmup_steps
    if evaluation["lr_schedule"] == "constant":
        return rate
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * rate * (1 + math.cos(math.pi * progress))


def optimizer_for(evaluation, parameters):
    """The trainer's SharedOptimizer: coupled weight decay, momentum 0.9, tfjs's epsilon."""
    kind, decay = evaluation["optimizer"], evaluation["weight_decay"]
    if kind == "sgd":
        return torch.optim.SGD(parameters, lr=0, momentum=MOMENTUM, nesterov=evaluation["nesterov"], weight_decay=decay)
    if kind == "adam":
        return torch.optim.Adam(parameters, lr=0, eps=1e-7, weight_decay=decay)
    return torch.optim.RMSprop(parameters, lr=0, alpha=0.9, eps=1e-7, weight_decay=decay)


def augment(images, settings, generator):
    """Zero padding, a crop of the image's size at a random offset, and a mirror on a coin flip, per image."""
    pad, flip = settings["crop_padding"], settings["horizontal_flip"]
    count, _, height, width = images.shape
    padded = F.pad(images, (pad, pad, pad, pad))
    offsets = torch.randint(0, 2 * pad + 1, (count, 2), generator=generator).tolist()
    mirrored = (torch.rand(count, generator=generator) < 0.5).tolist()
    crops = []
    for image, (top, left), mirror in zip(padded, offsets, mirrored):
        crop = image[:, top:top + height, left:left + width]
        crops.append(crop.flip(2) if flip and mirror else crop)
    return torch.stack(crops)


def smoothed_cross_entropy(logits, labels, smoothing, classes):
    """training-recipe.ts smoothedTargets and the trainer's mean cross-entropy."""
    targets = F.one_hot(labels, classes).float() * (1 - smoothing) + smoothing / classes
    return -(targets * F.log_softmax(logits, dim=1)).sum(1).mean()


def same_start(spec):
    check, classes = spec["sameStart"], spec["classes"]
    layers = read_description(spec)
    modules, forward = build(layers, torch)
    weights = tfjs_weights(layers, modules)
    entries = [(weights[f"{e['layer'].replace('/', '_')}/{e['weight']}"], e) for e in check["weights"]]

    def as_torch(values, entry, layout):
        return layout(torch.tensor(values, dtype=torch.float32).reshape(entry["shape"]))

    with torch.no_grad():
        for (tensor, layout), entry in entries:
            tensor.copy_(as_torch(entry["values"], entry, layout))
    height, width, channels = spec["inputShape"]
    images = torch.tensor(check["images"], dtype=torch.float32).reshape(-1, height, width, channels).permute(0, 3, 1, 2)
    modules.train()
    loss = smoothed_cross_entropy(forward(images), torch.tensor(check["labels"]).long(), spec["evaluation"]["label_smoothing"], classes)
    loss.backward()
    differences = []
    for (tensor, layout), entry in entries:
        if "gradient" in entry:
            tfjs = as_torch(entry["gradient"], entry, layout)
            worst = (tfjs - tensor.grad).abs().max().item() / max(tensor.grad.abs().max().item(), 1e-12)
            differences.append((worst, f"{entry['layer']}/{entry['weight']}"))
    worst, weight = max(differences)
    return {"loss": loss.item(), "worst": worst, "weight": weight}


def accuracy(forward, images, labels):
    correct = 0
    for start in range(0, len(labels), EVALUATION_BATCH):
        logits = forward(images[start:start + EVALUATION_BATCH])
        correct += (logits.argmax(1) == labels[start:start + EVALUATION_BATCH]).sum().item()
    return correct / len(labels)


def main():
    torch.set_num_threads(1)
    spec = json.load(sys.stdin)
    if "sameStart" in spec:
        print(json.dumps(same_start(spec)))
        return
    torch.manual_seed(spec["seed"])
    generator = torch.Generator().manual_seed(spec["seed"])
    evaluation, classes = spec["evaluation"], spec["classes"]
    train_images, train_labels = read_part(spec["train"], spec["inputShape"])
    validation_images, validation_labels = read_part(spec["validation"], spec["inputShape"])
    modules, forward = build(read_description(spec), torch)
    optimizer = optimizer_for(evaluation, modules.parameters())
    batch, smoothing = evaluation["batch_size"], evaluation["label_smoothing"]
    settings = evaluation["augment"]
    augments = settings["crop_padding"] > 0 or settings["horizontal_flip"]
    count = len(train_labels)
    steps_per_epoch = -(-count // batch)
    total_steps = evaluation["epochs"] * steps_per_epoch
    curve = []
    started = time.perf_counter()
    step = 0
    for _ in range(evaluation["epochs"]):
        modules.train()
        order = torch.randperm(count, generator=generator)
        for start in range(0, count, batch):
            picked = order[start:start + batch]
            images = train_images[picked]
            if augments:
                images = augment(images, settings, generator)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate_at(evaluation, step, total_steps, steps_per_epoch)
            optimizer.zero_grad()
            loss = smoothed_cross_entropy(forward(images), train_labels[picked], smoothing, classes)
            loss.backward()
            optimizer.step()
            step += 1
        modules.eval()
        with torch.no_grad():
            curve.append(accuracy(forward, validation_images, validation_labels))
    seconds = time.perf_counter() - started
    params = sum(p.numel() for p in modules.parameters())
    print(json.dumps({"valAccuracy": curve, "seconds": seconds, "params": params, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
