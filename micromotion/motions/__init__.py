"""Where a motion comes from: the registry of motion sources. Each source is one module here
declaring everything the rest needs of it (``source.Source``: its fields, the page's label,
the file name's word, its provenance and its words); the request, the checks, serving, the
words and every door read ``SOURCES``. A new source is one module, its fields in the request
table (``fields.py``) and one line below.

    source_of(Animate("me.jpg", text_template="a person with {degree} smile")).key  # "text"
    request_motions(req)     # [TextMotion(...)]: each checked, readied and made alone
"""
from __future__ import annotations

from . import file, preset, text, timeline, video
from .base import Anchored, Motion, distinct
from .file import DirectionFile
from .preset import Preset
from .source import Source
from .text import TextMotion, direction_from_text
from .video import VideoMotion, direction_from_faces, direction_from_video

SOURCES: tuple[Source, ...] = (
    preset.SOURCE,
    text.SOURCE,
    video.SOURCE,
    file.SOURCE,
    timeline.SOURCE,
)

__all__ = ["SOURCES", "Source", "Motion", "Anchored", "Preset", "DirectionFile", "TextMotion",
           "VideoMotion", "direction_from_text", "direction_from_video", "direction_from_faces",
           "distinct", "given_sources", "source_of", "request_motions", "made_by"]


def given_sources(req) -> list[Source]:
    """The sources ``req`` names (the default one aside: it is what none names)."""
    return [s for s in SOURCES if not s.default and s.given(req)]


def source_of(req) -> Source:
    """The one source that moves ``req`` (checked: at most one given), else the default."""
    given = given_sources(req)
    return given[-1] if given else next(s for s in SOURCES if s.default)


def request_motions(req) -> list[Motion]:
    """The motions ``req`` names: one per cue of a timeline, else its source's one."""
    return source_of(req).motions(req)


def made_by(made) -> Source | None:
    """The source whose directions carry provenance ``made``, if any."""
    return next((s for s in SOURCES if isinstance(made, s.made)), None)
