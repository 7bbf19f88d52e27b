"""Paste-back: rendered aligned frames back into the user's own photo — one face, or several.

The alignment quad says where the aligned square came from (``align.warp_quad``: corner
(u, v) of an S-pixel square is ``Q0 + u/S·(Q3 − Q0) + v/S·(Q1 − Q0)`` in the photo, ``Q`` the
quad in pixel-centre coordinates), so each frame goes back through the inverse affine map —
after a Lanczos resize to the face's size in the photo, so a small face is not aliased — and is
blended in through a feathered elliptical face mask. Where the mask is 0, the output is the
photo's own pixels, exactly. With several faces each is blended only within its own mask, and
where two masks overlap each pixel is shared by its nearness to each face's centre (relative to
the face's size), so one face never paints over another.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from PIL import Image, ImageFilter

from ..fields import FIELDS
from .align import quad_side

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


STRETCH = 1.25  # a clip's moving face may be enlarged this much from its render: a frame shows
# for a thirtieth of a second, and a face 257–320 px across renders at 256, a quarter of 512's
# pixels


def render_size(side: int, asked: int, stretch: float = 1.0) -> int:
    """The size a face pasted back ``side`` px across is rendered at: the smallest output size
    that holds it (more pixels would be scaled away) — or that holds it enlarged at most
    ``stretch`` times — at most ``asked``."""
    fits = [s for s in FIELDS["output_size"].choices if s * stretch >= side]
    return min(min(fits, default=asked), asked)


def _odd(x: float) -> int:
    return max(3, int(x) | 1)


class Place:
    """Where one aligned face goes in the (scaled) photo of ``width`` × ``height``: its quad
    in pixel-centre coordinates, the box that bounds it, its size and mask there."""

    def __init__(self, quad: np.ndarray, width: int, height: int, feather: float):
        self.quad, self.feather = quad, feather
        self.side = int(np.ceil(quad_side(quad)))  # the face's size
        self.centre = quad.mean(0)
        lo = np.clip(np.floor(quad.min(0)).astype(int) - 1, 0, [width, height])
        hi = np.clip(np.ceil(quad.max(0)).astype(int) + 1, 0, [width, height])
        self.box = (lo[1], hi[1], lo[0], hi[0])  # y0, y1, x0, x1: the quad's bounds
        self._mask: np.ndarray | None = None

    def _affine(self, size: int) -> tuple[float, ...]:
        """PIL AFFINE coefficients: a point of the box → point of the ``size`` square."""
        q0, q1, q3 = self.quad[0], self.quad[1], self.quad[3]
        inv = np.linalg.inv(np.stack([q3 - q0, q1 - q0], axis=1) / size)
        offset = inv @ (np.array([self.box[2], self.box[0]]) - q0)
        return (inv[0, 0], inv[0, 1], offset[0], inv[1, 0], inv[1, 1], offset[1])

    def warp(self, square: Image.Image, gray: bool = False) -> np.ndarray:
        """An aligned square warped into the box: ``[y1 - y0, x1 - x0, C]`` (or ``[.., ..]``)."""
        y0, y1, x0, x1 = self.box
        if square.mode != "F" and self.side < square.width:  # shrink first: a bilinear warp
            square = square.resize((self.side, self.side), Image.LANCZOS)  # alone would alias
        if square.mode == "RGB" and gray:
            square = square.convert("L").convert("RGB")
        return np.asarray(square.transform((max(x1 - x0, 1), max(y1 - y0, 1)), Image.AFFINE,
                                           self._affine(square.width), Image.BILINEAR))

    @property
    def mask(self) -> np.ndarray:
        """``float32 [y1 - y0, x1 - x0]``: the face mask in the box (0 outside, exactly)."""
        if self._mask is None:
            side = min(max(self.side, 16), 1024)
            m = self.warp(Image.fromarray(face_mask(side, self.feather), "F"))
            self._mask = np.where(m < 1 / 255, 0, m).astype(np.float32)
        return self._mask

    def nearness(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """``float32`` over ``box``: 1 / (distance to the face's centre in face sizes)²."""
        yy, xx = np.mgrid[box[0]:box[1], box[2]:box[3]] + 0.5
        d2 = ((xx - self.centre[0]) ** 2 + (yy - self.centre[1]) ** 2) / self.side ** 2
        return (1 / (d2 + 1e-6)).astype(np.float32)


def video_size(width: int, height: int) -> tuple[int, int]:
    """The size of the video pasted into a ``width`` × ``height`` photo: scaled down to
    ``MAX_SIDE``, rounded down to even numbers (H.264's 4:2:0 colour needs them)."""
    scale = min(1.0, MAX_SIDE / max(width, height))
    return int(width * scale) // 2 * 2, int(height * scale) // 2 * 2


class PasteBack:
    """Blends aligned frames of one or more faces into ``photo``: for face k, through its quad
    ``quads[k]``, ``uint8 [B, S_k, S_k, 3]`` → ``uint8 [B, H, W, 3]``, H × W the photo's size
    (scaled down to ``MAX_SIDE`` and rounded down to even numbers, which H.264's 4:2:0 colour
    needs). Only the quads' bounding box is warped and blended: the rest of the photo is its
    own pixels."""

    def __init__(self, photo: Image.Image | np.ndarray, quads: Sequence[np.ndarray],
                 feather: float = FEATHER):
        photo = Image.fromarray(photo) if isinstance(photo, np.ndarray) else photo.convert("RGB")
        scale = min(1.0, MAX_SIDE / max(photo.size))
        w, h = video_size(*photo.size)
        if (w, h) != photo.size:
            photo = photo.resize((round(photo.width * scale), round(photo.height * scale)),
                                 Image.LANCZOS).crop((0, 0, w, h))
        self.photo = np.asarray(photo)
        self.scale = scale
        self.places = [Place((np.asarray(q, np.float64) + 0.5) * scale, w, h, feather)
                       for q in quads]
        boxes = np.array([p.box for p in self.places])
        self._box = (boxes[:, 0].min(), boxes[:, 1].max(), boxes[:, 2].min(), boxes[:, 3].max())
        self._shares: list[np.ndarray] | None = None
        self.notes = [] if scale == 1 else [f"the photo was scaled to {w}×{h} for the video"]
        self.gray = bool(np.ptp(self.photo[::4, ::4].astype(np.int16), axis=-1).max() <= 2)
        if self.gray:
            self.notes.append("the photo is black and white, so the moving face was made black "
                              "and white to match it (the generator draws faces in colour)")

    @property
    def sides(self) -> list[int]:
        """Each face's size in the photo, px."""
        return [p.side for p in self.places]

    @property
    def shares(self) -> list[np.ndarray]:
        """Each face's blend weight in its box, ``float32``: its mask, shared where masks
        overlap by nearness (``Place.nearness``); at any pixel they sum to at most 1."""
        if self._shares is None:
            self._shares = [self._share(p) for p in self.places]
        return self._shares

    def _share(self, place: Place) -> np.ndarray:
        own = place.nearness(place.box)
        total = own.copy()
        for other in self.places:
            cut = _within(other.box, place.box)
            if other is place or cut is None:
                continue
            (ty, tx), (oy, ox) = cut
            near = other.nearness(place.box)[ty, tx]
            total[ty, tx] += np.where(other.mask[oy, ox] > 0, near, 0)
        return place.mask * own / total

    @property
    def photo_mask(self) -> np.ndarray:
        """``float32 [H, W]``: how much of each pixel the faces take, in the whole photo."""
        full = np.zeros(self.photo.shape[:2], np.float32)
        for place, share in zip(self.places, self.shares):
            y0, y1, x0, x1 = place.box
            full[y0:y1, x0:x1] += share
        return full

    def __call__(self, faces: Sequence[np.ndarray]) -> np.ndarray:
        """The rendered faces themselves put in (``faces[k]``: face k's frames)."""
        return self._blend(len(faces[0]), lambda k, b, region: self._warp(k, faces[k][b]) - region)

    def change(self, faces: Sequence[np.ndarray], bases: Sequence[np.ndarray]) -> np.ndarray:
        """Only what the rendered faces change from ``bases`` (the same faces unmoved) added to
        the photo's own pixels: where the motion changes nothing, nothing changes."""
        return self._blend(len(faces[0]), lambda k, b, region:
                           self._warp(k, faces[k][b]) - self._warp(k, bases[k][b]))

    def _warp(self, k: int, frame: np.ndarray) -> np.ndarray:
        return self.places[k].warp(Image.fromarray(frame), self.gray).astype(np.float32)

    def _blend(self, n: int, delta: Callable[[int, int, np.ndarray], np.ndarray]) -> np.ndarray:
        """``n`` frames: the photo plus, for each face k, its share times ``delta(k, frame,
        region)`` — what it adds to the photo's pixels ``region`` in its box."""
        y0, y1, x0, x1 = self._box
        base = self.photo[y0:y1, x0:x1].astype(np.float32)
        out = np.broadcast_to(self.photo, (n,) + self.photo.shape).copy()
        for b in range(n):
            acc = base.copy()
            for k, (place, share) in enumerate(zip(self.places, self.shares)):
                py0, py1, px0, px1 = place.box
                cut = (slice(py0 - y0, py1 - y0), slice(px0 - x0, px1 - x0))
                acc[cut] += share[..., None] * delta(k, b, base[cut])
            out[b, y0:y1, x0:x1] = np.clip(np.rint(acc), 0, 255)
        return out


def _within(box: tuple[int, int, int, int], into: tuple[int, int, int, int]):
    """Where ``box`` and ``into`` overlap, as slices of ``into`` and of ``box``; None where
    they do not."""
    y0, y1 = max(box[0], into[0]), min(box[1], into[1])
    x0, x1 = max(box[2], into[2]), min(box[3], into[3])
    if y0 >= y1 or x0 >= x1:
        return None
    return ((slice(y0 - into[0], y1 - into[0]), slice(x0 - into[2], x1 - into[2])),
            (slice(y0 - box[0], y1 - box[0]), slice(x0 - box[2], x1 - box[2])))
