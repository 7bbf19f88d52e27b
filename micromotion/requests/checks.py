"""Checking a request (``request``) whole, before any slow stage: options through the table,
the one motion source, every cue of a timeline, the template's ``{degree}`` and its fit in
CLIP's 77 tokens, that the photo and the clips decode. Each returns the request normalised and
marked ``checked``; one error type per cause, each naming the field, the value and what is
allowed. A door checks its request once, before any model is needed; the pipeline takes it as
checked and checks only one that was not (``ensure_checked``).

    req = check_request(Animate(image="me.jpg", micromotion="smile", scale=5))
"""
from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Sequence

from ..errors import OptionError, ServerPathError
from ..field import shown
from ..fields import FIELDS, KINDS, MAX_CUE_SCALE, MAX_TUNED_PHOTOS, PRESETS, check
from ..media.faces import Faces, parse_faces
from ..media.images import load_image
from ..latents.interpolate import check_plan
from ..motions import SOURCES, given_sources, request_motions
from ..motions.drivers import driver_of
from ..naming import display_name, missing, not_used
from .request import Animate, Edit, LatentVideo, Transfer
from ..latents.samples import parse_seeds
from ..latents.span import edit_weights, parse_span
from ..media.stream import footage
from ..latents.timeline import Cue, check_cue, parse_cues


@functools.singledispatch
def check_request(req, shape: tuple[int, int] | None = None):
    """``req`` checked and normalised (``check_animate``, ``check_transfer`` or
    ``check_latent``; ``shape``: the generator's W+ (n_latent, style_dim) where known), marked
    ``checked``."""
    raise TypeError(f"not a request: {type(req).__name__}")


def ensure_checked(req, shape: tuple[int, int] | None = None):
    """``req`` if a door checked it already, else ``check_request(req, shape)``."""
    return req if req.checked else check_request(req, shape)


def _checked_fields(req, skip: Sequence[str] = ()) -> dict:
    """Every plain field of ``req`` through its table check (files and parsed fields aside)."""
    out = {}
    for f in dataclasses.fields(req):
        spec = FIELDS.get(f.name)
        if spec is None or f.name in skip or spec.type is Path or not f.init:
            continue
        out[f.name] = spec.check(getattr(req, f.name))
    return out


def _photo(req, name: str = "image", required: str | None = None):
    """The photo in field ``name`` decodes (or is absent where allowed)."""
    value = getattr(req, name)
    if missing(value):
        if required:
            raise OptionError(required)
        return None
    load_image(value, display_name(req, name, value))
    return value


def check_animate(req: Animate, need_image: bool = True,
                  shape: tuple[int, int] | None = None) -> Animate:
    """``req`` checked and normalised: the timeline parsed into cues, the degrees a list
    (``need_image`` False: only its motion, as for making a direction file), a direction
    file against the generator's W+ ``shape`` (n_latent, style_dim) where given."""
    out = dataclasses.replace(req, **_checked_fields(req, skip=("timeline", "degrees", "faces")))
    _check_motion(out, shape)
    out.faces = _faces(out)
    if need_image:
        _photo(req, required="image is required: a photo with a face (or pick a latent-video "
                             "mode: walk, coarse, fine or circle)")
    out.checked = need_image  # only its motion: not a whole animation
    return out


@check_request.register
def _(req: Animate, shape: tuple[int, int] | None = None) -> Animate:
    return check_animate(req, shape=shape)


def _check_motion(out: Animate | Edit, shape: tuple[int, int] | None) -> None:
    """``out``'s motion checked in place (its fields through the table already): the degrees
    a list, the timeline parsed into cues against ``out.frames``, one source, each motion."""
    out.degrees = _listed("degrees", out.degrees)
    out.timeline = _cues(out.timeline, out.frames, out.server_files)
    if out.timeline and out.scale != FIELDS["scale"].default:
        out.notes = out.notes + [not_used([f"scale {out.scale}"],
                                          "with a timeline each cue has its own")]
    _check_motions(out, shape)


def check_edit(req: Edit, shape: tuple[int, int] | None = None) -> Edit:
    """``req`` checked: the clip a video (``stream.footage``: its size and frame count
    bounded, from its header, before any frame is decoded), the span within it, its motion as
    an animation's; ``frames`` and ``fps`` set to the clip's."""
    if missing(req.video):
        raise OptionError("video is required: a video with a face (mp4, mov, webm …) to edit")
    out = dataclasses.replace(req, **_checked_fields(req, skip=("timeline", "degrees", "span",
                                                                "faces")))
    out.faces = parse_faces(req.faces)
    clip = footage(req.video, display_name(req, "video"))
    out.frames, out.fps = clip.n_frames, clip.fps
    parse_span(req.span, clip.end)
    _check_motion(out, shape)
    if not (edit_weights(clip.times, out.span, out.timeline) > 0).any():
        raise OptionError(f"span {req.span.strip()} holds no frame of the video that would "
                          f"move (it runs at {clip.fps:.3g} fps and eases in and out): widen it")
    if out.timeline and req.span.strip():
        out.notes = out.notes + [not_used(["span"], "a timeline's cues say when, in percent "
                                                    "of the video")]
    out.checked = True
    return out


@check_request.register
def _(req: Edit, shape: tuple[int, int] | None = None) -> Edit:
    return check_edit(req, shape)


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
    """The timeline's cues checked: at most ``MAX_CUES`` of them, their summed scale at
    most ``MAX_CUE_SCALE``; where the door serves the network (``server_files`` False),
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
    total = sum(abs(c.scale) for c in cues)
    if total > MAX_CUE_SCALE:
        raise OptionError(f"the timeline's cues add up to scale {total:g}; keep their sum "
                          f"at most {MAX_CUE_SCALE:g}")
    return cues


def _check_motions(req: Animate, shape: tuple[int, int] | None = None) -> None:
    """One motion source at most, and each motion it names checked by its own ``check`` (no
    model needed; a direction file against the generator's W+ ``shape`` where given)."""
    given = [s.fields[0] for s in given_sources(req)]
    if len(given) > 1:
        names = [s.fields[0] for s in SOURCES if not s.default]
        raise OptionError(f"give only one of {', '.join(names[:-1])} and {names[-1]} "
                          f"(got {' and '.join(given)})")
    for motion in request_motions(req):
        motion.check(shape)


def check_transfer(req: Transfer, shape: tuple[int, int] | None = None) -> Transfer:
    """``req`` checked: one whole driver (``drivers.driver_of``) that checks itself, the photo
    decodes, the layers parsed; the inputs its driver does not read are said in its notes."""
    _photo(req, required="image is required: the photo whose face will move")
    drive = driver_of(req)
    values = _checked_fields(req, skip=("fps", "layers", "scale", "faces"))
    values["fps"] = check("fps", req.fps, optional=True)
    values["scale"] = check("scale", req.scale, as_type=float)  # a driver's share: any number
    out = dataclasses.replace(req, **values)
    drive.check(out, shape)
    names, why = drive.ignores
    unread = [n for n in names if getattr(out, n) != FIELDS[n].default]
    if unread:  # said, not dropped without a word
        out.notes = out.notes + [not_used(unread, why)]
    out.layers = _numbers(req.layers, "layers")
    out.faces = _faces(out)
    out.checked = True
    return out


def _faces(req: Animate | Transfer) -> Faces:
    """``req.faces`` parsed (``faces.parse_faces``); several faces move in their photo, so
    not with paste_back off."""
    faces = parse_faces(req.faces)
    several = faces == "all" or isinstance(faces, list) and len(faces) > 1
    if several and req.paste_back == "off":
        raise OptionError(f"faces {req.faces} moves the faces where they are in the photo, so "
                          f"it needs paste_back auto or on (off gives one face's square)")
    return faces


@check_request.register
def _(req: Transfer, shape: tuple[int, int] | None = None) -> Transfer:
    return check_transfer(req, shape)


def check_latent(req: LatentVideo, n_latent: int = 18) -> LatentVideo:
    """``req`` checked for a generator with ``n_latent`` W+ layers: seeds and layers parsed,
    photos decoded, the walk's frame count within the limit."""
    if req.mode not in KINDS:
        raise OptionError(f"mode must be one of {', '.join(KINDS)} for a latent video, got "
                          f"{shown(req.mode)}")
    out = dataclasses.replace(req, **_checked_fields(req, skip=("mode", "seeds", "layers",
                                                                "faces")))
    out.faces = parse_faces(req.faces)
    if out.faces != "one" and (req.mode not in FIELDS["faces"].kinds or missing(req.image)):
        if req.mode in FIELDS["faces"].kinds:  # (another kind's settings go unread, as ever)
            out.notes = out.notes + [not_used(["faces"], "the style mixing has no photo")]
        out.faces = "one"
    seeds = _numbers(req.seeds, "seeds") or []
    out.seeds = [check("source_seed", s, what="seed") for s in seeds]
    layers = _numbers(req.layers, "layers")
    photos = len(out.photos) + (not missing(out.image))
    if out.fidelity == "faithful" and photos > MAX_TUNED_PHOTOS:
        raise OptionError(f"fidelity faithful tunes the generator to every photo at once, at "
                          f"most {MAX_TUNED_PHOTOS}; this video has {photos}: use fewer photos "
                          f"or fidelity fast")
    _photo(out)
    for photo in out.photos:
        load_image(photo, display_name(out, "photos", photo))
    out.layers = check_plan(dataclasses.replace(out, layers=layers), n_latent)
    out.checked = True
    return out


@check_request.register
def _(req: LatentVideo, shape: tuple[int, int] | None = None) -> LatentVideo:
    return check_latent(req, *(shape or ())[:1])


def _numbers(value: str | Sequence[int], what: str) -> Sequence[int] | None:
    """``"0-3,7"`` → ``[0, 1, 2, 3, 7]`` (empty text → None; within the table's length and
    count limits); a list of whole numbers stays as it is (within the count limit)."""
    if value is None:
        return None
    if not isinstance(value, str):
        most = FIELDS[what].items
        if isinstance(value, (list, tuple)) and most is not None and len(value) > most:
            raise OptionError(f"{what} give {len(value)} numbers; give at most {most}")
        if not isinstance(value, (list, tuple)) or not all(
                isinstance(n, int) and not isinstance(n, bool) for n in value):
            raise OptionError(f"{what} must look like '0-3,7' or be a list of whole numbers, "
                              f"got {shown(value)}")
        return value
    check(what, value)
    return parse_seeds(value, what, FIELDS[what].items) if value.strip() else None
