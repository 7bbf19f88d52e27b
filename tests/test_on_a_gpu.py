"""Every use case with the models on a GPU, tested on the CPU: the models sit on a pretend CUDA
device (tests/fake_gpu.py), so a tensor left on the CPU beside GPU tensors fails here as it
would on a real GPU (CI never has one)."""
from unittest import mock

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import read_back, write_clip
from fake_gpu import DeviceMismatch, OnGPU, fake_gpu


def test_the_fake_gpu_refuses_what_cuda_refuses():
    with fake_gpu():
        x = torch.randn(3, 4).to("cuda")
        assert isinstance(x, OnGPU) and x.is_cuda and x.device == torch.device("cuda", 0)
        assert (x * 2 + torch.tensor(1.0)).is_cuda  # a 0-dim CPU tensor is a scalar
        assert x[torch.tensor([0, 2])].is_cuda  # CPU index tensors are taken
        assert torch.equal(x[[2, 0]].cpu(), x.cpu()[[2, 0]])  # and lists, with their values
        x[[1]] = torch.zeros(1, 4).to("cuda")
        assert x[1].abs().sum().item() == 0
        assert x.double().is_cuda and torch.zeros(2, device="cuda").is_cuda
        assert torch.nn.Linear(4, 2).to("cuda")(x).is_cuda
        with pytest.raises(DeviceMismatch, match="same device"):
            x + torch.ones(3, 4)
        with pytest.raises(RuntimeError):
            x.numpy()
        back = x.cpu()
        assert not isinstance(back, OnGPU) and back.numpy().shape == (3, 4)
        assert x.sum().item() == pytest.approx(float(back.sum())) and len(x.tolist()) == 3
    assert not torch.cuda.is_available() or torch.version.cuda


@pytest.fixture(scope="module")
def on_gpu(reference):
    """The synthetic models on the pretend GPU (the CUDA kernels off: this fakes devices)."""
    from micromotion.nets.models import Models
    from micromotion.nets.plan import Plan
    from stylegan2.ops import plugin
    with fake_gpu(), mock.patch.object(plugin, "available", lambda name: False):
        models = Models.synthetic(reference, device="cuda")
        models.plan = Plan.reference()  # it fakes devices, not speed: nothing to time
        assert models.device.type == "cuda" and models.encoder.avg_image.is_cuda
        yield models


@pytest.fixture(scope="module")
def clip(tmp_path_factory, astronaut):
    path = tmp_path_factory.mktemp("gpu") / "turn.mp4"
    write_clip(path, [np.asarray(astronaut.rotate(2 * i)) for i in range(6)], fps=10)
    return path


def requests(astronaut, clip):
    from micromotion.requests.request import Animate, Edit, LatentVideo, Transfer
    # fp32: the fake runs no autocast, so "auto" would time two identical runs and pick either
    small = {"output_size": 64, "dtype": "fp32"}
    mirrored = astronaut.transpose(Image.FLIP_LEFT_RIGHT)
    two = Image.new("RGB", (1024, 512))  # a group photo: the astronaut twice
    two.paste(astronaut, (0, 0))
    two.paste(mirrored, (512, 0))
    return {
        "preset": (Animate(astronaut, "smile", frames=3, **small), 3),
        "text": (Animate(astronaut, text_template="a person with {degree} smile", steps=1,
                         degrees=["no", "50%", "100%"], frames=3, **small), 3),
        "anchor video": (Animate(astronaut, anchor_video=str(clip), anchor_frames=3, frames=3,
                                 **small), 3),
        "timeline": (Animate(astronaut, timeline="smile:0%-50%; aging:50%-100%", frames=4,
                             **small), 4),
        "driving clip": (Transfer(astronaut, str(clip), **small), 6),  # the clip's frames
        "photos": (Transfer(astronaut, neutral_image=astronaut, driving_image=mirrored, frames=3,
                             **small), 3),
        "walk from a photo": (LatentVideo("walk", image=astronaut, seeds=(3,),
                                          frames_per_segment=2, **small), 3),
        "circle": (LatentVideo("circle", seeds=(1, 2), frames=4, **small), 4),
        "every face": (Animate(two, "smile", faces="all", frames=3, **small), 3),
        "your video": (Edit(str(clip), "smile", **small), 6),  # the clip itself
    }


LAST_GLIMPSE = {"every face": ("faces", 2), "your video": ("look", 2)}  # (filmed and edited)


@pytest.mark.parametrize("case", ["preset", "text", "anchor video", "timeline", "driving clip",
                                  "photos", "walk from a photo", "circle", "every face",
                                  "your video"])
def test_each_use_case_runs_with_the_models_on_a_gpu(on_gpu, astronaut, clip, tmp_path, case):
    from micromotion.doors import serving
    req, frames = requests(astronaut, clip)[case]
    previews = []
    serving.serve(req, on_gpu, tmp_path / "out.mp4", gif=tmp_path / "out.gif",
                  preview=lambda g: previews.append((g.what, len(g.frames))))
    meta, video = read_back(tmp_path / "out.mp4")
    assert len(video) == frames
    assert case == "your video" or (tmp_path / "out.gif").stat().st_size > 0  # (an edit gives
    # the clip back as an mp4 alone)
    # the video's first, middle and last before it (an edit: its look before the inversion)
    assert previews[-1] == LAST_GLIMPSE.get(case, ("frames", 3))
