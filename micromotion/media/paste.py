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


def _odd(x: float) -> int:
    return max(3, int(x) | 1)


class PasteBack:
    """Blends ``uint8 [B, S, S, 3]`` aligned frames into ``photo`` → ``uint8 [B, H, W, 3]``,
    H × W the photo's size (scaled down to ``MAX_SIDE`` and rounded down to even numbers, which
    H.264's 4:2:0 colour needs)."""

    def __init__(self, photo: Image.Image, quad: np.ndarray, feather: float = FEATHER):
        photo = photo.convert("RGB")
        scale = min(1.0, MAX_SIDE / max(photo.size))
        w, h = (int(photo.width * scale) // 2 * 2, int(photo.height * scale) // 2 * 2)
        if (w, h) != photo.size:
            photo = photo.resize((round(photo.width * scale), round(photo.height * scale)),
                                 Image.LANCZOS).crop((0, 0, w, h))
        self.photo = np.asarray(photo)
        self.scale, self.feather = scale, feather
        self.quad = (np.asarray(quad, np.float64) + 0.5) * scale  # pixel-centre coordinates
        self.side = int(np.ceil(np.hypot(*(self.quad[3] - self.quad[0]))))  # the face's size
        self._mask: np.ndarray | None = None
        self._box: tuple[int, int, int, int] | None = None
        self.notes = [] if scale == 1 else [f"the photo was scaled to {w}×{h} for the video"]

    def _affine(self, size: int) -> tuple[float, ...]:
        """PIL AFFINE coefficients: photo point → point of the ``size`` square."""
        q0, q1, q3 = self.quad[0], self.quad[1], self.quad[3]
        inv = np.linalg.inv(np.stack([q3 - q0, q1 - q0], axis=1) / size)
        offset = -inv @ q0
        return (inv[0, 0], inv[0, 1], offset[0], inv[1, 0], inv[1, 1], offset[1])

    def _warp(self, square: Image.Image) -> Image.Image:
        h, w = self.photo.shape[:2]
        return square.transform((w, h), Image.AFFINE, self._affine(square.width),
                                Image.BILINEAR)

    @property
    def mask(self) -> np.ndarray:
        """``float32 [H, W]``: the face mask in the photo (0 outside, exactly)."""
        if self._mask is None:
            side = min(max(self.side, 16), 1024)
            self._mask = np.asarray(self._warp(Image.fromarray(face_mask(side, self.feather),
                                                               "F")))
            self._mask = np.where(self._mask < 1 / 255, 0, self._mask).astype(np.float32)
            ys, xs = np.nonzero(self._mask)
            self._box = (ys.min(), ys.max() + 1, xs.min(), xs.max() + 1) if len(ys) else (0, 0, 0, 0)
        return self._mask

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        mask = self.mask
        y0, y1, x0, x1 = self._box
        m = mask[y0:y1, x0:x1, None]
        out = np.broadcast_to(self.photo, (len(frames),) + self.photo.shape).copy()
        for i, frame in enumerate(frames):
            square = Image.fromarray(frame)
            if self.side < square.width:  # shrink first: a bilinear warp alone would alias
                square = square.resize((self.side, self.side), Image.LANCZOS)
            face = np.asarray(self._warp(square))[y0:y1, x0:x1]
            region = out[i, y0:y1, x0:x1]
            out[i, y0:y1, x0:x1] = np.rint(region + m * (face.astype(np.float32) - region))
        return out
