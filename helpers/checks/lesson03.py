"""Checks for lesson 03, a DCGAN on CelebA faces."""
from __future__ import annotations

import copy
import math
from typing import Callable

import torch
from torch import nn

from helpers import models, training
from helpers.taught import lesson03
from helpers.checks import call_exercise, fail, is_close, passed


def _layers(block: nn.Module) -> list[nn.Module]:
    return [m for m in block.modules() if not isinstance(m, nn.Sequential)]


def _built_block(make_block: Callable[..., nn.Module], args: tuple[int, ...], name: str,
                 holds: str, expected: list[str], hint: str) -> tuple[nn.Module, list[nn.Module]]:
    """Call make_block(*args); fail unless it is an nn.Module whose layers are `expected`.

    Returns the block and its layers (nested nn.Sequential containers flattened away).
    """
    block = call_exercise(make_block, *args, name=name)
    if not isinstance(block, nn.Module):
        fail(f"{name}({', '.join(map(str, args))}) should return an nn.Module (an nn.Sequential), "
             f"got {type(block).__name__}.")
    layers = _layers(block)
    kinds = [type(m).__name__ for m in layers]
    if kinds != expected:
        fail(f"{holds} holds {kinds}; expected {', '.join(expected)} in that order.", hint)
    return block, layers


def _check_block_channels(conv: nn.Module, norm: nn.Module, call: str, in_channels: int,
                          out_channels: int) -> None:
    """Fail unless `conv` maps in_channels -> out_channels and `norm` is BatchNorm2d(out_channels)."""
    if (conv.in_channels, conv.out_channels, norm.num_features) != (in_channels, out_channels, out_channels):
        fail(f"{call} maps {conv.in_channels} -> {conv.out_channels} channels with "
             f"BatchNorm2d({norm.num_features}); expected {in_channels} -> {out_channels} and "
             f"BatchNorm2d({out_channels}).")


def check_g_block(g_block: Callable[[int, int], nn.Module]) -> None:
    """Lesson 03: g_block(in, out) doubles the size: ConvTranspose(4, 2, 1) -> BatchNorm -> ReLU."""
    torch.manual_seed(0)
    block, layers = _built_block(
        g_block, (16, 8), name="g_block", holds="g_block",
        expected=["ConvTranspose2d", "BatchNorm2d", "ReLU"],
        hint="a DCGAN generator block upsamples with a transposed convolution (no pooling, no "
             "Upsample), normalises with BatchNorm, then applies ReLU.")
    conv, norm = layers[0], layers[1]
    _check_block_channels(conv, norm, "g_block(16, 8)", in_channels=16, out_channels=8)
    if conv.bias is not None:
        fail("the ConvTranspose2d has a bias; BatchNorm right after it subtracts the mean, so the "
             "bias is wasted.", "pass bias=False.")
    out = block(torch.randn(2, 16, 4, 4))
    if tuple(out.shape) != (2, 8, 8, 8):
        fail(f"g_block(16, 8) on (2, 16, 4, 4) gave {tuple(out.shape)}; expected (2, 8, 8, 8) "
             "(channels 16 -> 8, size doubled).",
             "kernel_size=4, stride=2, padding=1 doubles the size: (4 - 1)·2 - 2·1 + 4 = 8.")
    if out.min() < 0:
        fail("g_block's output has negative values: the ReLU is missing or not last.")
    passed("Generator block: (2, 16, 4, 4) -> (2, 8, 8, 8), ConvTranspose2d(4, 2, 1) -> BatchNorm2d -> ReLU.")


def check_d_block(d_block: Callable[..., nn.Module]) -> None:
    """Lesson 03: d_block(in, out, batch_norm) halves the size: Conv(4, 2, 1) -> [BatchNorm] -> LeakyReLU(0.2)."""
    torch.manual_seed(0)
    block, layers = _built_block(
        d_block, (8, 16), name="d_block", holds="d_block(8, 16)",
        expected=["Conv2d", "BatchNorm2d", "LeakyReLU"],
        hint="a DCGAN discriminator block downsamples with a strided convolution (no pooling).")
    conv, norm, act = layers
    _check_block_channels(conv, norm, "d_block(8, 16)", in_channels=8, out_channels=16)
    if conv.bias is not None:
        fail("the Conv2d has a bias; BatchNorm right after it makes it useless.", "pass bias=False.")
    if not math.isclose(act.negative_slope, 0.2):
        fail(f"LeakyReLU slope is {act.negative_slope}; DCGAN uses 0.2.", "nn.LeakyReLU(0.2).")
    out = block(torch.randn(2, 8, 16, 16))
    if tuple(out.shape) != (2, 16, 8, 8):
        fail(f"d_block(8, 16) on (2, 8, 16, 16) gave {tuple(out.shape)}; expected (2, 16, 8, 8).",
             "kernel_size=4, stride=2, padding=1 halves the size: (16 + 2 - 4) / 2 + 1 = 8.")
    first = call_exercise(d_block, 3, 8, False, name="d_block")
    kinds = [type(m).__name__ for m in _layers(first)]
    if kinds != ["Conv2d", "LeakyReLU"]:
        fail(f"d_block(3, 8, batch_norm=False) holds {kinds}; expected Conv2d, LeakyReLU.",
             "the first discriminator layer has no BatchNorm (the DCGAN paper: normalising the "
             "input layer made training unstable).")
    passed("Discriminator block: (2, 8, 16, 16) -> (2, 16, 8, 8), Conv2d(4, 2, 1) -> BatchNorm2d -> "
           "LeakyReLU(0.2); no BatchNorm when batch_norm=False.")


def check_weights_init(init_fn: Callable[[nn.Module], None]) -> None:
    """Lesson 03: conv weights ~ N(0, 0.02), BatchNorm weight ~ N(1, 0.02) and bias 0."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.ConvTranspose2d(64, 128, 4, 1, 0, bias=False), nn.BatchNorm2d(128),
                          nn.ReLU(), nn.Conv2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64),
                          nn.LeakyReLU(0.2))
    call_exercise(model.apply, init_fn, name="init_weights")
    for conv in (model[0], model[3]):
        mean, std = conv.weight.mean().item(), conv.weight.std().item()
        name = type(conv).__name__
        if abs(mean) > 0.002 or not 0.018 < std < 0.022:
            hint = "draw the weights from a normal distribution with mean 0 and standard deviation 0.02."
            if 0.18 < std < 0.22:
                hint = "0.02 is the standard deviation, not 0.2."
            elif 0.0003 < std < 0.0005:
                hint = "normal_'s third argument is the standard deviation: 0.02, not the variance 0.02²."
            fail(f"{name} weights have mean {mean:.4f} and std {std:.4f}; expected about 0 and 0.02.",
                 hint + " Check that init_weights handles both Conv2d and ConvTranspose2d.")
    for norm in (model[1], model[4]):
        mean, std = norm.weight.mean().item(), norm.weight.std().item()
        if abs(mean - 1) > 0.01 or not 0.012 < std < 0.03:
            fail(f"BatchNorm2d weights have mean {mean:.4f} and std {std:.4f}; expected about 1 and 0.02.",
                 "the BatchNorm scale starts near 1 (not 0: that would switch the layer off): "
                 "a normal distribution with mean 1 and standard deviation 0.02.")
        if norm.bias.abs().max() > 0:
            fail("BatchNorm2d biases should start at 0.", "set the BatchNorm shift to zeros.")
    passed("Weight init: conv weights ~ N(0, 0.02), BatchNorm scale ~ N(1, 0.02), BatchNorm shift 0.")


def check_dcgan_models(generator: nn.Module, discriminator: nn.Module, latent_dim: int,
                       image_size: int, channels: int = 3) -> None:
    """Lesson 03: the notebook's G and D have the shapes, and the weights layout, of the lesson's DCGAN."""
    param = next(generator.parameters())
    z = torch.randn(4, latent_dim, device=param.device)
    with torch.no_grad():
        images = generator(z)
        out = discriminator(images)
    if tuple(images.shape) != (4, channels, image_size, image_size):
        fail(f"G(z) for z of shape (4, {latent_dim}) gave {tuple(images.shape)}; expected "
             f"(4, {channels}, {image_size}, {image_size}).")
    if images.min() < -1 or images.max() > 1:
        fail("G's images leave [-1, 1]: the generator should end with Tanh.")
    if tuple(out.shape) != (4, 1):
        fail(f"D(G(z)) gave shape {tuple(out.shape)}; expected (4, 1).")
    fm = generator.net[-2].in_channels if hasattr(generator, "net") else None
    reference = lesson03.Generator(latent_dim, fm or 64, channels, image_size)
    if models.count_parameters(generator) != models.count_parameters(reference):
        fail(f"G has {models.count_parameters(generator):,} parameters; the DCGAN generator of this size "
             f"has {models.count_parameters(reference):,}.")
    mine = {k: tuple(v.shape) for k, v in generator.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    if mine != theirs:
        fail("G's weights are laid out differently from the lesson's Generator, so its "
             "generator.pt could not be loaded again (helpers.models.load_dcgan_generator).",
             "keep the layers in one nn.Sequential called `net`, one g_block per stage.")
    d_reference = lesson03.Discriminator(fm or 64, channels, image_size)
    if models.count_parameters(discriminator) != models.count_parameters(d_reference):
        fail(f"D has {models.count_parameters(discriminator):,} parameters; the DCGAN discriminator of "
             f"this size has {models.count_parameters(d_reference):,}.")
    passed(f"DCGAN: G (N, {latent_dim}) -> (N, {channels}, {image_size}, {image_size}) with "
           f"{models.count_parameters(generator):,} parameters, D -> (N, 1) with "
           f"{models.count_parameters(discriminator):,}; the layout of the lesson's DCGAN.")


def check_dcgan_train_step(train_step: Callable) -> None:
    """Lesson 03: one D step then one G step, compared with helpers.training's reference steps."""

    torch.manual_seed(0)
    generator = lesson03.Generator(latent_dim=8, feature_maps=4, channels=3, image_size=32)
    discriminator = lesson03.Discriminator(feature_maps=4, channels=3, image_size=32)
    generator.apply(lesson03.init_weights)
    discriminator.apply(lesson03.init_weights)
    real_images = torch.rand(6, 3, 32, 32) * 2 - 1
    noise = torch.randn(6, 8)
    ref_g, ref_d = copy.deepcopy(generator), copy.deepcopy(discriminator)
    g_before = [p.detach().clone() for p in generator.parameters()]

    def adam(model):
        return torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.5, 0.999))

    g_optimizer, d_optimizer = adam(generator), adam(discriminator)
    ref_go, ref_do = adam(ref_g), adam(ref_d)
    criterion = nn.BCEWithLogitsLoss()
    expected = training.d_step(ref_d, ref_g, real_images, noise, ref_do, criterion)
    expected.update(training.g_step(ref_d, ref_g, noise, ref_go, criterion))
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    try:
        got = call_exercise(train_step, generator, discriminator, g_optimizer, d_optimizer, real_images, noise,
                            scaler, name="train_step")
    except RuntimeError as error:
        if "backward through the graph a second time" not in str(error):
            raise
        fail("the G step's backward pass ran through a graph the D step had already used and freed: "
             "the D step's loss reached into the generator.",
             "in the D step, D must judge the fakes detached, so that d_loss stops at D; the G step "
             "then uses the fakes themselves.")
    if not isinstance(got, dict) or not {"d_loss", "g_loss", "d_real", "d_fake"} <= set(got):
        fail(f"train_step should return a dict with d_loss, g_loss, d_real, d_fake; got {got!r}.")
    got = {k: float(v) for k, v in got.items()}
    g_moved = any(not torch.equal(a, b) for a, b in zip(generator.parameters(), g_before))
    if not is_close(got["d_loss"], expected["d_loss"], 1e-3):
        fail(f"d_loss = {got['d_loss']:.4f}, expected {expected['d_loss']:.4f}.",
             "D step: BCE(D(x), 1) + BCE(D(G(z).detach()), 0) with the discriminator's logits and "
             "nn.BCEWithLogitsLoss; real images are labelled 1, fakes 0.")
    for name in ("d_real", "d_fake"):
        if not is_close(got[name], expected[name], 1e-3):
            fail(f"{name} = {got[name]:.4f}, expected {expected[name]:.4f}.",
                 f"{name} is the mean probability sigmoid(D(·)) on the "
                 f"{'real' if name == 'd_real' else 'fake'} batch, not the raw logit.")
    if not is_close(got["g_loss"], expected["g_loss"], 1e-3):
        hint = ("G step: BCE(D(G(z)), 1), the non-saturating loss, computed with D *after* its "
                "update, and with the generator's gradient (no detach in the G step).")
        fail(f"g_loss = {got['g_loss']:.4f}, expected {expected['g_loss']:.4f}.", hint)
    if not g_moved:
        fail("the generator's weights did not change in the G step.",
             "the G step needs the gradient of g_loss to reach G: D must judge fake_images without "
             ".detach() there, and scaler.step(g_optimizer) must follow the backward pass.")
    for mine, ref, name in ((discriminator, ref_d, "discriminator"), (generator, ref_g, "generator")):
        gap = max((a - b).abs().max().item() for a, b in zip(mine.parameters(), ref.parameters()))
        if gap > 1e-4:
            fail(f"after train_step the {name}'s weights differ from the reference step by {gap:.2e}.",
                 f"call {'d' if name == 'discriminator' else 'g'}_optimizer.zero_grad() before the "
                 f"backward pass and scaler.step({'d' if name == 'discriminator' else 'g'}_optimizer) "
                 "after it, once per step; the D step must not update the generator.")
    passed(f"Training step: d_loss {got['d_loss']:.4f}, g_loss {got['g_loss']:.4f}, D(x) "
           f"{got['d_real']:.3f}, D(G(z)) {got['d_fake']:.3f}: same as the reference D and G steps.")
