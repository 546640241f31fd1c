"""helpers.batches.ImageBatches, the one batch iterator: it draws exactly what the two iterators it
replaced drew (mnist.ImageBatches, endless; faces.face_batches, one epoch), so no lesson's numbers move.

The two old iterators are kept below, frozen as they were, as the reference answers.
"""
from __future__ import annotations

from typing import Iterator

import pytest
import torch
from torch import Tensor

from helpers.batches import ImageBatches
from helpers.images import to_float
from helpers.mnist import ImageData


def old_mnist_batches(images: Tensor, labels: Tensor | None, batch_size: int,
                      generator: torch.Generator | None) -> Iterator:
    """mnist.ImageBatches before the merge: endless, a batch that runs past a pass completed from the next."""
    order, position = torch.randperm(images.shape[0], generator=generator).to(images.device), 0
    while True:
        parts, needed = [], batch_size
        while needed > 0:
            if position == order.numel():
                order, position = torch.randperm(images.shape[0], generator=generator).to(images.device), 0
            take = order[position:position + needed]
            position += take.numel()
            needed -= take.numel()
            parts.append(take)
        index = parts[0] if len(parts) == 1 else torch.cat(parts)
        batch = to_float(images[index])
        yield (batch, labels[index]) if labels is not None else batch


def old_face_batches(images: Tensor, batch_size: int, flip: bool = False,
                     generator: torch.Generator | None = None, order: Tensor | None = None,
                     start: int = 0) -> Iterator[Tensor]:
    """faces.face_batches before the merge: one epoch, the last batch smaller, flips from the global RNG."""
    n = images.shape[0]
    if order is None:
        order = torch.randperm(n, generator=generator, device=generator.device if generator
                               is not None else "cpu").to(images.device)
    for first in range(start * batch_size, n, batch_size):
        batch = to_float(images[order[first:first + batch_size]])
        if flip:
            mirror = torch.rand(batch.shape[0], device=batch.device) < 0.5
            batch = torch.where(mirror[:, None, None, None], batch.flip(-1), batch)
        yield batch


def numbered(n: int, channels: int = 1, size: int = 4) -> Tensor:
    """uint8 (n, C, S, S): image i holds i in its left half and 255 - i in its right (a flip shows)."""
    images = torch.arange(n, dtype=torch.uint8)[:, None, None, None].repeat(1, channels, size, size)
    images[..., size // 2:] = 255 - images[..., size // 2:]
    return images


@pytest.mark.parametrize("n, batch_size", [(50, 16), (64, 64), (30, 7), (8, 8)])
@pytest.mark.parametrize("labels", [False, True])
def test_endless_batches_are_the_old_mnist_batches(n, batch_size, labels):
    data = ImageData(numbered(n), torch.arange(n) % 10, "mnist", "test")
    new = ImageBatches(data, batch_size, generator=torch.Generator().manual_seed(3), labels=labels)
    old = old_mnist_batches(data.images, data.labels if labels else None, batch_size,
                            torch.Generator().manual_seed(3))
    for step in range(3 * n // batch_size + 5):  # several passes, across their boundaries
        a, b = next(new), next(old)
        pairs = zip(a, b) if labels else [(a, b)]
        assert all(torch.equal(x, y) for x, y in pairs), f"batch {step} differs from the old iterator's"


def test_endless_batches_without_a_generator_use_the_global_rng_as_before():
    images = numbered(20)
    torch.manual_seed(5)
    new = [next(batches) for batches in [ImageBatches(images, 6)] for _ in range(8)]
    torch.manual_seed(5)
    old = [next(batches) for batches in [old_mnist_batches(images, None, 6, None)] for _ in range(8)]
    assert all(torch.equal(a, b) for a, b in zip(new, old))


@pytest.mark.parametrize("n, batch_size, start, given_order", [
    (100, 64, 0, False), (10, 5, 0, False), (100, 64, 0, True), (100, 64, 1, True), (10, 3, 2, True),
    (7, 3, 3, True)])
@pytest.mark.parametrize("flip", [False, True])
def test_one_epoch_of_faces_is_the_old_face_batches(n, batch_size, start, flip, given_order):
    """Lesson 03's call (a drawn order, flips from the global RNG, a resume start) and lesson 06's."""
    images = numbered(n, channels=3)
    torch.manual_seed(11)
    order = torch.randperm(n) if given_order else None
    new = list(ImageBatches(images, batch_size, flip=flip, order=order, start=start, epochs=1))
    torch.manual_seed(11)
    order = torch.randperm(n) if given_order else None
    old = list(old_face_batches(images, batch_size, flip=flip, order=order, start=start))
    assert len(new) == len(old) == -(-n // batch_size) - start
    assert all(torch.equal(a, b) for a, b in zip(new, old)), "a batch differs from the old face_batches'"


def test_one_epoch_with_a_generator_shuffles_as_the_old_face_batches():
    images = numbered(30, channels=3)
    new = list(ImageBatches(images, 8, generator=torch.Generator().manual_seed(2), epochs=1))
    old = list(old_face_batches(images, 8, generator=torch.Generator().manual_seed(2)))
    assert [b.shape[0] for b in new] == [8, 8, 8, 6]
    assert all(torch.equal(a, b) for a, b in zip(new, old))


def test_epochs_stop_after_that_many_passes_and_count_them():
    batches = ImageBatches(numbered(10), 4, generator=torch.Generator().manual_seed(0), epochs=2)
    sizes = [b.shape[0] for b in batches]
    assert sizes == [4, 4, 4, 4, 4], "2 passes of 10 in batches of 4: the passes join, nothing dropped"
    assert batches.epoch == 2


def test_flips_mirror_about_half_the_images():
    images = numbered(200, channels=3)
    batch = next(ImageBatches(images, 200, flip=True, generator=torch.Generator().manual_seed(0)))
    left = batch[:, 0, 0, 0]
    mirrored = left > 0  # image i holds i (< 128: negative) on its left, 255 - i (positive) on its right
    assert 60 < int(mirrored.sum()) < 140
    again = next(ImageBatches(images, 200, flip=True, generator=torch.Generator().manual_seed(0)))
    assert torch.equal(batch, again), "with a generator the flips are reproducible"


@pytest.mark.parametrize("bad, match", [
    (dict(epochs=0), "epochs must be a positive int"),
    (dict(epochs=1.5), "epochs must be a positive int"),
    (dict(start=5), r"start must be the number of batches already done, 0\.\.3"),
    (dict(order=torch.arange(9)), r"order must be a permutation of 0\.\.9 \(shape \(10,\)\), got \(9,\)"),
    (dict(labels=True), "labels=True needs ImageData"),
])
def test_bad_arguments_say_what_was_expected(bad, match):
    with pytest.raises(ValueError, match=match):
        ImageBatches(numbered(10), 4, **bad)
