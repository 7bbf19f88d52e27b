"""What every motion is: it checks itself cheaply (``check``: before any model loads), reads
what it needs without a slow model (``ready``: a clip's faces, so a bad clip fails before the
photo is inverted) and makes its direction (``make``: after the photo is inverted, so a photo
without a face fails in seconds, not after a text optimisation). The kinds live one per source
module beside this one.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch

from ..latents.direction import Direction, direction_from_anchors
from ..nets.models import Models
from ..latents.provenance import Fit
from ..run import QUIET, Run

Anchored = tuple[Direction, np.ndarray | None]  # the direction, and the anchor images if any


class Motion:
    """One motion a request names (a preset, a file, words, a clip)."""

    def check(self, shape: tuple[int, int] | None = None) -> None:
        """Raise the user's error where the motion cannot be made (no model needed;
        ``shape``: the generator's W+ (n_latent, style_dim) where known)."""

    def ready(self, models: Models, run: Run = QUIET) -> "Motion":
        """The motion with its inputs read and checked where that needs no slow model (a
        clip's faces found, and shown to the run's preview), so it fails before the photo is
        inverted; most need nothing."""
        return self

    def make(self, models: Models, run: Run = QUIET) -> Anchored:
        """Its direction ``[L, D]`` and the anchor images it was made from, if any."""
        raise NotImplementedError

    def costs(self, unit: Any) -> list[tuple[str, float, str]]:
        """The slow work making it asks, in seconds on this machine (``unit``: the
        ``budget.Rates``): (what, seconds, how to ask less) each; most ask none."""
        return []


def from_anchors(models: Models, latents: torch.Tensor, rank: int, run: Run,
                 made: Callable[[Fit], Any]) -> Direction:
    """The direction of the anchors ``[K, L, D]`` (robust PCA at ``rank``), its provenance
    ``made(fit)``."""
    run.report("direction", 0, 1)
    vector, diag = direction_from_anchors(latents, rank)
    run.report("direction", 1, 1)
    fit = Fit(int(latents.shape[0]), diag["rank"], diag["explained_energy"],
              diag["sparse_energy"])
    return models.checked(Direction(vector, made(fit)))


def distinct(motions: Sequence[Motion]) -> tuple[list[Motion], list[int]]:
    """``motions`` with repeats left out (in order), and for each of ``motions`` the index of
    its own among them: identical cues make their anchors once."""
    out: list[Motion] = []
    which: list[int] = []
    for m in motions:
        k = next((k for k, seen in enumerate(out) if _same(m, seen)), None)
        if k is None:
            k = len(out)
            out.append(m)
        which.append(k)
    return out, which


def _same(a: Motion, b: Motion) -> bool:
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except (RuntimeError, TypeError, ValueError):  # tensors inside: equal only as one object
        return False
