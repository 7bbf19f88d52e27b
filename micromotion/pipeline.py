"""The use cases, each composing the stages top to bottom: photo → aligned face → W+ → path →
frames → mp4 (the steps they share are ``steps``'s). Each takes the loaded ``Models``, a request (``request.Animate``, ``Transfer`` or
``LatentVideo``: checked by its door, or here when no door did, before any slow stage) and
where to write the video; each returns its typed result (``results``).

    models = Models.load()
    animate(models, Animate(image="photo.jpg", micromotion="smile"), "smile.mp4")
    transfer_clip(models, Transfer(image="photo.jpg", driving_video="me.mp4"), "t.mp4")
    latent_video(models, LatentVideo("circle", seeds="1,2"), "loop.mp4")

Progress goes through one callback ``progress(stage, done, total)``, stage being one of
``"align"``, ``"invert"``, ``"clip faces"`` and ``"clip inversion"`` (a clip's frames),
``"anchors"`` (text optimisation steps), ``"direction"``,
``"equalise"`` (circle steps), ``"render"``. Every result carries ``notes``: the choices made
for the user (which face, the video's real size), for the doors to say.
"""
from __future__ import annotations

import os

import numpy as np
import torch

from .align import AlignedFace
from .checks import ensure_checked
from .direction import Direction
from .fields import FIELDS
from .images import ImageSource
from .interpolate import circle_path, mix_layers, seed_latents, walk_path
from .models import Models, Progress, report
from .motions import distinct
from .precision import FP32, Precision
from .preview import Preview, show_faces
from .provenance import Cue, Timeline
from .render import check_int, latent_path
from .request import Animate, LatentVideo, Transfer, display_name, request_motions
from .results import (Animation, CircleSteps, Inversion, LatentAnimation, LatentHow, Transferred,
                      TransferHow)
from .steps import align, faithful, identity_of, invert, invert_face, render_latents, \
    render_onto, tuning_notes
from .timeline import composed_path
from .transfer import MotionOffsets, driver_faces, driver_latents, motion_offsets, smooth
from .video import read_frames


def animate(models: Models, req: Animate, out: str | os.PathLike,
            gif: str | os.PathLike | None = None, progress: Progress | None = None,
            preview: Preview | None = None, precision: Precision | None = None) -> Animation:
    """The photo's face performing the request's motion → mp4 at ``out`` (and a GIF). The
    defaults reproduce the original: 100 frames of w + i/100·5·d at 30 fps, 1024 px — pasted
    back into the photo when it is larger than the face's crop. ``precision``: the paths
    ``req.dtype`` resolved to on this machine (``serving.serve`` resolves it once)."""
    req = ensure_checked(req, models.shape)
    precision = precision or models.plan.resolve(req.dtype)
    face = align(models, req.image, display_name(req, "image"), progress, preview)
    # a clip's faces found (and shown) before the photo's inversion
    once, which = distinct(request_motions(req))  # identical cues make their anchors once
    motions = [m.ready(models, progress, preview) for m in once]
    inv = invert_face(models, face, progress, precision)
    made_once = [m.make(models, progress, precision, preview) for m in motions]
    made = [made_once[k] for k in which]
    images = [a for _, a in made_once if a is not None]
    if req.timeline:
        latents = composed_path(inv.wplus, [d.vector for d, _ in made], req.timeline, req.frames)
        direction = Direction((latents[-1] - inv.wplus[0]).float(), Timeline([
            Cue(d.made, c.strength, c.start, c.end, c.curve)
            for (d, _), c in zip(made, req.timeline)]))
    else:
        direction = made[0][0]
        latents = latent_path(inv.wplus, direction.vector.to(inv.wplus.device), req.scale,
                              req.frames, req.curve)
    view, tuning = faithful(models, req.fidelity, [inv], progress)
    video, notes = render_onto(view, inv.aligned, latents, out, req, gif, progress, preview,
                                precision)
    return Animation(video, inv.aligned, direction, np.concatenate(images) if images else None,
                     notes + tuning_notes(tuning), identity_of(view, inv, precision, latents), tuning)


def transfer_clip(models: Models, req: Transfer, out: str | os.PathLike,
                  gif: str | os.PathLike | None = None,
                  progress: Progress | None = None,
                  preview: Preview | None = None,
                  precision: Precision | None = None) -> Transferred:
    """The photo's face performs the driving clip's motion: its frames at ``req.fps`` (None:
    the clip's own rate), each offset from the neutral frame → one output frame, at the
    driver's timing."""
    req = ensure_checked(req)
    precision = precision or models.plan.resolve(req.dtype)
    name = display_name(req, "driving_video")
    clip = read_frames(req.driving_video, req.fps, FIELDS["frames"].hi, name=name)
    check_int("neutral_frame", req.neutral_frame, 0, len(clip.frames) - 1)
    face = align(models, req.image, display_name(req, "image"), progress,
                 preview)  # no face: fail first
    driver = driver_faces(clip, models.encoder.input_size, progress)  # then the driver's
    show_faces(preview, "driver", [f.image for f in driver.faces.faces], driver.faces.times,
               name)
    inv = invert_face(models, face, progress, precision)
    latents, notes = driver_latents(models.encoder, driver, precision, progress)
    if abs(clip.native_fps / clip.fps - 1) > 0.01:
        notes.append(f"{name} runs at {clip.native_fps:.3g} fps; its frames were taken at "
                     f"{clip.fps:.3g} fps, so its timing is kept")
    motion = _offsets(smooth(latents, req.smoothing), req.neutral_frame, req, progress)
    path = inv.wplus + req.strength * motion.offsets
    return _transferred(models, req, inv, motion, path, out, clip.fps, name, notes, gif,
                        progress, preview, precision)


def transfer_photos(models: Models, req: Transfer, out: str | os.PathLike,
                    gif: str | os.PathLike | None = None,
                    progress: Progress | None = None,
                    preview: Preview | None = None,
                    precision: Precision | None = None) -> Transferred:
    """The motion between two photos of the driver — ``neutral_image`` at rest,
    ``driving_image`` mid-motion — on the photo's face, ``frames`` frames along
    ``curve``, like a preset."""
    req = ensure_checked(req)
    precision = precision or models.plan.resolve(req.dtype)
    inv = invert(models, req.image, display_name(req, "image"), progress, precision, preview)
    latents = torch.cat([invert(models, p, display_name(req, n), progress, precision).wplus
                         for n, p in (("neutral_image", req.neutral_image),
                                      ("driving_image", req.driving_image))])
    motion = _offsets(latents, 0, req, progress)
    path = latent_path(inv.wplus, motion.offsets[1], req.strength, req.frames, req.curve)
    driver = f"{display_name(req, 'neutral_image')} to {display_name(req, 'driving_image')}"
    return _transferred(models, req, inv, motion, path, out, req.fps or 30, driver, [], gif,
                        progress, preview, precision)


def transfer_latents(models: Models, req: Transfer, out: str | os.PathLike,
                     gif: str | os.PathLike | None = None,
                     progress: Progress | None = None,
                     preview: Preview | None = None,
                     precision: Precision | None = None) -> Transferred:
    """The driver given as W+ ``[T, L, D]`` in ``req.driving_latents`` (e.g. planted latents),
    one output frame each at ``req.fps`` (None: 30)."""
    req = ensure_checked(req)
    precision = precision or models.plan.resolve(req.dtype)
    inv = invert(models, req.image, display_name(req, "image"), progress, precision)
    latents = smooth(req.driving_latents.to(inv.wplus), req.smoothing)
    motion = _offsets(latents, req.neutral_frame, req, progress)
    return _transferred(models, req, inv, motion, inv.wplus + req.strength * motion.offsets,
                        out, req.fps or 30, "the given latents", [], gif, progress, preview,
                        precision)


def _offsets(latents: torch.Tensor, neutral: int, req: Transfer,
             progress: Progress | None) -> MotionOffsets:
    report(progress, "direction", 0, 1)
    motion = motion_offsets(latents, neutral, req.rank, req.layers)
    report(progress, "direction", 1, 1)
    return motion


def _transferred(models: Models, req: Transfer, inv: Inversion, motion: MotionOffsets,
                 path: torch.Tensor, out, fps: float, driver: str, notes: list[str], gif,
                 progress: Progress | None, preview: Preview | None,
                 precision: Precision) -> Transferred:
    """The tail every transfer shares: tune the generator to the target if asked, render the
    target's path, say how it was made."""
    view, tuning = faithful(models, req.fidelity, [inv], progress)
    video, render_notes = render_onto(view, inv.aligned, path, out, req, gif, progress,
                                       preview, precision, fps)
    how = TransferHow(driver, fps, len(path), list(motion.layers),
                      [round(e, 4) for e in motion.energy], motion.rank, req.smoothing)
    return Transferred(video, inv.aligned, motion, path, how,
                       notes + render_notes + tuning_notes(tuning), identity_of(view, inv, precision, path),
                       tuning)


def latent_video(models: Models, req: LatentVideo, out: str | os.PathLike,
                 gif: str | os.PathLike | None = None, progress: Progress | None = None,
                 preview: Preview | None = None,
                 precision: Precision | None = None) -> LatentAnimation:
    """A latent video (walk, style mixing or circle) → mp4 at ``out``."""
    req = ensure_checked(req, models.shape)
    precision = precision or models.plan.resolve(req.dtype)
    latents, how, inversions = _latent_path(models, req, progress, precision, preview)
    view, tuning = faithful(models, req.fidelity, inversions, progress)
    video = render_latents(view, latents, out, req.fps, req.output_size, gif=gif,
                           progress=progress, preview=preview, precision=precision)
    notes = [n for inv in inversions for n in inv.aligned.notes] + tuning_notes(tuning)
    if req.fidelity == "faithful" and not inversions:
        notes.append("fidelity faithful tunes the generator to photos; this video has none, so "
                     "nothing was tuned")
    identity = identity_of(view, inversions[0], precision) if inversions else None
    return LatentAnimation(video, latents, how, [inv.aligned for inv in inversions], notes,
                           identity, tuning)


@torch.no_grad()
def latent_video_path(models: Models, req: LatentVideo, progress: Progress | None = None,
                      precision: Precision = FP32
                      ) -> tuple[torch.Tensor, LatentHow, list[AlignedFace]]:
    """The request's W+ path ``[T, n_latent, style_dim]``, how it was made, and the aligned
    photos. Every option is checked before any photo is inverted."""
    latents, how, inversions = _latent_path(models, ensure_checked(req, models.shape), progress,
                                            precision)
    return latents, how, [inv.aligned for inv in inversions]


@torch.no_grad()
def _latent_path(models: Models, req: LatentVideo, progress: Progress | None,
                 precision: Precision, preview: Preview | None = None
                 ) -> tuple[torch.Tensor, LatentHow, list[Inversion]]:
    """The W+ path of a checked request, how it was made, and the photos' inversions."""
    layers = req.layers
    inversions: list[Inversion] = []

    def wplus(photo: ImageSource, name: str) -> torch.Tensor:
        inversions.append(invert(models, photo, name, progress, precision, preview))
        return inversions[-1].wplus[0]

    photo = None if req.image is None else (req.image, display_name(req, "image"))
    held = (lambda: wplus(*photo)) if photo else \
        (lambda: seed_latents(models.generator, [req.source_seed], req.truncation)[0])
    circle, interpolation = None, None
    if req.mode == "circle":
        path, steps = circle_path(models.generator, held(), req.seeds, req.radius, req.frames,
                                  layers, req.truncation, req.measure_res, precision.render,
                                  lambda i, n: report(progress, "equalise", i, n))
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
