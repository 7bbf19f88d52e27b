"""The use cases, each composing the stages top to bottom: photo → aligned face → W+ → path →
frames → mp4 (the steps they share are ``steps``'s). Each takes the loaded ``Models``, a
request (``request.Animate``, ``Transfer`` or ``LatentVideo``: checked by its door, or here
when no door did, before any slow stage) and
the run's context (``run.Run``: where to write the video, who watches, the precision, how to
stop); each returns its typed result (``results``).

    models = Models.load()
    animate(models, Animate(image="photo.jpg", micromotion="smile"), Run("smile.mp4"))
    transfer(models, Transfer(image="photo.jpg", driving_video="me.mp4"), Run("t.mp4"))
    latent_video(models, LatentVideo("circle", seeds="1,2"), Run("loop.mp4"))

Progress goes through the run's ``progress(stage, done, total)``, stage being one of
``"align"``, ``"invert"``, ``"clip faces"`` and ``"clip inversion"`` (a clip's frames),
``"anchors"`` (text optimisation steps), ``"direction"``,
``"equalise"`` (circle steps), ``"render"``. Every result carries ``notes``: the choices made
for the user (which face, the video's real size), for the doors to say.
"""
from __future__ import annotations

import numpy as np
import torch

from ..media.align import AlignedFace
from ..requests.checks import ensure_checked
from ..media.images import ImageSource
from ..latents.interpolate import circle_path, mix_layers, seed_latents, walk_path
from ..nets.models import Models
from ..motions import distinct, request_motions, source_of
from ..naming import display_name
from ..precision import FP32, Precision
from ..requests.request import Animate, LatentVideo, Transfer
from .results import (Animation, CircleSteps, Inversion, LatentAnimation, LatentHow, Transferred,
                      TransferHow)
from ..run import Run
from .steps import (chosen_faces, faithful, identity_of, invert, invert_faces, moved_faces,
                    ready, render_latents, render_onto, tuning_notes)
from ..motions.drivers import driver_of, motion_offsets


def animate(models: Models, req: Animate, run: Run) -> Animation:
    """The photo's chosen faces (``req.faces``: the most confident one by default) performing
    the request's motion → mp4 at ``run.out`` (and a GIF). The defaults reproduce the
    original: 100 frames of w + i/100·5·d at 30 fps, 1024 px — pasted back into the photo
    when it is larger than the face's crop (several faces always are)."""
    req, run = ready(models, req, run)
    faces = chosen_faces(models, req, run)
    # a clip's faces found (and shown) before the photo's inversion
    once, which = distinct(request_motions(req))  # identical cues make their anchors once
    motions = [m.ready(models, run) for m in once]
    invs = invert_faces(models, faces, run)
    made_once = [m.make(models, run) for m in motions]
    made = [made_once[k] for k in which]
    images = [a for _, a in made_once if a is not None]
    paths = [source_of(req).path(req, inv.wplus, [d for d, _ in made]) for inv in invs]
    direction = paths[0][1]
    view, tuning = faithful(models, req.fidelity, invs, run)
    video, notes = render_onto(view, faces, [p for p, _ in paths], run, req.fps,
                               req.output_size, req.paste_back, req.side_by_side)
    moved = moved_faces(view, invs, [p for p, _ in paths], run.precision)
    return Animation(video, faces[0], direction, np.concatenate(images) if images else None,
                     notes + tuning_notes(tuning), moved[0].identity, tuning, faces=moved)


def transfer(models: Models, req: Transfer, run: Run) -> Transferred:
    """The photo's chosen faces (``req.faces``) perform their driver's motion
    (``drivers.driver_of``): the driver's W+ offsets from its neutral frame, projected on
    their low-rank subspace, added to each face's W+ along the driver's path (a clip's: at its
    timing) → mp4 at ``run.out``."""
    req, run = ready(models, req, run)
    drive = driver_of(req)
    faces = chosen_faces(models, req, run)  # no face: fail first
    read = drive.ready(models, req, run)  # then the driver's, before any inversion
    invs = invert_faces(models, faces, run)
    driven = drive.make(models, req, read, run)
    run.report("direction", 0, 1)
    motion = motion_offsets(driven.latents, driven.neutral, req.rank, req.layers)
    run.report("direction", 1, 1)
    paths = [drive.path(req, inv.wplus, motion.offsets) for inv in invs]
    view, tuning = faithful(models, req.fidelity, invs, run)
    video, notes = render_onto(view, faces, paths, run, driven.fps or req.fps, req.output_size,
                               req.paste_back, req.side_by_side)
    how = TransferHow(driven.words, driven.fps, len(paths[0]), list(motion.layers),
                      [round(e, 4) for e in motion.energy], motion.rank, req.smoothing)
    moved = moved_faces(view, invs, paths, run.precision)
    return Transferred(video, faces[0], motion, paths[0], how,
                       driven.notes + notes + tuning_notes(tuning), moved[0].identity, tuning,
                       faces=moved)


def latent_video(models: Models, req: LatentVideo, run: Run) -> LatentAnimation:
    """A latent video (walk, style mixing or circle) → mp4 at ``run.out``; style mixing
    through several faces of a photo (``req.faces``) is each of them mixed, pasted back."""
    req, run = ready(models, req, run)
    if req.faces != "one":
        return _mixed_faces(models, req, run)
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


def _mixed_faces(models: Models, req: LatentVideo, run: Run) -> LatentAnimation:
    """Coarse or fine style mixing through each chosen face of the photo: its own layers held
    outside ``req.layers``, the seeds' walk in them, the faces pasted back together."""
    faces = chosen_faces(models, req, run)
    invs = invert_faces(models, faces, run)
    keys = [invert(models, p, display_name(req, "photos", p), run).wplus[0] for p in req.photos]
    walk = walk_path(models.generator, keys, req.seeds, req.interpolation,
                     req.frames_per_segment, req.loop, req.truncation)
    paths = [mix_layers(inv.wplus[0], walk, req.layers) for inv in invs]
    view, tuning = faithful(models, req.fidelity, invs, run)
    video, notes = render_onto(view, faces, paths, run, req.fps, req.output_size, "on")
    how = LatentHow(req.mode, list(map(int, req.seeds)), len(keys), req.truncation, req.layers,
                    len(walk), req.interpolation)
    moved = moved_faces(view, invs, paths, run.precision)
    return LatentAnimation(video, paths[0], how, faces, notes + tuning_notes(tuning),
                           moved[0].identity, tuning, faces=moved)


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
