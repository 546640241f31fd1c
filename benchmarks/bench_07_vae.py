#!/usr/bin/env python3
"""Lesson 07 benchmark: the VAE's class coverage and Fréchet distance beside the GAN's, over seeds.

Runs the whole solution notebook (solutions/07_vae_vs_gan.ipynb) in this process once per seed,
with its default parameters, writing to a temporary runs folder, and reads what the lesson itself
measured from its summary.json. Prints one row per seed, the medians, and the issue's targets:
the VAE covers all 10 classes (each at least 5% of samples), VAE training at most 2 minutes, the
whole lesson at most 5 minutes on a 2-core CPU.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_07_vae.py --seeds 0 1 2
    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_07_vae.py --gan-runs runs   # use lesson 02's saved G
"""
from __future__ import annotations

import argparse
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
from inprocess import run_notebook  # noqa: E402

NOTEBOOK = ROOT / "solutions" / "07_vae_vs_gan.ipynb"
TARGETS = {"vae_train_seconds": 120.0, "lesson_seconds": 300.0, "min_rarest_class": 0.05}


def run_seed(seed: int, gan_runs: Path | None, smoke: bool) -> dict:
    """One run of the lesson at `seed` -> its summary.json plus the whole run's wall-clock seconds."""
    with tempfile.TemporaryDirectory() as runs:
        if gan_runs is not None:  # lesson 02's generator, so the lesson loads it instead of training one
            (Path(runs) / "02_mnist_gan").mkdir()
            (Path(runs) / "02_mnist_gan" / "generator.pt").symlink_to((gan_runs / "02_mnist_gan" / "generator.pt").resolve())
        os.environ["GAN_COURSE_RUNS"] = runs
        start, cpu_start = time.perf_counter(), time.process_time()
        run_notebook(NOTEBOOK, parameters={"SEED": seed}, smoke=smoke)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        summary = json.loads((Path(runs) / "07_vae_vs_gan" / "summary.json").read_text())
    return dict(summary, lesson_seconds=seconds, lesson_cpu_seconds=cpu_seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--gan-runs", type=Path, default=None,
                        help="a runs/ folder holding 02_mnist_gan/generator.pt (default: the lesson trains its GAN)")
    parser.add_argument("--smoke", action="store_true", help="a quick run (also GAN_COURSE_SMOKE=1)")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch.set_num_threads (default: torch's own choice, as in the lesson)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    smoke = args.smoke or os.environ.get("GAN_COURSE_SMOKE", "0") in {"1", "true", "yes"}
    if args.gan_runs is not None and not (args.gan_runs / "02_mnist_gan" / "generator.pt").is_file():
        print(f"--gan-runs {args.gan_runs}: no 02_mnist_gan/generator.pt there (run lesson 02 first)", file=sys.stderr)
        return 2
    rows = []
    for seed in args.seeds:
        r = run_seed(seed, args.gan_runs, smoke)
        rows.append(r)
        print(f"seed {seed}: VAE FD {r['vae_fd']:6.2f}  {r['vae_coverage']:2.0f}/10  rarest {r['vae_rarest_class']:5.1%}  "
              f"sharpness {r['vae_sharpness']:.2f}  train {r['vae_train_seconds']:5.1f} s | GAN FD {r['gan_fd']:6.2f}  "
              f"{r['gan_coverage']:2.0f}/10  sharpness {r['gan_sharpness']:.2f} | lesson {r['lesson_seconds']:5.1f} s, "
              f"{r['lesson_cpu_seconds']:5.1f} CPU-s, torch threads {torch.get_num_threads()} "
              f"({r['data_source']}; GAN: {r['gan_source'][:40]})", flush=True)
    median = {key: statistics.median(r[key] for r in rows) for key in
              ("vae_fd", "gan_fd", "vae_coverage", "vae_train_seconds", "lesson_seconds", "lesson_cpu_seconds",
               "vae_sharpness", "gan_sharpness")}
    print(f"\nmedian over {len(rows)} seeds: VAE FD {median['vae_fd']:.2f}, GAN FD {median['gan_fd']:.2f}; "
          f"sharpness VAE {median['vae_sharpness']:.2f}, GAN {median['gan_sharpness']:.2f} (real = 1); "
          f"VAE training {median['vae_train_seconds']:.0f} s, lesson {median['lesson_seconds']:.0f} s "
          f"({median['lesson_cpu_seconds']:.0f} CPU-s)")
    covered = sum(r["vae_coverage"] == 10 and r["vae_rarest_class"] >= TARGETS["min_rarest_class"] for r in rows)
    print(f"targets: VAE covers 10/10 with every class >= 5%: {covered} of {len(rows)} seeds; "
          f"VAE training <= {TARGETS['vae_train_seconds']:.0f} s: "
          f"{sum(r['vae_train_seconds'] <= TARGETS['vae_train_seconds'] for r in rows)} of {len(rows)}; "
          f"lesson <= {TARGETS['lesson_seconds']:.0f} s: "
          f"{sum(r['lesson_seconds'] <= TARGETS['lesson_seconds'] for r in rows)} of {len(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
