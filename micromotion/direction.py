"""Edit directions: from anchors (robust PCA per W+ layer), to and from files, and the five
directions published with the paper.

A direction is ``[n_latent, style_dim]`` (``[18, 512]`` for FFHQ), in the anchors' own scale:
adding it once moves a latent by the span from the first anchor to the last.

File format (``save_direction``): ``torch.save`` of a dict
``{"format": "micromotion.direction/1", "direction": float32 [L, D], "meta": {...}}`` where meta
holds only strings, numbers, booleans, None, lists and dicts (how it was made), so it loads with
``weights_only=True``. ``load_direction`` also reads the published files: a bare ``[1, 18, 512]``
tensor, stored on ``cuda:0``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

import stylegan2

from .errors import AnchorError, DirectionFileError, UnknownPresetError
from .fields import PRESETS
from .rpca import rpca

FORMAT = "micromotion.direction/1"


@dataclass
class Direction:
    vector: torch.Tensor  # [L, D]
    meta: dict = field(default_factory=dict)


def direction_from_anchors(anchors: torch.Tensor, rank: int = 4,
                           lam: float | None = None) -> tuple[torch.Tensor, dict]:
    """anchors ``[K, L, D]`` (one identity at increasing intensity) → (direction ``[L, D]``,
    diagnostics).

    Per W+ layer, robust PCA splits the ``[K, D]`` anchor matrix into low-rank + sparse; the
    low-rank part is truncated to ``rank`` singular vectors and the direction is its last row
    minus its first (``low_rank``)."""
    low_q, _, diagnostics = low_rank(anchors, rank, lam)
    return (low_q[:, -1] - low_q[:, 0]).to(torch.float32), diagnostics


def low_rank(anchors: torch.Tensor, rank: int = 4, lam: float | None = None
             ) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Robust PCA of ``[K, L, D]`` per W+ layer, the low-rank part truncated to ``rank`` →
    (that part ``[L, K, D]`` float64, its row-space basis ``[L, q, D]`` (orthonormal rows),
    diagnostics). Diagnostics (lists, one entry per layer): singular values of the low-rank
    part, the energy its first ``rank`` keep, the sparse part's share of the anchors' energy,
    and RPCA's iterations and final residual."""
    _check_anchors(anchors)
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        raise AnchorError(f"rank must be a positive integer, got {rank!r}")
    D = anchors.detach().to(torch.float64).transpose(0, 1)  # [L, K, D]
    low, sparse, info = rpca(D, lam=lam)
    u, s, vh = torch.linalg.svd(low, full_matrices=False)
    q = min(rank, s.shape[-1])
    low_q = u[..., :q] @ (s[..., :q, None] * vh[..., :q, :])
    energy = s.pow(2)
    diagnostics = {
        "rank": q,
        "singular_values": s.tolist(),
        "explained_energy": (energy[:, :q].sum(1) / energy.sum(1).clamp_min(1e-30)).tolist(),
        "sparse_energy": (sparse.pow(2).sum((1, 2)) / D.pow(2).sum((1, 2)).clamp_min(1e-30)).tolist(),
        "rpca_iterations": info.iterations.tolist(),
        "rpca_residual": info.residual.tolist(),
    }
    return low_q, vh[..., :q, :], diagnostics


def _check_anchors(anchors) -> None:
    if not isinstance(anchors, torch.Tensor) or anchors.ndim != 3:
        got = list(anchors.shape) if isinstance(anchors, torch.Tensor) else type(anchors).__name__
        raise AnchorError(f"anchors must be a tensor [K, n_latent, style_dim], got {got}")
    if anchors.shape[0] < 2:
        raise AnchorError(f"a direction needs at least 2 anchors, got {anchors.shape[0]}")
    if not torch.isfinite(anchors).all():
        raise AnchorError("anchors contain NaN or infinite values")


def save_direction(path: str | os.PathLike, direction: torch.Tensor, meta: dict | None = None) -> Path:
    """Write a direction file (see the module docstring); returns the path."""
    if not isinstance(direction, torch.Tensor) or direction.ndim != 2:
        raise DirectionFileError(f"a direction is a tensor [n_latent, style_dim], got "
                                 f"{getattr(direction, 'shape', type(direction).__name__)}")
    meta = _plain(meta or {}, "meta")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": FORMAT, "direction": direction.detach().float().cpu().contiguous(),
                "meta": meta}, path)
    return path


def _plain(x, where: str):
    """Check that metadata holds only plain values (so it reloads with weights_only)."""
    if isinstance(x, dict):
        return {str(k): _plain(v, f"{where}.{k}") for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v, where) for v in x]
    if x is None or isinstance(x, (str, int, float, bool)):
        return x
    raise DirectionFileError(f"{where} holds a {type(x).__name__}; direction metadata may hold "
                             f"only strings, numbers, booleans, None, lists and dicts")


def load_direction(path: str | os.PathLike, n_latent: int | None = None,
                   style_dim: int | None = None, name: str | None = None) -> Direction:
    """A direction file of ours or a published ``d_latent`` → ``Direction`` ``[L, D]``.
    With ``n_latent``/``style_dim`` given, the shape is checked against the generator's.
    Errors call the file ``name`` (default: its file name, never its folder)."""
    name = name or Path(path).name
    if not Path(path).is_file():
        raise DirectionFileError(f"the direction file {name} does not exist")
    try:
        obj = stylegan2.safe_load(path, "direction file")
    except stylegan2.CheckpointError as exc:
        raise DirectionFileError(str(exc).replace(str(path), name)) from exc
    if isinstance(obj, torch.Tensor):  # the published form: [1, L, D]
        vec, meta = obj.detach(), {"source": "published d_latent", "file": Path(path).name}
        if vec.ndim == 3 and vec.shape[0] == 1:
            vec = vec[0]
    elif isinstance(obj, dict) and obj.get("format") == FORMAT:
        vec, meta = obj.get("direction"), obj.get("meta", {})
    else:
        raise DirectionFileError(f"{name} is not a direction file (a {FORMAT} dict or a "
                                 f"[1, L, D] tensor)")
    if not isinstance(vec, torch.Tensor) or vec.ndim != 2 or not vec.is_floating_point():
        raise DirectionFileError(f"{name}: a direction must be a float tensor [n_latent, "
                                 f"style_dim], got {getattr(vec, 'shape', type(vec).__name__)}")
    want = (n_latent or vec.shape[0], style_dim or vec.shape[1])
    if tuple(vec.shape) != want:
        raise DirectionFileError(f"{name}: direction has shape {list(vec.shape)}, the generator "
                                 f"needs {list(want)}")
    if not torch.isfinite(vec).all():
        raise DirectionFileError(f"{name}: direction contains NaN or infinite values")
    return Direction(vec.float().contiguous(), meta)


def check_preset(name: str) -> None:
    """An unknown preset name is a clear error (the files are manifest entries
    ``direction-<name>``, at ``pregen_latents/<name>/d_latent`` as in the paper's repository)."""
    if name not in PRESETS:
        raise UnknownPresetError(f"unknown micromotion preset {name!r}; choose one of "
                                 f"{', '.join(PRESETS)}")
