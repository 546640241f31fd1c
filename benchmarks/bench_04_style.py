#!/usr/bin/env python3
"""Lesson 04 benchmark: the PyTorch neural-style tutorial's way vs the lesson's implementation.

Both runs use the same images, size, VGG19 weights (ImageNet online; offline the same
random-weight VGG19, built once from one seed and copied into both), loss layers and weights,
and the same number of loss evaluations. The baseline is written here in the tutorial's style
(a Sequential rebuilt with ContentLoss/StyleLoss modules inserted after the chosen layers,
L-BFGS with its default 20 iterations per step, a `while run[0] <= num_steps` loop that clamps
inside the closure); the lesson's way is the lesson's own code (style_transfer_loss and
make_closure from helpers/taught/lesson04.py, generated from the solution) in
helpers.style_transfer.run_style_transfer (features read from one pass through the cut VGG19 with
in-place ReLUs, targets computed once, L-BFGS without clamping inside the loop, one clamp at the
end). The tutorial's loop makes its evaluations in blocks of 20 (300 steps -> 320 evaluations); the lesson's run is given exactly
as many. Each final image is scored by one shared evaluator, after clamping, so that the totals
compare like with like. The baseline uses the lesson's layers (post-ReLU conv1_1..conv5_1 and
conv4_2, i.e. the tutorial's relu_1, relu_3, relu_5, relu_9, relu_13 and relu_10), not the
tutorial's own shallower choice, so that both optimise the same objective.

    python benchmarks/bench_04_style.py                      # 128 px, 300 steps, CPU (minutes)
    python benchmarks/bench_04_style.py --steps 40 --repeats 3
    GAN_COURSE_SMOKE=1 python benchmarks/bench_04_style.py   # 32 px, 20 evaluations each
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import helpers.runtime  # noqa: E402
from helpers import style_transfer as st  # noqa: E402
from helpers.taught.lesson04 import make_closure, style_transfer_loss  # noqa: E402


# --- The tutorial's way (written from the tutorial's description) ---------------------------------

class ContentLoss(nn.Module):
    """Transparent layer: remembers the MSE to a fixed target and passes its input on."""

    def __init__(self, target: torch.Tensor) -> None:
        super().__init__()
        self.target = target.detach()
        self.loss = torch.tensor(0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.loss = F.mse_loss(x, self.target)
        return x


def tutorial_gram(x: torch.Tensor) -> torch.Tensor:
    n, c, h, w = x.size()
    flat = x.view(n * c, h * w)
    return torch.mm(flat, flat.t()).div(n * c * h * w)


class StyleLoss(nn.Module):
    """Transparent layer: remembers the MSE between Gram matrices and passes its input on."""

    def __init__(self, target_feature: torch.Tensor) -> None:
        super().__init__()
        self.target = tutorial_gram(target_feature).detach()
        self.loss = torch.tensor(0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.loss = F.mse_loss(tutorial_gram(x), self.target)
        return x


class Normalization(nn.Module):
    def __init__(self, mean, std) -> None:
        super().__init__()
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return (image - self.mean) / self.std


def build_tutorial_model(cnn: nn.Sequential, content_image, style_image, content_layers, style_layers):
    """Rebuild the CNN as a Sequential with loss modules after the named layers, then trim it."""
    model = nn.Sequential(Normalization(st.IMAGENET_MEAN, st.IMAGENET_STD))
    content_losses, style_losses = [], []
    i = 0
    for layer in cnn.children():
        if isinstance(layer, nn.Conv2d):
            i += 1
            name = f"conv_{i}"
        elif isinstance(layer, nn.ReLU):
            name = f"relu_{i}"
            layer = nn.ReLU(inplace=False)  # in place would overwrite what the loss modules saw
        elif isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):  # AvgPool: the offline network
            name = f"pool_{i}"
        else:
            raise RuntimeError(f"unrecognised layer {layer.__class__.__name__}")
        model.add_module(name, layer)
        if name in content_layers:
            loss = ContentLoss(model(content_image).detach())
            model.add_module(f"content_loss_{i}", loss)
            content_losses.append(loss)
        if name in style_layers:
            loss = StyleLoss(model(style_image).detach())
            model.add_module(f"style_loss_{i}", loss)
            style_losses.append(loss)
    for last in range(len(model) - 1, -1, -1):
        if isinstance(model[last], (ContentLoss, StyleLoss)):
            break
    return model[: last + 1], style_losses, content_losses


def tutorial_run(cnn, content_image, style_image, input_image, num_steps, style_weight, content_weight,
                 content_layers, style_layers):
    model, style_losses, content_losses = build_tutorial_model(
        cnn, content_image, style_image, content_layers, style_layers)
    input_image.requires_grad_(True)
    model.eval()
    model.requires_grad_(False)
    optimizer = torch.optim.LBFGS([input_image])
    run = [0]
    while run[0] <= num_steps:
        def closure():
            with torch.no_grad():
                input_image.clamp_(0, 1)
            optimizer.zero_grad()
            model(input_image)
            style_score = sum(sl.loss for sl in style_losses) * style_weight
            content_score = sum(cl.loss for cl in content_losses) * content_weight
            loss = style_score + content_score
            loss.backward()
            run[0] += 1
            return loss
        optimizer.step(closure)
    with torch.no_grad():
        input_image.clamp_(0, 1)
    return input_image.detach(), run[0]


# The lesson's layer names in the tutorial's naming (its loss modules sit after the ReLUs).
TUTORIAL_NAMES = {"conv1_1": "relu_1", "conv2_1": "relu_3", "conv3_1": "relu_5", "conv4_1": "relu_9",
                  "conv4_2": "relu_10", "conv5_1": "relu_13"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=1, help="timed runs of each; the median is reported")
    parser.add_argument("--online", action="store_true", help="try ImageNet weights and The Starry Night")
    args = parser.parse_args(argv)
    if helpers.runtime.smoke_mode():
        args.size, args.steps, args.repeats = min(args.size, 32), min(args.steps, 5), 1  # 20 evaluations each
    torch.set_num_threads(max(1, torch.get_num_threads()))
    device = torch.device("cpu")
    content, style, what = st.default_images(args.size, online=args.online)
    content, style = (st.load_image(st.to_numpy_image(x), args.size, square=True) for x in (content, style))
    extractor = st.vgg19_features(pretrained=None if args.online else False,
                                  calibration_images=[content, style], seed=0)
    content_weight = 1.0
    style_weight = 3e3 if not extractor.pretrained else 1e6  # the lesson's defaults for these weights
    print(f"{what}; {extractor.description}; {args.size} px square; {args.steps} steps; "
          f"content weight {content_weight:g}, style weight {style_weight:g}, no TV term (the tutorial has none); "
          f"{torch.get_num_threads()} CPU threads")

    evaluator = style_transfer_loss(extractor, content, style, (content_weight, style_weight, 0.0),
                                    st.CONTENT_LAYER, st.STYLE_LAYERS)

    def score(image):
        with torch.no_grad():
            return evaluator(image.clamp(0, 1))[1]

    times = {"tutorial": [], "lesson": []}
    results = {}
    for repeat in range(args.repeats):
        cnn = copy.deepcopy(extractor.layers)  # the very same weights for both
        start = time.perf_counter()
        image, evaluations = tutorial_run(
            cnn, content, style, content.clone(), args.steps, style_weight, content_weight,
            [TUTORIAL_NAMES[st.CONTENT_LAYER]], [TUTORIAL_NAMES[n] for n in st.STYLE_LAYERS])
        times["tutorial"].append(time.perf_counter() - start)
        results["tutorial"] = (score(image), evaluations)

        start = time.perf_counter()
        image, log = st.run_style_transfer(evaluator, content, evaluations, make_closure)  # as many evaluations
        times["lesson"].append(time.perf_counter() - start)
        results["lesson"] = (score(image), len(log))
        target = results["tutorial"][0]["total"]  # evaluations the lesson needs to reach the tutorial's end
        reach = next((i + 1 for i, parts in enumerate(log) if parts["total"] <= target), None)
        print(f"  repeat {repeat + 1}: tutorial {times['tutorial'][-1]:.1f} s, lesson {times['lesson'][-1]:.1f} s",
              flush=True)

    print(f"\n{'implementation':<34} {'evals':>6} {'time (s)':>9} {'ms/eval':>8} {'total':>10} "
          f"{'content':>9} {'style':>10}")
    for key, label in (("tutorial", "tutorial (Sequential + loss modules)"),
                       ("lesson", "lesson (its own loss and closure)")):
        parts, evaluations = results[key]
        seconds = statistics.median(times[key])
        print(f"{label[:34]:<34} {evaluations:>6} {seconds:>9.1f} {1000 * seconds / evaluations:>8.0f} "
              f"{parts['total']:>10.4g} {parts['content']:>9.4g} {parts['style']:>10.4g}")
    if reach is not None:
        per_eval = statistics.median(times["lesson"]) / results["lesson"][1]
        print(f"\nthe lesson reached the tutorial's final total after {reach} of its evaluations "
              f"(about {reach * per_eval:.1f} s at its own speed)")
    faster = statistics.median(times["lesson"]) <= statistics.median(times["tutorial"])
    lower = results["lesson"][0]["total"] <= results["tutorial"][0]["total"] * 1.0001
    print(f"\nlesson at least as fast: {'yes' if faster else 'NO'}; equal or lower total loss: "
          f"{'yes' if lower else 'NO'} (timings on whatever machine this ran on; median of {args.repeats})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
