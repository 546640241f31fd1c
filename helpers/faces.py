"""Face images for the DCGAN lesson: one call gets (N, 3, S, S) uint8 faces from the best source.

    faces = load_faces(image_size=64)          # a Faces: .images (N, 3, 64, 64) uint8, .source

Where the faces come from, in this order (each source is a small function below that returns
Faces or raises SourceUnavailable with its cause; a folder you name is the only one tried):
1. a folder of images you name (`folder=`): any layout, searched recursively, no class
   subfolders needed (.jpg .jpeg .png .bmp .webp);
2. CelebA already on disk under data_dir()/celeba (torchvision's layout: the extracted
   img_align_celeba/ folder, or img_align_celeba.zip);
3. torchvision's CelebA download (Google Drive through gdown; often refused for quota);
4. the copy of img_align_celeba.zip at https://graal.ift.ulaval.ca/public/celeba/ (Poutyne's CelebA
   example downloads it), refused unless it matches torchvision's MD5 for that file;
5. offline: the 100 LFW face crops that scikit-image ships (25×25 grey, upsampled, the grey
   copied into 3 channels), with one printed line saying so.

The first use of a source caches its images as a uint8 tensor under data_dir()/faces/ (built in
chunks: an interrupted build resumes; files that are not readable images are skipped and named),
checked by SHA-256 once and by size and mtime after.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from PIL import Image
from skimage.data import lfw_subset
from torch import Tensor
from torchvision.datasets import CelebA

from helpers.download import download, file_digest, online
from helpers.runtime import data_dir
from helpers.training import progress

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
CELEBA_ZIP = "img_align_celeba.zip"
CELEBA_ZIP_MD5 = "00d2c5bc6d35e252742224ab0c1e8fcb"  # torchvision.datasets.CelebA.file_list
CELEBA_MIRROR_URL = "https://graal.ift.ulaval.ca/public/celeba/img_align_celeba.zip"
CELEBA_SOURCE = "CelebA (img_align_celeba)"
LFW_FACES = 100  # skimage.data.lfw_subset(): the first 100 of its 200 images are faces
CHUNK = 2048     # images per cache chunk: the unit an interrupted cache build resumes from
_STAMP = 1       # bump when the cache format or the crop changes


@dataclass
class Faces:
    """Face images as one uint8 tensor (N, 3, S, S), and where they came from."""

    images: Tensor
    source: str
    offline: bool = False

    def __len__(self) -> int:
        return self.images.shape[0]

    def to(self, device: str | torch.device) -> "Faces":
        """The same faces with the uint8 tensor moved to `device` (once, before training)."""
        return Faces(self.images.to(device), self.source, self.offline)

    def __repr__(self) -> str:
        return f"Faces({len(self)} of {tuple(self.images.shape[1:])} uint8 on {self.images.device}, {self.source!r})"


# --- reading images -------------------------------------------------------------------------

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
    _check_size(image_size)
    grey = torch.from_numpy(lfw_subset()[:LFW_FACES]).float()[:, None]  # (100, 1, 25, 25) in [0, 1]
    big = torch.nn.functional.interpolate(grey, size=(image_size, image_size), mode="bicubic", align_corners=False)
    return (big.clamp(0, 1) * 255).round().to(torch.uint8).expand(-1, 3, -1, -1).contiguous()


def center_crop_resize(image, image_size: int) -> np.ndarray:
    """A PIL image -> (S, S, 3) uint8: the PyTorch DCGAN tutorial's Resize(S) + CenterCrop(S)."""
    if image.format == "JPEG":  # let the JPEG decoder skip detail we would throw away anyway
        image.draft("RGB", (2 * image_size, 2 * image_size))
    image = image.convert("RGB")
    w, h = image.size
    scale = image_size / min(w, h)
    new_w, new_h = max(image_size, round(w * scale)), max(image_size, round(h * scale))
    image = image.resize((new_w, new_h), Image.BILINEAR, reducing_gap=None)
    left, top = (new_w - image_size) // 2, (new_h - image_size) // 2
    image = image.crop((left, top, left + image_size, top + image_size))
    return np.asarray(image, dtype=np.uint8)


# --- the uint8 tensor cache -----------------------------------------------------------------

class _ImageList:
    """Images to cache, from a list of files or from the members of a zip file."""

    def __init__(self, names: Sequence[str], opener: Callable[[str], object]) -> None:
        self.names, self.opener = list(names), opener

    @classmethod
    def from_folder(cls, folder: Path) -> "_ImageList":
        files = find_images(folder)
        return cls([str(f) for f in files], lambda name: open(name, "rb"))

    @classmethod
    def from_zip(cls, path: Path) -> "_ImageList":
        archive = zipfile.ZipFile(path)
        names = sorted(n for n in archive.namelist() if n.lower().endswith(IMAGE_EXTENSIONS))
        if not names:
            raise FileNotFoundError(f"no images inside {path}")
        return cls(names, lambda name: archive.open(name))

    def read(self, name: str, image_size: int) -> np.ndarray | None:
        """The image cropped and resized, or None when it is not a readable image (truncated, not one)."""
        try:
            with self.opener(name) as f, Image.open(f) as image:
                return center_crop_resize(image, image_size)
        except (OSError, ValueError, SyntaxError):  # PIL's UnidentifiedImageError is an OSError
            return None


def _cache_paths(key: str, image_size: int) -> tuple[Path, Path, Path]:
    folder = data_dir() / "faces"
    stem = f"{key}_{image_size}"
    return folder / f"{stem}.pt", folder / f"{stem}.json", folder / f"{stem}.parts"


def _listing_digest(names: Sequence[str]) -> str:
    """A SHA-1 of the image files' names and sizes: it changes when a file is added, removed or replaced."""
    entries = [f"{name}\t{Path(name).stat().st_size}" for name in names]
    return hashlib.sha1("\n".join(entries).encode()).hexdigest()


def _stat(path: Path) -> dict[str, int]:
    """What a reuse compares instead of re-hashing: the file's size and modification time (ns)."""
    stat = path.stat()
    return {"bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _write_record(meta_path: Path, meta: dict) -> None:
    tmp_meta = meta_path.with_name(meta_path.name + ".tmp")
    tmp_meta.write_text(json.dumps(meta, indent=2))
    tmp_meta.replace(meta_path)


def _load_cache(key: str, image_size: int, listing: str | None = None) -> Tensor | None:
    """The cached tensor (memory-mapped) if it matches its JSON record; else None (rebuild it).

    The SHA-256 in the record is checked once: the record then keeps the file's size and mtime as
    verified, and a later reuse compares only those. A file whose size or mtime changed is hashed
    again (and its record updated when it still verifies).
    """
    tensor_path, meta_path, _ = _cache_paths(key, image_size)
    if not (tensor_path.is_file() and meta_path.is_file()):
        return None
    try:
        meta = json.loads(meta_path.read_text())
        if not isinstance(meta, dict) or not isinstance(meta.get("sha256"), str):
            raise ValueError("no SHA-256 in it")
    except (ValueError, UnicodeDecodeError) as error:  # json.JSONDecodeError is a ValueError
        print(f"Face cache record {meta_path.name} is unreadable ({error}): rebuilding the cache.")
        return None
    if listing is not None and meta.get("listing") != listing:
        print(f"The images in the folder changed since {tensor_path.name} was built: rebuilding it.")
        return None
    stat = _stat(tensor_path)
    if meta.get("stamp") != _STAMP or meta.get("bytes") != stat["bytes"]:
        print(f"Face cache {tensor_path.name} is incomplete or from an older version: rebuilding it.")
        return None
    if meta.get("verified") != stat:  # new, or changed since its SHA-256 was last checked
        if file_digest(tensor_path, "sha256", show_progress=stat["bytes"] > 200e6) != meta["sha256"]:
            print(f"Face cache {tensor_path.name} does not match its checksum (damaged): rebuilding it.")
            return None
        _write_record(meta_path, {**meta, "verified": stat})
    images = torch.load(tensor_path, map_location="cpu", weights_only=True, mmap=True)
    if tuple(images.shape) != tuple(meta["shape"]) or images.dtype != torch.uint8:
        return None
    return images


def _save_cache(key: str, image_size: int, images: Tensor, source: str, listing: str | None = None) -> Tensor:
    tensor_path, meta_path, _ = _cache_paths(key, image_size)
    tensor_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tensor_path.with_name(tensor_path.name + ".tmp")
    torch.save(images.contiguous(), tmp)
    tmp.replace(tensor_path)
    stat = _stat(tensor_path)
    _write_record(meta_path, {"stamp": _STAMP, "source": source, "shape": list(images.shape),
                              "bytes": stat["bytes"], "sha256": file_digest(tensor_path, "sha256"),
                              "verified": stat, "listing": listing})
    return images


def _load_chunk(path: Path, count: int, image_size: int) -> Tensor | None:
    """A finished chunk of an interrupted build, if it verifies (zip CRCs, shape, dtype); else None."""
    try:
        with zipfile.ZipFile(path) as archive:
            if archive.testzip() is not None:
                return None
        chunk = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # truncated, not a zip, not a tensor: rebuild the chunk
        return None
    good = (isinstance(chunk, Tensor) and chunk.dtype == torch.uint8
            and chunk.shape[0] <= count and tuple(chunk.shape[1:]) == (3, image_size, image_size))
    return chunk if good else None


def _build_cache(key: str, image_size: int, items: _ImageList, source: str,
                 limit: int | None = None, workers: int | None = None, listing: str | None = None) -> Tensor:
    """Decode, crop and resize every image into a uint8 (N, 3, S, S) cache, chunk by chunk.

    Each finished chunk is saved under <key>_<S>.parts/, so an interrupted build (Ctrl-C, a
    Colab disconnect) starts again from the first missing chunk.
    """
    names = items.names[:limit] if limit else items.names
    _, _, parts = _cache_paths(key, image_size)
    parts.mkdir(parents=True, exist_ok=True)
    names_path = parts / "files.json"
    if names_path.exists():
        try:
            same = json.loads(names_path.read_text()) == names
        except (ValueError, UnicodeDecodeError):
            same = False
        if not same:
            shutil.rmtree(parts)  # the images changed since the interrupted build (or the record is damaged)
            parts.mkdir(parents=True)
    names_path.write_text(json.dumps(names))
    chunks = [names[i:i + CHUNK] for i in range(0, len(names), CHUNK)]
    workers = workers or min(8, os.cpu_count() or 1)
    tensors: list[Tensor | None] = []
    for i, chunk in enumerate(chunks):
        chunk_path = parts / f"{i:05d}.pt"
        tensors.append(_load_chunk(chunk_path, len(chunk), image_size) if chunk_path.exists() else None)
        if chunk_path.exists() and tensors[-1] is None:
            print(f"Chunk {chunk_path.name} of the interrupted face cache build is damaged: rebuilding it.")
            chunk_path.unlink()
    done, skipped = sum(t is not None for t in tensors), []
    with progress(total=len(names), initial=min(done * CHUNK, len(names)), unit="img",
              desc=f"caching {image_size}×{image_size} faces") as bar, \
            ThreadPoolExecutor(workers) as pool:
        for i, chunk in enumerate(chunks):
            chunk_path = parts / f"{i:05d}.pt"
            if tensors[i] is not None:
                continue
            arrays = list(pool.map(lambda name: items.read(name, image_size), chunk))
            bar.update(len(chunk))
            skipped += [name for name, array in zip(chunk, arrays) if array is None]
            arrays = [array for array in arrays if array is not None]
            tensor = (torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous() if arrays
                      else torch.empty(0, 3, image_size, image_size, dtype=torch.uint8))
            torch.save(tensor, chunk_path.with_suffix(".tmp"))
            chunk_path.with_suffix(".tmp").replace(chunk_path)
            tensors[i] = tensor
    if skipped:
        print(f"Skipped {len(skipped)} file(s) that are not readable images: {', '.join(skipped[:5])}"
              + (" …" if len(skipped) > 5 else ""))
    images = torch.cat(tensors)
    if len(images) == 0:
        shutil.rmtree(parts)
        raise ValueError(f"none of the {len(names)} files from {source} is a readable image "
                         f"(e.g. {', '.join(names[:3])}): expected JPEG, PNG, BMP or WebP images")
    _save_cache(key, image_size, images, source, listing)
    shutil.rmtree(parts)
    return images


def _check_size(image_size: int) -> None:
    if not isinstance(image_size, int) or isinstance(image_size, bool) or not 8 <= image_size <= 512:
        raise ValueError(f"image_size must be an int between 8 and 512 (64 for DCGAN), got {image_size!r}")


def _folder_key(folder: Path) -> str:
    return "folder-" + hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:10]


# --- where the faces come from: an ordered list of sources ----------------------------------

class Unavailable(Enum):
    """Why a source of faces gave none."""

    ABSENT = "not on disk"
    SWITCHED_OFF = "downloads switched off"
    OFFLINE = "no network"
    FAILED = "the download failed"


class SourceUnavailable(Exception):
    """A source of faces has none to give: `cause` (an Unavailable) says why, `reason` in words."""

    def __init__(self, cause: Unavailable, reason: str) -> None:
        super().__init__(reason)
        self.cause, self.reason = cause, reason


@dataclass(frozen=True)
class _Request:
    """What load_faces was asked for, handed to each source in turn."""

    image_size: int
    limit: int | None
    download: bool
    say: Callable[..., None]
    folder: Path | None = None


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return (lines[0] if lines else type(error).__name__)[:160]


def _from_folder(request: _Request) -> Faces:
    """1. The folder you name (cached on first use). Its errors are yours to see: no fallback."""
    folder, limit, image_size = request.folder, request.limit, request.image_size
    key = _folder_key(folder) + (f"-first{limit}" if limit else "")
    items = _ImageList.from_folder(folder)
    listing = _listing_digest(items.names[:limit] if limit else items.names)
    images = _load_cache(key, image_size, listing)
    if images is None:
        request.say(f"Caching the images under {folder} as {image_size}×{image_size} uint8 (once; reused after).")
        images = _build_cache(key, image_size, items, str(folder), limit, listing=listing)
    request.say(f"Faces: {len(images):,} images from {folder} ({image_size}×{image_size}).")
    return Faces(images, f"your folder {folder}")


def _celeba_key(limit: int | None) -> str:
    return "celeba" + (f"-first{limit}" if limit else "")


def _cache_celeba(request: _Request, items: _ImageList) -> Faces:
    """CelebA's images (a folder or the zip) -> its uint8 tensor cache, built once."""
    size = request.image_size
    request.say(f"Caching CelebA as {size}×{size} uint8 (once, a few minutes; reused after).")
    images = _build_cache(_celeba_key(request.limit), size, items, CELEBA_SOURCE, request.limit)
    request.say(f"Faces: {len(images):,} CelebA images ({size}×{size}).")
    return Faces(images, CELEBA_SOURCE)


def _celeba_on_disk(request: _Request) -> Faces:
    """2. CelebA already here: its tensor cache, else torchvision's extracted img_align_celeba/ or the zip."""
    images = _load_cache(_celeba_key(request.limit), request.image_size)
    if images is not None:
        request.say(f"Faces: {len(images):,} CelebA images from the cache in {data_dir() / 'faces'}.")
        return Faces(images, CELEBA_SOURCE)
    celeba = data_dir() / "celeba"
    extracted, archive = celeba / "img_align_celeba", celeba / CELEBA_ZIP
    if extracted.is_dir() and any(extracted.iterdir()):
        return _cache_celeba(request, _ImageList.from_folder(extracted))
    if not archive.is_file():
        raise SourceUnavailable(Unavailable.ABSENT, f"no CelebA under {celeba}")
    if file_digest(archive, "md5", show_progress=True) != CELEBA_ZIP_MD5:
        # not the zip, e.g. a "quota exceeded" page saved under its name
        archive.replace(archive.with_name(archive.name + ".bad"))
        request.say(f"  {archive} is not the CelebA zip (wrong MD5); moved aside to {archive.name}.bad")
        raise SourceUnavailable(Unavailable.ABSENT, f"{archive} is not the CelebA zip (wrong MD5)")
    return _cache_celeba(request, _ImageList.from_zip(archive))


def _may_download(request: _Request, url: str) -> None:
    """Raise SourceUnavailable unless downloads are on and the host of `url` answers."""
    if not request.download:
        raise SourceUnavailable(Unavailable.SWITCHED_OFF, "downloads were switched off")
    if not online(url):
        host = url.split("/")[2]
        raise SourceUnavailable(Unavailable.OFFLINE, f"cannot reach {host} (offline?)")


def _celeba_from_torchvision(request: _Request) -> Faces:
    """3. torchvision's own CelebA download (Google Drive, through gdown; checks torchvision's MD5s)."""
    name = "torchvision's CelebA (Google Drive)"
    _may_download(request, "https://drive.google.com")
    request.say(f"Downloading CelebA (1.4 GB) from {name} ...")
    try:
        CelebA(str(data_dir()), split="all", target_type=[], download=True)
    except Exception as error:  # quota pages, bad zips, no gdown: try the next source
        raise SourceUnavailable(Unavailable.FAILED, f"{name}: {_first_line(error)}") from error
    return _cache_celeba(request, _ImageList.from_folder(data_dir() / "celeba" / "img_align_celeba"))


def _celeba_from_mirror(request: _Request) -> Faces:
    """4. The same img_align_celeba.zip from the GRAAL lab's server, checked against torchvision's MD5."""
    name = "the GRAAL mirror (Université Laval)"
    _may_download(request, CELEBA_MIRROR_URL)
    archive = data_dir() / "celeba" / CELEBA_ZIP
    request.say(f"Downloading CelebA (1.4 GB) from {name} ...")
    try:
        download(CELEBA_MIRROR_URL, archive, md5=CELEBA_ZIP_MD5)
    except Exception as error:  # an HTTP error, a wrong MD5, a dropped connection
        raise SourceUnavailable(Unavailable.FAILED, f"{name}: {_first_line(error)}") from error
    return _cache_celeba(request, _ImageList.from_zip(archive))


CELEBA_SOURCES: tuple[Callable[[_Request], Faces], ...] = (
    _celeba_on_disk, _celeba_from_torchvision, _celeba_from_mirror)


def _offline_reason(failures: Sequence[SourceUnavailable]) -> str:
    """The words in the fallback line, from why each download source gave nothing."""
    causes = {failure.cause for failure in failures} - {Unavailable.ABSENT}
    if Unavailable.SWITCHED_OFF in causes:
        return "downloads switched off"
    return "no network" if causes == {Unavailable.OFFLINE} else "CelebA could not be downloaded"


def load_faces(image_size: int = 64, folder: str | Path | None = None, download: bool = True,
               limit: int | None = None, fallback: bool = True, verbose: bool = True) -> Faces:
    """Faces as uint8 (N, 3, S, S): from `folder`, else CelebA (cached, or downloaded), else offline LFW.

    `limit` keeps the first `limit` images (a quicker first cache). `download=False` uses only
    what is already on disk. `fallback=False` raises instead of using the offline LFW faces.
    """
    _check_size(image_size)
    if limit is not None and (not isinstance(limit, int) or limit <= 0):
        raise ValueError(f"limit must be a positive int or None, got {limit!r}")
    say = print if verbose else (lambda *a, **k: None)
    request = _Request(image_size, limit, download, say, Path(folder).expanduser() if folder else None)
    sources = (_from_folder,) if folder else CELEBA_SOURCES  # a folder you name is the only source
    failures: list[SourceUnavailable] = []
    for source in sources:
        try:
            return source(request)
        except SourceUnavailable as unavailable:
            failures.append(unavailable)
            if unavailable.cause is Unavailable.FAILED:
                say(f"  failed: {unavailable.reason}")
    if not fallback:
        raise FileNotFoundError("no CelebA on disk and none could be downloaded: "
                                + "; ".join(failure.reason for failure in failures))
    # 5. offline: scikit-image's LFW crops, said in one line
    print(f"Offline ({_offline_reason(failures)}): training on the 100 LFW face crops that scikit-image "
          f"ships (25×25 grey, upsampled to {image_size}×{image_size}, grey copied into 3 channels), "
          f"not on CelebA.")
    return Faces(lfw_faces(image_size), "LFW crops from scikit-image (offline fallback)", offline=True)
