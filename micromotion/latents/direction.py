"""Edit directions: from anchors (robust PCA per W+ layer), to and from files, and the five
directions published with the paper.

A direction is ``[n_latent, style_dim]`` (``[18, 512]`` for FFHQ), in the anchors' own scale:
adding it once moves a latent by the span from the first anchor to the last.

File format (``save_direction``): ``torch.save`` of a dict
``{"format": "micromotion.latents.direction/1", "direction": float32 [L, D], "meta": {...}}`` where meta
holds only strings, numbers, booleans, None, lists and dicts (how it was made), so it loads with
``weights_only=True``. ``load_direction`` also reads the published files: a bare ``[1, 18, 512]``
tensor, stored on ``cuda:0``.
"""
from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

import stylegan2

from ..errors import AnchorError, DirectionFileError, UnknownPresetError
from ..fields import PRESETS
from .provenance import Given, Made, Published, from_meta, to_meta
from .rpca import rpca

FORMAT = "micromotion.latents.direction/1"


@dataclass
class Direction:
    vector: torch.Tensor  # [L, D]
    made: Made = field(default_factory=Given)  # where it came from (``provenance``)

    @property
    def meta(self) -> dict:
        """Its provenance as a direction file keeps it (plain values)."""
        return to_meta(self.made)


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
    name = called("the direction file", name or Path(path).name)
    obj = _read(Path(path), name)
    if isinstance(obj, torch.Tensor):  # the published form: [1, L, D]
        vec, made = obj.detach(), Published(name)
        if vec.ndim == 3 and vec.shape[0] == 1:
            vec = vec[0]
    elif isinstance(obj, dict) and obj.get("format") == FORMAT:
        vec, made = obj.get("direction"), from_meta(obj.get("meta") or {}, name)
    else:
        raise DirectionFileError(f"{name} is not a direction file ({_MADE})")
    if not isinstance(vec, torch.Tensor) or vec.ndim != 2 or not vec.is_floating_point():
        got = list(vec.shape) if isinstance(vec, torch.Tensor) else "no tensor"
        raise DirectionFileError(f"{name} holds {got} where a direction is a float tensor "
                                 f"[n_latent, style_dim] ({_MADE})")
    want = (n_latent or vec.shape[0], style_dim or vec.shape[1])
    if tuple(vec.shape) != want:
        raise DirectionFileError(f"{name} holds a direction of shape {list(vec.shape)}; this "
                                 f"generator needs {list(want)}")
    if not torch.isfinite(vec).all():
        raise DirectionFileError(f"{name} holds NaN or infinite values; make the direction "
                                 f"again")
    return Direction(vec.float().contiguous(), made)


MAX_FILE_BYTES = 16 << 20  # a direction is 36 kB; with its meta data well under a MB
_MADE = ("use a file made by this product — the page's \"The direction, to use again\", or "
         "python -m micromotion direction — or one of the published directions")


def called(kind: str, name: str) -> str:
    """How messages call a file: "the direction file d.pt", or a door's "the direction file"
    as it is."""
    return name if name.startswith("the ") else f"{kind} {name}"


def _read(path: Path, name: str) -> object:
    """The file's tensors and plain values (``stylegan2.safe_load``), its size and, for a zip
    archive, its unpacked size bounded first; every failure in this module's words."""
    if not path.is_file():
        raise DirectionFileError(f"{name} does not exist")
    size = path.stat().st_size
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            size = max(size, sum(i.file_size for i in z.infolist()))
    if size > MAX_FILE_BYTES:
        raise DirectionFileError(f"{name} holds {size / 2 ** 20:.0f} MB; a direction file holds "
                                 f"well under a MB ({_MADE})")
    try:
        return stylegan2.safe_load(path, "direction file")
    except stylegan2.UnsafeCheckpointError as exc:
        raise DirectionFileError(f"{name} holds pickled Python objects, which are never "
                                 f"loaded: a direction file holds only tensors and plain "
                                 f"values ({_MADE})") from exc
    except stylegan2.CheckpointError as exc:
        raise DirectionFileError(f"{name} is not a direction file that PyTorch can read "
                                 f"({_MADE})") from exc


def check_preset(name: str) -> None:
    """An unknown preset name is a clear error (the files are manifest entries
    ``direction-<name>``, at ``pregen_latents/<name>/d_latent`` as in the paper's repository)."""
    if name not in PRESETS:
        raise UnknownPresetError(f"unknown micromotion preset {name!r}; choose one of "
                                 f"{', '.join(PRESETS)}")
