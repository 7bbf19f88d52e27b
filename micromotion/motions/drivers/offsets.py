"""A driver's motion as offsets — the math every transfer shares, whatever its driver.

The driver's frames are inverted into W+ and smoothed over time (``media.smooth``: a zero-phase
Gaussian, so the inversion's frame-to-frame jitter does not show and nothing lags). Their
offsets from a neutral frame are projected, layer by layer, onto the low-rank subspace robust
PCA finds in them (rank q): the motion lives there, the inversion's noise mostly does not. The
layers that hold most of the projected energy carry the motion (reported; or chosen). The
target then performs it: ``w_target + (scale / 5) · P(w_t − w_neutral)`` on those layers, frame by
frame.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ...errors import OptionError
from ...latents.direction import low_rank
from ...latents.interpolate import check_layers
from ...media.render import check_int, check_number

ENERGY = 0.9  # the default layers hold this share of the projected motion energy
SUBSPACE_FRAMES = 48  # robust PCA sees at most this many evenly spaced frames (its cost grows fast)


@dataclass
class MotionOffsets:
    offsets: torch.Tensor  # [T, L, D]: projected offsets from the neutral frame, 0 off `layers`
    layers: list[int]  # the W+ layers that carry the motion
    energy: list[float]  # [L]: each layer's share of the projected motion energy
    rank: int
    neutral: int


def motion_offsets(latents: torch.Tensor, neutral: int = 0, rank: int = 4,
                   layers: list[int] | None = None, energy: float = ENERGY) -> MotionOffsets:
    """The driver's W+ ``[T, L, D]`` → its motion as offsets from frame ``neutral``, projected
    per layer onto the rank-``rank`` subspace of robust PCA of those offsets (of at most
    ``SUBSPACE_FRAMES`` evenly spaced ones; with two frames — an image and its neutral — the
    offset is its own subspace). ``layers`` None: the fewest layers holding ``energy`` of the
    projected energy."""
    if latents.ndim != 3 or len(latents) < 2:
        raise OptionError(f"a driver needs at least two frames of W+ [T, L, D], got "
                          f"{list(latents.shape)}")
    check_int("neutral frame", neutral, 0, len(latents) - 1)
    check_number("energy", energy, 0.01, 1)
    delta = (latents - latents[neutral]).double()
    if len(latents) == 2:
        projected, q = delta, 1
    else:
        picked = torch.linspace(0, len(delta) - 1, min(len(delta), SUBSPACE_FRAMES)).round()
        # λ = 1/√T, not the usual 1/√max(T, D): with far fewer frames than dimensions that
        # would send much of the motion itself into the sparse part
        _, basis, diag = low_rank(delta[picked.long()], rank, lam=len(picked) ** -0.5)
        coords = torch.einsum("tld,lqd->tlq", delta, basis)
        projected, q = torch.einsum("tlq,lqd->tld", coords, basis), diag["rank"]
    per_layer = projected.pow(2).sum((0, 2))
    share = per_layer / per_layer.sum().clamp_min(1e-30)
    chosen = (select_layers(share, energy) if layers is None
              else check_layers(layers, latents.shape[1]))
    mask = torch.zeros(latents.shape[1], 1, dtype=torch.float64, device=latents.device)
    mask[chosen] = 1
    return MotionOffsets((projected * mask).to(latents.dtype), chosen, share.tolist(), q,
                         neutral)


def select_layers(share: torch.Tensor, energy: float = ENERGY) -> list[int]:
    """The fewest layers whose shares ``[L]`` add up to at least ``energy``, sorted."""
    order = torch.argsort(share, descending=True)
    cumulative = share[order].cumsum(0)
    n = int((cumulative < energy - 1e-9).sum()) + 1
    return sorted(order[:n].tolist())
