"""Where the doors get their models: official files from the weights folder, or synthetic ones.

``MICROMOTION_WEIGHTS`` names the weights folder (default ``weights/`` beside the code);
``MICROMOTION_SYNTHETIC=1`` swaps in seeded synthetic weights (abstract patterns, not faces).
"""
from __future__ import annotations

import os
from pathlib import Path

import stylegan2

ROOT = Path(__file__).resolve().parents[1]
GENERATOR_FILE = "stylegan2-ffhq-config-f.pt"


def weights_dir() -> Path:
    return Path(os.environ.get("MICROMOTION_WEIGHTS", ROOT / "weights"))


def synthetic_requested() -> bool:
    return os.environ.get("MICROMOTION_SYNTHETIC", "") not in ("", "0", "false", "no")


def load_default_generator(device=None) -> stylegan2.Generator:
    """The FFHQ generator from the weights folder, or a synthetic 256 px one when asked for."""
    if synthetic_requested():
        return stylegan2.synthetic_generator(size=256, style_dim=512, n_mlp=8).to(device or "cpu")
    path = weights_dir() / GENERATOR_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"generator weights not found at {path}: download {GENERATOR_FILE} (381,462,551 "
            f"bytes; sha256 and source in weights/manifest.json) into {weights_dir()}, set "
            f"MICROMOTION_WEIGHTS to the folder that has it, or set MICROMOTION_SYNTHETIC=1")
    return stylegan2.load_generator(path, device=device)
