"""Checks for lesson 08, image-to-image translation."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

from helpers import image_to_image
from helpers.checks import call_exercise, fail, is_close, passed
from helpers.taught import lesson08 as solution


class _Scale(nn.Module):
    """A toy generator for the cycle check: x -> weight·x + bias, with learnable weight."""

    def __init__(self, weight: float, bias: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.tensor(weight))
        self.bias = bias

    def forward(self, x: Tensor) -> Tensor:
        return self.weight * x + self.bias


def check_cycle_loss(cycle_loss: Callable) -> None:
    """Lesson 08: L1(G_BA(G_AB(a)), a) + L1(G_AB(G_BA(b)), b), both directions, mean over pixels."""
    torch.manual_seed(0)
    real_a, real_b = torch.rand(4, 1, 5, 5) * 2 - 1, torch.rand(4, 1, 5, 5) * 2 - 1
    g_ab, g_ba = _Scale(0.5, 0.1), _Scale(1.5, -0.2)
    l1 = nn.functional.l1_loss
    fake_b, fake_a = g_ab(real_a), g_ba(real_b)
    forward, backward = l1(g_ba(fake_b), real_a), l1(g_ab(fake_a), real_b)
    expected = forward + backward
    expected.backward()
    expected_grads = (g_ab.weight.grad.clone(), g_ba.weight.grad.clone())
    g_ab.weight.grad = g_ba.weight.grad = None
    fake_b, fake_a = g_ab(real_a), g_ba(real_b)
    got = call_exercise(cycle_loss, real_a, real_b, fake_a, fake_b, g_ab, g_ba, name="cycle_loss")
    if not isinstance(got, Tensor) or got.numel() != 1:
        fail(f"cycle_loss should return a single-number tensor, got "
             f"{tuple(got.shape) if isinstance(got, Tensor) else type(got).__name__}.")
    if is_close(got, expected):
        if not got.requires_grad:
            fail("the value is right but it carries no gradient.",
                 "do not compute it under torch.no_grad() or .detach() it: the cycle loss trains both generators.")
        got.backward()
        grads = tuple(torch.zeros(()) if g.weight.grad is None else g.weight.grad for g in (g_ab, g_ba))
        if not all(torch.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(grads, expected_grads)):
            fail("the value is right but the gradients are not: part of the round trip is cut off.",
                 "do not detach the fakes: in A → B → A the gradient must reach G_AB through fake_b, "
                 "which is how the cycle loss teaches G_AB to keep what G_BA needs.")
        passed(f"cycle loss {expected.item():.4f} = A→B→A {forward.item():.4f} + B→A→B {backward.item():.4f}, "
               "and its gradient reaches both generators along both round trips.")
        return
    with torch.no_grad():
        mse = nn.functional.mse_loss
        known = {
            "only A→B→A is there: the round trip that starts from real_b counts too.": forward,
            "only B→A→B is there: the round trip that starts from real_a counts too.": backward,
            "that is a squared error: CycleGAN's cycle loss is the L1 distance (mean absolute difference), "
            "which blurs less.": mse(g_ba(fake_b), real_a) + mse(g_ab(fake_a), real_b),
            "each fake must go back through the other generator: fake_b is in domain B, and only the "
            "B → A translator can bring it home.": l1(g_ab(fake_b), real_a) + l1(g_ba(fake_a), real_b),
            "each round trip is compared with the wrong real batch: it should give back the very images "
            "it started from.": l1(g_ba(fake_b), real_b) + l1(g_ab(fake_a), real_a),
            "that compares each fake with its own input (an identity loss), not the round trip: "
            "send the fake back through the other generator first.": l1(fake_b, real_a) + l1(fake_a, real_b),
            "the two cycles are averaged: CycleGAN adds them (λ multiplies the sum).": expected / 2,
        }
    for hint, value in known.items():
        if is_close(got, value, tol=1e-4):
            fail(f"got {got.item():.4f}, expected {expected.item():.4f}: {hint}")
    fail(f"got {got.item():.4f}, expected {expected.item():.4f}.",
         "a round trip goes out through one generator and home through the other; the loss is how far home "
         "is from the start, in mean absolute difference, both ways.")


def _calls_the_model(unet: nn.Module, x: Tensor) -> Tensor:
    fail("unet_forward calls unet(x), the finished model: the exercise is to write that forward pass.",
         "run the layers one by one: every layer of unet.downs, then every layer of unet.ups, with the skips.")


def check_unet_forward(unet_forward: Callable) -> None:
    """Lesson 08: the U-Net's forward pass. Run every layer of unet.downs, keeping each output; the last one,
    the bottleneck, has no mirror. Then run every layer of unet.ups, and join each output but the last to the
    encoder output of the same size, deepest first: torch.cat([x, skip], dim=1)."""
    torch.manual_seed(0)
    unet = image_to_image.UNet(1, 3, features=4, depth=3, skip_forward=_calls_the_model).eval()
    x = torch.rand(2, 1, 16, 16) * 2 - 1
    with torch.no_grad():
        expected = solution.unet_forward(unet, x)  # the solution notebook's, generated
        try:
            got = call_exercise(unet_forward, unet, x, name="unet_forward")
        except RuntimeError as error:
            message = str(error).splitlines()[0]
            if "Sizes of tensors must match" in message:
                fail(f"two outputs of different sizes were joined: {message[:160]}",
                     "each decoder output is joined to the encoder output of its own height and width.")
            if "channels" in message or "size" in message.lower():
                fail(f"a decoder layer got the wrong number of channels: {message[:160]}",
                     "every decoder layer after the first expects its input joined with a skip on the channel "
                     "axis; the bottleneck (the last encoder output) has no mirror, and nothing is joined "
                     "after the last layer.")
            raise
    if not isinstance(got, Tensor) or got.shape != expected.shape:
        fail(f"unet_forward should return {tuple(expected.shape)}, got "
             f"{tuple(got.shape) if isinstance(got, Tensor) else type(got).__name__}.",
             "run every layer of unet.downs, then every layer of unet.ups, joining a skip after each "
             "but the last.")
    if torch.allclose(got, expected, atol=1e-5):
        passed(f"unet_forward joins the skips right: {tuple(x.shape)} -> {tuple(got.shape)}, with "
               f"{unet.depth - 1} skip connections.")
        return
    fail("the output has the right shape but different values.",
         "inside each join the order counts: the layers were built with the decoder's channels first and "
         "the skip's after them.")


def check_patch_output_size(patch_output_size: Callable) -> None:
    """Lesson 08: a PatchGAN's output side from the input side and its (kernel, stride, padding) layers."""
    cases = [(256, 6, 64, 3), (64, 4, 32, 3), (32, 4, 32, 1), (28, 1, 32, 1), (70, 6, 8, 3)]
    for size, channels, features, layers in cases:
        model = image_to_image.PatchGAN(channels, features, layers)
        specs = model.conv_specs()
        with torch.no_grad():
            expected = model(torch.zeros(1, channels, size, size)).shape[-1]
        got = call_exercise(patch_output_size, size, specs, name="patch_output_size")
        if isinstance(got, float) and got.is_integer():
            got = int(got)
        if got == expected:
            continue
        wrong = {}
        s = size
        for k, st, p in specs:
            s = s // st
        wrong["you divided by the stride only: the kernel and the padding change the size too."] = s
        s = size
        for k, st, p in specs:
            s = (s + 2 * p - k) // st
        wrong["the + 1 is missing: a kernel that fits exactly once gives one output, (k - k) // s + 1 = 1."] = s
        s = size
        for k, st, p in specs:
            s = (s - k) // st + 1
        wrong["the padding is missing: each side of the input gets p extra pixels, so add 2p."] = s
        s = float(size)
        for k, st, p in specs:
            s = (s + 2 * p - k) / st + 1
        wrong["that is not a whole number of positions: round down, (size + 2p - k) // stride + 1."] = s
        hint = next((h for h, v in wrong.items() if got == v), "apply the convolution's output-size formula "
                                                                 "once per layer, in order.")
        fail(f"for a {size}×{size} input and layers {specs} you gave {got!r}, the PatchGAN outputs "
             f"{expected}×{expected}.", hint)
    passed(f"patch_output_size matches the PatchGAN on {len(cases)} sizes (256 px, pix2pix's D: 30×30 patches).")
