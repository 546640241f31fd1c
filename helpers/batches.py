"""The one batch iterator of the course: float batches in [-1, 1] drawn by index from uint8 images."""
from __future__ import annotations

from typing import Iterator

import torch
from torch import Tensor

from helpers.images import to_float


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class ImageBatches:
    """Batches (B, C, H, W) in [-1, 1] of uint8 images (N, C, H, W) or ImageData, on their device, each pass a
    permutation from `generator`; a batch that runs past a pass is completed from the next, nothing dropped (after
    `epochs` passes the last is smaller). order, start: the first pass's permutation and batches done (a resume)."""

    def __init__(self, images, batch_size: int, generator: torch.Generator | None = None, labels: bool = False,
                 flip: bool = False, epochs: int | None = None, order: Tensor | None = None, start: int = 0) -> None:
        data = None if isinstance(images, Tensor) else images
        images = getattr(data, "images", images)
        if not isinstance(images, Tensor) or images.dtype != torch.uint8 or images.ndim != 4:
            got = (f"{images.dtype} {tuple(images.shape)}" if isinstance(images, Tensor)
                   else type(images).__name__)
            raise ValueError(f"images must be uint8 of shape (N, C, H, W) (or ImageData), got {got}")
        n = images.shape[0]
        if n == 0:
            raise ValueError(f"images holds no images (shape {tuple(images.shape)}): nothing to batch")
        if not _positive_int(batch_size):
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if batch_size > n:
            raise ValueError(f"batch_size {batch_size} is larger than the {n} images: "
                             f"lower the batch size to {n} or less")
        if labels and data is None:
            raise ValueError("labels=True needs ImageData (it holds the labels), got a bare tensor")
        if epochs is not None and not _positive_int(epochs):
            raise ValueError(f"epochs must be a positive int or None (endless), got {epochs!r}")
        per_pass = -(-n // batch_size)
        if not isinstance(start, int) or isinstance(start, bool) or not 0 <= start <= per_pass:
            raise ValueError(f"start must be the number of batches already done, 0..{per_pass}, got {start!r}")
        if order is not None and (not isinstance(order, Tensor) or tuple(order.shape) != (n,)
                                  or not torch.equal(order.sort().values.cpu(), torch.arange(n))):
            got = tuple(order.shape) if isinstance(order, Tensor) else type(order).__name__
            raise ValueError(f"order must be a permutation of 0..{n - 1} (shape ({n},)), got {got}")
        self.images = images
        self.labels = data.labels if labels else None
        self.batch_size = batch_size
        self.generator = generator
        self.flip = flip
        self.epochs = epochs
        self.epoch = 0
        self._order = order.to(images.device) if order is not None else self._permutation()
        self._position = min(start * batch_size, n)

    def _permutation(self) -> Tensor:
        device = self.generator.device if self.generator is not None else "cpu"
        return torch.randperm(self.images.shape[0], generator=self.generator, device=device).to(self.images.device)

    def next_indices(self) -> Tensor:
        """The indices (≤ batch_size,) of the next batch; StopIteration after the last epoch."""
        parts, needed = [], self.batch_size
        while needed > 0:
            if self._position == self._order.numel():
                if self.epochs is not None and self.epoch + 1 >= self.epochs:
                    if parts:
                        break  # the last batch of the last epoch: smaller, nothing dropped
                    self.epoch = self.epochs
                    raise StopIteration
                self._order, self._position = self._permutation(), 0
                self.epoch += 1
            take = self._order[self._position:self._position + needed]
            self._position += take.numel()
            needed -= take.numel()
            parts.append(take)
        return parts[0] if len(parts) == 1 else torch.cat(parts)

    def __iter__(self) -> Iterator:
        return self

    def __next__(self) -> Tensor | tuple[Tensor, Tensor]:
        index = self.next_indices()
        batch = to_float(self.images[index])  # (B, C, H, W) in [-1, 1]
        if self.flip:
            device = self.generator.device if self.generator is not None else batch.device
            mirror = (torch.rand(batch.shape[0], generator=self.generator, device=device) < 0.5).to(batch.device)
            batch = torch.where(mirror[:, None, None, None], batch.flip(-1), batch)
        return (batch, self.labels[index]) if self.labels is not None else batch
