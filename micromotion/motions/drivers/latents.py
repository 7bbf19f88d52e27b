"""W+ latents drive the transfer, from Python (e.g. planted or edited ones): ``[T, L, D]``,
one output frame each at ``fps`` (None: 30), smoothed over time as a clip's are."""
from __future__ import annotations

import torch

from ...errors import OptionError
from ...fields import MAX_FRAMES
from ...media.render import check_int
from ...nets.models import Models
from ...run import Run
from .base import Driven, Driver
from ...media.smooth import smooth


def _check(req, shape: tuple[int, int] | None = None) -> None:
    lat = req.driving_latents
    ok = (isinstance(lat, torch.Tensor) and lat.ndim == 3 and 2 <= len(lat) <= MAX_FRAMES
          and lat.is_floating_point() and (shape is None or tuple(lat.shape[1:]) == shape))
    if not ok:
        want = "[T, L, D]" if shape is None else f"[T, {shape[0]}, {shape[1]}]"
        got = list(lat.shape) if isinstance(lat, torch.Tensor) else type(lat).__name__
        raise OptionError(f"driving_latents must be W+ {want} of floats with T from 2 to "
                          f"{MAX_FRAMES}, got {got}")
    if not torch.isfinite(lat).all():
        raise OptionError("driving_latents must be finite numbers; they hold NaN or infinity")
    check_int("neutral_frame", req.neutral_frame, 0, len(lat) - 1)


def _make(models: Models, req, ready: None, run: Run) -> Driven:
    latents = req.driving_latents.to(models.device, torch.float32)
    return Driven(smooth(latents, req.smoothing), req.neutral_frame, req.fps or 30,
                  "the given latents")


DRIVER = Driver(
    "latents", "latents (driving_latents)", "W+ latents [T, L, D], one frame each",
    ("driving_latents",), frames=lambda req: len(req.driving_latents),
    ready=lambda models, req, run: None, make=_make, check=_check,
    types={"driving_latents": "torch.Tensor | None"},
    ignores=(("frames", "curve"), "latents give one frame each"))
