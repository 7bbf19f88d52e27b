import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REFERENCE = ROOT.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def reference() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(f"../shared/reference is absent (looked in {REFERENCE}); golden tests need it")
    return REFERENCE


@pytest.fixture(scope="session")
def small_ckpt():
    """A seeded synthetic checkpoint dict: 64 px, style dim 32, channels ≤ 64."""
    import stylegan2
    return stylegan2.synthetic_checkpoint(size=64, style_dim=32, n_mlp=2, max_channels=64, seed=3)


@pytest.fixture(scope="session")
def small_gen(small_ckpt):
    import stylegan2
    return stylegan2.load_generator(small_ckpt)


def latents(n: int, gen, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, gen.n_latent, gen.style_dim, generator=g) * 0.5 + gen.latent_avg
