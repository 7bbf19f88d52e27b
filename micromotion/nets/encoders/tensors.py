"""Aligned faces as an encoder's input: ``[N, 3, S, S]`` in [-1, 1], and its check."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from PIL import Image


def to_tensor(images: Sequence[Image.Image] | Image.Image, size: int = 256) -> torch.Tensor:
    """Aligned PIL faces → ``[N, 3, size, size]`` in [-1, 1]: bilinear resize (aspect not
    kept, as the encoders were trained), then (x/255 − 0.5)/0.5."""
    images = [images] if isinstance(images, Image.Image) else list(images)
    arrays = [np.asarray(im.convert("RGB").resize((size, size), Image.BILINEAR), np.float32)
              for im in images]
    x = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)
    return (x / 255.0 - 0.5) / 0.5  # ToTensor, then Normalize(0.5, 0.5), in that order


def check_images(images, size: int) -> None:
    """``images`` is ``[N ≥ 1, 3, size, size]``, or a ``ValueError`` saying what it is."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 3 \
            or tuple(images.shape[2:]) != (size, size) or images.shape[0] == 0:
        got = list(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a tensor [N, 3, {size}, {size}] in [-1, 1], got {got}")
