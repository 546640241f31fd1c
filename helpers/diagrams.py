"""Diagrams that each explain one idea of a lesson, drawn from the lesson's own models."""
from __future__ import annotations

from typing import Callable, Sequence

import matplotlib.pyplot as plt
import torch
from torch import Tensor
from torch.nn import functional as F

from helpers.plotting import image_grid


def _plane(xlim: tuple[float, float], ylim: tuple[float, float], n: int) -> Tensor:
    """(n*n, 2) points of an n x n grid over xlim x ylim, row by row from the bottom."""
    xs, ys = torch.linspace(*xlim, n), torch.linspace(*ylim, n)
    return torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1).reshape(-1, 2)


def _arrows(ax, at: Tensor, arrows: Tensor, longest_drawn: float, **style) -> None:
    """(M, 2) arrows at (M, 2) points, scaled together so that the longest is `longest_drawn` in data units."""
    longest = arrows.norm(dim=1).max().item()
    (x, y), (u, v) = at.detach().float().cpu().numpy().T, arrows.detach().float().cpu().numpy().T
    ax.quiver(x, y, u, v, angles="xy", scale_units="xy", scale=longest / longest_drawn if longest > 0 else 1.0,
              **style)


@torch.no_grad()
def surface_probabilities(discriminator: Callable[[Tensor], Tensor], xlim: tuple[float, float],
                          ylim: tuple[float, float], resolution: int = 80,
                          device: str | torch.device = "cpu") -> Tensor:
    """D's (N, 2) -> (N, 1) probabilities on a grid over the plane -> (resolution, resolution), bottom row first."""
    return discriminator(_plane(xlim, ylim, resolution).to(device)).reshape(resolution, resolution).float().cpu()


def generator_arrows(discriminator: Callable[[Tensor], Tensor], points: Tensor) -> Tensor:
    """(N, 2) points -> (N, 2) gradients of log D(x), D's (N, 1) probabilities each from its own point."""
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (N, 2), got {tuple(points.shape)}")
    with torch.enable_grad():
        x = points.detach().float().clone().requires_grad_(True)
        log_d = torch.log(discriminator(x).clamp_min(1e-12)).sum()   # sum: each point its own gradient
        (gradient,) = torch.autograd.grad(log_d, x)
    return gradient


def draw_surface(ax, probabilities: Tensor, xlim: tuple[float, float], ylim: tuple[float, float],
                 real: Tensor, fake: Tensor, title: str = "", arrows: Tensor | None = None) -> None:
    """D's (R, R) probabilities, (N, 2) points on top, (M, 2) `arrows` (the longest 0.6) at the first M fakes."""
    if arrows is not None and (arrows.ndim != 2 or arrows.shape[1] != 2 or arrows.shape[0] > fake.shape[0]):
        raise ValueError(f"arrows must have shape (M, 2) with M <= {fake.shape[0]} generated points, "
                         f"got {tuple(arrows.shape)}")
    ax.imshow(probabilities.detach().float().cpu().numpy(), extent=(*xlim, *ylim), origin="lower", cmap="RdBu",
              vmin=0, vmax=1, aspect="auto", alpha=0.75)
    ax.scatter(*real.detach().float().cpu().numpy().T, s=3, c="black", label="real")
    ax.scatter(*fake.detach().float().cpu().numpy().T, s=3, c="orange", label="generated")
    if arrows is not None and len(arrows):
        _arrows(ax, fake[:len(arrows)], arrows, 0.6, color="indigo", width=0.004, headwidth=4,
                headlength=4, alpha=0.8)
    ax.set(xlim=xlim, ylim=ylim)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="lower left", markerscale=3)
    ax.set_title(title or "D(x): blue = 'real', red = 'fake'", fontsize=9)


def logit_push(losses: dict[str, Callable[[Tensor], Tensor]], logits: Tensor, against: str = "probability"):
    """How hard a G step pushes D's logit on a fake up: -d loss / d logit for each {name: batch-mean loss of
    (N, 1) logits} at (N,) `logits`, against D(G(z)) = σ(logit) or the logit itself; returns the axes."""
    if against not in ("probability", "logit"):
        raise ValueError(f"against must be 'probability' or 'logit', got {against!r}")
    if not isinstance(logits, Tensor) or logits.dim() != 1 or len(logits) < 2:
        raise ValueError(f"logits must be a 1-D tensor of at least 2 values, got {getattr(logits, 'shape', logits)!r}")
    _, ax = plt.subplots(figsize=(5, 3.2))
    x = torch.sigmoid(logits) if against == "probability" else logits
    for name, loss in losses.items():
        points = logits.detach().float().reshape(-1, 1).requires_grad_(True)
        with torch.enable_grad():
            slope, = torch.autograd.grad(loss(points) * len(points), points)  # a batch mean: one sample's slope
        ax.plot(x.detach().cpu().numpy(), -slope.flatten().cpu().numpy(), label=name)
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_xlabel("D(G(z))" if against == "probability" else "D's logit on a fake")
    ax.set_ylabel("push on the logit  (−d loss / d logit)")
    ax.legend(fontsize=8)
    return ax


def transposed_conv_overlap(kernel_sizes: Sequence[int] = (3, 4), stride: int = 2, size: int = 5):
    """How many kernel stamps of a transposed convolution cover each output pixel, in 1-D and 2-D (a figure)."""
    fig, axes = plt.subplots(len(kernel_sizes), 2, figsize=(10, 2.8 * len(kernel_sizes)), squeeze=False,
                             gridspec_kw=dict(width_ratios=(1.8, 1)))
    for (line_ax, map_ax), k in zip(axes, kernel_sizes):
        counts = F.conv_transpose1d(torch.ones(1, 1, size), torch.ones(1, 1, k), stride=stride)[0, 0].numpy()
        top = counts.max()
        for i in range(size):  # input pixel i stamps the kernel on output pixels i*stride ... i*stride + k - 1
            line_ax.barh(top + 0.7 + 0.45 * i, k, left=i * stride, height=0.35, color=f"C{i}", alpha=0.8)
        line_ax.bar(range(len(counts)), counts, width=0.9, align="edge", color="0.45")
        line_ax.set(yticks=range(int(top) + 1), xlabel="output pixel")
        line_ax.set_title(f"kernel {k}, stride {stride}: one stamp per input pixel (bars above), "
                          "stamps per output pixel (grey)", fontsize=9)
        grid = F.conv_transpose2d(torch.ones(1, 1, size, size), torch.ones(1, 1, k, k), stride=stride)[0, 0]
        fig.colorbar(map_ax.imshow(grid.numpy(), cmap="viridis", vmin=0), ax=map_ax, shrink=0.8)
        map_ax.set_title(f"2-D, kernel {k}×{k}: stamps per pixel", fontsize=9)
        map_ax.set_axis_off()
    fig.tight_layout()
    return fig


def show_gram_matrices(grams: dict[str, Tensor]):
    """Heat maps of (C, C) Gram matrices, one panel per title; returns the figure."""
    fig, axes = plt.subplots(1, len(grams), figsize=(3.4 * len(grams), 3.4), squeeze=False)
    for ax, (title, gram) in zip(axes[0], grams.items()):
        fig.colorbar(ax.imshow(gram.detach().float().cpu().numpy(), cmap="magma"), ax=ax, shrink=0.8)
        ax.set(title=title, xlabel="channel j", ylabel="channel i")
        ax.title.set_fontsize(9)
    fig.tight_layout()
    return fig


def slope_map(discriminator: Callable[[Tensor], Tensor], lim: float, critic: bool = False,
              centres: Tensor | None = None, points: Tensor | None = None, title: str = "",
              resolution: int = 100, arrows: int = 15, device: str | torch.device = "cpu"):
    """[-lim, lim]² coloured by what G raises at a point, log D(x) or a `critic`'s score (from D's (N, 1) logits
    of (N, 2) points), with its gradient; returns the figure."""
    def climbs(x: Tensor) -> Tensor:
        score = discriminator(x)
        if score.shape != (x.shape[0], 1):
            raise ValueError(f"discriminator should map (N, 2) to (N, 1), got {tuple(score.shape)}")
        return score if critic else F.logsigmoid(score)

    training = getattr(discriminator, "training", False)
    if training:
        discriminator.eval()  # spectral norm: no power-iteration update while we look
    with torch.no_grad():
        surface = climbs(_plane((-lim, lim), (-lim, lim), resolution).to(device)).reshape(resolution, resolution)
    with torch.enable_grad():
        at = _plane((-lim, lim), (-lim, lim), arrows).to(device).requires_grad_(True)
        (gradient,) = torch.autograd.grad(climbs(at).sum(), at)       # (arrows², 2): each point its own
    if training:
        discriminator.train()
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    image = ax.imshow(surface.float().cpu().numpy(), extent=(-lim, lim, -lim, lim), origin="lower", cmap="viridis")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="C(x)" if critic else "log D(x)")
    _arrows(ax, at, gradient, 0.2 * lim, color="white", width=0.005)
    if points is not None:
        ax.scatter(*points.detach().float().cpu().numpy().T, s=2, c="orange", label="generated")
    if centres is not None:
        ax.scatter(*centres.detach().float().cpu().numpy().T, s=60, facecolors="none", edgecolors="red", lw=1.0,
                   label="modes")
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
    ax.tick_params(labelsize=7)
    ax.set_title(title, fontsize=9)
    return fig


def draw_unet(unet, image_size: int, in_channels: int):
    """A helpers.image_to_image.UNet on image_size² inputs: encoder down the left, decoder up the right, each
    box a layer's output (channels × side), the skip connections across; returns the axes."""
    widths = [down[0].out_channels for down in unet.downs]                    # encoder outputs, level 1 … depth
    depth = len(widths)
    _, ax = plt.subplots(figsize=(1.5 * (2 * depth + 1), 0.9 * (depth + 2)))
    boxes = {("in", 0): (0, 0, f"input\n{in_channels}×{image_size}²"),
             ("out", 0): (2 * depth, 0, f"output\n{unet.ups[-1][0].out_channels}×{image_size}²")}
    for level, width in enumerate(widths, start=1):
        side = image_size // 2 ** level
        boxes[("in", level)] = (level, -level, f"{width}×{side}²")
        if level < depth:                                                      # the decoder's output, joined
            upsampled = unet.ups[depth - level - 1][0].out_channels
            boxes[("out", level)] = (2 * depth - level, -level, f"({upsampled}+{width})×{side}²")
    for (side, _), (x, y, text) in boxes.items():
        ax.text(x, y, text, ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle="round", facecolor="lightsteelblue" if side == "in" else "moccasin"))

    def arrow(start, end, shrink=16, **style):
        ax.annotate("", xy=boxes[end][:2], xytext=boxes[start][:2],
                    arrowprops=dict(arrowstyle="->", shrinkA=shrink, shrinkB=shrink, **style))

    for level in range(depth):
        arrow(("in", level), ("in", level + 1), color="steelblue")                       # down the encoder
        arrow(("in", depth) if level == depth - 1 else ("out", level + 1), ("out", level), color="darkorange")
    for level in range(1, depth):                                              # the skips, joined by channels
        arrow(("in", level), ("out", level), shrink=34, color="grey", ls="--")
    ax.text(depth, -0.88, "skips: joined on the channel axis", ha="center", fontsize=7, color="grey")
    ax.text(depth, -depth - 0.6, "blue: encoder, stride-2 convolutions halve the side; orange: decoder, transposed "
            "convolutions double it" + ("; the output is added to the input" if unet.residual else ""),
            ha="center", fontsize=8)
    ax.set(xlim=(-0.7, 2 * depth + 0.7), ylim=(-depth - 0.9, 0.6))
    ax.set_axis_off()
    return ax


def show_patch_logits(discriminator, inputs: Tensor, rows: dict[str, Tensor]):
    """pix2pix's PatchGAN (in eval mode) on (input, image) pairs: {row title: (N, 3, H, W) images in [-1, 1]} ->
    each image with D's logit map over it (red: judged real, blue: judged fake); returns the figure."""
    was_training = discriminator.training
    with torch.no_grad():
        logits = {name: discriminator.eval()(torch.cat([inputs, images], dim=1)).cpu() for name, images in rows.items()}
    discriminator.train(was_training)
    bound = max(value.abs().max().item() for value in logits.values()) or 1.0
    fig, axes = plt.subplots(len(rows), len(inputs), figsize=(2.2 * len(inputs), 2.2 * len(rows)), squeeze=False)
    for row_axes, (name, images) in zip(axes, rows.items()):
        side = images.shape[-1]
        for ax, image, logit in zip(row_axes, images, logits[name]):
            ax.imshow(image_grid(image[None]).numpy(), extent=(0, side, side, 0))
            shown = ax.imshow(logit[0].numpy(), cmap="coolwarm", alpha=0.45, vmin=-bound, vmax=bound,
                              extent=(0, side, side, 0), interpolation="nearest")
            ax.set_axis_off()
        row_axes[0].set_title(f"{name}: D's logit per patch", fontsize=8, loc="left")
    fig.colorbar(shown, ax=axes.ravel().tolist(), shrink=0.8, label="D's logit (> 0: real)")
    return fig
