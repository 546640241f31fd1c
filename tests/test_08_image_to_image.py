"""Lesson 08: the U-Net (shapes, the skip connections at work), the PatchGAN (output size, receptive
field against hand-computed values), CycleGAN's generator and fake pool, the paired crops (held-out
part disjoint), the digits in MNIST's frame, the evaluation helpers, the lesson's pictures, bad input, the
checks that explain wrong answers, and the lesson's two training loops continuing after an interrupt."""
from __future__ import annotations

import copy
import os
import signal
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from IPython.core.inputtransformer2 import TransformerManager
from PIL import Image

from helpers import image_to_image as i2i
from helpers import diagrams, plotting
from helpers.checks import CheckFailed, lesson08
from helpers.runtime import ParameterError
from helpers.training import History
from helpers.taught import lesson08 as taught

NOTEBOOK = Path(__file__).resolve().parents[1] / "solutions" / "08_image_to_image.ipynb"


# --- the U-Net ---------------------------------------------------------------------------------

skip_forward = taught.unet_forward  # the lesson's exercise, generated from its solution


def test_unet_shapes():
    torch.manual_seed(0)
    unet = i2i.UNet(in_channels=1, out_channels=3, features=4, depth=4, skip_forward=skip_forward)
    out = unet(torch.rand(2, 1, 32, 32) * 2 - 1)
    assert out.shape == (2, 3, 32, 32) and out.min() >= -1 and out.max() <= 1


def test_unet_runs_the_function_it_is_given_and_makes_room_for_the_skips():
    """The decoder layers after the first take twice the channels; forward runs skip_forward, which
    concatenates depth − 1 pairs of equal-sized tensors."""
    torch.manual_seed(0)
    calls = []

    def spy(unet, x):
        calls.append(x.shape)
        return skip_forward(unet, x)

    unet = i2i.UNet(1, 1, features=4, depth=3, skip_forward=spy).eval()
    assert [up[0].in_channels for up in unet.ups] == [16, 16, 8]   # bottleneck 16; then 8 + 8 and 4 + 4
    captured = []
    original = torch.cat

    def cat_spy(tensors, dim=0):
        captured.append([t.shape for t in tensors])
        return original(tensors, dim=dim)

    torch.cat = cat_spy
    try:
        with torch.no_grad():
            unet(torch.zeros(1, 1, 16, 16))
    finally:
        torch.cat = original
    assert calls == [(1, 1, 16, 16)]
    assert len(captured) == 2 and all(a == b for a, b in captured)  # depth − 1 joins of equal size


def test_unet_skips_carry_detail_past_a_zeroed_bottleneck():
    torch.manual_seed(0)
    unet = i2i.UNet(1, 1, features=4, depth=3, skip_forward=skip_forward).eval()
    with torch.no_grad():
        handle = unet.downs[-1].register_forward_hook(lambda module, inputs, output: output * 0)
        a, b = unet(torch.rand(1, 1, 16, 16) * 2 - 1), unet(torch.rand(1, 1, 16, 16) * 2 - 1)
        handle.remove()
    assert not torch.allclose(a, b)        # with the bottleneck cut, detail still reaches the output


def test_residual_unet_starts_as_the_identity():
    torch.manual_seed(0)
    unet = i2i.UNet(3, 3, features=4, depth=3, skip_forward=skip_forward, residual=True)
    x = torch.rand(2, 3, 16, 16) * 1.8 - 0.9
    with torch.no_grad():
        assert torch.allclose(unet(x), x, atol=0.02)


@pytest.mark.parametrize("kwargs, match", [
    ({"depth": 1}, "depth must be at least 2"),
    ({"residual": True}, r"in_channels \(1\) must equal out_channels \(3\)"),
])
def test_unet_rejects_bad_sizes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        i2i.UNet(**{"in_channels": 1, "out_channels": 3, "features": 4, "depth": 3,
                    "skip_forward": skip_forward, **kwargs})


def test_unet_names_the_size_it_needs():
    with pytest.raises(ValueError, match=r"divisible by 16, got \(1, 1, 28, 28\)"):
        i2i.UNet(1, 3, 4, depth=4, skip_forward=skip_forward)(torch.zeros(1, 1, 28, 28))


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


# --- the data -------------------------------------------------------------------------------------

def test_photo_pairs_shapes_and_a_disjoint_held_out_part(monkeypatch):
    rng = np.random.default_rng(0)
    photos = {"a": rng.integers(0, 256, (64, 48, 3), dtype=np.uint8),
              "b": rng.integers(0, 256, (80, 40, 3), dtype=np.uint8)}
    monkeypatch.setattr(i2i, "PHOTOS", {name: lambda photo=photo: photo for name, photo in photos.items()})
    train, test = i2i.photo_pairs(size=16, train_crops=40, test_crops=10, scale=1.0, seed=0)
    assert train.inputs.shape == (40, 3, 16, 16) and train.targets.shape == (40, 3, 16, 16)
    assert test.inputs.dtype == torch.uint8 and len(test) == 10
    steps = [np.abs(np.diff(images.numpy().astype(float), axis=-1)).mean() for images in (train.inputs, train.targets)]
    assert steps[0] < steps[1] / 2  # the input, at 4× lower resolution, has lost the pixel-to-pixel detail

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


def test_photo_pairs_refuse_crops_that_do_not_fit(monkeypatch):
    monkeypatch.setattr(i2i, "PHOTOS", {"a": lambda: np.full((64, 64, 3), 128, dtype=np.uint8)})
    with pytest.raises(ValueError, match="do not fit the test part"):
        i2i.photo_pairs(size=32, train_crops=1, test_crops=1, scale=1.0)


def test_load_pairs_falls_back_to_the_photo_crops_and_says_why(monkeypatch, capsys):
    photo = np.random.default_rng(0).integers(0, 256, (256, 128, 3), dtype=np.uint8)
    monkeypatch.setattr(i2i, "PHOTOS", {"a": lambda: photo})
    monkeypatch.setattr(i2i, "load_facades", lambda size: pytest.fail("'photos' must not look for Facades"))
    train, test = i2i.load_pairs("photos", torch.device("cpu"))
    assert train.inputs.shape[1:] == (3, 32, 32) and "lower resolution" in train.source
    assert capsys.readouterr().out == ""

    def unreachable(size):
        raise ConnectionError("no route to host")

    monkeypatch.setattr(i2i, "load_facades", unreachable)
    train, _ = i2i.load_pairs("facades", torch.device("cpu"))
    assert "lower resolution" in train.source
    assert "CMP Facades is not available (no route to host)" in capsys.readouterr().out


def test_sklearn_digits_in_mnist_frame():
    digits = i2i.sklearn_digits()
    assert digits.images.shape == (1797, 1, 28, 28) and digits.images.dtype == torch.uint8
    assert digits.labels.dtype == torch.int64 and set(digits.labels.tolist()) == set(range(10))
    ink = digits.images.float()
    for axis in (torch.arange(28.0).view(1, 1, 28, 1), torch.arange(28.0).view(1, 1, 1, 28)):  # rows, columns
        centres = (ink * axis).sum((1, 2, 3)) / ink.sum((1, 2, 3))
        assert abs(centres.mean() - 13.5) < 0.3 and (centres - 13.5).abs().max() < 1.5  # centred by mass, as MNIST
    boxed = i2i.sklearn_digits(centre="box")
    assert boxed.images[:, :, :4].sum() == 0 and boxed.images[:, :, 24:].sum() == 0   # inside the 20×20 box
    with pytest.raises(ValueError, match="centre must be"):
        i2i.sklearn_digits(centre="middle")


def test_sklearn_digits_interpolation_modes():
    """bilinear (the lesson's domain A) and bicubic (its comparison baseline) enlarge the same 8×8 grid
    differently; another mode is named and refused."""
    bilinear, bicubic = i2i.sklearn_digits(centre="box"), i2i.sklearn_digits(centre="box", mode="bicubic")
    assert bicubic.images.shape == (1797, 1, 28, 28)
    assert torch.equal(bilinear.labels, bicubic.labels) and not torch.equal(bilinear.images, bicubic.images)
    assert "bicubic" in bicubic.source
    with pytest.raises(ValueError, match="mode must be one of"):
        i2i.sklearn_digits(mode="nearest")


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


@pytest.mark.parametrize("wrong, hint", [(no_skips, "wrong number of channels"),
                                         (shallow_first, "of its own height and width"),
                                         (skip_first, "decoder's channels first"),
                                         (lambda unet, x: unet(x), "calls unet\\(x\\), the finished model")])
def test_check_unet_forward(wrong, hint, capsys):
    lesson08.check_unet_forward(skip_forward)
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


def test_load_facades_checks_count_and_size_and_splits_photo_from_labels(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_COURSE_DATA", str(tmp_path))
    for split in ("train", "test"):
        (tmp_path / "facades" / split).mkdir(parents=True)
        for k in range(2):
            pair = np.zeros((256, 512, 3), dtype=np.uint8)
            pair[:, :256] = 200          # left: the photo
            pair[:, 256:] = 30           # right: the label map
            Image.fromarray(pair).save(tmp_path / "facades" / split / f"{k}.jpg")
    with pytest.raises(ValueError, match="holds 2 JPEGs, expected 400"):
        i2i.load_facades(64)
    monkeypatch.setattr(i2i, "FACADES_COUNTS", {"train": 2, "test": 2})
    train, test = i2i.load_facades(64)
    assert train.inputs.shape == test.targets.shape == (2, 3, 64, 64) and "CMP Facades test" in test.source
    assert abs(train.inputs.float().mean() - 30) < 3 and abs(train.targets.float().mean() - 200) < 3
    Image.fromarray(np.zeros((256, 256, 3), dtype=np.uint8)).save(tmp_path / "facades" / "test" / "1.jpg")
    with pytest.raises(ValueError, match="expected 512×256"):
        i2i.load_facades(64)


# --- evaluation helpers -------------------------------------------------------------------------------

def test_translate_works_in_chunks_in_eval_mode_and_gives_the_mode_back():
    seen = []

    class Recorder(torch.nn.Module):
        def forward(self, x):
            seen.append((len(x), self.training, torch.is_grad_enabled()))
            return x * 2

    model = Recorder().train()
    out = i2i.translate(model, torch.ones(5, 1, 2, 2), chunk=2)
    assert torch.equal(out, torch.full((5, 1, 2, 2), 2.0))
    assert seen == [(2, False, False), (2, False, False), (1, False, False)] and model.training


def test_paired_scores_against_hand_computed_values():
    targets = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0)) - 0.5     # in [-0.5, 0.5]
    shifted = i2i.paired_scores(targets + 0.5, targets)          # every pixel 0.5 off, the same edges
    assert shifted["l1"] == pytest.approx(0.5) and shifted["sharpness"] == pytest.approx(1.0)
    assert shifted["psnr"] == pytest.approx(10 * np.log10(4 / 0.25))   # peak-to-peak 2, MSE 0.25: 12.04 dB
    assert i2i.paired_scores(targets * 0.5, targets)["sharpness"] == pytest.approx(0.5)   # half the contrast


def test_print_per_digit_reads_each_true_digit(capsys):
    class ReadsTopLeft(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.config = {"channels": 1}
            self.unused = torch.nn.Parameter(torch.zeros(1))

        def forward(self, images):
            return F.one_hot(((images[:, 0, 0, 0] + 1) * 5).round().long().clamp(0, 9), 10).float()

    labels = torch.arange(10).repeat(2)
    images = -torch.ones(20, 1, 28, 28)
    images[:, 0, 0, 0] = labels.float() / 5 - 1
    images[labels == 3, 0, 0, 0] = 0.6                         # every 3 reads as an 8
    i2i.print_per_digit(ReadsTopLeft(), labels, {"as drawn": images})
    row = capsys.readouterr().out.splitlines()[1].split()
    assert row[:2] == ["as", "drawn"] and row[2:] == ["100%"] * 3 + ["0%"] + ["100%"] * 6


# --- the pictures -----------------------------------------------------------------------------------

def test_draw_unet_labels_each_layer_output_with_its_channels_and_side():
    unet = i2i.UNet(3, 3, features=4, depth=3, skip_forward=skip_forward)
    texts = {t.get_text() for t in diagrams.draw_unet(unet, 32, 3).texts}
    assert {"input\n3×32²", "4×16²", "8×8²", "16×4²", "(8+8)×8²", "(4+4)×16²", "output\n3×32²"} <= texts


def test_history_panels_leaves_out_curves_a_run_never_logged_or_logged_as_zero():
    gan_off, gan_on = History(), History()
    for step in range(3):
        gan_off.log(step, l1=1.0 / (step + 1), gan=0.0)
        gan_on.log(step, l1=2.0 / (step + 1), gan=0.7)
    fig, axes = plotting.history_panels({"off": gan_off, "on": gan_on}, {"L1": ["l1"], "GAN": ["gan", "d_loss"]})
    assert [line.get_label() for line in axes[0].lines] == ["off", "on"]
    assert [line.get_label() for line in axes[1].lines] == ["gan, on"]
    with pytest.raises(ValueError, match="at least one History and one panel"):
        plotting.history_panels({}, {"L1": ["l1"]})


def test_show_patch_logits_draws_each_logit_map_over_its_image_and_gives_the_mode_back():
    torch.manual_seed(0)
    discriminator = i2i.PatchGAN(6, 8, 1).train()
    inputs, images = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    fig = diagrams.show_patch_logits(discriminator, inputs, {"real": images, "fake": images.flip(-1)})
    assert discriminator.training
    maps = [ax.images[1].get_array() for ax in fig.axes[:4]]                   # the overlay of each panel
    with torch.no_grad():
        expected = discriminator.eval()(torch.cat([inputs[:1], images[:1]], dim=1))[0, 0].numpy()
    assert all(m.shape == expected.shape for m in maps)
    assert np.allclose(maps[0], expected, atol=1e-5)


# --- the lesson's cells: a bad batch size stops at start(); Ctrl-C, then a re-run, continues -----------

def run_cells(ids: list[str], namespace: dict) -> dict:
    """Execute the solution's code cells named by id, in order, in `namespace` (as benchmarks/inprocess.py does)."""
    cells = {cell.get("id"): cell for cell in nbformat.read(NOTEBOOK, as_version=4).cells}
    transform = TransformerManager().transform_cell
    for cell_id in ids:
        exec(compile(transform(cells[cell_id].source), f"{NOTEBOOK} [{cell_id}]", "exec"), namespace)
    return namespace


@pytest.fixture
def smoke(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_COURSE_SMOKE", "1")
    monkeypatch.setenv("GAN_COURSE_RUNS", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")


def test_a_cycle_batch_larger_than_the_digits_stops_at_start(smoke):
    namespace = run_cells(["i2i-setup", "i2i-parameters"], {"__name__": "__main__"})
    namespace["CYCLE_BATCH_SIZE"] = 1798
    with pytest.raises(ParameterError, match=r"CYCLE_BATCH_SIZE = 1798 is not allowed: .*\[1, 1797\]"):
        run_cells(["i2i-start"], namespace)


def interrupt_on_call(function, call):
    """`function`, wrapped to send this process a SIGINT (Ctrl-C) during its `call`-th call."""
    calls = []

    def wrapped(*args):
        calls.append(1)
        if len(calls) == call:
            os.kill(os.getpid(), signal.SIGINT)
        return function(*args)
    return wrapped


def continues_after_an_interrupt(namespace, runs_name, build, loop_id, stop_first_run, total):
    """Train a reference run straight through; then interrupt the lesson's first run at step 2, check the
    loop stopped there (the second run not started), run the loop cell again and check both runs finished
    on the same models and optimizers, the first one ending with the reference's weights."""
    runs = namespace[runs_name]
    first_name, first = next(iter(runs.items()))
    namespace[runs_name] = {first_name: build()}
    run_cells([loop_id], namespace)
    straight = vars(namespace[runs_name][first_name])
    reference = {key: copy.deepcopy(value.state_dict()) for key, value in straight.items()
                 if isinstance(value, torch.nn.Module)}
    namespace[runs_name] = runs
    parts = {name: dict(vars(run)) for name, run in runs.items()}
    stop_first_run(first)
    run_cells([loop_id], namespace)
    assert first.history.done == 2, "Ctrl-C during step 2 should stop the loop after that step"
    assert all(run.history.done == 0 for run in list(runs.values())[1:]), "the next run started after Ctrl-C"
    run_cells([loop_id], namespace)
    for name, run in runs.items():
        assert run.history.done == total, f"{name}: {run.history.done} of {total} steps after the re-run"
        assert all(vars(run)[key] is value for key, value in parts[name].items()), f"{name} was rebuilt"
    for key, state in reference.items():
        for label, got in getattr(first, key).state_dict().items():
            assert torch.allclose(got, state[label], atol=1e-6), f"{key}.{label} differs from a run without a stop"
    optimizer_steps = {int(state["step"]) for state in first.g_optimizer.state.values()}
    assert optimizer_steps == {total}, f"Adam counted {optimizer_steps} steps, not {total}: re-initialised?"


def test_cyclegan_loop_continues_after_an_interrupt(smoke):
    namespace = run_cells(["i2i-setup", "i2i-parameters", "i2i-start", "i2i-digit-data", "i2i-ex-cycle-code",
                           "i2i-build-cycle"], {"__name__": "__main__"})
    cycle_loss = namespace["cycle_loss"]

    def stop_first_run(run):
        namespace["cycle_loss"] = interrupt_on_call(cycle_loss, 2)   # only the first run has a cycle loss

    continues_after_an_interrupt(namespace, "cyclegan_runs", lambda: namespace["build_cyclegan"](
        namespace["CYCLE_WEIGHT"]), "i2i-cycle-loop", stop_first_run, namespace["CYCLE_STEPS"])


def test_pix2pix_loop_continues_after_an_interrupt(smoke):
    namespace = run_cells(["i2i-setup", "i2i-parameters", "i2i-start", "i2i-paired-data", "i2i-unet-diagram",
                           "i2i-ex-unet", "i2i-ex-patch", "i2i-check-patch", "i2i-build-pix2pix"], {"__name__": "__main__"})

    def stop_first_run(run):
        run.generator.skip_forward = interrupt_on_call(run.generator.skip_forward, 2)

    continues_after_an_interrupt(namespace, "pix2pix_runs", lambda: namespace["build_pix2pix"](use_gan=False),
                                 "i2i-pix2pix-loop", stop_first_run, namespace["STEPS"])


def test_the_student_lesson_states_no_answer_beside_its_exercises():
    lesson = Path(__file__).resolve().parents[1] / "lessons" / "08_image_to_image.ipynb"
    text = "\n".join(cell.source for cell in nbformat.read(lesson, as_version=4).cells)
    for answer in ("torch.cat([x, skip], dim=1)", "deepest first", "L1(G_BA(G_AB(a)), a)", "g_ba(fake_b)",
                   "skips.pop()", "(size + 2 * padding - kernel)"):
        assert answer not in text, f"the student's lesson shows {answer!r}"


def test_the_summary_carries_the_three_label_preservation_scores():
    source = "\n".join(cell.source for cell in nbformat.read(NOTEBOOK, as_version=4).cells if cell.cell_type == "code")
    summary = source[source.index("write_summary("):]
    for key in ("label_preservation=", "label_preservation_baseline=", "label_preservation_no_cycle="):
        assert f" {key}" in summary or f"\n    {key}" in summary, f"summary.json lacks {key[:-1]}"
