"""A pretend GPU for the CPU: tensors that say they are on ``cuda:0`` and hold CPU data, so the
pipeline's device handling is tested where CI runs (it never has a GPU).

Inside ``fake_gpu()``, ``torch.cuda.is_available()`` is True and whatever goes ``.to("cuda")`` (or
is made with ``device="cuda"``) becomes an ``OnGPU`` tensor. Every aten op on one runs on its CPU
data, after the check that CUDA itself makes: a GPU tensor meets CPU tensors only as 0-dim
scalars (and as index tensors). ``.numpy()`` refuses it, as CUDA does; ``.tolist()``, ``.item()``
and ``.cpu()`` copy to the host. It fakes devices, not arithmetic: autocast and the CUDA kernels
stay off (the ops' own tests cover those).
"""
from __future__ import annotations

import contextlib
from unittest import mock

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode, _disable_current_modes
from torch.utils._pytree import tree_map

aten = torch.ops.aten
CUDA = torch.device("cuda", 0)
# ops where CUDA accepts CPU index tensors beside the GPU tensor they index
INDEXING = (aten.index.Tensor, aten.index_put.default, aten.index_put_.default,
            aten._index_put_impl_.default)


class DeviceMismatch(RuntimeError):
    pass


class OnGPU(torch.Tensor):
    """CPU data that Python sees on ``cuda:0``. C++ sees a meta tensor: its device guard does
    nothing, where CUDA's is missing from a CPU build of torch."""

    @staticmethod
    def __new__(cls, data: torch.Tensor):
        t = torch.Tensor._make_wrapper_subclass(
            cls, data.shape, strides=data.stride(), storage_offset=data.storage_offset(),
            dtype=data.dtype, device="meta", requires_grad=data.requires_grad)
        t.cpu_data = data
        return t

    @property
    def device(self) -> torch.device:
        return CUDA

    @property
    def is_cuda(self) -> bool:
        return True

    def tolist(self):
        return self.cpu_data.tolist()

    def __repr__(self) -> str:
        return f"OnGPU({self.cpu_data!r})"

    __torch_function__ = torch._C._disabled_torch_function_impl

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        return _run(func, args, kwargs or {})


def _to_gpu(device) -> bool:
    """A device argument that means the (fake) GPU; meta is what C++ passes for an OnGPU's
    device (``t.to(other)``)."""
    return device is not None and torch.device(device).type in ("cuda", "meta")


def _data(a):
    return a.cpu_data if isinstance(a, OnGPU) else a


def _run(func, args, kwargs):
    kwargs = dict(kwargs)
    if func is aten._to_copy.default:  # .to(...): to the GPU, back, or staying where it is
        device = kwargs.pop("device", None)
        with _disable_current_modes():
            out = func(_data(args[0]), **kwargs)
        stays = device is None and isinstance(args[0], OnGPU)
        return OnGPU(out) if _to_gpu(device) or stays else out
    tensors = []
    tree_map(lambda a: tensors.append(a) if isinstance(a, torch.Tensor) else None, (args, kwargs))
    on_gpu = any(isinstance(t, OnGPU) for t in tensors)
    made_on_gpu = _to_gpu(kwargs.get("device"))  # a factory: torch.zeros(..., device="cuda")
    if made_on_gpu:
        kwargs["device"] = torch.device("cpu")
    if on_gpu and func is not aten.copy_.default:  # copy_ is how tensors cross devices
        skip = [t for t in (args[1] if func in INDEXING else []) if isinstance(t, torch.Tensor)]
        cpu = [t for t in tensors if not isinstance(t, OnGPU) and t.dim() > 0
               and not any(t is s for s in skip)]
        if cpu:
            raise DeviceMismatch(f"Expected all tensors to be on the same device (fake GPU: "
                                 f"{func} got CPU tensors {[list(t.shape) for t in cpu]})")
    with _disable_current_modes():
        out = func(*tree_map(_data, args), **tree_map(_data, kwargs))
    if not (on_gpu or made_on_gpu):
        return out
    if any(r.alias_info is not None and r.alias_info.is_write for r in func._schema.returns):
        return kwargs["out"] if "out" in kwargs else args[0]  # in place or out=: that tensor
    return tree_map(lambda o: OnGPU(o) if type(o) is torch.Tensor else o, out)


def _index(device):
    """'cuda' → cuda:0: torch asks the CUDA runtime for the index of an index-less device."""
    if isinstance(device, str) and device == "cuda":
        return CUDA
    if isinstance(device, torch.device) and device.type == "cuda" and device.index is None:
        return CUDA
    return device


def _list_index(key):
    """``t[[0, 2]]``: torch turns the list into an index tensor on ``t``'s device as C++ sees it
    (meta, so without its values, and past the modes); a CPU tensor, which CUDA takes, keeps them."""
    if isinstance(key, list):
        return torch.tensor(key)
    if isinstance(key, tuple):
        return tuple(_list_index(k) for k in key)
    return key


class _Indexed(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is torch.device:
            return func(*args, **(kwargs or {}))
        if func in (torch.Tensor.__getitem__, torch.Tensor.__setitem__):
            args = (args[0], _list_index(args[1])) + tuple(args[2:])
        return func(*map(_index, args), **{k: _index(v) for k, v in (kwargs or {}).items()})


class _Fake(TorchDispatchMode):
    """Factories and ``.to`` calls that name the GPU, on plain tensors."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if any(issubclass(t, OnGPU) for t in types) or _to_gpu(kwargs.get("device")):
            return _run(func, args, kwargs)
        return func(*args, **kwargs)


@contextlib.contextmanager
def fake_gpu():
    """While open, one pretend CUDA GPU (see the module's docstring)."""
    cuda = torch.cuda
    with mock.patch.object(cuda, "is_available", lambda: True), \
            mock.patch.object(cuda, "_lazy_init", lambda: None), \
            mock.patch.object(cuda, "current_device", lambda: 0), \
            mock.patch.object(cuda, "is_bf16_supported", lambda *a, **k: True), \
            mock.patch.object(cuda, "synchronize", lambda *a, **k: None), \
            mock.patch.object(cuda, "get_device_name", lambda *a, **k: "fake GPU"), \
            _Fake(), _Indexed():
        yield
