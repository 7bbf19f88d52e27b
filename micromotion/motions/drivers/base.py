"""What a transfer's driver declares: everything the request, the checks, the budget and the
use case need of it, in one place. Each driver is one module of this package ending in
``DRIVER = Driver(...)``; ``drivers.DRIVERS`` lists them, and everything else reads that list.
Like a motion (``motions.base.Motion``), a driver checks itself cheaply (``check``: before any
model loads), reads what it needs without a slow model (``ready``: a clip's faces, so a bad
driver fails before the photo is inverted) and then makes its W+ (``make``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from ...fields import FIELDS


@dataclass
class Driven:
    """A driver made: its W+ and how to say it."""
    latents: torch.Tensor  # [T, L, D]: the driver's frames (two photos: at rest, mid-motion)
    neutral: int  # the frame at rest: the motion is each frame's offset from it
    fps: float  # the video's rate
    words: str  # the driver in words: "drive.mp4", "rest.jpg to laughing.jpg"
    notes: list[str] = field(default_factory=list)  # what was chosen for the user


def own(scale: float) -> float:
    """A transfer's ``scale`` as a multiple of the driver's own motion (``scale``'s default)."""
    return scale / FIELDS["scale"].default


def at_its_timing(req, w: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """One output frame per driver frame: ``w [1, L, D]`` + (scale / 5) · ``offsets
    [T, L, D]`` → W+ ``[T, L, D]``."""
    return w + own(req.scale) * offsets


Cost = tuple  # (what, seconds on this machine[, how to ask less]): ``budget.Cost.add``'s


@dataclass(frozen=True)
class Driver:
    """One driver of a transfer.

    ``key``: its one word; ``label``: it in words naming its inputs, for the one-driver check
    ("a clip (driving_video)"); ``needs``: what it takes, said when one of its inputs is
    missing; ``fields``: the request's inputs it reads, all given together, the first the one
    that names it; ``types``: their Python types where the API takes more than the doors'
    text; ``ignores``: the transfer's inputs it does not read, and why (a note says so when
    one is set); ``check(req, shape)``: raise the user's error where it cannot drive (cheap;
    ``shape`` the generator's W+ (n_latent, style_dim) where known); ``frames(req)``: the
    video's frame count, from headers alone; ``costs(req, unit)``: the slow work it asks
    (``budget.Rates``); ``ready(models, req, run)``: what it reads without a slow model;
    ``make(models, req, ready, run)``: its ``Driven``; ``path(req, w, offsets)``: the
    target's W+ path from the projected offsets."""
    key: str
    label: str
    needs: str
    fields: tuple[str, ...]
    frames: Callable[[Any], int]
    ready: Callable[..., Any]
    make: Callable[..., Driven]
    check: Callable[..., None] = lambda req, shape=None: None
    costs: Callable[[Any, Any], list[Cost]] = lambda req, unit: []
    path: Callable[[Any, torch.Tensor, torch.Tensor], torch.Tensor] = at_its_timing
    types: dict[str, str] = field(default_factory=dict)
    ignores: tuple[tuple[str, ...], str] = ((), "")
