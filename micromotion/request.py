"""The three requests the product serves — animate a photo, transfer a clip's motion, make a
latent video — as dataclasses whose fields, defaults and limits are ``fields.FIELDS``. Each
``check_*`` checks a whole request before any slow stage (options, the one motion source, every
cue of a timeline, the template's ``{degree}`` and its fit in CLIP's 77 tokens, that the photo
and the clips decode) and returns it normalised; one error type per cause, each naming the
field, the value and what is allowed.

    req = check_animate(Animate(image="me.jpg", micromotion="smile", scale=5))
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch

from .errors import OptionError, ServerPathError
from .fields import FIELDS, KINDS, MAX_CUE_STRENGTH, PRESETS, check
from .images import ImageSource, load_image
from .interpolate import check_plan
from .motions import DirectionFile, Motion, Preset, TextMotion, VideoMotion
from .samples import parse_seeds
from .timeline import Cue, check_cue, parse_cues
from .video import probe


def _d(name: str) -> Any:
    return field(default=FIELDS[name].default)


@dataclass
class Animate:
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
    output_size: int = _d("output_size")
    side_by_side: bool = _d("side_by_side")
    paste_back: str = _d("paste_back")
    degrees: str | Sequence[str] = _d("degrees")
    steps: int = _d("steps")
    loss_res: int = _d("loss_res")
    anchor_frames: int = _d("anchor_frames")
    rank: int = _d("rank")
    dtype: str = _d("dtype")
    names: dict[str, str] = field(default_factory=dict)  # file fields → what the user called them
    server_files: bool = True  # False at the network doors: no input names a server's file


@dataclass
class Transfer:
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
    output_size: int = _d("output_size")
    side_by_side: bool = _d("side_by_side")
    paste_back: str = _d("paste_back")
    rank: int = _d("rank")
    layers: str | Sequence[int] = _d("layers")
    smoothing: float = _d("smoothing")
    frames: int = _d("frames")  # with neutral_image
    curve: str = _d("curve")  # with neutral_image
    dtype: str = _d("dtype")
    names: dict[str, str] = field(default_factory=dict)
    server_files: bool = True


@dataclass
class LatentVideo:
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
    output_size: int = _d("output_size")
    layers: str | Sequence[int] = _d("layers")
    measure_res: int = _d("measure_res")
    dtype: str = _d("dtype")
    names: dict[str, str] = field(default_factory=dict)
    server_files: bool = True


def display_name(req, name: str, value: Any = None) -> str:
    """How messages call the file in field ``name``: the name the door gave, else the file's
    own name (never its folder), else the field's role ("the photo")."""
    value = getattr(req, name) if value is None else value
    if name in req.names:
        return req.names[name]
    if isinstance(value, (str, os.PathLike)) and str(value):
        return Path(value).name
    return FIELDS[name].role


def _checked_fields(req, skip: Sequence[str] = ()) -> dict:
    """Every plain field of ``req`` through its table check (files and parsed fields aside)."""
    out = {}
    for f in dataclasses.fields(req):
        spec = FIELDS.get(f.name)
        if spec is None or f.name in skip or spec.type is Path:
            continue
        out[f.name] = spec.check(getattr(req, f.name))
    return out


def _photo(req, name: str = "image", required: str | None = None):
    """The photo in field ``name`` decodes (or is absent where allowed)."""
    value = getattr(req, name)
    if _missing(value):
        if required:
            raise OptionError(required)
        return None
    load_image(value, display_name(req, name, value))
    return value


def _missing(value) -> bool:
    return value is None or (isinstance(value, (str, os.PathLike)) and not str(value))


def check_animate(req: Animate, need_image: bool = True,
                  shape: tuple[int, int] | None = None) -> Animate:
    """``req`` checked and normalised: the timeline parsed into cues, the degrees a list
    (``need_image`` False: only its motion, as for making a direction file), a direction
    file against the generator's W+ ``shape`` (n_latent, style_dim) where given."""
    values = _checked_fields(req, skip=("timeline", "degrees"))
    out = dataclasses.replace(req, **values)
    out.degrees = _listed("degrees", req.degrees)
    out.timeline = _cues(req.timeline, out.frames, req.server_files)
    _check_motions(out, shape)
    if need_image:
        _photo(req, required="image is required: a photo with a face (or pick a latent-video "
                             "mode: walk, coarse, fine or circle)")
    return out


def _listed(name: str, value: str | Sequence[str]) -> list[str]:
    """Comma-separated text (or a list) → its entries, within the table's limits."""
    items = [d.strip() for d in check(name, value).split(",") if d.strip()] \
        if isinstance(value, str) else list(value)
    _at_most(name, len(items), "entries")
    return items


def _at_most(name: str, count: int, what: str) -> None:
    most = FIELDS[name].items
    if count > most:
        raise OptionError(f"{name} has {count:,} {what}; it may have at most {most}")


def _cues(timeline: str | Sequence[Cue], frames: int, server_files: bool) -> list[Cue]:
    """The timeline's cues checked: at most ``MAX_CUES`` of them, their summed strength at
    most ``MAX_CUE_STRENGTH``; where the door serves the network (``server_files`` False),
    each cue's motion a preset or ``text:`` (a file on the server is not the user's)."""
    if isinstance(timeline, str):
        timeline = parse_cues(check("timeline", timeline)) if timeline.strip() else []
    cues = list(timeline)
    _at_most("timeline", len(cues), "cues")
    for k, cue in enumerate(cues):
        what = f"cue {k + 1}" if len(cues) > 1 else "the cue"
        check_cue(cue, frames, what)
        if not server_files and isinstance(cue.motion, str) and not (
                cue.motion in PRESETS or cue.motion.startswith("text:")):
            raise ServerPathError(f"{what}'s motion must be a preset ({', '.join(PRESETS)}) "
                                  f"or text:… with {{degree}}; files are not read from the "
                                  f"server (send a direction file as direction_file)")
    total = sum(abs(c.strength) for c in cues)
    if total > MAX_CUE_STRENGTH:
        raise OptionError(f"the timeline's cues add up to strength {total:g}; keep their sum "
                          f"at most {MAX_CUE_STRENGTH:g}")
    return cues


SOURCES = ("text_template", "anchor_video", "direction_file", "timeline")  # an animation's motion


def given_sources(req: Animate) -> list[str]:
    """The motion sources ``req`` names (``SOURCES`` not None, not blank text, not an empty list
    of cues); none means the preset ``micromotion``."""
    return [n for n in SOURCES if _given(getattr(req, n))]


def _given(value) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None and not (isinstance(value, (list, tuple)) and not value)


def _check_motions(req: Animate, shape: tuple[int, int] | None = None) -> None:
    """One motion source at most, and each motion it names checked by its own ``check`` (no
    model needed; a direction file against the generator's W+ ``shape`` where given)."""
    given = given_sources(req)
    if len(given) > 1:
        raise OptionError(f"give only one of {', '.join(SOURCES[:-1])} and {SOURCES[-1]} "
                          f"(got {' and '.join(given)})")
    for motion in request_motions(req):
        motion.check(shape)


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
    given = [k for k, names in DRIVERS.items() if any(not _missing(getattr(req, n)) for n in names)]
    if not given:
        raise OptionError("driving_video is required: a clip of one face moving (or, from "
                          "the CLI and Python, neutral_image and driving_image)")
    if len(given) > 1:
        raise OptionError(f"give one driver: a clip (driving_video), two photos "
                          f"(neutral_image and driving_image) or latents, not {' and '.join(given)}")
    missing = [n for n in DRIVERS[given[0]] if _missing(getattr(req, n))]
    if missing:
        raise OptionError(f"{missing[0]} is required too: two photos of the driver, at rest "
                          f"(neutral_image) and mid-motion (driving_image)")
    return given[0]


def check_transfer(req: Transfer) -> Transfer:
    """``req`` checked: one driver, the photos decode, the clip is readable, the layers
    parsed."""
    _photo(req, required="image is required: the photo whose face will move")
    kind = driver(req)
    values = _checked_fields(req, skip=("fps", "layers"))
    values["fps"] = check("fps", req.fps, optional=True)
    out = dataclasses.replace(req, **values)
    if kind == "photos":
        _photo(req, "neutral_image")
        _photo(req, "driving_image")
    elif kind == "clip":
        probe(req.driving_video, display_name(req, "driving_video"))
    out.layers = _numbers(req.layers, "layers")
    return out


def check_latent(req: LatentVideo, n_latent: int = 18) -> LatentVideo:
    """``req`` checked for a generator with ``n_latent`` W+ layers: seeds and layers parsed,
    photos decoded, the walk's frame count within the limit."""
    if req.mode not in KINDS:
        raise OptionError(f"mode must be one of {', '.join(KINDS)} for a latent video, got "
                          f"{req.mode!r}")
    out = dataclasses.replace(req, **_checked_fields(req, skip=("mode", "seeds", "layers")))
    seeds = _numbers(req.seeds, "seeds") or []
    out.seeds = [check("source_seed", s, what="seed") for s in seeds]
    layers = _numbers(req.layers, "layers")
    _photo(out)
    for photo in out.photos:
        load_image(photo, display_name(out, "photos", photo))
    out.layers = check_plan(dataclasses.replace(out, layers=layers), n_latent)
    return out


def _numbers(value: str | Sequence[int], what: str) -> Sequence[int] | None:
    """``"0-3,7"`` → ``[0, 1, 2, 3, 7]`` (empty text → None; within the table's length and
    count limits); numbers stay as they are."""
    if not isinstance(value, str):
        return value
    check(what, value)
    return parse_seeds(value, what, FIELDS[what].items) if value.strip() else None
