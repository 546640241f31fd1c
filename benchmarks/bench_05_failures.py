#!/usr/bin/env python3
"""Lesson 05 benchmark: every method on the 8-Gaussian ring and the 25-Gaussian grid, over several seeds.

Runs the notebook's own code (the cells of solutions/05_gan_failures.ipynb tagged `bench`: the
parameters and their checks, the instructors' settings, the metric, the models, make_run and train)
on the CPU, one thread per run, so the numbers are the lesson's:
  ring8  — every method with the lesson's comparison settings (make_run's defaults: BATCH_SIZE, and
           METHOD_SETTINGS' G steps: STEPS, or SN_STEPS for spectral norm), as its comparison table;
  grid25 — every method with the grid run's settings (GRID_SETTINGS: GRID_STEPS, 8 × BATCH_SIZE, GRID_SCALE
           and, for the spectral-norm methods, SN_SCALE / 2), the settings the lesson gives its GRID_METHOD.
Prints, per dataset, each method's median and range over the seeds (modes covered, high-quality
share, CPU seconds of training), the published grid numbers beside ours, and the issue's targets.
`--jobs 2` runs two trainings at a time in separate processes (each still one thread).

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_05_failures.py                 # seeds 0-4, everything
    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_05_failures.py --data grid25 --methods pacgan_sn pacgan
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from inprocess import assignments, notebook_namespace, notebook_parameters  # noqa: E402

NOTEBOOK = ROOT / "solutions" / "05_gan_failures.ipynb"
# The same grid in the mode-collapse papers (their networks, their budgets, their counting rules).
PUBLISHED = [("PacGAN, packs of 2 (Lin et al., 2018)", "about 23.8", "about 91%"),
             ("VEEGAN (Srivastava et al., 2017)", "24.6", "40%"),
             ("Unrolled GAN (as reported by VEEGAN)", "about 23.6", "about 16%")]

_namespace: dict | None = None


def lesson(smoke: bool = False, overrides: dict | None = None) -> dict:
    """The notebook's `bench` cells, run once per process, on the CPU with one thread (smoke: the lesson's smoke sizes).

    `overrides` replace values of the lesson's parameters cell (--set), before they are checked and used.
    """
    global _namespace
    if _namespace is None:
        torch.set_num_threads(1)
        parameters = {"device": torch.device("cpu")} | (overrides or {})
        _namespace = notebook_namespace(NOTEBOOK, parameters=parameters, smoke=smoke)
    return _namespace


def run(method: str, dataset: str, seed: int, smoke: bool = False, overrides: dict | None = None) -> dict:
    """Train one method on one dataset at one seed with the lesson's settings for that dataset."""
    ns = lesson(smoke, overrides)
    settings = ns["GRID_SETTINGS"] if dataset == "grid25" else {}  # ring8: make_run's defaults, the comparison's
    cpu = time.process_time()
    trained = ns["train"](ns["make_run"](method, dataset, seed=seed, **settings))
    cpu = time.process_time() - cpu
    _, modes, high_quality = ns["evaluate"](trained.generator, dataset)
    return {"method": method, "dataset": dataset, "seed": seed, "modes": modes,
            "high_quality": high_quality, "seconds": trained.seconds, "cpu_seconds": cpu}


def spread(values: list[float], fmt: str) -> str:
    """'median (min–max)' of values, each formatted with fmt."""
    return (f"{format(statistics.median(values), fmt)} ({format(min(values), fmt)}–{format(max(values), fmt)})"
            if len(values) > 1 else format(values[0], fmt))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--data", nargs="+", default=None, help="default: the notebook's mixtures (ring8, grid25)")
    parser.add_argument("--methods", nargs="+", default=None, help="default: the notebook's METHODS")
    parser.add_argument("--jobs", type=int, default=1, help="trainings at a time (separate processes)")
    parser.add_argument("--json", type=Path, default=None, help="also write every run's numbers here")
    parser.add_argument("--smoke", action="store_true", help="the notebook's smoke sizes (a test of this script)")
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                        help="override the lesson's parameters, e.g. --set GRID_STEPS=6000 LR=2e-3")
    args = parser.parse_args()
    overrides = assignments(notebook_parameters(NOTEBOOK), args.set)
    ns = lesson(args.smoke, overrides)
    methods = args.methods or ns["METHODS"]
    unknown = sorted(set(methods) - set(ns["METHODS"]))
    if unknown:
        parser.error(f"unknown methods {unknown}; the lesson's are {ns['METHODS']}")
    args.data = args.data or list(ns["CENTRES"])
    unknown = sorted(set(args.data) - set(ns["CENTRES"]))
    if unknown:
        parser.error(f"unknown data {unknown}; the lesson's are {list(ns['CENTRES'])}")
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    grid = ns["GRID_SETTINGS"]
    print(f"Lesson 05 benchmark, CPU, one thread per run, seeds {args.seeds}, {args.jobs} job(s) at a time\n"
          f"  ring8: {ns['STEPS']} G steps (spectral norm {ns['SN_STEPS']}), batch {ns['BATCH_SIZE']}, "
          f"lr {ns['LR']} (WGAN-GP {ns['WGAN_LR']}, "
          f"{ns['CRITIC_STEPS']} critic steps), SN scale {ns['SN_SCALE']}\n"
          f"  grid25: {grid['steps']} G steps, batch {grid['batch_size']}, G output × {grid['output_scale']}, "
          f"PacGAN packs of {ns['PACK']}, SN scale {grid['sn_scale']}; the lesson's grid run uses {ns['GRID_METHOD']}")
    started = time.perf_counter()
    if overrides:
        print(f"  overridden: {overrides}")
    jobs = [(m, d, s, args.smoke, overrides) for d in args.data for m in methods for s in args.seeds]
    if args.jobs == 1:
        runs = [run(*job) for job in jobs]
    else:
        # fresh processes (spawn), each building its own copy of the lesson: forking torch is unsafe
        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            runs = list(pool.map(run, *zip(*jobs)))
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2))

    verdicts = []
    for dataset in args.data:
        total = len(ns["CENTRES"][dataset])
        print(f"\n{dataset}: median (range) over seeds {args.seeds}")
        print(f"| method | modes of {total} | high-quality share | CPU seconds | modes per seed | high quality per seed |")
        print("|---|---|---|---|---|---|")
        for method in methods:
            rs = [r for r in runs if r["method"] == method and r["dataset"] == dataset]
            per_seed_hq = " ".join(f"{r['high_quality']:.2f}" for r in rs)
            print(f"| {method} | {spread([r['modes'] for r in rs], 'g')} | "
                  f"{spread([100 * r['high_quality'] for r in rs], '.1f')}% | {spread([r['cpu_seconds'] for r in rs], '.0f')} | "
                  f"{' '.join(str(r['modes']) for r in rs)} | {per_seed_hq} |")
        if dataset == "grid25":
            for name, modes, high_quality in PUBLISHED:
                print(f"| {name} | {modes} | {high_quality} | | | |")
            best = [r for r in runs if r["method"] == ns["GRID_METHOD"] and r["dataset"] == dataset]
            if best:
                verdicts.append((f"grid25 {ns['GRID_METHOD']}: ≥ 24/25 modes and ≥ 90% high quality at every seed",
                                 all(r["modes"] >= 24 and r["high_quality"] >= 0.9 for r in best)))
                verdicts.append((f"grid25 {ns['GRID_METHOD']}: within 2 CPU-minutes per run "
                                 f"(at most {max(r['cpu_seconds'] for r in best):.0f} s)",
                                 all(r["cpu_seconds"] <= 120 for r in best)))
        else:
            for method in ("wgan_gp", "spectral_norm"):
                rs = [r for r in runs if r["method"] == method and r["dataset"] == dataset]
                if rs:
                    verdicts.append((f"ring8 {method}: 8/8 modes and ≥ 90% high quality at every seed",
                                     all(r["modes"] == 8 and r["high_quality"] >= 0.9 for r in rs)))
            rs = [r for r in runs if r["method"] == "gan" and r["dataset"] == dataset]
            if rs:
                verdicts.append(("ring8 gan: collapses to at most 4 of 8 modes at every seed",
                                 all(r["modes"] <= 4 for r in rs)))
    print("\nTargets:")
    for text, ok in verdicts:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")
    print(f"\nTotal benchmark time {time.perf_counter() - started:.0f} s (wall clock; a busy machine inflates it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
