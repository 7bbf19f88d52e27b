"""Anchors: latent codes of one identity at increasing intensity of a motion.

Text anchors follow the paper's code (StyleCLIP's latent optimisation, "edit" mode): a seed face
``w0`` from ``z(seed)`` truncated at 0.7; for each degree of a template such as
"a person with {degree} smile", a W+ latent starts at ``w0`` and Adam (lr 0.1, cosine ramp-up
0.05 / ramp-down 0.25, 40 steps) minimises

    CLIP loss + 0.008·‖w − w0‖² + 0.005·identity loss (ArcFace, against the seed face).

All degrees are optimised in **one batch**: Adam is element-wise and the losses of different
degrees share no terms, so this equals the sequential loop (a test checks it) at a fraction of
the cost.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch

import stylegan2

from .clip_guidance import CLIPGuide
from .encoders import ArcFace
from .errors import PromptError
from .render import to_uint8
from .samples import seed_latent

DEFAULT_DEGREES = ("no",) + tuple(f"{p}%" for p in range(10, 101, 10))


@dataclass
class TextAnchors:
    latents: torch.Tensor  # [K, n_latent, style_dim]
    prompts: list[str]
    images: np.ndarray  # uint8 [K, R, R, 3], for display
    final_losses: dict = field(default_factory=dict)  # per degree: clip, l2, id


def prompts_from_template(template: str, degrees: Sequence[str] = DEFAULT_DEGREES) -> list[str]:
    """"a person with {degree} smile" × degrees → prompts; a template without ``{degree}`` is an error."""
    if not isinstance(template, str) or not template.strip():
        raise PromptError("the text template is empty: write e.g. 'a person with {degree} smile'")
    if "{degree}" not in template:
        raise PromptError(f"the template {template!r} has no {{degree}}: write e.g. "
                          f"'a person with {{degree}} smile'")
    if len(degrees) < 2:
        raise PromptError(f"give at least 2 degrees, got {list(degrees)}")
    return [template.replace("{degree}", str(d)) for d in degrees]


def lr_schedule(t: float, lr: float, rampdown: float = 0.25, rampup: float = 0.05) -> float:
    """StyleCLIP's learning rate at progress t ∈ [0, 1): cosine ramp-down, linear ramp-up."""
    ramp = min(1.0, (1.0 - t) / rampdown)
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    return lr * ramp * min(1.0, t / rampup)


def text_anchors(generator: stylegan2.Generator, clip: CLIPGuide, arcface: ArcFace | None,
                 template: str, degrees: Sequence[str] = DEFAULT_DEGREES, seed: int = 0,
                 steps: int = 40, lr: float = 0.1, l2_lambda: float = 0.008,
                 id_lambda: float = 0.005, truncation: float = 0.7,
                 loss_res: int | None = None, batched: bool = True,
                 progress: Callable[[int, int], None] | None = None) -> TextAnchors:
    """Optimise one W+ latent per degree from the seed face; returns the anchors in degree
    order. ``loss_res`` computes the CLIP and identity losses on an early-exit image of that
    size (e.g. 256) instead of the full resolution; ``batched=False`` runs the reference's
    one-degree-at-a-time loop."""
    prompts = prompts_from_template(template, degrees)
    text = clip.text_features(prompts)
    with torch.no_grad():
        w0 = generator.mapping(seed_latent(generator, seed).to(text.device), truncation)
        w0 = w0[:, None].expand(-1, generator.n_latent, -1).contiguous()
        seed_img = generator.synthesis(w0, noise_mode="const", max_res=loss_res)
        seed_id = arcface.id_features(seed_img) if arcface is not None and id_lambda else None
    groups = [list(range(len(prompts)))] if batched else [[k] for k in range(len(prompts))]
    latents, losses = [], []
    total = steps * len(groups)
    for g, idx in enumerate(groups):
        w, parts = _optimise(generator, clip, arcface, text[idx], w0, seed_id, steps, lr,
                             l2_lambda, id_lambda, loss_res,
                             lambda i: progress(g * steps + i, total) if progress else None)
        latents.append(w)
        losses.append(parts)
    latents = torch.cat(latents)
    with torch.no_grad():
        images = to_uint8(generator.synthesis(latents, noise_mode="const",
                                              max_res=min(256, generator.size)))
    final = {k: sum((p[k] for p in losses), []) for k in losses[0]}
    return TextAnchors(latents, prompts, images, final)


def _optimise(generator, clip, arcface, text, w0, seed_id, steps, lr, l2_lambda, id_lambda,
              loss_res, step_done):
    """Adam on ``[K, L, D]`` latents, one per text; returns them and the last loss terms."""
    k = text.shape[0]
    w = w0.expand(k, -1, -1).clone().requires_grad_(True)
    opt = torch.optim.Adam([w], lr=lr)
    parts = {}
    for i in range(steps):
        opt.param_groups[0]["lr"] = lr_schedule(i / steps, lr)
        img = generator.synthesis(w, noise_mode="const", max_res=loss_res)
        c = clip.loss(img, text)  # [K]
        l2 = (w - w0).pow(2).sum(dim=(1, 2))  # [K]
        loss = c + l2_lambda * l2
        if seed_id is not None:
            i_loss = 1 - (arcface.id_features(img) * seed_id).sum(-1)  # [K]
            loss = loss + id_lambda * i_loss
        opt.zero_grad()
        loss.sum().backward()  # the sum keeps each degree's gradient its own
        opt.step()
        parts = {"clip": c.tolist(), "l2": l2.tolist(),
                 "id": i_loss.tolist() if seed_id is not None else [0.0] * k}
        if step_done:
            step_done(i + 1)
    return w.detach(), parts
