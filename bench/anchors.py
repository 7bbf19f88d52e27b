"""Text-anchor speed and quality on full-size synthetic models: a 1024 px generator (512-d,
config-f channels), CLIP at ViT-B/32's sizes and IR-SE50 ArcFace, all seeded random weights.

    python bench/anchors.py time      # seconds per optimisation step, per configuration
    python bench/anchors.py quality   # full 40-step runs: do the losses differ?

"time" measures a few steps of each configuration and extrapolates to the paper's schedule
(11 degrees × 40 steps). The reference is the original's loop: one degree at a time, losses
on the full 1024 image, float32. "quality" optimises the same degrees under each
configuration and evaluates every result's losses the same way (full 1024 image, float32).
With random weights the loss landscape is not a face's; the numbers say whether the shortcuts
(early-exit 256 image, bf16) change what the optimiser reaches, not what CLIP would see.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import stylegan2  # noqa: E402
from micromotion.motions import anchors  # noqa: E402
from micromotion.nets.clip_guidance import CLIPGuide  # noqa: E402
from micromotion.nets.encoders import load_arcface  # noqa: E402
from micromotion.precision import Precision  # noqa: E402
from micromotion.nets.synthetic import synthetic_arcface_state, synthetic_clip_state  # noqa: E402
from stylegan2.paths import RenderPath, unsupported  # noqa: E402

TEMPLATE = "a person with {degree} smile"
CONFIGS = {  # name: (degrees per batch, loss_res, arithmetic)
    "reference (1 degree, 1024, fp32)": (1, None, "fp32"),
    "batched 4, 256, fp32": (4, 256, "fp32"),
    "batched 4, 256, bf16": (4, 256, "bf16"),
    "batched 11, 256, bf16": (11, 256, "bf16"),
    "batched 4, 1024, bf16": (4, None, "bf16"),
}


def precision(math: str) -> Precision:
    """The anchors' path (style on the activations) in ``math``."""
    return Precision(math, anchors=RenderPath("scaled", math))


def runs_here(math: str) -> bool:
    why = unsupported(RenderPath("scaled", math), "cpu")
    if why:
        print(f"{math}: not run: {why}")
    return not why


def models():
    gen = stylegan2.synthetic_generator(size=1024, style_dim=512, n_mlp=8, seed=0)
    gen.requires_grad_(False)
    clip = CLIPGuide(synthetic_clip_state(seed=0, width=768, embed_dim=512, layers=12))
    return gen, clip, load_arcface(synthetic_arcface_state(seed=1))


def time_configs(steps: int) -> None:
    gen, clip, arcface = models()
    degrees = list(anchors.DEFAULT_DEGREES)
    print("| configuration | s/step (batch) | s per degree-step | 11 × 40 schedule | speed-up |")
    print("|---|---|---|---|---|")
    ref = None
    for name, (batch, res, math) in CONFIGS.items():
        if not runs_here(math):
            continue
        stamps = []  # the time of each finished step: their differences are step times
        anchors.text_anchors(gen, clip, arcface, TEMPLATE, degrees[:max(batch, 2)],
                             steps=steps + 1, loss_res=res, precision=precision(math),
                             batch_size=batch,
                             progress=lambda i, n: stamps.append(time.perf_counter()))
        step = min(b - a for a, b in zip(stamps, stamps[1:]))  # the first step warms up
        per = step / batch
        total = per * 11 * 40
        ref = ref or total
        print(f"| {name} | {step:.2f} | {per:.2f} | {total / 60:.1f} min | "
              f"{ref / total:.1f}× |", flush=True)


def full_res_losses(gen, clip, arcface, latents, text, w0, seed_id) -> dict:
    with torch.no_grad():
        img = gen.synthesis(latents, noise_mode="const")
        c = clip.loss(img, text)
        i = 1 - (arcface.id_features(img) * seed_id).sum(-1)
    l2 = (latents - w0).pow(2).sum((1, 2))
    total = c + 0.008 * l2 + 0.005 * i
    return {"clip": c.tolist(), "l2": l2.tolist(), "id": i.tolist(), "total": total.tolist()}


def quality(degrees: list[str], steps: int) -> None:
    gen, clip, arcface = models()
    text = clip.text_features(anchors.prompts_from_template(TEMPLATE, degrees))
    with torch.no_grad():
        w0 = gen.mapping(anchors.seed_latent(gen, 0), 0.7)[:, None].expand(-1, 18, -1)
        seed_id = arcface.id_features(gen.synthesis(w0, noise_mode="const"))
    results = {}
    for name, res, math in [("1024 fp32", None, "fp32"), ("256 fp32", 256, "fp32"),
                            ("256 bf16", 256, "bf16"), ("1024 bf16", None, "bf16")]:
        if not runs_here(math):
            continue
        t = time.perf_counter()
        a = anchors.text_anchors(gen, clip, arcface, TEMPLATE, degrees, steps=steps,
                                 loss_res=res, precision=precision(math))
        took = time.perf_counter() - t
        results.setdefault("ref", a.latents - w0)  # the first configuration's edits
        losses = full_res_losses(gen, clip, arcface, a.latents, text, w0, seed_id)
        cos = torch.nn.functional.cosine_similarity((a.latents - w0).flatten(1),
                                                    results["ref"].flatten(1))
        print(f"{name}: {took:.0f} s; losses on the 1024 image: "
              + ", ".join(f"{k} {', '.join(f'{v:.4f}' for v in vals)}" for k, vals in losses.items())
              + "; cosine of each edit (anchor − seed) with the 1024 fp32 one: "
              + ", ".join(f"{c:.3f}" for c in cos.tolist()), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["time", "quality"])
    p.add_argument("--steps", type=int, default=None, help="time: repeats (2); quality: steps (40)")
    p.add_argument("--degrees", default="no,50%,100%", help="quality: degrees (no,50%%,100%%)")
    args = p.parse_args()
    torch.manual_seed(0)
    if args.mode == "time":
        time_configs(args.steps or 2)
    else:
        quality(args.degrees.split(","), args.steps or 40)


if __name__ == "__main__":
    main()
