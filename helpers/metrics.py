"""Numbers that say how well a GAN is doing."""
from __future__ import annotations

import torch
from pytorch_fid.inception import InceptionV3
from scipy.optimize import linear_sum_assignment
from torch import Tensor, nn

from helpers.images import _check_pixels, to_float
from helpers.toy_data import TWO_PI


def _require_finite(values: Tensor, name: str) -> None:
    """Raise unless every row is finite: NaN gives NaN scores, and eigvals on NaN/inf kills the process (oneMKL)."""
    bad = int((~torch.isfinite(values.reshape(len(values), -1))).any(dim=1).sum())
    if bad:
        raise ValueError(f"{name} holds NaN or inf in {bad} of its {len(values)} rows: they are not finite "
                         "(a diverged generator?), so there is nothing to measure")


def _points(points: Tensor) -> Tensor:
    if not isinstance(points, Tensor) or points.ndim != 2 or points.shape[1] != 2 or points.shape[0] == 0:
        got = tuple(points.shape) if isinstance(points, Tensor) else type(points).__name__
        raise ValueError(f"points must be a torch.Tensor of shape (N, 2) with N > 0, got {got}")
    if not points.is_floating_point():
        raise ValueError(f"points must be a float tensor, got dtype {points.dtype}")
    _require_finite(points, "points")
    return points.detach().float().cpu()


def curve_error(points: Tensor) -> float:
    """(N, 2) points -> mean |y - sin x|: how far they sit from the curve y = sin x."""
    p = _points(points)
    return (p[:, 1] - torch.sin(p[:, 0])).abs().mean().item()


def curve_coverage(points: Tensor) -> float:
    """(N, 2) points -> 1-D Wasserstein distance between their x and Uniform[0, 2π] (0 = the whole curve)."""
    x = _points(points)[:, 0].double().sort().values
    quantiles = TWO_PI * (torch.arange(len(x), dtype=torch.float64) + 0.5) / len(x)
    return (x - quantiles).abs().mean().item()


def frechet_distance(features_a: Tensor, features_b: Tensor) -> float:
    """(N, D) and (M, D) features -> Fréchet distance between the Gaussians fitted to them (on Inception-v3
    features, the FID): d² = |μa - μb|² + tr(Σa) + tr(Σb) - 2 tr((Σa Σb)^½)."""
    statistics = []
    for name, x in (("features_a", features_a), ("features_b", features_b)):
        if not isinstance(x, Tensor) or x.ndim != 2 or x.shape[0] < 2:
            got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"{name} must be a (N, D) tensor of features with N ≥ 2, got {got}")
        _require_finite(x, name)
        x = x.detach().to("cpu", torch.float64)
        mean = x.mean(dim=0)  # (D,)
        centred = x - mean    # (N, D)
        statistics.append((mean, centred.T @ centred / (x.shape[0] - 1)))  # (D,), (D, D)
    (mean_a, cov_a), (mean_b, cov_b) = statistics
    if mean_a.shape != mean_b.shape:
        raise ValueError(f"both feature sets need the same width D, got {len(mean_a)} and {len(mean_b)}")
    trace_sqrt = torch.linalg.eigvals(cov_a @ cov_b).real.clamp(min=0).sqrt().sum()  # Σa Σb's eigenvalues are ≥ 0
    d2 = (mean_a - mean_b).square().sum() + cov_a.trace() + cov_b.trace() - 2 * trace_sqrt
    return max(d2.item(), 0.0)


# --- Lesson 06: controlling what a GAN makes (conditional accuracy, categorical-code accuracy) ---

def _class_ids(t: Tensor, name: str, num_ids: int) -> Tensor:
    """t on the CPU; raises unless it is an int64 tensor of shape (N,) with values in 0..num_ids-1."""
    if not isinstance(t, Tensor) or t.ndim != 1 or t.dtype != torch.long:
        got = f"{t.dtype} {tuple(t.shape)}" if isinstance(t, Tensor) else type(t).__name__
        raise ValueError(f"{name} must be an int64 tensor of shape (N,), got {got}")
    t = t.cpu()
    if t.numel() and (t.min() < 0 or t.max() >= num_ids):
        raise ValueError(f"{name} must lie in 0..{num_ids - 1}, got {t.min().item()}..{t.max().item()}")
    return t


def _counts(a: Tensor, b: Tensor, names: tuple[str, str], num_a: int, num_b: int) -> Tensor:
    """Class ids a (N,) and b (N,) -> (num_a, num_b) int64 counts of each pair."""
    a, b = _class_ids(a, names[0], num_a), _class_ids(b, names[1], num_b)
    if a.shape != b.shape or a.numel() == 0:
        raise ValueError(f"{names[0]} and {names[1]} must have the same non-empty shape, got "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    return torch.bincount(a * num_b + b, minlength=num_a * num_b).view(num_a, num_b)


def conditional_accuracy(requested: Tensor, predicted: Tensor, num_classes: int = 10) -> tuple[float, Tensor]:
    """Requested labels (N,), predictions (N,) -> (accuracy, per-class accuracy (num_classes,), NaN if unasked)."""
    counts = _counts(requested, predicted, ("requested", "predicted"), num_classes, num_classes).double()
    requests = counts.sum(dim=1)  # (num_classes,)
    per_class = torch.where(requests > 0, counts.diagonal() / requests.clamp(min=1), float("nan"))
    return (counts.trace() / counts.sum()).item(), per_class


def code_class_counts(codes: Tensor, predicted: Tensor, num_codes: int = 10, num_classes: int = 10) -> Tensor:
    """Categorical codes (N,) and predicted classes (N,) -> (num_codes, num_classes) int64 counts."""
    return _counts(codes, predicted, ("codes", "predicted"), num_codes, num_classes)


def categorical_code_accuracy(codes: Tensor, predicted: Tensor, num_codes: int = 10,
                              num_classes: int = 10) -> tuple[float, dict[int, int]]:
    """Codes (N,) and predicted classes (N,) -> (accuracy, {code: class}) under the one-to-one matching of codes
    to classes (Hungarian algorithm) that agrees most: chance is a bit over 1/K."""
    counts = code_class_counts(codes, predicted, num_codes, num_classes)
    rows, cols = linear_sum_assignment(counts.numpy(), maximize=True)
    matched = counts[torch.as_tensor(rows), torch.as_tensor(cols)].sum().item()
    return matched / codes.numel(), {int(r): int(c) for r, c in zip(rows, cols)}


def _images(images: Tensor, name: str) -> Tensor:
    if not isinstance(images, Tensor) or images.ndim != 4 or images.numel() == 0 or not images.is_floating_point():
        got = f"{images.dtype} {tuple(images.shape)}" if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"{name} must be a non-empty float tensor of shape (N, C, H, W), got {got}")
    _require_finite(images, name)
    return images.detach().float()


def within_code_spread(images: Tensor, codes: Tensor, num_codes: int = 10) -> Tensor:
    """Images (N, C, H, W) and codes (N,) -> (num_codes,): each code's pixel-wise standard deviation across its
    images, averaged over pixels (NaN under two images). Near 0 for a generator that ignores its noise."""
    flat = _images(images, "images").cpu().flatten(1).double()  # (N, C*H*W)
    codes = _class_ids(codes, "codes", num_codes)
    if codes.shape != flat.shape[:1]:
        raise ValueError(f"codes must have shape ({len(flat)},), one per image, got {tuple(codes.shape)}")
    spread = torch.full((num_codes,), float("nan"), dtype=torch.float64)
    for code in range(num_codes):
        group = flat[codes == code]  # (n_code, C*H*W)
        if len(group) >= 2:
            spread[code] = group.std(dim=0).mean()
    return spread.float()


# --- Lesson 07: VAE versus GAN (how sharp, how close to a training image) ---

def sharpness(images: Tensor) -> float:
    """(N, C, H, W) images in [-1, 1] (or uint8) -> their mean image-gradient magnitude: edges raise it, blur
    lowers it; compare samples with real images of the same kind."""
    x = _images(to_float(images) if isinstance(images, Tensor) and images.dtype == torch.uint8 else images, "images")
    if x.shape[-1] < 2 or x.shape[-2] < 2:
        raise ValueError(f"images must be at least 2×2 pixels, got {tuple(x.shape[-2:])}")
    _check_pixels(x, "sharpness")  # outside [-1, 1] the number would compare with nothing
    dx = x[:, :, :-1, 1:] - x[:, :, :-1, :-1]  # (N, C, H-1, W-1)
    dy = x[:, :, 1:, :-1] - x[:, :, :-1, :-1]  # (N, C, H-1, W-1)
    return (dx ** 2 + dy ** 2).sqrt().mean().item()


def nearest_neighbours(queries: Tensor, references: Tensor, chunk: int = 1024,
                       exclude: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """(M, C, H, W) queries, (N, C, H, W) references -> each query's pixel distance (M,) to its nearest reference
    and that one's index (M,); `exclude` (M,) names a reference each query may not pick."""
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
        pairwise = torch.cdist(block, r)  # (chunk, N)
        if exclude is not None:
            pairwise[torch.arange(len(block)), exclude[start:start + len(block)]] = float("inf")
        best = pairwise.min(dim=1)        # (chunk,) each
        distances.append(best.values)
        indices.append(best.indices)
    return torch.cat(distances), torch.cat(indices)


# --- Lesson 03: the FID, a Fréchet distance on a pretrained network's features ---

@torch.no_grad()
def inception_features(images: Tensor, model: nn.Module) -> Tensor:
    """(N, 3, H, W) images in [-1, 1] -> (N, 2048) float32 pool features of pytorch-fid's `InceptionV3` (which
    resizes to 299×299 itself), 100 images at a time, returned on the CPU."""
    x = _images(images, "images")
    if x.shape[1] != 3:
        raise ValueError(f"images must have 3 channels, got {x.shape[1]}")
    device = next(model.parameters()).device
    features = [model((batch.to(device) + 1) / 2)[0] for batch in x.split(100)]  # it takes [0, 1]: (B, 2048, 1, 1)
    return torch.cat([f.flatten(1).float().cpu() for f in features])              # (N, 2048)


def pretrained_frechet_distance(generated: Tensor, real: Tensor, real_is_celeba: bool,
                                device: str | torch.device = "cpu") -> tuple[float | None, str]:
    """(N, 3, H, W) images in [-1, 1] -> (the FID of Heusel et al. 2017, with pytorch-fid's Inception-v3, or None;
    a line saying what was measured or why not)."""
    if not real_is_celeba:
        return None, ("FID: not measured, the real faces are not CelebA (on a stand-in data set the number "
                      "would compare with nothing).")
    try:  # the FID weights, downloaded once into torch's cache
        model = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[2048]])
    except Exception as error:  # no network, a proxy, a broken cache: say which
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:160]
        return None, (f"FID: not measured, the FID Inception weights cannot be loaded "
                      f"({type(error).__name__}: {reason}).")
    model = model.eval().to(device)
    distance = frechet_distance(inception_features(generated, model), inception_features(real, model))
    return distance, (f"FID (pytorch-fid's Inception-v3), {len(generated):,} generated vs {len(real):,} real faces: "
                      f"{distance:.1f}. Papers use 50,000 generated images; fewer give a higher number.")
