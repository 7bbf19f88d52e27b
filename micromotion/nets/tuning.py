"""Pivotal tuning (Roich et al. 2021, "Pivotal Tuning for Latent-based Editing of Real Images"):
when the encoder's W+ renders only a look-alike, tune a copy of the generator's weights so
that the pivot — the encoder's W+ — renders the photo itself, while latents far from it render
as before. Edits along a direction then move this person, not a cousin.

Each step, with Adam (lr 3e-4) on the copy's synthesis weights:

    loss = L2(G'(pivot), photo) + LPIPS(G'(pivot), photo)
         + 0.1 · L2(G'(w_far), G(w_far)) + 0.1 · LPIPS(G'(w_far), G(w_far))    # locality
    w_far = pivot + 30 · (w − pivot)/‖w − pivot‖,  w = mapping(z) at truncation 0.5, one z a step

stopping once the reconstruction's LPIPS is at most 0.07, or after 350 steps (PTI's published
hyperparameters, ``configs/hyperparameters.py``). The images are compared at ``loss_res``
(the generator's early exit), so only the layers up to it are tuned; finer layers keep the
original weights. The shared generator is never touched: the tuned copy belongs to one request.
"""
from __future__ import annotations

import copy
import itertools
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
import torch.nn.functional as F

import stylegan2

from .lpips import LPIPS

TUNE_RES = 256  # the aligned photo's size (the encoder's input): the loss sees it as it is
LR = 3e-4
STOP_LPIPS = 0.07
MAX_STEPS = 350
LOCALITY_WEIGHT = 0.1  # the locality regulariser's L2 and LPIPS, each
LOCALITY_ALPHA = 30.0  # how far the regulariser's latents lie from the pivot
LOCALITY_TRUNCATION = 0.5
# On a CPU, 40 steps at 256 px: about 3 min on a 2-core Xeon at the full FFHQ sizes (4.2 s a
# step), where the reconstruction's LPIPS fell 0.066 → 0.013 and its L2 8.3 → 0.08 on a target
# the generator could not reach; a 128 or 64 px loss is cheaper a step but buys less a second
# at the photo's 256 px (bench/tuning.py)
CPU_STEPS = 40


def steps_for(device: torch.device) -> int:
    """The most steps for a device: PTI's 350 on a GPU; on a CPU, fewer (``CPU_STEPS``), chosen
    by the identity gained per second (``bench/tuning.py``)."""
    return MAX_STEPS if device.type == "cuda" else CPU_STEPS


@dataclass
class Tuning:
    """How a tuning went: the steps taken, why it stopped ("lpips": the reconstruction reached
    ``STOP_LPIPS``; "steps": the most steps), the reconstruction's L2 and LPIPS when it
    stopped (and before the first step), and the seconds it took."""
    steps: int
    stopped: str
    lpips: float
    l2: float
    lpips_before: float
    l2_before: float
    seconds: float


@dataclass
class Step:
    """The loop as it stands before an update: ``step`` updates done, the tuned copy, the
    reconstruction's LPIPS and L2 (means over the pivots)."""
    step: int
    tuned: stylegan2.Generator
    lpips: float
    l2: float


def tuning_steps(generator: stylegan2.Generator, lpips: LPIPS, pivots: torch.Tensor,
                 targets: torch.Tensor, loss_res: int = TUNE_RES, seed: int = 0
                 ) -> Iterator[Step]:
    """PTI's loop on a copy of ``generator``, one ``Step`` before each update, for as long as
    it is asked: ``pivots`` W+ ``[K, L, D]`` are tuned to render ``targets`` ``[K, 3, S, S]``
    in [-1, 1] (resized to ``loss_res``)."""
    res = min(loss_res, generator.size)
    tuned = copy.deepcopy(generator).requires_grad_(False)
    params = [p for name, p in tuned.named_parameters() if not name.startswith("style.")]
    for p in params:  # the synthesis network's; the mapping network is never tuned
        p.requires_grad_(True)
    opt = torch.optim.Adam(params, lr=LR)
    pivots = pivots.detach().to(generator.latent_avg)
    targets = targets.to(pivots)
    if targets.shape[-1] != res:
        targets = F.interpolate(targets, size=(res, res), mode="area")
    z = torch.Generator().manual_seed(seed)
    for step in itertools.count():
        image = tuned.synthesis(pivots, noise_mode="const", max_res=res)
        l2, lp = F.mse_loss(image, targets), lpips(image, targets).mean()
        yield Step(step, tuned, lp.item(), l2.item())
        loss = l2 + lp + locality_loss(tuned, generator, lpips, pivots, z, res)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def tune_generator(generator: stylegan2.Generator, lpips: LPIPS, pivots: torch.Tensor,
                   targets: torch.Tensor, max_steps: int = MAX_STEPS,
                   loss_res: int = TUNE_RES, stop_lpips: float = STOP_LPIPS, seed: int = 0,
                   progress: Callable[[int, int], None] | None = None
                   ) -> tuple[stylegan2.Generator, Tuning]:
    """A copy of ``generator`` tuned (``tuning_steps``) until the reconstruction's LPIPS is
    at most ``stop_lpips`` or ``max_steps`` are done → (the copy, how it went).
    ``progress(step, max_steps)`` after each update; it may raise to stop the tuning."""
    start = time.perf_counter()
    first = None
    for now in tuning_steps(generator, lpips, pivots, targets, loss_res, seed):
        first = first or now
        if now.step and progress:
            progress(now.step, max_steps)
        if now.lpips <= stop_lpips or now.step >= max_steps:
            break
    now.tuned.requires_grad_(False)
    stopped = "lpips" if now.lpips <= stop_lpips else "steps"
    return now.tuned, Tuning(now.step, stopped, now.lpips, now.l2, first.lpips, first.l2,
                             time.perf_counter() - start)


def far_latents(generator: stylegan2.Generator, pivots: torch.Tensor,
                z: torch.Generator) -> torch.Tensor:
    """For each pivot ``[K, L, D]``: the point ``LOCALITY_ALPHA`` away from it towards one w
    drawn at truncation ``LOCALITY_TRUNCATION`` (one draw for all, PTI's one sample a step)."""
    with torch.no_grad():
        w = generator.mapping(torch.randn(1, generator.style_dim, generator=z).to(pivots),
                              LOCALITY_TRUNCATION)
    away = w[:, None] - pivots  # [K, L, D]
    norm = away.flatten(1).norm(dim=1).clamp_min(1e-8)[:, None, None]
    return pivots + LOCALITY_ALPHA * away / norm


def locality_loss(tuned: stylegan2.Generator, original: stylegan2.Generator, lpips: LPIPS,
                  pivots: torch.Tensor, z: torch.Generator, res: int) -> torch.Tensor:
    """PTI's locality regulariser: far from the pivots the tuned generator renders what the
    original does (L2 and LPIPS, each weighted ``LOCALITY_WEIGHT``)."""
    far = far_latents(original, pivots, z)
    new = tuned.synthesis(far, noise_mode="const", max_res=res)
    with torch.no_grad():
        old = original.synthesis(far, noise_mode="const", max_res=res)
    return LOCALITY_WEIGHT * (F.mse_loss(new, old) + lpips(new, old).mean())


def estimate_seconds(generator: stylegan2.Generator, lpips: LPIPS, steps: int = 1) -> float:
    """About how long a whole tuning takes on this machine (``steps_for`` its device),
    from timing ``steps`` steps after one to warm up (a second or two on a CPU)."""
    g = torch.Generator().manual_seed(0)
    pivot = generator.mean_latent(64)[None, None].expand(1, generator.n_latent, -1).clone()
    target = (torch.rand(1, 3, TUNE_RES, TUNE_RES, generator=g) * 2 - 1)
    tune_generator(generator, lpips, pivot, target, 1, TUNE_RES, stop_lpips=0)
    took = tune_generator(generator, lpips, pivot, target, steps, TUNE_RES, stop_lpips=0)[1]
    return took.seconds / steps * steps_for(generator.latent_avg.device)
