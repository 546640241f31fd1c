"""Neural style transfer's plumbing around lesson 04's losses (Gatys et al. 2016): images, VGG19 features, the run."""
from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import skimage.data
import torch
from PIL import Image, ImageOps
from torch import Tensor, nn
from torchvision.models import VGG19_Weights, vgg19
from torchvision.models.vgg import cfgs, make_layers
from torchvision.transforms.functional import normalize, to_tensor

from helpers.download import download
from helpers.runtime import data_dir

# Layers of Gatys et al. (2016): style from the first conv of each block, content from conv4_2.
STYLE_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
CONTENT_LAYER = "conv4_2"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SAMPLES = ("astronaut", "chelsea", "coffee", "hubble_deep_field", "rocket")  # scikit-image's photos: offline
MAX_IMAGE_SIZE, MIN_IMAGE_SIDE = 2048, 8  # pixels: the longest side load_image makes, the shortest it keeps

# The style image online: Van Gogh's "The Starry Night" (1889, public domain), a 1280-px thumbnail from
# Wikimedia Commons. Its MD5 is the one pystiche's list of demo images records for this URL.
STARRY_NIGHT_URL = ("https://upload.wikimedia.org/wikipedia/commons/thumb/e/ea/"
                    "Van_Gogh_-_Starry_Night_-_Google_Art_Project.jpg/"
                    "1280px-Van_Gogh_-_Starry_Night_-_Google_Art_Project.jpg")
STARRY_NIGHT_MD5 = "372e5bc438e3e8d0eb52cc6f7ef44760"


# --- Images ------------------------------------------------------------------------------------

def _read(source) -> np.ndarray:
    """A sample name, path, bytes or array -> the image's pixels as an array, upright (EXIF rotation applied)."""
    if isinstance(source, np.ndarray):
        return source
    if isinstance(source, str) and source in SAMPLES:
        return getattr(skimage.data, source)()
    if isinstance(source, (bytes, bytearray, memoryview)):
        file, unreadable = io.BytesIO(bytes(source)), "the uploaded bytes are not an image PIL can read"
    elif isinstance(source, (str, Path)):
        file = Path(source).expanduser()
        if not file.is_file():
            raise FileNotFoundError(f"no image file at {file}, and {str(source)!r} is not a sample "
                                    f"name either (samples: {', '.join(SAMPLES)})")
        unreadable = f"{file} is not an image file PIL can read"
    else:
        raise ValueError(f"an image source must be a path, a sample name, bytes or a NumPy array, "
                         f"got {type(source).__name__}")
    try:
        image = ImageOps.exif_transpose(Image.open(file))  # a phone photo stored sideways, with a rotation tag
        high_depth = image.mode in ("I", "F") or image.mode.startswith("I;16")  # 16/32-bit or float grey
        return np.asarray(image if high_depth else image.convert("RGB"))
    except (OSError, Image.DecompressionBombError) as error:  # UnidentifiedImageError is an OSError
        raise ValueError(f"{unreadable} ({error})") from None


def _rgb_uint8(array: np.ndarray) -> np.ndarray:
    """An (H, W), (H, W, 3) or (H, W, 4) array of 8-bit, 16-bit, 32-bit or float pixels -> (H, W, 3) uint8."""
    if array.dtype.kind in "ui" and array.dtype != np.uint8:  # 16-bit, or 32-bit grey that holds 8-bit values
        top = 65535.0 if array.dtype == np.uint16 or array.max() > 255 else 255.0
        array = (np.clip(array / top, 0, 1) * 255).round().astype(np.uint8)
    elif array.dtype != np.uint8:  # floats in [0, 1] as they are, in [0, 255] / 255
        array = array.astype(np.float64)
        low, high, bad = array.min(), array.max(), int((~np.isfinite(array)).sum())
        if bad or low < -1e-3 or high > 255 + 1e-3:
            got = f"{bad} NaN or inf of {array.size} values" if bad else f"values in [{low:.4g}, {high:.4g}]"
            raise ValueError(f"an image array must hold finite values in [0, 1] or [0, 255], got {got}")
        array = (np.clip(array / 255.0 if high > 1 + 1e-3 else array, 0, 1) * 255).round().astype(np.uint8)
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    if array.ndim != 3 or array.shape[-1] not in (3, 4):
        raise ValueError(f"an image array must be (H, W), (H, W, 3) or (H, W, 4), got {array.shape}")
    return np.ascontiguousarray(array[..., :3])


def load_image(source, size: int | None = 256, square: bool = False,
               device: torch.device | str = "cpu") -> Tensor:
    """A path, name in SAMPLES, uploaded bytes or (H, W[, C]) array -> (1, 3, H, W) in [0, 1], the longer side
    resized to `size` (None: kept), centre-cropped to a square first when `square`."""
    if size is not None and (not isinstance(size, (int, np.integer)) or not 16 <= size <= MAX_IMAGE_SIZE):
        raise ValueError(f"size must be an int from 16 to {MAX_IMAGE_SIZE} pixels (or None), got {size!r}")
    image = Image.fromarray(_rgb_uint8(_read(source)))
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
    return to_tensor(image).unsqueeze(0).to(device)  # (1, 3, H, W)


def to_numpy_image(image: Tensor) -> np.ndarray:
    """(1, 3, H, W) or (3, H, W) in [0, 1] -> (H, W, 3) NumPy array for imshow."""
    return image.detach().float().clamp(0, 1).reshape(3, *image.shape[-2:]).permute(1, 2, 0).cpu().numpy()


def default_images(size: int = 256, online: bool = True, device: torch.device | str = "cpu"
                   ) -> tuple[Tensor, Tensor, str]:
    """(content, style) (1, 3, H, W) in [0, 1] and what they are: Chelsea the cat and The Starry Night, offline
    the Hubble Deep Field (both from scikit-image)."""
    content = load_image("chelsea", size, device=device)
    if online:
        try:
            path = download(STARRY_NIGHT_URL, data_dir() / "starry_night_1280.jpg", md5=STARRY_NIGHT_MD5,
                            show_progress=False)
            style = load_image(path, size, device=device)
            return content, style, "content: Chelsea the cat (scikit-image); style: The Starry Night, Van Gogh 1889"
        except (OSError, ValueError) as error:  # URLError is an OSError; ValueError: checksum or a bad file
            print(f"Offline: could not fetch The Starry Night ({type(error).__name__}: {str(error)[:80]}); "
                  "using the Hubble Deep Field that scikit-image ships as the style image instead.")
    style = load_image("hubble_deep_field", size, device=device)
    return content, style, "content: Chelsea the cat (scikit-image); style: Hubble Deep Field (scikit-image)"


# --- VGG19 features ------------------------------------------------------------------------------

def _vgg19_relus() -> dict[str, tuple[int, int]]:
    """conv1_1, conv1_2, … -> (its ReLU's index in torchvision's `features`, the items of cfg "E" up to it)."""
    relus, block, conv, modules = {}, 1, 0, 0
    for items, item in enumerate(cfgs["E"], start=1):  # channel counts, and "M" for a pool
        if item == "M":
            block, conv, modules = block + 1, 0, modules + 1
        else:
            conv, modules = conv + 1, modules + 2  # a conv and its ReLU
            relus[f"conv{block}_{conv}"] = (modules - 1, items)
    return relus


VGG19_RELUS = _vgg19_relus()


class VGGFeatures(nn.Module):
    """Frozen VGG19 layers: (N, 3, H, W) images in [0, 1] -> {layer name: (N, C, h, w) ReLU responses}."""

    def __init__(self, layers: nn.Sequential, names: Sequence[str], description: str, pretrained: bool) -> None:
        super().__init__()
        missing = sorted(name for name in names if VGG19_RELUS.get(name, (len(layers),))[0] >= len(layers))
        if missing:
            raise ValueError(f"layers {missing} are not in this network of {len(layers)} modules; "
                             "build it with a later last layer")
        self.layers, self.description, self.pretrained = layers, description, pretrained
        self.names = tuple(names)
        self.requires_grad_(False)
        self.eval()

    def forward(self, image: Tensor) -> dict[str, Tensor]:
        x = normalize(image, IMAGENET_MEAN, IMAGENET_STD)
        wanted = {VGG19_RELUS[name][0]: name for name in self.names}
        features: dict[str, Tensor] = {}
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index in wanted:
                features[wanted[index]] = x
                if len(features) == len(wanted):  # the deepest layer asked for: the rest need not run
                    break
        return features


def vgg19_features(pretrained: bool | None = None, calibration_images: Sequence[Tensor] = (), seed: int = 0,
                   device: torch.device | str = "cpu") -> VGGFeatures:
    """VGG19 up to conv5_1; pretrained=None: ImageNet weights if they can be had, else random ones (Kaiming
    normal, average pooling), each conv rescaled so that its ReLU output has mean square 1 on
    `calibration_images` (as ranVGG, He et al. 2016), else one layer's Gram matrices dwarf the others."""
    names = (*STYLE_LAYERS, CONTENT_LAYER)
    last = max(names, key=VGG19_RELUS.get)  # the deepest layer used
    relu, items = VGG19_RELUS[last]
    if pretrained is None or pretrained:
        try:
            layers = vgg19(weights=VGG19_Weights.IMAGENET1K_V1).features[: relu + 1]  # downloads 548 MB once
            print(f"VGG19 with ImageNet weights (torchvision IMAGENET1K_V1), cut after {last}.")
            return VGGFeatures(layers, names, "VGG19, ImageNet weights", pretrained=True).to(device)
        except Exception as error:  # no network, a firewall, a broken cache...
            if pretrained:
                raise
            print(f"Offline: could not get the ImageNet VGG19 weights ({type(error).__name__}); using "
                  "the same VGG19 architecture with RANDOM weights (average pooling, layer-wise "
                  "rescaled). Expect texture and colour to transfer, not brush strokes.")
    with torch.random.fork_rng(devices=[]):  # building the network leaves the lesson's random numbers alone
        torch.manual_seed(seed)
        layers = make_layers(cfgs["E"][:items])
        for index, module in enumerate(layers):
            if isinstance(module, nn.Conv2d):  # torchvision's VGG init
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.MaxPool2d):
                layers[index] = nn.AvgPool2d(2, 2)
    xs = [normalize(image.detach().cpu().float(), IMAGENET_MEAN, IMAGENET_STD) for image in calibration_images]
    with torch.no_grad():
        for index, layer in enumerate(layers):
            xs = [layer(x) for x in xs]
            if xs and isinstance(layer, nn.ReLU):
                rms = torch.cat([x.pow(2).mean(dim=(0, 2, 3)) for x in xs]).mean().sqrt().clamp_min(1e-8)
                layers[index - 1].weight.div_(rms)
                layers[index - 1].bias.div_(rms)
                xs = [x / rms for x in xs]  # ReLU is positively homogeneous: scaling commutes with it
    return VGGFeatures(layers, names, "VGG19, random weights (offline fallback)", pretrained=False).to(device)


# --- Optimisation ---------------------------------------------------------------------------------

def make_optimizer(name: str, image: Tensor, lr: float = 0.02, lbfgs_iterations: int = 5) -> torch.optim.Optimizer:
    """'lbfgs' (`lbfgs_iterations` per step(), each one or more evaluations) or 'adam' (`lr`) on `image`'s pixels."""
    if not (isinstance(image, Tensor) and image.is_leaf and image.requires_grad):
        raise ValueError("image must be a leaf tensor with requires_grad=True, "
                         "e.g. content.clone().requires_grad_(True)")
    if name == "lbfgs":  # without the line search its first steps barely move; the default tolerances stop it early
        return torch.optim.LBFGS([image], lr=1.0, max_iter=lbfgs_iterations, history_size=50,
                                 line_search_fn="strong_wolfe", tolerance_grad=1e-12, tolerance_change=1e-12)
    if name == "adam":
        return torch.optim.Adam([image], lr=lr)
    raise ValueError(f"optimizer name must be 'lbfgs' or 'adam', got {name!r}")


def run_style_transfer(loss_fn: Callable[[Tensor], tuple[Tensor, dict[str, float]]], init: Tensor, steps: int,
                       make_closure: Callable, callback: Callable[[int, Tensor, dict[str, float]], None] | None = None
                       ) -> tuple[Tensor, list[dict[str, float]]]:
    """L-BFGS on a copy of `init` (1, 3, H, W) for `steps` evaluations (the line search may add a few) -> the
    image clamped to [0, 1] only at the end (clamping breaks L-BFGS's curvature estimates), each {term: float}."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    image = init.detach().clone().requires_grad_(True)
    optimizer = make_optimizer("lbfgs", image, lbfgs_iterations=min(5, steps))
    log: list[dict[str, float]] = []

    def evaluate() -> Tensor:
        total, parts = loss_fn(image)
        log.append(parts)
        return total

    closure = make_closure(optimizer, evaluate)
    while len(log) < steps:
        optimizer.param_groups[0]["max_iter"] = max(1, min(5, steps - len(log)))  # no more than the evaluations left
        before = len(log)
        optimizer.step(closure)
        if not all(math.isfinite(v) for v in log[-1].values()):
            raise FloatingPointError(f"the loss became {log[-1]} after {len(log)} evaluations: lower the "
                                     "learning rate or the style weight")
        if callback is not None:
            callback(len(log), image, log[-1])
        if len(log) == before:  # L-BFGS converged and made no evaluation: nothing more to do
            break
    return image.detach().clamp(0, 1), log


# --- Memory --------------------------------------------------------------------------------------

# Bytes per input pixel of VGG19 up to relu5_1 (activations and their gradients: 2 x 610 floats, measured by
# counting layer outputs; L-BFGS's history: 2 x 50 image-sized vectors), times 1.5; and its weights' bytes.
_BYTES_PER_PIXEL, _WEIGHT_BYTES = 1.5 * 4 * (2 * 610 + 2 * 50 * 3), 4 * 20.0e6
MAX_CPU_SIZE = 512


def estimate_memory_gb(height: int, width: int) -> float:
    """Rough peak memory in GB of one style-transfer run at (height, width), weights included."""
    return (_WEIGHT_BYTES + _BYTES_PER_PIXEL * height * width) / 1e9


def _free_memory_gb(device: torch.device) -> float | None:
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0] / 1e9
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
        largest = int(math.sqrt(max(0.9 * free * 1e9 - _WEIGHT_BYTES, 0) / _BYTES_PER_PIXEL))
        raise ValueError(f"a {size} x {size} image needs about {need:.1f} GB but only {free:.1f} GB is free "
                         f"on {device}; choose a size of at most {largest // 16 * 16} px.")
    return int(size)


def out_of_memory_message(size: int, device: torch.device | str) -> str:
    """What to tell the user after running out of device memory at `size`."""
    return (f"Out of memory at {size} px on {device}. Choose a smaller size (halving it needs a quarter "
            "of the memory), or restart the runtime to free memory held by earlier cells.")
