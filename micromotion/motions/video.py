"""A motion shown in a clip of one face doing it: up to ``anchor_frames`` evenly spaced frames,
the face tracked and inverted, as anchors in time order, and their low-rank direction."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .anchors import TrackedFaces, VideoAnchors, track_faces, video_anchors
from ..latents.direction import Direction
from ..fields import FIELDS
from ..nets.models import Models
from ..naming import display_name, own_stem
from ..media.preview import show_faces
from ..latents.provenance import FromClip
from ..run import QUIET, Run
from ..media.video import Clip, probe, read_clip
from .base import Anchored, Motion, from_anchors
from .source import Source, Words
from .text import fitted


@dataclass
class VideoMotion(Motion):
    """A motion shown in a clip: anchors from its frames."""
    video: str | os.PathLike | Clip
    max_frames: int = FIELDS["anchor_frames"].default
    rank: int = FIELDS["rank"].default
    name: str | None = None
    faces: TrackedFaces | None = None  # set by ``ready``

    def ready(self, models: Models, run: Run = QUIET) -> "VideoMotion":
        clip = self.video if isinstance(self.video, Clip) else \
            read_clip(self.video, self.max_frames, name=self.name)
        faces = track_faces(clip, models.encoder.input_size, run.steps("clip faces"))
        show_faces(run.preview, "clip", [f.image for f in faces.faces], faces.times, clip.name)
        return dataclasses.replace(self, video=clip, faces=faces)

    def check(self, shape: tuple[int, int] | None = None) -> None:
        if not isinstance(self.video, Clip):
            probe(self.video, self.name or Path(self.video).name)

    def make(self, models: Models, run: Run = QUIET) -> Anchored:
        ready = self if self.faces is not None else self.ready(models, run)
        d, anchors = direction_from_faces(models, ready.faces, ready.video.name, ready.video.fps,
                                          ready.rank, run)
        return d, anchors.images

    def costs(self, unit: Any) -> list[tuple[str, float, str]]:
        return [("inverting the anchor clip's frames", self.max_frames * unit.inversion,
                 "take fewer anchor frames")]


def direction_from_video(models: Models, video: str | os.PathLike | Clip,
                         max_frames: int = 16, rank: int = 4, name: str | None = None,
                         run: Run = QUIET) -> tuple[Direction, VideoAnchors]:
    """A direction ``[L, D]`` from a short clip of one face doing the motion: up to
    ``max_frames`` evenly spaced frames, aligned (tracked), inverted, as anchors in time
    order."""
    FIELDS["rank"].check(rank)
    ready = VideoMotion(video, max_frames, rank, name).ready(models, run)
    return direction_from_faces(models, ready.faces, ready.video.name, ready.video.fps, rank,
                                run)


def direction_from_faces(models: Models, faces: TrackedFaces, name: str, fps: float,
                         rank: int = 4, run: Run = QUIET) -> tuple[Direction, VideoAnchors]:
    """A direction from a clip's tracked faces (``anchors.track_faces``), inverted as
    anchors in time order."""
    a = video_anchors(models.encoder, faces, precision=run.precision, progress=run.report)
    return from_anchors(models, a.latents, rank, run,
                        lambda fit: FromClip(name, fps, a.times, a.notes, fit)), a


def of(req, clip: str | os.PathLike, name: str) -> VideoMotion:
    """The clip with the request's anchor options."""
    return VideoMotion(clip, req.anchor_frames, req.rank, name)


def words(made: FromClip, say: Words) -> tuple[str, str]:
    return f"moves as the face in {made.file} does", f"the clip {made.file}{fitted(made.fit)}"


def _word(req) -> str:
    """The clip's own name (``frown`` for frown.mp4), where the door knows one."""
    return own_stem(req, "anchor_video") or "video"


SOURCE = Source("video", "A clip", ("anchor_video", "anchor_frames"),
                motions=lambda req: [of(req, req.anchor_video,
                                        display_name(req, "anchor_video"))],
                made=(FromClip,), words=words, cli="--anchor-video",
                captions=lambda made: [f"{t:.2f} s" for t in made.times],
                types={"anchor_video": "str | os.PathLike | None"}, word=_word)
