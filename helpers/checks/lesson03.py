"""Checks for lesson 03, a DCGAN on CelebA faces."""
from __future__ import annotations

import copy
import math
from typing import Callable

import torch
from torch import nn

from helpers.checks import call_exercise, fail, fail_unless_shape, passed
from helpers.models import count_parameters
from helpers.taught import lesson03


def _block(make_block: Callable[..., nn.Module], args: tuple, kinds: list[str], hint: str, bias_hint: str,
           x_shape: tuple[int, ...]) -> tuple[list[nn.Module], torch.Tensor]:
    """Build make_block(*args); fail unless it holds the layers `kinds`, maps args[0] -> args[1] channels with
    BatchNorm2d(args[1]) and no bias; return its layers and its output on a random x of `x_shape`."""
    call = f"{'g' if kinds[0] == 'ConvTranspose2d' else 'd'}_block{args}"
    block = call_exercise(make_block, *args, name=call.split("(")[0])
    if not isinstance(block, nn.Module):
        fail(f"{call} should return an nn.Module (an nn.Sequential), got {type(block).__name__}.")
    layers = [m for m in block.modules() if not isinstance(m, nn.Sequential)]
    found = [type(m).__name__ for m in layers]
    if found != kinds:
        fail(f"{call} holds {found}; expected {', '.join(kinds)} in that order.", hint)
    conv, norm = layers[0], layers[1]
    if (conv.in_channels, conv.out_channels, norm.num_features) != (args[0], args[1], args[1]):
        fail(f"{call} maps {conv.in_channels} -> {conv.out_channels} channels with BatchNorm2d({norm.num_features}); "
             f"expected {args[0]} -> {args[1]} and BatchNorm2d({args[1]}).")
    if conv.bias is not None:
        fail(f"the {kinds[0]} has a bias, and a BatchNorm comes right after it.", bias_hint)
    return layers, block(torch.randn(x_shape))


def check_g_block(g_block: Callable[[int, int], nn.Module]) -> None:
    """Lesson 03: g_block(in, out) doubles the size: ConvTranspose(kernel 4, stride 2, padding 1, no bias) ->
    BatchNorm -> ReLU. Kernel 4 at stride 2 overlaps every interior output pixel evenly (Odena et al., 2016)."""
    torch.manual_seed(0)
    layers, out = _block(g_block, (16, 8), ["ConvTranspose2d", "BatchNorm2d", "ReLU"],
                         "a DCGAN generator block upsamples with a transposed convolution (no pooling, no Upsample), "
                         "normalises with BatchNorm, then applies ReLU.",
                         "what does BatchNorm do to a constant added to every pixel of a channel? A parameter that "
                         "cannot change the output is wasted.", (2, 16, 4, 4))
    fail_unless_shape(out, (2, 8, 8, 8), "g_block(16, 8) on (2, 16, 4, 4) should give (2, 8, 8, 8) (channels "
                      "16 -> 8, size doubled)", "(H - 1)·s - 2p + k must equal 2H for every H, not only for H = 4: "
                      "that fixes the stride; then choose the kernel, and the padding that goes with it.")
    k, s, p = layers[0].kernel_size[0], layers[0].stride[0], layers[0].padding[0]
    if k <= s:
        fail(f"kernel {k} at stride {s} doubles the size, but neighbouring stamps do not overlap: each {s}×{s} "
             "patch of the output comes from one input pixel alone, so G paints it in tiles.",
             "take a kernel larger than the stride, so that the stamps of neighbouring input pixels overlap.")
    if k % s:
        fail(f"kernel {k} at stride {s} doubles the size, but the stamps overlap unevenly: some output pixels "
             "receive more of them than their neighbours, a checkerboard that G must learn to cancel (Odena et al., "
             "2016; the picture after this check).",
             "choose a kernel that the stride divides, so that every interior pixel gets as many stamps.")
    if (k, s, p) != (4, 2, 1):
        fail(f"kernel {k}, stride {s}, padding {p} doubles the size evenly, but it is not the DCGAN generator's "
             "block this lesson builds (the PyTorch DCGAN example's): its Generator and saved checkpoints expect "
             "that layout.", "the smallest kernel that the stride divides and that is larger than the stride.")
    if out.min() < 0:
        fail("g_block's output has negative values: the ReLU is missing or not last.")
    passed("Generator block: (2, 16, 4, 4) -> (2, 8, 8, 8), a transposed convolution whose stamps overlap "
           "evenly -> BatchNorm2d -> ReLU.")


def check_d_block(d_block: Callable[..., nn.Module]) -> None:
    """Lesson 03: d_block(in, out, batch_norm) halves the size: Conv(kernel 4, stride 2, padding 1, no bias) ->
    [BatchNorm] -> LeakyReLU(0.2), the mirror of g_block."""
    torch.manual_seed(0)
    (conv, _, act), out = _block(d_block, (8, 16), ["Conv2d", "BatchNorm2d", "LeakyReLU"],
                                 "a DCGAN discriminator block downsamples with a strided convolution (no pooling).",
                                 "the same reasoning as in g_block: BatchNorm removes any constant per channel.",
                                 (2, 8, 16, 16))
    if not math.isclose(act.negative_slope, 0.2):
        fail(f"LeakyReLU slope is {act.negative_slope}; DCGAN uses 0.2.",
             "the slope for negative inputs is LeakyReLU's first argument.")
    fail_unless_shape(out, (2, 16, 8, 8), "d_block(8, 16) on (2, 8, 16, 16) should give (2, 16, 8, 8)",
                      "a convolution maps H to floor((H + 2p - k) / s) + 1: the stride halves the size, the kernel "
                      "and padding are g_block's, mirrored.")
    if (conv.kernel_size[0], conv.stride[0], conv.padding[0]) != (4, 2, 1):
        fail(f"d_block's convolution has kernel {conv.kernel_size[0]}, stride {conv.stride[0]}, padding "
             f"{conv.padding[0]}: it halves the size, but it is not the mirror of g_block's.",
             "use the kernel, stride and padding of g_block's transposed convolution.")
    kinds = [type(m).__name__ for m in call_exercise(d_block, 3, 8, False, name="d_block").modules()
             if not isinstance(m, nn.Sequential)]
    if kinds != ["Conv2d", "LeakyReLU"]:
        fail(f"d_block(3, 8, batch_norm=False) holds {kinds}; expected Conv2d, LeakyReLU.",
             "the first discriminator layer has no BatchNorm (the DCGAN paper: normalising the input layer made "
             "training unstable).")
    passed("Discriminator block: (2, 8, 16, 16) -> (2, 16, 8, 8), Conv2d(4, 2, 1) -> BatchNorm2d -> "
           "LeakyReLU(0.2); no BatchNorm when batch_norm=False.")


def check_weights_init(init_fn: Callable[[nn.Module], None]) -> None:
    """Lesson 03: conv weights ~ N(0, 0.02), BatchNorm weight ~ N(1, 0.02) and bias 0."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.ConvTranspose2d(64, 128, 4, 1, 0, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
                          nn.Conv2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.LeakyReLU(0.2))
    call_exercise(model.apply, init_fn, name="init_weights")
    for conv in (model[0], model[3]):
        mean, std = conv.weight.mean().item(), conv.weight.std().item()
        if abs(mean) > 0.002 or not 0.018 < std < 0.022:
            hint = "draw the weights from a normal distribution with mean 0 and standard deviation 0.02."
            if 0.18 < std < 0.22:
                hint = "0.02 is the standard deviation, not 0.2."
            elif 0.0003 < std < 0.0005:
                hint = "normal_'s third argument is the standard deviation: 0.02, not the variance 0.02²."
            fail(f"{type(conv).__name__} weights have mean {mean:.4f} and std {std:.4f}; expected about 0 and 0.02.",
                 hint + " Check that init_weights handles both Conv2d and ConvTranspose2d.")
    for norm in (model[1], model[4]):
        mean, std = norm.weight.mean().item(), norm.weight.std().item()
        if abs(mean - 1) > 0.01 or not 0.012 < std < 0.03:
            fail(f"BatchNorm2d weights have mean {mean:.4f} and std {std:.4f}; expected about 1 and 0.02.",
                 "the BatchNorm scale starts near 1 (not 0: that would switch the layer off): a normal "
                 "distribution with mean 1 and standard deviation 0.02.")
        if norm.bias.abs().max() > 0:
            fail("BatchNorm2d biases should start at 0.", "set the BatchNorm shift to zeros.")
    passed("Weight init: conv weights ~ N(0, 0.02), BatchNorm scale ~ N(1, 0.02), BatchNorm shift 0.")


def check_dcgan_models(generator: nn.Module, discriminator: nn.Module, latent_dim: int,
                       image_size: int, channels: int = 3) -> None:
    """Lesson 03: the notebook's G and D have the shapes, and the weights layout, of the lesson's DCGAN."""
    with torch.no_grad():
        images = generator(torch.randn(4, latent_dim, device=next(generator.parameters()).device))
        out = discriminator(images)
    fail_unless_shape(images, (4, channels, image_size, image_size), f"G(z) for z of shape (4, {latent_dim}) "
                      f"should give (4, {channels}, {image_size}, {image_size})")
    if images.min() < -1 or images.max() > 1:
        fail("G's images leave [-1, 1]: the generator should end with Tanh.")
    fail_unless_shape(out, (4, 1), "D(G(z)) should have shape (4, 1)")
    fm = generator.net[-2].in_channels if hasattr(generator, "net") else 64
    for name, model, reference in (("G", generator, lesson03.Generator(latent_dim, fm, channels, image_size)),
                                   ("D", discriminator, lesson03.Discriminator(fm, channels, image_size))):
        if count_parameters(model) != count_parameters(reference):
            fail(f"{name} has {count_parameters(model):,} parameters; the DCGAN {name} of this size has "
                 f"{count_parameters(reference):,}.")
        if name == "G" and {k: v.shape for k, v in model.state_dict().items()} != {
                k: v.shape for k, v in reference.state_dict().items()}:
            fail("G's weights are laid out differently from the lesson's Generator, so its generator.pt could not "
                 "be loaded again (helpers.models.load_dcgan_generator).",
                 "keep the layers in one nn.Sequential called `net`, one g_block per stage.")
    passed(f"DCGAN: G (N, {latent_dim}) -> (N, {channels}, {image_size}, {image_size}) with "
           f"{count_parameters(generator):,} parameters, D -> (N, 1) with {count_parameters(discriminator):,}; "
           "the layout of the lesson's DCGAN.")


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
    stats = [b.clone() for name, b in generator.named_buffers() if "running" in name]
    with torch.no_grad():
        expected = copy.deepcopy(generator).eval()(noise)
    images = call_exercise(generate_fn, generator, noise, name="generate")
    fail_unless_shape(images, expected.shape, f"generate(generator, noise) for noise {tuple(noise.shape)} should "
                      f"return images of shape {tuple(expected.shape)}")
    moved = any(not torch.equal(a, b) for a, b in zip(
        [b for name, b in generator.named_buffers() if "running" in name], stats))
    if moved or not torch.allclose(images.float().cpu(), expected, atol=1e-5):
        fail("the images depend on the other samples in the batch" + (
             ", and drawing them moved BatchNorm's running averages" if moved else "") + ": G drew in train mode.",
             "in train mode BatchNorm normalises with the batch's own statistics and updates its running averages; "
             "the mode that uses the running averages is the one to draw in.")
    if images.requires_grad:
        fail("the images carry a graph back into G's weights: drawing 1,000 samples would keep every activation in "
             "memory.", "draw with gradient recording switched off.")
    if not generator.training:
        fail("generate left G in eval mode: the next training step would normalise with the running averages and "
             "stop updating them.", "put G back in the mode it was in when generate was called.")
    call_exercise(generate_fn, generator.eval(), noise, name="generate")
    if generator.training:
        fail("generate switched G to train mode, though it was in eval mode when called (as a finished model may "
             "be).", "remember the mode G was in, and restore that one.")
    passed("generate: BatchNorm's running averages (each sample independent of its batch), no graph, the "
           "running averages untouched, G left in the mode it was in.")
