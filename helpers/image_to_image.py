"""Image-to-image translation (lesson 08): pix2pix's networks (Isola et al. 2017), CycleGAN's (Zhu et al. 2017),
their data (paired photos, scikit-learn's digits in MNIST's frame) and their scores."""
from __future__ import annotations

import tarfile
from dataclasses import dataclass
from typing import Callable

import numpy as np
import skimage.data
import torch
import torch.nn.functional as F
from PIL import Image
from sklearn.datasets import load_digits, load_sample_image
from torch import Tensor, nn

from helpers.classifier import DigitClassifier, classifier_predictions
from helpers.download import download
from helpers.images import to_uint8
from helpers.metrics import conditional_accuracy, sharpness
from helpers.mnist import ImageData
from helpers.runtime import data_dir

# (name, loader) of every colour photo the two packages ship that is a photograph of a scene
PHOTOS = {
    "astronaut": skimage.data.astronaut, "chelsea": skimage.data.chelsea, "coffee": skimage.data.coffee,
    "rocket": skimage.data.rocket, "motorcycle": lambda: skimage.data.stereo_motorcycle()[0],
    "china": lambda: load_sample_image("china.jpg"), "flower": lambda: load_sample_image("flower.jpg"),
}
HELD_OUT_FRACTION = 0.25  # the bottom quarter of every photo: evaluation crops only

FACADES_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/facades.tar.gz"
FACADES_COUNTS = {"train": 400, "test": 106}


# --- Networks ----------------------------------------------------------------------------------

class UNet(nn.Module):
    """pix2pix's U-Net: (N, in_channels, H, W) -> (N, out_channels, H, W) in [-1, 1]; H, W divisible by 2**depth.
    `skip_forward(unet, x)`, the lesson's exercise, runs `downs` and `ups`, each up after the first also taking the
    encoder's output of its size. residual=True predicts a change, G(x) = tanh(atanh(0.99·x) + r(x)), r's last
    layer starting at zero, as super-resolution networks add detail to the enlarged image (Kim et al. 2016)."""

    def __init__(self, in_channels: int, out_channels: int, features: int, depth: int,
                 skip_forward: Callable[[nn.Module, Tensor], Tensor], residual: bool = False) -> None:
        super().__init__()
        if depth < 2:
            raise ValueError(f"depth must be at least 2 (one inner layer), got {depth}")
        if residual and in_channels != out_channels:
            raise ValueError(f"residual=True adds the output to the input, so in_channels ({in_channels}) "
                             f"must equal out_channels ({out_channels})")
        self.depth, self.residual, self.skip_forward = depth, residual, skip_forward
        widths = [features * min(2 ** i, 8) for i in range(depth)]         # 32, 64, 128, 256 (capped at 8×)
        self.downs = nn.ModuleList(nn.Sequential(
            nn.Conv2d(in_channels if i == 0 else widths[i - 1], width, 4, 2, 1),  # (N, w_i, H/2^(i+1), W/2^(i+1))
            *([nn.BatchNorm2d(width)] if 0 < i < depth - 1 else []),             # none on the first and innermost
            nn.LeakyReLU(0.2)) for i, width in enumerate(widths))
        self.ups = nn.ModuleList(nn.Sequential(                                # upsampled + skip channels in
            nn.ConvTranspose2d(widths[i] * (1 if i == depth - 1 else 2), widths[i - 1], 4, 2, 1),  # (N, w_{i-1}, …)
            nn.BatchNorm2d(widths[i - 1]), nn.ReLU()) for i in reversed(range(1, depth)))
        last = nn.ConvTranspose2d(2 * widths[0], out_channels, 4, 2, 1)                 # (N, out, H, W)
        if residual:
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        self.ups.append(nn.Sequential(last) if residual else nn.Sequential(last, nn.Tanh()))

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[-1] % 2 ** self.depth or x.shape[-2] % 2 ** self.depth:
            raise ValueError(f"UNet(depth={self.depth}) needs (N, C, H, W) images with H and W divisible by "
                             f"{2 ** self.depth}, got {tuple(x.shape)}")
        out = self.skip_forward(self, x)
        return torch.tanh(torch.atanh(0.99 * x) + out) if self.residual else out


class ResidualBlock(nn.Module):
    """(N, C, H, W) -> (N, C, H, W): x + conv-relu-conv(x) (He et al. 2016; CycleGAN's generator stacks them)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, channels, 3, 1, 1), nn.ReLU(),   # (N, C, H, W)
                                  nn.Conv2d(channels, channels, 3, 1, 1))              # (N, C, H, W)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """CycleGAN's generator for 28×28 digits: (N, C, H, W) in [-1, 1] -> the same shape; H, W even. 3×3 kernels,
    no normalisation (slow on a CPU at this size); G(x) = tanh(atanh(0.99·x) + r(x)), a fresh G the identity."""

    def __init__(self, channels: int = 1, features: int = 16, blocks: int = 2) -> None:
        super().__init__()
        f = features
        self.net = nn.Sequential(
            nn.Conv2d(channels, f, 3, 1, 1), nn.ReLU(),                     # (N, f, H, W)
            nn.Conv2d(f, 2 * f, 4, 2, 1), nn.ReLU(),                        # (N, 2f, H/2, W/2)
            *[ResidualBlock(2 * f) for _ in range(blocks)],                 # (N, 2f, H/2, W/2)
            nn.ConvTranspose2d(2 * f, f, 4, 2, 1), nn.ReLU(),               # (N, f, H, W)
            nn.Conv2d(f, channels, 3, 1, 1),                                # (N, C, H, W): the change r(x)
        )
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, x: Tensor) -> Tensor:
        channels = self.net[0].in_channels
        if x.ndim != 4 or x.shape[1] != channels or x.shape[-1] % 2 or x.shape[-2] % 2:
            raise ValueError(f"ResnetGenerator needs (N, {channels}, H, W) images with H and W even, "
                             f"got {tuple(x.shape)}")
        return torch.tanh(torch.atanh(0.99 * x) + self.net(x))


class PatchGAN(nn.Module):
    """pix2pix's PatchGAN: (N, in_channels, H, W) -> (N, 1, h, w) logits, one per overlapping patch: `layers`
    stride-2 4×4 convolutions, then two stride-1 ones (layers=3: Isola et al.'s 70×70 patches)."""

    def __init__(self, in_channels: int = 6, features: int = 64, layers: int = 3, norm: str = "batch") -> None:
        super().__init__()
        if norm not in ("batch", "none"):
            raise ValueError(f"norm must be one of ['batch', 'none'], got {norm!r}")
        blocks: list[nn.Module] = []
        width = in_channels
        for i in range(layers + 1):
            out = features * min(2 ** i, 8)
            blocks.append(nn.Conv2d(width, out, 4, 2 if i < layers else 1, 1))  # (N, out, H/2^(i+1), .) or (., h-1, .)
            blocks += [nn.BatchNorm2d(out)] if i > 0 and norm == "batch" else []
            blocks.append(nn.LeakyReLU(0.2))
            width = out
        blocks.append(nn.Conv2d(width, 1, 4, 1, 1))                      # (N, 1, h, w): one logit per patch
        self.net = nn.Sequential(*blocks)

    def conv_specs(self) -> list[tuple[int, int, int]]:
        """(kernel, stride, padding) of each convolution, input to output."""
        return [(m.kernel_size[0], m.stride[0], m.padding[0]) for m in self.net if isinstance(m, nn.Conv2d)]

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.net[0].in_channels:
            raise ValueError(f"PatchGAN expects (N, {self.net[0].in_channels}, H, W) images (input and output "
                             f"stacked on the channel axis for pix2pix), got {tuple(x.shape)}")
        return self.net(x)


def receptive_field(conv_specs: list[tuple[int, int, int]]) -> int:
    """[(kernel, stride, padding), …] input to output -> the side of the input patch one output pixel sees."""
    if not conv_specs:
        raise ValueError("conv_specs must list at least one (kernel, stride, padding) layer")
    r = 1
    for spec in reversed(conv_specs):
        if len(spec) != 3 or any(not isinstance(v, int) or v < 0 for v in spec) or spec[0] < 1 or spec[1] < 1:
            raise ValueError(f"each layer must be (kernel ≥ 1, stride ≥ 1, padding ≥ 0) ints, got {spec!r}")
        kernel, stride, _ = spec
        r = r * stride + (kernel - stride)  # one layer back (padding moves the patch, not its size)
    return r


class ImageBuffer:
    """A pool of past fakes (Shrivastava et al. 2017; CycleGAN keeps 50): `mix` gives the fakes while it fills,
    then swaps each, with probability ½, for a stored one, so that D sees a mix of old and new."""

    def __init__(self, size: int = 50, generator: torch.Generator | None = None) -> None:
        self.size, self.generator, self.images = size, generator, []

    def mix(self, fakes: Tensor) -> Tensor:
        out = []
        for fake in fakes.detach():
            if len(self.images) < self.size:
                self.images.append(fake)
                out.append(fake)
            elif torch.rand((), generator=self.generator) < 0.5:
                i = int(torch.randint(self.size, (), generator=self.generator))
                out.append(self.images[i])
                self.images[i] = fake
            else:
                out.append(fake)
        return torch.stack(out)


# --- Data: paired images --------------------------------------------------------------------------

@dataclass
class PairedImages:
    """Pairs for pix2pix: inputs and targets (N, 3, S, S), uint8, with where they came from."""
    inputs: Tensor
    targets: Tensor
    source: str

    def __len__(self) -> int:
        return self.inputs.shape[0]


def photo_pairs(size: int = 32, train_crops: int = 2000, test_crops: int = 200, scale: float = 0.5,
                seed: int = 0) -> tuple[PairedImages, PairedImages]:
    """(train, test) pairs of input -> photo (N, 3, size, size) uint8: random mirrored crops of PHOTOS resized by
    `scale`, training from the top three quarters, test from the bottom quarter; the input is the crop shrunk 4×
    (box filter) and enlarged back (bicubic), as a camera with 4× fewer pixels a side sees it."""
    rng = np.random.default_rng(seed)
    photos = [Image.fromarray(np.asarray(loader())[..., :3]) for loader in PHOTOS.values()]
    photos = [np.asarray(photo.resize((max(1, round(photo.width * scale)), max(1, round(photo.height * scale))),
                                      Image.BICUBIC)) for photo in photos]
    splits = {"train": ([], [], train_crops), "test": ([], [], test_crops)}
    for split, (inputs, targets, count) in splits.items():
        for k in range(count):
            photo = photos[k % len(photos)]
            height = photo.shape[0]
            boundary = int(round(height * (1 - HELD_OUT_FRACTION)))
            top, bottom = (0, boundary - size) if split == "train" else (boundary, height - size)
            if bottom < top or photo.shape[1] < size:
                raise ValueError(f"crops of {size} px do not fit the {split} part of a {photo.shape[:2]} photo: "
                                 "use a smaller size or a larger scale")
            y, x = int(rng.integers(top, bottom + 1)), int(rng.integers(0, photo.shape[1] - size + 1))
            crop = photo[y:y + size, x:x + size]
            crop = Image.fromarray(np.ascontiguousarray(crop[:, ::-1] if rng.random() < 0.5 else crop))
            small = crop.resize((size // 4, size // 4), Image.BOX)
            inputs.append(np.asarray(small.resize((size, size), Image.BICUBIC)).transpose(2, 0, 1))
            targets.append(np.asarray(crop).transpose(2, 0, 1))
    source = (f"4× lower resolution -> photo: random {size}×{size} crops of {len(photos)} "
              f"scikit-image / scikit-learn photos (bottom quarter of each held out)")
    return tuple(PairedImages(torch.from_numpy(np.ascontiguousarray(np.stack(i))),  # np.stack keeps (H, W, C) order
                              torch.from_numpy(np.ascontiguousarray(np.stack(t))), source)
                 for i, t, _ in splits.values())


def load_facades(size: int = 128) -> tuple[PairedImages, PairedImages]:
    """(train, test) CMP Facades pairs (Tyleček & Šára 2013), labels (N, 3, S, S) -> photo, uint8. Downloaded once
    (30 MB); with no published checksum, checked by structure: 400 and 106 JPEGs of 512×256 (photo | labels)."""
    root = data_dir() / "facades"
    if not all((root / split).is_dir() for split in FACADES_COUNTS):
        with tarfile.open(download(FACADES_URL, data_dir() / "facades.tar.gz")) as tar:
            tar.extractall(data_dir(), **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    splits = []
    for split, count in FACADES_COUNTS.items():
        files = sorted((root / split).glob("*.jpg"))
        if len(files) != count:
            raise ValueError(f"{root / split} holds {len(files)} JPEGs, expected {count}")
        inputs, targets = [], []
        for file in files:
            pair = Image.open(file).convert("RGB")
            if pair.size != (512, 256):
                raise ValueError(f"{file} is {pair.size[0]}×{pair.size[1]}, expected 512×256 (photo | labels)")
            for half, out in (((256, 0, 512, 256), inputs), ((0, 0, 256, 256), targets)):  # labels, photo
                out.append(np.asarray(pair.crop(half).resize((size, size), Image.BICUBIC)).transpose(2, 0, 1))
        splits.append(PairedImages(torch.from_numpy(np.stack(inputs)), torch.from_numpy(np.stack(targets)),
                                   f"CMP Facades {split} ({count} pairs, labels -> photo, {size} px)"))
    return tuple(splits)


def load_pairs(choice: str, device: torch.device, seed: int = 0) -> tuple[PairedImages, PairedImages]:
    """The lesson's (train, test) pairs: CMP Facades at 128 px for "facades" (or "auto" on a GPU), else the
    offline 32 px photo crops, saying so when Facades cannot be had."""
    if choice == "facades" or (choice == "auto" and device.type == "cuda"):
        try:
            return load_facades(size=128)
        except (OSError, ValueError, tarfile.TarError) as error:  # ConnectionError is an OSError
            print(f"CMP Facades is not available ({str(error)[:120]}): using the offline photo crops instead.")
    return photo_pairs(size=32, scale=0.5, seed=seed)


# --- Evaluation ------------------------------------------------------------------------------------

def translate(generator: nn.Module, inputs: Tensor, chunk: int = 100) -> Tensor:
    """(N, C, H, W) -> the generator's (N, C', H, W) outputs, in chunks, in eval mode (then its mode back), no grad."""
    was_training = generator.training
    with torch.no_grad():
        outputs = torch.cat([generator.eval()(part) for part in inputs.split(chunk)])
    generator.train(was_training)
    return outputs


def paired_scores(outputs: Tensor, targets: Tensor) -> dict[str, float]:
    """Held-out outputs and targets (N, 3, H, W) in [-1, 1] -> {"l1", "psnr" (dB, peak-to-peak 2), "sharpness"
    (the outputs' over the targets', 1 = as sharp as the real images)}."""
    squared = (outputs - targets).pow(2).flatten(1).mean(1)                         # (N,)
    return {"l1": (outputs - targets).abs().mean().item(),
            "psnr": (10 * torch.log10(4 / squared.clamp_min(1e-10))).mean().item(),
            "sharpness": sharpness(outputs) / sharpness(targets)}


def print_per_digit(classifier: DigitClassifier, labels: Tensor, rows: dict[str, Tensor]) -> None:
    """{name: (N, 1, 28, 28) digits} and their true labels (N,) -> one line per name: the share the classifier
    reads as the true label, digit by digit."""
    print(f"{'read correctly, by true digit':<34}" + "".join(f"{d:>6}" for d in range(10)))
    for name, images in rows.items():
        _, by_digit = conditional_accuracy(labels, classifier_predictions(classifier, images))
        print(f"{name:<34}" + "".join(f"{share:>6.0%}" for share in by_digit.tolist()))


# --- Data: scikit-learn's 8×8 digits in MNIST's frame ---------------------------------------------

def sklearn_digits(centre: str = "mass", mode: str = "bilinear") -> ImageData:
    """scikit-learn's 1,797 8×8 digits as ImageData (N, 1, 28, 28) by MNIST's recipe (LeCun et al. 1998): each
    enlarged (`mode`) into a 20×20 box, then shifted so its centre of mass is the image's (centre="box": the box's)."""
    if centre not in ("mass", "box"):
        raise ValueError(f"centre must be 'mass' or 'box', got {centre!r}")
    if mode not in ("bilinear", "bicubic"):
        raise ValueError(f"mode must be one of ('bilinear', 'bicubic') (the upsampling's interpolation), got {mode!r}")
    digits = load_digits()
    small = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0      # (1797, 1, 8, 8) in [0, 1]
    images = torch.zeros(len(small), 1, 28, 28)
    images[:, :, 4:24, 4:24] = F.interpolate(small, size=(20, 20), mode=mode, align_corners=False).clamp(0, 1)
    if centre == "mass":
        grid = torch.arange(28, dtype=torch.float32)
        mass = images.sum((1, 2, 3)).clamp_min(1e-8)
        theta = torch.eye(2, 3).repeat(len(images), 1, 1)                             # (N, 2, 3): identity
        theta[:, 0, 2] = ((images * grid).sum((1, 2, 3)) / mass - 13.5) * 2 / 28      # sample from x + shift:
        theta[:, 1, 2] = ((images * grid[:, None]).sum((1, 2, 3)) / mass - 13.5) * 2 / 28  # the mass moves to 13.5
        images = F.grid_sample(images, F.affine_grid(theta, list(images.shape), align_corners=False),
                               align_corners=False, padding_mode="zeros")
    return ImageData(to_uint8(images * 2 - 1), torch.tensor(digits.target, dtype=torch.int64), "sklearn-digits",
                     f"scikit-learn's {len(small):,} 8×8 digits, {mode} into a 20×20 box, "
                     f"{'centre of mass' if centre == 'mass' else 'box'} centred in 28×28",
                     classes=[str(digit) for digit in range(10)])
