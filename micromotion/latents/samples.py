"""Sample faces from seeds: z(seed) → mapping (truncated) → synthesis."""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np
import torch

from stylegan2 import Generator

from ..errors import OptionError
from ..field import shown
from ..media.render import to_uint8


def parse_seeds(text: str, what: str = "seeds", most: int | None = None) -> list[int]:
    """``"0-3,7"`` → ``[0, 1, 2, 3, 7]`` (seeds, or layer indices with ``what="layers"``);
    more than ``most`` numbers is an error, found before any range is spelt out."""
    spans: list[tuple[int, int]] = []
    for part in filter(None, (p.strip() for p in str(text).split(","))):
        lo, sep, hi = part.partition("-")
        try:
            spans.append((int(lo), int(hi) if sep else int(lo)))
        except ValueError:
            raise OptionError(f"{what} must look like '0-3,7' (non-negative integers), "
                              f"got {shown(text)}") from None
        count = sum(max(0, b - a + 1) for a, b in spans)
        if most is not None and count > most:
            raise OptionError(f"{what} {shown(text)} give more than {most} numbers; give at "
                              f"most {most}")
    seeds = [n for a, b in spans for n in range(a, b + 1)]
    if not seeds:
        raise OptionError(f"no {what} in {shown(text)}; give e.g. '0-3' or '1,5,9'")
    return seeds


def seed_latent(gen: Generator, seed: int) -> torch.Tensor:
    """The z ``[1, style_dim]`` of a seed (the same on every machine), on the generator's
    device."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(1, gen.style_dim, generator=g).to(gen.latent_avg.device)


@torch.no_grad()
def render_seeds(gen: Generator, seeds: Iterable[int], truncation: float = 0.7,
                 size: int | None = None,
                 progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """``uint8 [N, R, R, 3]`` images of the seeds' faces, R = ``size`` or the generator's."""
    seeds = list(seeds)
    frames = []
    for i, seed in enumerate(seeds):
        w = gen.mapping(seed_latent(gen, seed), truncation=truncation)
        frames.append(to_uint8(gen.synthesis(w, max_res=size)))
        if progress:
            progress(i + 1, len(seeds))
    return np.concatenate(frames)
