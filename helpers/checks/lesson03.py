"""Checks for lesson 03, a DCGAN on CelebA faces."""
from __future__ import annotations

import copy
import math
from typing import Callable

import torch
from torch import nn

from helpers import models
from helpers.taught import lesson03
from helpers.checks import call_exercise, fail, passed


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
    """Lesson 03: g_block(in, out) doubles the size: ConvTranspose(kernel 4, stride 2, padding 1, no bias) ->
    BatchNorm -> ReLU. Kernel 4 at stride 2 overlaps every interior output pixel evenly (Odena et al., 2016)."""
    torch.manual_seed(0)
    block, layers = _built_block(
        g_block, (16, 8), name="g_block", holds="g_block",
        expected=["ConvTranspose2d", "BatchNorm2d", "ReLU"],
        hint="a DCGAN generator block upsamples with a transposed convolution (no pooling, no "
             "Upsample), normalises with BatchNorm, then applies ReLU.")
    conv, norm = layers[0], layers[1]
    _check_block_channels(conv, norm, "g_block(16, 8)", in_channels=16, out_channels=8)
    if conv.bias is not None:
        fail("the ConvTranspose2d has a bias, and a BatchNorm comes right after it.",
             "what does BatchNorm do to a constant added to every pixel of a channel? A parameter that "
             "cannot change the output is wasted.")
    out = block(torch.randn(2, 16, 4, 4))
    if tuple(out.shape) != (2, 8, 8, 8):
        fail(f"g_block(16, 8) on (2, 16, 4, 4) gave {tuple(out.shape)}; expected (2, 8, 8, 8) "
             "(channels 16 -> 8, size doubled).",
             "(H - 1)·s - 2p + k must equal 2H for every H, not only for H = 4: that fixes the stride; "
             "then choose the kernel, and the padding that goes with it.")
    k, s, p = conv.kernel_size[0], conv.stride[0], conv.padding[0]
    if (k, s, p) != (4, 2, 1):
        if k <= s:
            fail(f"kernel {k} at stride {s} doubles the size, but neighbouring stamps do not overlap: each "
                 f"{s}×{s} patch of the output comes from one input pixel alone, so G paints it in tiles.",
                 "take a kernel larger than the stride, so that the stamps of neighbouring input pixels overlap.")
        if k % s:
            fail(f"kernel {k} at stride {s} doubles the size, but the stamps overlap unevenly: some output "
                 f"pixels receive more of them than their neighbours, a checkerboard that G must learn to "
                 f"cancel (Odena et al., 2016; the picture after this check).",
                 "choose a kernel that the stride divides, so that every interior pixel gets as many stamps.")
        fail(f"kernel {k}, stride {s}, padding {p} doubles the size evenly, but it is not the DCGAN "
             "generator's block this lesson builds (the PyTorch DCGAN example's): its Generator and saved "
             "checkpoints expect that layout.", "the smallest kernel that the stride divides and that is larger "
             "than the stride.")
    if out.min() < 0:
        fail("g_block's output has negative values: the ReLU is missing or not last.")
    passed("Generator block: (2, 16, 4, 4) -> (2, 8, 8, 8), a transposed convolution whose stamps overlap "
           "evenly -> BatchNorm2d -> ReLU.")


def check_d_block(d_block: Callable[..., nn.Module]) -> None:
    """Lesson 03: d_block(in, out, batch_norm) halves the size: Conv(kernel 4, stride 2, padding 1, no bias) ->
    [BatchNorm] -> LeakyReLU(0.2), the mirror of g_block."""
    torch.manual_seed(0)
    block, layers = _built_block(
        d_block, (8, 16), name="d_block", holds="d_block(8, 16)",
        expected=["Conv2d", "BatchNorm2d", "LeakyReLU"],
        hint="a DCGAN discriminator block downsamples with a strided convolution (no pooling).")
    conv, norm, act = layers
    _check_block_channels(conv, norm, "d_block(8, 16)", in_channels=8, out_channels=16)
    if conv.bias is not None:
        fail("the Conv2d has a bias, and a BatchNorm comes right after it.",
             "the same reasoning as in g_block: BatchNorm removes any constant per channel.")
    if not math.isclose(act.negative_slope, 0.2):
        fail(f"LeakyReLU slope is {act.negative_slope}; DCGAN uses 0.2.",
             "the slope for negative inputs is LeakyReLU's first argument.")
    out = block(torch.randn(2, 8, 16, 16))
    if tuple(out.shape) != (2, 16, 8, 8):
        fail(f"d_block(8, 16) on (2, 8, 16, 16) gave {tuple(out.shape)}; expected (2, 16, 8, 8).",
             "a convolution maps H to floor((H + 2p - k) / s) + 1: the stride halves the size, the kernel "
             "and padding are g_block's, mirrored.")
    if (conv.kernel_size[0], conv.stride[0], conv.padding[0]) != (4, 2, 1):
        fail(f"d_block's convolution has kernel {conv.kernel_size[0]}, stride {conv.stride[0]}, padding "
             f"{conv.padding[0]}: it halves the size, but it is not the mirror of g_block's.",
             "use the kernel, stride and padding of g_block's transposed convolution.")
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


def _running_stats(generator: nn.Module) -> list[torch.Tensor]:
    return [b.detach().clone() for name, b in generator.named_buffers() if "running" in name]


def check_generate(generate_fn: Callable) -> None:
    """Lesson 03: generate(generator, noise) draws with BatchNorm's running averages (eval mode), records no
    gradients, leaves the running averages as they were and the generator in the mode it was in."""
    torch.manual_seed(0)
    generator = lesson03.Generator(latent_dim=8, feature_maps=4, channels=3, image_size=32)
    generator.apply(lesson03.init_weights)
    with torch.no_grad():  # a few training batches: running averages that differ from any one batch's statistics
        for _ in range(3):
            generator(torch.randn(16, 8) * 2 + 1)
    noise = torch.randn(6, 8)
    stats = _running_stats(generator)
    reference = copy.deepcopy(generator).eval()
    with torch.no_grad():
        expected = reference(noise)
    images = call_exercise(generate_fn, generator, noise, name="generate")
    if not isinstance(images, torch.Tensor) or tuple(images.shape) != tuple(expected.shape):
        fail(f"generate(generator, noise) for noise {tuple(noise.shape)} should return images of shape "
             f"{tuple(expected.shape)}, got {getattr(images, 'shape', type(images).__name__)}.")
    moved = any(not torch.equal(a, b) for a, b in zip(_running_stats(generator), stats))
    if moved or not torch.allclose(images.float().cpu(), expected, atol=1e-5):
        fail("the images depend on the other samples in the batch" + (
             ", and drawing them moved BatchNorm's running averages" if moved else "") + ": G drew in train mode.",
             "in train mode BatchNorm normalises with the batch's own statistics and updates its running "
             "averages; the mode that uses the running averages is the one to draw in.")
    if images.requires_grad:
        fail("the images carry a graph back into G's weights: drawing 1,000 samples would keep every "
             "activation in memory.", "draw with gradient recording switched off.")
    if not generator.training:
        fail("generate left G in eval mode: the next training step would normalise with the running "
             "averages and stop updating them.", "put G back in the mode it was in when generate was called.")
    generator.eval()
    call_exercise(generate_fn, generator, noise, name="generate")
    if generator.training:
        fail("generate switched G to train mode, though it was in eval mode when called (as a finished "
             "model may be).", "remember the mode G was in, and restore that one.")
    passed("generate: BatchNorm's running averages (each sample independent of its batch), no graph, the "
           "running averages untouched, G left in the mode it was in.")
