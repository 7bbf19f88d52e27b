"""Lazily built CUDA kernels.

A kernel is compiled (ninja, through ``torch.utils.cpp_extension``) the first time a CUDA tensor
needs it, into ``$MICROMOTION_CACHE/ops/<name>-<hash>``, where the hash covers its sources, the
torch and CUDA versions: an edited kernel rebuilds, an unchanged one loads from disk. Before it
serves, each kernel is checked once per process against its PyTorch reference on small random
inputs, forward and gradient, in float32 and float64 (``verify``): a wrong kernel would give
wrong pictures silently. A failed build or check is reported once as a warning and the caller
falls back to the PyTorch reference.

``load(name, emulate=True)`` compiles the same sources as plain C++ for the CPU, each kernel run
as the one thread of a one-block grid (``cuda/common.h``): the tests check the kernels'
arithmetic and launch code through it on machines without a GPU.
"""
from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from types import ModuleType
from typing import Callable

import torch

_SOURCES = {
    "bias_act": ("bias_act.cpp", "bias_act.cu"),
    "upfirdn2d": ("upfirdn2d.cpp", "upfirdn2d.cu"),
}
_SRC_DIR = Path(__file__).parent / "cuda"
_loaded: dict[str, ModuleType] = {}
_failed: dict[str, str] = {}
_verified: set[str] = set()
# name → make(device, dtype) → (run(impl) → output, the inputs whose gradients are compared)
_CHECKS: dict[str, Callable[[torch.device, torch.dtype], tuple[Callable, tuple]]] = {}


def register_check(name: str, make: Callable[[torch.device, torch.dtype], tuple[Callable, tuple]]
                   ) -> None:
    """How ``verify`` exercises op ``name`` (each op's module registers its own)."""
    _CHECKS[name] = make


def cache_root() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "micromotion"
    return Path(os.environ.get("MICROMOTION_CACHE", default))


def source_files(name: str) -> list[Path]:
    return [_SRC_DIR / f for f in _SOURCES[name]] + [_SRC_DIR / "common.h"]


def _emulation_sources(name: str, build_dir: Path) -> list[str]:
    """The op's bindings and, through a generated one-line file (the compiler is chosen by
    the file's suffix), its ``.cu`` as C++."""
    binding, kernels = _SOURCES[name]
    wrapper = build_dir / f"{name}_emulated.cpp"
    text = f'#include "{_SRC_DIR / kernels}"\n'
    if not wrapper.is_file() or wrapper.read_text() != text:
        wrapper.write_text(text)
    return [str(_SRC_DIR / binding), str(wrapper)]


def build_hash(name: str) -> str:
    h = hashlib.sha256()
    for f in source_files(name):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    h.update(f"torch={torch.__version__} cuda={torch.version.cuda}".encode())
    return h.hexdigest()[:16]


def load(name: str, emulate: bool = False) -> ModuleType:
    """The compiled module, building it on first call (``emulate``: the CPU emulation, which
    is never served). Raises RuntimeError if it cannot be built."""
    key = f"{name}-emulated" if emulate else name
    if key in _loaded:
        return _loaded[key]
    if key in _failed:
        raise RuntimeError(_failed[key])
    from torch.utils.cpp_extension import load as build

    digest = build_hash(name)
    build_dir = cache_root() / "ops" / f"{key}-{digest}"
    build_dir.mkdir(parents=True, exist_ok=True)
    sources = (_emulation_sources(name, build_dir) if emulate
               else [str(_SRC_DIR / f) for f in _SOURCES[name]])
    try:
        module = build(name=f"micromotion_{key.replace('-', '_')}_{digest}", sources=sources,
                       build_directory=str(build_dir),
                       extra_cflags=["-O3"] + (["-DMM_EMULATE"] if emulate else []),
                       extra_cuda_cflags=["-O3"], verbose=False)
    except Exception as exc:  # compiler missing, CUDA mismatch, …: fall back, say so once
        _failed[key] = f"CUDA op {key!r} could not be built ({type(exc).__name__}: {exc})"
        raise RuntimeError(_failed[key]) from exc
    _loaded[key] = module
    return module


def available(name: str) -> bool:
    """True when the CUDA kernel is built and agrees with the reference; on a failed build or
    check warns once and returns False (the reference serves)."""
    if name in _verified:
        return True
    if name in _failed or not torch.cuda.is_available():
        return False
    try:
        load(name)
    except RuntimeError as exc:
        warnings.warn(f"{exc}; using the PyTorch reference implementation instead.", stacklevel=3)
        return False
    return verify(name, torch.device("cuda"))


def verify(name: str, device: torch.device | str) -> bool:
    """The loaded kernel of op ``name`` against its reference on ``device``: outputs and input
    gradients (for one seeded upstream gradient) within ``torch.testing.assert_close``'s
    tolerances, in float32 and float64. A mismatch warns once, naming the op and the error,
    and the op falls back to the reference for the rest of the process."""
    try:
        for dtype in (torch.float32, torch.float64):
            run, inputs = _CHECKS[name](torch.device(device), dtype)
            ref, out = run("ref"), run("cuda")
            torch.testing.assert_close(out, ref, msg=lambda m: f"forward ({dtype}): {m}")
            g = torch.randn(ref.shape, generator=torch.Generator().manual_seed(1),
                            dtype=dtype).to(ref.device)
            for a, e in zip(torch.autograd.grad(out, inputs, g), torch.autograd.grad(ref, inputs, g)):
                torch.testing.assert_close(a, e, msg=lambda m: f"gradient ({dtype}): {m}")
    except (AssertionError, RuntimeError) as exc:
        reason = " ".join(str(exc).split())[:300]
        _failed[name] = f"CUDA op {name!r} disagrees with its PyTorch reference ({reason})"
        warnings.warn(f"{_failed[name]}; using the PyTorch reference implementation instead.",
                      stacklevel=2)
        return False
    _verified.add(name)
    return True
