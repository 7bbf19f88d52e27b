"""The one place that composes the stages: photo → aligned face → W+ → motion → mp4.

    mm = Micromotion.load()                     # official weights, loaded once
    mm.animate("photo.jpg", "smile", "smile.mp4", strength=5)

    d, anchors = mm.direction_from_text("a person with {degree} smile")   # CLIP anchors
    d, anchors = mm.direction_from_video("clip.mp4")                          # video anchors

Progress goes through one callback ``progress(stage, done, total)``, stage being one of
``"align"``, ``"invert"``, ``"anchors"`` (text optimisation steps), ``"direction"``,
``"render"``.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence, Union

import numpy as np
import torch

import stylegan2

from . import direction as directions
from . import weights
from .align import AlignedFace, align_face
from .anchors import (DEFAULT_DEGREES, TextAnchors, VideoAnchors, prompts_from_template,
                      text_anchors, video_anchors)
from .direction import Direction, direction_from_anchors
from .encoders import Encoder, load_encoder, preprocess
from .errors import DirectionFileError, OptionError
from .images import ImageSource
from .render import check_int, check_options, latent_path, render_frames, write_video
from .video import MAX_SECONDS, Clip, read_clip

Progress = Callable[[str, int, int], None]
Motion = Union[str, os.PathLike, Direction, torch.Tensor]
ENCODERS = {"restyle_psp": "restyle_psp_ffhq_encode", "restyle_e4e": "restyle_e4e_ffhq_encode",
            "e4e": "e4e_ffhq_encode"}


@dataclass
class TextMotion:
    """A motion described in words: anchors from CLIP (``Micromotion.direction_from_text``)."""
    template: str  # with {degree}, e.g. "a person with {degree} smile"
    degrees: Sequence[str] = DEFAULT_DEGREES
    seed: int = 0
    steps: int = 40
    rank: int = 4
    loss_res: int | None = 256


@dataclass
class VideoMotion:
    """A motion shown in a clip: anchors from its frames (``direction_from_video``)."""
    video: str | os.PathLike | Clip
    max_frames: int = 16
    rank: int = 4


@dataclass
class Animation:
    video: Path
    aligned: AlignedFace
    direction: Direction
    anchor_images: np.ndarray | None  # uint8 [K, S, S, 3] for text and video motions


@dataclass
class Inversion:
    wplus: torch.Tensor  # [1, n_latent, style_dim]
    aligned: AlignedFace


class Micromotion:
    """Models loaded once; every method takes user inputs and raises ``MicromotionError`` (or
    ``stylegan2.CheckpointError``) with a clear sentence when they are wrong."""

    def __init__(self, generator: stylegan2.Generator, encoder: Encoder,
                 weights_folder: str | os.PathLike | None = None, synthetic: bool = False,
                 dtype: torch.dtype | None = None, fetch: bool = False):
        self.generator, self.encoder = generator, encoder
        self.weights_folder = Path(weights_folder) if weights_folder else weights.weights_dir()
        self.synthetic = synthetic
        self.fetch = fetch  # download weights files (presets, CLIP, ArcFace) when missing
        self.dtype = dtype  # torch.bfloat16: faster CPU inversion, anchors and rendering
        self._text_models = None  # CLIP and ArcFace, loaded on the first text direction
        self._presets: dict[str, Direction] = {}

    @classmethod
    def load(cls, weights_folder: str | os.PathLike | None = None, encoder: str = "restyle_psp",
             device: str | torch.device | None = None, dtype: torch.dtype | None = None,
             fetch: bool = False, progress: weights.Progress | None = None) -> "Micromotion":
        """The FFHQ generator and an encoder (``restyle_psp``, ``restyle_e4e`` or ``e4e``)
        from the weights folder; ``fetch`` downloads missing files (``weights.fetch``)."""
        if encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}, got {encoder!r}")
        names = ["stylegan2-ffhq-config-f", ENCODERS[encoder]]
        gen_path, enc_path = (weights.ensure(names, weights_folder, progress=progress).values()
                              if fetch else (weights.path_of(n, weights_folder) for n in names))
        gen = stylegan2.load_generator(gen_path, device=device)
        return cls(gen, load_encoder(enc_path, generator=gen, device=device), weights_folder,
                   dtype=dtype, fetch=fetch)

    def weights_file(self, name: str) -> Path:
        """Manifest entry ``name`` in this pipeline's weights folder (fetched if allowed)."""
        if self.fetch:
            return weights.fetch(name, self.weights_folder)
        return weights.path_of(name, self.weights_folder)

    @classmethod
    def synthetic_models(cls, weights_folder: str | os.PathLike | None = None,
                         seed: int = 0, fetch: bool = False) -> "Micromotion":
        """Seeded synthetic weights with the FFHQ latent shape (18 × 512, 1024 px, narrow
        channels), so the published directions apply (``fetch``: download them when missing).
        They draw abstract patterns, not faces."""
        from .synthetic import encoder_checkpoint, synthetic_encoder

        gen = stylegan2.synthetic_generator(size=1024, style_dim=512, n_mlp=8, max_channels=32,
                                            seed=seed)
        net = synthetic_encoder("BackboneEncoder", gen.n_latent, gen.style_dim, seed + 1)
        return cls(gen, load_encoder(encoder_checkpoint(net, gen), generator=gen),
                   weights_folder, synthetic=True, fetch=fetch)

    # -- stages ------------------------------------------------------------------------------
    def invert(self, image: ImageSource, name: str | None = None,
               progress: Progress | None = None) -> Inversion:
        """Align the most confident face and invert it: W+ ``[1, n_latent, style_dim]``."""
        _report(progress, "align", 0, 1)
        aligned = align_face(image, self.encoder.input_size, name=name)
        _report(progress, "align", 1, 1)
        x = preprocess(aligned.image, self.encoder.input_size)
        w = self.encoder.invert(x, dtype=self.dtype,
                                progress=lambda i, n: _report(progress, "invert", i, n))
        return Inversion(w, aligned)

    def preset(self, name: str) -> Direction:
        """One of the five published directions (``direction.PRESETS``), read once."""
        directions.check_preset(name)
        if name not in self._presets:
            path = self.weights_file(f"direction-{name}")
            self._presets[name] = self._checked(directions.load_direction(path))
        return self._presets[name]

    def motion(self, motion: Motion) -> Direction:
        """A preset name, a direction file, a ``Direction`` or a ``[L, D]`` tensor → Direction."""
        if isinstance(motion, Direction):
            return self._checked(motion)
        if isinstance(motion, torch.Tensor):
            return self._checked(Direction(motion.detach().float(), {"source": "tensor"}))
        path = Path(motion)
        if path.is_file() or path.suffix or len(path.parts) > 1:
            return self._checked(directions.load_direction(path))
        return self.preset(str(motion))  # a bare word: a preset name, or a clear error

    def direction_from_text(self, template: str, degrees: Sequence[str] = DEFAULT_DEGREES,
                            seed: int = 0, steps: int = 40, rank: int = 4,
                            loss_res: int | None = 256,
                            progress: Progress | None = None) -> tuple[Direction, TextAnchors]:
        """A direction from CLIP-guided anchors of the face ``z(seed)`` over the template's
        degrees (the paper's text anchors, ``anchors.text_anchors``). ``loss_res``: the size of
        the early-exit image the losses see (``None``: full resolution)."""
        prompts_from_template(template, degrees)  # a bad template fails before loading CLIP
        check_int("seed", seed, 0, 2 ** 32 - 1)
        check_int("steps", steps, 1, 1000)
        check_int("rank", rank, 1, 64)
        res = None if loss_res is None else min(loss_res, self.generator.size)
        if res is not None and (isinstance(res, bool) or not isinstance(res, int) or res < 32
                                or res & (res - 1)):
            raise OptionError(f"loss_res must be a power of two from 32 to "
                              f"{self.generator.size}, or None for full size; got {loss_res!r}")
        clip, arcface = self.text_models()
        a = text_anchors(self.generator, clip, arcface, template, degrees, seed, steps,
                         loss_res=res, dtype=self.dtype,
                         progress=lambda i, n: _report(progress, "anchors", i, n))
        meta = {"source": "text", "template": template, "degrees": list(map(str, degrees)),
                "seed": seed, "steps": steps, "loss_res": res, "final_losses": a.final_losses}
        return self._from_anchors(a.latents, rank, meta, progress), a

    def direction_from_video(self, video: str | os.PathLike | Clip, max_frames: int = 16,
                             rank: int = 4, max_seconds: float = MAX_SECONDS,
                             progress: Progress | None = None) -> tuple[Direction, VideoAnchors]:
        """A direction from a short clip of one face doing the motion: up to ``max_frames``
        evenly spaced frames, aligned (tracked), inverted, as anchors in time order."""
        check_int("rank", rank, 1, 64)
        clip = video if isinstance(video, Clip) else read_clip(video, max_frames, max_seconds)
        a = video_anchors(self.encoder, clip, dtype=self.dtype,
                          progress=lambda stage, i, n: _report(progress, stage, i, n))
        meta = {"source": "video", "file": clip.name, "fps": clip.fps,
                "times": a.times, "notes": a.notes}
        return self._from_anchors(a.latents, rank, meta, progress), a

    def direction_from(self, motion: TextMotion | VideoMotion, progress: Progress | None = None
                       ) -> tuple[Direction, TextAnchors | VideoAnchors]:
        """``direction_from_text`` or ``direction_from_video``, as the motion says."""
        make = self.direction_from_text if isinstance(motion, TextMotion) else \
            self.direction_from_video
        return make(**vars(motion), progress=progress)

    def text_models(self):
        """(CLIP guide, ArcFace), loaded on first use and kept."""
        if self._text_models is None:
            from .clip_guidance import CLIPGuide, load_clip
            from .encoders import load_arcface
            if self.synthetic:
                from .synthetic import synthetic_arcface_state, synthetic_clip_state
                self._text_models = (CLIPGuide(synthetic_clip_state()),
                                     load_arcface(synthetic_arcface_state()))
            else:
                self._text_models = (load_clip(self.weights_file("clip-vit-b-32")),
                                     load_arcface(self.weights_file("model_ir_se50")))
            device = self.generator.input.input.device
            for m in (self._text_models[0].model, self._text_models[1]):
                m.to(device)
        return self._text_models

    def _from_anchors(self, latents: torch.Tensor, rank: int, meta: dict,
                      progress: Progress | None) -> Direction:
        _report(progress, "direction", 0, 1)
        vector, diag = direction_from_anchors(latents, rank)
        _report(progress, "direction", 1, 1)
        meta = dict(meta, rank=diag["rank"], anchors=int(latents.shape[0]),
                    explained_energy=diag["explained_energy"],
                    sparse_energy=diag["sparse_energy"])
        return self._checked(Direction(vector, meta))

    def _checked(self, d: Direction) -> Direction:
        want = (self.generator.n_latent, self.generator.style_dim)
        if tuple(d.vector.shape) != want:
            raise DirectionFileError(f"the direction is {list(d.vector.shape)} but this "
                                     f"generator needs {list(want)}")
        return d

    def render(self, wplus: torch.Tensor, direction: Direction, out: str | os.PathLike,
               strength: float = 5.0, frames: int = 100, fps: float = 30,
               curve: str = "linear", size: int | None = None, left=None,
               gif: str | os.PathLike | None = None, batch_size: int = 4,
               progress: Progress | None = None) -> Path:
        """Frames ``wplus + t·strength·direction`` → an mp4 at ``out`` (and a GIF at ``gif``)."""
        check_options(frames, fps, strength, curve, size, self.generator.size)
        latents = latent_path(wplus, direction.vector.to(wplus.device), strength, frames, curve)
        batches = render_frames(self.generator, latents, batch_size, size, self.dtype,
                                lambda i, n: _report(progress, "render", i, n))
        return write_video(batches, out, fps, left=left, gif_path=gif)

    def animate(self, image: ImageSource, motion: Motion, out: str | os.PathLike,
                strength: float = 5.0, frames: int = 100, fps: float = 30,
                curve: str = "linear", size: int | None = None, side_by_side: bool = False,
                gif: str | os.PathLike | None = None, name: str | None = None,
                progress: Progress | None = None) -> Path:
        """Photo + motion → mp4: the face of the photo performing the motion. The defaults
        reproduce the original (100 frames of w + i/100·5·d at 30 fps, 1024 px)."""
        return self.animation(image, motion, out, strength, frames, fps, curve, size,
                              side_by_side, gif, name, progress).video

    def animation(self, image: ImageSource, motion: Motion | TextMotion | VideoMotion,
                  out: str | os.PathLike, strength: float = 5.0, frames: int = 100,
                  fps: float = 30, curve: str = "linear", size: int | None = None,
                  side_by_side: bool = False, gif: str | os.PathLike | None = None,
                  name: str | None = None, progress: Progress | None = None) -> Animation:
        """``animate`` with everything made on the way: the aligned face, the direction and,
        for a ``TextMotion`` or ``VideoMotion``, the anchor images. Every input is checked
        before the slow stages; the photo is inverted before anchors are made, so a photo
        without a face fails in seconds, not after the optimisation."""
        check_options(frames, fps, strength, curve, size, self.generator.size)
        if isinstance(motion, TextMotion):
            prompts_from_template(motion.template, motion.degrees)
        elif isinstance(motion, VideoMotion):
            motion = dataclasses.replace(motion, video=read_clip(motion.video, motion.max_frames))
        else:
            motion = self.motion(motion)
        inv = self.invert(image, name=name, progress=progress)
        anchor_images = None
        if isinstance(motion, (TextMotion, VideoMotion)):
            motion, a = self.direction_from(motion, progress)
            anchor_images = a.images
        left = np.asarray(inv.aligned.image) if side_by_side else None
        video = self.render(inv.wplus, motion, out, strength, frames, fps, curve, size, left,
                            gif, progress=progress)
        return Animation(video, inv.aligned, motion, anchor_images)


def _report(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)
