"""Every stage's paths on this machine: the plan the doors build at start-up (render, the
encoder's pass, the text anchors' gradient), on the full FFHQ sizes (synthetic weights:
config-f generator, IR-SE50 ReStyle-pSp), each verified against the reference and timed.

    .venv/bin/python bench/paths.py
"""
from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import stylegan2  # noqa: E402
from micromotion.nets.encoders import load_encoder  # noqa: E402
from micromotion.errors import PrecisionError  # noqa: E402
from micromotion.nets.plan import Plan  # noqa: E402
from micromotion.nets.synthetic import encoder_checkpoint, synthetic_encoder  # noqa: E402


def main() -> None:
    gen = stylegan2.synthetic_generator(size=1024, style_dim=512, n_mlp=8, seed=0)
    enc = load_encoder(encoder_checkpoint(synthetic_encoder("BackboneEncoder", gen.n_latent,
                                                            gen.style_dim), gen), generator=gen)
    start = time.perf_counter()
    plan = Plan.measure(gen, enc)
    took = time.perf_counter() - start
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"{torch.get_num_threads()} threads; the plan took {took:.1f} s\n")
    print(plan.table())
    for asked in ("auto", "fp32", "bf16"):
        try:
            print(f"\n{plan.resolve(asked).note}")
        except PrecisionError as exc:  # as the doors say it
            print(f"\n{asked}: {exc}")


if __name__ == "__main__":
    main()
