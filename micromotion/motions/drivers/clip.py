"""A clip of one face moving drives the transfer at its timing: each of its frames (read at
``fps``, None: its own rate) tracked, inverted once — warm, in time order, as an edited clip's
frames are (``warm.invert_in_order``) — and smoothed over time; the photo's face makes one
output frame for each."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import torch

from ...errors import VideoError
from ...fields import FIELDS, MAX_FRAMES
from ...media.preview import show_faces
from ...media.render import check_int
from ...media.header import header
from ...media.video import Clip, probe, read_frames
from ...naming import display_name
from ...nets.encoders import Encoder
from ...nets.encoders.warm import invert_in_order
from ...nets.models import Models
from ...precision import FP32, Precision
from ...run import Run
from ..anchors import TrackedFaces, track_faces
from .base import Driven, Driver
from ...media.smooth import smooth


@dataclass
class DriverFaces:
    """A driving clip's distinct frames with its one face tracked, and where each frame of the
    clip shows (``slot``: a frame read twice, the clip read faster than it runs, is one)."""
    faces: TrackedFaces
    slot: list[int]  # per clip frame: the first frame showing the same picture
    times: list[float]  # per clip frame: its time in the clip
    name: str = ""  # the clip, as its door names it
    fps: float = 30.0  # the rate its frames were read at
    native_fps: float = 30.0  # its own rate


def driver_faces(clip: Clip, size: int,
                 progress: Callable[[str, int, int], None] | None = None) -> DriverFaces:
    """The driving clip's face found and aligned at ``size`` px in each distinct frame — no
    model but the face detector, so a clip without one face fails before any inversion.
    Several people in most frames is an error."""
    first = {}  # each distinct frame → the first place it shows
    slot = [first.setdefault(id(f), k) for k, f in enumerate(clip.frames)]
    distinct = sorted(set(slot))
    faces = track_faces(dataclasses.replace(
        clip, frames=[clip.frames[k] for k in distinct],
        indices=[clip.indices[k] for k in distinct]), size,
        lambda i, n: progress("clip faces", i, n) if progress else None)
    people = [f.people for f in faces.faces]
    crowded = sum(n > 1 for n in people)
    if 2 * crowded > len(people):
        raise VideoError(f"{clip.name} shows several people ({max(people)} faces in "
                         f"{crowded} of {len(people)} frames); the driver must be one "
                         f"person: crop the clip to one face")
    return DriverFaces(faces, slot, clip.times, clip.name, clip.fps, clip.native_fps)


def driver_latents(encoder: Encoder, driver: DriverFaces, precision: Precision = FP32,
                   progress: Callable[[str, int, int], None] | None = None
                   ) -> tuple[torch.Tensor, list[str]]:
    """W+ ``[T, L, D]`` of every frame of the driving clip (``driver_faces``), each distinct
    frame inverted once, warm from the frame before it (a driver is a clip's neighbouring
    frames, as an edit's are: five refinements from the average face for each were 21 of a
    300-frame driver's 22 min on a 2-core Zen 3); a frame without the face holds the nearest
    frame that has one."""
    tracked = driver.faces
    total = len(tracked.faces)
    latents = invert_in_order(
        encoder, [f.image for f in tracked.faces], precision=precision,
        progress=(lambda done: progress("clip inversion", done, total)) if progress else None)
    kept = torch.tensor(tracked.times, dtype=torch.float64)
    nearest = [int((kept - driver.times[k]).abs().argmin()) for k in driver.slot]
    return latents[nearest], list(tracked.notes)


def _check(req, shape=None) -> None:
    probe(req.driving_video, display_name(req, "driving_video"))


def _frames(req) -> int:
    """The video's frames, from the clip's header: its length at the rate it is read."""
    head = header(req.driving_video, display_name(req, "driving_video"))
    rate = req.fps or min(head.rate or 30.0, 30.0)
    return MAX_FRAMES if head.seconds is None else min(MAX_FRAMES, int(head.seconds * rate) + 1)


def _ready(models: Models, req, run: Run) -> DriverFaces:
    """The clip's frames read and its face tracked (and shown): no inversion yet."""
    name = display_name(req, "driving_video")
    clip = read_frames(req.driving_video, req.fps, FIELDS["frames"].hi, name=name)
    check_int("neutral_frame", req.neutral_frame, 0, len(clip.frames) - 1)
    driver = driver_faces(clip, models.encoder.input_size, run.report)
    show_faces(run.preview, "driver", [f.image for f in driver.faces.faces],
               driver.faces.times, name)
    return driver


def _make(models: Models, req, driver: DriverFaces, run: Run) -> Driven:
    latents, notes = driver_latents(models.encoder, driver, run.precision, run.report)
    if abs(driver.native_fps / driver.fps - 1) > 0.01:
        notes.append(f"{driver.name} runs at {driver.native_fps:.3g} fps; its frames were "
                     f"taken at {driver.fps:.3g} fps, so its timing is kept")
    return Driven(smooth(latents, req.smoothing), req.neutral_frame, driver.fps, driver.name,
                  notes)


DRIVER = Driver(
    "clip", "a clip (driving_video)", "a clip of one face moving", ("driving_video",),
    frames=_frames, ready=_ready, make=_make, check=_check,
    costs=lambda req, unit: [("inverting the driving clip's frames",
                              unit.in_order(_frames(req)),
                              "use a shorter driving clip or a lower fps")],
    types={"driving_video": "str | os.PathLike | None"},
    ignores=(("frames", "curve"), "a driving clip gives its own"))
