"""Pictures: live training curves that update in place, decision surfaces, image grids."""
from __future__ import annotations

from typing import Callable, Sequence

import matplotlib.pyplot as plt
from matplotlib.colors import LogNorm
import torch
from IPython import get_ipython
from IPython.display import display
from torch import Tensor
from torchvision.utils import make_grid

from helpers.training import History


def _display(fig, handle=None, output=None):
    """Show a figure in a notebook, replacing the one shown before; returns the display handle.

    With `output` (an ipywidgets Output, e.g. beside the controls that train), the figure replaces
    what that area shows; otherwise it is shown through `handle` (a new display when None).
    Outside IPython there is nothing to show on, and nothing happens.
    """
    shell = get_ipython()
    if shell is None:
        return None
    if output is not None:  # set the area's content directly: an Output drops display updates
        data, metadata = shell.display_formatter.format(fig)
        output.outputs = ({"output_type": "display_data", "data": data, "metadata": metadata},)
        return None
    if handle is None:
        return display(fig, display_id=True)
    handle.update(fig)
    return handle


class LivePlot:
    """A figure that redraws in place while training: curves from a History, plus extra panels.

    plot = LivePlot(curves=[["d_loss", "g_loss"], ["d_real", "d_fake"]], extra_panels=1)
    plot.update(history, draw_extra=lambda axes: ...)   # call every few steps
    plot.show_in(output)   # from now on, redraw in an ipywidgets Output (beside the controls)
    """

    def __init__(self, curves: Sequence[Sequence[str]], extra_panels: int = 0,
                 panel_size: float = 3.6, titles: Sequence[str] | None = None) -> None:
        if not curves and not extra_panels:
            raise ValueError("LivePlot needs at least one list of curve names or one extra panel")
        self.curves = [list(c) for c in curves]
        self.extra_panels = extra_panels
        self.titles = list(titles) if titles is not None else [" / ".join(c) for c in self.curves]
        n = len(self.curves) + extra_panels
        self.fig, axes = plt.subplots(1, n, figsize=(panel_size * n, panel_size * 0.85))
        self.axes = list(axes) if n > 1 else [axes]
        plt.close(self.fig)  # shown through the display handle only, never twice
        self.handle = None
        self.output = None

    def update(self, history: History,
               draw_extra: Callable[[list], None] | None = None) -> None:
        for ax, names, title in zip(self.axes, self.curves, self.titles):
            ax.clear()
            for name in names:
                if name in history:
                    ax.plot(history.steps(name), history.values(name), label=name, lw=1)
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("step", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.legend(fontsize=7)
        if draw_extra is not None:
            extra = self.axes[len(self.curves):]
            for ax in extra:
                ax.clear()
            draw_extra(extra)
        self.fig.tight_layout()
        self.handle = _display(self.fig, self.handle, self.output)

    def show_in(self, output) -> None:
        """Show the figure as it stands in `output` (an ipywidgets Output); redraw it there from now on."""
        if not hasattr(output, "outputs"):
            raise TypeError(f"output must be an ipywidgets Output, got {type(output).__name__}")
        self.output = output
        _display(self.fig, None, output)

    def save(self, path) -> None:
        self.fig.savefig(path, dpi=110, bbox_inches="tight")


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


def image_grid(images: Tensor, nrow: int = 8, padding: int = 2) -> Tensor:
    """(N, C, H, W) images in [-1, 1] -> one (H', W', C) grid in [0, 1], ready for imshow."""
    if not isinstance(images, Tensor) or images.ndim != 4 or images.shape[1] not in (1, 3):
        shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"images must be a tensor of shape (N, C, H, W) with C = 1 or 3, got {shape}")
    grid = make_grid(images.detach().float().cpu().clamp(-1, 1), nrow=nrow, padding=padding,
                     normalize=True, value_range=(-1, 1), pad_value=1.0)
    return grid.permute(1, 2, 0)  # (H', W', 3)


def show_images(images: Tensor, nrow: int = 8, title: str = "", ax=None, size: float = 5.0):
    """Draw (N, C, H, W) images in [-1, 1] as a grid; returns the axes."""
    grid = image_grid(images, nrow=nrow)
    if ax is None:
        _, ax = plt.subplots(figsize=(size, size * grid.shape[0] / grid.shape[1]))
    ax.imshow(grid.numpy(), interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def show_image_row(panels: dict[str, Tensor], nrow: int = 8, size: float = 2.6):
    """{title: (N, C, H, W) images in [-1, 1]} -> one figure, a grid per title side by side."""
    fig, axes = plt.subplots(1, len(panels), figsize=(size * len(panels), size * 1.25), squeeze=False)
    for ax, (title, images) in zip(axes[0], panels.items()):
        show_images(images, nrow=nrow, title=title, ax=ax)
    fig.tight_layout()
    return fig


def class_bars(fractions: Tensor, classes: Sequence[str], threshold: float = 0.05, ax=None):
    """(K,) shares of samples per class (a classifier's verdicts) as % bars, with the coverage threshold."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    ax.bar(range(len(classes)), 100 * fractions.cpu().numpy())
    ax.axhline(100 * threshold, color="red", ls="--", lw=1, label=f"{threshold:.0%} threshold")
    ax.axhline(100 / len(classes), color="gray", ls=":", lw=1, label=f"uniform ({1 / len(classes):.0%})")
    ax.set_xticks(range(len(classes)), classes, rotation=45 if max(map(len, classes)) > 2 else 0, fontsize=8)
    ax.set_ylabel("% of samples")
    ax.set_title("What the classifier thinks the samples are", fontsize=9)
    ax.legend(fontsize=8)
    return ax


# --- Lesson 05: why GANs fail, and how to fix them ---

def density(ax, points: Tensor, lim: float, centres: Tensor | None = None, bins: int = 120,
            title: str = "") -> None:
    """Draw (N, 2) points as a 2-D histogram on [-lim, lim]² (log colour scale), centres (K, 2) as rings."""
    if not isinstance(points, Tensor) or points.ndim != 2 or points.shape[1] != 2:
        shape = tuple(points.shape) if isinstance(points, Tensor) else type(points).__name__
        raise ValueError(f"points must be a tensor of shape (N, 2), got {shape}")
    if not lim > 0:
        raise ValueError(f"lim must be positive, got {lim!r}")
    p = points.detach().float().cpu().numpy()
    ax.hist2d(p[:, 0], p[:, 1], bins=bins, range=[[-lim, lim], [-lim, lim]], cmap="magma",
              norm=LogNorm(vmin=1), cmin=1)
    ax.set_facecolor("black")
    if centres is not None:
        c = centres.detach().float().cpu().numpy()
        ax.scatter(c[:, 0], c[:, 1], s=60, facecolors="none", edgecolors="deepskyblue", lw=0.8)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


def density_grid(panels: Sequence[Sequence[tuple[str, Tensor]]], lim: float,
                 centres: Tensor | None = None, size: float = 2.2, row_labels: Sequence[str] = (),
                 bins: int = 120):
    """Rows of (title, (N, 2) points) panels drawn with `density`; returns the figure."""
    rows, cols = len(panels), max((len(r) for r in panels), default=0)
    if rows == 0 or cols == 0:
        raise ValueError("panels must be a non-empty list of rows of (title, points)")
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    for r, row in enumerate(panels):
        for c in range(cols):
            if c < len(row):
                title, pts = row[c]
                density(axes[r][c], pts, lim, centres=centres, bins=bins, title=title)
            else:
                axes[r][c].set_axis_off()
        if r < len(row_labels):
            axes[r][0].set_ylabel(row_labels[r], fontsize=8)
    fig.tight_layout()
    return fig


# --- Lesson 05: what G's points climb, over the plane (GAN Lab's map, for a D or a critic) ---

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


# --- Lessons 01 and 02: how hard each G loss pushes ---------------------------------------------

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


# --- Lesson 08: image-to-image translation ---

def history_panels(histories: dict[str, History], panels: dict[str, Sequence[str]], size: float = 3.6):
    """{run: History}, {panel title: names logged} -> one panel per title with each run's curve of each
    name (one that a run never logged, or logged as zero only, is left out); returns (fig, axes)."""
    if not histories or not panels:
        raise ValueError("history_panels needs at least one History and one panel")
    fig, axes = plt.subplots(1, len(panels), figsize=(size * 1.4 * len(panels), size * 0.85), squeeze=False)
    for ax, (title, names) in zip(axes[0], panels.items()):
        for run, history in histories.items():
            for name in names:
                if name in history and any(value != 0 for value in history.values(name)):
                    label = run if len(names) == 1 else f"{name}, {run}"
                    ax.plot(history.steps(name), history.values(name), label=label, lw=1, marker=".", ms=4)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig, list(axes[0])


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
