"""Smoothing over time, for anything that moves frame by frame: W+ latents (the inversion's
jitter), a face's crop in a clip (the detector's jitter). Zero-phase, so nothing lags."""
from __future__ import annotations

import math

import torch

from ..fields import FIELDS

SMOOTH_SIGMA = 1.0  # frames: removes the inversion's jitter, keeps a blink (≈ 5 frames at 30 fps)


def smooth(values: torch.Tensor, sigma: float = SMOOTH_SIGMA) -> torch.Tensor:
    """A zero-phase Gaussian filter over time: ``[T, ...]`` → ``[T, ...]``, σ in frames, the
    kernel cut at ±3σ, the first and last frames repeated past the ends; σ = 0 changes nothing."""
    FIELDS["smoothing"].check(sigma)
    if sigma == 0 or len(values) < 2:
        return values
    r = math.ceil(3 * sigma)
    k = torch.exp(-torch.arange(-r, r + 1, dtype=torch.float64) ** 2 / (2 * sigma ** 2))
    k = (k / k.sum()).to(values.dtype)
    padded = torch.cat([values[:1].expand(r, *values.shape[1:]), values,
                        values[-1:].expand(r, *values.shape[1:])])
    t = len(values)
    return sum(k[j] * padded[j:j + t] for j in range(2 * r + 1))
