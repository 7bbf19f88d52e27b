"""The use cases, each composing the stages top to bottom: photo → aligned face → W+ → path →
frames → mp4. Each takes the loaded ``Models``, a request (``request.Animate``, ``Transfer`` or
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
from pathlib import Path

import numpy as np
import torch

from stylegan2.paths import RenderPath

from .align import AlignedFace, align_face
from .checks import ensure_checked
from .direction import Direction
from .encoders import preprocess
from .fields import FIELDS
from .identity import MEASURE_RES, Identity, measure
from .tuning import TUNE_RES, Tuning, steps_for, tune_generator
from .images import ImageSource
from .interpolate import circle_path, mix_layers, seed_latents, walk_path
from .models import Models, Progress, report
from .precision import DEFAULT, FP32, Precision
from .provenance import Cue, Timeline
from .results import (Animation, CircleSteps, Inversion, LatentAnimation, LatentHow, Transferred,
                      TransferHow)
from .paste import PasteBack
from .preview import PREVIEW_SIZE, Preview, from_images, positions, show, show_faces, spread
from .render import check_int, latent_path, render_frames, write_video
from .request import Animate, LatentVideo, Transfer, display_name, request_motions
from .timeline import composed_path
from .transfer import MotionOffsets, driver_faces, driver_latents, motion_offsets, smooth
from .video import read_frames


def invert(models: Models, image: ImageSource, name: str | None = None,
           progress: Progress | None = None, precision: Precision = FP32,
           preview: Preview | None = None) -> Inversion:
    """Align the most confident face and invert it: W+ ``[1, n_latent, style_dim]``."""
    return invert_face(models, align(models, image, name, progress, preview), progress,
                       precision)


def align(models: Models, image: ImageSource, name: str | None = None,
          progress: Progress | None = None, preview: Preview | None = None) -> AlignedFace:
    """The photo's most confident face, aligned the FFHQ way at the encoder's size (a photo
    without a face fails here, in seconds); ``preview`` gets it at once."""
    report(progress, "align", 0, 1)
    aligned = align_face(image, models.encoder.input_size, name=name)
    report(progress, "align", 1, 1)
    if preview is not None:  # the resize only for a door that shows it
        show(preview, "face", from_images([aligned.image]),
             [f"the face in {name or 'the photo'}"])
    return aligned


def invert_face(models: Models, aligned: AlignedFace, progress: Progress | None = None,
                precision: Precision = FP32) -> Inversion:
    """An aligned face → its W+ ``[1, n_latent, style_dim]`` by the encoder."""
    x = preprocess(aligned.image, models.encoder.input_size)
    w = models.encoder.invert(x, precision=precision,
                              progress=lambda i, n: report(progress, "invert", i, n))
    return Inversion(w, aligned)


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
    motions = [m.ready(models, progress, preview) for m in request_motions(req)]
    inv = invert_face(models, face, progress, precision)
    made = [m.make(models, progress, precision, preview) for m in motions]
    images = [a for _, a in made if a is not None]
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
    video, notes = _render_onto(view, inv.aligned, latents, out, req, gif, progress, preview,
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
    video, render_notes = _render_onto(view, inv.aligned, path, out, req, gif, progress,
                                       preview, precision, fps)
    how = TransferHow(driver, fps, len(path), list(motion.layers),
                      [round(e, 4) for e in motion.energy], motion.rank, req.smoothing)
    return Transferred(video, inv.aligned, motion, path, how,
                       notes + render_notes + tuning_notes(tuning), identity_of(view, inv, precision, path),
                       tuning)


def faithful(models: Models, fidelity: str, inversions: list[Inversion],
             progress: Progress | None = None) -> tuple[Models, Tuning | None]:
    """The models to render with: the shared ones (``fidelity`` fast, or no photo), or for
    faithful a view of them whose generator is tuned to the photos, the inversions' W+ the
    pivots (``tuning.tune_generator``): this request's own, freed with it."""
    if fidelity != "faithful" or not inversions:
        return models, None
    pivots = torch.cat([inv.wplus for inv in inversions])
    targets = torch.cat([preprocess(inv.aligned.image, TUNE_RES) for inv in inversions])
    tuned, how = tune_generator(models.generator, models.lpips(), pivots, targets,
                                steps_for(models.device), TUNE_RES,
                                progress=lambda i, n: report(progress, "tune", i, n))
    return models.tuned(tuned), how


def tuning_notes(tuning: Tuning | None) -> list[str]:
    """What the tuning did, for the doors to say (none without one)."""
    if tuning is None:
        return []
    why = "its LPIPS reached 0.07" if tuning.stopped == "lpips" else "its most steps"
    return [f"fidelity faithful: the generator was tuned to the photo in {tuning.steps} steps "
            f"({tuning.seconds:.0f} s, stopped at {why}): the reconstruction's LPIPS "
            f"{tuning.lpips_before:.3f} → {tuning.lpips:.3f}, L2 {tuning.l2_before:.4f} → "
            f"{tuning.l2:.4f}"]


def identity_of(models: Models, inv: Inversion, precision: Precision,
                path: torch.Tensor | None = None) -> Identity:
    """How alike ArcFace finds the aligned photo and the render of its inversion, and the
    video's first, middle and last frames (W+ ``path`` ``[T, L, D]``, where the video is the
    photo's face moving), rendered as the video is."""
    photo = preprocess(inv.aligned.image, MEASURE_RES)
    frames = inv.wplus[:0] if path is None else path[spread(len(path))]
    return measure(models.arcface(), models.generator, photo, inv.wplus, frames,
                   precision.render)


def _render_onto(models: Models, aligned: AlignedFace, latents: torch.Tensor, out,
                 req: Animate | Transfer, gif, progress: Progress | None,
                 preview: Preview | None, precision: Precision,
                 fps: float | None = None) -> tuple[Path, list[str]]:
    """Render the face's path, pasted back into its photo and beside it as ``req`` asks →
    (the video, the notes of what was chosen for the user)."""
    paste = paste_for(aligned, {"auto": None, "on": True, "off": False}[req.paste_back])
    left = None
    if req.side_by_side:
        left = np.asarray(aligned.photo if paste else aligned.image)
    asked = min(req.output_size, models.generator.size)
    size = asked if paste is None else render_size(paste.side, asked)
    video = render_latents(models, latents, out, fps or req.fps, size, left, gif,
                           paste, progress, preview=preview, precision=precision)
    notes = list(aligned.notes)
    if paste is not None:
        h, w = paste.photo.shape[:2]
        if left is not None:  # the photo beside it, at the same height (render.side_by_side)
            w += round(left.shape[1] * h / left.shape[0] / 2) * 2
        why = f"the face is {paste.side} px across there, so it was rendered at {size} px"
        if size < asked:
            why += (f", the smallest size that holds it ({(asked / size) ** 2:.0f}× fewer pixels "
                    f"than {asked} px, which would be scaled away)")
        notes += paste.notes + [f"the moving face was put back into the photo, so the video is "
                                f"{w}×{h}; {why}; paste_back off gives a {asked} px square"]
    return video, notes


def render_size(side: int, asked: int) -> int:
    """The size a face pasted back ``side`` px across is rendered at: the smallest output size
    that holds it (more pixels would be scaled away), at most ``asked``."""
    fits = [s for s in FIELDS["output_size"].choices if s >= side]
    return min(min(fits, default=asked), asked)


@torch.no_grad()
def preview_frames(models: Models, latents: torch.Tensor,
                   path: RenderPath = DEFAULT) -> np.ndarray:
    """The first, middle and last frames of a path W+ ``[T, L, D]`` → ``uint8 [≤3, S, S, 3]``,
    S = ``PREVIEW_SIZE``: what the motion will do, in a fraction of the video's time."""
    picked = latents[spread(len(latents))]
    return np.concatenate(list(render_frames(models.generator, picked, 3,
                                             min(PREVIEW_SIZE, models.generator.size), path)))


def paste_for(aligned: AlignedFace, paste_back: bool | None = None) -> PasteBack | None:
    """The paste-back of an aligned face into its photo, or None: ``paste_back`` False, or
    None and the photo no larger than about the face's crop (under 1.5× its area)."""
    if paste_back is False or aligned.photo is None:
        return None
    side = float(np.hypot(*(aligned.quad[3] - aligned.quad[0])))
    if paste_back is None and aligned.photo.width * aligned.photo.height < 1.5 * side ** 2:
        return None
    return PasteBack(aligned.photo, aligned.quad)


def render_latents(models: Models, latents: torch.Tensor, out: str | os.PathLike,
                   fps: float = 30, size: int | None = None, left: np.ndarray | None = None,
                   gif: str | os.PathLike | None = None, paste: PasteBack | None = None,
                   progress: Progress | None = None, batch_size: int = 4,
                   preview: Preview | None = None, precision: Precision = FP32) -> Path:
    """W+ ``[T, n_latent, style_dim]``, a frame each → an mp4 at ``out`` (batched, at
    ``size`` px or the generator's, along ``precision.render``), pasted back into the photo
    with ``paste``, beside ``left``. ``preview`` first gets the first, middle and last frames
    at ``PREVIEW_SIZE``."""
    if preview is not None:
        frames = preview_frames(models, latents, precision.render)
        show(preview, "frames", frames, positions(len(latents)))
    size = None if size is None else min(size, models.generator.size)
    batches = render_frames(models.generator, latents, batch_size, size, precision.render,
                            lambda i, n: report(progress, "render", i, n))
    return write_video(batches, out, fps, left=left, gif_path=gif, paste=paste)


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
