"""Composed micromotions: several motions on one timeline, each with its own scale, span and
curve — "smile over the first 40 % of the video, then turn the head" — rendered as one path

    w_t = w + Σ_k scale_k · c_k(t) · d_k

where ``c_k`` is 0 before the cue's first frame, follows its curve (``render.curve_shape``)
from there to its last frame and then holds (linear and ease stay at 1; loop is back at 0).
Cues that overlap add up.

A cue written as text (the ``timeline`` input of every door):
``MOTION[:SCALE][:START-END][:CURVE]``, MOTION a preset, a direction file,
``text:TEMPLATE`` or ``video:CLIP``, START-END in percent of the video in every door (``0-40``
or ``0%-40%``: they follow the frame count), or frames when written so (``f0-f12``); several
cues separated by ``;`` or new lines.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

import torch

from ..errors import OptionError
from ..fields import FIELDS
from ..media.render import CURVES, check_curve, check_int, curve_shape

@dataclass
class Cue:
    """One motion on a timeline. ``motion``: anything ``request.cue_motion`` resolves (a preset
    name, ``text:…``, ``video:…``, a direction file, a ``Direction``, ``TextMotion``,
    ``VideoMotion``)."""
    motion: Any
    scale: float = 5.0  # as the request's ``scale``: 5 the motion's usual amount
    start: int = 0
    end: int | None = None  # where the curve ends; None: the video's end
    curve: str = "linear"
    percent: bool = True  # start and end in percent of the video (False: in frames)


def parse_cues(text: str) -> list[Cue]:
    """``"smile:5:0-40:ease; headsTurn:3:40-100"`` → cues (motions still as written, with
    ``text:`` and ``video:`` kept as prefixes for the caller to resolve). A part that is not
    what its place needs is named in the error."""
    cues = [_cue(part) for part in filter(None, (p.strip() for p in re.split(r"[;\n]", text or "")))]
    if not cues:
        raise OptionError("the timeline is empty: give cues like 'smile:5:0-40; headsTurn:3:40-100'")
    return cues


_RANGE = re.compile(r"^(f?)(\d+)(%?)-(f?)(\d+)(%?)$")  # percent, or frames with f
_NUMBER = re.compile(r"^[-+]?\d+(\.\d*)?$")


def _cue(text: str) -> Cue:
    """One cue ``MOTION[:SCALE][:START-END][:CURVE]``; a ``text:`` template or ``video:``
    clip may hold colons itself, so the options are read from the right."""
    parts = text.split(":")
    options: list[str] = []
    while len(parts) > 1 and _option_kind(parts[-1]) is not None:
        options.insert(0, parts.pop())
    motion = ":".join(parts).strip()
    if not motion.startswith(("text:", "video:")) and ":" in motion:
        bad = next(p for p in motion.split(":")[1:] if _option_kind(p) is None)
        raise OptionError(f"in the cue {text!r}, {bad.strip()!r} is not a scale (a number), "
                          f"START-END (percent of the video, e.g. 0-40, or frames, f0-f12) or "
                          f"curve ({', '.join(CURVES)}): a cue looks like "
                          f"MOTION[:SCALE][:START-END][:CURVE], e.g. smile:5:0-40:ease")
    cue = Cue(motion)
    order = ["scale", "range", "curve"]
    for option in options:
        kind = _option_kind(option)
        if kind not in order:
            raise OptionError(f"in the cue {text!r}, {option!r} is out of place: a cue looks "
                              f"like MOTION[:SCALE][:START-END][:CURVE]")
        order = order[order.index(kind) + 1:]
        if kind == "scale":
            cue.scale = float(option)
        elif kind == "range":
            f0, start, pct0, f1, end, pct1 = _RANGE.match(option.strip()).groups()
            if f0 != f1 or (f0 and (pct0 or pct1)):
                raise OptionError(f"in the cue {text!r}, {option.strip()!r} mixes frames and "
                                  f"percent: write both ends as percent (0-40 or 0%-40%) or "
                                  f"as frames (f0-f12)")
            cue.start, cue.end, cue.percent = int(start), int(end), not f0
        else:
            cue.curve = option.strip()
    return cue


def _option_kind(part: str) -> str | None:
    part = part.strip()
    if _NUMBER.match(part):
        return "scale"
    if _RANGE.match(part):
        return "range"
    return "curve" if part in CURVES else None


def check_cue(cue: Cue, n_frames: int, what: str = "the cue") -> tuple[int, int]:
    """The cue's options against a video of ``n_frames`` → its (start, end) frames; its
    scale within the request's ``scale`` limits."""
    FIELDS["scale"].check(cue.scale, as_type=float, what=f"{what}'s scale")
    return cue_range(cue, n_frames, what)


def cue_range(cue: Cue, n_frames: int, what: str = "the cue") -> tuple[int, int]:
    """The cue's (start, end) frames in a video of ``n_frames``, checked (percent: of the
    last frame's index, rounded)."""
    if cue.percent:
        return _percent_range(cue, n_frames, what)
    end = n_frames - 1 if cue.end is None else cue.end
    check_int(f"{what}'s start frame", cue.start, 0, n_frames - 2)
    check_int(f"{what}'s end frame", end, cue.start + 1, n_frames - 1)
    check_curve(cue.curve)
    return cue.start, end


def _percent_range(cue: Cue, n_frames: int, what: str) -> tuple[int, int]:
    end = 100 if cue.end is None else cue.end
    if not 0 <= cue.start < end <= 100:
        raise OptionError(f"{what} runs from {cue.start}% to {end}% of the video: the start "
                          f"must be below the end, both from 0% to 100%")
    first, last = (round(p / 100 * (n_frames - 1)) for p in (cue.start, end))
    if first == last:
        raise OptionError(f"{what} covers {cue.start}%–{end}% of the video, less than one "
                          f"frame of {n_frames}: widen it or use more frames")
    check_curve(cue.curve)
    return first, last


def cue_weights(n_frames: int, start: int, end: int, curve: str) -> torch.Tensor:
    """c(t) ``[n_frames]``: 0 before ``start``, the curve from ``start`` to ``end``, then held."""
    u = ((torch.arange(n_frames, dtype=torch.float64) - start) / (end - start)).clamp(0, 1)
    return curve_shape(u, curve).float()


def composed_path(w: torch.Tensor, directions: Sequence[torch.Tensor], cues: Sequence[Cue],
                  n_frames: int) -> torch.Tensor:
    """w ``[L, D]`` (or ``[1, L, D]``), one direction ``[L, D]`` per cue → W+ ``[n_frames, L, D]``."""
    shape = directions[0].shape
    path = w.reshape(shape)[None].repeat(n_frames, 1, 1)
    for d, cue in zip(directions, cues):
        c = cue_weights(n_frames, *cue_range(cue, n_frames), cue.curve).to(path.device)
        path += (cue.scale * c)[:, None, None] * d.to(path)[None]
    return path
