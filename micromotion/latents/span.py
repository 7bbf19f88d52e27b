"""When a video's face moves: a span of seconds (``START-END``: ``2-5``, ``2.5-``, empty for
the whole clip), as weights over its frames that ease in and out at the span's edges — so no
frame jumps from the face as filmed to the face moved.

    start, end = parse_span("2-5", seconds=12.0)     # (2.0, 5.0)
    c = span_weights(torch.arange(360) / 30, start, end)   # [360] in [0, 1]
"""
from __future__ import annotations

import re
from typing import Sequence

import torch

from ..errors import OptionError
from ..fields import FIELDS
from ..media.render import curve_shape
from ..media.video import end_time
from .timeline import Cue, cue_range

EASE_SECONDS = 0.5  # the motion eases in (and out) over this long at a span's edges
_SPAN = re.compile(r"^\s*(\d+(?:\.\d*)?)?\s*s?\s*-\s*(\d+(?:\.\d*)?)?\s*s?\s*$")


def parse_span(text: str, seconds: float) -> tuple[float, float]:
    """``START-END`` in seconds (either may be left out: the clip's start or end; empty: all
    of it) within a clip of ``seconds`` → (start, end)."""
    FIELDS["span"].check(text)
    if not text.strip():
        return 0.0, seconds
    m = _SPAN.match(text)
    if m is None or m[1] is None and m[2] is None:
        raise OptionError(f"span must be START-END in seconds, e.g. 2-5 (or 2- to the end), "
                          f"got {text[:40]!r}")
    start = float(m[1]) if m[1] else 0.0
    end = float(m[2]) if m[2] else seconds
    if start >= seconds:
        raise OptionError(f"span {text.strip()} starts after the video ends (it is "
                          f"{seconds:.1f} s long)")
    if not start < end:
        raise OptionError(f"span {text.strip()} ends before it starts: write START-END with "
                          f"START the earlier, e.g. 2-5")
    return start, min(end, seconds)


def span_weights(times: Sequence[float] | torch.Tensor, start: float, end: float,
                 ease: float = EASE_SECONDS) -> torch.Tensor:
    """c(t) ``[N]`` for frames showing at ``times`` ``[N]`` s: 0 outside [start, end], easing
    from 0 to 1 over ``ease`` s after ``start`` and back over ``ease`` s before ``end`` (at
    most half the span each), 1 between. An edge at the clip's own start or end does not ease:
    the clip begins (or ends) moved."""
    t = torch.as_tensor(times, dtype=torch.float64)
    n_frames = len(t)
    ease = min(ease, (end - start) / 2)
    c = ((t >= start - 1e-9) & (t <= end + 1e-9)).double()
    if start > 0 and ease > 0:
        c = c * curve_shape(((t - start) / ease).clamp(0, 1), "ease")
    if n_frames and end < float(t[-1]) - 1e-9 and ease > 0:
        c = c * curve_shape(((end - t) / ease).clamp(0, 1), "ease")
    return c.float()


def edit_weights(times: Sequence[float] | torch.Tensor, span: str, cues: Sequence[Cue] = ()
                 ) -> torch.Tensor:
    """How much of its motion each frame of an edited clip shows, ``[N]`` in [0, 1], for
    frames showing at ``times`` ``[N]`` s: the span's eased weights (``span_weights``); with a
    timeline's ``cues``, 1 from the first cue's start on (its cues' own path says how much)."""
    n_frames = len(times)
    if cues:
        first = min(cue_range(c, n_frames)[0] for c in cues)
        return (torch.arange(n_frames) >= first).float()
    return span_weights(times, *parse_span(span, end_time([float(t) for t in times])))


def moved_frames(weights: torch.Tensor) -> tuple[int, int]:
    """The frames an edit moves, from its ``edit_weights``: the first whose weight is not 0
    and one past the last."""
    moving = torch.nonzero(weights > 0).flatten()
    return int(moving[0]), int(moving[-1]) + 1
