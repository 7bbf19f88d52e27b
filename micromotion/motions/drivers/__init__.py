"""What moves the face in a transfer: the registry of drivers. Each driver is one module here
declaring everything the rest needs of it (``base.Driver``: its fields, its check, its frame
count and cost, how it is read and made, the path it gives the photo's face); the request, the
checks, the budget and the use case read ``DRIVERS``. A new driver is one module, its fields in
the request table (``fields.py``) and one line below.

    driver_of(Transfer("me.jpg", "drive.mp4")).key   # "clip"
"""
from __future__ import annotations

from ...errors import OptionError
from ...naming import missing
from . import clip, latents, photos
from .base import Driven, Driver, own
from .offsets import MotionOffsets, motion_offsets, select_layers

DRIVERS: tuple[Driver, ...] = (
    clip.DRIVER,
    photos.DRIVER,
    latents.DRIVER,
)

__all__ = ["DRIVERS", "Driver", "Driven", "MotionOffsets", "driver_of", "motion_offsets",
           "own", "select_layers"]


def driver_of(req) -> Driver:
    """The one driver ``req`` names, with all its inputs (the first is the doors' own)."""
    given = [d for d in DRIVERS if any(not missing(getattr(req, n)) for n in d.fields)]
    first, *others = DRIVERS
    if not given:
        raise OptionError(f"{first.fields[0]} is required: {first.needs} (or, from the CLI "
                          f"and Python, {' or '.join(d.label for d in others)})")
    if len(given) > 1:
        labels = [d.label for d in DRIVERS]
        raise OptionError(f"give one driver: {', '.join(labels[:-1])} or {labels[-1]}, not "
                          f"{' and '.join(d.key for d in given)}")
    absent = [n for n in given[0].fields if missing(getattr(req, n))]
    if absent:
        raise OptionError(f"{absent[0]} is required too: {given[0].needs}")
    return given[0]
