"""Diagrams: pictures that each explain one idea of a lesson, drawn from the lesson's own models.

    D's surface and the gradients it sends G's points (01); how hard each G loss pushes (01, 02);
    a transposed convolution's overlap (03); Gram matrices (04); what G's points climb, over the plane (05);
    the U-Net and PatchGAN's logit map (08).
"""
from __future__ import annotations

from typing import Callable, Sequence

import matplotlib.pyplot as plt
import torch
from torch import Tensor

from helpers.plotting import image_grid


@torch.no_grad()
def surface_probabilities(discriminator: Callable[[Tensor], Tensor], xlim: tuple[float, float],
                          ylim: tuple[float, float], resolution: int = 80,
                          device: str | torch.device = "cpu") -> Tensor:
    """D's output on a resolution x resolution grid over the plane -> (resolution, resolution) probabilities.

    `discriminator` maps (N, 2) points to (N, 1) probabilities; wrap a logit model in a sigmoid,
    and put any input scaling inside the callable.
    """
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution}")
    xs = torch.linspace(*xlim, resolution)
    ys = torch.linspace(*ylim, resolution)
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1).reshape(-1, 2)  # (R*R, 2)
    prob = discriminator(grid.to(device))
    if prob.shape != (resolution * resolution, 1):
        raise ValueError(f"discriminator should map (N, 2) to (N, 1), got {tuple(prob.shape)}")
    return prob.reshape(resolution, resolution).float().cpu()


def generator_arrows(discriminator: Callable[[Tensor], Tensor], points: Tensor) -> Tensor:
    """(N, 2) points -> (N, 2) gradients of log D(x) at each point: where G's update pushes it.

    The non-saturating G loss -log D(G(z)) moves each generated point up this gradient (GAN Lab's
    arrows, Kahng et al., 2018). `discriminator` maps (N, 2) points to (N, 1) probabilities, each
    output depending on its own point only (no BatchNorm).
    """
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (N, 2), got {tuple(points.shape)}")
    with torch.enable_grad():
        x = points.detach().float().clone().requires_grad_(True)
        log_d = torch.log(discriminator(x).clamp_min(1e-12)).sum()   # sum: each point its own gradient
        (gradient,) = torch.autograd.grad(log_d, x)
    return gradient                                                    # (N, 2)


def draw_surface(ax, probabilities: Tensor, xlim: tuple[float, float], ylim: tuple[float, float],
                 real: Tensor, fake: Tensor, title: str = "", arrows: Tensor | None = None,
                 arrow_length: float = 0.6) -> None:
    """Heat map of D's (R, R) probabilities with real and generated (N, 2) points on top (as GAN Lab does).

    `arrows` (M, 2), M <= N: directions drawn at the first M generated points (generator_arrows),
    scaled together so that the longest is `arrow_length` in data units.
    """
    for name, pts in (("real", real), ("fake", fake)):
        if pts.ndim != 2 or pts.shape[1] != 2:
            raise ValueError(f"{name} points must have shape (N, 2), got {tuple(pts.shape)}")
    if arrows is not None and (arrows.ndim != 2 or arrows.shape[1] != 2 or arrows.shape[0] > fake.shape[0]):
        raise ValueError(f"arrows must have shape (M, 2) with M <= {fake.shape[0]} generated points, "
                         f"got {tuple(arrows.shape)}")
    if isinstance(probabilities, Tensor):
        probabilities = probabilities.detach().float().cpu().numpy()                 # (R, R)
    ax.imshow(probabilities, extent=(*xlim, *ylim), origin="lower", cmap="RdBu", vmin=0, vmax=1,
              aspect="auto", alpha=0.75)
    real, fake = real.detach().float().cpu().numpy(), fake.detach().float().cpu().numpy()  # (N, 2) each
    ax.scatter(real[:, 0], real[:, 1], s=3, c="black", label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=3, c="orange", label="generated")
    if arrows is not None and len(arrows):
        arrows = arrows.detach().float().cpu()
        longest = arrows.norm(dim=1).max().item()
        at, arrows = fake[:len(arrows)], arrows.numpy()
        ax.quiver(at[:, 0], at[:, 1], arrows[:, 0], arrows[:, 1], color="indigo",
                  angles="xy", scale_units="xy", scale=(longest / arrow_length) if longest > 0 else 1.0,
                  width=0.004, headwidth=4, headlength=4, alpha=0.8)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="lower left", markerscale=3)
    ax.set_title(title or "D(x): blue = 'real', red = 'fake'", fontsize=9)


def logit_push(losses: dict[str, Callable[[Tensor], Tensor]], logits: Tensor, against: str = "probability",
               ax=None):
    """Draw -d loss / d logit for each {name: loss of (N, 1) logits, a batch mean} at (N,) `logits`.

    It is how hard a G step pushes D's logit on a fake upwards; against="probability" puts D(G(z)) = σ(logit)
    on the x axis, against="logit" the logit itself. Returns the axes.
    """
    if against not in ("probability", "logit"):
        raise ValueError(f"against must be 'probability' or 'logit', got {against!r}")
    if not isinstance(logits, Tensor) or logits.dim() != 1 or len(logits) < 2:
        raise ValueError(f"logits must be a 1-D tensor of at least 2 values, got {getattr(logits, 'shape', logits)!r}")
    if ax is None:
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
    """How many kernel stamps of a transposed convolution cover each output pixel; returns the figure.

    One row per kernel size: in 1-D, each input pixel's stamp (k wide, every `stride` pixels) and the count of
    stamps under each output pixel; then the 2-D count for a size x size input (Odena et al., 2016).
    """
    fig, axes = plt.subplots(len(kernel_sizes), 2, figsize=(10, 2.8 * len(kernel_sizes)), squeeze=False,
                             gridspec_kw=dict(width_ratios=(1.8, 1)))
    for (line_ax, map_ax), k in zip(axes, kernel_sizes):
        ones = torch.ones(1, 1, k)
        counts = torch.nn.functional.conv_transpose1d(torch.ones(1, 1, size), ones, stride=stride)[0, 0].numpy()
        top = counts.max()
        for i in range(size):  # input pixel i stamps the kernel on output pixels i*stride ... i*stride + k - 1
            line_ax.barh(top + 0.7 + 0.45 * i, k, left=i * stride, height=0.35, color=f"C{i}", alpha=0.8)
        line_ax.bar(range(len(counts)), counts, width=0.9, align="edge", color="0.45")
        line_ax.set_yticks(range(int(top) + 1))
        line_ax.set_xlabel("output pixel")
        line_ax.set_title(f"kernel {k}, stride {stride}: one stamp per input pixel (bars above), "
                          "stamps per output pixel (grey)", fontsize=9)
        grid = torch.nn.functional.conv_transpose2d(torch.ones(1, 1, size, size), torch.ones(1, 1, k, k),
                                                    stride=stride)[0, 0]
        image = map_ax.imshow(grid.numpy(), cmap="viridis", vmin=0)
        fig.colorbar(image, ax=map_ax, shrink=0.8)
        map_ax.set_title(f"2-D, kernel {k}×{k}: stamps per pixel", fontsize=9)
        map_ax.set_axis_off()
    fig.tight_layout()
    return fig


def show_gram_matrices(grams: dict[str, Tensor], size: float = 3.4):
    """Heat maps of (C, C) Gram matrices, one panel per title; returns the figure."""
    fig, axes = plt.subplots(1, len(grams), figsize=(size * len(grams), size), squeeze=False)
    for ax, (title, gram) in zip(axes[0], grams.items()):
        image = ax.imshow(gram.detach().float().cpu().numpy(), cmap="magma")
        fig.colorbar(image, ax=ax, shrink=0.8)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("channel j")
        ax.set_ylabel("channel i")
    fig.tight_layout()
    return fig


def slope_map(discriminator: Callable[[Tensor], Tensor], lim: float, critic: bool = False,
              centres: Tensor | None = None, points: Tensor | None = None, title: str = "",
              resolution: int = 100, arrows: int = 15, device: str | torch.device = "cpu"):
    """Colour [-lim, lim]² by what G's update raises at a generated point, arrows of its gradient; returns the figure.

    `discriminator` maps (N, 2) points to (N, 1) logits, each from its own point: G raises log D(x) =
    logsigmoid(logit) under the non-saturating loss, or the score itself for a WGAN `critic` (GAN Lab,
    Kahng et al., 2018, draws the same for a D). All arrows share one scale, the longest a tenth of
    the plot, so a short arrow marks a flat stretch. `points` (N, 2) are drawn on top, `centres` (K, 2) as rings.
    """
    if not lim > 0 or resolution < 2 or arrows < 2:
        raise ValueError(f"lim must be positive, resolution and arrows at least 2, got {lim}, {resolution}, {arrows}")

    def climbs(x: Tensor) -> Tensor:
        score = discriminator(x)
        if score.shape != (x.shape[0], 1):
            raise ValueError(f"discriminator should map (N, 2) to (N, 1), got {tuple(score.shape)}")
        return score if critic else torch.nn.functional.logsigmoid(score)

    def on_grid(n: int) -> Tensor:  # (n*n, 2) points, row by row from the bottom
        axis = torch.linspace(-lim, lim, n)
        return torch.stack(torch.meshgrid(axis, axis, indexing="xy"), dim=-1).reshape(-1, 2).to(device)

    training = getattr(discriminator, "training", False)
    if training:
        discriminator.eval()  # spectral norm: no power-iteration update while we look
    with torch.no_grad():
        surface = climbs(on_grid(resolution)).reshape(resolution, resolution).float().cpu().numpy()
    with torch.enable_grad():
        at = on_grid(arrows).requires_grad_(True)
        (gradient,) = torch.autograd.grad(climbs(at).sum(), at)       # (arrows², 2): each point its own
    if training:
        discriminator.train()
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    image = ax.imshow(surface, extent=(-lim, lim, -lim, lim), origin="lower", cmap="viridis")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="C(x)" if critic else "log D(x)")
    at, gradient = at.detach().cpu().numpy(), gradient.float().cpu()
    longest = gradient.norm(dim=1).max().item()
    ax.quiver(at[:, 0], at[:, 1], gradient[:, 0].numpy(), gradient[:, 1].numpy(), color="white", angles="xy",
              scale_units="xy", scale=longest / (0.2 * lim) if longest > 0 else 1.0, width=0.005)
    if points is not None:
        p = points.detach().float().cpu().numpy()
        ax.scatter(p[:, 0], p[:, 1], s=2, c="orange", label="generated")
    if centres is not None:
        c = centres.detach().float().cpu().numpy()
        ax.scatter(c[:, 0], c[:, 1], s=60, facecolors="none", edgecolors="red", lw=1.0, label="modes")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.tick_params(labelsize=7)
    ax.set_title(title, fontsize=9)
    return fig


def draw_unet(unet, image_size: int, in_channels: int, ax=None):
    """A diagram of a helpers.image_to_image.UNet on image_size² inputs: its encoder down the left, its
    decoder up the right, each box a layer's output (channels × side), the skip connections across."""
    widths = [down[0].out_channels for down in unet.downs]                    # encoder outputs, level 1 … depth
    out_channels = unet.ups[-1][0].out_channels
    depth = len(widths)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.5 * (2 * depth + 1), 0.9 * (depth + 2)))
    boxes = {("in", 0): (0, 0, f"input\n{in_channels}×{image_size}²"),
             ("out", 0): (2 * depth, 0, f"output\n{out_channels}×{image_size}²")}
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
        ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="->", shrinkA=shrink, shrinkB=shrink, **style))

    for level in range(depth):                                                 # down the encoder
        arrow(boxes[("in", level)][:2], boxes[("in", level + 1)][:2], color="steelblue")
        up_from = ("in", depth) if level == depth - 1 else ("out", level + 1)
        arrow(boxes[up_from][:2], boxes[("out", level)][:2], color="darkorange")  # up the decoder
    for level in range(1, depth):                                              # the skips, joined by channels
        arrow(boxes[("in", level)][:2], boxes[("out", level)][:2], shrink=34, color="grey", ls="--")
    ax.text(depth, -0.88, "skips: joined on the channel axis", ha="center", fontsize=7, color="grey")
    ax.text(depth, -depth - 0.6, "blue: encoder, stride-2 convolutions halve the side; orange: decoder, transposed "
            "convolutions double it" + ("; the output is added to the input" if unet.residual else ""),
            ha="center", fontsize=8)
    ax.set_xlim(-0.7, 2 * depth + 0.7)
    ax.set_ylim(-depth - 0.9, 0.6)
    ax.set_axis_off()
    return ax


def show_patch_logits(discriminator, inputs: Tensor, rows: dict[str, Tensor], size: float = 2.2):
    """pix2pix's PatchGAN on (input, image) pairs: {row title: (N, 3, H, W) images in [-1, 1]} -> each image
    with D's logit map over it (red: judged real, blue: judged fake), D in eval mode; returns the figure."""
    was_training = discriminator.training
    with torch.no_grad():
        logits = {name: discriminator.eval()(torch.cat([inputs, images], dim=1)).cpu() for name, images in rows.items()}
    discriminator.train(was_training)
    bound = max(value.abs().max().item() for value in logits.values()) or 1.0
    n = len(inputs)
    fig, axes = plt.subplots(len(rows), n, figsize=(size * n, size * len(rows)), squeeze=False)
    for r, (name, images) in enumerate(rows.items()):
        for i in range(n):
            side = images.shape[-1]
            axes[r][i].imshow(image_grid(images[i:i + 1], nrow=1, padding=0).numpy(), extent=(0, side, side, 0))
            shown = axes[r][i].imshow(logits[name][i, 0].numpy(), cmap="coolwarm", alpha=0.45, vmin=-bound,
                                      vmax=bound, extent=(0, side, side, 0), interpolation="nearest")
            axes[r][i].set_axis_off()
        axes[r][0].set_title(f"{name}: D's logit per patch", fontsize=8, loc="left")
    fig.colorbar(shown, ax=axes.ravel().tolist(), shrink=0.8, label="D's logit (> 0: real)")
    return fig
