"""How messages and file names call a request's inputs: a file by the name its door gave it,
else its own name (never its folder), else its field's role ("the photo").

    display_name(req, "anchor_video")   # "frown.mp4", or "the anchor clip" from Cog
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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


def missing(value) -> bool:
    """Whether an input is absent: None, or an empty path."""
    return value is None or (isinstance(value, (str, os.PathLike)) and not str(value))


def given(value) -> bool:
    """Whether an input names something: not None, not blank text, not an empty list."""
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None and not (isinstance(value, (list, tuple)) and not value)
