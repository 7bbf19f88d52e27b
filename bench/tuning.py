"""Pivotal tuning (fidelity faithful) on this machine, on the full FFHQ sizes (synthetic
weights: the config-f generator, LPIPS on AlexNet, IR-SE50 ArcFace): for each loss size, the
seconds per step and what the steps buy — the reconstruction's LPIPS and L2 and ArcFace's
identity after 0, 10, 20, … steps — so the CPU's step count is chosen by what a second buys.
The target is what the encoder cannot reach: the pivot rendered by a perturbed copy of the
generator. ``--weights DIR`` uses the official files there instead (a real photo then: the
astronaut, inverted by ReStyle-pSp).

    .venv/bin/python bench/tuning.py [--steps 60] [--every 10] [--sizes 64,128,256]
"""
from __future__ import annotations

import argparse
import copy
import platform
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import stylegan2  # noqa: E402
from micromotion.nets import identity, tuning  # noqa: E402
from micromotion.nets.encoders import load_arcface, preprocess  # noqa: E402
from micromotion.nets.lpips import load_lpips, synthetic_states  # noqa: E402
from micromotion.nets.synthetic import synthetic_arcface_state  # noqa: E402


def synthetic_case() -> tuple:
    """(generator, LPIPS, ArcFace, pivot [1, 18, 512], target [1, 3, 256, 256])."""
    gen = stylegan2.synthetic_generator(size=1024, style_dim=512, n_mlp=8, seed=0)
    other = copy.deepcopy(gen)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in other.named_parameters():
            if not name.startswith("style."):
                p.mul_(1 + 0.25 * torch.randn(p.shape, generator=g))
        pivot = gen.mapping(torch.randn(1, 512, generator=g), 0.7)[:, None]
        pivot = pivot.expand(1, gen.n_latent, -1).clone()
        target = other.synthesis(pivot, max_res=tuning.TUNE_RES).clamp(-1, 1)
    return (gen, load_lpips(*synthetic_states()), load_arcface(synthetic_arcface_state()),
            pivot, target)


def official_case(folder: str) -> tuple:
    from skimage import data

    from micromotion.nets.models import Models
    from micromotion.stages.steps import invert
    models = Models.load(folder)
    inv = invert(models, data.astronaut())
    return (models.generator, models.lpips(), models.arcface(), inv.wplus,
            preprocess(inv.aligned.image, tuning.TUNE_RES))


def run(case: tuple, res: int, steps: int, every: int) -> list[tuple]:
    """(steps, seconds, LPIPS, L2, identity) every ``every`` steps of one tuning at ``res``
    (the seconds those steps took, the measuring left out)."""
    gen, lpips, arcface, pivot, target = case
    rows, spent, last = [], 0.0, time.perf_counter()
    for now in tuning.tuning_steps(gen, lpips, pivot, target, res):
        spent += time.perf_counter() - last
        if now.step % every == 0:
            with torch.no_grad():
                image = now.tuned.synthesis(pivot, max_res=tuning.TUNE_RES)
                ident = identity.similarity(arcface, target, image.clamp(-1, 1)).item()
                lp, l2 = lpips(image, target).item(), F.mse_loss(image, target).item()
            rows.append((now.step, spent, lp, l2, ident))
        if now.step >= steps:
            return rows
        last = time.perf_counter()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--sizes", default="64,128,256")
    ap.add_argument("--weights", default=None, help="a folder with the official weights")
    args = ap.parse_args()
    case = official_case(args.weights) if args.weights else synthetic_case()
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {'official' if args.weights else 'synthetic'} "
          f"weights; LPIPS, L2 and identity at {tuning.TUNE_RES} px\n")
    print("loss size | steps | seconds | LPIPS | L2 | identity | identity gained per s")
    print("---|---|---|---|---|---|---")
    for res in map(int, args.sizes.split(",")):
        rows = run(case, res, args.steps, args.every)
        for done, spent, lp, l2, ident in rows:
            gain = (ident - rows[0][4]) / spent if spent else 0.0
            print(f"{res} | {done} | {spent:.1f} | {lp:.4f} | {l2:.4f} | {ident:.4f} | "
                  f"{gain:.5f}", flush=True)


if __name__ == "__main__":
    main()
