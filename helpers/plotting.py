"""Pictures: live training curves that update in place, image grids, point densities, curves of a History."""
from __future__ import annotations

from typing import Callable, Sequence

import matplotlib.pyplot as plt
from matplotlib.colors import LogNorm
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


def show_pictures(panels: dict[str, Tensor], size: float = 2.2, title: str = ""):
    """A row of (1, 3, H, W) or (3, H, W) pictures in [0, 1], one per title; returns the figure."""
    fig, axes = plt.subplots(1, len(panels), figsize=(size * len(panels), size + 0.4), squeeze=False)
    for ax, (name, picture) in zip(axes[0], panels.items()):
        ax.imshow(picture.detach().float().cpu().reshape(-1, *picture.shape[-2:]).permute(1, 2, 0).clamp(0, 1).numpy())
        ax.set_title(name, fontsize=9)
        ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
