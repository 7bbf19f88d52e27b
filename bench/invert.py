"""Inversion speed: ReStyle-pSp (5 iterations) and e4e per image and in batches, with the FFHQ
sizes (18×512 W+, 1024 px generator) on synthetic weights.

    python bench/invert.py [--batches 1 4 8] [--types BackboneEncoder Encoder4Editing]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import stylegan2  # noqa: E402
from micromotion.nets.encoders import load_encoder  # noqa: E402
from micromotion.precision import Precision  # noqa: E402
from micromotion.nets.synthetic import encoder_checkpoint, synthetic_encoder  # noqa: E402
from stylegan2.paths import RenderPath, unsupported  # noqa: E402


# fp32, and bf16 where torch says this CPU runs it at speed (the encoder and its decodes)
PRECISIONS = [Precision(m, render=RenderPath("fused", m), invert=m) for m in ("fp32", "bf16")
              if not unsupported(RenderPath("fused", m), "cpu")]

def timed(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--types", nargs="+", default=["BackboneEncoder", "Encoder4Editing"])
    ap.add_argument("--reps", type=int, default=2)
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    gen = stylegan2.synthetic_generator(size=1024, style_dim=512, n_mlp=8)
    for enc_type in args.types:
        t = time.perf_counter()
        net = synthetic_encoder(enc_type, gen.n_latent, gen.style_dim)  # 18 heads of 512
        enc = load_encoder(encoder_checkpoint(net, gen), generator=gen)
        load_s = time.perf_counter() - t
        print(f"{enc_type}: load incl. the average face {load_s:.1f} s")
        for p in PRECISIONS:
            for b in args.batches:
                x = torch.rand(b, 3, 256, 256, generator=torch.Generator().manual_seed(0)) * 2 - 1
                s = timed(lambda: enc.invert(x, precision=p), args.reps)
                print(f"{enc_type:>26} {p.asked:>8} batch {b}: {s / b:6.2f} s/image",
                      flush=True)
        if len(PRECISIONS) < 2:
            continue
        x = torch.rand(1, 3, 256, 256, generator=torch.Generator().manual_seed(1)) * 2 - 1
        ref, fast = enc.invert(x, precision=PRECISIONS[0]), enc.invert(x, precision=PRECISIONS[1])
        print(f"{enc_type:>26} bf16 vs fp32 W+: max |Δ| {(fast - ref).abs().max():.4f}, "
              f"relative L2 {(fast - ref).norm() / (ref - enc.latent_avg).norm():.4f} of the "
              f"offset from the average", flush=True)


if __name__ == "__main__":
    main()
