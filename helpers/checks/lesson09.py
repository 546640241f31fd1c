"""Checks for lesson 09, the style-based generator (StyleGAN's ideas)."""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from helpers.checks import call_exercise, fail, passed


def _per_sample_conv(x: Tensor, weights: Tensor, up: bool) -> Tensor:
    """x (N, C, H, W) convolved with its own weights (N, O, C, k, k): one grouped convolution over the batch."""
    n, out_channels, in_channels, k, _ = weights.shape
    x = x.reshape(1, n * in_channels, *x.shape[2:])
    if up:
        y = F.conv_transpose2d(x, weights.transpose(1, 2).reshape(n * in_channels, out_channels, k, k),
                               stride=2, padding=1, groups=n)
    else:
        y = F.conv2d(x, weights.reshape(n * out_channels, in_channels, k, k), padding=k // 2, groups=n)
    return y.reshape(n, out_channels, *y.shape[2:])


def _reference(x: Tensor, weight: Tensor, styles: Tensor, up: bool, demodulate: bool,
               norm_dims: tuple[int, ...] = (2, 3, 4), eps: float = 1e-8) -> Tensor:
    """StyleGAN2's modulated convolution written with one weight per sample (N, O, C, k, k)."""
    weights = styles[:, None, :, None, None] * weight[None]                 # modulate: w' = s_c · w
    if demodulate:
        weights = weights * torch.rsqrt(weights.square().sum(norm_dims, keepdim=True) + eps)
    return _per_sample_conv(x, weights, up)


def _shape(value: object) -> str:
    return str(tuple(value.shape)) if isinstance(value, Tensor) else type(value).__name__


def check_modulated_conv(modulated_conv: Callable) -> None:
    """Lesson 09: scale x's input channels by the styles, one convolution, then (demodulate=True) multiply
    output channel o of sample i by 1 / sqrt(sum over c, ky, kx of (styles[i, c] · weight[o, c, ky, kx])² + eps):
    the same as convolving each sample with its own modulated, demodulated weight. The sum runs over the
    input channels and the kernel, not over the output channels; eps goes inside the square root."""
    torch.manual_seed(0)
    x = torch.randn(3, 4, 6, 6)
    styles = torch.rand(3, 4) * 2 + 0.2                                      # a different style per sample
    cases = [("a 3×3 convolution", torch.randn(5, 4, 3, 3), False, True),
             ("a 4×4 transposed convolution (up=True)", torch.randn(5, 4, 4, 4), True, True),
             ("a 1×1 convolution with demodulate=False (toRGB)", torch.randn(2, 4, 1, 1), False, False)]
    for what, weight, up, demodulate in cases:
        expected = _reference(x, weight, styles, up, demodulate)
        got = call_exercise(modulated_conv, x, weight, styles, up, demodulate, name="modulated_conv")
        if not isinstance(got, Tensor) or got.shape != expected.shape:
            fail(f"for {what} the output should have shape {tuple(expected.shape)}, got {_shape(got)}.",
                 "return the convolution's output, scaled: (N, C_out, H, W), or (N, C_out, 2H, 2W) when up.")
        if torch.allclose(got, expected, rtol=1e-4, atol=1e-5):
            continue
        shared = styles.mean(0, keepdim=True).expand_as(styles)
        known = {
            "it is not demodulated: divide each output channel by the norm of that sample's modulated weights.":
                _reference(x, weight, styles, up, False),
            "it is demodulated with the norm of the weights alone: the norm must be that of the *modulated* "
            "weights, so it includes each sample's styles.": _per_sample_conv(
                x, styles[:, None, :, None, None] * (weight * torch.rsqrt(
                    weight.square().sum((1, 2, 3), keepdim=True) + 1e-8))[None], up),
            "the norm is summed over the output channels: each output channel o has its own norm, a sum over the "
            "input channels and the kernel of its weights.": _reference(x, weight, styles, up, demodulate, (1, 3, 4)),
            "every sample got the same weight: the styles differ per sample, so the scale of each output "
            "channel does too (one factor per sample and output channel, shape (N, C_out)).":
                _reference(x, weight, shared, up, demodulate),
            "the output is multiplied by the norm: demodulation divides by it.": _per_sample_conv(
                x, styles[:, None, :, None, None] * weight[None] * (
                    (styles[:, None, :, None, None] * weight[None]).square().sum((2, 3, 4), keepdim=True)
                    + 1e-8).sqrt(), up),
            "the styles scale the output channels: they scale the *input* channels (one number per c_in).":
                _reference(x, weight, torch.ones_like(styles), up, False),
        }
        for hint, value in known.items():
            if value.shape == got.shape and torch.allclose(got, value, rtol=1e-3, atol=1e-4):
                fail(f"for {what}, {hint}")
        fail(f"for {what} the output differs from convolving each sample with its own modulated weight "
             f"(largest difference {(got - expected).abs().max():.3g}).",
             "modulate the input, run `conv` once, then scale by 1 / sqrt(sum of the modulated weights² + eps).")
    zero = styles.clone()
    zero[1] = 0.0                                                             # a sample whose styles are all 0
    got = call_exercise(modulated_conv, x, cases[0][1], zero, False, True, name="modulated_conv")
    if not torch.isfinite(got).all():
        fail("with a style of all zeros the output holds NaN or inf: 0 / sqrt(0) is undefined.",
             "add eps inside the square root, sqrt(sum + eps), not after it.")
    passed("modulated_conv matches one modulated, demodulated weight per sample (3×3, transposed 4×4, toRGB) "
           "and stays finite for a style of zeros.")


def check_mix_styles(mix_styles: Callable) -> None:
    """Lesson 09: ws[:, i] = w_a for the layers i < crossover (coarse, low resolution) and w_b for i >= crossover
    (fine); shape (N, num_layers, w_dim); differentiable, since training sends G's gradient through it."""
    torch.manual_seed(0)
    w_a, w_b = torch.randn(3, 5, requires_grad=True), torch.randn(3, 5)
    for num_layers, crossover in ((4, 2), (4, 1), (4, 3), (6, 4), (4, 4)):
        expected = torch.stack([w_a if i < crossover else w_b for i in range(num_layers)], dim=1)
        got = call_exercise(mix_styles, w_a, w_b, crossover, num_layers, name="mix_styles")
        where = f"mix_styles(w_a, w_b, crossover={crossover}, num_layers={num_layers})"
        if not isinstance(got, Tensor) or got.shape != expected.shape:
            fail(f"{where} should return shape {tuple(expected.shape)} (N, num_layers, w_dim), got {_shape(got)}.",
                 "one w per layer: stack or expand along a new dimension 1.")
        if torch.equal(got, expected):
            continue
        took_a = [bool(torch.equal(got[:, i], w_a)) for i in range(num_layers)]
        took_b = [bool(torch.equal(got[:, i], w_b)) for i in range(num_layers)]
        should_a = [i < crossover for i in range(num_layers)]
        if all(a or b for a, b in zip(took_a, took_b)):
            if took_a == [not s for s in should_a]:
                fail(f"{where}: A and B are swapped: the coarse layers (the first ones, low resolution) take w_a.")
            if took_a == [i <= crossover for i in range(num_layers)]:
                fail(f"{where}: layer `crossover` took w_a. It is the first layer of B: layers "
                     f"0 … crossover - 1 take w_a.")
            if took_a == [i < crossover - 1 for i in range(num_layers)]:
                fail(f"{where}: one layer too few takes w_a: layers 0 … crossover - 1 take it.")
            fail(f"{where}: layers {[i for i, a in enumerate(took_a) if a]} took w_a, expected "
                 f"{[i for i, s in enumerate(should_a) if s]}.", "the first `crossover` layers take w_a.")
        fail(f"{where}: some layers hold neither w_a nor w_b.", "copy the vectors, do not add or average them.")
    if not got.requires_grad:
        fail("the value is right but carries no gradient: training sends G's gradient through these styles "
             "into the mapping network.", "build ws from w_a and w_b with tensor operations, no .detach().")
    passed("mix_styles: the first `crossover` layers take w_a, the rest w_b, and gradients flow.")


class _ToyMapping(nn.Module):
    """A stand-in generator for the truncation check: map(z) = 2·relu(z) + 1, so w̄ = 1 + 2/√(2π)."""

    latent_dim = 16

    def __init__(self) -> None:
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(()))  # so that next(parameters()) gives a device

    def map(self, z: Tensor) -> Tensor:
        return 2 * torch.relu(z) + 1


def check_truncation(truncate: Callable, mean_w: Callable) -> None:
    """Lesson 09: mean_w averages generator.map(z) over n random z (a mean in W, not the w of the mean z);
    truncate maps z to w = generator.map(z), then returns w_avg + psi · (w - w_avg): psi = 1 gives w itself,
    psi = 0 gives w_avg. Truncation pulls w, not z."""
    torch.manual_seed(0)
    toy = _ToyMapping()
    true_mean = 1 + 2 / math.sqrt(2 * math.pi)
    w_avg = call_exercise(mean_w, toy, name="mean_w")
    if not isinstance(w_avg, Tensor) or tuple(w_avg.shape) != (toy.latent_dim,):
        fail(f"mean_w should return one vector (w_dim,) = ({toy.latent_dim},), got {_shape(w_avg)}.",
             "average over the samples (dim 0) only.")
    if (w_avg - true_mean).abs().max() > 0.08:
        hint = "map many random z (n of them), then average the w's."
        if torch.allclose(w_avg, toy.map(torch.zeros(toy.latent_dim))):
            hint = "that is the w of the average z (z = 0); the mapping is not linear: " + hint
        elif w_avg.std() > 0.2:
            hint = "it varies a lot between dimensions, as a mean over one or a few samples does: " + hint
        fail(f"mean_w gave values from {w_avg.min():.2f} to {w_avg.max():.2f}; the true mean of w is "
             f"{true_mean:.2f} in every dimension.", hint)
    estimate = w_avg.mean().item()
    z, w_avg = torch.randn(8, toy.latent_dim), torch.full((toy.latent_dim,), true_mean)
    w = toy.map(z)
    for psi in (0.5, 1.0, 0.0, 0.7):
        expected = w_avg + psi * (w - w_avg)
        got = call_exercise(truncate, toy, z, psi, w_avg, name="truncate")
        if not isinstance(got, Tensor) or got.shape != expected.shape:
            fail(f"truncate should return w' of shape {tuple(expected.shape)}, got {_shape(got)}.")
        if torch.allclose(got, expected, atol=1e-5):
            continue
        known = {
            "z was truncated (pulled towards 0) before the mapping: the trick pulls w towards w̄, in W.":
                toy.map(psi * z),
            "ψ weighs the wrong side: ψ = 1 must give w itself and ψ = 0 the average w̄.": w + psi * (w_avg - w),
            "w̄ came from this batch: use the w_avg passed in, estimated from many z.":
                w.mean(0) + psi * (w - w.mean(0)),
            "the result is ψ · w: the difference w - w̄ is scaled, then w̄ is added back.": psi * w,
        }
        for hint, value in known.items():
            if torch.allclose(got, value, atol=1e-5):
                fail(f"truncate(ψ = {psi}): {hint}")
        fail(f"truncate(ψ = {psi}) differs from w̄ + ψ (w - w̄) (largest difference "
             f"{(got - expected).abs().max():.3g}).", "map z to w first, then move w towards w_avg.")
    passed(f"mean_w estimates w̄ ({estimate:.3f} here, {true_mean:.3f} exactly) and truncate gives "
           "w̄ + ψ (w - w̄) for ψ = 0, 0.5, 0.7, 1.")
