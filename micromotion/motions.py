"""The motion a request names, resolved in one place. Each kind of motion checks itself
cheaply (``check``: before any model loads) and makes its direction (``make``: after the photo
is inverted, so a photo without a face fails in seconds, not after a text optimisation):

- ``Preset``: one of the five published directions;
- ``DirectionFile``: a direction file (or, from Python, a ``Direction`` / ``[L, D]`` tensor);
- ``TextMotion``: words — anchors from CLIP-guided optimisation of a generated face;
- ``VideoMotion``: a clip of one face doing it — anchors from its frames.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from .anchors import (DEFAULT_DEGREES, TextAnchors, TrackedFaces, VideoAnchors,
                      prompts_from_template, text_anchors, track_faces, video_anchors)
from .direction import Direction, check_preset, direction_from_anchors, load_direction
from .fields import FIELDS
from .models import Models
from .preview import show_faces
from .provenance import Fit, FromClip, FromText, Given
from .run import QUIET, Run
from .video import Clip, probe, read_clip

Made = tuple[Direction, np.ndarray | None]  # the direction, and the anchor images if any


class _Motion:
    def ready(self, models: Models, run: Run = QUIET) -> "_Motion":
        """The motion with its inputs read and checked where that needs no slow model (a
        clip's faces found, and shown to the run's preview), so it fails before the photo is
        inverted; most need nothing."""
        return self


@dataclass
class Preset(_Motion):
    name: str

    def check(self, shape: tuple[int, int] | None = None) -> None:
        check_preset(self.name)

    def make(self, models: Models, run: Run = QUIET) -> Made:
        return models.preset(self.name), None


@dataclass
class DirectionFile(_Motion):
    file: str | os.PathLike | Direction | torch.Tensor
    name: str = "the direction file"

    def check(self, shape: tuple[int, int] | None = None) -> None:
        if isinstance(self.file, (str, os.PathLike)):
            load_direction(self.file, *(shape or ()), name=self.name)

    def make(self, models: Models, run: Run = QUIET) -> Made:
        if isinstance(self.file, Direction):
            return models.checked(self.file), None
        if isinstance(self.file, torch.Tensor):
            return models.checked(Direction(self.file.detach().float(), Given())), None
        return models.checked(load_direction(self.file, name=self.name)), None


@dataclass
class TextMotion(_Motion):
    """A motion described in words: anchors from CLIP."""
    template: str  # with {degree}, e.g. "a person with {degree} smile"
    degrees: Sequence[str] = DEFAULT_DEGREES
    seed: int = 0
    steps: int = FIELDS["steps"].default
    rank: int = FIELDS["rank"].default
    loss_res: int | None = FIELDS["loss_res"].default

    def check(self, shape: tuple[int, int] | None = None) -> None:
        from .clip_guidance import token_ids
        token_ids(prompts_from_template(self.template, self.degrees))

    def make(self, models: Models, run: Run = QUIET) -> Made:
        d, anchors = direction_from_text(models, self.template, self.degrees, self.seed,
                                         self.steps, self.rank, self.loss_res, run)
        return d, anchors.images


@dataclass
class VideoMotion(_Motion):
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

    def make(self, models: Models, run: Run = QUIET) -> Made:
        ready = self if self.faces is not None else self.ready(models, run)
        d, anchors = direction_from_faces(models, ready.faces, ready.video.name, ready.video.fps,
                                          ready.rank, run)
        return d, anchors.images


Motion = Preset | DirectionFile | TextMotion | VideoMotion


def direction_from_text(models: Models, template: str, degrees: Sequence[str] = DEFAULT_DEGREES,
                        seed: int = 0, steps: int = 40, rank: int = 4,
                        loss_res: int | None = 256, run: Run = QUIET
                        ) -> tuple[Direction, TextAnchors]:
    """A direction from CLIP-guided anchors of the face ``z(seed)`` over the template's
    degrees (the paper's text anchors). ``loss_res``: the size of the early-exit image the
    losses see (``None``: full resolution). The run's preview sees the anchors as they form."""
    TextMotion(template, degrees).check()  # a bad template fails before loading CLIP
    FIELDS["anchor_seed"].check(seed, what="seed")
    FIELDS["steps"].check(steps)
    FIELDS["rank"].check(rank)
    res = None if loss_res is None else min(FIELDS["loss_res"].check(loss_res),
                                             models.generator.size)
    clip, arcface = models.text_models()
    a = text_anchors(models.generator, clip, arcface, template, degrees, seed, steps,
                     loss_res=res, precision=run.precision, progress=run.steps("anchors"),
                     preview=run.preview)
    return _from_anchors(models, a.latents, rank, run, lambda fit: FromText(
        template, list(map(str, degrees)), seed, steps, res, a.final_losses, fit)), a


def direction_from_video(models: Models, video: str | os.PathLike | Clip,
                         max_frames: int = 16, rank: int = 4, name: str | None = None,
                         run: Run = QUIET) -> tuple[Direction, VideoAnchors]:
    """A direction from a short clip of one face doing the motion: up to ``max_frames``
    evenly spaced frames, aligned (tracked), inverted, as anchors in time order."""
    FIELDS["rank"].check(rank)
    ready = VideoMotion(video, max_frames, rank, name).ready(models, run)
    return direction_from_faces(models, ready.faces, ready.video.name, ready.video.fps, rank,
                                run)


def direction_from_faces(models: Models, faces: TrackedFaces, name: str, fps: float,
                         rank: int = 4, run: Run = QUIET) -> tuple[Direction, VideoAnchors]:
    """A direction from a clip's tracked faces (``anchors.track_faces``), inverted as
    anchors in time order."""
    a = video_anchors(models.encoder, faces, precision=run.precision, progress=run.report)
    return _from_anchors(models, a.latents, rank, run,
                         lambda fit: FromClip(name, fps, a.times, a.notes, fit)), a


def _from_anchors(models: Models, latents: torch.Tensor, rank: int, run: Run,
                  made: Callable[[Fit], FromText | FromClip]) -> Direction:
    """The direction of the anchors ``[K, L, D]``, its provenance ``made(fit)``."""
    run.report("direction", 0, 1)
    vector, diag = direction_from_anchors(latents, rank)
    run.report("direction", 1, 1)
    fit = Fit(int(latents.shape[0]), diag["rank"], diag["explained_energy"],
              diag["sparse_energy"])
    return models.checked(Direction(vector, made(fit)))


def distinct(motions: Sequence[Motion]) -> tuple[list[Motion], list[int]]:
    """``motions`` with repeats left out (in order), and for each of ``motions`` the index of
    its own among them: identical cues make their anchors once."""
    out: list[Motion] = []
    which: list[int] = []
    for m in motions:
        k = next((k for k, seen in enumerate(out) if _same(m, seen)), None)
        if k is None:
            k = len(out)
            out.append(m)
        which.append(k)
    return out, which


def _same(a: Motion, b: Motion) -> bool:
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except (RuntimeError, TypeError, ValueError):  # tensors inside: equal only as one object
        return False
