"""How alike ArcFace (IR-SE50) finds the photo's face and what the product renders of it: the
cosine of their identity features, 1 for the same face. An encoder's W+ renders a look-alike
(the published figures on CelebA-HQ: e4e 0.50, ReStyle 0.51, pSp 0.56; pivotal tuning 0.85), so
every result says how alike its reconstruction and its frames are.

    Identity(reconstruction=0.61, frames=(0.60, 0.58, 0.55))
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

import stylegan2
from stylegan2.paths import RenderPath

from .encoders import ArcFace
from ..precision import DEFAULT

MEASURE_RES = 256  # the size ArcFace's input is pooled from (``ArcFace.id_features``)
LOOK_ALIKE = 0.7  # below this, say that the face may be a look-alike (pivotal tuning: 0.85)


@dataclass
class Identity:
    """ArcFace cosines against the aligned photo: of the render of its inversion, and of the
    video's first, middle and last frames."""
    reconstruction: float
    frames: tuple[float, ...]


@torch.no_grad()
def similarity(arcface: ArcFace, photo: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """ArcFace cosines of each of ``images`` ``[K, 3, H, W]`` with ``photo`` ``[1, 3, H', W']``
    — or, ``photo`` ``[K, 3, H', W']``, with its own of them, pair by pair (a clip's faces as
    filmed and as edited) — all FFHQ-aligned, in [-1, 1] → ``[K]`` in [-1, 1]."""
    device = next(arcface.parameters()).device
    a = arcface.id_features(photo.float().to(device))
    b = arcface.id_features(images.float().to(device))
    return (b * a).sum(1).cpu()


@torch.no_grad()
def measure(arcface: ArcFace, generator: stylegan2.Generator, photo: torch.Tensor,
            wplus: torch.Tensor, frames: torch.Tensor, path: RenderPath = DEFAULT) -> Identity:
    """The ``Identity`` of a result: ``photo`` ``[1, 3, H, W]`` in [-1, 1], its inversion
    ``wplus`` ``[1, L, D]``, the W+ of the frames to compare ``[K, L, D]`` (the video's first,
    middle and last), each rendered at ``MEASURE_RES`` along ``path`` (the video's own: the
    rendering is most of the cost)."""
    latents = torch.cat([wplus, frames]).to(generator.latent_avg)
    # an animation's first frame is its reconstruction: each latent rendered once
    unique, index = torch.unique(latents, dim=0, return_inverse=True)
    images = path.synthesis(generator, unique, noise_mode="const",
                            max_res=min(MEASURE_RES, generator.size)).float()[index]
    cos = similarity(arcface, photo, images.clamp(-1, 1))
    return Identity(round(float(cos[0]), 4), tuple(round(float(c), 4) for c in cos[1:]))

