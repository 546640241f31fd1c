"""Numbers that say how well a GAN is doing."""
from __future__ import annotations

import torch
import torch.nn.functional as F
import torchvision
from scipy.optimize import linear_sum_assignment
from torch import Tensor, nn

from helpers.images import _check_pixels, to_float
from helpers.toy_data import TWO_PI


def _points(points: Tensor, name: str = "points") -> Tensor:
    if not isinstance(points, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor of shape (N, 2), got {type(points).__name__}")
    if points.ndim != 2 or points.shape[1] != 2 or points.shape[0] == 0:
        raise ValueError(f"{name} must have shape (N, 2) with N > 0, got {tuple(points.shape)}")
    if not points.is_floating_point():
        raise ValueError(f"{name} must be a float tensor, got dtype {points.dtype}")
    _require_finite(points, name)
    return points.detach().float().cpu()


def curve_error(points: Tensor) -> float:
    """(N, 2) points -> mean |y - sin x|: how far they sit from the curve y = sin x."""
    p = _points(points)
    return (p[:, 1] - torch.sin(p[:, 0])).abs().mean().item()


def wasserstein_to_uniform(samples: Tensor, low: float = 0.0, high: float = TWO_PI) -> float:
    """(N,) samples -> 1-D Wasserstein distance to Uniform[low, high].

    In 1-D, W1 = ∫ |F⁻¹(u) - G⁻¹(u)| du: compare the sorted samples with the uniform
    quantiles at (i + 0.5) / N. Zero means the samples spread evenly over [low, high].
    """
    if not isinstance(samples, Tensor) or samples.ndim != 1 or samples.numel() == 0:
        raise ValueError(f"samples must be a non-empty 1-D tensor, got "
                         f"{tuple(samples.shape) if isinstance(samples, Tensor) else type(samples).__name__}")
    if not high > low:
        raise ValueError(f"need high > low, got low={low}, high={high}")
    _require_finite(samples, "samples")
    x = samples.detach().cpu().double().sort().values  # to the CPU first: MPS has no float64
    n = x.numel()
    quantiles = low + (high - low) * (torch.arange(n, dtype=torch.float64) + 0.5) / n
    return (x - quantiles).abs().mean().item()


def curve_coverage(points: Tensor) -> float:
    """(N, 2) points -> W1 distance between their x and Uniform[0, 2π] (0 = the whole curve)."""
    return wasserstein_to_uniform(_points(points)[:, 0])


# --- Lesson 02: MNIST GAN (Fréchet distance on classifier features, class coverage) ---

def _features(features: Tensor, name: str) -> Tensor:
    if not isinstance(features, Tensor) or features.ndim != 2 or features.shape[0] < 2:
        shape = tuple(features.shape) if isinstance(features, Tensor) else type(features).__name__
        raise ValueError(f"{name} must be a (N, D) tensor of features with N ≥ 2, got {shape}")
    return features.detach().to("cpu", torch.float64)


def _require_finite(values: Tensor, name: str) -> None:
    """Raise unless every row of (N, ...) values is finite: NaN gives NaN scores, and eigvals on NaN/inf
    crashes the process (oneMKL)."""
    bad = int((~torch.isfinite(values.reshape(len(values), -1))).any(dim=1).sum())
    if bad:
        raise ValueError(f"{name} holds NaN or inf in {bad} of its {len(values)} rows: they are not finite "
                         "(a diverged generator?), so there is nothing to measure")


def _positive_int(value: int, name: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def gaussian_statistics(features: Tensor) -> tuple[Tensor, Tensor]:
    """(N, D) features -> their mean (D,) and covariance (D, D), in float64 on the CPU."""
    x = _features(features, "features")
    _require_finite(x, "features")
    mean = x.mean(dim=0)
    centred = x - mean
    return mean, centred.T @ centred / (x.shape[0] - 1)


def frechet_distance_from_statistics(mean_a: Tensor, cov_a: Tensor,
                                     mean_b: Tensor, cov_b: Tensor) -> float:
    """Fréchet distance between Gaussians N(mean_a, cov_a) and N(mean_b, cov_b).

    d² = |μa - μb|² + tr(Σa) + tr(Σb) - 2 tr((Σa Σb)^½). The eigenvalues of Σa Σb are real and
    ≥ 0 (a product of two covariance matrices), so tr((Σa Σb)^½) = Σ √λ.
    """
    for name, t in dict(mean_a=mean_a, cov_a=cov_a, mean_b=mean_b, cov_b=cov_b).items():
        if not torch.isfinite(t).all():  # eigvals on NaN/inf crashes the process (oneMKL)
            raise ValueError(f"{name} holds NaN or inf: the features it came from are not finite "
                             "(a diverged generator?), so there is no distance to measure")
    if mean_a.shape != mean_b.shape or cov_a.shape != cov_b.shape or cov_a.shape != (*mean_a.shape,) * 2:
        raise ValueError(f"statistics do not match: means {tuple(mean_a.shape)}, {tuple(mean_b.shape)}, "
                         f"covariances {tuple(cov_a.shape)}, {tuple(cov_b.shape)} (expected (D,), (D, D))")
    mean_a, cov_a, mean_b, cov_b = (t.to("cpu", torch.float64) for t in (mean_a, cov_a, mean_b, cov_b))
    for name, cov in (("cov_a", cov_a), ("cov_b", cov_b)):
        tolerance = 1e-6 * cov.abs().max().item()
        asymmetry, smallest = (cov - cov.T).abs().max().item(), torch.linalg.eigvalsh((cov + cov.T) / 2)[0].item()
        if asymmetry > tolerance or smallest < -tolerance:
            raise ValueError(f"{name} is not a covariance matrix (symmetric, positive semi-definite): "
                             f"max |C - Cᵀ| is {asymmetry:.3g}, its smallest eigenvalue {smallest:.3g}")
    eigenvalues = torch.linalg.eigvals(cov_a @ cov_b).real.clamp(min=0)
    trace_sqrt = eigenvalues.sqrt().sum()
    d2 = (mean_a - mean_b).square().sum() + cov_a.trace() + cov_b.trace() - 2 * trace_sqrt
    return max(d2.item(), 0.0)


def frechet_distance(features_a: Tensor, features_b: Tensor) -> float:
    """(N, D) and (M, D) features -> Fréchet distance between the two Gaussians fitted to them.

    On Inception-v3 features of real and generated images this is the FID; the course uses a
    small MNIST classifier's features instead (same formula, different, non-comparable scale).
    """
    a, b = _features(features_a, "features_a"), _features(features_b, "features_b")
    _require_finite(a, "features_a")
    _require_finite(b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"both feature sets need the same width D, got {a.shape[1]} and {b.shape[1]}")
    return frechet_distance_from_statistics(*gaussian_statistics(a), *gaussian_statistics(b))


def class_fractions(predictions: Tensor, num_classes: int = 10) -> Tensor:
    """(N,) predicted class ids -> (num_classes,) fraction of samples in each class (sums to 1)."""
    _positive_int(num_classes, "num_classes")
    if not isinstance(predictions, Tensor) or predictions.ndim != 1 or predictions.numel() == 0:
        raise ValueError("predictions must be a non-empty 1-D tensor of class ids")
    if predictions.is_floating_point():
        raise ValueError(f"predictions must be integer class ids (use .argmax(dim=1) on logits), "
                         f"got dtype {predictions.dtype}")
    p = predictions.detach().long().cpu()
    if p.min() < 0 or p.max() >= num_classes:
        raise ValueError(f"class ids must lie in [0, {num_classes}), got {p.min().item()}..{p.max().item()}")
    return torch.bincount(p, minlength=num_classes).double() / p.numel()


def class_coverage(predictions: Tensor, num_classes: int = 10, threshold: float = 0.05) -> int:
    """(N,) predicted class ids -> how many classes hold at least `threshold` of the samples."""
    _positive_int(num_classes, "num_classes")
    if not 0 < threshold <= 1 / num_classes:
        raise ValueError(f"threshold must be in (0, 1/num_classes], got {threshold}")
    return int((class_fractions(predictions, num_classes) >= threshold).sum().item())


# --- Lesson 06: controlling what a GAN makes (conditional accuracy, categorical-code accuracy) ---

def _class_ids(t: Tensor, name: str, num_ids: int | None = None) -> None:
    """Raise unless `t` is an int64 tensor of shape (N,) (with values in 0..num_ids-1 if given)."""
    if not isinstance(t, Tensor) or t.ndim != 1 or t.dtype != torch.long:
        got = f"{t.dtype} {tuple(t.shape)}" if isinstance(t, Tensor) else type(t).__name__
        raise ValueError(f"{name} must be an int64 tensor of shape (N,), got {got}")
    if num_ids is not None and t.numel() and (t.min() < 0 or t.max() >= num_ids):
        raise ValueError(f"{name} must lie in 0..{num_ids - 1}, got {t.min().item()}..{t.max().item()}")


def conditional_accuracy(requested: Tensor, predicted: Tensor, num_classes: int = 10) -> tuple[float, Tensor]:
    """Requested labels (N,) and classifier predictions (N,) -> (accuracy, per-class accuracy (num_classes,)).

    A class that was never requested gets NaN in the per-class tensor.
    """
    _positive_int(num_classes, "num_classes")
    _class_ids(requested, "requested", num_classes)
    _class_ids(predicted, "predicted", num_classes)
    if requested.shape != predicted.shape or requested.numel() == 0:
        raise ValueError(f"requested and predicted must have the same non-empty shape, got "
                         f"{tuple(requested.shape)} and {tuple(predicted.shape)}")
    requested, predicted = requested.cpu(), predicted.cpu()
    right = (requested == predicted).double()
    counts = torch.bincount(requested, minlength=num_classes).double()
    hits = torch.bincount(requested, weights=right, minlength=num_classes)
    per_class = torch.where(counts > 0, hits / counts.clamp(min=1), torch.full_like(counts, float("nan")))
    return right.mean().item(), per_class


def code_class_counts(codes: Tensor, predicted: Tensor, num_codes: int = 10,
                      num_classes: int = 10) -> Tensor:
    """Categorical codes (N,) and predicted classes (N,) -> (num_codes, num_classes) int64 counts."""
    _class_ids(codes, "codes", num_codes)
    _class_ids(predicted, "predicted", num_classes)
    if codes.shape != predicted.shape or codes.numel() == 0:
        raise ValueError(f"codes and predicted must have the same non-empty shape, got "
                         f"{tuple(codes.shape)} and {tuple(predicted.shape)}")
    flat = codes.cpu() * num_classes + predicted.cpu()
    return torch.bincount(flat, minlength=num_codes * num_classes).view(num_codes, num_classes)


def categorical_code_accuracy(codes: Tensor, predicted: Tensor, num_codes: int = 10,
                              num_classes: int = 10) -> tuple[float, dict[int, int]]:
    """Codes (N,) and predicted classes (N,) -> (accuracy, {code: class}) under the best one-to-one matching.

    An unsupervised code has no reason to call digit 3 "code 3": it may call it code 7. So the
    codes are matched to classes one to one (Hungarian algorithm, scipy's
    linear_sum_assignment) to maximise the agreement, and the accuracy is read under that
    matching. Chance level for K equal classes is about 1/K (a bit more, since the matching
    picks the luckiest pairing).
    """
    counts = code_class_counts(codes, predicted, num_codes, num_classes)
    rows, cols = linear_sum_assignment(counts.numpy(), maximize=True)
    matched = counts[torch.as_tensor(rows), torch.as_tensor(cols)].sum().item()
    return matched / codes.numel(), {int(r): int(c) for r, c in zip(rows, cols)}


def within_code_spread(images: Tensor, codes: Tensor, num_codes: int = 10) -> Tensor:
    """Images (N, C, H, W) and codes (N,) -> (num_codes,): for each code, the pixel-wise standard
    deviation across its images, averaged over pixels.

    The check that goes with categorical_code_accuracy: a generator that draws one image per
    code can match codes to classes perfectly while ignoring its noise. Its spread is near 0;
    real digits of one class spread about 0.2-0.35 in [-1, 1] pixels. Codes with fewer than two
    images get NaN.
    """
    if not isinstance(images, Tensor) or images.ndim != 4 or not images.is_floating_point():
        got = f"{images.dtype} {tuple(images.shape)}" if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"images must be a float tensor of shape (N, C, H, W), got {got}")
    _class_ids(codes, "codes", num_codes)
    if codes.shape != images.shape[:1]:
        raise ValueError(f"codes must have shape ({images.shape[0]},), one per image, got {tuple(codes.shape)}")
    _require_finite(images, "images")
    flat, codes = images.detach().cpu().flatten(1).double(), codes.cpu()          # (N, C*H*W), (N,)
    spread = torch.full((num_codes,), float("nan"), dtype=torch.float64)
    for code in range(num_codes):
        group = flat[codes == code]                                                # (n_code, C*H*W)
        if len(group) >= 2:
            spread[code] = group.std(dim=0).mean()
    return spread.float()


# --- Lesson 07: VAE versus GAN (how sharp, how close to a training image) ---

def _images(images: Tensor, name: str) -> Tensor:
    if not isinstance(images, Tensor) or images.ndim != 4 or images.numel() == 0:
        got = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"{name} must be a non-empty (N, C, H, W) image tensor, got {got}")
    if images.shape[-1] < 2 or images.shape[-2] < 2:
        raise ValueError(f"{name} must be at least 2×2 pixels, got {tuple(images.shape[-2:])}")
    _require_finite(images, name)
    return images.detach().float()


def sharpness(images: Tensor) -> float:
    """(N, C, H, W) images in [-1, 1] (uint8 ones are converted with to_float) -> their mean
    image-gradient magnitude.

    Forward differences across and down, sqrt(dx² + dy²) at each pixel, averaged over all pixels
    and images. Edges raise it, blur lowers it: compare samples with real images of the same kind.
    Float images outside [-1, 1] are refused: their number would compare with nothing.
    """
    x = _images(to_float(images) if isinstance(images, Tensor) and images.dtype == torch.uint8 else images, "images")
    _check_pixels(x, "sharpness")
    dx = x[:, :, :-1, 1:] - x[:, :, :-1, :-1]   # (N, C, H-1, W-1)
    dy = x[:, :, 1:, :-1] - x[:, :, :-1, :-1]   # (N, C, H-1, W-1)
    return (dx ** 2 + dy ** 2).sqrt().mean().item()


def nearest_neighbours(queries: Tensor, references: Tensor, chunk: int = 1024,
                       exclude: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """(M, C, H, W) queries and (N, C, H, W) references -> for each query the pixel distance (M,)
    to its nearest reference and that reference's index (M,) (Euclidean, on the CPU).

    `exclude` (M,): for each query, the index of a reference it may not pick (itself, when the
    queries are references: the nearest *other* one).
    """
    q, r = _images(queries, "queries").flatten(1).cpu(), _images(references, "references").flatten(1).cpu()
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"queries and references must have the same image size, got "
                         f"{tuple(queries.shape[1:])} and {tuple(references.shape[1:])}")
    if exclude is not None:
        exclude = torch.as_tensor(exclude).cpu()
        if exclude.shape != (len(q),) or len(r) < 2:
            raise ValueError(f"exclude must hold one reference index per query ({len(q)},) and there must "
                             f"be at least 2 references, got {tuple(exclude.shape)} and {len(r)}")
    distances, indices = [], []
    for start, block in zip(range(0, len(q), chunk), q.split(chunk)):
        pairwise = torch.cdist(block, r)          # (chunk, N)
        if exclude is not None:
            pairwise[torch.arange(len(block)), exclude[start:start + len(block)]] = float("inf")
        best = pairwise.min(dim=1)                # (chunk,) each
        distances.append(best.values)
        indices.append(best.indices)
    return torch.cat(distances), torch.cat(indices)


# --- Lesson 03: a Fréchet distance on a pretrained network's features ---

def load_inception() -> nn.Module:
    """torchvision's Inception v3 with ImageNet weights (downloaded once into torch's cache),
    its classifier replaced by the identity: images -> (N, 2048) pool features, in eval mode."""
    model = torchvision.models.inception_v3(weights=torchvision.models.Inception_V3_Weights.IMAGENET1K_V1)
    model.fc = nn.Identity()
    return model.eval()


@torch.no_grad()
def inception_features(images: Tensor, model: nn.Module, batch_size: int = 100) -> Tensor:
    """(N, 3, H, W) images in [-1, 1] -> (N, 2048) pool features of `model` (from load_inception),
    each batch resized to 299×299 and normalised as for ImageNet; float32 on the CPU."""
    x = _images(images, "images")
    if x.shape[1] != 3:
        raise ValueError(f"images must have 3 channels, got {x.shape[1]}")
    device = next(model.parameters()).device
    mean = torch.tensor([0.485, 0.456, 0.406], device=device).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device=device).view(1, 3, 1, 1)
    features = []
    for batch in x.split(batch_size):
        batch = F.interpolate((batch.to(device) + 1) / 2, size=(299, 299), mode="bilinear",
                              align_corners=False)                        # (B, 3, 299, 299) in [0, 1]
        features.append(model((batch - mean) / std).flatten(1).float().cpu())  # (B, 2048)
    return torch.cat(features)


def pretrained_frechet_distance(generated: Tensor, real: Tensor, real_is_celeba: bool,
                                device: str | torch.device = "cpu") -> tuple[float | None, str]:
    """(N, 3, H, W) generated and real images in [-1, 1] -> (Fréchet distance on Inception-v3
    features, a line saying what was measured), or (None, a line saying why it was not).

    torchvision's ImageNet weights, not the TensorFlow ones of the published FIDs: comparable
    between runs of this lesson, not with papers' numbers.
    """
    if not real_is_celeba:
        return None, ("Fréchet distance on Inception features: not measured, the real faces are not "
                      "CelebA (on a stand-in data set the number would compare with nothing).")
    try:
        model = load_inception().to(device)
    except Exception as error:  # no network, a proxy, a broken cache: say which
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:160]
        return None, (f"Fréchet distance on Inception features: not measured, the Inception-v3 weights "
                      f"cannot be loaded ({type(error).__name__}: {reason}).")
    distance = frechet_distance(inception_features(generated, model), inception_features(real, model))
    return distance, (f"Fréchet distance on Inception-v3 features (torchvision's weights), {len(generated):,} "
                      f"generated vs {len(real):,} real faces: {distance:.1f}")
