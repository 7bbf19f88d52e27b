"""A pretend AVX2-only CPU (AMD Zen 1-3, Intel consumer chips without AVX-512), on any machine:
torch reports ``AVX2``, oneDNN has no bf16, and its fused pointwise convolutions raise on bf16
with the message such a CPU gives. ``pretend_avx2()`` patches this process; a subprocess gets
it with ``PRETEND_AVX2_ENV`` (``tests/pretend_avx2/sitecustomize.py`` applies it at start-up).
"""
import contextlib
import os
from pathlib import Path
from unittest import mock

import torch

MESSAGE = ("mkldnn pointwise binary: bf16 path needs the cpu support avx_ne_convert or "
           "avx512bw, avx512vl and avx512dq")
SITE = Path(__file__).parent / "pretend_avx2"
PRETEND_AVX2_ENV = {"PYTHONPATH": os.pathsep.join(
    [str(SITE)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])}


def _refusing(op):
    def binary(out, x, *args, **kwargs):
        if torch.bfloat16 in (out.dtype, x.dtype):
            raise RuntimeError(MESSAGE)
        return op(out, x, *args, **kwargs)
    return binary


class _Pointwise:
    """``torch.ops.mkldnn._convolution_pointwise_`` with a ``binary`` that refuses bf16."""

    def __init__(self, real):
        self._real = real
        self.binary = _refusing(real.binary)

    def __getattr__(self, name):
        return getattr(self._real, name)


def patches() -> list:
    mkldnn = torch.ops.mkldnn
    return [mock.patch.object(torch.backends.cpu, "get_cpu_capability", lambda: "AVX2"),
            mock.patch.object(mkldnn, "_is_mkldnn_bf16_supported", lambda: False, create=True),
            mock.patch.object(mkldnn, "_convolution_pointwise_",
                              _Pointwise(mkldnn._convolution_pointwise_), create=True)]


@contextlib.contextmanager
def pretend_avx2():
    """While open, this process runs as on an AVX2-only CPU (the fused path's op, bound at
    its import, refused too)."""
    from stylegan2 import fused_cpu
    with contextlib.ExitStack() as stack:
        for p in patches():
            stack.enter_context(p)
        if fused_cpu._MKLDNN_CONV_ADD is not None:
            stack.enter_context(mock.patch.object(
                fused_cpu, "_MKLDNN_CONV_ADD", _refusing(fused_cpu._MKLDNN_CONV_ADD)))
        yield
