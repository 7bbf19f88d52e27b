"""The generator reproduces the reference implementation's outputs (../shared/reference)."""
import pytest
import torch

import stylegan2
from stylegan2.paths import RenderPath, depth, error, tolerance, unsupported

TOL = 1e-4


@pytest.fixture(scope="module")
def golden(reference):
    d = reference / "stylegan2_golden"
    gen = stylegan2.load_generator(d / "generator_s16_d64_m2.pt")
    return gen, torch.load(d / "expected.pt", weights_only=True)


def maxdiff(a, b):
    return (a - b).abs().max().item()


def test_inferred_architecture(golden):
    gen, _ = golden
    assert (gen.size, gen.style_dim, gen.n_mlp, gen.n_latent) == (16, 64, 2, 6)
    assert gen.channels == {4: 512, 8: 512, 16: 512}
    assert all(p.dtype == torch.float32 for p in gen.state_dict().values())
    assert not gen.latent_avg_estimated


def test_mapping_and_truncation(golden):
    gen, e = golden
    with torch.no_grad():
        assert maxdiff(gen.mapping(e["z"]), e["w"]) <= TOL
        assert maxdiff(gen.mapping(e["z"], truncation=0.7), e["w_trunc"]) <= TOL


@pytest.mark.parametrize("grad", [False, True], ids=["cpu-inference", "autograd"])
def test_synthesis_const_noise(golden, grad, cpu_path):
    gen, e = golden
    for key, w in (("img_wplus", e["wplus"]), ("img_w", e["w"])):
        w = w.clone().requires_grad_(grad)
        with torch.set_grad_enabled(grad):
            assert maxdiff(gen.synthesis(w, noise_mode="const"), e[key]) <= TOL, key


@pytest.mark.parametrize("impl", ["ref", "scaled", "fused"])
def test_every_impl_matches_the_reference(golden, impl):
    """The readable reference (model.py, grouped weights), the style-on-activations form and
    the fused CPU path (fused_cpu.py), each chosen by name."""
    gen, e = golden
    with torch.no_grad():
        assert maxdiff(gen.synthesis(e["wplus"], impl=impl), e["img_wplus"]) <= TOL


def test_generator_from_z(golden):
    gen, e = golden
    with torch.no_grad():
        assert maxdiff(gen(e["z"]), e["img_z"]) <= TOL
        assert maxdiff(gen(e["z"], truncation=0.7), e["img_z_trunc"]) <= TOL


def test_batch_of_one_matches(golden):
    gen, e = golden
    with torch.no_grad():
        for i in range(3):
            assert maxdiff(gen.synthesis(e["wplus"][i:i + 1]), e["img_wplus"][i:i + 1]) <= TOL


@pytest.mark.parametrize("impl", ["fused", "scaled"])
def test_bf16_paths_are_within_bf16s_bound(golden, cpu_path, impl):
    """bf16 within the bound bf16's own precision sets (stylegan2.paths.tolerance), on any
    CPU that runs it; where torch says it cannot (AVX2), the fused path is not run at all."""
    path = RenderPath(impl, "bf16")
    if impl == "fused" and unsupported(path, "cpu"):
        pytest.skip(unsupported(path, "cpu"))
    gen, e = golden
    with torch.no_grad():
        out = path.synthesis(gen, e["wplus"])
    assert out.dtype == torch.float32
    assert 0 < error(out, e["img_wplus"]) <= tolerance("bf16", depth(gen.size))
