"""What the two doors (the Cog ``Predictor`` and the Gradio page) share: loading the models for
serving, turning request inputs into a checked motion, and an output folder that never grows.

The inputs are the Replicate model's (``image``, ``micromotion``, ``scale``) plus the engine's:
a text template with its anchor seed, an anchor video, or a direction file (at most one of the
three; each overrides ``micromotion``), and frames, fps, curve, output size, side-by-side.
A ``mode`` other than ``animate`` asks for an interpolation video instead (``interpolate``):
a walk through seeds, coarse or fine style mixing, or a circular loop; the photo, when given,
is the walk's first keyframe, the held face, or the circle's centre.
"""
from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
from pathlib import Path

import torch

import stylegan2

from . import weights
from .direction import PRESETS, Direction
from .errors import OptionError
from .interpolate import KINDS, LatentVideo, check_video
from .pipeline import Micromotion, Progress, TextMotion, VideoMotion
from .render import check_int, check_number, curve_weights
from .samples import parse_seeds
from .timeline import Cue, parse_cues
from .video import MAX_FPS

OUTPUT_SIZES = (1024, 512, 256)
MAX_FRAMES = 300
MODES = ("animate",) + KINDS


def load_models(progress: weights.Progress | None = None) -> Micromotion:
    """The pipeline for serving, loaded once: synthetic weights when ``MICROMOTION_SYNTHETIC``
    is set, else the official files (fetched when missing), on the GPU when there is one
    (with the CUDA ops built now, not on the first request), the presets read, warmed up with
    one small render."""
    if weights.synthetic_requested():
        mm = Micromotion.synthetic_models()
        presets = [n for n in PRESETS if weights.target(f"direction-{n}").is_file()]
    else:
        weights.ensure(progress=progress)
        cuda = torch.cuda.is_available()
        if cuda:
            for op in ("bias_act", "upfirdn2d"):
                stylegan2.ops.plugin.available(op)  # builds (or finds) the kernels, once
        mm = Micromotion.load(device="cuda" if cuda else None)
        mm.text_models()  # CLIP and ArcFace now, so a text request does not wait for them
        presets = PRESETS
    for name in presets:
        mm.preset(name)
    with torch.no_grad():
        mm.generator.synthesis(mm.generator.latent_avg[None].clone(), max_res=256)
    return mm


def motion_from_inputs(micromotion: str = "eyesClose", text_template: str | None = None,
                       anchor_seed: int = 0, anchor_video: str | os.PathLike | None = None,
                       direction_file: str | os.PathLike | None = None,
                       timeline: str | None = None
                       ) -> str | os.PathLike | TextMotion | VideoMotion | list[Cue]:
    """The motion a request asks for, checked: a text template, an anchor video, a direction
    file or a timeline when one is given (never two), else the preset ``micromotion``."""
    text_template = (text_template or "").strip() or None
    timeline = (timeline or "").strip() or None
    given = [n for n, v in (("text_template", text_template), ("anchor_video", anchor_video),
                            ("direction_file", direction_file), ("timeline", timeline)) if v]
    if len(given) > 1:
        raise OptionError(f"give only one of text_template, anchor_video, direction_file and "
                          f"timeline (got {' and '.join(given)})")
    check_int("anchor_seed", anchor_seed, 0, 2 ** 32 - 1)
    if timeline:
        return parse_cues(timeline)
    if text_template:
        return TextMotion(text_template, seed=int(anchor_seed))
    if anchor_video:
        return VideoMotion(anchor_video)
    if direction_file:
        return direction_file
    if micromotion not in PRESETS:
        raise OptionError(f"micromotion must be one of {', '.join(PRESETS)}, got {micromotion!r}")
    return micromotion


def check_render_inputs(scale, frames, fps, curve, output_size) -> None:
    check_int("scale", scale, 1, 10)
    check_int("frames", frames, 2, MAX_FRAMES)
    check_number("fps", fps, 1, MAX_FPS)
    curve_weights(frames, curve)  # the renderer's own check of the curve's name
    check_output_size(output_size)


def check_output_size(output_size) -> None:
    if output_size not in OUTPUT_SIZES:
        raise OptionError(f"output_size must be one of {', '.join(map(str, OUTPUT_SIZES))}, "
                          f"got {output_size!r}")


class Outputs:
    """One private temp folder per process; each request's files go in a fresh subfolder and
    the previous request's subfolder is removed then (the door has finished sending it by the
    time the next request starts), so at most one result is ever kept on disk."""

    def __init__(self, prefix: str = "micromotion-"):
        self.root = Path(tempfile.mkdtemp(prefix=prefix))
        self._lock = threading.Lock()
        self._last: Path | None = None
        atexit.register(self.close)

    def new(self, filename: str) -> Path:
        with self._lock:
            self.discard_last()
            self._last = Path(tempfile.mkdtemp(dir=self.root))
            return self._last / filename

    @contextlib.contextmanager
    def request(self, filename: str):
        """A fresh output path for one request; if the request fails, its folder goes."""
        out = self.new(filename)
        try:
            yield out
        except BaseException:
            self.discard_last()
            raise

    def discard_last(self) -> None:
        if self._last is not None:
            shutil.rmtree(self._last, ignore_errors=True)
            self._last = None

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def animate_request(mm: Micromotion, outputs: Outputs, image, micromotion: str = "eyesClose",
                    scale: int = 5, text_template: str | None = None, anchor_seed: int = 0,
                    anchor_video=None, direction_file=None, frames: int = 100, fps: float = 30,
                    curve: str = "linear", output_size: int = 1024, side_by_side: bool = False,
                    paste_back: str = "auto", timeline: str | None = None,
                    progress: Progress | None = None):
    """One request, every input checked before any slow work → ``pipeline.Animation``. A
    ``timeline`` (cues, ``timeline.parse_cues``) replaces ``micromotion`` and ``scale``. On an
    error nothing of the request stays on disk."""
    if _missing(image):
        raise OptionError("image is required: a photo with a face (or pick a latent-video "
                          "mode: walk, coarse, fine or circle)")
    check_render_inputs(scale, frames, fps, curve, output_size)
    motion = motion_from_inputs(micromotion, text_template, anchor_seed, anchor_video,
                                direction_file, timeline)
    with outputs.request("micromotion.mp4") as out:
        return mm.animation(image, motion, out, strength=float(scale), frames=int(frames),
                            fps=float(fps), curve=curve, size=int(output_size),
                            side_by_side=bool(side_by_side), paste_back=paste_choice(paste_back),
                            progress=progress)


def transfer_request(mm: Micromotion, outputs: Outputs, image, driving_video,
                     strength: float = 1.0, neutral_frame: int = 0, fps: float | None = None,
                     output_size: int = 1024, side_by_side: bool = False,
                     paste_back: str = "auto", progress: Progress | None = None):
    """Motion transfer: the photo's face performs the driving clip's motion at its timing
    (``fps`` None: the clip's own rate) → ``pipeline.Transferred``."""
    if _missing(image):
        raise OptionError("image is required: the photo whose face will move")
    if _missing(driving_video):
        raise OptionError("driving_video is required: a clip of one face moving")
    check_number("strength", strength, 0, 10)
    check_int("neutral_frame", neutral_frame, 0, MAX_FRAMES - 1)
    if fps is not None:
        check_number("fps", fps, 1, MAX_FPS)
    check_output_size(output_size)
    with outputs.request("transfer.mp4") as out:
        return mm.transfer(image, driving_video, out, int(neutral_frame), float(strength),
                           fps=fps and float(fps), size=int(output_size),
                           paste_back=paste_choice(paste_back), side_by_side=bool(side_by_side),
                           max_frames=MAX_FRAMES, progress=progress)


def paste_choice(value: str) -> bool | None:
    """``"auto"`` / ``"on"`` / ``"off"`` → None / True / False."""
    choices = {"auto": None, "on": True, "off": False}
    if value not in choices:
        raise OptionError(f"paste_back must be one of auto, on, off, got {value!r}")
    return choices[value]


def interpolate_request(mm: Micromotion, outputs: Outputs, mode: str = "walk", image=None,
                        seeds: str = "1-4", interpolation: str = "cubic",
                        frames_per_segment: int = 30, loop: bool = False, source_seed: int = 0,
                        radius: float = 1.0, frames: int = 120, truncation: float = 0.7,
                        fps: float = 30, output_size: int = 1024,
                        progress: Progress | None = None):
    """One interpolation-video request (``mode`` walk, coarse, fine or circle), every input
    checked before any slow work → ``pipeline.LatentAnimation``. The photo, if any, is the
    walk's first keyframe, else the held face or the circle's centre (else ``source_seed``)."""
    if mode not in KINDS:
        raise OptionError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    check_number("fps", fps, 1, MAX_FPS)
    check_int("source_seed", source_seed, 0, 2 ** 32 - 1)
    check_output_size(output_size)
    photo = None if _missing(image) else image
    keys = parse_seeds(seeds) if (seeds or "").strip() else []
    video = LatentVideo(mode, keys, [photo] if photo is not None and mode == "walk" else [],
                        photo if photo is not None and mode != "walk" else int(source_seed),
                        interpolation, int(frames_per_segment), bool(loop), radius=radius,
                        frames=frames, truncation=truncation)
    check_video(video, mm.generator.n_latent, mm.generator.size, MAX_FRAMES)
    with outputs.request(f"{mode}.mp4") as out:
        return mm.interpolation(video, out, fps=float(fps), size=int(output_size),
                                progress=progress)


def _missing(image) -> bool:
    return image is None or (isinstance(image, (str, os.PathLike)) and not str(image))


def direction_meta(d: Direction) -> str:
    """One line on how a direction was made, for the pages."""
    m = d.meta
    return ", ".join(f"{k}: {m[k]}" for k in ("source", "template", "file", "anchors", "rank")
                     if k in m)


def interpolation_meta(meta: dict) -> str:
    """One line on how a latent video was made, for the pages."""
    return ", ".join(f"{k}: {meta[k]}" for k in ("kind", "seeds", "photos", "method", "loop",
                                                 "radius", "frames", "step_mse_spread")
                     if k in meta)
