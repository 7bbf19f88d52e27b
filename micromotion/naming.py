"""How messages and file names call a request's inputs: a file by the name its door gave it,
else its own name (never its folder), else its field's role ("the photo").

    display_name(req, "anchor_video")   # "frown.mp4", or "the anchor clip" from Cog
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from .fields import FIELDS


def display_name(req, name: str, value: Any = None) -> str:
    """How messages call the file in field ``name`` of ``req``: the name the door gave
    (``req.names``), else the file's own name, else the field's role ("the photo")."""
    value = getattr(req, name) if value is None else value
    if name in req.names:
        return req.names[name]
    if isinstance(value, (str, os.PathLike)) and str(value):
        return Path(value).name
    return FIELDS[name].role


def own_stem(req, name: str) -> str:
    """The stem of the file in field ``name`` as its door named it (``frown`` for frown.mp4),
    or "" where the door knows it only by its role ("the anchor clip") or there is none."""
    shown = display_name(req, name)
    return "" if shown == FIELDS[name].role else Path(shown).stem


def not_used(names: Sequence[str], why: str) -> str:
    """A result's note for inputs given that the request does not read: "frames and curve
    were not used: why"."""
    return f"{' and '.join(names)} {'was' if len(names) == 1 else 'were'} not used: {why}"


def listed(items: Sequence) -> str:
    """Items as a sentence names them: [1, 2, 4] → "1, 2 and 4"; numbers in a row, three or
    more, as a range: [1, 2, 3, 4, 6] → "1–4 and 6" (a crowd's faces left alone)."""
    said = _runs(items) if all(isinstance(i, int) for i in items) else list(map(str, items))
    return said[0] if len(said) == 1 else f"{', '.join(said[:-1])} and {said[-1]}"


def _runs(numbers: Sequence[int]) -> list[str]:
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return [s for r in runs for s in ([f"{r[0]}–{r[-1]}"] if len(r) > 2 else map(str, r))]


def missing(value) -> bool:
    """Whether an input is absent: None, or an empty path."""
    return value is None or (isinstance(value, (str, os.PathLike)) and not str(value))


def given(value) -> bool:
    """Whether an input names something: not None, not blank text, not an empty list."""
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None and not (isinstance(value, (list, tuple)) and not value)


def duration(seconds: float) -> str:
    """A duration in words, as precise as is worth saying: "45 s", "1 min 5 s", "22 min"."""
    seconds = max(1, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds >= 600:
        return f"{round(seconds / 60)} min"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
