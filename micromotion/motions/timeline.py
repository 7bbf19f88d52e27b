"""A timeline: several motions composed along the video, each cue with its own scale,
frames and curve (``micromotion.latents.timeline``). A cue's motion is a preset, ``text:TEMPLATE``,
``video:CLIP`` or a direction file — or, from Python, any motion, ``Direction`` or tensor."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ..latents.direction import Direction
from ..fields import PRESETS
from ..latents.provenance import MadeCue, Timeline
from ..latents.timeline import composed_path
from . import text, video
from .base import Motion
from .file import DirectionFile
from .preset import Preset
from .source import Source, Words


def cue_motion(req, motion: Any) -> Motion:
    """A cue's motion: ``text:TEMPLATE``, ``video:CLIP``, a preset name, a direction file, or
    (from Python) a ``Motion``, ``Direction`` or tensor."""
    if isinstance(motion, Motion):
        return motion
    if isinstance(motion, str) and motion.startswith(("text:", "video:")):
        kind, _, value = motion.partition(":")
        value = value.strip()
        return text.of(req, value) if kind == "text" else video.of(req, value, Path(value).name)
    if isinstance(motion, str) and (motion in PRESETS or not Path(motion).suffix
                                    and len(Path(motion).parts) == 1):
        return Preset(motion)  # a bare word: a preset name, or check() says which exist
    return DirectionFile(motion, Path(motion).name if isinstance(motion, (str, os.PathLike))
                         else "")


def path(req, w: torch.Tensor, made: list[Direction]) -> tuple[torch.Tensor, Direction]:
    """The cues' motions composed from ``w [1, L, D]`` → W+ ``[frames, L, D]``, and the
    direction from the first frame to the last, its provenance each cue's."""
    latents = composed_path(w, [d.vector for d in made], req.timeline, req.frames)
    return latents, Direction((latents[-1] - w[0]).float(), Timeline([
        MadeCue(d.made, c.scale, c.start, c.end, c.curve, c.percent)
        for d, c in zip(made, req.timeline)]))


def words(made: Timeline, say: Words) -> tuple[str, str]:
    said = [say(c.made) for c in made.cues]
    return (", then ".join(does for does, _ in said),
            "a timeline of " + "; ".join(f"{source} at scale {c.scale:g} {_span(c)}"
                                         for (_, source), c in zip(said, made.cues)))


def _span(cue: MadeCue) -> str:
    """When a cue moves, in its own unit: "from 0% to 40%", "from frame 3 to 9"."""
    if cue.percent:
        return f"from {cue.start}% to {100 if cue.end is None else cue.end}%"
    return f"from frame {cue.start}" + ("" if cue.end is None else f" to {cue.end}")


SOURCE = Source("timeline", "A timeline", ("timeline",),
                motions=lambda req: [cue_motion(req, cue.motion) for cue in req.timeline],
                made=(Timeline,), words=words, cli="--timeline", path=path, timed=True,
                types={"timeline": "str | Sequence[Cue]"})
