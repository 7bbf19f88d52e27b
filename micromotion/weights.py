"""The weights manifest (``weights/manifest.json``) and where the files are found.

``MICROMOTION_WEIGHTS`` names the weights folder (default ``weights/`` beside the code);
``MICROMOTION_SYNTHETIC=1`` asks the doors for seeded synthetic weights instead (abstract
patterns, not faces). Downloading and verification come with the serving issue.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .errors import WeightsMissingError

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "weights" / "manifest.json"


def weights_dir() -> Path:
    return Path(os.environ.get("MICROMOTION_WEIGHTS", ROOT / "weights"))


def synthetic_requested() -> bool:
    return os.environ.get("MICROMOTION_SYNTHETIC", "") not in ("", "0", "false", "no")


def manifest() -> dict:
    return {k: v for k, v in json.loads(MANIFEST.read_text()).items() if not k.startswith("_")}


def path_of(name: str, folder: str | os.PathLike | None = None) -> Path:
    """The file of manifest entry ``name`` in ``folder`` (default ``weights_dir()``); a clear
    ``WeightsMissingError`` (what, how big, its sha256, where to put it) when it is absent."""
    entry = manifest()[name]
    folder = Path(folder) if folder is not None else weights_dir()
    path = folder / entry["file"]
    if not path.is_file():
        facts = ", ".join(f for f in (
            f"{entry['size']:,} bytes" if entry.get("size") else "",
            f"sha256 {entry['sha256']}" if entry.get("sha256") else "",
            f"from {' or '.join(entry['sources'])}" if entry.get("sources") else "") if f)
        raise WeightsMissingError(
            f"{entry['file']} not found in {folder}" + (f" ({facts})" if facts else "") +
            ": put it there, set MICROMOTION_WEIGHTS to the folder that has it, or run on "
            "synthetic weights (MICROMOTION_SYNTHETIC=1 or --synthetic)")
    return path
