"""The two ways through synthesis agree, gradients flow, and the options do what they say."""
import pytest
import torch

import stylegan2
import stylegan2.fused_cpu
from conftest import latents
from stylegan2.paths import RenderPath, depth, error, tolerance, unsupported


def autograd_synthesis(gen, w, **kw):
    return gen.synthesis(w.clone().requires_grad_(True), **kw).detach()


@pytest.mark.parametrize("noise_mode", ["const", "none"])
@pytest.mark.parametrize("max_res", [None, 4, 16])
def test_cpu_inference_path_equals_autograd_path(small_gen, noise_mode, max_res, cpu_path):
    w = latents(3, small_gen)
    with torch.no_grad():
        fast = small_gen.synthesis(w, noise_mode=noise_mode, max_res=max_res)
    slow = autograd_synthesis(small_gen, w, noise_mode=noise_mode, max_res=max_res)
    assert fast.shape == (3, 3, max_res or 64, max_res or 64)
    assert (fast - slow).abs().max() <= 1e-4


def test_w_and_repeated_wplus_agree(small_gen):
    w = latents(2, small_gen)[:, 0]
    with torch.no_grad():
        a = small_gen.synthesis(w)
        b = small_gen.synthesis(w[:, None].repeat(1, small_gen.n_latent, 1))
    assert torch.equal(a, b)


def test_repeated_calls_reuse_buffers_and_agree(small_gen, cpu_path):
    w = latents(2, small_gen, seed=5)
    with torch.no_grad():
        a = small_gen.synthesis(w)
        small_gen.synthesis(latents(1, small_gen, seed=6))  # overwrite the buffers in between
        b = small_gen.synthesis(w)
        stylegan2.fused_cpu.release(small_gen)
        c = small_gen.synthesis(w)
    assert torch.equal(a, b) and torch.equal(a, c)
    assert a.data_ptr() != b.data_ptr()  # outputs never alias the reused buffers


def test_random_noise_changes_output_const_does_not(small_gen):
    w = latents(1, small_gen)
    with torch.no_grad():
        r1, r2 = (small_gen.synthesis(w, noise_mode="random") for _ in range(2))
        c = small_gen.synthesis(w, noise_mode="const")
    assert not torch.equal(r1, r2) and not torch.equal(r1, c)


def test_gradients_flow_to_wplus(small_gen):
    w = latents(2, small_gen).requires_grad_(True)
    img = small_gen.synthesis(w, max_res=32)
    img.square().mean().backward()
    assert w.grad is not None and torch.isfinite(w.grad).all()
    assert (w.grad.abs().sum(dim=-1) > 0).sum() >= 8  # layers up to the 32 px block


def test_gradients_flow_through_mapping():
    gen = stylegan2.synthetic_generator(size=16, style_dim=16, n_mlp=2, max_channels=16)
    z = torch.randn(2, 16, requires_grad=True)
    gen(z, truncation=0.7).sum().backward()
    assert torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0


@pytest.mark.parametrize("impl", ["fused", "scaled"])
def test_bf16_path(small_gen, cpu_path, impl):
    path = RenderPath(impl, "bf16")
    if impl == "fused" and unsupported(path, "cpu"):
        pytest.skip(unsupported(path, "cpu"))
    w = latents(2, small_gen)
    with torch.no_grad():
        ref = small_gen.synthesis(w, impl="ref")
        bf = path.synthesis(small_gen, w)
    assert bf.dtype == torch.float32
    assert 0 < error(bf, ref) <= tolerance("bf16", depth(small_gen.size))


def test_mean_latent_is_seeded(small_gen):
    a, b = small_gen.mean_latent(256, seed=1), small_gen.mean_latent(256, seed=1)
    assert a.shape == (32,) and torch.equal(a, b)


def test_synthetic_checkpoints_are_seeded_and_nontrivial():
    a = stylegan2.synthetic_checkpoint(size=16, style_dim=16, n_mlp=1, max_channels=16, seed=1)
    b = stylegan2.synthetic_checkpoint(size=16, style_dim=16, n_mlp=1, max_channels=16, seed=1)
    c = stylegan2.synthetic_checkpoint(size=16, style_dim=16, n_mlp=1, max_channels=16, seed=2)
    assert all(torch.equal(a["g_ema"][k], b["g_ema"][k]) for k in a["g_ema"])
    assert not torch.equal(a["g_ema"]["conv1.conv.weight"], c["g_ema"]["conv1.conv.weight"])
    for key, t in a["g_ema"].items():
        if key.endswith(("bias", "noise.weight")):
            assert t.abs().sum() > 0, key  # not left at the zero init
            assert t.numel() == 1 or not torch.all(t == t.flatten()[0]), key  # nor at 1
    with pytest.raises(ValueError, match="layout"):
        stylegan2.synthetic_checkpoint("tf")


@pytest.mark.parametrize("band_bytes", [1, 3000])  # bands of 2 rows, and of uneven sizes
def test_banded_upsampling_conv_is_exact(small_gen, monkeypatch, band_bytes, cpu_path):
    monkeypatch.setattr(stylegan2.fused_cpu, "_BAND_BYTES", band_bytes)
    stylegan2.fused_cpu.release(small_gen)
    w = latents(2, small_gen, seed=9)
    with torch.no_grad():
        banded = small_gen.synthesis(w)
    assert (banded - autograd_synthesis(small_gen, w)).abs().max() <= 1e-4


def test_inference_mode_then_grad_mode(cpu_path):
    """Buffers and caches made under inference_mode must not break later no_grad/autograd use."""
    gen = stylegan2.synthetic_generator(size=16, style_dim=16, n_mlp=1, max_channels=16, seed=4)
    w = torch.randn(1, gen.n_latent, 16)
    with torch.inference_mode():
        a = gen.synthesis(w)
    with torch.no_grad():
        b = gen.synthesis(w)
    c = gen.synthesis(w.clone().requires_grad_(True))
    c.sum().backward()
    assert torch.equal(a, b) and (a - c.detach()).abs().max() <= 1e-4


def test_concurrent_calls_take_turns(small_gen):
    from concurrent.futures import ThreadPoolExecutor
    ws = [latents(1, small_gen, seed=s) for s in range(6)]
    with torch.no_grad():
        expected = [small_gen.synthesis(w) for w in ws]
        with ThreadPoolExecutor(3) as pool:
            got = list(pool.map(lambda w: small_gen.synthesis(w), ws))
    assert all(torch.equal(a, b) for a, b in zip(expected, got))


@pytest.mark.parametrize("upsample", [False, True])
def test_gpu_form_equals_cpu_form(small_gen, upsample):
    """The reference's per-sample modulated weights (one grouped conv, the GPU's form) and the
    style on the activations (``scaled``) compute the same modulated convolution."""
    import torch.nn.functional as F
    from stylegan2.model import _grouped_conv
    layer = (small_gen.convs[2] if upsample else small_gen.convs[3]).conv
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, layer.weight.shape[2], 8, 8, generator=g)
    w = torch.randn(3, small_gen.style_dim, generator=g)
    weight = layer.modulated_weight(w)
    if upsample:
        grouped = layer.blur(_grouped_conv(x, weight.transpose(1, 2), F.conv_transpose2d, stride=2))
    else:
        grouped = _grouped_conv(x, weight, F.conv2d, padding=layer.padding)
    assert (grouped - layer._forward_scaled(x, w)).abs().max() < 1e-4
