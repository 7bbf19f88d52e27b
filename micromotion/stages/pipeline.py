"""The use cases, each composing the stages top to bottom: photo → aligned face → W+ → path →
frames → mp4 (the steps they share are ``steps``'s). Each takes the loaded ``Models``, a
request (``request.Animate``, ``Transfer`` or ``LatentVideo``: checked by its door, or here
when no door did, before any slow stage) and
the run's context (``run.Run``: where to write the video, who watches, the precision, how to
stop); each returns its typed result (``results``).

    models = Models.load()
    animate(models, Animate(image="photo.jpg", micromotion="smile"), Run("smile.mp4"))
    transfer_clip(models, Transfer(image="photo.jpg", driving_video="me.mp4"), Run("t.mp4"))
    latent_video(models, LatentVideo("circle", seeds="1,2"), Run("loop.mp4"))

Progress goes through the run's ``progress(stage, done, total)``, stage being one of
``"align"``, ``"invert"``, ``"clip faces"`` and ``"clip inversion"`` (a clip's frames),
``"anchors"`` (text optimisation steps), ``"direction"``,
``"equalise"`` (circle steps), ``"render"``. Every result carries ``notes``: the choices made
for the user (which face, the video's real size), for the doors to say.
"""
from __future__ import annotations

import dataclasses
import numpy as np
import torch

from ..media.align import AlignedFace
from ..requests.checks import ensure_checked
from ..fields import FIELDS
from ..media.images import ImageSource
from ..latents.interpolate import circle_path, mix_layers, seed_latents, walk_path
from ..nets.models import Models
from ..motions import distinct, request_motions, source_of
from ..naming import display_name
from ..precision import FP32, Precision
from ..media.preview import show_faces
from ..media.render import check_int, latent_path
from ..requests.request import Animate, LatentVideo, Transfer
from .results import (Animation, CircleSteps, Inversion, LatentAnimation, LatentHow, Transferred,
                      TransferHow)
from ..run import Run
from .steps import (align, faithful, identity_of, invert, invert_face, render_latents,
                    render_onto, tuning_notes)
from ..motions.driver import MotionOffsets, driver_faces, driver_latents, motion_offsets, smooth
from ..media.video import read_frames


def animate(models: Models, req: Animate, run: Run) -> Animation:
    """The photo's face performing the request's motion → mp4 at ``run.out`` (and a GIF).
    The defaults reproduce the original: 100 frames of w + i/100·5·d at 30 fps, 1024 px —
    pasted back into the photo when it is larger than the face's crop."""
    req, run = _ready(models, req, run)
    face = align(models, req.image, display_name(req, "image"), run)
    # a clip's faces found (and shown) before the photo's inversion
    once, which = distinct(request_motions(req))  # identical cues make their anchors once
    motions = [m.ready(models, run) for m in once]
    inv = invert_face(models, face, run)
    made_once = [m.make(models, run) for m in motions]
    made = [made_once[k] for k in which]
    images = [a for _, a in made_once if a is not None]
    latents, direction = source_of(req).path(req, inv.wplus, [d for d, _ in made])
    view, tuning = faithful(models, req.fidelity, [inv], run)
    video, notes = render_onto(view, inv.aligned, latents, req, run)
    return Animation(video, inv.aligned, direction, np.concatenate(images) if images else None,
                     notes + tuning_notes(tuning), identity_of(view, inv, run.precision, latents),
                     tuning)


def _ready(models: Models, req, run: Run):
    """The request checked (where no door did) and the run's precision resolved for it."""
    req = ensure_checked(req, models.shape)
    return req, run.on(models.plan.resolve, req.dtype)


def transfer_clip(models: Models, req: Transfer, run: Run) -> Transferred:
    """The photo's face performs the driving clip's motion: its frames at ``req.fps`` (None:
    the clip's own rate), each offset from the neutral frame → one output frame, at the
    driver's timing."""
    req, run = _ready(models, req, run)
    name = display_name(req, "driving_video")
    clip = read_frames(req.driving_video, req.fps, FIELDS["frames"].hi, name=name)
    check_int("neutral_frame", req.neutral_frame, 0, len(clip.frames) - 1)
    face = align(models, req.image, display_name(req, "image"), run)  # no face: fail first
    driver = driver_faces(clip, models.encoder.input_size, run.report)  # then the driver's
    show_faces(run.preview, "driver", [f.image for f in driver.faces.faces],
               driver.faces.times, name)
    inv = invert_face(models, face, run)
    latents, notes = driver_latents(models.encoder, driver, run.precision, run.report)
    if abs(clip.native_fps / clip.fps - 1) > 0.01:
        notes.append(f"{name} runs at {clip.native_fps:.3g} fps; its frames were taken at "
                     f"{clip.fps:.3g} fps, so its timing is kept")
    motion = _offsets(smooth(latents, req.smoothing), req.neutral_frame, req, run)
    path = inv.wplus + _own(req.scale) * motion.offsets
    return _transferred(models, req, inv, motion, path, clip.fps, name, notes, run)


def transfer_photos(models: Models, req: Transfer, run: Run) -> Transferred:
    """The motion between two photos of the driver — ``neutral_image`` at rest,
    ``driving_image`` mid-motion — on the photo's face, ``frames`` frames along
    ``curve``, like a preset."""
    req, run = _ready(models, req, run)
    inv = invert(models, req.image, display_name(req, "image"), run)
    quiet = dataclasses.replace(run, preview=None)  # the preview shows the photo's face
    latents = torch.cat([invert(models, p, display_name(req, n), quiet).wplus
                         for n, p in (("neutral_image", req.neutral_image),
                                      ("driving_image", req.driving_image))])
    motion = _offsets(latents, 0, req, run)
    path = latent_path(inv.wplus, motion.offsets[1], _own(req.scale), req.frames, req.curve)
    driver = f"{display_name(req, 'neutral_image')} to {display_name(req, 'driving_image')}"
    return _transferred(models, req, inv, motion, path, req.fps or 30, driver, [], run)


def transfer_latents(models: Models, req: Transfer, run: Run) -> Transferred:
    """The driver given as W+ ``[T, L, D]`` in ``req.driving_latents`` (e.g. planted latents),
    one output frame each at ``req.fps`` (None: 30)."""
    req, run = _ready(models, req, run)
    inv = invert(models, req.image, display_name(req, "image"),
                 dataclasses.replace(run, preview=None))
    latents = smooth(req.driving_latents.to(inv.wplus), req.smoothing)
    motion = _offsets(latents, req.neutral_frame, req, run)
    return _transferred(models, req, inv, motion, inv.wplus + _own(req.scale) * motion.offsets,
                        req.fps or 30, "the given latents", [], run)


def _own(scale: float) -> float:
    """A transfer's ``scale`` as a multiple of the driver's own motion (``scale``'s default)."""
    return scale / FIELDS["scale"].default


def _offsets(latents: torch.Tensor, neutral: int, req: Transfer, run: Run) -> MotionOffsets:
    run.report("direction", 0, 1)
    motion = motion_offsets(latents, neutral, req.rank, req.layers)
    run.report("direction", 1, 1)
    return motion


def _transferred(models: Models, req: Transfer, inv: Inversion, motion: MotionOffsets,
                 path: torch.Tensor, fps: float, driver: str, notes: list[str],
                 run: Run) -> Transferred:
    """The tail every transfer shares: tune the generator to the target if asked, render the
    target's path, say how it was made."""
    view, tuning = faithful(models, req.fidelity, [inv], run)
    video, render_notes = render_onto(view, inv.aligned, path, req, run, fps)
    how = TransferHow(driver, fps, len(path), list(motion.layers),
                      [round(e, 4) for e in motion.energy], motion.rank, req.smoothing)
    return Transferred(video, inv.aligned, motion, path, how,
                       notes + render_notes + tuning_notes(tuning),
                       identity_of(view, inv, run.precision, path), tuning)


def latent_video(models: Models, req: LatentVideo, run: Run) -> LatentAnimation:
    """A latent video (walk, style mixing or circle) → mp4 at ``run.out``."""
    req, run = _ready(models, req, run)
    latents, how, inversions = _latent_path(models, req, run)
    view, tuning = faithful(models, req.fidelity, inversions, run)
    video = render_latents(view, latents, run, req.fps, req.output_size)
    notes = [n for inv in inversions for n in inv.aligned.notes] + tuning_notes(tuning)
    if req.fidelity == "faithful" and not inversions:
        notes.append("fidelity faithful tunes the generator to photos; this video has none, so "
                     "nothing was tuned")
    identity = identity_of(view, inversions[0], run.precision) if inversions else None
    return LatentAnimation(video, latents, how, [inv.aligned for inv in inversions], notes,
                           identity, tuning)


@torch.no_grad()
def latent_video_path(models: Models, req: LatentVideo, precision: Precision = FP32
                      ) -> tuple[torch.Tensor, LatentHow, list[AlignedFace]]:
    """The request's W+ path ``[T, n_latent, style_dim]``, how it was made, and the aligned
    photos. Every option is checked before any photo is inverted."""
    latents, how, inversions = _latent_path(models, ensure_checked(req, models.shape),
                                            Run(precision=precision))
    return latents, how, [inv.aligned for inv in inversions]


@torch.no_grad()
def _latent_path(models: Models, req: LatentVideo, run: Run
                 ) -> tuple[torch.Tensor, LatentHow, list[Inversion]]:
    """The W+ path of a checked request, how it was made, and the photos' inversions."""
    layers = req.layers
    inversions: list[Inversion] = []

    def wplus(photo: ImageSource, name: str) -> torch.Tensor:
        inversions.append(invert(models, photo, name, run))
        return inversions[-1].wplus[0]

    photo = None if req.image is None else (req.image, display_name(req, "image"))
    held = (lambda: wplus(*photo)) if photo else \
        (lambda: seed_latents(models.generator, [req.source_seed], req.truncation)[0])
    circle, interpolation = None, None
    if req.mode == "circle":
        path, steps = circle_path(models.generator, held(), req.seeds, req.radius, req.frames,
                                  layers, req.truncation, req.measure_res, run.precision.render,
                                  run.steps("equalise"))
        circle = CircleSteps(req.radius, float(steps.mean()), float(steps.max() / steps.min()))
    else:
        keys = ([photo] if photo and req.mode == "walk" else []) + [
            (p, display_name(req, "photos", p)) for p in req.photos]
        path = walk_path(models.generator, [wplus(*k) for k in keys], req.seeds,
                         req.interpolation, req.frames_per_segment, req.loop, req.truncation)
        interpolation = req.interpolation
        if req.mode != "walk":
            path = mix_layers(held(), path, layers)
    photos = len(req.photos) + (photo is not None and req.mode == "walk")
    return path, LatentHow(req.mode, list(map(int, req.seeds)), photos, req.truncation, layers,
                           len(path), interpolation, circle), inversions
