"""Lesson 08: the U-Net (shapes, the skip connections at work), the PatchGAN (output size, receptive
field against hand-computed values), CycleGAN's generator and fake pool, the paired crops (held-out
part disjoint), the digits in MNIST's frame, bad input, and the checks that explain wrong answers."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from helpers import image_to_image as i2i
from helpers.checks import CheckFailed, lesson08


# --- the U-Net ---------------------------------------------------------------------------------

def test_unet_shapes():
    torch.manual_seed(0)
    unet = i2i.UNet(in_channels=1, out_channels=3, features=4, depth=4)
    out = unet(torch.rand(2, 1, 32, 32) * 2 - 1)
    assert out.shape == (2, 3, 32, 32) and out.min() >= -1 and out.max() <= 1


def test_unet_joins_each_decoder_layer_to_the_encoder_output_of_its_size():
    """With skips the decoder layers after the first take twice the channels, and forward concatenates
    depth − 1 pairs of equal-sized tensors."""
    torch.manual_seed(0)
    with_skips = i2i.UNet(1, 1, features=4, depth=3, skips=True).eval()
    without = i2i.UNet(1, 1, features=4, depth=3, skips=False)
    assert with_skips.ups[1][0].in_channels == 2 * without.ups[1][0].in_channels
    captured = {}
    original = torch.cat

    def spy(tensors, dim=0):
        captured.setdefault("calls", []).append([t.shape for t in tensors])
        return original(tensors, dim=dim)

    torch.cat = spy
    try:
        with_skips(torch.zeros(1, 1, 16, 16))
    finally:
        torch.cat = original
    assert len(captured["calls"]) == 2 and all(a == b for a, b in captured["calls"])  # depth − 1 joins of equal size


def test_unet_without_skips_sends_everything_through_the_bottleneck():
    torch.manual_seed(0)
    unet = i2i.UNet(1, 1, features=4, depth=3, skips=False).eval()
    x = torch.rand(1, 1, 16, 16) * 2 - 1
    with torch.no_grad():
        reference = unet(x)
        handle = unet.downs[-1].register_forward_hook(lambda module, inputs, output: output * 0)
        cut = unet(x)                      # bottleneck zeroed: the input no longer matters
        handle.remove()
        other = unet(torch.rand(1, 1, 16, 16))
    assert not torch.allclose(reference, other)
    skipped = i2i.UNet(1, 1, features=4, depth=3, skips=True).eval()
    with torch.no_grad():
        handle = skipped.downs[-1].register_forward_hook(lambda module, inputs, output: output * 0)
        a, b = skipped(x), skipped(torch.rand(1, 1, 16, 16))
        handle.remove()
    assert not torch.allclose(a, b)        # with skips, detail still reaches the output
    with torch.no_grad():
        handle = unet.downs[-1].register_forward_hook(lambda module, inputs, output: output * 0)
        assert torch.allclose(cut, unet(torch.rand(1, 1, 16, 16)))
        handle.remove()


@pytest.mark.parametrize("kwargs, match", [
    ({"depth": 1}, "depth must be at least 2"),
    ({"features": 0}, "features must be a positive int, got 0"),
    ({"in_channels": 1.5}, "in_channels must be a positive int, got 1.5"),
])
def test_unet_rejects_bad_sizes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        i2i.UNet(**kwargs)


def test_unet_names_the_size_it_needs():
    with pytest.raises(ValueError, match=r"divisible by 16, got \(1, 1, 28, 28\)"):
        i2i.UNet(1, 3, 4, depth=4)(torch.zeros(1, 1, 28, 28))


# --- the PatchGAN and its receptive field ---------------------------------------------------------

def test_pix2pix_patchgan_is_70_by_70_with_30_by_30_outputs_on_256_pixels():
    d = i2i.PatchGAN(in_channels=6, features=64, layers=3)
    assert d.conv_specs() == [(4, 2, 1)] * 3 + [(4, 1, 1)] * 2
    # by hand, from the output back: 1 -> 4 -> 7 -> 16 -> 34 -> 70
    assert i2i.receptive_field(d.conv_specs()) == 70
    with torch.no_grad():
        assert d(torch.zeros(1, 6, 256, 256)).shape == (1, 1, 30, 30)


def test_small_patchgan_shape_and_field():
    d = i2i.PatchGAN(in_channels=1, features=8, layers=1, norm="none")
    assert i2i.receptive_field(d.conv_specs()) == 16   # 1 -> 4 -> 7 -> 16
    with torch.no_grad():
        assert d(torch.zeros(3, 1, 28, 28)).shape == (3, 1, 12, 12)


def test_receptive_field_is_what_one_output_actually_sees():
    torch.manual_seed(0)
    d = i2i.PatchGAN(in_channels=1, features=4, layers=2, norm="none")
    x = torch.zeros(1, 1, 64, 64, requires_grad=True)
    d(x)[0, 0, 3, 3].backward()
    rows = x.grad[0, 0].abs().sum(1).nonzero()
    assert rows.max() - rows.min() + 1 <= i2i.receptive_field(d.conv_specs()) == 34


@pytest.mark.parametrize("specs, match", [([], "at least one"), ([(4, 0, 1)], "stride ≥ 1"), ([(4, 2)], "kernel")])
def test_receptive_field_rejects_bad_layers(specs, match):
    with pytest.raises(ValueError, match=match):
        i2i.receptive_field(specs)


def test_patchgan_names_the_channels_it_expects():
    with pytest.raises(ValueError, match=r"expects \(N, 6, H, W\).*got \(1, 3, 32, 32\)"):
        i2i.PatchGAN(6, 8, 1)(torch.zeros(1, 3, 32, 32))
    with pytest.raises(ValueError, match="norm must be one of"):
        i2i.PatchGAN(6, 8, 1, norm="layer")


# --- CycleGAN's generator and the pool of fakes ---------------------------------------------------

def test_resnet_generator_starts_as_the_identity():
    torch.manual_seed(0)
    g = i2i.ResnetGenerator(channels=1, features=4, blocks=1)
    x = torch.rand(2, 1, 28, 28) * 1.8 - 0.9
    with torch.no_grad():
        assert g(x).shape == (2, 1, 28, 28)
        assert torch.allclose(g(x), x, atol=0.02)
    with pytest.raises(ValueError, match=r"H and W even, got \(1, 1, 27, 27\)"):
        g(torch.zeros(1, 1, 27, 27))


def test_image_buffer_fills_then_swaps_about_half():
    pool = i2i.ImageBuffer(4, generator=torch.Generator().manual_seed(0))
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.mix(first), first)                # while it fills: the fakes themselves
    new = torch.arange(100.0, 500.0).view(400, 1, 1, 1)
    out = pool.mix(new)
    swapped = (out != new).sum().item()
    assert 150 < swapped < 250 and out.shape == new.shape     # about half are replaced by an older fake
    assert set(out.flatten().tolist()) <= set(range(4)) | set(range(100, 500))
    assert torch.equal(i2i.ImageBuffer(0).mix(first), first)
    with pytest.raises(ValueError, match="size must be an int"):
        i2i.ImageBuffer(-1)


# --- the data -------------------------------------------------------------------------------------

def test_photo_pairs_shapes_and_a_disjoint_held_out_part(monkeypatch):
    rng = np.random.default_rng(0)
    photos = {"a": rng.integers(0, 256, (64, 48, 3), dtype=np.uint8),
              "b": rng.integers(0, 256, (80, 40, 3), dtype=np.uint8)}
    monkeypatch.setattr(i2i, "load_photos", lambda scale: photos)
    train, test = i2i.photo_pairs("lowres", size=16, train_crops=40, test_crops=10, seed=0)
    assert train.inputs.shape == (40, 3, 16, 16) and train.targets.shape == (40, 3, 16, 16)
    assert test.inputs.dtype == torch.uint8 and len(test) == 10

    def rows_of(crops):
        """For each crop, the rows of its photo it came from (found by matching its first row)."""
        found = set()
        for k, crop in enumerate(crops.targets):
            photo = photos["ab"[k % 2]]
            first = crop.permute(1, 2, 0)[0].numpy()
            for y in range(photo.shape[0] - 15):
                for row in (photo[y], photo[y, ::-1]):
                    for x in range(photo.shape[1] - 15):
                        if np.array_equal(row[x:x + 16], first):
                            found.update((k % 2, r) for r in range(y, y + 16))
        return found

    train_rows, test_rows = rows_of(train), rows_of(test)
    assert test_rows and train_rows and not train_rows & test_rows   # no pixel row in both


def test_photo_pairs_edges_task_and_bad_input(monkeypatch):
    photos = {"a": np.full((64, 64, 3), 128, dtype=np.uint8)}
    photos["a"][:, 32:] = 255
    monkeypatch.setattr(i2i, "load_photos", lambda scale: photos)
    train, _ = i2i.photo_pairs("edges", size=16, train_crops=3, test_crops=1)
    assert train.inputs.shape == (3, 1, 16, 16)
    with pytest.raises(ValueError, match="task must be one of"):
        i2i.photo_pairs("colour")
    with pytest.raises(ValueError, match="do not fit the test part"):
        i2i.photo_pairs("lowres", size=32, train_crops=1, test_crops=1)


def test_low_resolution_loses_detail_and_checks_its_input():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    blurred = i2i.low_resolution(photo, 4)
    assert blurred.shape == photo.shape
    assert np.abs(np.diff(blurred.astype(float), axis=1)).mean() < np.abs(np.diff(photo.astype(float), axis=1)).mean() / 2
    with pytest.raises(ValueError, match="multiples of factor 4"):
        i2i.low_resolution(photo[:30], 4)
    with pytest.raises(ValueError, match=r"\(H, W, 3\) array"):
        i2i.low_resolution(photo[..., 0], 4)


def test_sklearn_digits_in_mnist_frame():
    digits = i2i.sklearn_digits()
    assert digits.images.shape == (1797, 1, 28, 28) and digits.images.dtype == torch.uint8
    assert digits.labels.dtype == torch.int64 and set(digits.labels.tolist()) == set(range(10))
    ink = digits.images.float()
    rows = torch.arange(28.0).view(1, 1, 28, 1)
    centre = ((ink * rows).sum((1, 2, 3)) / ink.sum((1, 2, 3))).mean()
    assert abs(centre - 13.5) < 0.3          # centred by mass, as MNIST's digits
    boxed = i2i.sklearn_digits(centre="box")
    assert boxed.images[:, :, :4].sum() == 0 and boxed.images[:, :, 24:].sum() == 0   # inside the 20×20 box
    with pytest.raises(ValueError, match="box \\(30\\) must fit"):
        i2i.sklearn_digits(box=30)
    with pytest.raises(ValueError, match="centre must be"):
        i2i.sklearn_digits(centre="middle")


def test_sklearn_digits_interpolation_modes():
    """bilinear (the lesson's domain A), bicubic (its comparison baseline) and nearest enlarge the same
    8×8 grid differently; nearest keeps scikit-learn's 17 grey levels; another mode is named and refused."""
    bilinear, bicubic = i2i.sklearn_digits(centre="box"), i2i.sklearn_digits(centre="box", mode="bicubic")
    nearest = i2i.sklearn_digits(centre="box", mode="nearest")
    assert bicubic.images.shape == nearest.images.shape == (1797, 1, 28, 28)
    assert torch.equal(bilinear.labels, bicubic.labels)
    assert not torch.equal(bilinear.images, bicubic.images) and not torch.equal(bilinear.images, nearest.images)
    assert len(torch.unique(nearest.images)) <= 17 < len(torch.unique(bicubic.images))
    assert "bicubic" in bicubic.source
    with pytest.raises(ValueError, match="mode must be one of"):
        i2i.sklearn_digits(mode="area")


def test_centre_of_mass_shift_moves_a_dot_to_the_centre():
    image = torch.zeros(1, 1, 28, 28)
    image[0, 0, 5, 20] = 1.0
    image[0, 0, 5, 21] = 1.0
    moved = i2i.centre_of_mass_shift(image)
    rows, cols = torch.arange(28.0).view(28, 1), torch.arange(28.0).view(1, 28)
    mass = moved[0, 0].sum()
    assert abs((moved[0, 0] * rows).sum() / mass - 13.5) < 0.1
    assert abs((moved[0, 0] * cols).sum() / mass - 13.5) < 0.1
    with pytest.raises(ValueError, match="float"):
        i2i.centre_of_mass_shift(torch.zeros(1, 1, 4, 4, dtype=torch.uint8))


# --- the checks -------------------------------------------------------------------------------------

def good_cycle(real_a, real_b, fake_a, fake_b, g_ab, g_ba):
    return F.l1_loss(g_ba(fake_b), real_a) + F.l1_loss(g_ab(fake_a), real_b)


@pytest.mark.parametrize("wrong, hint", [
    (lambda ra, rb, fa, fb, gab, gba: F.l1_loss(gba(fb), ra), "only A→B→A"),
    (lambda ra, rb, fa, fb, gab, gba: F.mse_loss(gba(fb), ra) + F.mse_loss(gab(fa), rb), "squared error"),
    (lambda ra, rb, fa, fb, gab, gba: F.l1_loss(gab(fb), ra) + F.l1_loss(gba(fa), rb), "through the other generator"),
    (lambda ra, rb, fa, fb, gab, gba: F.l1_loss(fb, ra) + F.l1_loss(fa, rb), "identity loss"),
    (lambda ra, rb, fa, fb, gab, gba: (F.l1_loss(gba(fb), ra) + F.l1_loss(gab(fa), rb)) / 2, "averaged"),
    (lambda ra, rb, fa, fb, gab, gba: F.l1_loss(gba(fb.detach()), ra) + F.l1_loss(gab(fa.detach()), rb),
     "part of the round trip is cut off"),
])
def test_check_cycle_loss(wrong, hint, capsys):
    lesson08.check_cycle_loss(good_cycle)
    assert "✅" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match=hint):
        lesson08.check_cycle_loss(wrong)


def good_unet(unet, x):
    skips = []
    for down in unet.downs:
        x = down(x)
        skips.append(x)
    skips.pop()
    for up in unet.ups:
        x = up(x)
        if skips:
            x = torch.cat([x, skips.pop()], dim=1)
    return x


def no_skips(unet, x):
    for layer in [*unet.downs, *unet.ups]:
        x = layer(x)
    return x


def shallow_first(unet, x):
    skips = []
    for down in unet.downs:
        x = down(x)
        skips.append(x)
    skips.pop()
    skips.reverse()
    for up in unet.ups:
        x = up(x)
        if skips:
            x = torch.cat([x, skips.pop()], dim=1)
    return x


def skip_first(unet, x):
    skips = []
    for down in unet.downs:
        x = down(x)
        skips.append(x)
    skips.pop()
    for up in unet.ups:
        x = up(x)
        if skips:
            x = torch.cat([skips.pop(), x], dim=1)
    return x


@pytest.mark.parametrize("wrong, hint", [(no_skips, "concatenated on the channel axis"),
                                         (shallow_first, "deepest skip first"),
                                         (skip_first, "upsampled first")])
def test_check_unet_forward(wrong, hint, capsys):
    lesson08.check_unet_forward(good_unet)
    assert "✅" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match=hint):
        lesson08.check_unet_forward(wrong)


def good_size(size, specs):
    for k, s, p in specs:
        size = (size + 2 * p - k) // s + 1
    return size


def no_padding(size, specs):
    for k, s, p in specs:
        size = (size - k) // s + 1
    return size


def stride_only(size, specs):
    for k, s, p in specs:
        size = size // s
    return size


def no_plus_one(size, specs):
    for k, s, p in specs:
        size = (size + 2 * p - k) // s
    return size


@pytest.mark.parametrize("wrong, hint", [(no_padding, "padding is missing"), (stride_only, "stride only"),
                                         (no_plus_one, r"\+ 1 is missing")])
def test_check_patch_output_size(wrong, hint, capsys):
    lesson08.check_patch_output_size(good_size)
    assert "30×30" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match=hint):
        lesson08.check_patch_output_size(wrong)


def test_checks_say_when_the_exercise_is_not_written():
    def stub(*args):
        raise NotImplementedError
    for check in (lesson08.check_cycle_loss, lesson08.check_unet_forward, lesson08.check_patch_output_size):
        with pytest.raises(CheckFailed, match="not written yet"):
            check(stub)


def test_facades_split_checks_count_and_size_and_splits_photo_from_labels(tmp_path, monkeypatch):
    train = tmp_path / "train"
    train.mkdir()
    for k in range(2):
        pair = np.zeros((256, 512, 3), dtype=np.uint8)
        pair[:, :256] = 200          # left: the photo
        pair[:, 256:] = 30           # right: the label map
        Image.fromarray(pair).save(train / f"{k}.jpg")
    with pytest.raises(ValueError, match="holds 2 JPEGs, expected 400"):
        i2i._facades_split(tmp_path, "train", 64)
    monkeypatch.setitem(i2i.FACADES_COUNTS, "train", 2)
    pairs = i2i._facades_split(tmp_path, "train", 64)
    assert pairs.inputs.shape == pairs.targets.shape == (2, 3, 64, 64)
    assert abs(pairs.inputs.float().mean() - 30) < 3 and abs(pairs.targets.float().mean() - 200) < 3
    Image.fromarray(np.zeros((256, 256, 3), dtype=np.uint8)).save(train / "1.jpg")
    with pytest.raises(ValueError, match="expected 512×256"):
        i2i._facades_split(tmp_path, "train", 64)
