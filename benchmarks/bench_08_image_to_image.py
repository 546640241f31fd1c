#!/usr/bin/env python3
"""Lesson 08 benchmark: CycleGAN's label preservation and pix2pix's L1 versus L1 + GAN, over seeds.

Runs the whole solution notebook (solutions/08_image_to_image.ipynb) in this process once per seed,
with its default parameters, writing to a temporary runs folder, and reads what the lesson itself
measured from its summary.json. Prints one row per seed, the medians, and the issue's targets:
label preservation at least 90% (against the no-translation baseline and the run without the cycle
loss); pix2pix's L1 + GAN sharper than L1 alone (closer to the real targets' 1.0) at a PSNR within
1 dB; the whole lesson at most 6 minutes and its smoke run at most 30 s on a 2-core CPU.

--judge-width W also reads each seed's translations (and the untranslated digits) with a second MNIST
classifier of width W, trained here on the lesson's MNIST digits: label preservation depends on the
judge (see the instructors' notes, lesson 08), and this measures by how much.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_08_image_to_image.py --seeds 0 1 2 --threads 1
    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_08_image_to_image.py --seeds 0 --judge-width 32
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

from helpers.classifier import DigitClassifier, classifier_predictions, train_classifier  # noqa: E402
from helpers.image_to_image import sklearn_digits  # noqa: E402
from helpers.images import to_float  # noqa: E402
from helpers.metrics import conditional_accuracy  # noqa: E402
from helpers.mnist import load_images  # noqa: E402

NOTEBOOK = ROOT / "solutions" / "08_image_to_image.ipynb"
TARGETS = {"label_preservation": 0.90, "psnr_gap_db": 1.0, "lesson_seconds": 360.0, "smoke_seconds": 30.0}


def run_seed(seed: int, smoke: bool, parameters: dict) -> dict:
    """One run of the lesson at `seed` -> its summary.json, the run's wall-clock and CPU seconds, and its
    translations (`translated` (N, 1, 28, 28) in [-1, 1], `labels` (N,) int64, as the lesson saved them)."""
    with tempfile.TemporaryDirectory() as runs:
        os.environ["GAN_COURSE_RUNS"] = runs
        start, cpu_start = time.perf_counter(), time.process_time()
        run_notebook(NOTEBOOK, parameters={"SEED": seed, **parameters}, smoke=smoke)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        run_dir = Path(runs) / "08_image_to_image"
        summary = json.loads((run_dir / "summary.json").read_text())
        translated, labels = torch.load(run_dir / "cyclegan_translated.pt"), torch.load(run_dir / "cyclegan_labels.pt")
    return dict(summary, lesson_seconds=seconds, lesson_cpu_seconds=cpu_seconds, translated=translated, labels=labels)


def judge_readings(judge: DigitClassifier, images: dict[str, torch.Tensor], labels: torch.Tensor) -> dict:
    """{name: (N, 1, 28, 28) digits in [-1, 1]} and their true labels (N,) -> {name: (share the judge reads
    as the true label, [that share among each true digit 0-9])}."""
    readings = {}
    for name, batch in images.items():
        if batch.shape[0] != labels.shape[0]:
            raise ValueError(f"{name}: {batch.shape[0]} images but {labels.shape[0]} labels")
        share, by_digit = conditional_accuracy(labels, classifier_predictions(judge, batch))
        readings[name] = (share, by_digit.tolist())
    return readings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--smoke", action="store_true", help="a quick run (also GAN_COURSE_SMOKE=1)")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch.set_num_threads (default: torch's own choice, as in the lesson)")
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                        help="override the lesson's parameters, e.g. --set CYCLE_STEPS=1600")
    parser.add_argument("--judge-width", type=int, default=0,
                        help="also read the translations with an MNIST classifier of this width (0: none)")
    parser.add_argument("--judge-steps", type=int, default=600, help="that classifier's training steps")
    args = parser.parse_args(argv)
    if args.judge_width < 0 or args.judge_steps < 1:
        parser.error(f"--judge-width must be >= 0 and --judge-steps >= 1, got {args.judge_width} and "
                     f"{args.judge_steps}")
    if args.threads:
        torch.set_num_threads(args.threads)
    smoke = args.smoke or os.environ.get("GAN_COURSE_SMOKE", "0") in {"1", "true", "yes"}
    overrides = assignments(notebook_parameters(NOTEBOOK), args.set)
    judge = None
    if args.judge_width:
        judge = train_classifier(load_images("mnist"), steps=args.judge_steps, width=args.judge_width)

        def print_readings(readings: dict) -> None:
            for name, (share, by_digit) in readings.items():
                print(f"  width-{args.judge_width} judge ({judge.val_accuracy:.1%} held out): {name} {share:.1%}; "
                      f"digits 0-9: {' / '.join(f'{100 * v:.0f}' for v in by_digit)}%", flush=True)

        digits = sklearn_digits(centre="mass")   # the lesson's domain A; the same for every seed, read once
        untranslated = judge_readings(judge, {"no translation": to_float(digits.images)}, digits.labels)
        print_readings(untranslated)
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
        if judge is not None:
            readings = judge_readings(judge, {"CycleGAN": r["translated"]}, r["labels"])
            r["judge_label_preservation"] = readings["CycleGAN"][0]
            print_readings(readings)
    keys = ("label_preservation", "label_preservation_no_cycle", "label_preservation_baseline",
            "pix2pix_l1_psnr", "pix2pix_gan_psnr", "pix2pix_l1_sharpness", "pix2pix_gan_sharpness",
            "lesson_seconds", "lesson_cpu_seconds")
    median = {key: statistics.median(r[key] for r in rows) for key in keys}
    print(f"\nmedian over {len(rows)} seeds: label preservation {median['label_preservation']:.1%} (no cycle loss "
          f"{median['label_preservation_no_cycle']:.1%}, no translation {median['label_preservation_baseline']:.1%}); "
          f"pix2pix PSNR L1 {median['pix2pix_l1_psnr']:.2f} / L1+GAN {median['pix2pix_gan_psnr']:.2f} dB, sharpness "
          f"{median['pix2pix_l1_sharpness']:.2f} / {median['pix2pix_gan_sharpness']:.2f} (real = 1); lesson "
          f"{median['lesson_seconds']:.0f} s ({median['lesson_cpu_seconds']:.0f} CPU-s)")
    if judge is not None:
        print(f"the width-{args.judge_width} judge: no translation "
              f"{untranslated['no translation'][0]:.1%}, CycleGAN (median) "
              f"{statistics.median(r['judge_label_preservation'] for r in rows):.1%} "
              f"(the targets below use the course's judge)")
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
