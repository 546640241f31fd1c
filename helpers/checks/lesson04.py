"""Checks for lesson 04, neural style transfer."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from helpers.checks import call_exercise, expect, fail, fail_unless_one_number, fail_unless_shape, passed


def check_gram_matrix(gram_fn: Callable) -> None:
    """Lesson 04: (N, C, H, W) -> (N, C, C), F F^T divided by C*H*W."""
    torch.manual_seed(0)
    n, c, h, w = 2, 3, 4, 5
    features = torch.rand(n, c, h, w)
    expected = torch.einsum("nchw,ndhw->ncd", features, features) / (c * h * w)
    got = call_exercise(gram_fn, features, name="gram_matrix")
    if isinstance(got, Tensor) and tuple(got.shape) == (n, h * w, h * w):
        fail(f"got shape {(n, h * w, h * w)}: positions paired with positions; the Gram matrix pairs channels.")
    fail_unless_shape(got, (n, c, c), f"for features of shape {(n, c, h, w)} the Gram matrices should have shape "
                      f"{(n, c, c)}", "one (C, C) matrix per image: entry (i, j) pairs channel i with channel j, "
                      "summed over all positions of that image.")
    expect(got, expected, {
        f"it is C*H*W = {c * h * w} times too big: divide by C*H*W.": expected * c * h * w,
        f"it is C = {c} times too big: you divided by H*W only; divide by C*H*W.": expected * c,
        f"it is H*W = {h * w} times too big: you divided by C only; divide by C*H*W.": expected * h * w,
        f"it is N = {n} times too small: divide by C*H*W, not N*C*H*W (each image has its own Gram).": expected / n,
        "both images got the same Gram matrix: each image in the batch needs its own.": expected[:1].expand_as(got),
    }, f"gram_matrix gives {got[0, 0, 0].item():.5f} for entry [0, 0, 0], expected {expected[0, 0, 0].item():.5f}.",
        "each entry is the dot product of two flattened channel maps of one image, divided by C*H*W.")
    passed(f"gram_matrix: {(n, c, h, w)} -> {(n, c, c)}, divided by C*H*W = {c * h * w}.")


def check_tv_loss(tv_loss_fn: Callable) -> None:
    """Lesson 04: TV = mean |vertical neighbour difference| + mean |horizontal neighbour difference|."""
    image = torch.tensor([[[[0.0, 0.5, 1.0],
                            [0.0, 0.0, 1.0]]]])                     # (1, 1, 2, 3)
    vertical = (image[:, :, 1:, :] - image[:, :, :-1, :]).abs()    # (1, 1, 1, 3): 0, 0.5, 0
    horizontal = (image[:, :, :, 1:] - image[:, :, :, :-1]).abs()  # (1, 1, 2, 2): 0.5, 0.5, 0, 1
    expected = vertical.mean() + horizontal.mean()                  # 1/6 + 1/2
    got = call_exercise(tv_loss_fn, image, name="tv_loss")
    fail_unless_one_number(got, "tv_loss")
    expect(got, expected, {
        "that is a sum of |differences|: take the mean of each direction.": vertical.sum() + horizontal.sum(),
        "those are squared differences: this lesson's TV uses absolute values (.abs()).":
            vertical.pow(2).mean() + horizontal.pow(2).mean(),
        "only the vertical differences counted: add the horizontal ones.": vertical.mean(),
        "only the horizontal differences counted: add the vertical ones.": horizontal.mean(),
        "that divides both sums by the number of pixels: take each direction's own mean.":
            (vertical.sum() + horizontal.sum()) / image.numel(),
        "that averages all differences together: take each direction's mean, then add them.":
            torch.cat([vertical.flatten(), horizontal.flatten()]).mean(),
    }, f"tv_loss gave {got.item():.4f} on a 2x3 test image, expected {expected.item():.4f} (= 1/6 + 1/2).",
        "the mean absolute step between vertical neighbours, plus the same for horizontal ones.")
    passed(f"tv_loss: {got.item():.4f} = 1/6 (vertical) + 1/2 (horizontal) on the 2x3 test image.")


def check_lbfgs_closure(make_closure_fn: Callable) -> None:
    """Lesson 04: closure() zeroes the gradients, evaluates the loss once, backpropagates, returns the loss tensor."""
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    made: list[Tensor] = []

    def loss_fn() -> Tensor:
        made.append((w ** 2).sum())  # loss 5 at w = (1, -2), gradient 2w
        return made[-1]

    closure = call_exercise(make_closure_fn, torch.optim.SGD([w], lr=0.1), loss_fn, name="make_closure")
    if not callable(closure):
        fail(f"make_closure should return the closure (a function), got {type(closure).__name__}.",
             "define closure() inside make_closure and return it without calling it.")
    if made:
        fail("make_closure evaluated the loss when the closure was made.",
             "call loss_fn() inside closure(): L-BFGS calls the closure again at every trial point.")
    w.grad = torch.full_like(w, 5.0)  # a stale gradient, left by an earlier evaluation
    loss = call_exercise(closure, name="closure")
    if len(made) != 1:
        fail(f"one call of closure() evaluated the loss {len(made)} times, expected once.", "reuse its result.")
    grad = w.grad if w.grad is not None else torch.zeros(2)
    expect(grad, 2 * w.detach(), {
        "after closure() the parameters have no gradient: backpropagate the loss.": torch.zeros(2),
        "closure() left the gradients as they were: the optimiser steps along what backward() leaves in .grad.":
            torch.full_like(w, 5.0),
        "the gradients accumulated, this evaluation's and the previous one's: backward() adds to .grad, and L-BFGS "
        "evaluates several times per step.": 2 * w.detach() + 5.0,
    }, f"after closure() the gradient is {grad.tolist()}, expected {(2 * w.detach()).tolist()}.",
        "zero the gradients, evaluate loss_fn(), call backward() on it, once each.")
    if not isinstance(loss, Tensor) or loss is not made[-1]:
        fail(f"closure() returned {'a copy of the loss' if isinstance(loss, Tensor) else type(loss).__name__}, not "
             "the loss tensor itself: step(closure) hands it back.", "no .item(), .detach() or torch.tensor(...).")
    target, x = torch.tensor([3.0, 0.5]), torch.zeros(2, requires_grad=True)
    lbfgs = torch.optim.LBFGS([x], max_iter=20, line_search_fn="strong_wolfe")
    lbfgs.step(make_closure_fn(lbfgs, lambda: ((x - target) ** 2).sum()))
    if not torch.allclose(x.detach(), target, atol=1e-3):
        fail(f"one L-BFGS step with your closure ended at {x.detach().tolist()}, not the minimum {target.tolist()}.",
             "zero the gradients, evaluate, backward, return the loss: in that order.")
    passed("make_closure: zero, evaluate once, backward, return the loss; L-BFGS finds a quadratic's minimum.")
