"""Seeded random generator checkpoints in the official layouts, for tests and demos.

The tensors are random but not at their initial values: biases, noise strengths, modulation
biases and the noise buffers are all non-trivial, so a loader or kernel that drops or swaps
any of them changes the output. Such a generator draws abstract patterns, not faces.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

from .model import Generator, default_channels

LAYOUTS = ("rosinality", "bare", "psp")


def synthetic_generator(size: int = 64, style_dim: int = 64, n_mlp: int = 2,
                        channel_multiplier: int = 2, max_channels: int = 512,
                        channels: dict[int, int] | None = None, seed: int = 0) -> Generator:
    """A seeded ``Generator`` with perturbed parameters and ``latent_avg`` set. Channels per
    resolution are config-f's capped at ``max_channels``, unless ``channels`` gives them."""
    if channels is None:
        channels = {r: min(c, max_channels)
                    for r, c in default_channels(channel_multiplier).items()}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        gen = Generator(size, style_dim, n_mlp, channels=channels)
        with torch.no_grad():
            for name, p in gen.named_parameters():
                if name.endswith("noise.weight"):
                    p.copy_(0.1 * torch.randn_like(p))
                elif name.endswith("modulation.bias"):
                    p.copy_(1.0 + 0.1 * torch.randn_like(p))
                elif name.endswith("bias"):
                    p.copy_(0.1 * torch.randn_like(p))
            gen.latent_avg.copy_(gen.mean_latent(1024, seed=seed))
    return gen.eval().requires_grad_(False)


def synthetic_checkpoint(layout: str = "rosinality", **kwargs) -> dict:
    """The checkpoint dict of ``synthetic_generator(**kwargs)`` in one of ``LAYOUTS``:
    ``{'g_ema', 'latent_avg' [D]}``, a bare state dict, or pSp's
    ``{'state_dict': {'decoder.*'}, 'opts', 'latent_avg' [n_latent, D]}``."""
    gen = synthetic_generator(**kwargs)
    state = {k: v.clone() for k, v in gen.state_dict().items()}
    if layout == "rosinality":
        return {"g_ema": state, "latent_avg": gen.latent_avg.clone()}
    if layout == "bare":
        return state
    if layout == "psp":
        return {"state_dict": {f"decoder.{k}": v for k, v in state.items()},
                "opts": {"output_size": gen.size},
                "latent_avg": gen.latent_avg.repeat(gen.n_latent, 1)}
    raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")


def write_synthetic_checkpoint(path: str | os.PathLike, layout: str = "rosinality",
                               **kwargs) -> Path:
    """``torch.save`` a synthetic checkpoint; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(synthetic_checkpoint(layout, **kwargs), path)
    return path
