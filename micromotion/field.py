"""One input a request can take (``Field``): its type, default, limits or choices, unit, help
sentence and the doors that show it, and the one check of a value. The table of them all is
``fields``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import OptionError


@dataclass(frozen=True)
class Field:
    """One input. ``type`` is int, float, str, bool or Path (a file the user gives). Where it
    shows is data too: ``cog`` (one of Replicate's inputs), ``cli`` (the commands, by their
    use, that take it as an option) and ``page`` (each tab that shows it → the group its
    widget stands in: ``main``, ``more`` for the More settings, or a motion source's)."""
    name: str
    type: type
    default: Any
    help: str  # one plain sentence: Cog's description, the CLI's help, the page's info
    label: str  # a short name for the page
    lo: float | None = None
    hi: float | None = None
    choices: tuple | None = None
    unit: str = ""
    cog: bool = True
    cli: tuple[str, ...] = ()
    page: dict[str, str] = field(default_factory=dict)
    kinds: tuple[str, ...] = ()  # latent videos: the kinds that read it (empty: every kind)
    accept: str = ""  # files: what the page's upload takes: image, video or file
    role: str = ""  # files: how messages name it when the door knows no file name
    chars: int | None = None  # text: the most characters (bounded before anything parses it)
    items: int | None = None  # a list in text (seeds, cues, degrees): the most entries
    words: dict[str, str] = field(default_factory=dict)  # use → its own help, where it differs
    page_default: Any = None  # the page's first value, where it differs from ``default``
    named: dict = field(default_factory=dict)  # a choice → the page's words for it

    @property
    def on_page(self) -> Any:
        """The value the page's widget starts at (and its API takes when none is sent)."""
        return self.default if self.page_default is None else self.page_default

    @property
    def doors(self) -> tuple[str, ...]:
        """The doors that show it: cog, page, cli."""
        return tuple(d for d, on in (("cog", self.cog), ("page", self.page),
                                     ("cli", self.cli)) if on)

    def help_for(self, use: str | None = None) -> str:
        """The help sentence for a door showing one use (``USES``: a CLI command, a page
        tab) — its own wording where the table has one, else ``help`` (Cog's one form)."""
        return self.words.get(use, self.help)

    def allowed(self) -> str:
        """What the field takes, in words: "an integer from 1 to 10", "one of a, b"."""
        if self.choices is not None:
            return "one of " + ", ".join(map(str, self.choices))
        unit = f" {self.unit}" if self.unit else ""
        kind = {int: "an integer", float: "a number", bool: "true or false", str: "text",
                Path: "a file"}[self.type]
        if self.lo is None:
            return kind
        return f"{kind} from {_num(self.lo)} to {_num(self.hi)}{unit}"

    def check(self, value: Any, optional: bool = False, as_type: type | None = None,
              what: str | None = None) -> Any:
        """``value`` as this field's type (or ``as_type``, e.g. float for a cue's scale
        within the scale's limits), or an ``OptionError`` naming the field (or ``what``), the
        value and what is allowed. A whole float is taken for an int (sliders send floats);
        None only where ``optional``."""
        if value is None and (optional or self.type is Path):
            return None
        kind = as_type or self.type
        ok, value = _coerce(kind, value)
        if ok and self.chars is not None and len(value) > self.chars:
            raise OptionError(f"{what or self.name} is {len(value):,} characters long; it may "
                              f"hold at most {self.chars:,}")
        if ok and self.choices is not None:
            ok = value in self.choices
        elif ok and self.lo is not None:
            ok = self.lo <= value <= self.hi
        if not ok:
            allowed = self.allowed() if kind is self.type else \
                self.allowed().replace("an integer", "a number")
            raise OptionError(f"{what or self.name} must be {allowed}, got {shown(value)}")
        return value


def _coerce(kind: type, value: Any) -> tuple[bool, Any]:
    if kind is bool:
        return isinstance(value, (bool, np.bool_)), bool(value) if isinstance(value, np.bool_) \
            else value
    if isinstance(value, (bool, np.bool_)):
        return False, value
    if kind is int:
        if isinstance(value, (float, np.floating)) and math.isfinite(value) \
                and float(value).is_integer():
            value = int(value)
        return isinstance(value, (int, np.integer)), int(value) \
            if isinstance(value, (int, np.integer)) else value
    if kind is float:
        ok = isinstance(value, (int, float, np.number)) and math.isfinite(value)
        return ok, float(value) if ok else value
    if kind is str:
        return isinstance(value, str), value
    return True, value  # Path: anything a stage reads (a path, bytes, an image, an array)


def shown(value: Any, most: int = 60) -> str:
    """A wrong value as a message quotes it: its repr, cut short (a hostile input can be long)."""
    said = repr(value)
    return said if len(said) <= most else f"{said[:most]}… ({len(said):,} characters)"


def _num(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)
