#!/usr/bin/env python3
"""Lesson 09 benchmark: the style-based generator beside a DCGAN of about its size, over seeds.

For each seed: runs the solution notebook's cells tagged `bench` (solutions/09_style_based_gan.ipynb:
set-up, training, the scores, style mixing, truncation) in this process, writing to a temporary runs
folder; then trains a DCGAN baseline for the same wall-clock time on the same padded digits, with a
fresh copy of the lesson's discriminator and the same loss: lesson 03's DCGAN generator
(`helpers.taught.lesson03.Generator`, 32×32, one channel) with the feature-map count whose parameter
count is closest to the lesson's generator, Adam(2e-4, β = (0.5, 0.999)) as in the DCGAN paper, and the
same weight average. Both are scored on 10,000 samples by the lesson's own scorer. Prints one row per
seed, the medians and the issue's targets: 10/10 classes at ψ = 1; a Fréchet distance at most 1.5× the
DCGAN's; the mixes read as A's digit ≥ 80% and as B's ≤ 20%; ψ = 0.5 raises mean confidence and lowers
classes or raises the distance, towards w̄ and towards the nearest centre (the lesson's two tables); the lesson
within 5 minutes.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_09_style_based_gan.py --seeds 0 1 2
    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_09_style_based_gan.py --smoke --seeds 0
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn  # noqa: E402

from helpers.batches import ImageBatches  # noqa: E402
from helpers.models import count_parameters  # noqa: E402
from helpers.taught.lesson03 import Generator as DCGANGenerator, init_weights  # noqa: E402
from inprocess import assignments, notebook_namespace, notebook_parameters  # noqa: E402

NOTEBOOK = ROOT / "solutions" / "09_style_based_gan.ipynb"
LESSON = "09_style_based_gan"
TARGETS = {"fd_ratio": 1.5, "as_a": 0.80, "as_b": 0.20, "lesson_seconds": 300.0}


def dcgan_of_size(latent_dim: int, parameters: int) -> nn.Module:
    """Lesson 03's DCGAN generator for 32×32 digits with the feature-map count closest to `parameters`."""
    best = min(range(4, 129), key=lambda fm: abs(count_parameters(DCGANGenerator(latent_dim, fm, 1, 32)) - parameters))
    generator = DCGANGenerator(latent_dim, best, 1, 32)
    generator.apply(init_weights)
    return generator


def train_dcgan(ns: dict, seconds: float, seed: int) -> tuple[nn.Module, int]:
    """The DCGAN baseline, trained for `seconds` of wall-clock time with the lesson's D (fresh weights) and loss."""
    torch.manual_seed(seed)
    latent_dim, device = ns["LATENT_DIM"], ns["device"]
    generator = dcgan_of_size(latent_dim, count_parameters(ns["generator"])).to(device)
    discriminator = copy.deepcopy(ns["discriminator"])           # the lesson's architecture, weights drawn anew
    for module in discriminator.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    average = AveragedModel(generator, multi_avg_fn=get_ema_multi_avg_fn(0.995))
    g_optimizer = torch.optim.Adam(generator.parameters(), 2e-4, betas=(0.5, 0.999))
    d_optimizer = torch.optim.Adam(discriminator.parameters(), 2e-4, betas=(0.5, 0.999))
    batches = ImageBatches(ns["train_images"], ns["BATCH_SIZE"], generator=torch.Generator().manual_seed(seed))
    start, done = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        real_images = next(batches)
        fake_images = generator(torch.randn(len(real_images), latent_dim, device=device))
        d_loss = (F.softplus(-discriminator(real_images)).mean()
                  + F.softplus(discriminator(fake_images.detach())).mean())
        d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        d_optimizer.step()
        discriminator.requires_grad_(False)
        g_loss = F.softplus(-discriminator(fake_images)).mean()
        g_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        g_optimizer.step()
        discriminator.requires_grad_(True)
        average.update_parameters(generator)
        done += 1
    return average.module.eval(), done


def run_seed(seed: int, smoke: bool, overrides: dict) -> dict:
    """One run of the lesson's bench cells and of the DCGAN baseline at `seed` -> their numbers."""
    with tempfile.TemporaryDirectory() as runs:
        os.environ["GAN_COURSE_RUNS"] = runs
        start, cpu_start = time.perf_counter(), time.process_time()
        ns = notebook_namespace(NOTEBOOK, parameters={**overrides, "SEED": seed}, smoke=smoke)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        summary = json.loads((Path(runs) / LESSON / "summary.json").read_text())
        truncation, centres = (json.loads((Path(runs) / LESSON / file).read_text())
                               for file in ("truncation.json", "truncation_centres.json"))
    dcgan, dcgan_steps = train_dcgan(ns, ns["train_seconds"], seed)
    with torch.no_grad():
        noise = ns["final_noise"]
        images = torch.cat([dcgan(chunk) for chunk in noise.split(1000)])[:, :, 2:30, 2:30]
    baseline = ns["scorer"].score(images)
    by_psi = {row["psi"]: row for row in truncation}
    near = {row["psi"]: row for row in centres}
    return dict(summary, lesson_seconds=seconds, lesson_cpu_seconds=cpu_seconds, dcgan_fd=baseline["fd"],
                dcgan_coverage=baseline["coverage"], dcgan_steps=dcgan_steps,
                dcgan_parameters=count_parameters(dcgan), style_parameters=count_parameters(ns["generator"]),
                psi1=by_psi[1.0], psi05=by_psi[0.5], near1=near[1.0], near05=near[0.5], readings=ns["readings"])


def trades_variety_for_confidence(psi1: dict, psi05: dict) -> bool:
    """The issue's truncation target: ψ = 0.5 reads more confidently than ψ = 1, with fewer classes or a higher FD."""
    return psi05["confidence"] > psi1["confidence"] and (psi05["classes"] < psi1["classes"] or psi05["fd"] > psi1["fd"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--smoke", action="store_true", help="a quick run (also GAN_COURSE_SMOKE=1)")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch.set_num_threads (default: torch's own choice, as in the lesson)")
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                        help="override a parameter of the lesson, e.g. --set STEPS=2000 CROSSOVER=1")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    smoke = args.smoke or os.environ.get("GAN_COURSE_SMOKE", "0") in {"1", "true", "yes"}
    overrides = assignments(notebook_parameters(NOTEBOOK), args.set)
    rows = []
    for seed in args.seeds:
        r = run_seed(seed, smoke, overrides)
        rows.append(r)
        mixes = ", ".join(f"{c}: {a:.0%}/{b:.0%}" for c, (a, b) in r["readings"].items())
        print(f"seed {seed}: style-based FD {r['fd']:6.2f} {r['coverage']:2.0f}/10 ({r['steps']:.0f} steps, "
              f"{r['train_seconds']:.0f} s, {r['style_parameters']:,} parameters) | DCGAN FD {r['dcgan_fd']:6.2f} "
              f"{r['dcgan_coverage']}/10 ({r['dcgan_steps']} steps, {r['dcgan_parameters']:,} parameters) | "
              f"mixes read as A/B by crossover {mixes} | ψ 1 → 0.5: confidence {r['psi1']['confidence']:.3f} → "
              f"{r['psi05']['confidence']:.3f}, classes {r['psi1']['classes']} → {r['psi05']['classes']}, "
              f"FD {r['psi1']['fd']:.2f} → {r['psi05']['fd']:.2f}; towards the nearest centre: confidence "
              f"{r['near1']['confidence']:.3f} → {r['near05']['confidence']:.3f}, "
              f"classes {r['near1']['classes']} → {r['near05']['classes']}, "
              f"FD {r['near1']['fd']:.2f} → {r['near05']['fd']:.2f} | "
              f"lesson {r['lesson_seconds']:.0f} s, "
              f"{r['lesson_cpu_seconds']:.0f} CPU-s, torch threads {torch.get_num_threads()} ({r['data_source']})",
              flush=True)
    median = {key: statistics.median(r[key] for r in rows) for key in
              ("fd", "dcgan_fd", "coverage", "mixing_as_a", "mixing_as_b", "lesson_seconds", "lesson_cpu_seconds")}
    print(f"\nmedian over {len(rows)} seeds: style-based FD {median['fd']:.2f} ({median['coverage']:.0f}/10), "
          f"DCGAN FD {median['dcgan_fd']:.2f}; mixes read as A {median['mixing_as_a']:.0%}, as B "
          f"{median['mixing_as_b']:.0%}; lesson {median['lesson_seconds']:.0f} s "
          f"({median['lesson_cpu_seconds']:.0f} CPU-s)")
    n = len(rows)
    print("targets: 10/10 classes: {} of {n}; FD <= {:.1f}x DCGAN's: {} of {n}; mixes as A >= {:.0%}: {} of {n}; "
          "as B <= {:.0%}: {} of {n}; ψ 0.5 more confident and fewer classes or higher FD: "
          "towards w̄ {} of {n}, towards the nearest centre {} of {n}; "
          "lesson <= {:.0f} s: {} of {n}".format(
              sum(r["coverage"] == 10 for r in rows), TARGETS["fd_ratio"],
              sum(r["fd"] <= TARGETS["fd_ratio"] * r["dcgan_fd"] for r in rows), TARGETS["as_a"],
              sum(r["mixing_as_a"] >= TARGETS["as_a"] for r in rows), TARGETS["as_b"],
              sum(r["mixing_as_b"] <= TARGETS["as_b"] for r in rows),
              sum(trades_variety_for_confidence(r["psi1"], r["psi05"]) for r in rows),
              sum(trades_variety_for_confidence(r["near1"], r["near05"]) for r in rows),
              TARGETS["lesson_seconds"], sum(r["lesson_seconds"] <= TARGETS["lesson_seconds"] for r in rows), n=n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
