"""Two photos of one face drive the transfer: at rest (``neutral_image``) and mid-motion
(``driving_image``). The motion is the second's offset from the first, played on the photo's
face over ``frames`` frames along ``curve``, like a preset."""
from __future__ import annotations

from ...media.align import AlignedFace, align_face
from ...media.images import load_image
from ...media.render import latent_path
from ...naming import display_name
from ...nets.models import Models
from ...run import Run
from .base import Driven, Driver, own

PHOTOS = ("neutral_image", "driving_image")


def _check(req, shape=None) -> None:
    for n in PHOTOS:
        load_image(getattr(req, n), display_name(req, n))


def _ready(models: Models, req, run: Run) -> list[AlignedFace]:
    """Both faces found and aligned: a photo without one fails before any inversion."""
    return [align_face(getattr(req, n), models.encoder.input_size, name=display_name(req, n))
            for n in PHOTOS]


def _make(models: Models, req, faces: list[AlignedFace], run: Run) -> Driven:
    """Both inverted in one batch: W+ ``[2, L, D]``, at rest then mid-motion."""
    x = models.encoder.preprocess([f.image for f in faces])
    w = models.encoder.invert(x, precision=run.precision, progress=run.steps("invert"))
    rest, moving = (display_name(req, n) for n in PHOTOS)
    return Driven(w, 0, req.fps or 30, f"{rest} to {moving}")


def _path(req, w, offsets):
    """The photo's face moved along ``curve`` over ``frames`` frames by the driving photo's
    offset ``offsets[1]`` at ``scale``."""
    return latent_path(w, offsets[1], own(req.scale), req.frames, req.curve)


DRIVER = Driver(
    "photos", "two photos (neutral_image and driving_image)",
    "two photos of the driver, at rest (neutral_image) and mid-motion (driving_image)", PHOTOS,
    frames=lambda req: req.frames, ready=_ready, make=_make, check=_check, path=_path,
    costs=lambda req, unit: [("inverting the photos", 2 * unit.inversion)],
    types=dict.fromkeys(PHOTOS, "ImageSource | None"),
    ignores=(("neutral_frame", "smoothing"), "two photos have no frames to choose or smooth"))
