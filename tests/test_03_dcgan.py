"""Lesson 03: its DCGAN (helpers.taught.lesson03, generated from the lesson), slerp, the faces cache and its
offline fallback, checks, widgets, the lesson's train_step under mixed precision, its instructor mode
(LOAD_CHECKPOINT), its training loop stopped and run again, and helpers.resume."""
from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import signal
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from torch import nn

import helpers.faces as faces_module
from helpers import runtime
from helpers.checks import CheckFailed, lesson03
from helpers.checkpoints import read_checkpoint
from helpers.batches import ImageBatches
from helpers.download import file_digest
from helpers.faces import Faces, find_images, lfw_faces, load_faces
from helpers.images import to_float
from helpers.resume import EpochBatches, TrainingRun
from helpers.training import History
from helpers.models import count_parameters, load_dcgan_generator, slerp
from helpers.taught import lesson03 as taught
from helpers.taught.lesson03 import Discriminator, Generator, init_weights

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from inprocess import notebook_namespace, run_notebook  # noqa: E402  (benchmarks/ is not a package)


# --- models -----------------------------------------------------------------------------------

def test_dcgan_parameter_counts_match_the_pytorch_tutorial():
    # the PyTorch DCGAN tutorial's netG and netD (nz=100, ngf=ndf=64, nc=3); its netD ends in a
    # Sigmoid, which has no parameters
    assert count_parameters(Generator(100, 64, 3, 64)) == 3_576_704
    assert count_parameters(Discriminator(64, 3, 64)) == 2_765_568


@pytest.mark.parametrize("size", [32, 64])
def test_dcgan_shapes(size):
    generator = Generator(latent_dim=10, feature_maps=8, channels=3, image_size=size)
    discriminator = Discriminator(feature_maps=8, channels=3, image_size=size)
    images = generator(torch.randn(5, 10))
    assert images.shape == (5, 3, size, size)
    assert images.abs().max() <= 1
    assert discriminator(images).shape == (5, 1)


def test_dcgan_init_statistics():
    torch.manual_seed(0)
    model = Generator(100, 32, 3, 64).apply(init_weights)
    convs = torch.cat([m.weight.flatten() for m in model.modules() if isinstance(m, nn.ConvTranspose2d)])
    norms = torch.cat([m.weight for m in model.modules() if isinstance(m, nn.BatchNorm2d)])
    assert abs(convs.mean()) < 1e-3 and abs(convs.std() - 0.02) < 1e-3
    assert abs(norms.mean() - 1) < 0.01 and abs(norms.std() - 0.02) < 0.005
    assert all(m.bias.abs().max() == 0 for m in model.modules() if isinstance(m, nn.BatchNorm2d))


def test_slerp_reference_values():
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0])
    path = slerp(a, b, [0.0, 0.5, 1.0])
    assert torch.allclose(path[0], a) and torch.allclose(path[2], b)
    # halfway: direction (1, 1)/√2, length (1 + 2)/2 = 1.5
    assert torch.allclose(path[1], torch.tensor([1.5, 1.5]) / math.sqrt(2), atol=1e-6)
    z0, z1 = torch.randn(100), torch.randn(100)
    t = torch.linspace(0, 1, 7)
    walk = slerp(z0, z1, t)
    assert walk.shape == (7, 100)
    assert torch.allclose(walk.norm(dim=1), (1 - t) * z0.norm() + t * z1.norm(), atol=1e-4)
    # the angle to z0 grows linearly with t
    angles = torch.arccos((walk @ z0) / (walk.norm(dim=1) * z0.norm())).clamp(min=0)
    total = torch.arccos(z0 @ z1 / (z0.norm() * z1.norm()))
    assert torch.allclose(angles, t * total, atol=1e-3)
    assert torch.allclose(slerp(a, 3 * a, 0.5), 2 * a)  # parallel: a straight line


def test_slerp_bad_input():
    with pytest.raises(ValueError, match="same length"):
        slerp(torch.randn(3), torch.randn(4), 0.5)
    with pytest.raises(ValueError, match="non-zero"):
        slerp(torch.zeros(3), torch.randn(3), 0.5)


def test_load_dcgan_generator_round_trip(tmp_path):
    from helpers.checkpoints import save_checkpoint
    generator = Generator(16, 8, 3, 32)
    config = dict(latent_dim=16, feature_maps=8, channels=3, image_size=32)
    path = save_checkpoint(tmp_path / "generator.pt", generator=generator, config=config)
    again = load_dcgan_generator(path)
    z = torch.randn(3, 16)
    generator.eval(), again.eval()
    assert torch.equal(generator(z), again(z))
    with pytest.raises(ValueError, match="config"):
        load_dcgan_generator(save_checkpoint(tmp_path / "other.pt", generator=generator))


# --- faces --------------------------------------------------------------------------------------

def test_to_float_maps_0_255_to_minus1_1():
    out = to_float(torch.tensor([0, 255, 51], dtype=torch.uint8))
    assert torch.allclose(out, torch.tensor([-1.0, 1.0, 51 / 127.5 - 1]))
    with pytest.raises(ValueError, match="uint8"):
        to_float(torch.zeros(3))


def test_face_batches_cover_every_image_once():
    images = torch.arange(10, dtype=torch.uint8)[:, None, None, None].expand(10, 3, 2, 2).contiguous()
    batches = list(ImageBatches(images, 4, generator=torch.Generator().manual_seed(0), epochs=1))
    assert [b.shape[0] for b in batches] == [4, 4, 2]  # nothing dropped
    seen = torch.cat([b[:, 0, 0, 0] for b in batches])
    assert sorted(((seen + 1) * 127.5).round().tolist()) == list(range(10))
    assert all(b.dtype == torch.float32 and b.min() >= -1 and b.max() <= 1 for b in batches)
    flipped = next(ImageBatches(torch.tensor([[[[0, 255]]]], dtype=torch.uint8).repeat(64, 3, 1, 1), 64,
                                flip=True, epochs=1))
    assert 0 < (flipped[:, 0, 0, 0] > 0).sum() < 64  # some mirrored, some not


@pytest.mark.parametrize("bad", [torch.zeros(4, 3, 2, 2), torch.zeros(3, 2, 2, dtype=torch.uint8)])
def test_face_batches_bad_input(bad):
    with pytest.raises(ValueError):
        next(ImageBatches(bad, 2, epochs=1))
    with pytest.raises(ValueError, match="batch_size"):
        next(ImageBatches(torch.zeros(4, 3, 2, 2, dtype=torch.uint8), 0, epochs=1))


def test_lfw_faces_are_grey_in_three_channels():
    images = lfw_faces(32)
    assert images.shape == (100, 3, 32, 32) and images.dtype == torch.uint8
    assert torch.equal(images[:, 0], images[:, 1]) and torch.equal(images[:, 1], images[:, 2])
    assert images.float().std() > 20  # real pictures, not a constant


def test_offline_fallback_says_so(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("GAN_COURSE_DATA", str(tmp_path))
    monkeypatch.setattr(faces_module, "online", lambda url: False)
    faces = load_faces(image_size=32)
    out = capsys.readouterr().out
    assert faces.offline and len(faces) == 100 and faces.images.shape == (100, 3, 32, 32)
    fallback = [line for line in out.splitlines() if line.startswith("Offline")]
    assert len(fallback) == 1 and "LFW" in fallback[0] and "not on CelebA" in fallback[0]
    assert out.strip() == fallback[0] and "no network" in out  # one line, nothing else


@pytest.mark.parametrize("download, reachable, fails, why", [
    (True, [False, False], [], "no network"),
    (True, [True, False], ["first"], "CelebA could not be downloaded"),
    (True, [True, True], ["first", "second"], "CelebA could not be downloaded"),
    (False, [True, True], [], "downloads switched off"),
])
def test_downloads_are_tried_in_order_and_say_why_they_gave_nothing(monkeypatch, tmp_path, capsys,
                                                                     download, reachable, fails, why):
    monkeypatch.setenv("GAN_COURSE_DATA", str(tmp_path))
    calls = []

    def fetch(name):
        def run():
            calls.append(name)
            raise ValueError("MD5 abc is not the expected 00d2\nmore detail")
        return run
    monkeypatch.setattr(faces_module, "DOWNLOADS", tuple((name, f"https://{name}.org/x", fetch(name))
                                                         for name in ("first", "second")))
    monkeypatch.setattr(faces_module, "online", lambda url: reachable[url.startswith("https://second")])
    faces = load_faces(image_size=16, download=download)
    out = capsys.readouterr().out
    assert faces.offline and calls == fails, "the reachable sources, in order, each once"
    assert f"Offline ({why}):" in out
    failed = [line for line in out.splitlines() if line.startswith("  failed:")]
    assert failed == [f"  failed: {name}: MD5 abc is not the expected 00d2" for name in fails]


def test_the_first_download_that_gives_celeba_ends_the_search(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_COURSE_DATA", str(tmp_path))

    def unpack():
        _write_images(tmp_path / "celeba" / "img_align_celeba", n=3)

    def never():
        raise AssertionError("a source after the one that gave faces was tried")
    downloads = (("works", "https://a.org", unpack), ("never", "https://b.org", never))
    monkeypatch.setattr(faces_module, "DOWNLOADS", downloads)
    monkeypatch.setattr(faces_module, "online", lambda url: True)
    faces = load_faces(image_size=16, verbose=False)
    assert not faces.offline and faces.images.shape == (3, 3, 16, 16) and "CelebA" in faces.source


def _write_images(folder, n=5):
    from PIL import Image
    rng = np.random.default_rng(0)
    for i in range(n):
        sub = folder / ("a" if i % 2 else "b/c")  # any layout, nested
        sub.mkdir(parents=True, exist_ok=True)
        array = rng.integers(0, 256, size=(40 + i, 30, 3), dtype=np.uint8)
        Image.fromarray(array).save(sub / f"{i}.{'png' if i % 2 else 'jpg'}")
    (folder / "notes.txt").write_text("not an image")


def test_folder_cache_is_built_verified_and_reused(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("GAN_COURSE_DATA", str(tmp_path / "data"))
    folder = tmp_path / "my faces"
    _write_images(folder)
    assert len(find_images(folder)) == 5
    faces = load_faces(image_size=16, folder=folder)
    assert isinstance(faces, Faces) and faces.images.shape == (5, 3, 16, 16) and not faces.offline
    # the first image (b/c/0.jpg, 40×30) centre-cropped like Resize(16) + CenterCrop(16)
    from PIL import Image
    expected = faces_module.center_crop_resize(Image.open(folder / "b/c/0.jpg"), 16)
    assert torch.equal(faces.images[find_images(folder).index(folder / "b/c/0.jpg")],
                       torch.from_numpy(expected.copy()).permute(2, 0, 1))
    cache = next((tmp_path / "data" / "faces").glob("*.pt"))
    assert torch.equal(read_checkpoint(cache)["images"], faces.images)
    real_decode = faces_module.center_crop_resize

    def no_rebuild(*args, **kwargs):
        raise AssertionError("the cache should have been reused")
    monkeypatch.setattr(faces_module, "center_crop_resize", no_rebuild)
    assert torch.equal(load_faces(image_size=16, folder=folder).images, faces.images)
    # a damaged cache (same size, other bytes) fails its CRCs and is rebuilt from the images
    data = bytearray(cache.read_bytes())
    data[len(data) // 2] ^= 0xFF
    cache.write_bytes(bytes(data))
    with pytest.raises(AssertionError, match="reused"):
        load_faces(image_size=16, folder=folder)
    monkeypatch.setattr(faces_module, "center_crop_resize", real_decode)
    capsys.readouterr()
    assert torch.equal(load_faces(image_size=16, folder=folder, verbose=False).images, faces.images)
    assert "is unreadable or damaged" in capsys.readouterr().out
    assert cache.read_bytes() != bytes(data), "the damaged file was replaced by a rebuilt one"


def test_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no folder"):
        load_faces(folder=tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no images"):
        load_faces(folder=tmp_path / "empty")
    with pytest.raises(ValueError, match="image_size"):
        load_faces(image_size=3)


# --- checks ---------------------------------------------------------------------------------------

def g_block(n_in, n_out):
    return nn.Sequential(nn.ConvTranspose2d(n_in, n_out, 4, 2, 1, bias=False), nn.BatchNorm2d(n_out), nn.ReLU(True))


def d_block(n_in, n_out, batch_norm=True):
    return nn.Sequential(nn.Conv2d(n_in, n_out, 4, 2, 1, bias=False),
                         *([nn.BatchNorm2d(n_out)] if batch_norm else []), nn.LeakyReLU(0.2, True))


def generate(generator, noise):
    was_training = generator.training
    generator.eval()
    with torch.no_grad():
        images = generator(noise)
    generator.train(was_training)
    return images


def test_checks_pass_on_right_answers(capsys):
    lesson03.check_g_block(g_block)
    lesson03.check_d_block(d_block)
    lesson03.check_weights_init(init_weights)
    lesson03.check_generate(generate)
    g, d = Generator(100, 8, 3, 32), Discriminator(8, 3, 32)
    lesson03.check_dcgan_models(g, d, latent_dim=100, image_size=32)
    assert capsys.readouterr().out.count("✅") == 5


def _g_block_with(kernel, stride, padding, output_padding=0, bias=False):
    return lambda i, o: nn.Sequential(nn.ConvTranspose2d(i, o, kernel, stride, padding, output_padding, bias=bias),
                                      nn.BatchNorm2d(o), nn.ReLU())


@pytest.mark.parametrize("answer, message", [
    (_g_block_with(3, 2, 1, output_padding=1), "overlap unevenly"),
    (_g_block_with(5, 2, 2, output_padding=1), "overlap unevenly"),
    (_g_block_with(2, 2, 0), "do not overlap"),
    (_g_block_with(6, 2, 2), "not the DCGAN generator's block"),
    (_g_block_with(4, 2, 1, bias=True), "has a bias"),
    (_g_block_with(4, 1, 0), "for every H"),
])
def test_g_block_check_names_each_size_doubling_mistake(answer, message):
    with pytest.raises(CheckFailed, match=message) as failure:
        lesson03.check_g_block(answer)
    assert "4, 2, 1" not in str(failure.value) and "bias=False" not in str(failure.value)



def test_transposed_conv_picture_counts_the_stamps_per_pixel():
    import helpers.diagrams
    fig = helpers.diagrams.transposed_conv_overlap(kernel_sizes=(3, 4), stride=2, size=5)
    uneven, even = (ax.images[0].get_array() for ax in fig.axes if ax.images)
    assert uneven.shape == (11, 11) and even.shape == (12, 12)
    assert uneven[2:-2, 2:-2].min() == 1 and uneven[2:-2, 2:-2].max() == 4  # a checkerboard: 1, 2 and 4 stamps
    assert even[2:-2, 2:-2].min() == even[2:-2, 2:-2].max() == 4             # every interior pixel: 2 × 2 stamps

def test_checks_catch_wrong_answers():
    with pytest.raises(CheckFailed, match="BatchNorm"):
        lesson03.check_g_block(lambda i, o: nn.Sequential(nn.ConvTranspose2d(i, o, 4, 2, 1, bias=False), nn.ReLU()))
    with pytest.raises(CheckFailed, match="0.2"):
        lesson03.check_d_block(lambda i, o, batch_norm=True: nn.Sequential(
            nn.Conv2d(i, o, 4, 2, 1, bias=False), *([nn.BatchNorm2d(o)] if batch_norm else []), nn.LeakyReLU(0.01)))
    with pytest.raises(CheckFailed, match="first discriminator layer"):
        lesson03.check_d_block(lambda i, o, batch_norm=True: d_block(i, o, True))
    with pytest.raises(CheckFailed, match="mirror"):
        lesson03.check_d_block(lambda i, o, batch_norm=True: nn.Sequential(
            nn.Conv2d(i, o, 2, 2, 0, bias=False), *([nn.BatchNorm2d(o)] if batch_norm else []), nn.LeakyReLU(0.2)))
    with pytest.raises(CheckFailed, match="not 0.2"):
        lesson03.check_weights_init(lambda m: nn.init.normal_(m.weight, 0, 0.2)
                                  if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) else None)
    with pytest.raises(CheckFailed, match="not written"):
        lesson03.check_g_block(lambda i, o: (_ for _ in ()).throw(NotImplementedError()))


def _generate_in_train_mode(generator, noise):
    with torch.no_grad():
        return generator(noise)


def _generate_left_in_eval(generator, noise):
    generator.eval()
    with torch.no_grad():
        return generator(noise)


def _generate_with_graph(generator, noise):
    was_training = generator.training
    generator.eval()
    images = generator(noise)
    generator.train(was_training)
    return images


def _generate_always_back_to_train(generator, noise):
    generator.eval()
    with torch.no_grad():
        images = generator(noise)
    generator.train()
    return images


@pytest.mark.parametrize("answer, message", [
    (_generate_in_train_mode, "(?s)depend on the other samples.*moved BatchNorm's running averages.*train mode"),
    (_generate_left_in_eval, "left G in eval mode"),
    (_generate_with_graph, "carry a graph"),
    (_generate_always_back_to_train, "though it was in eval mode"),
])
def test_generate_check_names_each_mistake(answer, message):
    with pytest.raises(CheckFailed, match=message):
        lesson03.check_generate(answer)


class _Conditional(nn.Module):
    """A G of noise and labels, with a BatchNorm: its output depends on the mode."""

    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(3)

    def forward(self, noise, labels):
        return 2 * self.norm(noise + labels[:, None])


def test_the_lessons_generate_passes_its_check_and_passes_conditions_on(capsys):
    """helpers.taught.lesson03.generate is the one copy: lesson 06 and helpers.models sample with it."""
    lesson03.check_generate(taught.generate)
    assert "✅" in capsys.readouterr().out
    g, noise, labels = _Conditional(), torch.randn(4, 3), torch.arange(4.0)
    g(noise * 3, labels)                      # in train mode: the running averages move
    images = taught.generate(g, noise, labels)
    assert g.training and not images.requires_grad and images.device.type == "cpu" and images.dtype == torch.float32
    assert torch.equal(images, (2 * g.eval().norm(noise + labels[:, None])).detach().clamp(-1, 1))


def test_the_lessons_fixed_noise_grid_and_samples_are_drawn_in_eval_mode():
    notebook = json.loads((ROOT / "solutions" / "03_dcgan_celeba.ipynb").read_text())
    sources = ["".join(cell["source"]) for cell in notebook["cells"]]
    grid = next(s for s in sources if "def draw_fixed_noise" in s)
    assert "generate(generator, fixed_noise)" in grid
    assert not any("generator(fixed_noise)" in s for s in sources)


# --- widgets ---------------------------------------------------------------------------------------

def test_widgets_call_back():
    from helpers.widgets import interpolation_slider, new_samples_button
    seen = []
    interpolation_slider(seen.append, steps=4)["t"].value = 0.5
    assert seen == [0.0, 0.5]
    clicks = []
    new_samples_button(lambda: clicks.append(1))["new"].click()
    assert clicks == [1, 1]
    with pytest.raises(ValueError):
        interpolation_slider("not a function")


def test_celeba_zip_on_disk_is_checked_then_cached(monkeypatch, tmp_path):
    import zipfile
    data = tmp_path / "data"
    monkeypatch.setenv("GAN_COURSE_DATA", str(data))
    folder = tmp_path / "imgs"
    _write_images(folder, n=3)
    (data / "celeba").mkdir(parents=True)
    archive = data / "celeba" / "img_align_celeba.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in find_images(folder):
            zf.write(path, f"img_align_celeba/{path.name}")
    # a zip whose MD5 is not CelebA's (a quota page saved as .zip, say) is moved aside, not used
    faces = load_faces(image_size=16, download=False)
    assert faces.offline and (data / "celeba" / "img_align_celeba.zip.bad").exists()
    (data / "celeba" / "img_align_celeba.zip.bad").replace(archive)
    monkeypatch.setattr(faces_module, "CELEBA_ZIP_MD5", file_digest(archive, "md5"))
    faces = load_faces(image_size=16, download=False)
    assert not faces.offline and faces.images.shape == (3, 3, 16, 16) and "CelebA" in faces.source
    archive.unlink()  # the cache alone is enough from now on
    assert torch.equal(load_faces(image_size=16, download=False).images, faces.images)


# --- the numbers after training: nearest training faces and the pretrained Fréchet distance ---

def test_nearest_neighbours_can_exclude_each_query_itself():
    """Real faces against the training set they belong to: the nearest *other* face, never itself."""
    from helpers import metrics
    torch.manual_seed(0)
    references = torch.rand(6, 3, 4, 4) * 2 - 1
    distances, indices = metrics.nearest_neighbours(references[:3], references, chunk=2,
                                                    exclude=torch.arange(3))
    brute = torch.cdist(references[:3].flatten(1), references.flatten(1))  # (3, 6)
    brute[torch.arange(3), torch.arange(3)] = float("inf")
    assert torch.equal(indices, brute.argmin(dim=1)) and (indices != torch.arange(3)).all()
    assert torch.allclose(distances, brute.min(dim=1).values)
    with pytest.raises(ValueError, match="exclude"):
        metrics.nearest_neighbours(references[:3], references, exclude=torch.arange(2))


def test_pretrained_frechet_distance_says_why_it_cannot(monkeypatch):
    from helpers import metrics
    images = torch.zeros(4, 3, 8, 8)

    def offline(*args, **kwargs):
        raise ConnectionError("cannot reach github.com")
    monkeypatch.setattr(metrics, "InceptionV3", offline)
    monkeypatch.setattr(offline, "BLOCK_INDEX_BY_DIM", {2048: 3}, raising=False)
    distance, line = metrics.pretrained_frechet_distance(images, images, real_is_celeba=True)
    assert distance is None and "not measured" in line and "cannot reach github.com" in line
    distance, line = metrics.pretrained_frechet_distance(images, images, real_is_celeba=False)
    assert distance is None and "not CelebA" in line  # the stand-in faces: not even tried


def test_inception_features_are_2048_wide_pool_features(monkeypatch):
    """pytorch-fid's InceptionV3 with randomly initialised weights (no download) on 2 tiny images."""
    import pytorch_fid.inception
    import torchvision
    from helpers import metrics
    torch.manual_seed(0)
    monkeypatch.setattr(pytorch_fid.inception, "fid_inception_v3", lambda: torchvision.models.inception_v3(
        weights=None, aux_logits=False, init_weights=False))
    model = metrics.InceptionV3([metrics.InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).eval()
    features = metrics.inception_features(torch.rand(2, 3, 8, 8) * 2 - 1, model)
    assert features.shape == (2, 2048) and features.dtype == torch.float32 and torch.isfinite(features).all()
    assert not torch.allclose(features[0], features[1])  # depends on the image
    with pytest.raises(ValueError, match="3 channels"):
        metrics.inception_features(torch.zeros(2, 1, 8, 8), model)


def test_frechet_distance_agrees_with_pytorch_fid():
    """The course's Fréchet distance and pytorch-fid's (scipy's sqrtm) on the same features."""
    from pytorch_fid.fid_score import calculate_frechet_distance
    from helpers import metrics
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(300, 16, generator=generator, dtype=torch.float64)
    b = torch.randn(200, 16, generator=generator, dtype=torch.float64) * 1.5 + 0.3
    theirs = calculate_frechet_distance(a.mean(0).numpy(), a.T.cov().numpy(), b.mean(0).numpy(), b.T.cov().numpy())
    assert metrics.frechet_distance(a, b) == pytest.approx(float(theirs), rel=1e-6)
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


# --- the lesson's train_step under mixed precision ----------------------------------------------
# The lesson's step reads RUNTIME (helpers.runtime.Runtime) for its autocast, and takes the scaler as
# an argument: the same seam benchmarks/bench_03_dcgan.py uses. On CUDA the course runs float16 with
# an enabled GradScaler; the CPU has no float16 autocast worth testing, so the CPU test runs the same
# code under bfloat16 autocast with an enabled CPU GradScaler (torch >= 2.3), which takes every branch
# the CUDA path takes (scale, unscale, skip on inf, back off).

AMP_DEVICES = [pytest.param("cpu", id="cpu-bfloat16"),
               pytest.param("cuda", id="cuda-float16",
                            marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU"))]
INIT_SCALE = 2.0 ** 12
LR = 1e-3  # small, so that G's step sees nearly the same D in both runs
# bfloat16 keeps 8 bits of mantissa: after a few layers an update is a few % off float32's (measured
# on the CPU: D 5%, G 8%); a gradient left scaled would be 4096 times too large, a skipped step 100% off.
TOLERANCE = 0.2


@pytest.fixture(scope="module")
def lesson_03(tmp_path_factory) -> dict:
    """Lesson 03's cells tagged `bench` (its models, init and train_step), run in this process."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GAN_COURSE_RUNS", str(tmp_path_factory.mktemp("runs")))
        patch.setenv("GAN_COURSE_SMOKE", "1")  # notebook_namespace sets it; undone on leaving
        return notebook_namespace(ROOT / "solutions" / "03_dcgan_celeba.ipynb", smoke=True)


def amp_runtime(device: str) -> runtime.Runtime:
    """The runtime with mixed precision on: the course's own on CUDA, bfloat16 autocast on the CPU."""
    if device == "cuda":
        return runtime.for_device("cuda")
    return runtime.Runtime(torch.device("cpu"), "CPU, bfloat16 autocast (test)", torch.bfloat16, False)


def lesson_models(lesson: dict, device: str) -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(0)
    generator = lesson["Generator"](8, 4, 3, 32).to(device)
    discriminator = lesson["Discriminator"](4, 3, 32).to(device)
    generator.apply(lesson["init_weights"])
    discriminator.apply(lesson["init_weights"])
    return generator, discriminator


def run_lesson_step(lesson: dict, chosen: runtime.Runtime, scaler: torch.amp.GradScaler,
                    generator: nn.Module, discriminator: nn.Module, real_images: torch.Tensor,
                    noise: torch.Tensor) -> tuple[dict, list[torch.dtype]]:
    """One lesson train_step under `chosen` with plain SGD (an update is then LR × the gradient);
    returns its stats and the dtypes D's first convolution computed in."""
    lesson["RUNTIME"] = chosen
    dtypes: list[torch.dtype] = []
    first_conv = next(m for m in discriminator.modules() if isinstance(m, nn.Conv2d))
    hook = first_conv.register_forward_hook(lambda module, args, out: dtypes.append(out.dtype))
    try:
        stats = lesson["train_step"](generator, discriminator, torch.optim.SGD(generator.parameters(), lr=LR),
                                     torch.optim.SGD(discriminator.parameters(), lr=LR), real_images, noise,
                                     scaler)
    finally:
        hook.remove()
        lesson["RUNTIME"] = runtime.for_device("cpu")
    return stats, dtypes


def flat_params(module: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().float().flatten() for p in module.parameters()])


def relative_error(got: torch.Tensor, expected: torch.Tensor) -> float:
    return float((got - expected).norm() / expected.norm())


@pytest.mark.parametrize("device", AMP_DEVICES)
def test_lessons_step_under_autocast_and_a_grad_scaler_matches_float32(lesson_03, device):
    """Scaled losses, unscaled gradients: the mixed-precision step updates both models as float32 does."""
    chosen = amp_runtime(device)
    assert chosen.amp and chosen.autocast().fast_dtype == chosen.amp_dtype
    full = dataclasses.replace(chosen, amp_dtype=None)
    generator, discriminator = lesson_models(lesson_03, device)
    generator32, discriminator32 = copy.deepcopy(generator), copy.deepcopy(discriminator)
    start_g, start_d = flat_params(generator), flat_params(discriminator)
    torch.manual_seed(1)
    real_images = (torch.rand(8, 3, 32, 32) * 2 - 1).to(device)
    noise = torch.randn(8, 8).to(device)

    scaler = torch.amp.GradScaler(device, init_scale=INIT_SCALE)
    stats, dtypes = run_lesson_step(lesson_03, chosen, scaler, generator, discriminator, real_images, noise)
    stats32, dtypes32 = run_lesson_step(lesson_03, full, torch.amp.GradScaler(device, enabled=False),
                                        generator32, discriminator32, real_images, noise)

    assert set(dtypes) == {chosen.amp_dtype} and set(dtypes32) == {torch.float32}, (dtypes, dtypes32)
    assert scaler.get_scale() == INIT_SCALE, "no gradient overflowed, so the loss scale must stay"
    for name in ("d_loss", "g_loss"):
        assert math.isclose(float(stats[name]), float(stats32[name]), rel_tol=0.03), (name, stats, stats32)
    # G's gradients after scaler.step are unscaled: × 4096 they would be 4096 times too large.
    g_grads = torch.cat([p.grad.float().flatten() for p in generator.parameters()])
    g_grads32 = torch.cat([p.grad.flatten() for p in generator32.parameters()])
    assert relative_error(g_grads, g_grads32) < TOLERANCE, relative_error(g_grads, g_grads32)
    for model, model32, start in ((generator, generator32, start_g), (discriminator, discriminator32, start_d)):
        update, update32 = flat_params(model) - start, flat_params(model32) - start
        assert update32.norm() > 0 and relative_error(update, update32) < TOLERANCE, relative_error(update, update32)


@pytest.mark.parametrize("device", AMP_DEVICES)
def test_lessons_step_skips_an_update_whose_gradients_overflow_and_backs_off(lesson_03, device):
    """An inf in the real batch makes D's gradients inf/NaN: the scaler skips D's update, halves the
    scale, and G (whose step saw finite gradients) still learns."""
    generator, discriminator = lesson_models(lesson_03, device)
    start_g, start_d = flat_params(generator), flat_params(discriminator)
    real_images = torch.rand(8, 3, 32, 32) * 2 - 1
    real_images[0, 0, 5, 5] = float("inf")
    scaler = torch.amp.GradScaler(device, init_scale=INIT_SCALE)
    run_lesson_step(lesson_03, amp_runtime(device), scaler, generator, discriminator, real_images.to(device),
                    torch.randn(8, 8).to(device))
    assert torch.equal(flat_params(discriminator), start_d), "D's step with inf gradients must be skipped"
    assert torch.isfinite(flat_params(generator)).all() and not torch.equal(flat_params(generator), start_g)
    assert scaler.get_scale() == INIT_SCALE / 2, "after an overflow the loss scale backs off (× 0.5)"


# --- the lesson's instructor mode (LOAD_CHECKPOINT) ---------------------------------------------

LOOP_MARKER = "run.save()  # with runs/ on Drive, a disconnect costs at most one epoch"


def lesson_until(marker: str, tmp_path: Path, extra_cells: int = 0) -> Path:
    """A copy of lesson 03 that stops `extra_cells` cells after the first code cell containing `marker`."""
    nb = nbformat.read(ROOT / "solutions" / "03_dcgan_celeba.ipynb", as_version=4)
    cell = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and marker in c.source)
    nb.cells = nb.cells[:cell + 1 + extra_cells]
    path = tmp_path / "03_until.ipynb"
    nbformat.write(nb, path)
    return path


def test_instructor_mode_loads_an_earlier_runs_checkpoint_and_trains_nothing(tmp_path, monkeypatch, capsys):
    """The lesson up to its training cell, run twice in this process: a smoke training run at 4
    feature maps, then LOAD_CHECKPOINT = its checkpoint with the sizes left at their defaults (8 in
    smoke mode). The second run must take the sizes from the checkpoint, load the trained generator,
    take no optimizer step, and leave the checkpoint as it was."""
    monkeypatch.setenv("GAN_COURSE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_COURSE_SMOKE", "1")
    until_training = lesson_until(LOOP_MARKER, tmp_path)

    trained = run_notebook(until_training, parameters={"FEATURE_MAPS": 4}, smoke=True)
    checkpoint = trained["CHECKPOINT"]
    assert trained["FEATURE_MAPS"] == 4 and trained["history"].done > 0 and trained["batches"].epochs_done == 2
    written = checkpoint.read_bytes()
    capsys.readouterr()

    shown = run_notebook(until_training, parameters={"LOAD_CHECKPOINT": str(checkpoint)}, smoke=True)
    out = capsys.readouterr().out
    assert f"Instructor mode: loading {checkpoint}" in out and f"Loaded {checkpoint}: 2 epochs" in out, out
    assert shown["FEATURE_MAPS"] == 4, "the model sizes come from the checkpoint, not the parameters"
    assert (shown["history"].done, shown["batches"].epochs_done) == (trained["history"].done, 2)
    for name in ("generator", "discriminator"):
        saved, loaded = trained[name].state_dict(), shown[name].state_dict()
        assert all(torch.equal(saved[key], loaded[key]) for key in saved), f"the {name} is not the trained one"
    assert torch.equal(shown["fixed_noise"], trained["fixed_noise"]), "the samples come from the saved fixed noise"
    assert not shown["g_optimizer"].state and not shown["d_optimizer"].state, "instructor mode took a training step"
    assert shown["history"].steps("d_loss") == trained["history"].steps("d_loss")
    assert checkpoint.read_bytes() == written, "instructor mode must not overwrite the checkpoint it shows"


def test_instructor_mode_names_the_file_and_what_it_expected(tmp_path, monkeypatch):
    from helpers.checkpoints import save_checkpoint
    from helpers.resume import saved_sizes
    with pytest.raises(FileNotFoundError, match="no checkpoint at .*missing.pt"):
        saved_sizes(tmp_path / "missing.pt")
    other = save_checkpoint(tmp_path / "generator.pt", generator=nn.Linear(2, 2), config={"latent_dim": 3})
    with pytest.raises(ValueError, match=r"generator.pt is not a training checkpoint of this lesson: expected "
                                         r"a 'config' with image_size, feature_maps, latent_dim"):
        saved_sizes(other)


# --- the main training loop: Ctrl-C, then the cell again ---------------------------------------

def test_interrupted_training_loop_continues_when_its_cell_runs_again(tmp_path, monkeypatch):
    """Lesson 03 run in this process up to its training set-up; the loop cell is then run with a
    train_step that presses Ctrl-C in its 3rd step, and run again: it goes on from step 3 with the
    same models (their weights are not re-initialised) until the 8 smoke steps are done."""
    monkeypatch.setenv("GAN_COURSE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_COURSE_SMOKE", "1")
    lesson = run_notebook(lesson_until(LOOP_MARKER, tmp_path, extra_cells=-1), smoke=True)
    nb = nbformat.read(ROOT / "solutions" / "03_dcgan_celeba.ipynb", as_version=4)
    loop = next(c.source for c in nb.cells if c.cell_type == "code" and LOOP_MARKER in c.source)
    train_step, calls = lesson["train_step"], []

    def pressing_ctrl_c(*args):
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return train_step(*args)
    lesson["train_step"] = pressing_ctrl_c
    generator = lesson["generator"]
    exec(loop, lesson)
    assert lesson["history"].done == 3 and lesson["batches"].steps_done == 3
    after_three = {k: v.clone() for k, v in generator.state_dict().items()}
    saved = torch.load(lesson["CHECKPOINT"], weights_only=True)
    assert saved["history"]["done"] == 3 and saved["batches"]["batches_done"] == 3, "Ctrl-C saves where it stopped"

    exec(loop, lesson)
    assert lesson["generator"] is generator and lesson["total_steps"] == 8
    assert lesson["history"].done == 8 and len(calls) == 8, "the second run continued; it did not start over"
    assert any(not torch.equal(after_three[k], v) for k, v in generator.state_dict().items())
    d_steps = lesson["d_optimizer"].state[next(iter(lesson["discriminator"].parameters()))]["step"]
    assert int(d_steps) == 8, "Adam kept its state: 3 steps, then 5 more"


# --- helpers.resume: epochs of batches and the training checkpoint ------------------------------

def _numbered(n: int) -> torch.Tensor:
    """uint8 images (n, 1, 1, 1) whose pixel is their index: a batch tells which images it holds."""
    return torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1)


def _indices(batch: torch.Tensor) -> list[int]:
    return ((batch.flatten() + 1) * 127.5).round().int().tolist()


def test_epoch_batches_cover_each_epoch_once_and_resume_mid_epoch():
    torch.manual_seed(0)
    batches = EpochBatches(_numbered(10), 4)
    first = [_indices(next(batches)) for _ in range(3)]
    assert [len(b) for b in first] == [4, 4, 2] and sorted(sum(first, [])) == list(range(10))
    assert (batches.epochs_done, batches.batches_done, batches.steps_done) == (1, 0, 3)
    next(batches)
    state = batches.state_dict()
    rest = [_indices(next(batches)) for _ in range(2)]
    again = EpochBatches(_numbered(10), 4)
    again.load_state_dict(state)
    assert [_indices(next(again)) for _ in range(2)] == rest, "the epoch goes on in its own order"
    assert again.steps_done == batches.steps_done == 6
    with pytest.raises(ValueError, match="EpochBatches.state_dict"):
        again.load_state_dict({"epochs_done": 1})
    with pytest.raises(ValueError, match="batch_size"):
        EpochBatches(_numbered(10), 0)


def test_epoch_batches_draw_what_the_lessons_epoch_loop_drew():
    """Per epoch a torch.randperm order, then one ImageBatches pass with flips from the global RNG: the
    lesson's numbers stay those of its loop over epochs."""
    images = torch.randint(0, 256, (10, 3, 2, 2), dtype=torch.uint8)
    torch.manual_seed(3)
    batches = EpochBatches(images, 4, flip=True)
    new = [next(batches) for _ in range(6)]
    torch.manual_seed(3)
    old = [batch for _ in range(2) for batch in ImageBatches(images, 4, flip=True, epochs=1, order=torch.randperm(10))]
    assert len(old) == 6 and all(torch.equal(a, b) for a, b in zip(new, old))


def _run(path: Path, config: dict | None = None) -> TrainingRun:
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    batches = EpochBatches(_numbered(10), 4)
    return TrainingRun(path, config or {"size": 3}, batches, History(), model=model,
                       optimizer=torch.optim.Adam(model.parameters()), noise=torch.zeros(2))


def test_training_run_resumes_in_the_middle_of_an_epoch(tmp_path, capsys):
    run = _run(tmp_path / "checkpoint.pt")
    for _ in range(5):
        next(run.batches)
    run.objects["model"].weight.data += 1
    run.objects["noise"] += 7
    run.save()
    assert run.history.done == 5
    again = _run(tmp_path / "checkpoint.pt")
    assert again.resume() and "Resuming from" in capsys.readouterr().out
    assert (again.batches.epochs_done, again.batches.batches_done, again.history.done) == (1, 2, 5)
    assert torch.equal(again.objects["model"].weight, run.objects["model"].weight)
    assert torch.equal(again.objects["noise"], torch.full((2,), 7.0))
    assert _indices(next(again.batches)) == _indices(next(run.batches))


@pytest.mark.parametrize("how, aside", [("damaged", "checkpoint_damaged.pt"),
                                        ("other config", "checkpoint_other_config.pt"),
                                        ("fresh", "checkpoint_previous.pt")])
def test_training_run_moves_a_checkpoint_it_cannot_resume_aside(tmp_path, capsys, how, aside):
    path = tmp_path / "checkpoint.pt"
    _run(path).save()
    if how == "damaged":  # cut short, as by a disconnect while writing outside save_checkpoint
        path.write_bytes(path.read_bytes()[:-100])
    written = path.read_bytes()
    run = _run(path, {"size": 4} if how == "other config" else None)
    assert not run.resume(fresh=how == "fresh")
    assert not path.exists() and (tmp_path / aside).read_bytes() == written, "moved aside, never deleted"
    assert f"kept as {aside}" in capsys.readouterr().out
    assert run.history.done == 0 and run.batches.steps_done == 0


def test_bench_03_trains_with_the_lessons_learning_rate(monkeypatch):
    import importlib
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    bench = importlib.import_module("bench_03_dcgan")
    lesson = bench.load_lesson(torch.device("cpu"), smoke=True)
    assert lesson["LEARNING_RATE"] == 2e-4  # the parameters cell's value
    lesson["LEARNING_RATE"] = 1e-3
    *_, g_optimizer, d_optimizer = bench.make_models(lesson, 8, 4, 32, torch.device("cpu"))
    assert g_optimizer.param_groups[0]["lr"] == d_optimizer.param_groups[0]["lr"] == 1e-3
