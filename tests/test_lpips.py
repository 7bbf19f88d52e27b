"""LPIPS v0.1 (AlexNet) written here against its published formula, and loaded strictly from
the official layouts (torchvision's AlexNet state dict, LPIPS's ``v0.1/alex.pth``)."""
import pytest
import torch
import torch.nn.functional as F

import stylegan2
from micromotion.nets.lpips import CLASSIFIER, load_lpips, synthetic_states


def reference_lpips(alex: dict, lin: dict, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The formula step by step, with plain functions: scaling layer, AlexNet's five ReLU
    outputs, unit-normalised over channels, squared difference, 1×1 linear, spatial mean, sum."""
    shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)

    def stages(x):
        x = (x - shift) / scale
        out = []
        for i, (stride, pad) in zip((0, 3, 6, 8, 10), ((4, 2), (1, 2), (1, 1), (1, 1), (1, 1))):
            if i in (3, 6):
                x = F.max_pool2d(x, 3, 2)
            x = F.relu(F.conv2d(x, alex[f"features.{i}.weight"], alex[f"features.{i}.bias"],
                                stride, pad))
            out.append(x)
        return out

    total = 0
    for k, (fa, fb) in enumerate(zip(stages(a), stages(b))):
        fa = fa / (torch.sqrt(torch.sum(fa ** 2, dim=1, keepdim=True)) + 1e-10)
        fb = fb / (torch.sqrt(torch.sum(fb ** 2, dim=1, keepdim=True)) + 1e-10)
        d = F.conv2d((fa - fb) ** 2, lin[f"lin{k}.model.1.weight"])
        total = total + d.mean(dim=[2, 3])[:, 0]
    return total


def test_lpips_is_the_published_formula():
    alex, lin = synthetic_states(seed=3)
    model = load_lpips(alex, lin)
    g = torch.Generator().manual_seed(0)
    a = torch.rand(3, 3, 64, 64, generator=g) * 2 - 1
    b = (a + 0.3 * torch.randn(3, 3, 64, 64, generator=g)).clamp(-1, 1)
    got = model(a, b)
    assert got.shape == (3,)
    assert torch.allclose(got, reference_lpips(alex, lin, a, b), atol=1e-5, rtol=1e-5)
    assert torch.allclose(model(a, a), torch.zeros(3), atol=1e-6)  # the same image: 0
    a.requires_grad_(True)  # a loss: gradients reach the image, never the weights
    model(a, b).sum().backward()
    assert a.grad.abs().sum() > 0 and all(p.grad is None for p in model.parameters())


def test_lpips_loads_the_official_layouts_strictly(tmp_path):
    alex, lin = synthetic_states(seed=1)
    # torchvision's file also holds the classifier (unused here): its keys are known
    full = dict(alex, **{k: torch.zeros(shape) for k, shape in CLASSIFIER.items()})
    torch.save(full, tmp_path / "alexnet-owt.pth")
    # LPIPS's alex.pth is a legacy (pre-zip) torch.save file
    torch.save(lin, tmp_path / "alex.pth", _use_new_zipfile_serialization=False)
    model = load_lpips(tmp_path / "alexnet-owt.pth", tmp_path / "alex.pth")
    assert torch.equal(model.net.features[10].weight, alex["features.10.weight"])
    assert torch.equal(model.lins[4].weight, lin["lin4.model.1.weight"])
    with pytest.raises(stylegan2.ArchitectureMismatchError, match="features.8.weight"):
        load_lpips({k: v for k, v in alex.items() if k != "features.8.weight"}, lin)
    with pytest.raises(stylegan2.ArchitectureMismatchError, match="classifier.6.weight"):
        load_lpips(dict(alex, **{"classifier.6.weight": torch.zeros(10, 4096)}), lin)
    with pytest.raises(stylegan2.ArchitectureMismatchError, match="4"):
        load_lpips(alex, {k: v for k, v in lin.items() if not k.startswith("lin4")})
