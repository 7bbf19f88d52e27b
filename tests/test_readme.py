"""The README's commands and snippets run as written, on synthetic weights: each command line
of the CLI is run through ``cli.main`` from a folder holding the files it names (photo.jpg, a
driver clip, …), in the README's order (a direction saved by one command is read by the
next), with options appended that make it small (2 frames at 64 px; the last value given
wins); the Python API's snippet runs with ``Models.load`` giving the synthetic models."""
import re
import shlex
import shutil

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, write_clip

README = (ROOT / "README.md").read_text()

# what makes each command small, by its first words; appended, so they win over the README's
SMALL = {"animate": ["--frames", "2", "--output-size", "64", "--steps", "1", "--degrees",
                     "no,100%", "--loss-res", "64", "--anchor-frames", "2"],
         "direction": ["--steps", "1", "--degrees", "no,100%", "--loss-res", "64"],
         "transfer": ["--frames", "2", "--output-size", "64"],
         "interpolate": ["--frames-per-segment", "2", "--output-size", "64", "--measure-res",
                         "16"],
         "interpolate circle": ["--frames", "3", "--output-size", "64"],
         "sample": ["--size", "64"],
         "edit": ["--output-size", "64", "--span", "0.2-0.4"]}


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, re.S | re.M)


def cli_commands() -> list[list[str]]:
    """Every ``python -m micromotion …`` line of the README's bash blocks, as argv after
    ``micromotion`` (comments dropped, continued lines joined)."""
    found = []
    for block in blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words[1:3] == ["-m", "micromotion"] and words[0].endswith("python"):
                found.append(words[3:])
    return found


def small(argv: list[str]) -> list[str]:
    key = "interpolate circle" if argv[:2] == ["interpolate", "circle"] else argv[0]
    extra = SMALL[key]
    if "--timeline" in argv:  # its cues are in percent of the video: 8 frames hold each one
        at = extra.index("--frames")
        extra = extra[:at] + ["--frames", "8"] + extra[at + 2:]
    return argv + extra


@pytest.fixture(scope="module")
def folder(tmp_path_factory, astronaut, reference):
    """A checkout's neighbourhood: ``main/`` (the working folder) beside ``shared/``, with
    the files the README's commands name."""
    top = tmp_path_factory.mktemp("readme")
    (top / "shared").symlink_to(reference.parent)
    main = top / "main"
    (main / "examples").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "astronaut.jpg", main / "examples")
    a = np.asarray(astronaut)
    for name in ("photo.jpg", "me.jpg", "resting.jpg", "rest.jpg"):
        astronaut.save(main / name)
    # another pose of the face: the photo pair's motion, the walk's second photo
    for name in ("laughing.jpg", "you.jpg"):
        Image.fromarray(np.roll(a, (6, 9), axis=(0, 1))).save(main / name)
    frames = [np.roll(a, 3 * i, axis=1) for i in range(6)]
    for name in ("driver.mp4", "frown.mp4", "me.mp4"):
        write_clip(main / name, frames, fps=10)
    return main


@pytest.fixture
def synthetic_models(mm, monkeypatch):
    """``Models.load`` and ``Models.synthetic`` give the session's synthetic models (loaded
    once, not once per command)."""
    from micromotion.nets.models import Models
    monkeypatch.setattr(Models, "load", classmethod(lambda cls, *a, **k: mm))
    monkeypatch.setattr(Models, "synthetic", classmethod(lambda cls, *a, **k: mm))
    monkeypatch.setenv("MICROMOTION_SYNTHETIC", "1")
    return mm


def test_the_readme_names_its_commands():
    commands = cli_commands()
    assert len(commands) >= 15, commands
    assert {c[0] for c in commands} == {"animate", "direction", "transfer", "interpolate",
                                        "sample", "edit"}


def test_every_cli_command_runs_as_written(folder, synthetic_models, monkeypatch, capsys):
    from micromotion.doors import cli
    monkeypatch.chdir(folder)
    for argv in cli_commands():
        code = cli.main(small(argv))
        err = capsys.readouterr().err
        assert code == 0, (argv, err)
    assert (folder / "grey.pt").is_file() and (folder / "smile.pt").is_file()
    assert (folder / "smile.mp4").is_file()


def test_the_python_api_snippet_runs_as_written(folder, synthetic_models, monkeypatch):
    """The API block, its requests made small (2 frames at 64 px where they name no other):
    every call in it returns."""
    from micromotion.requests import request
    snippet = next(b for b in blocks("python") if "from micromotion.nets.models import Models" in b)
    monkeypatch.chdir(folder)
    for kind, defaults in (
            (request.Animate, dict(frames=2, output_size=64, steps=1, degrees="no,100%",
                                   loss_res=64)),
            (request.Transfer, dict(output_size=64)),
            (request.LatentVideo, dict(frames_per_segment=2, output_size=64))):
        monkeypatch.setattr(kind, "__init__", _small_init(kind, defaults))
    snippet = snippet.replace("frames=100", "frames=2").replace(
        'smile")   #', 'smile", degrees=["no", "100%"], steps=1, loss_res=64)   #')
    assert "steps=1" in snippet
    namespace: dict = {}
    exec(compile(snippet, "README.md", "exec"), namespace)
    assert (folder / "smile.mp4").is_file() and namespace["inv"].wplus.shape == (1, 18, 512)


def test_the_front_door_snippet_runs_as_written(folder, synthetic_models, monkeypatch, capsys):
    """``import micromotion as mm``: the names in ``__all__`` resolve, and the README's first
    Python block runs (requests made small) and says what it made."""
    import micromotion
    from micromotion.requests import request
    assert all(getattr(micromotion, name) is not None for name in micromotion.__all__)
    snippet = next(b for b in blocks("python") if "import micromotion as mm" in b)
    monkeypatch.chdir(folder)
    for kind, defaults in ((request.Animate, dict(frames=2, output_size=64)),
                           (request.Transfer, dict(output_size=64)),
                           (request.LatentVideo, dict(frames_per_segment=2, output_size=64)),
                           (request.Edit, dict(output_size=64))):
        monkeypatch.setattr(kind, "__init__", _small_init(kind, defaults))
    exec(compile(snippet, "README.md", "exec"), {})
    said = capsys.readouterr().out
    assert "smile.mp4 The face smiles" in said and "the motion of driver.mp4" in said
    assert "The face in me.mp4 smiles from 0.2 s to 0.6 s" in said
    assert {"smile.mp4", "moved.mp4", "walk.mp4", "me-smile.mp4"} <= {
        p.name for p in folder.iterdir()}


def _small_init(kind, defaults: dict):
    init = kind.__init__

    def small_init(self, *args, **kwargs):
        for name, value in defaults.items():
            if not (name == "frames" and "timeline" in kwargs):  # its cues name frames to 99
                kwargs.setdefault(name, value)
        init(self, *args, **kwargs)
    return small_init


def test_the_generator_and_encoder_snippets_run_as_written(folder, monkeypatch):
    """The ``stylegan2`` and encoder blocks, on synthetic files in the official formats at
    the paths they name (1024 px, 18 × 512, narrow)."""
    import torch

    import stylegan2
    from micromotion.nets.synthetic import synthetic_encoder_checkpoint
    shape = dict(size=1024, style_dim=512, n_mlp=8, max_channels=32)
    weights = folder / "weights"
    stylegan2.write_synthetic_checkpoint(weights / "stylegan2-ffhq-config-f.pt", **shape)
    torch.save(synthetic_encoder_checkpoint(**shape), weights / "restyle_psp_ffhq_encode.pt")
    monkeypatch.chdir(folder)
    snippets = [b for b in blocks("python") if "stylegan2.load_generator(" in b]
    assert len(snippets) == 2
    for snippet in snippets:
        namespace: dict = {}
        exec(compile(snippet, "README.md", "exec"), namespace)
        assert namespace["G"].n_latent == 18
    assert namespace["w"].shape == (1, 18, 512)
