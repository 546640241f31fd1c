"""Pictures: live training curves redrawn in place, image grids, point densities, curves of several runs."""
from __future__ import annotations

from typing import Callable, Sequence

import matplotlib.pyplot as plt
from IPython import get_ipython
from IPython.display import display
from matplotlib.colors import LogNorm
from torch import Tensor
from torchvision.utils import make_grid

from helpers.training import History


class LivePlot:
    """A figure redrawn in place as training goes: a panel per list of names logged, then `extra_panels`."""

    def __init__(self, curves: Sequence[Sequence[str]], extra_panels: int = 0,
                 panel_size: float = 3.6, titles: Sequence[str] | None = None) -> None:
        self.curves = [list(c) for c in curves]
        self.titles = list(titles) if titles is not None else [" / ".join(c) for c in self.curves]
        n = len(self.curves) + extra_panels
        self.fig, axes = plt.subplots(1, n, figsize=(panel_size * n, panel_size * 0.85), squeeze=False)
        self.axes = list(axes[0])
        plt.close(self.fig)  # shown through the display handle only, never twice
        self.handle = self.output = None  # a display handle, or an ipywidgets Output set by show_in

    def update(self, history: History, draw_extra: Callable[[list], None] | None = None) -> None:
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
        self._show()

    def show_in(self, output) -> None:
        """Show the figure in `output` (an ipywidgets Output) and redraw it there from now on."""
        if not hasattr(output, "outputs"):
            raise TypeError(f"output must be an ipywidgets Output, got {type(output).__name__}")
        self.output = output
        self._show()

    def _show(self) -> None:
        shell = get_ipython()
        if shell is None:
            return
        if self.output is not None:  # set the area's content directly: an Output drops display updates
            data, metadata = shell.display_formatter.format(self.fig)
            self.output.outputs = ({"output_type": "display_data", "data": data, "metadata": metadata},)
        elif self.handle is None:
            self.handle = display(self.fig, display_id=True)
        else:
            self.handle.update(self.fig)

    def save(self, path) -> None:
        self.fig.savefig(path, dpi=110, bbox_inches="tight")


def image_grid(images: Tensor, nrow: int = 8, value_range: tuple[float, float] = (-1, 1)) -> Tensor:
    """(N, C, H, W) images in `value_range` -> one (H', W', 3) grid in [0, 1] (a lone image unpadded) for imshow."""
    if not isinstance(images, Tensor) or images.ndim != 4 or images.shape[1] not in (1, 3):
        shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"images must be a tensor of shape (N, C, H, W) with C = 1 or 3, got {shape}")
    grid = make_grid(images.detach().float().cpu().clamp(*value_range), nrow=nrow, padding=2,
                     normalize=True, value_range=value_range, pad_value=1.0)
    return grid.permute(1, 2, 0)


def show_images(images: Tensor, nrow: int = 8, title: str = "", ax=None, size: float = 5.0,
                value_range: tuple[float, float] = (-1, 1)):
    """Draw (N, C, H, W) images as a grid; returns the axes."""
    grid = image_grid(images, nrow=nrow, value_range=value_range)
    if ax is None:
        _, ax = plt.subplots(figsize=(size, size * grid.shape[0] / grid.shape[1]))
    ax.imshow(grid.numpy(), interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)
    return ax


def show_image_row(panels: dict[str, Tensor], nrow: int = 8, size: float = 2.6, title: str = "",
                   value_range: tuple[float, float] = (-1, 1)):
    """{title: (N, C, H, W) images} -> one figure, a grid per title side by side."""
    fig, axes = plt.subplots(1, len(panels), figsize=(size * len(panels), size * 1.25), squeeze=False)
    for ax, (name, images) in zip(axes[0], panels.items()):
        show_images(images, nrow=nrow, title=name, ax=ax, value_range=value_range)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def class_bars(fractions: Tensor, classes: Sequence[str], ax=None):
    """(K,) shares of samples per class as % bars, with the 5% threshold of class coverage and the uniform share."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    ax.bar(range(len(classes)), 100 * fractions.cpu().numpy())
    ax.axhline(5, color="red", ls="--", lw=1, label="5% threshold")
    ax.axhline(100 / len(classes), color="gray", ls=":", lw=1, label=f"uniform ({1 / len(classes):.0%})")
    ax.set_xticks(range(len(classes)), classes, rotation=45 if max(map(len, classes)) > 2 else 0, fontsize=8)
    ax.set_ylabel("% of samples")
    ax.set_title("What the classifier thinks the samples are", fontsize=9)
    ax.legend(fontsize=8)
    return ax


def density(ax, points: Tensor, lim: float, centres: Tensor | None = None, bins: int = 120,
            title: str = "") -> None:
    """Draw (N, 2) points as a 2-D histogram on [-lim, lim]² (log colour scale), centres (K, 2) as rings."""
    x, y = points.detach().float().cpu().numpy().T
    ax.hist2d(x, y, bins=bins, range=[[-lim, lim], [-lim, lim]], cmap="magma", norm=LogNorm(vmin=1), cmin=1)
    ax.set_facecolor("black")
    if centres is not None:
        ax.scatter(*centres.detach().float().cpu().numpy().T, s=60, facecolors="none", edgecolors="deepskyblue", lw=0.8)
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xticks=[], yticks=[])
    ax.set_title(title, fontsize=8)


def density_grid(panels: Sequence[Sequence[tuple[str, Tensor]]], lim: float, centres: Tensor | None = None,
                 size: float = 2.2):
    """Rows of (title, (N, 2) points) panels drawn with `density`; returns the figure."""
    rows, cols = len(panels), max((len(row) for row in panels), default=0)
    if rows == 0 or cols == 0:
        raise ValueError("panels must be a non-empty list of rows of (title, points)")
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    for row, row_axes in zip(panels, axes):
        for ax in row_axes[len(row):]:
            ax.set_axis_off()
        for ax, (title, points) in zip(row_axes, row):
            density(ax, points, lim, centres=centres, title=title)
    fig.tight_layout()
    return fig


def history_panels(histories: dict[str, History], panels: dict[str, Sequence[str]]):
    """{run: History}, {panel title: names logged} -> a panel per title with each run's curve of each name
    (left out where a run never logged it or logged zeros only); returns (fig, axes)."""
    if not histories or not panels:
        raise ValueError("history_panels needs at least one History and one panel")
    fig, axes = plt.subplots(1, len(panels), figsize=(5.04 * len(panels), 3.06), squeeze=False)
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
