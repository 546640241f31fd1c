"""Checks for lesson 08, image-to-image translation."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn
from torch.nn.functional import l1_loss, mse_loss

from helpers import image_to_image
from helpers.checks import call_exercise, expect, fail, fail_unless_one_number, fail_unless_shape, passed
from helpers.taught import lesson08 as solution


def check_cycle_loss(cycle_loss: Callable) -> None:
    """Lesson 08: L1(G_BA(G_AB(a)), a) + L1(G_AB(G_BA(b)), b), both directions, mean over pixels."""
    torch.manual_seed(0)
    real_a, real_b = torch.rand(4, 1, 5, 5) * 2 - 1, torch.rand(4, 1, 5, 5) * 2 - 1
    a_b, b_a = nn.Conv2d(1, 1, 1), nn.Conv2d(1, 1, 1)  # toy generators, pixel by pixel: x -> weight·x + bias
    fake_b, fake_a = a_b(real_a), b_a(real_b)
    forward, backward = l1_loss(b_a(fake_b), real_a), l1_loss(a_b(fake_a), real_b)
    expected = forward + backward
    expected_grads = torch.autograd.grad(expected, [*a_b.parameters(), *b_a.parameters()], retain_graph=True)
    got = call_exercise(cycle_loss, real_a, real_b, fake_a, fake_b, a_b, b_a, name="cycle_loss")
    fail_unless_one_number(got, "cycle_loss")
    with torch.no_grad():
        expect(got, expected, {
            "only A→B→A is there: the round trip that starts from real_b counts too.": forward,
            "only B→A→B is there: the round trip that starts from real_a counts too.": backward,
            "that is a squared error: CycleGAN's cycle loss is the L1 distance, which blurs less.":
                mse_loss(b_a(fake_b), real_a) + mse_loss(a_b(fake_a), real_b),
            "each fake must go back through the other generator: only G_BA brings fake_b home.":
                l1_loss(a_b(fake_b), real_a) + l1_loss(b_a(fake_a), real_b),
            "each round trip is compared with the wrong real batch: it should give back the images it started from.":
                l1_loss(b_a(fake_b), real_b) + l1_loss(a_b(fake_a), real_a),
            "that compares each fake with its own input (an identity loss), not the round trip.":
                l1_loss(fake_b, real_a) + l1_loss(fake_a, real_b),
            "the two cycles are averaged: CycleGAN adds them (λ multiplies the sum).": expected / 2,
        }, f"got {got.item():.4f}, expected {expected.item():.4f}.", "out through one generator, home through the "
            "other, the mean absolute difference from the start, both ways.")
    if not got.requires_grad:
        fail("the value is right but it carries no gradient.", "no torch.no_grad(), no .detach().")
    grads = torch.autograd.grad(got, [*a_b.parameters(), *b_a.parameters()], allow_unused=True)
    if not all(g is not None and torch.allclose(g, e, rtol=1e-4, atol=1e-6) for g, e in zip(grads, expected_grads)):
        fail("the value is right but the gradients are not: part of the round trip is cut off.",
             "do not detach the fakes: the gradient must reach G_AB through fake_b, so G_AB keeps what G_BA needs.")
    passed(f"cycle loss {expected.item():.4f} = A→B→A + B→A→B, its gradient reaching both generators.")


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
        expected = solution.unet_forward(unet, x)
        try:
            got = call_exercise(unet_forward, unet, x, name="unet_forward")
        except RuntimeError as error:
            message = str(error).splitlines()[0][:160]
            if "Sizes of tensors must match" in message:
                fail(f"two outputs of different sizes were joined: {message}",
                     "each decoder output is joined to the encoder output of its own height and width.")
            if "channels" in message or "size" in message.lower():
                fail(f"a decoder layer got the wrong number of channels: {message}", "every decoder layer after "
                     "the first expects its input joined with a skip on the channel axis; the bottleneck (the last "
                     "encoder output) has no mirror, and nothing is joined after the last layer.")
            raise
    fail_unless_shape(got, expected.shape, f"unet_forward should return {tuple(expected.shape)}", "run every layer "
                      "of unet.downs, then every layer of unet.ups, joining a skip after each but the last.")
    if not torch.allclose(got, expected, atol=1e-5):
        fail("the output has the right shape but different values.", "inside each join the order counts: the "
             "layers were built with the decoder's channels first and the skip's after them.")
    passed(f"unet_forward joins the skips right: {tuple(x.shape)} -> {tuple(got.shape)}.")


_SIZE_MISTAKES = {  # hint -> the size one layer gives with that mistake, from (size, kernel, stride, padding)
    "you divided by the stride only: the kernel and the padding change the size too.": lambda n, k, s, p: n // s,
    "the + 1 is missing: a kernel that fits exactly once gives one output, (k - k) // s + 1 = 1.":
        lambda n, k, s, p: (n + 2 * p - k) // s,
    "the padding is missing: each side of the input gets p extra pixels, so add 2p.":
        lambda n, k, s, p: (n - k) // s + 1,
    "that is not a whole number of positions: round down, (size + 2p - k) // stride + 1.":
        lambda n, k, s, p: (n + 2 * p - k) / s + 1,
}


def check_patch_output_size(patch_output_size: Callable) -> None:
    """Lesson 08: a PatchGAN's output side from the input side and its (kernel, stride, padding) layers."""
    cases = [(256, 6, 64, 3), (64, 4, 32, 3), (32, 4, 32, 1), (28, 1, 32, 1), (70, 6, 8, 3)]
    for size, channels, features, layers in cases:
        model = image_to_image.PatchGAN(channels, features, layers)
        specs = model.conv_specs()
        with torch.no_grad():
            expected = model(torch.zeros(1, channels, size, size)).shape[-1]
        got = call_exercise(patch_output_size, size, specs, name="patch_output_size")
        if got == expected:
            continue
        hint = "apply the convolution's output-size formula once per layer, in order."
        for mistake, layer in _SIZE_MISTAKES.items():
            wrong = size
            for k, s, p in specs:
                wrong = layer(wrong, k, s, p)
            if got == wrong:
                hint = mistake
                break
        fail(f"for a {size}×{size} input and layers {specs} you gave {got!r}, the PatchGAN {expected}.", hint)
    passed(f"patch_output_size matches the PatchGAN on {len(cases)} sizes (256 px, pix2pix's D: 30×30 patches).")
