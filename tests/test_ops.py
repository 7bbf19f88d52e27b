"""The ops: the PyTorch reference against an independent direct loop, its gradients, and the
CUDA kernels against the reference (skipped without a GPU)."""
import itertools

import numpy as np
import pytest
import torch

from stylegan2.ops import bias_leaky_relu, upfirdn2d, plugin
from stylegan2.ops.upfirdn2d import upfirdn2d_ref

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
CASES = [  # up, down, (px0, px1, py0, py1)
    (1, 1, (1, 1, 1, 1)), (2, 1, (2, 1, 2, 1)), (1, 2, (1, 1, 1, 1)), (2, 2, (0, 0, 1, 2)),
    (1, 1, (-1, 2, 0, -1)), (3, 1, (1, 2, 2, 1)),
]


def direct(x, k, up, down, pads):
    """y[m] = Σ_k u_pad[m·down + k] · flip(k): the definition, one pixel at a time."""
    px0, px1, py0, py1 = pads
    n, c, h, w = x.shape
    kh, kw = k.shape
    oh = (h * up + py0 + py1 - kh) // down + 1
    ow = (w * up + px0 + px1 - kw) // down + 1
    y = np.zeros((n, c, oh, ow))
    for oy, ox, ky, kx in itertools.product(range(oh), range(ow), range(kh), range(kw)):
        uy, ux = oy * down + ky - py0, ox * down + kx - px0
        if uy < 0 or ux < 0 or uy % up or ux % up or uy // up >= h or ux // up >= w:
            continue
        y[:, :, oy, ox] += x[:, :, uy // up, ux // up] * k[kh - 1 - ky, kw - 1 - kx]
    return y


@pytest.mark.parametrize("up,down,pads", CASES)
def test_upfirdn2d_ref_is_the_definition(up, down, pads):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 5, 6, generator=g, dtype=torch.float64)
    k = torch.randn(4, 3, generator=g, dtype=torch.float64)  # asymmetric: catches a missing flip
    out = upfirdn2d(x, k, up, down, pads, impl="ref")
    np.testing.assert_allclose(out.numpy(), direct(x.numpy(), k.numpy(), up, down, pads), atol=1e-12)


def test_upfirdn2d_ref_gradients():
    x = torch.randn(1, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    k = torch.randn(4, 4, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda t: upfirdn2d_ref(t, k, 2, 1, (2, 1, 2, 1)), (x,))


def test_upfirdn2d_pad_forms():
    x = torch.randn(1, 1, 4, 4)
    k = torch.ones(2, 2)
    assert torch.equal(upfirdn2d(x, k, pad=1), upfirdn2d(x, k, pad=(1, 1, 1, 1)))
    assert torch.equal(upfirdn2d(x, k, pad=(1, 0)), upfirdn2d(x, k, pad=(1, 0, 1, 0)))
    with pytest.raises(ValueError, match="pad"):
        upfirdn2d(x, k, pad=(1, 2, 3))
    with pytest.raises(ValueError, match="impl"):
        upfirdn2d(x, k, impl="fast")


def test_bias_leaky_relu_ref():
    x = torch.tensor([[-2.0, 0.5], [1.0, -0.1]]).reshape(2, 2, 1, 1)
    b = torch.tensor([1.0, -1.0])
    expected = torch.nn.functional.leaky_relu(x + b.reshape(1, 2, 1, 1), 0.2) * 2 ** 0.5
    assert torch.allclose(bias_leaky_relu(x, b, impl="ref"), expected)
    assert torch.allclose(bias_leaky_relu(torch.ones(3, 2), b), torch.tensor([2.0, 0.0]) * 2 ** 0.5)


def test_plugin_is_unavailable_without_cuda_and_hash_tracks_sources():
    if not torch.cuda.is_available():
        assert not plugin.available("upfirdn2d")
    h = plugin.build_hash("upfirdn2d")
    assert len(h) == 16 and h != plugin.build_hash("bias_act")


def kernel_modules(error: float = 0.0) -> dict:
    """Stand-ins for the compiled modules, on the CPU: the reference's arithmetic, off by
    ``error`` in the forward pass (a deliberately wrong kernel)."""
    import types

    def bias_act(x, b, slope, gain):
        return bias_leaky_relu(x, b, slope, gain, impl="ref") + error

    def bias_act_grad(grad, y, slope, gain):
        return grad * gain * torch.where(y > 0, 1.0, slope)

    def up_fir_dn(x, k, up, down, px0, px1, py0, py1):
        return upfirdn2d_ref(x, k, up, down, (px0, px1, py0, py1)) * (1 + error)

    return {"bias_act": types.SimpleNamespace(bias_leaky_relu=bias_act,
                                              bias_leaky_relu_grad=bias_act_grad),
            "upfirdn2d": types.SimpleNamespace(upfirdn2d=up_fir_dn)}


@pytest.mark.parametrize("name", ["bias_act", "upfirdn2d"])
def test_kernels_are_verified_before_they_serve(monkeypatch, name):
    """A kernel that agrees with the reference (forward and gradient) passes; a wrong one
    warns once, naming the op and the error, and the reference serves from then on."""
    monkeypatch.setattr(plugin, "_failed", {})
    monkeypatch.setattr(plugin, "_verified", set())
    monkeypatch.setattr(plugin, "_loaded", kernel_modules())
    assert plugin.verify(name, "cpu") and name in plugin._verified
    plugin._verified.clear()
    monkeypatch.setattr(plugin, "_loaded", kernel_modules(error=1e-3))
    with pytest.warns(UserWarning, match=f"CUDA op '{name}' disagrees with its PyTorch "
                                         f"reference \\(forward \\(torch.float32\\).*using the "
                                         f"PyTorch reference implementation instead"):
        assert not plugin.verify(name, "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert not plugin.available(name)  # failed once: the reference serves, without a rebuild


@pytest.fixture(scope="session")
def emulated():
    """The CUDA sources compiled as C++ for the CPU, each kernel the one thread of a one-block
    grid (plugin.load(..., emulate=True)): their arithmetic and launch code, without a GPU."""
    return {name: plugin.load(name, emulate=True) for name in ("bias_act", "upfirdn2d")}


@pytest.fixture(params=["emulated", pytest.param("cuda", marks=needs_cuda)])
def kernels(request, monkeypatch, emulated):
    """The device on which ``impl="cuda"`` runs the kernels: the CPU, through their emulation,
    and the GPU where there is one."""
    if request.param == "cuda":
        return "cuda"
    monkeypatch.setattr(plugin, "_loaded", dict(emulated))
    return "cpu"


def test_the_emulated_kernels_pass_the_check_before_serving(kernels):
    for name in ("bias_act", "upfirdn2d"):
        assert plugin.verify(name, kernels), plugin._failed.get(name)


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
@pytest.mark.parametrize("up,down,pads", CASES)
def test_upfirdn2d_kernel_matches_ref(kernels, up, down, pads, dtype):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 9, 7, generator=g).to(kernels, dtype).requires_grad_()
    k = torch.randn(4, 4, generator=g).to(kernels, dtype)
    ref = upfirdn2d(x, k, up, down, pads, impl="ref")
    out = upfirdn2d(x, k, up, down, pads, impl="cuda")
    assert out.dtype == dtype and out.device == x.device
    grad = torch.randn(ref.shape, generator=g).to(kernels, dtype)
    (gr,) = torch.autograd.grad(ref, x, grad)
    (gc,) = torch.autograd.grad(out, x, grad)
    if dtype == torch.float64:
        torch.testing.assert_close(out, ref)
        torch.testing.assert_close(gc, gr)
        return
    # bf16: each against the exact result of the same bf16 inputs, within bf16's own bound
    # (CPUs differ in how their bf16 convolutions accumulate, so not against each other)
    x64, k64, g64 = (t.detach().double().requires_grad_(t is x) for t in (x, k, grad))
    exact = upfirdn2d_ref(x64, k64, up, down, pads)
    size = upfirdn2d_ref(x64.abs(), k64.abs(), up, down, pads)
    (exact_grad,) = torch.autograd.grad(exact, x64, g64)
    (grad_size,) = torch.autograd.grad(upfirdn2d_ref(x64, k64.abs(), up, down, pads), x64,
                                       g64.abs())
    for got in (out, ref):
        assert_within_bf16(got, exact, size, k.numel())
    for got in (gc, gr):
        assert_within_bf16(got, exact_grad, grad_size, k.numel())


def assert_within_bf16(got, exact, size, terms):
    """|got − exact| ≤ u·|exact| + terms·u·Σ|products| (u = 2⁻⁸): the rounding of the result
    plus a sum of ``terms`` products accumulated in bf16, the worst a CPU may do."""
    u = 2.0 ** -8
    err = (got.detach().double().cpu() - exact.detach().cpu()).abs()
    bound = u * exact.detach().abs().cpu() + terms * u * size.detach().cpu()
    assert bool((err <= bound + 1e-12).all()), float((err - bound).max())


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_bias_leaky_relu_kernel_matches_ref(kernels, dtype):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 5, 4, 4, generator=g).to(kernels, dtype).requires_grad_()
    b = torch.randn(5, generator=g).to(kernels, dtype).requires_grad_()
    ref = bias_leaky_relu(x, b, impl="ref")
    out = bias_leaky_relu(x, b, impl="cuda")
    torch.testing.assert_close(out, ref)
    grad = torch.randn(ref.shape, generator=g).to(kernels, dtype)
    gr = torch.autograd.grad(ref, (x, b), grad)
    gc = torch.autograd.grad(out, (x, b), grad)
    for a, e in zip(gc, gr):
        torch.testing.assert_close(a, e)


def test_the_bindings_refuse_tensors_on_the_wrong_device(emulated):
    x = torch.zeros(1, 2, 3, 3)
    if torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="x must be a CPU tensor"):
            emulated["upfirdn2d"].upfirdn2d(x.cuda(), torch.ones(1, 1), 1, 1, 0, 0, 0, 0)
    with pytest.raises(RuntimeError, match="bias must be"):
        emulated["bias_act"].bias_leaky_relu(x, torch.zeros(3), 0.2, 1.0)


@needs_cuda
def test_generator_on_cuda_matches_cpu(small_gen):
    from conftest import latents
    w = latents(2, small_gen)
    torch.backends.cudnn.allow_tf32 = False  # TF32 convolutions would exceed 1e-4
    with torch.no_grad():
        cpu = small_gen.synthesis(w)
        gpu = small_gen.to("cuda").synthesis(w.cuda()).cpu()
    small_gen.to("cpu")
    torch.testing.assert_close(gpu, cpu, atol=1e-4, rtol=0)
