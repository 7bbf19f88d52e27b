"""Encoders: aligned faces → W+, behind one interface (``Encoder``), so the stages never read
an encoder's insides; and ArcFace, whose IR-SE50 trunk the pSp family shares.

A layout of encoder checkpoints is one module here with ``accepts(ckpt)``, ``load(ckpt,
generator, name)`` and ``to(encoder, device)``, and one line in ``LAYOUTS``; its files are
manifest entries (``weights/manifest.json``) with an ``"encoder"`` name, which ``--encoder``
and ``Models.load`` take.

    enc = load_encoder("weights/restyle_psp_ffhq_encode.pt", generator=g)
    w = enc.invert(enc.preprocess(aligned_faces))   # W+ [N, 18, 512]
"""
from __future__ import annotations

import os
from typing import Callable, Mapping, Protocol, Sequence

import torch
from PIL import Image

import stylegan2

from ...errors import EncoderCheckpointError
from ...precision import FP32, Precision
from . import psp
from .irse import ArcFace, load_arcface
from .tensors import to_tensor as preprocess

LAYOUTS = (psp,)  # each: accepts(ckpt), load(ckpt, generator, name), to(encoder, device)

__all__ = ["Encoder", "load_encoder", "preprocess", "ArcFace", "load_arcface", "LAYOUTS"]


class Encoder(Protocol):
    """What the stages need of an encoder: the aligned face's size it takes, how it makes a
    tensor of faces, and W+ from them (with one pass to time, for the plan)."""
    input_size: int  # px: the side of the aligned face it takes (256 for the official ones)

    @property
    def device(self) -> torch.device: ...

    def preprocess(self, faces: Sequence[Image.Image] | Image.Image) -> torch.Tensor:
        """Aligned faces → its input ``[N, 3, S, S]`` (S = ``input_size``)."""

    def invert(self, images: torch.Tensor, iterations: int | None = None,
               progress: Callable[[int, int], None] | None = None,
               precision: Precision = FP32, start: torch.Tensor | None = None) -> torch.Tensor:
        """``preprocess``'s ``[N, 3, S, S]`` → W+ ``[N, n_latent, style_dim]`` (float32);
        ``progress(done, total)`` per pass, ``precision`` its arithmetic (``plan``), ``start``
        W+ to refine from (a warm start; an encoder that does not refine ignores it)."""

    def encode(self, x: torch.Tensor, precision: Precision = FP32) -> torch.Tensor:
        """One pass on ``probe()``'s kind of input → W+ offsets: what the plan times."""

    def probe(self) -> torch.Tensor:
        """A seeded input of one pass, on the encoder's device."""


def load_encoder(source: str | os.PathLike | Mapping, generator: stylegan2.Generator | None = None,
                 device: str | torch.device | None = None) -> Encoder:
    """An encoder from a checkpoint (path or loaded dict) of any layout in ``LAYOUTS``, loaded
    strictly and without unpickling code. ``generator``: use this one (e.g. the FFHQ generator
    already loaded) instead of a copy in the file."""
    name = str(source) if isinstance(source, (str, os.PathLike)) else "encoder checkpoint dict"
    try:
        ckpt = stylegan2.read_checkpoint(source) if isinstance(source, (str, os.PathLike)) \
            else dict(source)
    except stylegan2.CheckpointError as exc:
        raise EncoderCheckpointError(str(exc)) from exc
    layout = next((m for m in LAYOUTS if m.accepts(ckpt)), None)
    if layout is None:
        opts = ckpt.get("opts")
        kind = opts.get("encoder_type") if isinstance(opts, Mapping) else None
        if kind is not None:
            raise EncoderCheckpointError(f"{name}: unsupported encoder_type {kind!r}; supported: "
                                         f"{', '.join(psp.ENCODER_TYPES)}")
        raise EncoderCheckpointError(
            f"{name} is not a pSp/ReStyle/e4e encoder checkpoint: it needs 'state_dict' and "
            f"'opts' (found keys {', '.join(map(str, list(ckpt)[:6]))})")
    return layout.to(layout.load(ckpt, generator, name), device)
