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


def _block(make_block: Callable[..., nn.Module], args: tuple, kinds: list[str], hint: str, x_shape: tuple[int, ...],
           out_shape: tuple[int, ...], shape_hint: str) -> list[nn.Module]:
    """Build make_block(*args); fail unless it holds the layers `kinds` mapping args[0] -> args[1] channels, with
    no bias before its BatchNorm, and maps a random x of `x_shape` to `out_shape`. Returns its layers."""
    name = "g_block" if kinds[0] == "ConvTranspose2d" else "d_block"
    block, call = call_exercise(make_block, *args, name=name), f"{name}{args}"
    if not isinstance(block, nn.Module):
        fail(f"{call} should return an nn.Module (an nn.Sequential), got {type(block).__name__}.")
    layers = [m for m in block.modules() if not isinstance(m, nn.Sequential)]
    if [type(m).__name__ for m in layers] != kinds:
        fail(f"{call} holds {[type(m).__name__ for m in layers]}; expected {', '.join(kinds)} in that order.", hint)
    conv, norm = layers[0], layers[1]
    if (conv.in_channels, conv.out_channels, norm.num_features) != (args[0], args[1], args[1]):
        fail(f"{call} maps {conv.in_channels} -> {conv.out_channels} channels with BatchNorm2d({norm.num_features}); "
             f"expected {args[0]} -> {args[1]} and BatchNorm2d({args[1]}).")
    if conv.bias is not None:
        fail(f"the {kinds[0]} has a bias, and a BatchNorm comes right after it.", "what does BatchNorm do to a "
             "constant added to every pixel of a channel? A parameter that cannot change the output is wasted.")
    out = block(torch.randn(x_shape))
    fail_unless_shape(out, out_shape, f"{call} on {x_shape} should give {out_shape}", shape_hint)
    if out.min() < 0 and kinds[-1] == "ReLU":
        fail("g_block's output has negative values: the ReLU is missing or not last.")
    return layers


def check_g_block(g_block: Callable[[int, int], nn.Module]) -> None:
    """Lesson 03: g_block(in, out) doubles the size: ConvTranspose(kernel 4, stride 2, padding 1, no bias) ->
    BatchNorm -> ReLU. Kernel 4 at stride 2 overlaps every interior output pixel evenly (Odena et al., 2016)."""
    torch.manual_seed(0)
    conv = _block(g_block, (16, 8), ["ConvTranspose2d", "BatchNorm2d", "ReLU"], "a DCGAN generator block upsamples "
                  "with a transposed convolution (no pooling, no Upsample), then BatchNorm, then ReLU.", (2, 16, 4, 4),
                  (2, 8, 8, 8), "(H - 1)·s - 2p + k must equal 2H for every H, not only for H = 4: that fixes the "
                  "stride; then choose the kernel, and the padding that goes with it.")[0]
    k, s = conv.kernel_size[0], conv.stride[0]
    if k <= s:
        fail(f"kernel {k} at stride {s}: neighbouring stamps do not overlap; G paints in {s}×{s} tiles.",
             "take a kernel larger than the stride.")
    if k % s:
        fail(f"kernel {k} at stride {s}: the stamps overlap unevenly, a checkerboard that G must learn to cancel "
             "(Odena et al., 2016; the picture after this check).", "choose a kernel that the stride divides.")
    if (k, s, conv.padding[0]) != (4, 2, 1):
        fail(f"kernel {k}, stride {s}, padding {conv.padding[0]} doubles the size evenly, but it is not the DCGAN "
             "generator's block, whose layout the lesson's Generator and checkpoints expect.",
             "the smallest kernel that the stride divides and that is larger than the stride.")
    passed("Generator block: (2, 16, 4, 4) -> (2, 8, 8, 8), stamps overlapping evenly -> BatchNorm2d -> ReLU.")


def check_d_block(d_block: Callable[..., nn.Module]) -> None:
    """Lesson 03: d_block(in, out, batch_norm) halves the size: Conv(kernel 4, stride 2, padding 1, no bias) ->
    [BatchNorm] -> LeakyReLU(0.2), the mirror of g_block."""
    torch.manual_seed(0)
    conv, _, act = _block(d_block, (8, 16), ["Conv2d", "BatchNorm2d", "LeakyReLU"], "a DCGAN discriminator block "
                          "downsamples with a strided convolution (no pooling).", (2, 8, 16, 16), (2, 16, 8, 8),
                          "a convolution maps H to floor((H + 2p - k) / s) + 1: the stride halves the size.")
    if not math.isclose(act.negative_slope, 0.2):
        fail(f"LeakyReLU slope is {act.negative_slope}; DCGAN uses 0.2.", "it is LeakyReLU's first argument.")
    if (conv.kernel_size[0], conv.stride[0], conv.padding[0]) != (4, 2, 1):
        fail(f"d_block's convolution has kernel {conv.kernel_size[0]}, stride {conv.stride[0]}, padding "
             f"{conv.padding[0]}: it halves the size, but it is not the mirror of g_block's.",
             "use the kernel, stride and padding of g_block's transposed convolution.")
    kinds = [type(m).__name__ for m in call_exercise(d_block, 3, 8, False, name="d_block").modules()
             if not isinstance(m, nn.Sequential)]
    if kinds != ["Conv2d", "LeakyReLU"]:
        fail(f"d_block(3, 8, batch_norm=False) holds {kinds}; expected Conv2d, LeakyReLU.", "the first "
             "discriminator layer has no BatchNorm (the DCGAN paper: it made training unstable).")
    passed("Discriminator block: (2, 8, 16, 16) -> (2, 16, 8, 8) -> [BatchNorm2d] -> LeakyReLU(0.2).")


def check_weights_init(init_fn: Callable[[nn.Module], None]) -> None:
    """Lesson 03: conv weights ~ N(0, 0.02), BatchNorm weight ~ N(1, 0.02) and bias 0."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.ConvTranspose2d(64, 128, 4, 1, 0, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
                          nn.Conv2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.LeakyReLU(0.2))
    call_exercise(model.apply, init_fn, name="init_weights")
    for layer, centre, tol, low, high in ((model[0], 0, 0.002, 0.018, 0.022), (model[3], 0, 0.002, 0.018, 0.022),
                                          (model[1], 1, 0.01, 0.012, 0.03), (model[4], 1, 0.01, 0.012, 0.03)):
        mean, std = layer.weight.mean().item(), layer.weight.std().item()
        if abs(mean - centre) > tol or not low < std < high:
            hint = f"draw from a normal distribution with mean {centre} and standard deviation 0.02" + (
                " (a scale of 0 would switch the layer off)." if centre else "; handle Conv2d and ConvTranspose2d.")
            if 0.18 < std < 0.22:
                hint = "0.02 is the standard deviation, not 0.2."
            elif 0.0003 < std < 0.0005:
                hint = "normal_'s third argument is the standard deviation: 0.02, not the variance 0.02²."
            fail(f"{type(layer).__name__} weights: mean {mean:.4f}, std {std:.4f}; expected {centre} and 0.02.", hint)
    if model[1].bias.abs().max() > 0 or model[4].bias.abs().max() > 0:
        fail("BatchNorm2d biases should start at 0.", "set the BatchNorm shift to zeros.")
    passed("Weight init: conv weights ~ N(0, 0.02), BatchNorm scale ~ N(1, 0.02), BatchNorm shift 0.")


def check_dcgan_models(generator: nn.Module, discriminator: nn.Module, latent_dim: int,
                       image_size: int, channels: int = 3) -> None:
    """Lesson 03: the notebook's G and D have the shapes, and the weights layout, of the lesson's DCGAN."""
    with torch.no_grad():
        images = generator(torch.randn(4, latent_dim, device=next(generator.parameters()).device))
        out = discriminator(images)
    size = (4, channels, image_size, image_size)
    fail_unless_shape(images, size, f"G(z) for z of shape (4, {latent_dim}) should give {size}")
    if images.min() < -1 or images.max() > 1:
        fail("G's images leave [-1, 1]: the generator should end with Tanh.")
    fail_unless_shape(out, (4, 1), "D(G(z)) should have shape (4, 1)")
    fm = generator.net[-2].in_channels if hasattr(generator, "net") else 64
    for name, model, reference in (("G", generator, lesson03.Generator(latent_dim, fm, channels, image_size)),
                                   ("D", discriminator, lesson03.Discriminator(fm, channels, image_size))):
        if count_parameters(model) != count_parameters(reference):
            fail(f"{name} has {count_parameters(model):,} parameters; the DCGAN's has {count_parameters(reference):,}.")
        shapes, reference_shapes = ({k: v.shape for k, v in m.state_dict().items()} for m in (model, reference))
        if name == "G" and shapes != reference_shapes:
            fail("G's weights are laid out differently from the lesson's Generator, so its checkpoint could not be "
                 "loaded again (helpers.models.load_dcgan_generator).", "keep the layers in one nn.Sequential `net`.")
    passed(f"DCGAN: G {count_parameters(generator):,} parameters, D {count_parameters(discriminator):,}, as laid out.")


def check_generate(generate_fn: Callable) -> None:
    """Lesson 03: generate(generator, noise) draws with BatchNorm's running averages (eval mode), records no
    gradients, leaves the running averages as they were and the generator in the mode it was in."""
    torch.manual_seed(0)
    generator = lesson03.Generator(latent_dim=8, feature_maps=4, channels=3, image_size=32)
    generator.apply(lesson03.init_weights)
    with torch.no_grad():  # a few training batches: running averages that differ from any one batch's statistics
        for _ in range(3):
            generator(torch.randn(16, 8) * 2 + 1)
        noise, stats = torch.randn(6, 8), [b.clone() for b in generator.buffers()]
        expected = copy.deepcopy(generator).eval()(noise)
    images = call_exercise(generate_fn, generator, noise, name="generate")
    fail_unless_shape(images, expected.shape, f"generate(generator, noise) for noise (6, 8) should return images of "
                      f"shape {tuple(expected.shape)}")
    moved = any(not torch.equal(a, b) for a, b in zip(generator.buffers(), stats))
    if moved or not torch.allclose(images.float().cpu(), expected, atol=1e-5):
        fail("the images depend on the other samples in the batch" + (
             ", and drawing them moved BatchNorm's running averages" if moved else "") + ": G drew in train mode.",
             "in train mode BatchNorm normalises with the batch's own statistics and updates its running averages.")
    if images.requires_grad:
        fail("the images carry a graph back into G's weights: every activation stays in memory.", "no gradients.")
    if not generator.training:
        fail("generate left G in eval mode: training would go on with the running averages, no longer updated.",
             "put G back in the mode it was in when generate was called.")
    call_exercise(generate_fn, generator.eval(), noise, name="generate")
    if generator.training:
        fail("generate switched G to train mode, though it was in eval mode when called (as a finished model may be).",
             "remember the mode G was in, and restore that one.")
    passed("generate: eval mode, no graph, running averages untouched, G left in the mode it was in.")
