"""Composed micromotions: several motions on one timeline, each with its own strength, frames
and curve — "smile over frames 0–40, then turn the head" — rendered as one path

    w_t = w + Σ_k strength_k · c_k(t) · d_k

where ``c_k`` is 0 before the cue's first frame, follows its curve (``render.curve_shape``)
from there to its last frame and then holds (linear and ease stay at 1; loop is back at 0).
Cues that overlap add up.

A cue written as text (the CLI's ``--compose``, the ``timeline`` input):
``MOTION[:STRENGTH][:START-END][:CURVE]``, MOTION a preset, a direction file,
``text:TEMPLATE`` or ``video:CLIP``; several cues separated by ``;`` or new lines.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

import torch

from .errors import OptionError
from .render import CURVES, check_int, check_number, curve_shape

_CUE = re.compile(r"^(?P<motion>.+?)(?::(?P<strength>[-+]?\d+(?:\.\d*)?))?"
                  r"(?::(?P<start>\d+)-(?P<end>\d+))?(?::(?P<curve>" + "|".join(CURVES) + r"))?$")


@dataclass
class Cue:
    """One motion on a timeline. ``motion``: anything ``Micromotion.animation`` takes as a
    motion (a preset name, a direction file, a ``Direction``, ``TextMotion``, ``VideoMotion``)."""
    motion: Any
    strength: float = 5.0
    start: int = 0
    end: int | None = None  # the frame where the curve ends; None: the last frame
    curve: str = "linear"


def parse_cues(text: str) -> list[Cue]:
    """``"smile:5:0-40:ease; headsTurn:3:40-99"`` → cues (motions still as written, with
    ``text:`` and ``video:`` kept as prefixes for the caller to resolve)."""
    cues = []
    for part in filter(None, (p.strip() for p in re.split(r"[;\n]", text or ""))):
        m = _CUE.match(part)
        if not m:
            raise OptionError(f"a cue looks like MOTION[:STRENGTH][:START-END][:CURVE], e.g. "
                              f"smile:5:0-40:ease; got {part!r}")
        start, end = m["start"], m["end"]
        cues.append(Cue(m["motion"].strip(), float(m["strength"]) if m["strength"] else 5.0,
                        int(start) if start else 0, int(end) if end else None,
                        m["curve"] or "linear"))
    if not cues:
        raise OptionError("the timeline is empty: give cues like 'smile:5:0-40; headsTurn:3:40-99'")
    return cues


def check_cue(cue: Cue, n_frames: int) -> tuple[int, int]:
    """The cue's options against a video of ``n_frames`` → its (start, end) frames."""
    check_number("strength", cue.strength, -100, 100)
    end = n_frames - 1 if cue.end is None else cue.end
    check_int("cue start", cue.start, 0, n_frames - 2)
    check_int("cue end", end, cue.start + 1, n_frames - 1)
    curve_shape(torch.zeros(1), cue.curve)  # the curve's name
    return cue.start, end


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
        c = cue_weights(n_frames, *check_cue(cue, n_frames), cue.curve).to(path.device)
        path += (cue.strength * c)[:, None, None] * d.to(path)[None]
    return path
