"""The three requests the product serves — animate a photo, transfer a clip's motion, make a
latent video — as dataclasses whose fields, defaults and limits are ``fields.FIELDS``, and the
output's file name (``file_name``); an animation's motion is its source's (``motions``), a
transfer's its driver's (``motions.drivers``).
``checks.check_request`` checks one, once.

    req = checks.check_request(Animate(image="me.jpg", micromotion="smile", scale=5))
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, make_dataclass
from pathlib import Path
from typing import Any, Sequence


from ..fields import FIELDS
from ..media.images import ImageSource
from ..motions import SOURCES, source_of
from ..motions.drivers import DRIVERS
from ..naming import own_stem


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
    video = [("scale", "int"), ("frames", "int"), ("fps", "int"), ("curve", "str"),
             ("side_by_side", "bool"), ("paste_back", "str"), ("rank", "int"),
             ("faces", "str | list[int]")]
    return make_dataclass(
        "Animate", [("image", "ImageSource | None", field(default=None)), *_source_fields(),
                    *((n, t, _d(n)) for n, t in video)], bases=(Request,),
        namespace={"__module__": __name__, "__doc__": _ANIMATE})


def _source_fields() -> list[tuple[str, str, Any]]:
    """Every motion source's own fields (``motions.SOURCES``, in its order), as a request
    built from the registry holds them."""
    return [(n, _python_type(s.types, n), _d(n)) for s in SOURCES for n in s.fields]


def _python_type(types: dict[str, str], name: str) -> str:
    """A registry's field's type as the Python API takes it: its declarer's (``types``) where
    it says one — ``driving_latents`` is Python's alone, with no ``Field`` — else the table's."""
    return types[name] if name in types else _PYTHON[FIELDS[name].type]


_ANIMATE = """The photo's face performs one motion, from one source (``motions.SOURCES``): a
preset (``micromotion``), words (``text_template``), a clip (``anchor_video``), a direction
file or a ``timeline`` of cues — one of them; ``scale`` 5 is the motion's own amplitude.
``faces``: which faces of a photo of several move — ``"one"`` (the most confident), ``"all"``
or their numbers from the left, ``"1,3"`` or ``[1, 3]``."""


_PYTHON = {int: "int", float: "float", str: "str", bool: "bool",
           Path: "str | os.PathLike | None"}  # a field's type as the Python API takes it
Animate = _animate()


def _transfer() -> type:
    """``Transfer``: the photo, then every driver's own fields (``drivers.DRIVERS``, in its
    order: ``driving_video``, ``neutral_image`` and ``driving_image``, ``driving_latents``),
    then how its motion is taken and the video made. Built from the registry, so a new
    driver's fields are the request's with no edit here."""
    own = [(n, _python_type(d.types, n), field(default=None)) for d in DRIVERS for n in d.fields]
    video = [("scale", "float"), ("neutral_frame", "int"), ("side_by_side", "bool"),
             ("paste_back", "str"), ("rank", "int"), ("layers", "str | Sequence[int]"),
             ("smoothing", "float"), ("frames", "int"), ("curve", "str"),
             ("faces", "str | list[int]")]
    return make_dataclass(
        "Transfer", [("image", "ImageSource | None", field(default=None)), *own,
                     ("fps", "int | None", field(default=None)),  # None: the driver's own
                     *((n, t, _d(n)) for n, t in video)], bases=(Request,),
        namespace={"__module__": __name__, "__doc__": _TRANSFER})


_TRANSFER = """The photo's face performs a driver's motion; the driver is one of
``drivers.DRIVERS``: a clip (``driving_video``, at its timing), two photos of one face
(``neutral_image`` at rest, ``driving_image`` mid-motion, ``frames`` frames along ``curve``),
or W+ latents ``[T, L, D]`` from Python (``driving_latents``, one frame each); ``scale`` 5 is
the driver's own amplitude; ``faces`` as ``Animate``'s (each chosen face performs it)."""
Transfer = _transfer()


def _edit() -> type:
    """``Edit``: the clip, then every motion source's own fields (as ``Animate``), then when
    and how the face moves; ``frames`` and ``fps`` are the clip's, set by its check."""
    how = [("scale", "int"), ("span", "str"), ("blend", "str"), ("rank", "int"),
           ("faces", "str | list[int]")]
    clip = [("frames", "int", field(default=0, init=False)),
            ("fps", "float", field(default=0.0, init=False))]
    return make_dataclass(
        "Edit", [("video", "str | os.PathLike | None", field(default=None)), *_source_fields(),
                 *((n, t, _d(n)) for n, t in how), *clip], bases=(Request,),
        namespace={"__module__": __name__, "__doc__": _EDIT})


_EDIT = """A video edited in place: the face in ``video`` performs one motion, from any source an
animation takes (``motions.SOURCES``), over ``span`` (seconds, ``START-END``; empty: the whole
clip; a timeline's cues say their own parts of the clip), eased in and out; the rest of the
clip, its frames where the face is lost and its sound are kept; ``faces`` as ``Animate``'s,
numbered in the span's first frame that shows any (each chosen face followed through it)."""
Edit = _edit()


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
    faces: str | list[int] = _d("faces")  # coarse or fine through a photo: which of its faces


def file_name(req: Animate | Transfer | LatentVideo | Edit) -> str:
    """The output's file name, for every door: the photo's (or the edited video's) and the
    motion's, ``astronaut-smile.mp4`` (a file the door knows only by its role, or none, leaves
    the motion's alone: ``smile.mp4``)."""
    stem = _plain(own_stem(req, "video" if hasattr(req, "video") else "image"))
    word = _plain(_motion_word(req)) or "video"
    return f"{stem}-{word}.mp4" if stem else f"{word}.mp4"


def _plain(name: object) -> str:
    """A name as a file name may hold it: letters, digits, ``-`` and ``_``, at most 40 (the
    output is named before its request is checked: a mode sent as a number names it too, and
    the check then says what is wrong)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(name)).strip("-")[:40]


@functools.singledispatch
def _motion_word(req) -> str:
    raise TypeError(f"not a request: {type(req).__name__}")


@_motion_word.register(Animate)
@_motion_word.register(Edit)
def _(req) -> str:
    return source_of(req).file_word(req)  # which source moved it: its word


@_motion_word.register
def _(req: Transfer) -> str:
    return "transfer"


@_motion_word.register
def _(req: LatentVideo) -> str:
    return req.mode
