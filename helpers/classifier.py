"""The course's digit classifier ("the judge"), trained once and cached, and its scores for generated images:
a Fréchet distance on its features (FID's recipe, Heusel et al. 2017, on its own scale) and class coverage."""
from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from helpers.augment import junk_images, random_style
from helpers.checkpoints import CorruptCheckpoint, read_checkpoint, save_checkpoint
from helpers.images import to_float
from helpers.metrics import frechet_distance
from helpers.mnist import ImageData, dataset_name, load_images
from helpers.runtime import data_dir


CONFIDENT = 0.7  # a read counts when the classifier gives its class at least this probability
COVERED = 0.05   # a class is covered when it holds at least this share of the confident reads


class DigitClassifier(nn.Module):
    """(N, C, H, W) in [-1, 1] -> (N, num_classes) logits: LeNet-style (LeCun et al. 1998), batch-normalised."""

    def __init__(self, num_classes: int = 10, channels: int = 1, width: int = 16, feature_dim: int = 128) -> None:
        super().__init__()
        self.config = dict(num_classes=num_classes, channels=channels, width=width, feature_dim=feature_dim)
        w = width
        self.body = nn.Sequential(
            nn.Conv2d(channels, w, 5, padding=2), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2),      # (N, w, 14, 14)
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(), nn.MaxPool2d(2),     # (N, 2w, 7, 7)
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode=True), nn.Flatten(), nn.Dropout(0.3),                           # (N, 2w*16)
            nn.Linear(2 * w * 16, feature_dim), nn.ReLU(),                                            # (N, feature_dim)
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(feature_dim, num_classes))               # (N, classes)
        self.val_accuracy: float = float("nan")

    def features(self, images: Tensor) -> Tensor:
        """(N, C, H, W) in [-1, 1] -> (N, feature_dim): the layer the Fréchet distance uses."""
        return self.body(images)

    def forward(self, images: Tensor) -> Tensor:
        return self.head(self.body(images))  # (N, num_classes) logits


def classifier_path(dataset: str, source: str) -> Path:
    """data_dir()/digit_judge_<dataset>_<source>.pt."""
    return data_dir() / f"digit_judge_{dataset_name(dataset)}_{source}.pt"


@torch.no_grad()
def _batched(fn, classifier: DigitClassifier, images: Tensor) -> Tensor:
    """fn over (N, C, H, W) images in [-1, 1] (or uint8), in eval mode on the classifier's device -> on the CPU."""
    channels = classifier.config["channels"]
    if not isinstance(images, Tensor) or images.ndim != 4 or images.shape[1] != channels:
        got = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"images must be a tensor of shape (N, {channels}, H, W), got {got}")
    images = to_float(images) if images.dtype == torch.uint8 else images
    was_training = classifier.training
    classifier.eval()
    device = next(classifier.parameters()).device
    out = [fn(batch.to(device, torch.float32)).cpu() for batch in images.split(1000)]
    classifier.train(was_training)
    return torch.cat(out)


def classifier_features(classifier: DigitClassifier, images: Tensor) -> Tensor:
    """(N, 1, 28, 28) images in [-1, 1] (any device) -> (N, feature_dim) float32 features on the CPU."""
    return _batched(classifier.features, classifier, images)


def classifier_predictions(classifier: DigitClassifier, images: Tensor) -> Tensor:
    """(N, 1, 28, 28) images in [-1, 1] (any device) -> (N,) int64 predicted classes on the CPU."""
    return _batched(lambda x: classifier(x).argmax(dim=1), classifier, images)


def mix_readings(classifier: DigitClassifier, mixed: Tensor, a: Tensor, b: Tensor) -> tuple[float, float]:
    """Mixes (N, 1, 28, 28) of sources a and b -> (the share read as a's class, the share read as b's class among
    the pairs whose a and b are read differently)."""
    read, read_a, read_b = (classifier_predictions(classifier, images) for images in (mixed, a, b))
    differ = read_a != read_b
    return (read == read_a).float().mean().item(), (read == read_b)[differ].float().mean().item()


def train_classifier(data: ImageData, steps: int = 600, width: int = 16, verbose: bool = True) -> DigitClassifier:
    """Trained with 10% held out, returned in eval mode. Restyled digits teach it shape, not stroke; junk images,
    trained towards the uniform distribution, leave it unsure of what no one could read."""
    if len(data) < 20:
        raise ValueError(f"need at least 20 images to train a classifier, got {len(data)}")
    batch_size, lr = 128, 3e-3
    generator = torch.Generator().manual_seed(0)
    order = torch.randperm(len(data), generator=generator).to(data.device)
    n_val = max(len(data) // 10, 10)
    val, train = order[:n_val], order[n_val:]
    train_images, train_labels = to_float(data.images[train]), data.labels[train]
    # The global random state is forked: dropout's draws repeat for a seed, and training the judge (or
    # loading it from the cache) leaves a lesson's own random draws as they were.
    with torch.random.fork_rng(devices=[data.device] if data.device.type == "cuda" else []):
        torch.manual_seed(0)
        model = DigitClassifier(num_classes=len(data.classes) or 10, channels=data.image_shape[0],
                                width=width).to(data.device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
        model.train()
        for _ in range(steps):
            index = torch.randint(0, len(train), (batch_size,), generator=generator).to(data.device)
            images = random_style(train_images[index], generator=generator)
            junk = junk_images(train_images[index[:batch_size // 4]], generator=generator)
            logits = model(torch.cat([images, junk]))
            # Outlier exposure (Hendrycks et al. 2019): digits to their class, junk to the uniform distribution
            loss = (nn.functional.cross_entropy(logits[:batch_size], train_labels[index])
                    - 0.5 * logits[batch_size:].log_softmax(dim=1).mean())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    predictions = classifier_predictions(model, to_float(data.images[val]))
    model.val_accuracy = (predictions == data.labels[val].cpu()).float().mean().item()
    model.eval()
    if verbose:
        print(f"Trained the {data.name} classifier on {len(train):,} {data.source} images "
              f"({steps} steps): {model.val_accuracy:.1%} accuracy on {n_val} held-out images.")
    return model


def load_classifier(dataset: str = "mnist", device: str | torch.device = "cpu", data: ImageData | None = None,
                    verbose: bool = True, steps: int = 600) -> DigitClassifier:
    """Frozen, in eval mode; trained and cached first if needed, per data.source, so that one trained offline
    never poses as one trained on all 60,000 images."""
    name = dataset_name(dataset)
    if data is None:
        data = load_images(name, device=device, verbose=verbose)
    elif data.name != name:
        raise ValueError(f"data holds {data.name!r} images but a {name!r} classifier was asked for")
    path = classifier_path(name, data.source)
    model = None
    if path.is_file():
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
            print(f"Loaded the {name} classifier from {path} ({model.val_accuracy:.1%} held-out accuracy).")
    if model is None:
        model = train_classifier(data.to(device), steps=steps, verbose=verbose)
        save_checkpoint(path, model={k: v.cpu() for k, v in model.state_dict().items()},
                        config=model.config, val_accuracy=model.val_accuracy, dataset=name, source=data.source)
    return model.to(device).eval().requires_grad_(False)


class SampleScorer:
    """Real images (N, 1, 28, 28), shuffled once and halved: the reference every score is measured against, and
    a held-out half whose distance at n images (`real_vs_real`) is the floor for a score at n ≤ N // 2."""

    def __init__(self, classifier: DigitClassifier, real_images: Tensor, confident: float = CONFIDENT) -> None:
        self.classifier, self.confident = classifier, confident
        features = classifier_features(classifier, real_images)  # (N, D)
        if features.shape[0] < 8:
            raise ValueError(f"need at least 8 real images as a reference, got {features.shape[0]}")
        shuffled = features[torch.randperm(features.shape[0], generator=torch.Generator().manual_seed(0))]
        self.sample_size = features.shape[0] // 2
        self.reference, self.held_out = shuffled[:self.sample_size], shuffled[self.sample_size:2 * self.sample_size]
        self._floors: dict[int, float] = {}

    def real_vs_real(self, n: int) -> float:
        """The Fréchet distance of n held-out real images to the reference: the floor for a score at n."""
        if not isinstance(n, int) or not 2 <= n <= self.sample_size:
            raise ValueError(f"n must be an int in [2, {self.sample_size}] (half the real images), got {n!r}")
        if n not in self._floors:
            self._floors[n] = frechet_distance(self.held_out[:n], self.reference)
        return self._floors[n]

    def score(self, fake_images: Tensor) -> dict:
        """(M, 1, 28, 28) -> on a fixed n = min(M, sample_size) of them: fd, real_vs_real, fractions (10,) of the
        confident reads in each class, coverage (classes holding ≥ COVERED of them), unreadable (the rest's share),
        confidence (the mean probability of the class read)."""
        n = min(int(fake_images.shape[0]), self.sample_size)
        if n < 2:
            raise ValueError(f"need at least 2 generated images to score, got {fake_images.shape[0]}")
        if n < fake_images.shape[0]:  # a fixed random subset: the first n could be ordered (say, by class)
            order = torch.randperm(fake_images.shape[0], generator=torch.Generator().manual_seed(0))
            fake_images = fake_images[order[:n].to(fake_images.device)]
        features = classifier_features(self.classifier, fake_images)
        with torch.no_grad():
            device = next(self.classifier.parameters()).device
            probabilities = self.classifier.head(features.to(device)).softmax(dim=1).cpu()
        confidence, predictions = probabilities.max(dim=1)
        readable = confidence >= self.confident
        counts = torch.bincount(predictions[readable], minlength=probabilities.shape[1]).double()
        fractions = counts / max(int(readable.sum()), 1)  # shares of the confident reads; none read: all 0
        return {"fd": frechet_distance(features, self.reference), "real_vs_real": self.real_vs_real(n), "n": n,
                "coverage": int((fractions >= COVERED).sum().item()),
                "fractions": fractions, "unreadable": 1.0 - readable.double().mean().item(),
                "confidence": confidence.mean().item()}
