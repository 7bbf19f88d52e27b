"""The three requests the product serves — animate a photo, transfer a clip's motion, make a
latent video — as dataclasses whose fields, defaults and limits are ``fields.FIELDS``, and what
a request names: its motions (``request_motions``), a transfer's driver (``driver``), how
messages call its files (``display_name``). ``checks.check_request`` checks one, once.

    req = checks.check_request(Animate(image="me.jpg", micromotion="smile", scale=5))
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch

from .errors import OptionError
from .fields import FIELDS, PRESETS
from .images import ImageSource
from .motions import DirectionFile, Motion, Preset, TextMotion, VideoMotion
from .timeline import Cue


def _d(name: str) -> Any:
    return field(default=FIELDS[name].default)


@dataclass(kw_only=True)
class Request:
    """What every request takes, by keyword (after each kind's own fields): how the video is
    rendered and how faithfully, and what its door knows of it."""
    output_size: int = _d("output_size")
    dtype: str = _d("dtype")
    fidelity: str = _d("fidelity")
    names: dict[str, str] = field(default_factory=dict)  # file fields → what the user called them
    server_files: bool = True  # False at the network doors: no input names a server's file
    # set by ``check_request`` alone (not an argument, and a ``dataclasses.replace`` copy
    # starts unchecked): a checked request is never checked again
    checked: bool = field(default=False, init=False, repr=False, compare=False)


@dataclass
class Animate(Request):
    """The photo's face performs one motion: a preset, a direction file, words
    (``text_template``), a clip (``anchor_video``) or a ``timeline`` of cues — one of them."""
    image: ImageSource | None = None
    micromotion: str = _d("micromotion")
    scale: int = _d("scale")
    text_template: str = _d("text_template")
    anchor_seed: int = _d("anchor_seed")
    anchor_video: str | os.PathLike | None = None
    direction_file: Any = None  # a file, or a ``Direction`` / ``[L, D]`` tensor (Python API)
    timeline: str | Sequence[Cue] = _d("timeline")
    frames: int = _d("frames")
    fps: int = _d("fps")
    curve: str = _d("curve")
    side_by_side: bool = _d("side_by_side")
    paste_back: str = _d("paste_back")
    degrees: str | Sequence[str] = _d("degrees")
    steps: int = _d("steps")
    loss_res: int = _d("loss_res")
    anchor_frames: int = _d("anchor_frames")
    rank: int = _d("rank")


@dataclass
class Transfer(Request):
    """The photo's face performs a driver's motion; the driver is one of three: a clip
    (``driving_video``, at its timing), two photos of one face (``neutral_image`` at rest,
    ``driving_image`` mid-motion, along ``curve``), or W+ latents ``[T, L, D]`` from Python
    (``driving_latents``, one frame each)."""
    image: ImageSource | None = None
    driving_video: str | os.PathLike | None = None
    strength: float = _d("strength")
    neutral_frame: int = _d("neutral_frame")
    neutral_image: ImageSource | None = None
    driving_image: ImageSource | None = None
    driving_latents: torch.Tensor | None = None
    fps: int | None = None  # None: the clip's own rate
    side_by_side: bool = _d("side_by_side")
    paste_back: str = _d("paste_back")
    rank: int = _d("rank")
    layers: str | Sequence[int] = _d("layers")
    smoothing: float = _d("smoothing")
    frames: int = _d("frames")  # with neutral_image
    curve: str = _d("curve")  # with neutral_image


@dataclass
class LatentVideo(Request):
    """A video that needs no motion: a walk through keyframes (seeds, and photos before them),
    coarse or fine style mixing of a held face, or an equal-step circle around a centre. The
    photo, if any, is the walk's first keyframe, else the held face or the circle's centre."""
    mode: str = "walk"
    image: ImageSource | None = None
    photos: Sequence[ImageSource] = ()  # more walk keyframes, after ``image``
    seeds: str | Sequence[int] = _d("seeds")
    interpolation: str = _d("interpolation")
    frames_per_segment: int = _d("frames_per_segment")
    loop: bool = _d("loop")
    source_seed: int = _d("source_seed")
    radius: float = _d("radius")
    frames: int = _d("frames")
    truncation: float = _d("truncation")
    fps: int = _d("fps")
    layers: str | Sequence[int] = _d("layers")
    measure_res: int = _d("measure_res")


def display_name(req, name: str, value: Any = None) -> str:
    """How messages call the file in field ``name``: the name the door gave, else the file's
    own name (never its folder), else the field's role ("the photo")."""
    value = getattr(req, name) if value is None else value
    if name in req.names:
        return req.names[name]
    if isinstance(value, (str, os.PathLike)) and str(value):
        return Path(value).name
    return FIELDS[name].role


def missing(value) -> bool:
    return value is None or (isinstance(value, (str, os.PathLike)) and not str(value))


SOURCES = ("text_template", "anchor_video", "direction_file", "timeline")  # an animation's motion


def given_sources(req: Animate) -> list[str]:
    """The motion sources ``req`` names (``SOURCES`` not None, not blank text, not an empty list
    of cues); none means the preset ``micromotion``."""
    return [n for n in SOURCES if _given(getattr(req, n))]


def _given(value) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None and not (isinstance(value, (list, tuple)) and not value)


def request_motions(req: Animate) -> list[Motion]:
    """The motions ``req`` names (its fields checked): one per cue of a timeline, else its one
    source — words, a clip, a direction file, else the preset ``micromotion``."""
    if req.timeline:
        return [cue_motion(req, cue.motion) for cue in req.timeline]
    if req.text_template.strip():
        return [_text(req, req.text_template)]
    if req.anchor_video:
        return [VideoMotion(req.anchor_video, req.anchor_frames, req.rank,
                            display_name(req, "anchor_video"))]
    if req.direction_file is not None:
        return [DirectionFile(req.direction_file, display_name(req, "direction_file"))]
    return [Preset(req.micromotion)]


def cue_motion(req: Animate, motion: Any) -> Motion:
    """A cue's motion: ``text:TEMPLATE``, ``video:CLIP``, a preset name, a direction file, or
    (from Python) a ``Motion``, ``Direction`` or tensor."""
    if isinstance(motion, (Preset, DirectionFile, TextMotion, VideoMotion)):
        return motion
    if isinstance(motion, str) and motion.startswith(("text:", "video:")):
        kind, _, value = motion.partition(":")
        value = value.strip()
        return _text(req, value) if kind == "text" else \
            VideoMotion(value, req.anchor_frames, req.rank, Path(value).name)
    if isinstance(motion, str) and (motion in PRESETS or not Path(motion).suffix
                                    and len(Path(motion).parts) == 1):
        return Preset(motion)  # a bare word: a preset name, or check() says which exist
    return DirectionFile(motion, Path(motion).name if isinstance(motion, (str, os.PathLike))
                         else "")


def _text(req: Animate, template: str) -> TextMotion:
    return TextMotion(template, req.degrees, req.anchor_seed, req.steps, req.rank, req.loss_res)


DRIVERS = {"clip": ("driving_video",), "photos": ("neutral_image", "driving_image"),
           "latents": ("driving_latents",)}  # a transfer's driver: one of these, whole


def driver(req: Transfer) -> str:
    """Which driver ``req`` names (``DRIVERS``): exactly one, with all its inputs."""
    given = [k for k, names in DRIVERS.items() if any(not missing(getattr(req, n)) for n in names)]
    if not given:
        raise OptionError("driving_video is required: a clip of one face moving (or, from "
                          "the CLI and Python, neutral_image and driving_image)")
    if len(given) > 1:
        raise OptionError(f"give one driver: a clip (driving_video), two photos "
                          f"(neutral_image and driving_image) or latents, not {' and '.join(given)}")
    absent = [n for n in DRIVERS[given[0]] if missing(getattr(req, n))]
    if absent:
        raise OptionError(f"{absent[0]} is required too: two photos of the driver, at rest "
                          f"(neutral_image) and mid-motion (driving_image)")
    return given[0]
