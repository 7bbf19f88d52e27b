"""Paste-back: rendered aligned frames back into the user's own photo.

The alignment quad says where the aligned square came from (``align.warp_quad``: corner
(u, v) of an S-pixel square is ``Q0 + u/S·(Q3 − Q0) + v/S·(Q1 − Q0)`` in the photo, ``Q`` the
quad in pixel-centre coordinates), so each frame goes back through the inverse affine map —
after a Lanczos resize to the face's size in the photo, so a small face is not aliased — and is
blended in through a feathered elliptical face mask. Where the mask is 0, the output is the
photo's own pixels, exactly.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from ..fields import FIELDS

# The face ellipse in the aligned square (fractions of S): FFHQ puts the eyes at about 0.4 S and
# the mouth at about 0.7 S, so this covers brows, eyes, cheeks, mouth and chin, not the hair.
MASK_CENTRE = (0.5, 0.56)
MASK_RADII = (0.34, 0.42)
FEATHER = 0.05  # the mask's soft edge: a Gaussian of this many S
MAX_SIDE = 2160  # a bigger photo is scaled down for the video (a 4K frame is plenty)


def face_mask(size: int, feather: float = FEATHER) -> np.ndarray:
    """``float32 [size, size]`` in [0, 1]: 1 inside the face ellipse, falling smoothly to 0
    (exactly 0 beyond about three feathers) outside it."""
    yy, xx = (np.mgrid[:size, :size] + 0.5) / size
    inside = ((xx - MASK_CENTRE[0]) / MASK_RADII[0]) ** 2 + \
        ((yy - MASK_CENTRE[1]) / MASK_RADII[1]) ** 2 <= 1
    # shrink by one feather first so the blur ends near the ellipse, not far outside it
    hard = Image.fromarray(np.uint8(inside) * 255).filter(
        ImageFilter.MinFilter(_odd(2 * feather * size)))
    soft = np.float32(hard.filter(ImageFilter.GaussianBlur(feather * size))) / 255
    soft[soft < 1 / 255] = 0
    return soft


def render_size(side: int, asked: int, stretch: float = 1.0) -> int:
    """The size a face pasted back ``side`` px across is rendered at: the smallest output size
    that holds it (more pixels would be scaled away) — or that holds it enlarged at most
    ``stretch`` times — at most ``asked``."""
    fits = [s for s in FIELDS["output_size"].choices if s * stretch >= side]
    return min(min(fits, default=asked), asked)


def _odd(x: float) -> int:
    return max(3, int(x) | 1)


class PasteBack:
    """Blends ``uint8 [B, S, S, 3]`` aligned frames into ``photo`` → ``uint8 [B, H, W, 3]``,
    H × W the photo's size (scaled down to ``MAX_SIDE`` and rounded down to even numbers, which
    H.264's 4:2:0 colour needs). Only the quad's bounding box is warped and blended: the rest
    of the photo is its own pixels."""

    def __init__(self, photo: Image.Image | np.ndarray, quad: np.ndarray,
                 feather: float = FEATHER):
        photo = Image.fromarray(photo) if isinstance(photo, np.ndarray) else photo.convert("RGB")
        scale = min(1.0, MAX_SIDE / max(photo.size))
        w, h = (int(photo.width * scale) // 2 * 2, int(photo.height * scale) // 2 * 2)
        if (w, h) != photo.size:
            photo = photo.resize((round(photo.width * scale), round(photo.height * scale)),
                                 Image.LANCZOS).crop((0, 0, w, h))
        self.photo = np.asarray(photo)
        self.scale, self.feather = scale, feather
        self.quad = (np.asarray(quad, np.float64) + 0.5) * scale  # pixel-centre coordinates
        self.side = int(np.ceil(np.hypot(*(self.quad[3] - self.quad[0]))))  # the face's size
        lo = np.clip(np.floor(self.quad.min(0)).astype(int) - 1, 0, [w, h])
        hi = np.clip(np.ceil(self.quad.max(0)).astype(int) + 1, 0, [w, h])
        self._box = (lo[1], hi[1], lo[0], hi[0])  # y0, y1, x0, x1: the quad's bounds
        self._mask: np.ndarray | None = None
        self.notes = [] if scale == 1 else [f"the photo was scaled to {w}×{h} for the video"]
        self.gray = bool(np.ptp(self.photo[::4, ::4].astype(np.int16), axis=-1).max() <= 2)
        if self.gray:
            self.notes.append("the photo is black and white, so the moving face was made black "
                              "and white to match it (the generator draws faces in colour)")

    def _affine(self, size: int) -> tuple[float, ...]:
        """PIL AFFINE coefficients: a point of the box (``_box``) → point of the ``size``
        square."""
        q0, q1, q3 = self.quad[0], self.quad[1], self.quad[3]
        inv = np.linalg.inv(np.stack([q3 - q0, q1 - q0], axis=1) / size)
        offset = inv @ (np.array([self._box[2], self._box[0]]) - q0)
        return (inv[0, 0], inv[0, 1], offset[0], inv[1, 0], inv[1, 1], offset[1])

    def _warp(self, square: Image.Image) -> np.ndarray:
        """An aligned square warped into the box: ``[y1 - y0, x1 - x0, C]`` (or ``[.., ..]``)."""
        y0, y1, x0, x1 = self._box
        if square.mode != "F" and self.side < square.width:  # shrink first: a bilinear warp
            square = square.resize((self.side, self.side), Image.LANCZOS)  # alone would alias
        if square.mode == "RGB" and self.gray:
            square = square.convert("L").convert("RGB")
        return np.asarray(square.transform((max(x1 - x0, 1), max(y1 - y0, 1)), Image.AFFINE,
                                           self._affine(square.width), Image.BILINEAR))

    @property
    def mask(self) -> np.ndarray:
        """``float32 [y1 - y0, x1 - x0]``: the face mask in the box (0 outside, exactly)."""
        if self._mask is None:
            side = min(max(self.side, 16), 1024)
            m = self._warp(Image.fromarray(face_mask(side, self.feather), "F"))
            self._mask = np.where(m < 1 / 255, 0, m).astype(np.float32)
        return self._mask

    @property
    def photo_mask(self) -> np.ndarray:
        """``float32 [H, W]``: the face mask in the whole photo."""
        y0, y1, x0, x1 = self._box
        full = np.zeros(self.photo.shape[:2], np.float32)
        full[y0:y1, x0:x1] = self.mask
        return full

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """The rendered faces themselves put in."""
        return self._blend([self._warp(Image.fromarray(f)).astype(np.float32) for f in frames])

    def change(self, frames: np.ndarray, bases: np.ndarray) -> np.ndarray:
        """Only what the rendered faces change from ``bases`` (the same faces unmoved) added to
        the photo's own pixels: where the motion changes nothing, nothing changes."""
        return self._blend([self._warp(Image.fromarray(f)).astype(np.float32) -
                            self._warp(Image.fromarray(b)) + self._region()
                            for f, b in zip(frames, bases)])

    def _region(self) -> np.ndarray:
        y0, y1, x0, x1 = self._box
        return self.photo[y0:y1, x0:x1].astype(np.float32)

    def _blend(self, faces: list[np.ndarray]) -> np.ndarray:
        y0, y1, x0, x1 = self._box
        m, region = self.mask[..., None], self._region()
        out = np.broadcast_to(self.photo, (len(faces),) + self.photo.shape).copy()
        for i, face in enumerate(faces):
            out[i, y0:y1, x0:x1] = np.clip(np.rint(region + m * (face - region)), 0, 255)
        return out
