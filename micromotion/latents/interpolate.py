"""Interpolation videos (the note "Video generation based on StyleGAN"): latent paths that need
no edit direction, rendered by the same batched renderer.

- **walk**: a smooth path visiting keyframes, ``frames_per_segment`` frames from one to the
  next: a Catmull-Rom cubic in W+ (seeds or inverted photos) or slerp in z (seeds), looping
  back to the first keyframe if asked;
- **style mixing**: a held source face whose ``layers`` follow a walk — coarse (0–3, 4–8 px:
  pose, face shape, expression) or fine (8–17, 64–1024 px: hair strands, colour, texture); the
  other layers stay the source's;
- **circle**: a closed loop around a centre whose angles are spaced so that consecutive frames
  differ by about the same mean squared error (``equal_step_angles``).

Paths are functions of a continuous position, so a loop closes exactly: a walk's position
``n_keys`` and a circle's angle 2π give the frame at position 0 — the frame after the last.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
import torch

import stylegan2
from stylegan2.paths import RenderPath

from ..errors import OptionError
from ..fields import FIELDS
from ..precision import DEFAULT
from ..media.render import check_int
from .samples import seed_latent

METHODS = FIELDS["interpolation"].choices
COARSE_LAYERS = tuple(range(0, 4))  # W+ layers of the 4 and 8 px blocks
FINE_LAYERS = tuple(range(8, 18))  # 64 px and up


def positions(n_keys: int, frames_per_segment: int, loop: bool = False) -> torch.Tensor:
    """Frame positions ``[T]`` in keyframe units (position k is keyframe k):
    T = (n_keys − 1)·F + 1 open (ending on the last keyframe), n_keys·F looping (the frame after
    the last would be position n_keys, the first keyframe again)."""
    if n_keys < 2:
        raise OptionError(f"a walk needs at least two keyframes (seeds or photos), got {n_keys}")
    FIELDS["frames_per_segment"].check(frames_per_segment)
    n_frames = (n_keys if loop else n_keys - 1) * frames_per_segment + (0 if loop else 1)
    return torch.arange(n_frames, dtype=torch.float64) / frames_per_segment


def _segments(n_keys: int, s: torch.Tensor, loop: bool):
    """Positions ``[T]`` → (index of keyframe ``k + offset`` as a function, fraction ``t``)."""
    seg = s.floor().long()
    if loop:
        return (lambda off: (seg + off) % n_keys), s - seg
    seg = seg.clamp(0, n_keys - 2)  # the last position is t = 1 of the last segment
    return (lambda off: (seg + off).clamp(0, n_keys - 1)), s - seg


def cubic_at(keys: torch.Tensor, s: torch.Tensor, loop: bool = False) -> torch.Tensor:
    """Catmull-Rom spline through ``keys [K, ...]`` at positions ``s [T]`` → ``[T, ...]``:
    it passes through every keyframe with a continuous velocity (open ends clamp their
    missing neighbour to themselves)."""
    index, t = _segments(len(keys), s, loop)
    p0, p1, p2, p3 = (keys[index(off)].double() for off in (-1, 0, 1, 2))
    t = t.to(keys.device).view(-1, *[1] * (keys.dim() - 1))
    path = p1 + 0.5 * t * ((p2 - p0) + t * ((2 * p0 - 5 * p1 + 4 * p2 - p3)
                                            + t * (3 * (p1 - p2) + p3 - p0)))
    return path.to(keys.dtype)


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation of rows ``a, b [T, D]`` at ``t [T]`` (linear where they are
    parallel), so a path between Gaussian z keeps their typical norm."""
    a64, b64, t = a.double(), b.double(), t.to(a.device, torch.float64)[:, None]
    cos = (a64 * b64).sum(1, keepdim=True) / (a64.norm(dim=1, keepdim=True)
                                              * b64.norm(dim=1, keepdim=True))
    omega = cos.clamp(-1, 1).acos()
    sin = omega.sin()
    near = sin.abs() < 1e-6
    safe = torch.where(near, torch.ones_like(sin), sin)
    wa = torch.where(near, 1 - t, ((1 - t) * omega).sin() / safe)
    wb = torch.where(near, t, (t * omega).sin() / safe)
    return (wa * a64 + wb * b64).to(a.dtype)


def slerp_at(z: torch.Tensor, s: torch.Tensor, loop: bool = False) -> torch.Tensor:
    """Slerp between consecutive ``z [K, D]`` at positions ``s [T]`` → z ``[T, D]``."""
    index, t = _segments(len(z), s, loop)
    return slerp(z[index(0)], z[index(1)], t)


def check_layers(layers: Sequence[int], n_latent: int) -> list[int]:
    """Distinct W+ layer indices in [0, n_latent), sorted."""
    out = sorted(set(int(i) for i in layers))
    if not out or out[0] < 0 or out[-1] >= n_latent:
        raise OptionError(f"layers must be W+ layer indices from 0 to {n_latent - 1} "
                          f"(e.g. 0-3 coarse, 8-17 fine), got {list(layers)}")
    return out


def mix_layers(source: torch.Tensor, path: torch.Tensor, layers: Sequence[int]) -> torch.Tensor:
    """The held ``source`` W+ ``[L, D]`` with ``layers`` taken from ``path [T, L, D]`` →
    ``[T, L, D]``; every other layer is the source's, exactly."""
    layers = check_layers(layers, path.shape[1])
    out = source.reshape(path.shape[1:]).expand_as(path).clone()
    out[:, layers] = path[:, layers]
    return out


def circle_axes(offsets: torch.Tensor) -> torch.Tensor:
    """Two offsets from the centre ``[2, D]`` → orthogonal axes ``[2, D]`` of their plane, each
    as long as the offsets are on average (so radius 1 reaches about as far as they do)."""
    a, b = offsets.double().reshape(2, -1)
    u = a / a.norm()
    v = b - (b @ u) * u
    if v.norm() < 1e-6 * b.norm():
        raise OptionError("the circle's two seeds give the same direction; pick two others")
    scale = offsets.double().reshape(2, -1).norm(dim=1).mean()
    return (torch.stack([u, v / v.norm()]) * scale).reshape(offsets.shape).to(offsets.dtype)


def circle_at(centre: torch.Tensor, axes: torch.Tensor, radius: float, angles: torch.Tensor,
              layers: Sequence[int] | None = None) -> torch.Tensor:
    """Points ``centre + radius·(cos θ·axes[0] + sin θ·axes[1])`` → W+ ``[T, L, D]`` for the
    centre W+ ``[L, D]``, axes ``[2, D]`` (every layer) and angles ``[T]``; with ``layers``
    only those layers move."""
    FIELDS["radius"].check(radius)
    n_latent, dim = centre.shape[-2:]
    theta = angles.to(centre.device, torch.float64)[:, None]
    offset = radius * (theta.cos() * axes[0].double() + theta.sin() * axes[1].double())
    path = centre.reshape(1, n_latent, dim) + offset.to(centre.dtype)[:, None, :]
    return path if layers is None else mix_layers(centre, path, layers)


Measure = Callable[[torch.Tensor], torch.Tensor]


def equal_step_angles(measure: Measure, n_frames: int, probes: int = 48, tol: float = 0.05,
                      max_evals: int = 12, progress: Callable[[int, int], None] | None = None
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Angles ``[n_frames]`` in [0, 2π) around a loop whose consecutive frames — the closing
    one, last → first, included — differ by about the same mean squared error.

    ``measure(angles [B]) → images [B, ...]`` renders the loop (small and clamped is enough).
    ``probes`` evenly spaced frames give the loop's length in RMS difference; then each step is
    found by bisection on its angle (with a proportional first guess, since the RMS difference
    grows about linearly with a small step) until its RMS difference is within ``tol`` of the
    remaining length over the remaining steps — retargeting each step so errors do not pile up
    on the closing one. Returns (angles, each step's MSE ``[n_frames]``, the last the closing).
    """
    check_int("frames", n_frames, 2, 10_000)
    check_int("probes", probes, 4, 10_000)
    probe_angles = torch.linspace(0, 2 * math.pi, probes + 1, dtype=torch.float64)
    images = torch.cat([measure(probe_angles[i:min(i + 8, probes)]) for i in range(0, probes, 8)])
    gaps = _rms(images, images.roll(-1, 0))
    arc = np.concatenate([[0.0], gaps.cumsum(0).cpu().numpy()])  # RMS length at each probe angle
    grid = probe_angles.numpy()
    length_at = lambda theta: float(np.interp(theta, grid, arc))  # noqa: E731
    angle_at = lambda s: float(np.interp(s, arc, grid))  # noqa: E731

    angles, steps, current = [0.0], [], images[:1]
    for i in range(1, n_frames):
        theta = angles[-1]
        target = (arc[-1] - length_at(theta)) / (n_frames - i + 1)
        lo, hi = theta, 2 * math.pi
        guess, best = angle_at(length_at(theta) + target), None
        for _ in range(max_evals):
            image = measure(torch.tensor([guess], dtype=torch.float64))
            r = float(_rms(current, image))
            if best is None or abs(r - target) < abs(best[1] - target):
                best = (guess, r, image)
            if abs(r / target - 1) <= tol:
                break
            lo, hi = (guess, hi) if r < target else (lo, guess)
            guess = theta + (guess - theta) * target / max(r, 1e-12)
            if not lo < guess < hi:
                guess = (lo + hi) / 2
        angles.append(best[0])
        steps.append(best[1])
        current = best[2]
        if progress:
            progress(i, n_frames)
    steps.append(float(_rms(current, images[:1])))  # the closing step, back to angle 0
    return torch.tensor(angles, dtype=torch.float64), torch.tensor(steps) ** 2


def step_mse(frames: torch.Tensor | np.ndarray, closed: bool = True) -> torch.Tensor:
    """Mean squared difference between consecutive frames ``[T, ...]`` → ``[T]`` (closed: the
    last entry is last → first) or ``[T − 1]``."""
    x = torch.as_tensor(frames).double()
    nxt = x.roll(-1, 0) if closed else x[1:]
    return _rms(x if closed else x[:-1], nxt) ** 2


def _rms(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a.double() - b.double()).flatten(1).pow(2).mean(1).sqrt()


def check_plan(v, n_latent: int = 18, max_frames: int = FIELDS["frames"].hi) -> list[int]:
    """What the fields alone cannot say of a latent-video request ``v`` (``request.LatentVideo``
    with its fields checked): a circle has its two seeds, slerp has no photos, a walk has at
    most ``max_frames`` frames → the W+ layers that move (of ``n_latent``)."""
    if v.mode == "circle":
        if len(v.seeds) < 2:
            raise OptionError("a circle needs two seeds for its plane, e.g. seeds 1,2")
    else:
        if v.interpolation == "slerp" and _keyframe_photos(v):
            raise OptionError("slerp interpolates z, which only seeds have (a photo is "
                              "inverted into W+): use the cubic interpolation with photos")
        n = frame_count(v)
        if n > max_frames:
            raise OptionError(f"that walk has {n} frames, more than {max_frames}: use "
                              f"fewer keyframes or fewer frames per segment")
    default = {"coarse": COARSE_LAYERS, "fine": FINE_LAYERS}.get(v.mode, range(n_latent))
    return check_layers(default if v.layers is None else v.layers, n_latent)


def frame_count(v) -> int:
    """The frames of latent-video request ``v``: a circle's own, else one a position of the
    walk through its keyframes (photos, then seeds)."""
    if v.mode == "circle":
        return v.frames
    return len(positions(_keyframe_photos(v) + len(v.seeds), v.frames_per_segment, v.loop))


def _keyframe_photos(v) -> int:
    return len(v.photos) + (v.image is not None and v.mode == "walk")


def seed_latents(generator: stylegan2.Generator, seeds: Sequence[int],
                 truncation: float = 0.7) -> torch.Tensor:
    """W+ ``[K, n_latent, style_dim]`` of the seeds' faces (z(seed), truncated); K may be 0
    (a walk through photos only)."""
    if not seeds:
        return generator.latent_avg.new_zeros(0, generator.n_latent, generator.style_dim)
    w = generator.mapping(seed_zs(generator, seeds), truncation)
    return w[:, None].expand(-1, generator.n_latent, -1)


def seed_zs(generator: stylegan2.Generator, seeds: Sequence[int]) -> torch.Tensor:
    """z ``[K, style_dim]`` of the seeds, on the generator's device."""
    return torch.cat([seed_latent(generator, int(s)) for s in seeds])


def walk_path(generator: stylegan2.Generator, photo_keys: Sequence[torch.Tensor],
              seeds: Sequence[int], method: str = "cubic", frames_per_segment: int = 30,
              loop: bool = False, truncation: float = 0.7) -> torch.Tensor:
    """W+ ``[T, n_latent, style_dim]`` of a walk through the photos' W+ ``[L, D]`` and then the
    seeds' faces: a cubic in W+, or slerp in z (seeds only)."""
    s = positions(len(photo_keys) + len(seeds), frames_per_segment, loop)
    if method == "slerp":
        z = slerp_at(seed_zs(generator, seeds), s, loop)
        return generator.mapping(z, truncation)[:, None].expand(-1, generator.n_latent, -1)
    keys = list(photo_keys) + list(seed_latents(generator, seeds, truncation))
    return cubic_at(torch.stack(keys), s, loop)


def circle_path(generator: stylegan2.Generator, centre: torch.Tensor, seeds: Sequence[int],
                radius: float, frames: int, layers: Sequence[int], truncation: float = 0.7,
                measure_res: int = 64, path: RenderPath = DEFAULT,
                progress: Callable[[int, int], None] | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """An equal-step loop of ``frames`` around the centre W+ ``[L, D]`` in the plane of the
    first two seeds' offsets from the average face → (W+ ``[T, L, D]``, step MSEs ``[T]``)."""
    offsets = seed_latents(generator, seeds[:2], truncation)[:, 0] - generator.latent_avg
    axes = circle_axes(offsets)

    def measure(angles: torch.Tensor) -> torch.Tensor:
        w = circle_at(centre, axes, radius, angles, layers)
        return path.synthesis(generator, w, max_res=measure_res).clamp(-1, 1)

    angles, steps = equal_step_angles(measure, frames, progress=progress)
    return circle_at(centre, axes, radius, angles, layers), steps
