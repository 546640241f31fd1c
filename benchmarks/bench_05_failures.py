#!/usr/bin/env python3
"""Lesson 05 benchmark: mode collapse and its fixes on the 8-Gaussian ring and the 25-Gaussian grid.

Runs the notebook's own code (the cells of solutions/05_gan_failures.ipynb tagged `bench`: the
parameters, the metric, the models and the training loop) on the CPU, so the numbers are the
lesson's. Prints one table per dataset at the notebook's fixed seed, training speed in steps/s,
the spread over several seeds, and the issue's targets.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_05_failures.py            # everything
    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_05_failures.py --seeds 3 --no-grid
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inprocess import notebook_namespace  # noqa: E402

NOTEBOOK = ROOT / "solutions" / "05_gan_failures.ipynb"
MAIN = ("gan", "wgan_gp", "spectral_norm")


def run(ns: dict, method: str, dataset: str, seed: int) -> dict:
    generator, _, _, seconds = ns["train"](method, dataset, steps=ns["STEPS"], seed=seed)
    _, modes, high_quality = ns["evaluate"](generator, dataset)
    return {"modes": modes, "high_quality": high_quality, "seconds": seconds,
            "steps_per_s": ns["STEPS"] / seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds for the spread (from the notebook's SEED)")
    parser.add_argument("--steps", type=int, default=None, help="override the notebook's STEPS")
    parser.add_argument("--no-grid", action="store_true", help="skip the 25-Gaussian grid")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (1, as the notebook uses on a CPU)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    overrides = {"device": torch.device("cpu")} | ({"STEPS": args.steps} if args.steps else {})
    ns = notebook_namespace(NOTEBOOK, parameters=overrides)
    seed, methods = ns["SEED"], ns["METHODS"]
    print(f"Lesson 05 benchmark: {ns['STEPS']} G steps, batch {ns['BATCH_SIZE']}, lr {ns['LR']} "
          f"(WGAN-GP {ns['WGAN_LR']}, {ns['CRITIC_STEPS']} critic steps), SN scale {ns['SN_SCALE']}, "
          f"seed {seed}, CPU with {torch.get_num_threads()} threads")
    started = time.perf_counter()
    results: dict[str, dict[str, dict]] = {}
    for dataset in ("ring8",) + (() if args.no_grid else ("grid25",)):
        total = 8 if dataset == "ring8" else 25
        print(f"\n{dataset} at seed {seed}")
        print(f"{'method':<15}{'modes':>8}{'high-quality':>14}{'seconds':>10}{'steps/s':>10}")
        for method in methods:
            r = results.setdefault(dataset, {})[method] = run(ns, method, dataset, seed)
            print(f"{method:<15}{r['modes']:>5}/{total:<2}{r['high_quality']:>14.1%}"
                  f"{r['seconds']:>10.1f}{r['steps_per_s']:>10.0f}", flush=True)

    spread: dict[str, list[dict]] = {}
    if args.seeds > 1:
        seeds = list(range(seed, seed + args.seeds))
        print(f"\nring8 across seeds {seeds}")
        print(f"{'method':<15}{'modes per seed':>28}{'high-quality per seed':>42}")
        for method in MAIN:
            spread[method] = [results["ring8"][method]] + [run(ns, method, "ring8", s) for s in seeds[1:]]
            modes = " ".join(f"{r['modes']}" for r in spread[method])
            hq = " ".join(f"{r['high_quality']:.2f}" for r in spread[method])
            print(f"{method:<15}{modes:>28}{hq:>42}", flush=True)

    ring = results["ring8"]
    print("\nTargets (ring8, fixed seed):")
    checks = [("plain GAN covers at most 4 of 8 modes", ring["gan"]["modes"] <= 4)]
    for method in ("wgan_gp", "spectral_norm"):
        r = ring[method]
        checks.append((f"{method}: 8/8 modes with ≥ 90% high quality", r["modes"] == 8 and r["high_quality"] >= 0.9))
        checks.append((f"{method}: under 30 s of training ({r['seconds']:.1f} s)", r["seconds"] < 30))
    for text, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")
    if spread:
        collapsed = sum(r["modes"] <= 4 and r["high_quality"] >= 0.5 for r in spread["gan"])
        stuck = sum(r["high_quality"] < 0.5 for r in spread["gan"])
        print(f"  plain GAN collapses (≤ 4 modes, ≥ 50% of points on modes) at {collapsed} of "
              f"{len(spread['gan'])} seeds; has not converged (< 50% on modes) at {stuck}")
        for method in ("wgan_gp", "spectral_norm"):
            good = sum(r["modes"] == 8 and r["high_quality"] >= 0.9 for r in spread[method])
            print(f"  {method}: 8/8 with ≥ 90% at {good} of {len(spread[method])} seeds; "
                  f"median high quality {statistics.median(r['high_quality'] for r in spread[method]):.1%}")
    print(f"\nTotal benchmark time {time.perf_counter() - started:.0f} s (wall clock; a busy machine inflates it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
