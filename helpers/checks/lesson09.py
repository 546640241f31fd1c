"""Checks for lesson 09, the style-based generator (StyleGAN's ideas)."""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor, nn

from helpers.checks import call_exercise, expect, fail, fail_unless_shape, passed
from helpers.taught import lesson09 as taught


def check_modulated_conv(modulated_conv: Callable) -> None:
    """Lesson 09: scale x's input channels by the styles, one convolution, then (demodulate=True) divide output
    channel o of sample i by sqrt(sum over c, ky, kx of (styles[i, c] · weight[o, c, ky, kx])² + eps): as if each
    sample had its own modulated, demodulated weight. The sum is not over the output channels; eps goes inside."""
    torch.manual_seed(0)
    x, styles = torch.randn(3, 4, 6, 6), torch.rand(3, 4) * 2 + 0.2               # a different style per sample
    for what, weight, up, demodulate in (
            ("a 3×3 convolution", torch.randn(5, 4, 3, 3), False, True),
            ("a 4×4 transposed convolution (up=True)", torch.randn(5, 4, 4, 4), True, True),
            ("a 1×1 convolution with demodulate=False (toRGB)", torch.randn(2, 4, 1, 1), False, False)):
        def conv(weight: Tensor, styles: Tensor, demodulate: bool = False) -> Tensor:
            return taught.modulated_conv(x, weight, styles, up, demodulate)

        expected = conv(weight, styles, demodulate)
        got = call_exercise(modulated_conv, x, weight, styles, up, demodulate, name="modulated_conv")
        fail_unless_shape(got, expected.shape, f"for {what} the output should have shape {tuple(expected.shape)}",
                          "(N, C_out, H, W), or (N, C_out, 2H, 2W) when up.")
        norms = (styles.square() @ weight.square().sum((2, 3)).t() + 1e-8).sqrt()[:, :, None, None]  # (N, C_out)
        per_sample_norms = styles.square() @ weight.square().sum((0, 2, 3)) + 1e-8                    # (N,)
        ones = torch.ones_like(styles)                                                                # no style
        modulated, unstyled = conv(weight, styles), conv(weight, ones)                                # undivided
        expect(got, expected, {
            f"for {what}, it is not demodulated: divide each output channel by its norm.": modulated,
            f"for {what}, it is demodulated with the norm of the weights alone, not of the *modulated* weights.":
                conv(weight * weight.square().sum((1, 2, 3), keepdim=True).add(1e-8).rsqrt(), styles),
            f"for {what}, the norm is summed over the output channels: each output channel has its own norm.": [
                conv(weight * weight.square().sum((0, 2, 3), keepdim=True).add(1e-8).rsqrt(), ones),
                modulated * per_sample_norms.rsqrt()[:, None, None, None]],
            **({} if demodulate else {
                f"for {what}, it is demodulated although demodulate=False: toRGB skips the division.":
                    conv(weight, styles, True)}),
            f"for {what}, every sample got the same weight: the scale is one factor per sample and output channel.":
                conv(weight, styles.mean(0, keepdim=True).expand_as(styles), demodulate),
            f"for {what}, the output is multiplied by the norm: demodulation divides by it.":
                modulated * norms,
            f"for {what}, the styles were never applied: multiply x's input channels by them before `conv`.": [
                unstyled, conv(weight, ones, demodulate)],
            **({} if not demodulate else {
                f"for {what}, only the division uses the styles: multiply x's input channels by them before `conv`.":
                    unstyled / norms}),
        }, f"for {what} the output differs from convolving each sample with its own modulated weight (largest "
           f"difference {(got - expected).abs().max():.3g}).", "modulate the input, run `conv` once, then scale.")
    zero = styles.clone()
    zero[1] = 0.0                                                                  # a sample whose styles are all 0
    if not torch.isfinite(call_exercise(modulated_conv, x, torch.randn(5, 4, 3, 3), zero, False, True,
                                        name="modulated_conv")).all():
        fail("with a style of all zeros the output holds NaN or inf: 0 / sqrt(0).", "put eps inside the square root.")
    passed("modulated_conv: one demodulated weight per sample (3×3, transposed 4×4, toRGB), finite for zeros.")


def check_mix_styles(mix_styles: Callable) -> None:
    """Lesson 09: ws[:, i] = w_a for the layers i < crossover (coarse, low resolution), w_b for the others (fine);
    shape (N, num_layers, w_dim); differentiable, since training sends G's gradient through it."""
    torch.manual_seed(0)
    w_a, w_b = torch.randn(3, 5, requires_grad=True), torch.randn(3, 5)
    for num_layers, crossover in ((4, 2), (4, 1), (4, 3), (6, 4), (4, 4)):
        where = f"mix_styles(w_a, w_b, crossover={crossover}, num_layers={num_layers})"
        got = call_exercise(mix_styles, w_a, w_b, crossover, num_layers, name="mix_styles")
        fail_unless_shape(got, (3, num_layers, 5), f"{where} should return shape (N, num_layers, w_dim)",
                          "one w per layer: stack or expand along a new dimension 1.")

        def mix(first: range) -> Tensor:  # the layers in `first` take w_a, the others w_b
            return torch.stack([w_a if i in first else w_b for i in range(num_layers)], dim=1)

        expect(got, mix(range(crossover)), {
            f"{where}: A and B are swapped: the coarse layers (the first, low resolution) take w_a.":
                mix(range(crossover, num_layers)),
            f"{where}: layer `crossover` took w_a. It is the first layer of B: layers 0 … crossover - 1 take w_a.":
                mix(range(crossover + 1)),
            f"{where}: one layer too few takes w_a: layers 0 … crossover - 1 take it.": mix(range(crossover - 1)),
        }, f"{where}: the layers do not take w_a up to the crossover, then w_b.",
            "the first `crossover` layers take w_a; copy the vectors, do not add or average them.", tol=0)
    if not got.requires_grad:
        fail("the value is right but carries no gradient: training sends G's gradient through these styles into the "
             "mapping network.", "build ws from w_a and w_b with tensor operations, no .detach().")
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
    toy, true_mean = _ToyMapping(), 1 + 2 / math.sqrt(2 * math.pi)
    w_avg = call_exercise(mean_w, toy, name="mean_w")
    one_vector = isinstance(w_avg, Tensor) and w_avg.ndim == 1
    fail_unless_shape(w_avg, (16,), "mean_w should return one vector (w_dim,) = (16,)",
                      "draw z with generator.latent_dim numbers (here 16), not a global size." if one_vector else
                      "average over the samples (dim 0) only.")
    if (w_avg - true_mean).abs().max() > 0.08:
        hint = "map many random z (n of them), then average the w's."
        if torch.allclose(w_avg, toy.map(torch.zeros(16))):
            hint = "that is the w of the average z (z = 0); the mapping is not linear: " + hint
        elif w_avg.std() > 0.2:
            hint = "it varies a lot between dimensions, as a mean over one or a few samples does: " + hint
        fail(f"mean_w gave values from {w_avg.min():.2f} to {w_avg.max():.2f}; the true mean is {true_mean:.2f}.", hint)
    estimate = w_avg.mean().item()
    z, w_avg = torch.randn(8, 16), torch.full((16,), true_mean)
    w = toy.map(z)
    for psi in (0.5, 1.0, 0.0, 0.7):
        expected = w_avg + psi * (w - w_avg)
        got = call_exercise(truncate, toy, z, psi, w_avg, name="truncate")
        fail_unless_shape(got, expected.shape, f"truncate should return w' of shape {tuple(expected.shape)}")
        start = f"truncate(ψ = {psi}): "
        expect(got, expected, {
            start + "z was truncated (pulled towards 0) before the mapping: the trick pulls w towards w̄, in W.":
                toy.map(psi * z),
            start + "ψ weighs the wrong side: ψ = 1 must give w itself and ψ = 0 the average w̄.":
                w + psi * (w_avg - w),
            start + "w̄ came from this batch: use the w_avg passed in, estimated from many z.":
                w.mean(0) + psi * (w - w.mean(0)),
            start + "the result is ψ · w: the difference w - w̄ is scaled, then w̄ is added back.": psi * w,
        }, start + f"differs from w̄ + ψ (w - w̄) (largest difference {(got - expected).abs().max():.3g}).",
            "map z to w first, then move w towards w_avg.", tol=1e-5)
    centres = w_avg + torch.randn(8, 16)  # one centre per sample, as the lesson's second truncation table uses
    got = call_exercise(truncate, toy, z, 0.5, centres, name="truncate")
    per_sample = "truncate(ψ = 0.5) with one centre per sample (w_avg of shape (8, 16))"
    hint = "use w_avg as it comes, without reshaping or averaging it."
    fail_unless_shape(got, w.shape, f"{per_sample} should return w' of shape {tuple(w.shape)}", hint)
    expect(got, centres + 0.5 * (w - centres), {}, f"{per_sample} differs from w_avg + ψ (w - w_avg) row by row.",
           hint, tol=1e-5)
    passed(f"mean_w: {estimate:.3f} ({true_mean:.3f} exactly); truncate gives w̄ + ψ (w - w̄) for ψ = 0, 0.5, "
           "0.7, 1, also with one centre per sample.")
