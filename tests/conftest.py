import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SMALL_CHANNELS = {4: 64, 8: 48, 16: 32, 32: 24, 64: 16}
REFERENCE = ROOT.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def reference() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(f"../shared/reference is absent (looked in {REFERENCE}); golden tests need it")
    return REFERENCE


@pytest.fixture(scope="session")
def small_ckpt():
    """A seeded synthetic checkpoint dict: 64 px, style dim 32, channels shrinking with
    resolution (as in config-f) so in/out widths differ."""
    import stylegan2
    return stylegan2.synthetic_checkpoint(size=64, style_dim=32, n_mlp=2, seed=3,
                                          channels=SMALL_CHANNELS)


@pytest.fixture(scope="session")
def small_gen(small_ckpt):
    import stylegan2
    return stylegan2.load_generator(small_ckpt)


def latents(n: int, gen, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, gen.n_latent, gen.style_dim, generator=g) * 0.5 + gen.latent_avg


@pytest.fixture(params=[4, 64], ids=["buffered-path", "default-split"])
def cpu_path(request, monkeypatch):
    """Run a test with the CPU inference path's NCHW/channels-last split at 4 px (nearly every
    layer on the buffered channels-last path) and at its default."""
    import stylegan2.fused_cpu
    monkeypatch.setattr(stylegan2.fused_cpu, "SMALL_RES", request.param)
    return request.param


def read_back(path):
    """An mp4 decoded by ffmpeg: (metadata, ``uint8 [T, H, W, 3]``)."""
    import imageio_ffmpeg
    import numpy as np
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    w, h = meta["size"]
    return meta, np.stack([np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in reader])


@pytest.fixture(scope="session")
def mm(reference):
    """The pipeline on synthetic weights (1024 px, 18 × 512 latents), presets from the reference."""
    from micromotion.nets.models import Models
    return Models.synthetic(reference)


@pytest.fixture(scope="session")
def astronaut():
    """A real face photo (scikit-image's astronaut, 512 × 512)."""
    from PIL import Image
    skimage_data = pytest.importorskip("skimage.data")
    return Image.fromarray(skimage_data.astronaut())


def write_clip(path, frames, fps: float = 10):
    """``uint8 [H, W, 3]`` frames → an H.264 mp4 at ``path``."""
    import imageio_ffmpeg
    import numpy as np
    h, w, _ = frames[0].shape
    writer = imageio_ffmpeg.write_frames(str(path), (w, h), fps=fps, codec="libx264",
                                         pix_fmt_out="yuv420p", macro_block_size=1)
    writer.send(None)
    for f in frames:
        writer.send(np.ascontiguousarray(f, np.uint8).tobytes())
    writer.close()
    return path


@pytest.fixture(scope="session")
def two_clip(astronaut, tmp_path_factory):
    """Two people side by side (the astronaut twice, 320 px each), filmed with a slow pan:
    12 frames at 15 fps, 640 × 320."""
    import numpy as np
    from PIL import Image
    pair = Image.new("RGB", (700, 340), (120, 130, 140))
    pair.paste(astronaut.resize((320, 320)), (10, 10))
    pair.paste(astronaut.resize((320, 320)), (360, 10))
    frames = [np.asarray(pair.crop((k * 3, 5, k * 3 + 640, 325))) for k in range(12)]
    path = tmp_path_factory.mktemp("two") / "two.mp4"
    write_clip(path, frames, fps=15)
    return path, frames


@pytest.fixture(scope="session")
def clip_of_nobody(tmp_path_factory):
    """A second of grey at 10 fps: a video with no face."""
    import numpy as np
    frames = [np.full((120, 160, 3), 120 + k, np.uint8) for k in range(10)]
    return write_clip(tmp_path_factory.mktemp("nobody") / "grey.mp4", frames)
