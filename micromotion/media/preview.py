"""What a request shows before its video, as the work goes: glimpses of a few frames with a
caption each — the face found in the photo (seconds after the click), the faces found in a clip,
the text anchors as they form (every optimisation step), then the video's first, middle and
last frames — for the doors to show (the page does; the others need only the video).

    serve(req, models, out, preview=lambda g: print(g.what, g.frames.shape, g.captions))
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .render import to_uint8

PREVIEW_SIZE = 256
# what a glimpse shows, in the order a request can show them
SHOWS = ("face", "clip", "driver", "anchors", "look", "frames", "faces")  # "faces": several,
# each at the video's middle; "look": an edit's strongest frame, as filmed and as edited


@dataclass(frozen=True)
class Glimpse:
    what: str  # one of ``SHOWS``
    frames: np.ndarray  # uint8 [K, S, S, 3], S ≤ PREVIEW_SIZE
    captions: tuple[str, ...]  # one per frame
    final: bool = True  # False while the frames still change (anchors mid-optimisation)

    @property
    def rendered(self) -> bool:
        """Whether it shows the video's own frames, as they will be: the preview is ready."""
        return self.what in ("look", "frames", "faces")


Preview = Callable[[Glimpse], None]


def show(preview: Preview | None, what: str, frames: np.ndarray,
         captions: Sequence[str], final: bool = True) -> None:
    """Hand ``preview`` (if any) a glimpse of ``frames`` uint8 ``[K, S, S, 3]``."""
    if preview is not None:
        assert what in SHOWS and len(frames) == len(captions), (what, len(frames), captions)
        preview(Glimpse(what, frames, tuple(captions), final))


def show_faces(preview: Preview | None, what: str, faces: Sequence[Image.Image],
               times: Sequence[float], name: str) -> None:
    """A clip's first, middle and last aligned faces (``faces``, at ``times`` seconds into
    the clip ``name``) as a glimpse."""
    if preview is not None:
        picked = spread(len(faces))
        show(preview, what, from_images([faces[k] for k in picked]),
             [f"{name} at {times[k]:.1f} s" for k in picked])


def from_images(images: Sequence[Image.Image]) -> np.ndarray:
    """Aligned faces (square PIL images) → uint8 ``[K, S, S, 3]`` at ``PREVIEW_SIZE``."""
    size = min(PREVIEW_SIZE, images[0].width)
    return np.stack([np.asarray(im.convert("RGB").resize((size, size), Image.BILINEAR))
                     for im in images])


def from_tensors(images: torch.Tensor) -> np.ndarray:
    """Generator output ``[K, 3, H, W]`` in [-1, 1] → uint8 ``[K, S, S, 3]``, shrunk by area
    to at most ``PREVIEW_SIZE`` (a full-size frame would be scaled away by the page)."""
    images = images.detach().float()
    if images.shape[-1] > PREVIEW_SIZE:
        images = F.interpolate(images, size=(PREVIEW_SIZE, PREVIEW_SIZE), mode="area")
    return to_uint8(images)


def spread(n: int) -> list[int]:
    """The first, middle and last of ``n`` items (fewer when there are fewer)."""
    return sorted({0, n // 2, n - 1})


def positions(n: int) -> list[str]:
    """``spread(n)``'s items named: "first", "middle", "last"."""
    return ["first" if k == 0 else "last" if k == n - 1 else "middle" for k in spread(n)]
