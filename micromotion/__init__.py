"""micromotion: one face photo → a video of that face moving (CPAL 2024, "Decoding Micromotion
in Low-dimensional Latent Spaces from StyleGAN"). The front door, for Python users:

    import micromotion as mm
    models = mm.load(fetch=True)                     # the official weights, loaded once
    result = mm.serve(mm.Animate("photo.jpg", "smile"), models, "smile.mp4")
    print(result.video, mm.plainly(result))

``load`` / ``synthetic`` give the models, ``Animate`` / ``Transfer`` / ``LatentVideo`` /
``Edit`` are the four requests, ``check`` checks one whole before any model is needed
(``serve`` checks one no door checked) and ``serve`` runs it (``Run``: a run's context, as
the use cases take it), ``plainly`` / ``describe`` say what it made. The house lives in floors below (``media``,
``latents``, ``nets``, ``motions``, ``requests``, ``stages``, ``doors``); the names here load
on first use, so importing the package (as ``python -m micromotion`` does) costs nothing.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name → (module, attribute): what ``import micromotion`` offers, resolved on first use
_DOOR = {
    "load": ("nets.models", "Models.load"),
    "synthetic": ("nets.models", "Models.synthetic"),
    "Models": ("nets.models", "Models"),
    "Animate": ("requests.request", "Animate"),
    "Transfer": ("requests.request", "Transfer"),
    "LatentVideo": ("requests.request", "LatentVideo"),
    "Edit": ("requests.request", "Edit"),
    "check": ("requests.checks", "check_request"),
    "expected": ("requests.budget", "expected"),
    "serve": ("doors.serving", "serve"),
    "Run": ("run", "Run"),
    "plainly": ("doors.wording", "plainly"),
    "describe": ("doors.wording", "describe"),
    "MicromotionError": ("errors", "MicromotionError"),
}
__all__ = [*_DOOR, "__version__"]


def __getattr__(name: str) -> Any:
    if name not in _DOOR:
        raise AttributeError(f"module 'micromotion' has no attribute {name!r}")
    module, attr = _DOOR[name]
    value: Any = importlib.import_module(f".{module}", __name__)
    for part in attr.split("."):
        value = getattr(value, part)
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
