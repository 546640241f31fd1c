"""Neural style transfer (Gatys et al.): images in and out, VGG19 features, the optimisers.

Lesson 04 writes the losses, the closure and the optimisation loop itself (helpers/taught/lesson04.py
holds the solution's copy); this module holds the plumbing around them:

    load_image        a path, uploaded bytes or a packaged sample -> (1, 3, H, W) in [0, 1]
    default_images    the lesson's content and style images, online and offline
    VGGFeatures       VGG19 cut after the last layer used, ImageNet-normalised input
    vgg19_features    ImageNet weights online; offline the same architecture, random weights
    make_optimizer    L-BFGS (strong-Wolfe line search) or Adam on the pixels
    run_style_transfer  the lesson's loop around the lesson's own loss and closure, for widgets and benchmarks
    check_size_fits   a clear message instead of an out-of-memory crash
"""
from __future__ import annotations

import functools
import io
import math
import os
from pathlib import Path
from typing import Callable, Sequence

import matplotlib.cbook
import numpy as np
import skimage.data
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from sklearn.datasets import load_sample_image
from torch import Tensor, nn
from torchvision.models import VGG19_Weights, vgg19
from torchvision.models.vgg import cfgs as vgg_cfgs, make_layers as vgg_make_layers

from helpers.download import download
from helpers.runtime import data_dir

# Layers of Gatys et al. (2016): style from the first conv of each block, content from conv4_2.
STYLE_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
CONTENT_LAYER = "conv4_2"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _conv_names(cfg: Sequence[int | str]) -> tuple[str, ...]:
    """conv1_1, conv1_2, conv2_1, …: the paper's names for a torchvision VGG cfg's convolutions."""
    names, block, index = [], 1, 0
    for item in cfg:
        if item == "M":
            block, index = block + 1, 0
        else:
            index += 1
            names.append(f"conv{block}_{index}")
    return tuple(names)


LAYER_NAMES = _conv_names(vgg_cfgs["E"])  # VGG19 is torchvision's cfg "E"

# The default style image online: Van Gogh's "The Starry Night" (1889, public domain), from
# Wikimedia Commons (File:Van_Gogh_-_Starry_Night_-_Google_Art_Project.jpg), a 1280-px thumbnail.
STARRY_NIGHT_URL = ("https://upload.wikimedia.org/wikipedia/commons/thumb/e/ea/"
                    "Van_Gogh_-_Starry_Night_-_Google_Art_Project.jpg/"
                    "1280px-Van_Gogh_-_Starry_Night_-_Google_Art_Project.jpg")
# Its MD5 is the one pystiche's list of demo images records for this URL; a download with another MD5
# is refused (and the lesson falls back to the Hubble Deep Field, saying why). The SHA-256 is printed
# on the first verified download: record it here.
STARRY_NIGHT_MD5: str | None = "372e5bc438e3e8d0eb52cc6f7ef44760"
STARRY_NIGHT_SHA256: str | None = None


def _grace_hopper() -> np.ndarray:
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as file:
        return np.asarray(Image.open(file).convert("RGB"))


# Images that installed packages ship, by name: each a function that loads it as an (H, W, 3) array.
_SAMPLES: dict[str, Callable[[], np.ndarray]] = {
    **{name: getattr(skimage.data, name) for name in ("astronaut", "coffee", "chelsea", "rocket",
                                                       "hubble_deep_field", "immunohistochemistry")},
    "china": functools.partial(load_sample_image, "china.jpg"),
    "flower": functools.partial(load_sample_image, "flower.jpg"),
    "grace_hopper": _grace_hopper,
}


def sample_names() -> list[str]:
    """Names of the images that installed packages ship (usable offline)."""
    return sorted(_SAMPLES)


# --- Images ------------------------------------------------------------------------------------

MAX_IMAGE_SIZE, MIN_IMAGE_SIDE = 2048, 8  # pixels: the longest side load_image makes, the shortest it keeps


def _rgb(image):
    """A PIL image of any mode -> RGB, upright (EXIF orientation applied), 16-bit and float scaled."""
    image = ImageOps.exif_transpose(image)  # a phone photo stored sideways, with an EXIF rotation tag
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):  # 16/32-bit or float grey
        array = np.asarray(image, dtype=np.float64)                       # (H, W)
        if image.mode == "F":
            top = 1.0 if array.max() <= 1.0 else 255.0 if array.max() <= 255.0 else array.max()
        else:
            top = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        grey = (np.clip(array / top, 0, 1) * 255).round().astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    return image.convert("RGB")


def _uint8_pixels(array: np.ndarray) -> np.ndarray:
    """A uint16 or float image array -> uint8: uint16 / 65535, floats in [0, 1] as they are, in [0, 255] / 255."""
    if array.dtype == np.uint16:
        return (array / 257.0).round().astype(np.uint8)
    array, bad = array.astype(np.float64), int((~np.isfinite(array)).sum())
    if bad or array.min() < -1e-3 or array.max() > 255 + 1e-3:
        got = f"{bad} NaN or inf of {array.size} values" if bad else f"values in [{array.min():.4g}, {array.max():.4g}]"
        raise ValueError(f"an image array must hold finite values in [0, 1] or [0, 255], got {got}")
    return (np.clip(array / 255.0 if array.max() > 1 + 1e-3 else array, 0, 1) * 255).round().astype(np.uint8)


def _to_pil(source):
    if isinstance(source, Image.Image):
        return _rgb(source)
    if isinstance(source, np.ndarray):
        array = source if source.dtype == np.uint8 else _uint8_pixels(source)
        if array.ndim == 2:
            array = np.stack([array] * 3, axis=-1)
        if array.ndim != 3 or array.shape[-1] not in (3, 4):
            raise ValueError(f"an image array must be (H, W), (H, W, 3) or (H, W, 4), got {array.shape}")
        return Image.fromarray(array[..., :3])
    if isinstance(source, (bytes, bytearray, memoryview)):
        try:
            return _rgb(Image.open(io.BytesIO(bytes(source))))
        except Exception as error:  # PIL raises UnidentifiedImageError and friends
            raise ValueError(f"the uploaded bytes are not an image PIL can read ({error})") from None
    if isinstance(source, (str, Path)):
        if isinstance(source, str) and source in _SAMPLES:
            return _to_pil(_SAMPLES[source]())
        path = Path(source).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"no image file at {path}, and {str(source)!r} is not a sample "
                                    f"name either (samples: {', '.join(sample_names())})")
        try:
            return _rgb(Image.open(path))
        except UnidentifiedImageError:
            raise ValueError(f"{path} is not an image file PIL can read") from None
    raise ValueError(f"an image source must be a path, a sample name, bytes, a PIL image or a NumPy "
                     f"array, got {type(source).__name__}")


def load_image(source, size: int | None = 256, square: bool = False,
               device: torch.device | str = "cpu") -> Tensor:
    """A path, sample name, bytes, PIL image or array -> (1, 3, H, W) float in [0, 1].

    size: the longer side after resizing (None keeps the size); square: centre-crop to a square first.
    """
    if size is not None and (not isinstance(size, (int, np.integer)) or not 16 <= size <= MAX_IMAGE_SIZE):
        raise ValueError(f"size must be an int from 16 to {MAX_IMAGE_SIZE} pixels (or None), got {size!r}")
    image = _to_pil(source)
    if square:
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side))
    if size is not None:
        scale = size / max(image.size)
        new = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        if min(new) < MIN_IMAGE_SIDE:
            raise ValueError(f"a {image.width}×{image.height} image at size {size} would be {new[0]}×{new[1]} "
                             f"pixels: its shorter side must keep at least {MIN_IMAGE_SIDE} (crop it, or square=True)")
        image = image.resize(new, Image.Resampling.LANCZOS)
    array = np.asarray(image, dtype=np.float32) / 255.0                        # (H, W, 3)
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0).contiguous().to(device)  # (1, 3, H, W)


def to_numpy_image(image: Tensor) -> np.ndarray:
    """(1, 3, H, W) or (3, H, W) in [0, 1] -> (H, W, 3) NumPy array for imshow."""
    if image.ndim == 4:
        image = image[0]
    if image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"expected an image of shape (1, 3, H, W) or (3, H, W), got {tuple(image.shape)}")
    return image.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()


def default_images(size: int = 256, online: bool = True, device: torch.device | str = "cpu"
                   ) -> tuple[Tensor, Tensor, str]:
    """The lesson's (content, style) pair, each (1, 3, H, W) in [0, 1], and a line saying what they are.

    Online: Chelsea the cat (scikit-image) styled by The Starry Night (Wikimedia Commons).
    Offline, or when the download fails: the style is the Hubble Deep Field (scikit-image).
    """
    content = load_image("chelsea", size, device=device)
    if online:
        try:
            path = download(STARRY_NIGHT_URL, data_dir() / "starry_night_1280.jpg", md5=STARRY_NIGHT_MD5,
                            sha256=STARRY_NIGHT_SHA256, show_progress=False)
            style = load_image(path, size, device=device)
            return content, style, "content: Chelsea the cat (scikit-image); style: The Starry Night, Van Gogh 1889"
        except (OSError, ValueError) as error:  # URLError is an OSError; ValueError: checksum or a bad file
            print(f"Offline: could not fetch The Starry Night ({type(error).__name__}: {str(error)[:80]}); "
                  "using the Hubble Deep Field that scikit-image ships as the style image instead.")
    style = load_image("hubble_deep_field", size, device=device)
    return content, style, "content: Chelsea the cat (scikit-image); style: Hubble Deep Field (scikit-image)"


# --- VGG19 features ------------------------------------------------------------------------------

def imagenet_normalize(image: Tensor) -> Tensor:
    """(N, 3, H, W) in [0, 1] -> (N, 3, H, W) normalised with the ImageNet mean and std."""
    if image.ndim != 4 or image.shape[1] != 3:
        raise ValueError(f"expected images of shape (N, 3, H, W), got {tuple(image.shape)}")
    mean = torch.tensor(IMAGENET_MEAN, device=image.device, dtype=image.dtype).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=image.device, dtype=image.dtype).view(1, 3, 1, 1)
    return (image - mean) / std


def vgg19_layers(last_layer: str = "conv5_1", pooling: str = "max") -> nn.Sequential:
    """torchvision's VGG19 `features` up to and including `last_layer`'s ReLU (same indices), with
    max or average pooling, freshly initialised as nn.Conv2d does (not yet trained weights)."""
    if pooling not in ("max", "avg"):
        raise ValueError(f"pooling must be 'max' or 'avg', got {pooling!r}")
    with torch.device("meta"):  # the layout only: no memory, no random draws for unused layers
        full = vgg_make_layers(vgg_cfgs["E"])
    layers = full[: _n_modules(last_layer)].to_empty(device="cpu")
    for index, module in enumerate(layers):
        if isinstance(module, nn.Conv2d):
            module.reset_parameters()  # nn.Conv2d's default init, layer by layer, as construction does
        elif isinstance(module, nn.MaxPool2d) and pooling == "avg":
            layers[index] = nn.AvgPool2d(2, 2)
    return layers


class VGGFeatures(nn.Module):
    """Frozen VGG19 that maps (N, 3, H, W) images in [0, 1] to {layer name: (N, C, h, w) ReLU responses}."""

    def __init__(self, layers: nn.Sequential, names: Sequence[str], description: str, pretrained: bool) -> None:
        super().__init__()
        self.layers = layers
        self.description = description
        self.pretrained = pretrained
        conv_names = iter(LAYER_NAMES)
        self._index_to_name: dict[int, str] = {}
        for index, module in enumerate(layers):
            if isinstance(module, nn.Conv2d):
                current = next(conv_names)
            if isinstance(module, nn.ReLU) and current in names:
                self._index_to_name[index] = current  # the paper's conv layers hold rectified responses
        missing = set(names) - set(self._index_to_name.values())
        if missing:
            raise ValueError(f"layers {sorted(missing)} are not in this network (it ends at "
                             f"{current}); build it with a later last_layer")
        self.names = tuple(names)
        self.requires_grad_(False)
        self.eval()

    def forward(self, image: Tensor) -> dict[str, Tensor]:
        x = imagenet_normalize(image)
        features: dict[str, Tensor] = {}
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index in self._index_to_name:
                features[self._index_to_name[index]] = x
                if len(features) == len(self.names):  # the deepest layer asked for: the rest need not run
                    break
        return features




def _n_modules(last_layer: str) -> int:
    """How many of VGG19's `features` modules come up to and including last_layer's ReLU."""
    if last_layer not in LAYER_NAMES:
        raise ValueError(f"last_layer must be one of {LAYER_NAMES}, got {last_layer!r}")
    count, convs = 0, iter(LAYER_NAMES)
    for item in vgg_cfgs["E"]:
        count += 1 if item == "M" else 2  # a pool, or a conv and its ReLU
        if item != "M" and next(convs) == last_layer:
            return count
    raise AssertionError("unreachable: every name in LAYER_NAMES is in the cfg")


@torch.no_grad()
def rescale_random_layers(layers: nn.Sequential, images: Sequence[Tensor]) -> None:
    """Scale each random conv so its ReLU output has mean square 1 on `images` (data-dependent init).

    Without this, feature magnitudes drift layer by layer in a random network, and one layer's
    Gram matrices dwarf the others in the style loss (as in ranVGG, He et al. 2016).
    """
    for image in images:
        if image.ndim != 4 or image.shape[:2] != (1, 3):
            raise ValueError(f"calibration images must have shape (1, 3, H, W), got {tuple(image.shape)}")
    xs = [imagenet_normalize(image) for image in images]
    for index, layer in enumerate(layers):
        xs = [layer(x) for x in xs]
        if isinstance(layer, nn.ReLU):
            conv = layers[index - 1]
            rms = torch.cat([x.pow(2).mean(dim=(0, 2, 3)) for x in xs]).mean().sqrt().clamp_min(1e-8)
            conv.weight.div_(rms)
            conv.bias.div_(rms)
            xs = [x / rms for x in xs]  # ReLU is positively homogeneous: scaling commutes with it


def vgg19_features(pretrained: bool | None = None, style_layers: Sequence[str] = STYLE_LAYERS,
                   content_layer: str = CONTENT_LAYER, calibration_images: Sequence[Tensor] = (),
                   seed: int = 0, device: torch.device | str = "cpu") -> VGGFeatures:
    """VGG19 cut after the last layer used. pretrained=None: ImageNet weights if they can be had, else random.

    Random weights (offline): torchvision's own init (Kaiming normal), average pooling instead of
    max pooling, and each layer rescaled on `calibration_images` (the content and style images)
    so that every layer's features have mean square 1. The printed line says which one you got.
    """
    names = tuple(dict.fromkeys((*style_layers, content_layer)))
    unknown = [n for n in names if n not in LAYER_NAMES]
    if unknown:
        raise ValueError(f"unknown VGG19 layers {unknown}; names look like {LAYER_NAMES[:3]}...")
    last = max(names, key=LAYER_NAMES.index)  # the deepest layer used
    if pretrained is None or pretrained:
        try:
            full = vgg19(weights=VGG19_Weights.IMAGENET1K_V1).features  # downloads 548 MB once
            layers = full[: _n_modules(last)]
            layers.apply(lambda m: setattr(m, "inplace", True) if isinstance(m, nn.ReLU) else None)
            print(f"VGG19 with ImageNet weights (torchvision IMAGENET1K_V1), cut after {last}.")
            return VGGFeatures(layers, names, "VGG19, ImageNet weights", pretrained=True).to(device)
        except Exception as error:  # no network, a firewall, a broken cache...
            if pretrained:
                raise
            print(f"Offline: could not get the ImageNet VGG19 weights ({type(error).__name__}); using "
                  "the same VGG19 architecture with RANDOM weights (average pooling, layer-wise "
                  "rescaled). Expect texture and colour to transfer, not brush strokes.")
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    layers = vgg19_layers(last, pooling="avg")
    for module in layers:
        if isinstance(module, nn.Conv2d):  # torchvision's VGG init, written out
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(module.bias)
    torch.random.set_rng_state(generator_state)  # building the network does not disturb the lesson's seed
    if calibration_images:
        rescale_random_layers(layers, [image.detach().cpu().float() for image in calibration_images])
    return VGGFeatures(layers, names, "VGG19, random weights (offline fallback)", pretrained=False).to(device)


# --- Optimisation ---------------------------------------------------------------------------------

def make_optimizer(name: str, image: Tensor, lr: float | None = None,
                   lbfgs_iterations: int = 5) -> torch.optim.Optimizer:
    """An optimiser on the pixels of `image` (a leaf with requires_grad=True).

    'lbfgs': L-BFGS with a strong-Wolfe line search, `lbfgs_iterations` iterations per step()
    (each iteration costs one or more loss evaluations). Without the line search, L-BFGS's
    first steps are tiny and it barely moves (measured in lesson 04 with random VGG19 features).
    'adam': one evaluation per step, lr 0.02 by default.
    """
    if not (isinstance(image, Tensor) and image.is_leaf and image.requires_grad):
        raise ValueError("image must be a leaf tensor with requires_grad=True, "
                         "e.g. content.clone().requires_grad_(True)")
    if name == "lbfgs":
        # tolerances: the defaults silently stop L-BFGS when the losses are small numbers
        return torch.optim.LBFGS([image], lr=1.0 if lr is None else lr, max_iter=lbfgs_iterations,
                                 history_size=50, line_search_fn="strong_wolfe",
                                 tolerance_grad=1e-12, tolerance_change=1e-12)
    if name == "adam":
        return torch.optim.Adam([image], lr=0.02 if lr is None else lr)
    raise ValueError(f"optimizer name must be 'lbfgs' or 'adam', got {name!r}")


def run_style_transfer(loss_fn: Callable[[Tensor], tuple[Tensor, dict[str, float]]], init: Tensor, steps: int,
                       make_closure: Callable, optimizer: str = "lbfgs", lr: float | None = None,
                       callback: Callable[[int, Tensor, dict[str, float]], None] | None = None
                       ) -> tuple[Tensor, list[dict[str, float]]]:
    """Lesson 04's loop: optimise a copy of `init` (1, 3, H, W) for about `steps` loss evaluations.

    `loss_fn(image) -> (total, {term: float})` and `make_closure(optimizer, loss_fn)` are the lesson's
    own (its style_transfer_loss and its exercise). Adam's pixels are clamped to [0, 1] after each step;
    L-BFGS's are not (moving them behind its back breaks its curvature estimates), so the image is
    clamped at the end. Returns that image and the loss parts of every evaluation. L-BFGS stops at the
    end of the step that reaches `steps` evaluations (its line search may add a few).
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    image = init.detach().clone().requires_grad_(True)
    opt = make_optimizer(optimizer, image, lr, lbfgs_iterations=min(5, steps))
    log: list[dict[str, float]] = []

    def evaluate() -> Tensor:
        total, parts = loss_fn(image)
        log.append(parts)
        return total

    closure = make_closure(opt, evaluate)
    while len(log) < steps:
        if isinstance(opt, torch.optim.LBFGS):  # do not plan more iterations than evaluations left
            opt.param_groups[0]["max_iter"] = max(1, min(5, steps - len(log)))
        before = len(log)
        opt.step(closure)
        if not isinstance(opt, torch.optim.LBFGS):
            with torch.no_grad():
                image.clamp_(0, 1)
        parts = log[-1]
        if not all(math.isfinite(v) for v in parts.values()):
            raise FloatingPointError(f"the loss became {parts} after {len(log)} evaluations: lower the "
                                     "learning rate or the style weight")
        if callback is not None:
            callback(len(log), image, parts)
        if len(log) == before:  # L-BFGS converged and made no evaluation: nothing more to do
            break
    return image.detach().clamp(0, 1), log


# --- Memory --------------------------------------------------------------------------------------

# Floats kept per input pixel by VGG19 up to relu5_1 (forward activations, their gradients, and
# L-BFGS's history of 2 x 50 image-sized vectors), measured by counting layer outputs.
_FLOATS_PER_PIXEL = 2 * 610 + 2 * 50 * 3
MAX_CPU_SIZE = 512


def estimate_memory_gb(height: int, width: int) -> float:
    """Rough peak memory in GB of one style-transfer run at (height, width), weights included."""
    weights = 20.0e6 * 4  # VGG19's conv weights up to conv5_1: about 20 M floats
    return (weights + 1.5 * _FLOATS_PER_PIXEL * 4 * height * width) / 1e9


def _free_memory_gb(device: torch.device) -> float | None:
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free / 1e9
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 1e9
    except (ValueError, OSError, AttributeError):
        return None


def check_size_fits(size: int, device: torch.device | str) -> int:
    """The image size to use: `size`, capped on a CPU; ValueError with advice when it cannot fit."""
    device = torch.device(device)
    if not isinstance(size, (int, np.integer)) or size < 16:
        raise ValueError(f"size must be an int of at least 16 pixels, got {size!r}")
    if device.type == "cpu" and size > MAX_CPU_SIZE:
        print(f"On a CPU {size} px would take many minutes per run; using {MAX_CPU_SIZE} px instead.")
        size = MAX_CPU_SIZE
    need, free = estimate_memory_gb(size, size), _free_memory_gb(device)
    if free is not None and need > 0.9 * free:
        largest = int(math.sqrt(max(0.9 * free * 1e9 - 20.0e6 * 4, 0) / (1.5 * _FLOATS_PER_PIXEL * 4)))
        raise ValueError(f"a {size} x {size} image needs about {need:.1f} GB but only {free:.1f} GB is free "
                         f"on {device}; choose a size of at most {largest // 16 * 16} px.")
    return int(size)


def out_of_memory_message(size: int, device: torch.device | str) -> str:
    """What to tell the user after running out of device memory at `size` (see runtime.is_out_of_memory)."""
    return (f"Out of memory at {size} px on {device}. Choose a smaller size (halving it needs a quarter "
            "of the memory), or restart the runtime to free memory held by earlier cells.")
