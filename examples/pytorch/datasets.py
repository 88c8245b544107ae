"""The search file's data set for examples/pytorch/train.py, read with numpy and the standard library, and
split as NAS Studio's own trainer splits it (src/engine/data/dataset.ts splitDataset, with its seeded
shuffle, src/space/rng.ts), so that both train and validate on the same examples.

Kinds: digits (the embedded file, data/digits/digits.csv.gz), csv, mnist (IDX files, also Fashion-MNIST)
and cifar10 (binary batches). image-folder is not read here.
"""

import gzip
import math
from pathlib import Path

import numpy as np

DIGITS_FILE = Path("data", "digits", "digits.csv.gz")
CIFAR_SIDE = 32
CIFAR_BATCHES = ["data_batch_%d.bin" % i for i in range(1, 6)] + ["test_batch.bin"]


class Images:
    """count x H x W x C values (uint8, or float32 already scaled), their labels and what divides them into [0, 1]."""

    def __init__(self, images, labels, scale, test_count=None):
        self.images, self.labels, self.scale, self.test_count = images, labels.astype(np.int64), scale, test_count

    @property
    def classes(self):
        return int(self.labels.max()) + 1

    def part(self, indices):
        return self.images[indices], self.labels[indices]


def _read(path):
    data = Path(path).read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def _csv(path, shape, scale):
    rows = [line.split(",") for line in _read(path).decode("utf-8").splitlines() if line.strip()]
    try:
        [float(value) for value in rows[0]]
    except ValueError:
        rows = rows[1:]  # a header line
    values = np.array(rows, dtype=np.float64)
    pixels = values[:, :-1].reshape(len(rows), *shape)
    whole = np.all(pixels == np.round(pixels)) and pixels.max() <= 255
    images = pixels.astype(np.uint8) if whole else (pixels / scale).astype(np.float32)
    return Images(images, values[:, -1], scale if whole else 1)


def _digits(script_folder):
    """The embedded digits: beside the script, else in the data/ folder of a folder above it (the repository's)."""
    folder = Path(script_folder).resolve()
    for candidate in [folder / DIGITS_FILE.name, *(above / DIGITS_FILE for above in folder.parents)]:
        if candidate.is_file():
            return _csv(candidate, (8, 8, 1), 16)
    raise FileNotFoundError(f"{DIGITS_FILE} is in no folder above {folder}: copy NAS Studio's {DIGITS_FILE.name} beside this script")


def _idx_file(folder, part, kind, idx):
    for name in (f"{part}-{kind}-{idx}-ubyte", f"{part}-{kind}.{idx}-ubyte"):
        for candidate in (folder / name, folder / (name + ".gz")):
            if candidate.is_file():
                return candidate
    return None


def _mnist(path):
    """IDX files (train-*, and t10k-* for the archive's own test part), optionally gzipped."""
    folder = Path(path)
    images, labels = [], []
    for part in ("train", "t10k"):
        images_file = _idx_file(folder, part, "images", "idx3")
        if images_file is None:
            continue
        raw = _read(images_file)
        count, rows, columns = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
        images.append(np.frombuffer(raw, np.uint8, count * rows * columns, 16).reshape(count, rows, columns, 1))
        labels.append(np.frombuffer(_read(_idx_file(folder, part, "labels", "idx1")), np.uint8, count, 8))
    if not images:
        raise FileNotFoundError(f"no train-images-idx3-ubyte in {folder}")
    return Images(np.concatenate(images), np.concatenate(labels), 255, len(labels[1]) if len(labels) == 2 else None)


def _cifar10(path):
    """Binary batches: a label byte, then the red, green and blue 32x32 planes; test_batch.bin last is the test part."""
    path = Path(path)
    if path.is_dir() and (path / "cifar-10-batches-bin").is_dir():
        path = path / "cifar-10-batches-bin"
    files = [path / name for name in CIFAR_BATCHES if (path / name).is_file()] if path.is_dir() else [path]
    records = [np.frombuffer(_read(file), np.uint8).reshape(-1, 1 + 3 * CIFAR_SIDE * CIFAR_SIDE) for file in files]
    every = np.concatenate(records)
    images = every[:, 1:].reshape(-1, 3, CIFAR_SIDE, CIFAR_SIDE).transpose(0, 2, 3, 1)
    has_test = len(files) > 1 and files[-1].name == CIFAR_BATCHES[-1]
    return Images(np.ascontiguousarray(images), every[:, 0], 255, len(records[-1]) if has_test else None)


def load(dataset, script_folder):
    """The examples of the trial's `dataset` block (None: the digits, NAS Studio's default)."""
    kind = (dataset or {"kind": "digits"})["kind"]
    if kind == "digits":
        return _digits(script_folder)
    if kind == "csv":
        return _csv(dataset["path"], tuple(dataset["image_shape"]), dataset.get("pixel_scale", 255))
    if kind == "mnist":
        return _mnist(dataset["path"])
    if kind == "cifar10":
        return _cifar10(dataset["path"])
    raise ValueError(f"data set kind {kind} is not read by this trainer (digits, csv, mnist and cifar10 are)")


def _shuffled(count, seed):
    """rng.ts createRng (mulberry32) and shuffledIndices (Fisher-Yates), in the same 32-bit arithmetic."""
    state = (seed * 0x9E3779B1) % 2**32
    order = list(range(count))
    for i in range(count - 1, 0, -1):
        state = (state + 0x6D2B79F5) % 2**32
        t = ((state ^ (state >> 15)) * (state | 1)) % 2**32
        t ^= (t + ((t ^ (t >> 7)) * (t | 61))) % 2**32
        j = math.floor(((t ^ (t >> 14)) / 4294967296) * (i + 1))
        order[i], order[j] = order[j], order[i]
    return np.array(order, dtype=np.int64)


def split(data, dataset):
    """dataset.ts splitDataset: train, validation and test indices. With the archive's own test part, validation
    is held out of the examples before it; otherwise test first, then validation, from one shuffle of all."""
    dataset = dataset or {}
    validation_split, test_split = dataset.get("validation_split", 0.2), dataset.get("test_split", 0.1)
    count = len(data.labels)
    own_test = data.test_count is not None and 0 < data.test_count < count
    pool = count - data.test_count if own_test else count
    test_count = count - pool if own_test else math.floor(count * test_split + 0.5)  # Math.round
    held = 0 if own_test else test_count
    validation_count = math.floor(pool * validation_split + 0.5)
    train_count = min(pool - held - validation_count, dataset.get("max_train_examples", math.inf))
    order = _shuffled(pool, dataset.get("seed", 1))
    test = np.arange(pool, count) if own_test else order[:test_count]
    validation = order[held:held + validation_count]
    train = order[held + validation_count:held + validation_count + int(train_count)]
    return train, validation, test
