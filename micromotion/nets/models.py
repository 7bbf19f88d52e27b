"""The loaded models, held once per process: the FFHQ generator, an encoder, and on first use
CLIP and ArcFace (text anchors) and the published directions. Holding and loading only: the
stages (``pipeline``, ``motions``) are plain functions that take a ``Models``.

    models = Models.load()                 # the official files from the weights folder
    models = Models.synthetic()            # seeded synthetic weights (abstract patterns)
"""
from __future__ import annotations

import copy
import os
import threading
from pathlib import Path

import torch

import stylegan2

from ..latents import direction as directions
from .. import weights
from ..latents.direction import Direction
from ..latents.provenance import Published
from .encoders import Encoder, load_encoder
from ..errors import DirectionFileError
from .plan import Plan



class Models:
    """The generator and encoder, and caches of what loads on first use."""

    def __init__(self, generator: stylegan2.Generator, encoder: Encoder,
                 weights_folder: str | os.PathLike | None = None, synthetic: bool = False,
                 fetch: bool = False):
        self.generator, self.encoder = generator, encoder
        self.weights_folder = Path(weights_folder) if weights_folder else weights.weights_dir()
        self.synthetic = synthetic
        self.fetch = fetch  # download weights files (presets, CLIP, ArcFace) when missing
        self._text_models = None
        self._arcface = self._lpips = None
        self._lock = threading.Lock()  # one ArcFace, however many requests ask at once
        self._presets: dict[str, Direction] = {}
        self._plan: Plan | None = None
        self._plan_lock = threading.Lock()

    @classmethod
    def load(cls, weights_folder: str | os.PathLike | None = None, encoder: str = "restyle_psp",
             device: str | torch.device | None = None, fetch: bool = False,
             progress: weights.Progress | None = None) -> "Models":
        """The FFHQ generator and an encoder (one the manifest lists, ``weights.encoders``:
        ``restyle_psp``, ``restyle_e4e`` or ``e4e``) from the weights folder; ``fetch``
        downloads missing files (``weights.fetch``)."""
        known = weights.encoders()
        if encoder not in known:
            raise ValueError(f"encoder must be one of {', '.join(known)}, got {encoder!r}")
        names = ["stylegan2-ffhq-config-f", known[encoder]]
        gen_path, enc_path = (weights.ensure(names, weights_folder, progress=progress).values()
                              if fetch else (weights.path_of(n, weights_folder) for n in names))
        gen = stylegan2.load_generator(gen_path, device=device)
        return cls(gen, load_encoder(enc_path, generator=gen, device=device), weights_folder,
                   fetch=fetch)

    @classmethod
    def synthetic(cls, weights_folder: str | os.PathLike | None = None, seed: int = 0,
                  fetch: bool = False, device: str | torch.device | None = None) -> "Models":
        """Seeded synthetic weights with the FFHQ latent shape (18 × 512, 1024 px, narrow
        channels), so the published directions apply (``fetch``: download them when missing).
        They draw abstract patterns, not faces."""
        from .synthetic import encoder_checkpoint, synthetic_encoder

        gen = stylegan2.synthetic_generator(size=1024, style_dim=512, n_mlp=8, max_channels=32,
                                            seed=seed)
        net = synthetic_encoder("BackboneEncoder", gen.n_latent, gen.style_dim, seed + 1)
        return cls(gen, load_encoder(encoder_checkpoint(net, gen), generator=gen, device=device),
                   weights_folder, synthetic=True, fetch=fetch)

    @property
    def plan(self) -> Plan:
        """How this machine runs each stage (``plan.Plan``), measured on first use, once."""
        with self._plan_lock:
            if self._plan is None:
                self._plan = Plan.measure(self.generator, self.encoder)
            return self._plan

    @plan.setter
    def plan(self, plan: Plan) -> None:
        self._plan = plan

    @property
    def device(self) -> torch.device:
        return self.generator.latent_avg.device

    @property
    def shape(self) -> tuple[int, int]:
        """The generator's W+: (n_latent, style_dim), e.g. (18, 512)."""
        return self.generator.n_latent, self.generator.style_dim

    def weights_file(self, name: str) -> Path:
        """Manifest entry ``name`` in this weights folder (fetched if allowed)."""
        if self.fetch:
            return weights.fetch(name, self.weights_folder)
        return weights.path_of(name, self.weights_folder)

    def preset(self, name: str) -> Direction:
        """One of the five published directions (``fields.PRESETS``), read once."""
        directions.check_preset(name)
        if name not in self._presets:
            d = directions.load_direction(self.weights_file(f"direction-{name}"))
            d.made = Published(d.made.file if isinstance(d.made, Published) else name, name)
            self._presets[name] = self.checked(d)
        return self._presets[name]

    def text_models(self):
        """(CLIP guide, ArcFace), loaded on first use and kept."""
        if self._text_models is None:
            from .clip_guidance import CLIPGuide, load_clip
            if self.synthetic:
                from .synthetic import synthetic_clip_state
                clip = CLIPGuide(synthetic_clip_state())
            else:
                clip = load_clip(self.weights_file("clip-vit-b-32"))
            clip.model.to(self.device)
            self._text_models = (clip, self.arcface())
        return self._text_models

    def lpips(self):
        """LPIPS v0.1 on AlexNet (``lpips.LPIPS``), loaded on first use and kept."""
        with self._lock:
            if self._lpips is None:
                from .lpips import load_lpips, synthetic_states
                files = synthetic_states() if self.synthetic else \
                    (self.weights_file("alexnet"), self.weights_file("lpips-alex"))
                self._lpips = load_lpips(*files).to(self.device)
        return self._lpips

    def tuned(self, generator: stylegan2.Generator) -> "Models":
        """These models with ``generator`` in place of the shared one (one request's pivotal
        tuning), sharing everything else: the shared models never change."""
        view = copy.copy(self)
        view.generator = generator
        return view

    def arcface(self):
        """The IR-SE50 ArcFace (identity features), loaded on first use and kept."""
        with self._lock:
            if self._arcface is None:
                from .encoders import load_arcface
                if self.synthetic:
                    from .synthetic import synthetic_arcface_state
                    state = synthetic_arcface_state()
                else:
                    state = self.weights_file("model_ir_se50")
                self._arcface = load_arcface(state).to(self.device)
        return self._arcface

    def checked(self, d: Direction) -> Direction:
        """``d``, if its shape is this generator's W+ ``[n_latent, style_dim]``."""
        want = self.shape
        if tuple(d.vector.shape) != want:
            raise DirectionFileError(f"the direction is {list(d.vector.shape)} but this "
                                     f"generator needs {list(want)}")
        return d

