"""The steps the use cases (``pipeline``) share, each on the loaded ``Models``: find and align
the photo's face and invert it, tune the generator to it (fidelity faithful), render a W+ path
into a video (pasted back into the photo, beside it), and measure how alike the result stayed.

    inv = invert(models, "photo.jpg")                  # .wplus [1, 18, 512], .aligned
    view, tuning = faithful(models, "faithful", [inv])   # a generator tuned to it, or the same
    video, notes = render_onto(view, [inv.aligned], [path], Run("out.mp4"), 30, 1024)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from stylegan2.paths import RenderPath

from ..media.align import AlignedFace
from ..media.faces import Faces, face_side, find, pick
from ..nets.encoders import preprocess
from ..nets.identity import MEASURE_RES, Identity, measure
from ..media.images import ImageSource
from ..errors import OptionError
from ..fields import MAX_TUNED_PHOTOS
from ..naming import display_name
from ..nets.models import Models
from ..media.paste import PasteBack, render_size
from ..precision import DEFAULT, Precision
from ..media.preview import PREVIEW_SIZE, from_images, positions, show, spread
from ..media.render import render_faces, render_frames, write_video
from ..requests.checks import ensure_checked
from ..requests.request import Animate, LatentVideo, Transfer
from .results import Inversion, MovedFace
from ..run import QUIET, Run
from ..nets.tuning import STOP_LPIPS, TUNE_RES, Tuning, steps_for, tune_generator


def ready(models: Models, req, run: Run):
    """The request checked (where no door did) and the run's precision resolved for it."""
    req = ensure_checked(req, models.shape)
    return req, run.on(models.plan.resolve, req.dtype)


def invert(models: Models, image: ImageSource, name: str | None = None,
           run: Run = QUIET) -> Inversion:
    """Align the most confident face and invert it: W+ ``[1, n_latent, style_dim]``."""
    return invert_faces(models, align(models, image, name, run), run)[0]


def align(models: Models, image: ImageSource, name: str | None = None,
          run: Run = QUIET, faces: Faces = "one", hint: bool = False) -> list[AlignedFace]:
    """The photo's chosen faces (``faces.pick``: the most confident one by default), aligned
    the FFHQ way at the encoder's size (a photo without a face, or without the faces asked
    for, fails here, in seconds); the run's preview gets them at once. The first face's notes
    say which moved and which were left alone (``hint``: how to move the others)."""
    run.report("align", 0, 1)
    group = find(image, name)
    chosen, notes = pick(group, faces, models.encoder.input_size, hint)
    chosen[0].notes[len(group.photo.notes):len(group.photo.notes)] = notes
    run.report("align", 1, 1)
    if run.preview is not None:  # the resize only for a door that shows it
        captions = [f"the face in {group.name}"] if len(chosen) == 1 else \
            [f"face {a.face_index + 1}" for a in chosen]
        show(run.preview, "face", from_images([a.image for a in chosen]), captions)
    return chosen


def chosen_faces(models: Models, req: Animate | Transfer | LatentVideo, run: Run = QUIET
                 ) -> list[AlignedFace]:
    """The request's photo's faces it chooses (``align``), within what fidelity faithful can
    tune to at once (``MAX_TUNED_PHOTOS``): said before any inversion."""
    faces = align(models, req.image, display_name(req, "image"), run, req.faces, hint=True)
    if req.fidelity == "faithful" and len(faces) > MAX_TUNED_PHOTOS:
        raise OptionError(f"fidelity faithful tunes the generator to every face at once, at "
                          f"most {MAX_TUNED_PHOTOS}; {len(faces)} faces would move: name at "
                          f"most {MAX_TUNED_PHOTOS} (e.g. faces "
                          f"{','.join(str(a.face_index + 1) for a in faces[:MAX_TUNED_PHOTOS])})"
                          f" or use fidelity fast")
    return faces


def invert_faces(models: Models, faces: list[AlignedFace], run: Run = QUIET
                 ) -> list[Inversion]:
    """Aligned faces → each its W+ ``[1, n_latent, style_dim]``, by the encoder in one batch."""
    x = models.encoder.preprocess([a.image for a in faces])
    w = models.encoder.invert(x, precision=run.precision, progress=run.steps("invert"))
    return [Inversion(w[k:k + 1], a) for k, a in enumerate(faces)]


def faithful(models: Models, fidelity: str, inversions: list[Inversion],
             run: Run = QUIET) -> tuple[Models, Tuning | None]:
    """The models to render with: the shared ones (``fidelity`` fast, or no photo), or for
    faithful a view of them whose generator is tuned to the photos, the inversions' W+ the
    pivots (``tuning.tune_generator``): this request's own, freed with it."""
    if fidelity != "faithful" or not inversions:
        return models, None
    pivots = torch.cat([inv.wplus for inv in inversions])
    targets = torch.cat([preprocess(inv.aligned.image, TUNE_RES) for inv in inversions])
    run.report("tuning models", 0, 1)  # its LPIPS loads on first use (fetched if missing)
    lpips = models.lpips()
    run.report("tuning models", 1, 1)
    tuned, how = tune_generator(models.generator, lpips, pivots, targets,
                                steps_for(models.device), TUNE_RES, progress=run.steps("tune"))
    return models.tuned(tuned), how


def tuning_notes(tuning: Tuning | None) -> list[str]:
    """What the tuning did, for the doors to say (none without one)."""
    if tuning is None:
        return []
    why = f"its LPIPS reached {STOP_LPIPS:g}" if tuning.stopped == "lpips" else "its most steps"
    return [f"fidelity faithful: the generator was tuned to the photo in {tuning.steps} steps "
            f"({tuning.seconds:.0f} s, stopped at {why}): the reconstruction's LPIPS "
            f"{tuning.lpips_before:.3f} → {tuning.lpips:.3f}, L2 {tuning.l2_before:.4f} → "
            f"{tuning.l2:.4f}"]


def moved_faces(models: Models, inversions: list[Inversion], paths: list[torch.Tensor],
                precision: Precision) -> list[MovedFace]:
    """Each face that moved, numbered as in its photo, with how alike it stayed
    (``identity_of``, its path ``[T, L, D]``'s frames rendered as the video is)."""
    return [MovedFace(inv.aligned.face_index + 1, inv.aligned,
                      identity_of(models, inv, precision, path))
            for inv, path in zip(inversions, paths)]


def identity_of(models: Models, inv: Inversion, precision: Precision,
                path: torch.Tensor | None = None) -> Identity:
    """How alike ArcFace finds the aligned photo and the render of its inversion, and the
    video's first, middle and last frames (W+ ``path`` ``[T, L, D]``, where the video is the
    photo's face moving), rendered as the video is."""
    photo = preprocess(inv.aligned.image, MEASURE_RES)
    frames = inv.wplus[:0] if path is None else path[spread(len(path))]
    return measure(models.arcface(), models.generator, photo, inv.wplus, frames,
                   precision.render)


def render_onto(models: Models, faces: list[AlignedFace], paths: list[torch.Tensor], run: Run,
                fps: float, size: int, paste_back: str = "auto", side_by_side: bool = False
                ) -> tuple[Path, list[str]]:
    """Render each face's path ``[T, L, D]`` (``paths[k]`` for ``faces[k]``) to ``run.out``
    at ``fps``, at ``size`` px at most, pasted back into their photo as ``paste_back`` says
    (auto, on, off; several faces always are), the photo beside it for ``side_by_side`` →
    (the video, the notes of what was chosen for the user)."""
    paste = paste_for(faces, {"auto": None, "on": True, "off": False}[paste_back])
    first = faces[0]
    left = None
    if side_by_side:
        left = np.asarray(first.photo if paste else first.image)
    asked = min(size, models.generator.size)
    notes = list(dict.fromkeys(n for face in faces for n in face.notes))  # the photo's once
    if paste is None:
        return render_latents(models, paths[0], run, fps, asked, left), notes
    sizes = [render_size(side, asked) for side in paste.sides]
    video = render_pasted(models, paths, sizes, paste, run, fps, left,
                          [face.face_index + 1 for face in faces])
    h, w = paste.photo.shape[:2]
    if left is not None:  # the photo beside it, at the same height (render.side_by_side)
        w += round(left.shape[1] * h / left.shape[0] / 2) * 2
    if len(faces) == 1:
        why = f"the face is {paste.sides[0]} px across there, so it was rendered at {sizes[0]} px"
        if sizes[0] < asked:
            why += (f", the smallest size that holds it ({(asked / sizes[0]) ** 2:.0f}× fewer "
                    f"pixels than {asked} px, which would be scaled away)")
        why += f"; paste_back off gives a {asked} px square"
    else:
        why = (f"the faces are {_px(paste.sides)} px across there, so they were rendered at "
               f"{_px(sizes)} px")
    return video, notes + paste.notes + [f"the moving face{'s were' if len(faces) > 1 else ' was'}"
                                         f" put back into the photo, so the video is {w}×{h}; "
                                         f"{why}"]


def _px(sizes: list[int]) -> str:
    return ", ".join(map(str, sizes))


@torch.no_grad()
def preview_frames(models: Models, latents: torch.Tensor,
                   path: RenderPath = DEFAULT) -> np.ndarray:
    """A few frames W+ ``[K, L, D]`` (a path's first, middle and last: ``spread``) → ``uint8
    [K, S, S, 3]``, S = ``PREVIEW_SIZE``: what the motion will do, in a fraction of the video's
    time."""
    return np.concatenate(list(render_frames(models.generator, latents, 3,
                                             min(PREVIEW_SIZE, models.generator.size), path)))


def paste_for(faces: list[AlignedFace], paste_back: bool | None = None) -> PasteBack | None:
    """The paste-back of aligned faces into their photo, or None: for one face, ``paste_back``
    False, or None and the photo no larger than about the face's crop (under 1.5× its area);
    several faces are always pasted back (the request's check refuses paste_back off)."""
    first = faces[0]
    if len(faces) == 1 and (paste_back is False or first.photo is None):
        return None
    side = face_side(first)
    if len(faces) == 1 and paste_back is None and \
            first.photo.width * first.photo.height < 1.5 * side ** 2:
        return None
    return PasteBack(first.photo, [face.quad for face in faces])


def render_latents(models: Models, latents: torch.Tensor, run: Run, fps: float = 30,
                   size: int | None = None, left: np.ndarray | None = None,
                   batch_size: int = 4) -> Path:
    """W+ ``[T, n_latent, style_dim]``, a frame each → an mp4 at ``run.out`` (and its GIF;
    batched, at ``size`` px or the generator's, along ``run.precision.render``), beside
    ``left``. The run's preview first gets the first, middle and last frames at
    ``PREVIEW_SIZE``."""
    if run.preview is not None:
        frames = preview_frames(models, latents[spread(len(latents))], run.precision.render)
        show(run.preview, "frames", frames, positions(len(latents)))
    size = None if size is None else min(size, models.generator.size)
    batches = render_frames(models.generator, latents, batch_size, size, run.precision.render,
                            run.steps("render"))
    return write_video(batches, run.out, fps, left=left, gif_path=run.gif)


def render_pasted(models: Models, paths: list[torch.Tensor], sizes: list[int], paste: PasteBack,
                  run: Run, fps: float = 30, left: np.ndarray | None = None,
                  numbers: list[int] | None = None, batch_size: int = 4) -> Path:
    """Each face's W+ path ``[T, n_latent, style_dim]`` rendered at its size (``sizes``), the
    faces of a frame pasted back together (``paste``) → an mp4 at ``run.out`` (and its GIF),
    beside ``left``. The run's preview first gets the first face's first, middle and last
    frames (one face), or each face (``numbers``: as the photo's are numbered) at the middle
    of the video (several)."""
    if run.preview is not None:
        if len(paths) == 1:
            picked, captions = paths[0][spread(len(paths[0]))], positions(len(paths[0]))
        else:
            picked = torch.stack([p[len(p) // 2] for p in paths[:6]])
            captions = [f"face {k}, middle" for k in (numbers or range(1, 7))[:len(picked)]]
        frames = preview_frames(models, picked, run.precision.render)
        show(run.preview, "frames" if len(paths) == 1 else "faces", frames, captions)
    batches = render_faces(models.generator, paths, sizes, batch_size, run.precision.render,
                           run.steps("render"))
    return write_video(batches, run.out, fps, left=left, gif_path=run.gif, paste=paste)
