"""The three requests the product serves — animate a photo, transfer a clip's motion, make a
latent video — as dataclasses whose fields, defaults and limits are ``fields.FIELDS``, and a
transfer's driver (``driver``), the output's file name (``file_name``); an animation's motion
is its source's (``motions``).
``checks.check_request`` checks one, once.

    req = checks.check_request(Animate(image="me.jpg", micromotion="smile", scale=5))
"""
from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field, make_dataclass
from pathlib import Path
from typing import Any, Sequence

import torch

from ..errors import OptionError
from ..fields import FIELDS
from ..media.images import ImageSource
from ..motions import SOURCES, source_of
from ..naming import missing, own_stem


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
    notes: list[str] = field(default_factory=list)  # what the door set aside, said with the result
    # set by ``check_request`` alone (not an argument, and a ``dataclasses.replace`` copy
    # starts unchecked): a checked request is never checked again
    checked: bool = field(default=False, init=False, repr=False, compare=False)


def _animate() -> type:
    """``Animate``: the photo, then every motion source's own fields (``motions.SOURCES``, in
    its order: ``micromotion``, ``text_template`` …, ``timeline``), then how the video is
    made. Built from the registry, so a new source's fields are the request's with no edit
    here."""
    own = [(n, s.types.get(n, _PYTHON[FIELDS[n].type]), _d(n)) for s in SOURCES for n in s.fields]
    video = [("scale", "int"), ("frames", "int"), ("fps", "int"), ("curve", "str"),
             ("side_by_side", "bool"), ("paste_back", "str"), ("rank", "int")]
    return make_dataclass(
        "Animate", [("image", "ImageSource | None", field(default=None)), *own,
                    *((n, t, _d(n)) for n, t in video)], bases=(Request,),
        namespace={"__module__": __name__, "__doc__": _ANIMATE})


_ANIMATE = """The photo's face performs one motion, from one source (``motions.SOURCES``): a
preset (``micromotion``), words (``text_template``), a clip (``anchor_video``), a direction
file or a ``timeline`` of cues — one of them; ``scale`` 5 is the motion's own amplitude."""


_PYTHON = {int: "int", float: "float", str: "str", bool: "bool",
           Path: "str | os.PathLike | None"}  # a field's type as the Python API takes it
Animate = _animate()


@dataclass
class Transfer(Request):
    """The photo's face performs a driver's motion; the driver is one of three: a clip
    (``driving_video``, at its timing), two photos of one face (``neutral_image`` at rest,
    ``driving_image`` mid-motion, along ``curve``), or W+ latents ``[T, L, D]`` from Python
    (``driving_latents``, one frame each)."""
    image: ImageSource | None = None
    driving_video: str | os.PathLike | None = None
    scale: float = _d("scale")  # 5: the driver's own amplitude
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


def file_name(req: Animate | Transfer | LatentVideo) -> str:
    """The output's file name, for every door: the photo's and the motion's,
    ``astronaut-smile.mp4`` (a photo the door knows only by its role, or none, leaves the
    motion's alone: ``smile.mp4``)."""
    stem = _plain(own_stem(req, "image"))
    word = _plain(_motion_word(req)) or "video"
    return f"{stem}-{word}.mp4" if stem else f"{word}.mp4"


def _plain(name: str) -> str:
    """A name as a file name may hold it: letters, digits, ``-`` and ``_``, at most 40."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:40]


@functools.singledispatch
def _motion_word(req) -> str:
    raise TypeError(f"not a request: {type(req).__name__}")


@_motion_word.register
def _(req: Animate) -> str:
    return source_of(req).file_word(req)  # which source moved it: its word


@_motion_word.register
def _(req: Transfer) -> str:
    return "transfer"


@_motion_word.register
def _(req: LatentVideo) -> str:
    return req.mode
