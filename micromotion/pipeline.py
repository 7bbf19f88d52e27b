"""The one place that composes the stages: photo → aligned face → W+ → motion → mp4.

    mm = Micromotion.load()                     # official weights, loaded once
    mm.animate("photo.jpg", "smile", "smile.mp4", strength=5)

Progress goes through one callback ``progress(stage, done, total)``, stage being one of
``"align"``, ``"invert"``, ``"render"``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Union

import torch

import stylegan2

from . import direction as directions
from . import weights
from .align import AlignedFace, align_face
from .direction import Direction
from .encoders import Encoder, load_encoder, preprocess
from .errors import DirectionFileError
from .images import ImageSource
from .render import check_options, latent_path, render_frames, write_video

Progress = Callable[[str, int, int], None]
Motion = Union[str, os.PathLike, Direction, torch.Tensor]
ENCODERS = {"restyle_psp": "restyle_psp_ffhq_encode", "restyle_e4e": "restyle_e4e_ffhq_encode",
            "e4e": "e4e_ffhq_encode"}


@dataclass
class Inversion:
    wplus: torch.Tensor  # [1, n_latent, style_dim]
    aligned: AlignedFace


class Micromotion:
    """Models loaded once; every method takes user inputs and raises ``MicromotionError`` (or
    ``stylegan2.CheckpointError``) with a clear sentence when they are wrong."""

    def __init__(self, generator: stylegan2.Generator, encoder: Encoder,
                 weights_folder: str | os.PathLike | None = None, synthetic: bool = False,
                 dtype: torch.dtype | None = None):
        self.generator, self.encoder = generator, encoder
        self.weights_folder = Path(weights_folder) if weights_folder else weights.weights_dir()
        self.synthetic = synthetic
        self.dtype = dtype  # torch.bfloat16: faster CPU inversion and rendering

    @classmethod
    def load(cls, weights_folder: str | os.PathLike | None = None, encoder: str = "restyle_psp",
             device: str | torch.device | None = None, dtype: torch.dtype | None = None
             ) -> "Micromotion":
        """The FFHQ generator and an encoder (``restyle_psp``, ``restyle_e4e`` or ``e4e``)
        from the weights folder."""
        if encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}, got {encoder!r}")
        gen_path = weights.path_of("stylegan2-ffhq-config-f", weights_folder)
        enc_path = weights.path_of(ENCODERS[encoder], weights_folder)
        gen = stylegan2.load_generator(gen_path, device=device)
        return cls(gen, load_encoder(enc_path, generator=gen, device=device), weights_folder,
                   dtype=dtype)

    @classmethod
    def synthetic_models(cls, weights_folder: str | os.PathLike | None = None,
                         seed: int = 0) -> "Micromotion":
        """Seeded synthetic weights with the FFHQ latent shape (18 × 512, 1024 px, narrow
        channels), so the published directions apply. They draw abstract patterns, not faces."""
        from .synthetic import encoder_checkpoint, synthetic_encoder

        gen = stylegan2.synthetic_generator(size=1024, style_dim=512, n_mlp=8, max_channels=32,
                                            seed=seed)
        net = synthetic_encoder("BackboneEncoder", gen.n_latent, gen.style_dim, seed + 1)
        return cls(gen, load_encoder(encoder_checkpoint(net, gen), generator=gen),
                   weights_folder, synthetic=True)

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
        """One of the five published directions (``direction.PRESETS``)."""
        directions.preset_path(name, self.weights_folder)  # an unknown name fails here
        path = weights.path_of(f"direction-{name}", self.weights_folder)  # a missing file here
        return self._checked(directions.load_direction(path))

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
        check_options(frames, fps, strength, curve, size, self.generator.size)
        d = self.motion(motion)  # a bad option or motion fails before the slow work
        inv = self.invert(image, name=name, progress=progress)
        left = None
        if side_by_side:
            import numpy as np
            left = np.asarray(inv.aligned.image)
        return self.render(inv.wplus, d, out, strength, frames, fps, curve, size, left, gif,
                           progress=progress)


def _report(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)
