"""What the use cases return, typed: each result with the fields it has, and how it was made
(``TransferHow``, ``LatentHow``, ``EditHow``), for the doors to show and ``wording`` to say."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..media.align import AlignedFace
from ..latents.direction import Direction
from ..nets.identity import Identity
from ..nets.tuning import Tuning
from ..motions.drivers import MotionOffsets


@dataclass
class Inversion:
    wplus: torch.Tensor  # [1, n_latent, style_dim]
    aligned: AlignedFace


@dataclass
class MovedFace:
    """One face of the photo (or clip) that moved: its number (from the left, as the page
    shows them), its alignment (a clip's: none) and how alike it stayed."""
    number: int
    aligned: AlignedFace | None
    identity: Identity | None = None


@dataclass
class Animation:
    video: Path
    aligned: AlignedFace
    direction: Direction
    anchor_images: np.ndarray | None  # uint8 [K, S, S, 3] for text and video motions
    notes: list[str] = field(default_factory=list)
    identity: Identity | None = None  # how alike the photo's face stayed
    tuning: Tuning | None = None  # fidelity faithful: how the generator was tuned to the photo
    details: list[str] = field(default_factory=list)  # for the expert: the paths it ran on
    faces: list[MovedFace] = field(default_factory=list)  # every face that moved (aligned and
    # identity above: the first's)


@dataclass
class TransferHow:
    """How a motion transfer was made."""
    driver: str  # the driver in words: "drive.mp4", "the neutral photo to the driving photo"
    fps: float
    frames: int
    layers: list[int]  # the W+ layers that move
    energy: list[float]  # the driver's motion energy per W+ layer (all of them)
    rank: int
    smoothing: float


@dataclass
class Transferred:
    video: Path
    aligned: AlignedFace  # the target face
    motion: MotionOffsets  # the driver's projected offsets, layers and their energy
    latents: torch.Tensor  # W+ [T, L, D]: the target's path, one per frame
    how: TransferHow
    notes: list[str] = field(default_factory=list)
    identity: Identity | None = None
    tuning: Tuning | None = None
    details: list[str] = field(default_factory=list)  # for the expert: the paths it ran on
    faces: list[MovedFace] = field(default_factory=list)  # every face that moved (aligned,
    # latents and identity above: the first's)


@dataclass
class CircleSteps:
    """How equal a circle's steps came out: the mean image MSE between frames, and the largest
    step over the smallest (1 is perfectly equal)."""
    radius: float
    mse_mean: float
    spread: float


@dataclass
class LatentHow:
    """How a latent video was made."""
    kind: str  # walk, coarse, fine or circle
    seeds: list[int]
    photos: int  # photos among the walk's keyframes
    truncation: float
    layers: list[int] | None  # the W+ layers that move (None: all)
    frames: int
    interpolation: str | None = None  # a walk's (or style mixing's): cubic or slerp
    circle: CircleSteps | None = None


@dataclass
class LatentAnimation:
    video: Path
    latents: torch.Tensor  # W+ [T, n_latent, style_dim], one per frame
    how: LatentHow
    aligned: list[AlignedFace]  # the photos used, aligned as they were inverted
    notes: list[str] = field(default_factory=list)
    identity: Identity | None = None  # of the first photo; none without one
    tuning: Tuning | None = None
    details: list[str] = field(default_factory=list)  # for the expert: the paths it ran on
    faces: list[MovedFace] = field(default_factory=list)  # style mixing through several faces
    # of a photo: each (latents, identity above: the first's)


@dataclass
class EditHow:
    """How a video was edited."""
    video: str  # the clip, as its door names it
    frames: int  # the clip's (and the output's)
    fps: float
    start: float  # s: the span's start (a timeline: its first cue's)
    end: float  # s: the span's end (a timeline: the clip's)
    moved: int  # frames in which the face moved
    size: int  # px the face was rendered at: the size it fills in the frame
    blend: str  # change or face
    jitter: tuple[float, float]  # the crop's shake (px/frame²), as detected and as steadied


@dataclass
class Edited:
    video: Path
    direction: Direction  # the motion (a timeline's: from the first frame to the last)
    how: EditHow
    latents: torch.Tensor  # W+ [M, L, D]: the moved frames' faces as filmed (before the motion)
    notes: list[str] = field(default_factory=list)
    identity: Identity | None = None  # the first face's, as filmed and as edited (edit_write)
    tuning: Tuning | None = None  # fidelity faithful: tuned to a few of its frames
    details: list[str] = field(default_factory=list)  # for the expert: the paths it ran on
    faces: list[MovedFace] = field(default_factory=list)  # the faces that moved (latents
    # above: the first's)


Result = Animation | Transferred | LatentAnimation | Edited  # what a use case returns
