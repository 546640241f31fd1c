#!/usr/bin/env python3
"""Lesson 01 benchmark: the classic tutorial set-up of the harmonic-curve GAN vs the lesson's run.

Both run in this one process, on the same machine, and are measured the same way
(10,000 generated points: curve error = mean |y - sin x|, coverage = W1 of x to U[0, 2π]).

* classic: 1,024 fixed points, batch 32 through a DataLoader, 300 epochs; D 2-256-128-64-1
  with ReLU and dropout 0.3, G 2-16-32-2; Adam lr 1e-3; BCELoss on sigmoid outputs.
* lesson: solutions/01_harmonic_gan.ipynb executed here with its default parameters; its own
  TRAIN_SECONDS (the training loop with its evaluations and plots) is the time reported.

    PYTHONPATH=. python benchmarks/bench_01_harmonic.py [--epochs 300] [--seed 0]
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from helpers import metrics  # noqa: E402
from inprocess import run_notebook  # noqa: E402


def classic(epochs: int, seed: int) -> dict:
    """The classic tutorial loop, as commonly taught (fixed dataset, DataLoader, batch 32)."""
    torch.manual_seed(seed)
    n = 1024
    x = 2 * math.pi * torch.rand(n)
    data = torch.stack([x, torch.sin(x)], dim=1)
    loader = torch.utils.data.DataLoader(list(zip(data, torch.zeros(n))), batch_size=32, shuffle=True)
    discriminator = nn.Sequential(
        nn.Linear(2, 256), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(64, 1), nn.Sigmoid())
    generator = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 2))
    criterion = nn.BCELoss()
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=1e-3)
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=1e-3)
    start = time.perf_counter()
    for _ in range(epochs):
        for real, _ in loader:
            b = real.shape[0]
            fake = generator(torch.randn(b, 2))
            samples = torch.cat([real, fake])
            labels = torch.cat([torch.ones(b, 1), torch.zeros(b, 1)])
            discriminator.zero_grad()
            d_loss = criterion(discriminator(samples), labels)
            d_loss.backward()
            d_optimizer.step()
            generator.zero_grad()
            g_loss = criterion(discriminator(generator(torch.randn(b, 2))), torch.ones(b, 1))
            g_loss.backward()
            g_optimizer.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        points = generator(torch.randn(10_000, 2))
    return {"seconds": seconds, "curve_error": metrics.curve_error(points),
            "coverage": metrics.curve_coverage(points), "steps": epochs * len(loader)}


def lesson(seed: int) -> dict:
    ns = run_notebook(ROOT / "solutions" / "01_harmonic_gan.ipynb", parameters={"SEED": seed})
    return {"seconds": ns["TRAIN_SECONDS"], "curve_error": ns["curve_error"],
            "coverage": ns["coverage"], "steps": ns["STEPS"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{'CUDA' if torch.cuda.is_available() else 'CPU'}")
    rows = []
    for seed in args.seeds:
        rows.append(("classic tutorial", seed, classic(args.epochs, seed)))
        rows.append(("lesson 01 default", seed, lesson(seed)))
    print(f"\n{'set-up':<20}{'seed':>5}{'steps':>8}{'seconds':>9}{'curve error':>13}{'coverage':>10}")
    for name, seed, r in rows:
        print(f"{name:<20}{seed:>5}{r['steps']:>8}{r['seconds']:>9.1f}{r['curve_error']:>13.4f}{r['coverage']:>10.4f}")
    print("\ntarget for the lesson: curve error <= 0.03 and coverage <= 0.05 within 10 s of training")


if __name__ == "__main__":
    main()
