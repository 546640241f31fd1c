"""Face images for the DCGAN lesson: your folder, CelebA (on disk, from torchvision, else the GRAAL mirror that
Poutyne's CelebA example uses), or offline scikit-image's LFW crops; decoded once into a CRC-checked cache."""
from __future__ import annotations

import functools
import hashlib
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image
from skimage.data import lfw_subset
from torch import Tensor
from torchvision.datasets import CelebA

from helpers.checkpoints import CorruptCheckpoint, read_checkpoint, save_checkpoint
from helpers.download import download, file_digest, online
from helpers.runtime import data_dir
from helpers.training import progress

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
CELEBA_ZIP_MD5 = "00d2c5bc6d35e252742224ab0c1e8fcb"  # torchvision.datasets.CelebA.file_list
CELEBA_MIRROR_URL = "https://graal.ift.ulaval.ca/public/celeba/img_align_celeba.zip"
CELEBA = "CelebA (img_align_celeba)"


@dataclass
class Faces:
    """Face images as one uint8 tensor (N, 3, S, S), and where they came from."""

    images: Tensor
    source: str
    offline: bool = False

    def __len__(self) -> int:
        return self.images.shape[0]

    def to(self, device: str | torch.device) -> Faces:
        return Faces(self.images.to(device), self.source, self.offline)

    def __repr__(self) -> str:
        return f"Faces({len(self)} of {tuple(self.images.shape[1:])} uint8 on {self.images.device}, {self.source!r})"


def find_images(folder: str | Path) -> list[Path]:
    """All image files under `folder`, recursively, sorted (any layout, no class subfolders)."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"no folder at {folder} (expected a folder of face images)")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
    if not files:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) anywhere under {folder}")
    return files


def lfw_faces(image_size: int = 64) -> Tensor:
    """scikit-image's 100 LFW face crops (25×25 grey) -> uint8 (100, 3, S, S), grey in all 3 channels."""
    grey = torch.from_numpy(lfw_subset()[:100]).float()[:, None]  # the first 100 of its 200 are faces, in [0, 1]
    big = torch.nn.functional.interpolate(grey, size=(image_size, image_size), mode="bicubic", align_corners=False)
    return (big.clamp(0, 1) * 255).round().to(torch.uint8).expand(-1, 3, -1, -1).contiguous()


def center_crop_resize(image: Image.Image, image_size: int) -> np.ndarray:
    """A PIL image -> (S, S, 3) uint8: the PyTorch DCGAN tutorial's Resize(S) + CenterCrop(S)."""
    if image.format == "JPEG":  # let the JPEG decoder skip detail we would throw away anyway
        image.draft("RGB", (2 * image_size, 2 * image_size))
    image = image.convert("RGB")
    w, h = image.size
    scale = image_size / min(w, h)
    new_w, new_h = max(image_size, round(w * scale)), max(image_size, round(h * scale))
    image = image.resize((new_w, new_h), Image.BILINEAR, reducing_gap=None)
    left, top = (new_w - image_size) // 2, (new_h - image_size) // 2
    return np.asarray(image.crop((left, top, left + image_size, top + image_size)), dtype=np.uint8)


def _cached(path: Path, image_size: int, listing: str, files: Callable[[], dict[str, Callable] | None], source: str,
            say: Callable) -> Tensor | None:
    """uint8 (N, 3, S, S) from the cache at `path` if it passes its CRCs and was built from `listing`; else decoded,
    cropped and resized from `files()` ({name: a function that opens it}; None: there are none) and cached."""
    if path.is_file():
        try:
            saved = read_checkpoint(path)
            if saved.get("listing") == listing:
                return saved["images"]
            print(f"The images in the folder changed since {path.name} was built: rebuilding it.")
        except CorruptCheckpoint as error:
            print(f"Face cache {path.name} is unreadable or damaged ({error}): rebuilding it.")
    files = files()
    if files is None:
        return None
    say(f"Caching {source} as {image_size}×{image_size} uint8 (once; reused after).")

    def read(name: str) -> np.ndarray | None:
        try:
            with files[name]() as f, Image.open(f) as image:
                return center_crop_resize(image, image_size)
        except (OSError, ValueError, SyntaxError):  # not an image, or a truncated one
            return None
    names = list(files)
    with ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:
        arrays = list(progress(pool.map(read, names), total=len(names), unit="img",
                               desc=f"caching {image_size}×{image_size} faces"))
    skipped = [name for name, array in zip(names, arrays) if array is None]
    if len(skipped) == len(names):
        raise ValueError(f"none of the {len(names)} files from {source} is a readable image "
                         f"(e.g. {', '.join(names[:3])}): expected JPEG, PNG, BMP or WebP images")
    if skipped:
        print(f"Skipped {len(skipped)} file(s) that are not readable images: {', '.join(skipped[:5])}"
              + (" …" if len(skipped) > 5 else ""))
    images = torch.from_numpy(np.stack([a for a in arrays if a is not None])).permute(0, 3, 1, 2).contiguous()
    save_checkpoint(path, images=images, listing=listing)
    return images


def _celeba_files(limit: int | None, say: Callable) -> dict[str, Callable] | None:
    """CelebA's images on disk: torchvision's img_align_celeba/ folder, else the zip if its MD5 is right."""
    extracted, archive = data_dir() / "celeba" / "img_align_celeba", data_dir() / "celeba" / "img_align_celeba.zip"
    if extracted.is_dir() and any(extracted.iterdir()):
        return {str(f): functools.partial(open, f, "rb") for f in find_images(extracted)[:limit]}
    if not archive.is_file():
        return None
    if file_digest(archive, "md5") != CELEBA_ZIP_MD5:  # e.g. a "quota exceeded" page saved under its name
        archive.replace(archive.with_name(archive.name + ".bad"))
        say(f"  {archive} is not the CelebA zip (wrong MD5); moved aside to {archive.name}.bad")
        return None
    zipped = zipfile.ZipFile(archive)
    names = sorted(n for n in zipped.namelist() if n.lower().endswith(IMAGE_EXTENSIONS))[:limit]
    return {name: functools.partial(zipped.open, name) for name in names}


DOWNLOADS = (  # where CelebA is downloaded from, in this order: (name, a URL of its host, the download)
    ("torchvision's CelebA (Google Drive)", "https://drive.google.com",  # through gdown, checked by its MD5s
     lambda: CelebA(str(data_dir()), split="all", target_type=[], download=True)),
    ("the GRAAL mirror (Université Laval)", CELEBA_MIRROR_URL,
     lambda: download(CELEBA_MIRROR_URL, data_dir() / "celeba" / "img_align_celeba.zip", md5=CELEBA_ZIP_MD5)))


def load_faces(image_size: int = 64, folder: str | Path | None = None, download: bool = True,
               limit: int | None = None, verbose: bool = True) -> Faces:
    """uint8 (N, 3, S, S) from `folder` (then the only source), else CelebA, else offline LFW; `limit` keeps the
    first `limit` images (a quicker first cache)."""
    if not isinstance(image_size, int) or isinstance(image_size, bool) or not 8 <= image_size <= 512:
        raise ValueError(f"image_size must be an int between 8 and 512 (64 for DCGAN), got {image_size!r}")
    say = print if verbose else (lambda *args: None)

    def cache(key: str) -> Path:
        return data_dir() / "faces" / f"{key}{f'-first{limit}' if limit else ''}_{image_size}.pt"

    if folder:  # the only source then; a file added, removed or replaced rebuilds its cache
        folder = Path(folder).expanduser()
        files = find_images(folder)[:limit]
        listing = hashlib.sha1("\n".join(f"{f}\t{f.stat().st_size}" for f in files).encode()).hexdigest()
        key = "folder-" + hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:10]
        opened = {str(f): functools.partial(open, f, "rb") for f in files}
        images = _cached(cache(key), image_size, listing, lambda: opened, str(folder), say)
        say(f"Faces: {len(images):,} images from {folder} ({image_size}×{image_size}).")
        return Faces(images, f"your folder {folder}")

    def celeba() -> Tensor | None:
        return _cached(cache("celeba"), image_size, CELEBA, lambda: _celeba_files(limit, say), CELEBA, say)
    images = celeba()
    why = "no network" if download else "downloads switched off"
    for name, url, fetch in DOWNLOADS if download else ():
        if images is not None or not online(url):
            continue
        say(f"Downloading CelebA (1.4 GB) from {name} ...")
        try:
            fetch()
        except Exception as error:  # quota pages, bad zips, no gdown, HTTP errors, a wrong MD5: try the next one
            why = "CelebA could not be downloaded"
            say(f"  failed: {name}: {(str(error).strip().splitlines() or [type(error).__name__])[0][:160]}")
            continue
        images = celeba()
    if images is not None:
        say(f"Faces: {len(images):,} CelebA images ({image_size}×{image_size}).")
        return Faces(images, CELEBA)
    print(f"Offline ({why}): training on the 100 LFW face crops that scikit-image ships (25×25 grey, upsampled "
          f"to {image_size}×{image_size}, grey copied into 3 channels), not on CelebA.")
    return Faces(lfw_faces(image_size), "LFW crops from scikit-image (offline fallback)", offline=True)
