#!/usr/bin/env python3
"""Lesson 08 benchmark: CycleGAN's label preservation and pix2pix's L1 versus L1 + GAN, over seeds.

Runs the whole solution notebook (solutions/08_image_to_image.ipynb) in this process once per seed,
with its default parameters, writing to a temporary runs folder, and reads what the lesson itself
measured from its summary.json. Prints one row per seed, the medians, and the issue's targets:
label preservation at least 90% (against the no-translation baseline and the run without the cycle
loss); pix2pix's L1 + GAN sharper than L1 alone (closer to the real targets' 1.0) at a PSNR within
1 dB; the whole lesson at most 6 minutes and its smoke run at most 30 s on a 2-core CPU.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_08_image_to_image.py --seeds 0 1 2 --threads 1
    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_08_image_to_image.py --smoke --seeds 0
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
from inprocess import assignments, notebook_parameters, run_notebook  # noqa: E402

NOTEBOOK = ROOT / "solutions" / "08_image_to_image.ipynb"
TARGETS = {"label_preservation": 0.90, "psnr_gap_db": 1.0, "lesson_seconds": 360.0, "smoke_seconds": 30.0}


def run_seed(seed: int, smoke: bool, parameters: dict) -> dict:
    """One run of the lesson at `seed` -> its summary.json plus the run's wall-clock and CPU seconds."""
    with tempfile.TemporaryDirectory() as runs:
        os.environ["GAN_COURSE_RUNS"] = runs
        start, cpu_start = time.perf_counter(), time.process_time()
        run_notebook(NOTEBOOK, parameters={"SEED": seed, **parameters}, smoke=smoke)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        summary = json.loads((Path(runs) / "08_image_to_image" / "summary.json").read_text())
    return dict(summary, lesson_seconds=seconds, lesson_cpu_seconds=cpu_seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--smoke", action="store_true", help="a quick run (also GAN_COURSE_SMOKE=1)")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch.set_num_threads (default: torch's own choice, as in the lesson)")
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                        help="override the lesson's parameters, e.g. --set CYCLE_STEPS=1600")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    smoke = args.smoke or os.environ.get("GAN_COURSE_SMOKE", "0") in {"1", "true", "yes"}
    overrides = assignments(notebook_parameters(NOTEBOOK), args.set)
    rows = []
    for seed in args.seeds:
        r = run_seed(seed, smoke, overrides)
        rows.append(r)
        print(f"seed {seed}: label preservation no translation {r['label_preservation_baseline']:.1%} "
              f"(box centred {r['label_preservation_box_centred']:.1%}, bicubic {r['label_preservation_bicubic']:.1%}), no cycle loss "
              f"{r['label_preservation_no_cycle']:.1%}, CycleGAN {r['label_preservation']:.1%} | pix2pix "
              f"L1 alone: L1 {r['pix2pix_l1_l1']:.4f} PSNR {r['pix2pix_l1_psnr']:.2f} dB sharpness "
              f"{r['pix2pix_l1_sharpness']:.2f}; L1 + GAN: L1 {r['pix2pix_gan_l1']:.4f} PSNR {r['pix2pix_gan_psnr']:.2f} dB "
              f"sharpness {r['pix2pix_gan_sharpness']:.2f} | training pix2pix {r['pix2pix_seconds']:.0f} s, "
              f"CycleGAN {r['cyclegan_seconds']:.0f} s; lesson {r['lesson_seconds']:.0f} s, "
              f"{r['lesson_cpu_seconds']:.0f} CPU-s, torch threads {torch.get_num_threads()} ({r['digits_source']})",
              flush=True)
    keys = ("label_preservation", "label_preservation_no_cycle", "label_preservation_baseline",
            "pix2pix_l1_psnr", "pix2pix_gan_psnr", "pix2pix_l1_sharpness", "pix2pix_gan_sharpness",
            "lesson_seconds", "lesson_cpu_seconds")
    median = {key: statistics.median(r[key] for r in rows) for key in keys}
    print(f"\nmedian over {len(rows)} seeds: label preservation {median['label_preservation']:.1%} (no cycle loss "
          f"{median['label_preservation_no_cycle']:.1%}, no translation {median['label_preservation_baseline']:.1%}); "
          f"pix2pix PSNR L1 {median['pix2pix_l1_psnr']:.2f} / L1+GAN {median['pix2pix_gan_psnr']:.2f} dB, sharpness "
          f"{median['pix2pix_l1_sharpness']:.2f} / {median['pix2pix_gan_sharpness']:.2f} (real = 1); lesson "
          f"{median['lesson_seconds']:.0f} s ({median['lesson_cpu_seconds']:.0f} CPU-s)")
    sharper = sum(abs(1 - r["pix2pix_gan_sharpness"]) + 0.01 < abs(1 - r["pix2pix_l1_sharpness"])
                  and r["pix2pix_l1_psnr"] - r["pix2pix_gan_psnr"] <= TARGETS["psnr_gap_db"] for r in rows)
    time_limit = TARGETS["smoke_seconds" if smoke else "lesson_seconds"]
    print(f"targets: label preservation >= {TARGETS['label_preservation']:.0%}: "
          f"{sum(r['label_preservation'] >= TARGETS['label_preservation'] for r in rows)} of {len(rows)} seeds "
          f"(beats no translation: {sum(r['label_preservation'] > r['label_preservation_baseline'] for r in rows)}); "
          f"L1+GAN sharper at a PSNR within {TARGETS['psnr_gap_db']:.0f} dB: {sharper} of {len(rows)}; "
          f"{'smoke' if smoke else 'lesson'} <= {time_limit:.0f} s: "
          f"{sum(r['lesson_seconds'] <= time_limit for r in rows)} of {len(rows)} (wall), "
          f"{sum(r['lesson_cpu_seconds'] <= time_limit for r in rows)} of {len(rows)} (CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
