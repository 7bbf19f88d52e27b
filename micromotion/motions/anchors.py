"""Anchors: latent codes of one identity at increasing intensity of a motion.

Text anchors follow the paper's code (StyleCLIP's latent optimisation, "edit" mode): a seed face
``w0`` from ``z(seed)`` truncated at 0.7; for each degree of a template such as
"a person with {degree} smile", a W+ latent starts at ``w0`` and Adam (lr 0.1, cosine ramp-up
0.05 / ramp-down 0.25, 40 steps) minimises

    CLIP loss + 0.008·‖w − w0‖² + 0.005·identity loss (ArcFace, against the seed face).

All degrees are optimised in **one batch**: Adam is element-wise and the losses of different
degrees share no terms, so this equals the sequential loop (a test checks it) at a fraction of
the cost.

Video anchors are the inverted frames of a short clip of one face doing the motion: up to K
evenly spaced frames, the face tracked from frame to frame, inverted in batches, in time order.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch

import stylegan2

from ..media.align import align_track
from ..nets.clip_guidance import CLIPGuide
from ..nets.encoders import ArcFace, Encoder
from ..errors import NoFaceError, PromptError
from ..precision import FP32, Precision
from ..media.preview import Preview, from_tensors, show
from ..media.render import to_uint8
from ..latents.samples import seed_latent
from ..media.video import Clip

DEFAULT_DEGREES = ("no",) + tuple(f"{p}%" for p in range(10, 101, 10))


@dataclass
class TextAnchors:
    latents: torch.Tensor  # [K, n_latent, style_dim]
    prompts: list[str]
    images: np.ndarray  # uint8 [K, R, R, 3], for display
    final_losses: dict = field(default_factory=dict)  # per degree: clip, l2, id


@dataclass
class VideoAnchors:
    latents: torch.Tensor  # [K, n_latent, style_dim], in time order
    times: list[float]  # seconds into the clip, one per anchor
    images: np.ndarray  # uint8 [K, S, S, 3]: the aligned faces that were inverted
    notes: list[str] = field(default_factory=list)


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
                 loss_res: int | None = None, batch_size: int | None = 4,
                 precision: Precision = FP32,
                 progress: Callable[[int, int], None] | None = None,
                 preview: Preview | None = None) -> TextAnchors:
    """Optimise one W+ latent per degree from the seed face; returns the anchors
    ``[K, n_latent, style_dim]`` in degree order.

    ``loss_res``: compute the CLIP and identity losses on the early-exit image of that size
    (e.g. 256) instead of the full resolution. ``batch_size``: degrees optimised together
    (``None``: all; 1 is the reference's one-degree-at-a-time loop; the result is the same;
    4 is the fastest per degree on a 2-core CPU, where larger batches spill out of cache).
    ``precision``: the anchors' path, forward and backward (``plan.Plan.resolve``; bf16 where
    verified: CPU ~1.5× faster). ``preview`` sees the anchors as they form: after every step,
    the images the losses just saw (free: they are rendered anyway), captioned with their
    degrees; the finished anchors last."""
    prompts = prompts_from_template(template, degrees)
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    text = clip.text_features(prompts)
    with torch.no_grad():
        w0 = generator.mapping(seed_latent(generator, seed), truncation)
        w0 = w0[:, None].expand(-1, generator.n_latent, -1).contiguous()
        seed_img = generator.synthesis(w0, noise_mode="const", max_res=loss_res)
        seed_id = arcface.id_features(seed_img) if arcface is not None and id_lambda else None
    step = batch_size or len(prompts)
    groups = [list(range(k, min(k + step, len(prompts)))) for k in range(0, len(prompts), step)]
    latents, losses, seen = [], [], []
    total = steps * len(groups)
    captions = [str(d) for d in degrees]
    for g, idx in enumerate(groups):
        def step_done(i: int, img: torch.Tensor) -> None:
            if progress:
                progress(g * steps + i, total)
            if preview is not None:
                frames = np.concatenate(seen + [from_tensors(img)])
                show(preview, "anchors", frames, captions[:len(frames)], final=False)

        w, parts, last = _optimise(generator, clip, arcface, text[idx], w0, seed_id, steps, lr,
                                   l2_lambda, id_lambda, loss_res, precision, step_done)
        latents.append(w)
        losses.append(parts)
        if preview is not None:
            seen.append(from_tensors(last))
    latents = torch.cat(latents)
    with torch.no_grad():
        images = to_uint8(generator.synthesis(latents, noise_mode="const",
                                              max_res=min(256, generator.size)))
    show(preview, "anchors", images, captions)
    final = {k: sum((p[k] for p in losses), []) for k in losses[0]}
    return TextAnchors(latents, prompts, images, final)


def _optimise(generator, clip, arcface, text, w0, seed_id, steps, lr, l2_lambda, id_lambda,
              loss_res, precision, step_done):
    """Adam on ``[K, L, D]`` latents, one per text → them, the last loss terms and the last
    images the losses saw; ``step_done(i, images)`` after each step."""
    k = text.shape[0]
    w = w0.expand(k, -1, -1).clone().requires_grad_(True)
    opt = torch.optim.Adam([w], lr=lr)
    parts = {}
    for i in range(steps):
        opt.param_groups[0]["lr"] = lr_schedule(i / steps, lr)
        with precision.anchors_autocast(w.device):
            img = precision.anchors.synthesis(generator, w, noise_mode="const", max_res=loss_res)
            c = clip.loss(img, text).float()  # [K]
            if seed_id is not None:
                i_loss = 1 - (arcface.id_features(img).float() * seed_id).sum(-1)  # [K]
        l2 = (w - w0).pow(2).sum(dim=(1, 2))  # [K]
        loss = c + l2_lambda * l2
        if seed_id is not None:
            loss = loss + id_lambda * i_loss
        opt.zero_grad()
        loss.sum().backward()  # the sum keeps each degree's gradient its own
        opt.step()
        parts = {"clip": c.tolist(), "l2": l2.tolist(),
                 "id": i_loss.tolist() if seed_id is not None else [0.0] * k}
        step_done(i + 1, img)
    return w.detach(), parts, img.detach()


@dataclass
class TrackedFaces:
    """The clip's frames that show the tracked face, aligned: what ``video_anchors`` inverts."""
    faces: list  # align.AlignedFace, in time order
    times: list[float]  # seconds into the clip, one per face
    notes: list[str] = field(default_factory=list)


def track_faces(clip: Clip, size: int,
                progress: Callable[[int, int], None] | None = None) -> TrackedFaces:
    """The clip's frames → its one face, tracked and aligned at ``size`` px (no model but the
    face detector: a clip without a face fails in seconds). Frames without the face are
    skipped with a note; a clip where most frames show no face is a ``NoFaceError``."""
    names = [f"frame {i} of {clip.name}" for i in clip.indices]
    faces = align_track(clip.frames, size, names, progress=progress)
    kept = [(t, f) for t, f in zip(clip.times, faces) if f is not None]
    missing = len(faces) - len(kept)
    if len(kept) < 2 or 2 * missing > len(faces):
        raise NoFaceError(f"no face found in {missing} of the {len(faces)} frames read from "
                          f"{clip.name}; use a clip where one face stays in view")
    notes = [f"{missing} of {len(faces)} frames of {clip.name} showed no face and were "
             f"skipped"] if missing else []
    return TrackedFaces([f for _, f in kept], [t for t, _ in kept], notes)


def video_anchors(encoder: Encoder, tracked: TrackedFaces, batch_size: int = 4,
                  precision: Precision = FP32,
                  progress: Callable[[str, int, int], None] | None = None) -> VideoAnchors:
    """A clip's tracked faces (``track_faces``) → W+ anchors ``[K, 18, 512]`` in time order.
    ``progress(stage, done, total)`` with the stage "clip inversion"."""
    x = encoder.preprocess([f.image for f in tracked.faces])
    latents = []
    for b in range(0, len(x), batch_size):
        latents.append(encoder.invert(x[b:b + batch_size], precision=precision))
        if progress:
            progress("clip inversion", min(b + batch_size, len(x)), len(x))
    images = np.stack([np.asarray(f.image.convert("RGB")) for f in tracked.faces])
    return VideoAnchors(torch.cat(latents), tracked.times, images, tracked.notes)
