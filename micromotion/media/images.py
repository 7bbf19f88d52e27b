"""Reading user images into RGB PIL images, sturdily.

EXIF orientation is applied; RGBA/LA/P images are composited over white; 16-bit and float
images are scaled to 8 bits; CMYK is converted; an animated image gives its first frame (said
in the notes). Oversized images (decompression bombs included) and undecodable or truncated
files raise one clear error each.
"""
from __future__ import annotations

import io
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import ImageTooLargeError, ImageTooSmallError, NotAnImageError

MAX_PIXELS = 64_000_000  # 64 MP: above any phone photo, far below a decompression bomb
MIN_SIDE = 16

ImageSource = Union[str, os.PathLike, bytes, BinaryIO, Image.Image, np.ndarray]


@dataclass
class LoadedImage:
    image: Image.Image  # RGB, upright
    name: str
    notes: list[str] = field(default_factory=list)


def load_image(source: ImageSource, name: str | None = None) -> LoadedImage:
    """Any of a path, bytes, a binary file, a PIL image or a ``uint8 [H, W, 3]`` array → RGB."""
    name = name or (str(source) if isinstance(source, (str, os.PathLike)) else "the image")
    if isinstance(source, np.ndarray):
        img = _from_array(source, name)
    elif isinstance(source, Image.Image):
        img = source
    else:
        img = _open(source, name)
    notes: list[str] = []
    n_frames = getattr(img, "n_frames", 1)
    if n_frames > 1:
        img.seek(0)
        notes.append(f"{name} is animated ({n_frames} frames); the first frame was used")
    _check_size(img, name)
    try:
        img.load()
        img = ImageOps.exif_transpose(img) or img
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise NotAnImageError(f"{name} could not be decoded: the file is truncated or "
                              f"corrupt; save or export it again") from exc
    return LoadedImage(_to_rgb(img), name, notes)


def image_size(source: ImageSource) -> tuple[int, int]:
    """(width, height) of a photo that ``load_image`` has taken, read from its header alone."""
    if isinstance(source, np.ndarray):
        return source.shape[1], source.shape[0]
    if isinstance(source, Image.Image):
        return source.size
    at = source.tell() if hasattr(source, "seek") else None
    try:
        with _open(source, "the photo") as img:
            return img.size
    finally:
        if at is not None:
            source.seek(at)  # a stream is read again from where it was


def _open(source, name: str) -> Image.Image:
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    elif isinstance(source, (str, os.PathLike)) and not Path(source).is_file():
        raise NotAnImageError(f"{name} does not exist (or is not a file)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(source)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # PIL refuses before decoding, above its own limit (beyond ours); it says the size
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        size = f" ({int(pixels[1]) / 1e6:,.0f} megapixels)" if pixels else ""
        raise ImageTooLargeError(f"{name} is too large{size}; the limit is "
                                 f"{MAX_PIXELS // 1_000_000} megapixels: downscale it "
                                 f"first") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        # PIL says ValueError for a PNG text-chunk bomb, SyntaxError or EOFError for some
        # broken headers: all of them the same sentence
        raise NotAnImageError(f"{name} is not an image file we can read (JPEG, PNG, WebP, "
                              f"GIF, BMP, TIFF …)") from exc


def _check_size(img: Image.Image, name: str) -> None:
    w, h = img.size
    if w * h > MAX_PIXELS:
        raise ImageTooLargeError(f"{name} is {w}×{h} ({w * h / 1e6:.0f} megapixels); the limit is "
                                 f"{MAX_PIXELS // 1_000_000} megapixels: downscale it first")
    if min(w, h) < MIN_SIDE:
        raise ImageTooSmallError(f"{name} is only {w}×{h} pixels; use a photo where the face is "
                                 f"at least ~100 pixels across")


def _from_array(a: np.ndarray, name: str) -> Image.Image:
    if a.dtype != np.uint8 or a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise NotAnImageError(f"{name} must be a uint8 array [H, W], [H, W, 3] or [H, W, 4], "
                              f"got {a.dtype} {list(a.shape)}")
    return Image.fromarray(a)


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") else max(float(a.max()), 255.0)
        img = Image.fromarray(np.clip(a * (255.0 / top), 0, 255).round().astype(np.uint8))
    if img.mode == "P" or img.mode == "PA":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "La", "RGBa"):
        # transparent pixels become white, the usual background of a cut-out portrait
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return img.convert("RGB")
