#!/usr/bin/env python3
"""Lesson 03 benchmark: the PyTorch DCGAN tutorial's input pipeline vs the lesson's cached tensor.

Both paths train the lesson's own DCGAN (its Generator, Discriminator, init_weights and
train_step, run from the notebook's cells tagged `bench`; same sizes, same initial weights, same
batch size) on the same
JPEG files, written once to a temporary ImageFolder at CelebA's aligned size (178×218):
the 100 LFW faces that scikit-image ships, upsampled, plus crops of scikit-image's photos.

  tutorial  ImageFolder + Resize + CenterCrop + ToTensor + Normalize through a DataLoader
            (workers=2, as in the tutorial); every epoch decodes every JPEG again.
  cached    helpers.faces.load_faces(folder=...): the JPEGs are decoded once into a uint8
            tensor cache (timed apart, a one-off), which is moved to the device; batches are
            indexed, flipped and converted to float there.

Prints images/s of training (data + D step + G step) for both paths side by side, and the
speed-up. On CUDA both paths use mixed precision and channels-last, as the lesson does.

    python benchmarks/bench_03_dcgan.py                      # CPU, the lesson's CPU sizes (32×32, 16)
    python benchmarks/bench_03_dcgan.py --device cuda        # 64×64, 64 feature maps
    python benchmarks/bench_03_dcgan.py --images 2000 --epochs 3 --image-size 64 --feature-maps 64
    GAN_COURSE_SMOKE=1 python benchmarks/bench_03_dcgan.py   # a quick run (CI)
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from helpers.runtime import for_device  # noqa: E402
from inprocess import notebook_namespace  # noqa: E402

NOTEBOOK = ROOT / "solutions" / "03_dcgan_celeba.ipynb"

CELEBA_SIZE = (178, 218)  # width, height of CelebA's aligned-and-cropped images


def write_image_folder(root: Path, n: int, seed: int = 0) -> Path:
    """n JPEGs of CelebA's size under root/faces/ (ImageFolder needs one class folder)."""
    from PIL import Image
    from skimage import data
    folder = root / "faces"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    faces = (data.lfw_subset()[:100] * 255).round().astype(np.uint8)  # (100, 25, 25) grey
    photos = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket(), data.cat(),
              np.stack([data.camera()] * 3, axis=-1)]
    for i in range(n):
        if i % 2 == 0:
            image = Image.fromarray(faces[(i // 2) % 100]).convert("RGB")
        else:
            photo = photos[(i // 2) % len(photos)]
            h, w = photo.shape[:2]
            ch = int(rng.integers(h // 3, h))
            cw = min(w, int(ch * 178 / 218))
            top, left = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
            image = Image.fromarray(photo[top:top + ch, left:left + cw])
        image.resize(CELEBA_SIZE, Image.BICUBIC).save(folder / f"{i:06d}.jpg", quality=95)
    return root


def load_lesson(device: torch.device, smoke: bool) -> dict:
    """The lesson's own Generator, Discriminator, init_weights, train_step and LEARNING_RATE (its cells tagged `bench`).

    train_step reads the lesson's RUNTIME (precision and layout); it is set to `device`'s here.
    """
    lesson = notebook_namespace(NOTEBOOK, smoke=smoke)
    lesson["RUNTIME"] = for_device(device)
    return lesson


def make_models(lesson: dict, latent_dim: int, feature_maps: int, image_size: int, device: torch.device):
    torch.manual_seed(0)
    generator = lesson["Generator"](latent_dim, feature_maps, 3, image_size).to(device)
    discriminator = lesson["Discriminator"](feature_maps, 3, image_size).to(device)
    generator.apply(lesson["init_weights"])
    discriminator.apply(lesson["init_weights"])
    if for_device(device).channels_last:
        generator = generator.to(memory_format=torch.channels_last)
        discriminator = discriminator.to(memory_format=torch.channels_last)
    adam = dict(lr=lesson["LEARNING_RATE"], betas=(0.5, 0.999))  # the lesson's learning rate and the paper's betas
    return (generator, discriminator, torch.optim.Adam(generator.parameters(), **adam),
            torch.optim.Adam(discriminator.parameters(), **adam))


def lesson_step(lesson: dict, models, real_images: torch.Tensor, latent_dim: int, scaler) -> dict:
    """The lesson's train_step, fed as the lesson's loop feeds it (channels-last on CUDA, fresh noise)."""
    generator, discriminator, g_optimizer, d_optimizer = models
    if for_device(real_images.device).channels_last:
        real_images = real_images.contiguous(memory_format=torch.channels_last)
    noise = torch.randn(real_images.shape[0], latent_dim, device=real_images.device)
    return lesson["train_step"](generator, discriminator, g_optimizer, d_optimizer, real_images, noise, scaler)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def images_per_second(lesson, batches, args, device) -> tuple[float, float]:
    """Images/s of training for args.epochs passes over batches(), and of one pass of batches() alone.

    batches() returns a fresh iterable of (N, 3, H, W) float batches on `device` for each pass.
    """
    models = make_models(lesson, args.latent_dim, args.feature_maps, args.image_size, device)
    scaler = torch.amp.GradScaler(device.type, enabled=for_device(device).amp)
    warm_up(lesson, models, args, device, scaler)
    sync(device)
    start, seen = time.perf_counter(), 0
    for _ in range(args.epochs):
        for real_images in batches():
            lesson_step(lesson, models, real_images, args.latent_dim, scaler)
            seen += real_images.shape[0]
    sync(device)
    train_rate = seen / (time.perf_counter() - start)
    start, seen = time.perf_counter(), 0
    for real_images in batches():
        seen += real_images.shape[0]
    sync(device)
    return train_rate, seen / (time.perf_counter() - start)


def run_tutorial(lesson, root: Path, args, device) -> tuple[float, float]:
    """Images/s of training, and of the data pipeline alone, through ImageFolder + DataLoader."""
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms
    dataset = datasets.ImageFolder(str(root), transform=transforms.Compose([
        transforms.Resize(args.image_size), transforms.CenterCrop(args.image_size),
        transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))]))
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, num_workers=args.workers)
    return images_per_second(lesson, lambda: (x.to(device, non_blocking=True) for x, _ in loader), args, device)


def run_cached(lesson, root: Path, args, device) -> tuple[float, float, float]:
    """Images/s of training and of batches alone from the uint8 cache on the device; cache build seconds."""
    from helpers.faces import load_faces
    start = time.perf_counter()
    faces = load_faces(image_size=args.image_size, folder=root, verbose=False)
    build = time.perf_counter() - start
    images = faces.images.to(device)
    train_rate, data_rate = images_per_second(lesson, lambda: _batches(images, args.batch_size), args, device)
    return train_rate, data_rate, build


def _batches(images, batch_size):
    from helpers.batches import ImageBatches
    return ImageBatches(images, batch_size, flip=True, epochs=1)


def warm_up(lesson, models, args, device, scaler, steps: int = 2) -> None:
    fake = torch.rand(args.batch_size, 3, args.image_size, args.image_size, device=device) * 2 - 1
    for _ in range(steps):
        lesson_step(lesson, models, fake, args.latent_dim, scaler)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--images", type=int, default=512, help="JPEGs written to the ImageFolder")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--image-size", type=int, default=None, help="default: 32 on CPU, 64 on CUDA")
    parser.add_argument("--feature-maps", type=int, default=None, help="default: 16 on CPU, 64 on CUDA")
    parser.add_argument("--latent-dim", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers (the tutorial uses 2)")
    parser.add_argument("--smoke", action="store_true", help="a quick run (also GAN_COURSE_SMOKE=1)")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("--device cuda asked for, but there is no CUDA GPU here", file=sys.stderr)
        return 2
    cpu = device.type == "cpu"
    args.image_size = args.image_size or (32 if cpu else 64)
    args.feature_maps = args.feature_maps or (16 if cpu else 64)
    smoke = args.smoke or os.environ.get("GAN_COURSE_SMOKE", "0") in {"1", "true", "yes"}
    if smoke:
        args.images, args.epochs, args.batch_size = min(args.images, 128), 1, min(args.batch_size, 64)
    name = for_device(device).name
    print(f"DCGAN {args.image_size}×{args.image_size}, {args.feature_maps} feature maps, batch "
          f"{args.batch_size}, {args.images} JPEGs of {CELEBA_SIZE[0]}×{CELEBA_SIZE[1]}, "
          f"{args.epochs} epochs, on {device} ({name})")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["GAN_COURSE_DATA"] = str(tmp / "data")  # the cache goes to the temp folder too
        root = write_image_folder(tmp / "images", args.images)
        lesson = load_lesson(device, smoke)
        tutorial_train, tutorial_data = run_tutorial(lesson, root, args, device)
        cached_train, cached_data, build = run_cached(lesson, root, args, device)
    rows = [("tutorial: ImageFolder + DataLoader", tutorial_train, tutorial_data),
            ("lesson: uint8 cache on the device", cached_train, cached_data)]
    print(f"\n{'input pipeline':<36} {'train img/s':>12} {'data-only img/s':>16}")
    for label, train, data in rows:
        print(f"{label:<36} {train:>12.0f} {data:>16.0f}")
    print(f"\nspeed-up of training: {cached_train / tutorial_train:.2f}× "
          f"(data alone: {cached_data / tutorial_data:.1f}×); the cache was built once in "
          f"{build:.1f} s for {args.images} images ({args.images / build:.0f} img/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
