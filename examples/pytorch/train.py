"""NAS Studio's reference PyTorch trainer for `evaluation: { kind: command, command: [python3, pytorch/train.py] }`:
trains the trial's architecture (a macro or cell child, built as NAS Studio's own trainer builds it, or a
nasbench201 cell in NAS-Bench-201's network) on the search file's data set, split as NAS Studio splits it, and reports every epoch and the result.

    python3 train.py [--batch-size 64] [--learning-rate 0.001] [--optimizer adam|sgd] [--reward-epochs 5]

CUDA when available (with mixed precision), else the CPU. The seed is the trial's: the same trial starts from
the same weights and sees the same batches. The reported val_accuracy is the best of the last --reward-epochs
epochs (the built-in trainer's reward_epochs); test_accuracy is the final model's.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
# nas_studio.py from the repository's helpers/ folder, else the copy beside this script.
sys.path.insert(0, str(HERE.parent.parent / "helpers"))
import datasets  # noqa: E402
import nas_studio  # noqa: E402
from networks import build, describe  # noqa: E402

EVALUATION_BATCH = 1024


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=0.001)
    parser.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    parser.add_argument("--reward-epochs", type=int, default=5)
    return parser.parse_args()


def on_device(data, indices, device):
    images, labels = data.part(indices)
    return torch.from_numpy(np.ascontiguousarray(images)).to(device), torch.from_numpy(labels).to(device)


def as_input(images, scale):
    """NHWC values as NCHW floats in [0, 1]."""
    return (images.float() / scale).permute(0, 3, 1, 2)


def measure(forward, part, scale, autocast):
    """Mean loss and accuracy over a part, in evaluation batches."""
    images, labels = part
    loss = correct = 0.0
    with torch.no_grad(), autocast():
        for start in range(0, len(labels), EVALUATION_BATCH):
            logits = forward(as_input(images[start:start + EVALUATION_BATCH], scale)).float()
            batch = labels[start:start + EVALUATION_BATCH]
            loss += F.cross_entropy(logits, batch, reduction="sum").item()
            correct += (logits.argmax(1) == batch).sum().item()
    return loss / len(labels), correct / len(labels)


def main():
    options = arguments()
    trial = nas_studio.trial()
    torch.manual_seed(trial.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    on_gpu = device.type == "cuda"
    half = torch.bfloat16 if on_gpu and torch.cuda.is_bf16_supported() else torch.float16

    def autocast():
        return torch.autocast("cuda", dtype=half, enabled=on_gpu)

    # float16 needs its gradients scaled; bfloat16 has float32's range.
    scaler = torch.cuda.amp.GradScaler(enabled=on_gpu and half == torch.float16)

    data = datasets.load(trial.dataset, HERE)
    train_indices, validation_indices, test_indices = datasets.split(data, trial.dataset)
    train, validation, test = (on_device(data, indices, device) for indices in (train_indices, validation_indices, test_indices))
    modules, forward = build(describe(trial.graph, trial.space, data.images.shape[1:], data.classes), torch)
    modules.to(device)
    if options.optimizer == "adam":
        optimizer = torch.optim.Adam(modules.parameters(), lr=options.learning_rate)
    else:
        optimizer = torch.optim.SGD(modules.parameters(), lr=options.learning_rate, momentum=0.9, nesterov=True)
    print(f"trial {trial.index} on {device}: {len(train_indices)} train, {len(validation_indices)} validation, "
          f"{len(test_indices)} test examples, {trial.epochs} epochs", flush=True)

    order = torch.Generator().manual_seed(trial.seed)
    accuracies = []
    for epoch in range(1, trial.epochs + 1):
        started = time.perf_counter()
        modules.train()
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device)
        images, labels = train
        permutation = torch.randperm(len(labels), generator=order).to(device)
        for start in range(0, len(labels), options.batch_size):
            batch = permutation[start:start + options.batch_size]
            with autocast():
                logits = forward(as_input(images[batch], data.scale)).float()
                loss = F.cross_entropy(logits, labels[batch])
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            # Summed on the device: reading the loss every batch would wait for the GPU.
            loss_sum += loss.detach() * len(batch)
            correct += (logits.argmax(1) == labels[batch]).sum()
        train_loss = loss_sum.item() / len(labels)
        if not np.isfinite(train_loss):
            raise RuntimeError(f"training loss became {train_loss} at epoch {epoch}")
        modules.eval()
        val_loss, val_accuracy = measure(forward, validation, data.scale, autocast)
        accuracies.append(val_accuracy)
        pruned = trial.report(epoch=epoch, val_accuracy=val_accuracy, val_loss=val_loss, train_loss=train_loss,
                              train_accuracy=correct.item() / len(labels))
        print(f"epoch {epoch}: val_accuracy {val_accuracy:.4f}, train_loss {train_loss:.4f} "
              f"({time.perf_counter() - started:.1f} s)", flush=True)
        if pruned:
            print(f"pruned by the search's scheduler after epoch {epoch}", flush=True)
            break

    _, test_accuracy = measure(forward, test, data.scale, autocast)
    # As the built-in trainer counts: every weight, batch norm's running statistics included.
    params = sum(p.numel() for p in modules.parameters()) + sum(
        b.numel() for name, b in modules.named_buffers() if name.endswith(("running_mean", "running_var")))
    trial.finish(val_accuracy=max(accuracies[-options.reward_epochs:]), test_accuracy=test_accuracy, params=params)


if __name__ == "__main__":
    main()
