"""From generator output to pixels."""
from __future__ import annotations

import numpy as np
import torch


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """images ``[N, 3, H, W]`` float in [-1, 1] → ``uint8 [N, H, W, 3]``.

    Values are clamped to [-1, 1] and mapped linearly, never min-max normalised per image
    (which makes videos flicker)."""
    x = (images.detach().float().clamp(-1, 1) + 1) * 127.5
    return x.round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
