"""Loading StyleGAN2 generators from the official files (``../shared/reference/FORMATS.md`` §1-2).

Accepted: rosinality's ``{'g_ema': state_dict, 'latent_avg': [512]}`` (the official
``stylegan2-ffhq-config-f.pt``), a bare generator state dict, or a pSp / ReStyle / e4e checkpoint
(``{'state_dict': {'decoder.*': …}, 'latent_avg': [18, 512]}``). The architecture (resolution,
style dim, mapping depth, channels per resolution) is read off the tensors, loading is strict,
and nothing is unpickled (``torch.load(weights_only=True)``).
"""
from __future__ import annotations

import os
import pickle
import re
import warnings
import zipfile
from pathlib import Path
from typing import Mapping, Union

import torch

from .errors import ArchitectureMismatchError, NotACheckpointError, UnsafeCheckpointError
from .model import Generator

Source = Union[str, os.PathLike, Mapping[str, object]]


def safe_load(path: str | os.PathLike, what: str = "checkpoint") -> object:
    """``torch.load(weights_only=True)`` onto the CPU: tensors and plain containers only,
    every failure a ``CheckpointError`` naming the file. A zip-format file is memory-mapped:
    its tensors are read from the page cache as the model copies them, not into a second
    copy first (a cold boot reads each weights file once)."""
    path = Path(path)
    if not path.is_file():
        raise NotACheckpointError(f"{what} {path} does not exist (or is not a file)")
    try:
        with warnings.catch_warnings():  # torch warns before it refuses TorchScript archives
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True,
                              mmap=zipfile.is_zipfile(path))
    except pickle.UnpicklingError as exc:
        if _is_torchscript(path):
            raise NotACheckpointError(
                f"{path} is a TorchScript archive, not a state-dict {what}") from exc
        if "global" not in str(exc).lower():
            raise NotACheckpointError(f"{path} is not a readable PyTorch {what} "
                                      f"({_first_line(exc)})") from exc
        raise UnsafeCheckpointError(
            f"{path} contains pickled Python objects (code or classes such as argparse.Namespace "
            f"in a training checkpoint), which are never unpickled. Re-save just its tensors in "
            f"a trusted session, e.g. torch.save({{'g_ema': ckpt['g_ema'], 'latent_avg': "
            f"ckpt['latent_avg']}}, 'generator.pt'). ({_first_line(exc)})") from exc
    except Exception as exc:  # the unpickler meets garbage in many ways (EOF, KeyError, zip…)
        raise NotACheckpointError(
            f"{path} is not a readable PyTorch {what} (not a torch.save file, or truncated: "
            f"download it again). ({type(exc).__name__}: {_first_line(exc)})") from exc


def read_checkpoint(path: str | os.PathLike) -> dict:
    """``safe_load`` of a checkpoint that must be a dict."""
    obj = safe_load(path)
    if not isinstance(obj, dict):
        raise NotACheckpointError(f"{path} holds a {type(obj).__name__}, not a checkpoint dict")
    return obj


def load_generator(source: Source, device: str | torch.device | None = None) -> Generator:
    """A ready ``Generator`` (eval mode, no parameter gradients, float32) from a checkpoint
    path or an already loaded dict. ``latent_avg`` comes from the file, else it is estimated
    with ``mean_latent(4096, seed=0)`` (``gen.latent_avg_estimated`` tells which)."""
    name = str(source) if isinstance(source, (str, os.PathLike)) else "checkpoint dict"
    ckpt = read_checkpoint(source) if isinstance(source, (str, os.PathLike)) else dict(source)
    state, latent_avg = _generator_state(ckpt, name)
    gen = Generator(**infer_config(state, name))
    load_state_strict(gen, state, f"{name} (StyleGAN2 generator, {gen.size}px, "
                                  f"style dim {gen.style_dim})")
    gen.eval().requires_grad_(False)
    if latent_avg is None:
        gen.latent_avg.copy_(gen.mean_latent(4096, seed=0))
    else:
        gen.latent_avg.copy_(_latent_avg_vector(latent_avg, gen.style_dim, name))
    gen.latent_avg_estimated = latent_avg is None
    return gen.to(device) if device is not None else gen


def _generator_state(ckpt: dict, name: str) -> tuple[dict, torch.Tensor | None]:
    """Pick the generator tensors out of any of the accepted layouts."""
    if "g_ema" in ckpt:
        return ckpt["g_ema"], ckpt.get("latent_avg")
    if "state_dict" in ckpt and isinstance(ckpt["state_dict"], Mapping):
        dec = {k[len("decoder."):]: v for k, v in ckpt["state_dict"].items()
               if k.startswith("decoder.")}
        if not dec:
            raise ArchitectureMismatchError(
                f"{name} has a 'state_dict' but no 'decoder.*' generator tensors")
        return dec, ckpt.get("latent_avg")
    if "style.1.weight" in ckpt:
        return ckpt, None
    keys = ", ".join(list(map(str, ckpt))[:6])
    raise ArchitectureMismatchError(
        f"{name} is not a StyleGAN2 generator checkpoint: expected 'g_ema', a pSp 'state_dict' "
        f"with 'decoder.*' keys, or a bare generator state dict; found keys {keys}")


def infer_config(state: Mapping[str, torch.Tensor], name: str = "checkpoint") -> dict:
    """Generator constructor arguments read off the tensors."""
    def shape(key: str) -> tuple[int, ...]:
        if key not in state:
            raise ArchitectureMismatchError(f"{name} lacks the generator tensor {key!r}")
        return tuple(state[key].shape)

    n_mlp = len([k for k in state if re.fullmatch(r"style\.\d+\.weight", k)])
    if n_mlp == 0:
        raise ArchitectureMismatchError(f"{name} has no mapping network ('style.N.weight')")
    style_dim = shape("style.1.weight")[1]
    n_blocks = len({k.split(".")[1] for k in state if k.startswith("to_rgbs.")})
    channels = {4: shape("conv1.conv.weight")[1]}
    for j in range(n_blocks):
        channels[2 ** (j + 3)] = shape(f"convs.{2 * j}.conv.weight")[1]
    return dict(size=2 ** (n_blocks + 2), style_dim=style_dim, n_mlp=n_mlp, channels=channels)


def load_state_strict(module: torch.nn.Module, state: Mapping[str, torch.Tensor],
                      what: str) -> None:
    """``module.load_state_dict(state, strict=True)`` with every missing or unexpected key and
    wrong shape named in one ``ArchitectureMismatchError``; floating tensors load as float32."""
    own = module.state_dict()
    not_tensor = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own and k not in not_tensor]
    wrong = [f"{k}: expected {list(v.shape)}, found {list(state[k].shape)}"
             for k, v in own.items() if k in state and k not in not_tensor
             and tuple(state[k].shape) != tuple(v.shape)]
    problems = [f"{label} {_few(keys)}" for label, keys in
                (("missing keys", missing), ("unexpected keys", unexpected),
                 ("wrong shapes", wrong), ("non-tensor entries", not_tensor)) if keys]
    if problems:
        raise ArchitectureMismatchError(f"{what} does not match: " + "; ".join(problems))
    module.load_state_dict({k: v.float() if v.is_floating_point() else v
                            for k, v in state.items()}, strict=True)


def _latent_avg_vector(t: torch.Tensor, dim: int, name: str) -> torch.Tensor:
    """``[D]``, or ``[L, D]`` / ``[1, D]`` (pSp repeats it per W+ layer) averaged to ``[D]``."""
    if not isinstance(t, torch.Tensor) or t.shape[-1] != dim or t.ndim > 2:
        raise ArchitectureMismatchError(
            f"{name}: latent_avg must be [{dim}] or [n, {dim}], found "
            f"{list(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__}")
    return t.float().reshape(-1, dim).mean(0)


def _is_torchscript(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return any(n.endswith("constants.pkl") or "/code/" in n for n in z.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def _few(items: list[str], n: int = 5) -> str:
    more = f" … (+{len(items) - n} more)" if len(items) > n else ""
    return ", ".join(items[:n]) + more
