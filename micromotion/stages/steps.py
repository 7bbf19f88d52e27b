"""The steps the use cases (``pipeline``) share, each on the loaded ``Models``: find and align
the photo's face and invert it, tune the generator to it (fidelity faithful), render a W+ path
into a video (pasted back into the photo, beside it), and measure how alike the result stayed.

    inv = invert(models, "photo.jpg")                  # .wplus [1, 18, 512], .aligned
    view, tuning = faithful(models, "faithful", [inv])   # a generator tuned to it, or the same
    video, notes = render_onto(view, inv.aligned, path, req, Run("out.mp4", precision=FP32))
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from stylegan2.paths import RenderPath

from ..media.align import AlignedFace, align_face
from ..nets.encoders import preprocess
from ..nets.identity import MEASURE_RES, Identity, measure
from ..media.images import ImageSource
from ..nets.models import Models
from ..media.paste import PasteBack, render_size
from ..precision import DEFAULT, Precision
from ..media.preview import PREVIEW_SIZE, from_images, positions, show, spread
from ..media.render import render_frames, write_video
from ..requests.checks import ensure_checked
from ..requests.request import Animate, Transfer
from .results import Inversion
from ..run import QUIET, Run
from ..nets.tuning import STOP_LPIPS, TUNE_RES, Tuning, steps_for, tune_generator


def ready(models: Models, req, run: Run):
    """The request checked (where no door did) and the run's precision resolved for it."""
    req = ensure_checked(req, models.shape)
    return req, run.on(models.plan.resolve, req.dtype)


def invert(models: Models, image: ImageSource, name: str | None = None,
           run: Run = QUIET) -> Inversion:
    """Align the most confident face and invert it: W+ ``[1, n_latent, style_dim]``."""
    return invert_face(models, align(models, image, name, run), run)


def align(models: Models, image: ImageSource, name: str | None = None,
          run: Run = QUIET) -> AlignedFace:
    """The photo's most confident face, aligned the FFHQ way at the encoder's size (a photo
    without a face fails here, in seconds); the run's preview gets it at once."""
    run.report("align", 0, 1)
    aligned = align_face(image, models.encoder.input_size, name=name)
    run.report("align", 1, 1)
    if run.preview is not None:  # the resize only for a door that shows it
        show(run.preview, "face", from_images([aligned.image]),
             [f"the face in {name or 'the photo'}"])
    return aligned


def invert_face(models: Models, aligned: AlignedFace, run: Run = QUIET) -> Inversion:
    """An aligned face → its W+ ``[1, n_latent, style_dim]`` by the encoder."""
    x = models.encoder.preprocess(aligned.image)
    w = models.encoder.invert(x, precision=run.precision, progress=run.steps("invert"))
    return Inversion(w, aligned)


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


def identity_of(models: Models, inv: Inversion, precision: Precision,
                path: torch.Tensor | None = None) -> Identity:
    """How alike ArcFace finds the aligned photo and the render of its inversion, and the
    video's first, middle and last frames (W+ ``path`` ``[T, L, D]``, where the video is the
    photo's face moving), rendered as the video is."""
    photo = preprocess(inv.aligned.image, MEASURE_RES)
    frames = inv.wplus[:0] if path is None else path[spread(len(path))]
    return measure(models.arcface(), models.generator, photo, inv.wplus, frames,
                   precision.render)


def render_onto(models: Models, aligned: AlignedFace, latents: torch.Tensor,
                req: Animate | Transfer, run: Run, fps: float | None = None
                ) -> tuple[Path, list[str]]:
    """Render the face's path ``[T, L, D]`` to ``run.out``, pasted back into its photo and
    beside it as ``req`` asks → (the video, the notes of what was chosen for the user)."""
    paste = paste_for(aligned, {"auto": None, "on": True, "off": False}[req.paste_back])
    left = None
    if req.side_by_side:
        left = np.asarray(aligned.photo if paste else aligned.image)
    asked = min(req.output_size, models.generator.size)
    size = asked if paste is None else render_size(paste.side, asked)
    video = render_latents(models, latents, run, fps or req.fps, size, left, paste)
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


def render_latents(models: Models, latents: torch.Tensor, run: Run, fps: float = 30,
                   size: int | None = None, left: np.ndarray | None = None,
                   paste: PasteBack | None = None, batch_size: int = 4) -> Path:
    """W+ ``[T, n_latent, style_dim]``, a frame each → an mp4 at ``run.out`` (and its GIF;
    batched, at ``size`` px or the generator's, along ``run.precision.render``), pasted back
    into the photo with ``paste``, beside ``left``. The run's preview first gets the first,
    middle and last frames at ``PREVIEW_SIZE``."""
    if run.preview is not None:
        frames = preview_frames(models, latents, run.precision.render)
        show(run.preview, "frames", frames, positions(len(latents)))
    size = None if size is None else min(size, models.generator.size)
    batches = render_frames(models.generator, latents, batch_size, size, run.precision.render,
                            run.steps("render"))
    return write_video(batches, run.out, fps, left=left, gif_path=run.gif, paste=paste)
