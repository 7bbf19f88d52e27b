"""Motion sources and a transfer's drivers are registries (micromotion/motions,
micromotion/motions/drivers): a new source or driver is one module, its fields in the request
table and one registry line, and every door shows it — walked here with a toy source, "a second
photo of the person mid-expression", and a toy driver, "seeds whose faces drive it", each added
in a fresh interpreter before the doors import the registry."""
import subprocess
import sys
import textwrap

from conftest import ROOT

TOY = textwrap.dedent('''
    import sys
    from dataclasses import dataclass
    from pathlib import Path

    import torch

    from micromotion import fields, motions
    from micromotion.latents.direction import Direction
    from micromotion.fields import Field
    from micromotion.motions.base import Motion
    from micromotion.motions.source import Source

    # 1. its field, in the request table
    toy = Field("second_photo", Path, None, "Or a second photo of the person mid-expression.",
                "Second photo", role="the second photo", cli=("animate",),
                page={"animate": "photo"}, accept="image")
    fields._FIELDS.insert([f.name for f in fields._FIELDS].index("timeline") + 1, toy)
    fields.FIELDS[toy.name] = toy


    # 2. its module: the motion, its provenance, its words
    @dataclass
    class FromSecondPhoto:
        file: str


    @dataclass
    class SecondPhoto(Motion):
        photo: str

        def make(self, models, run):
            return models.checked(Direction(torch.full(models.shape, 0.1),
                                            FromSecondPhoto(Path(self.photo).name))), None


    SOURCE = Source("photo", "A second photo", ("second_photo",),
                    motions=lambda req: [SecondPhoto(req.second_photo)],
                    made=(FromSecondPhoto,), cli="--second-photo",
                    words=lambda made, say: (f"moves as in {made.file}", f"the photo {made.file}"))
    # 3. one registry line
    motions.SOURCES += (SOURCE,)

    # every door
    from micromotion.doors import cli, cog_inputs, serving, wording
    from micromotion.requests import checks
    from micromotion.errors import OptionError
    from micromotion.nets.models import Models
    from micromotion.requests.request import Animate, file_name

    photo = sys.argv[1]
    req = Animate(photo, second_photo=photo, frames=2, output_size=64, paste_back="off")
    assert file_name(req) == "astronaut-photo.mp4", file_name(req)
    args = cli.build_parser().parse_args(["animate", photo, "--second-photo", photo])
    assert cli._request("animate", args, "image").second_photo == photo
    assert "second_photo" in cog_inputs.COG_INPUTS
    sys.path.insert(0, "tools")
    import write_predict
    assert "second_photo: Optional[Path] = Input(" in write_predict.source(
        Path("predict.py").read_text())
    try:
        checks.check_request(Animate(photo, text_template="a {degree} smile", second_photo=photo))
        raise AssertionError("two sources were taken")
    except OptionError as exc:
        assert "second_photo" in str(exc) and "text_template" in str(exc), exc
    models = Models.synthetic()
    result = serving.serve(req, models, Path(sys.argv[2]) / file_name(req))
    assert result.video.name == "astronaut-photo.mp4" and result.video.stat().st_size > 0
    assert wording.plainly(result).startswith("The face moves as in astronaut.jpg;"), \\
        wording.plainly(result)
    assert wording.describe(result) == "the photo astronaut.jpg"

    import app
    page = app.Page(models)
    demo = app.build(page)
    radio = next(b for b in demo.blocks.values() if getattr(b, "label", "") == "Motion from")
    assert ("A second photo", "photo") in [tuple(c) for c in radio.choices], radio.choices
    assert any(getattr(b, "label", "") == "Second photo" for b in demo.blocks.values())
    print("seen in every door")
''')


def test_a_new_source_is_one_module_its_fields_and_one_registry_line(astronaut, tmp_path):
    _walk(TOY, astronaut, tmp_path)


TOY_DRIVER = textwrap.dedent('''
    import sys
    from pathlib import Path

    from micromotion import fields
    from micromotion.fields import Field
    from micromotion.latents.interpolate import seed_latents
    from micromotion.motions import drivers
    from micromotion.motions.drivers.base import Driven, Driver

    # 1. its field, in the request table
    toy = Field("driving_seeds", str, "", "Or seeds whose faces drive it, one a frame.",
                "Driving seeds", cog=False, cli=("transfer",), chars=100)
    fields._FIELDS.insert([f.name for f in fields._FIELDS].index("driving_image") + 1, toy)
    fields.FIELDS[toy.name] = toy


    # 2. its module: how it is made, its frames
    def seeds(req):
        return [int(s) for s in req.driving_seeds.split(",")]


    def make(models, req, ready, run):
        return Driven(seed_latents(models.generator, seeds(req)), 0, req.fps or 30,
                      f"the faces of seeds {req.driving_seeds}")


    DRIVER = Driver("seeds", "seeds (driving_seeds)", "seeds whose faces drive it",
                    ("driving_seeds",), frames=lambda req: len(seeds(req)),
                    ready=lambda models, req, run: None, make=make)
    # 3. one registry line
    drivers.DRIVERS += (DRIVER,)

    # every door that takes a transfer's driver
    from micromotion.doors import cli, serving, wording
    from micromotion.errors import OptionError
    from micromotion.nets.models import Models
    from micromotion.requests import checks
    from micromotion.requests.request import Transfer, file_name

    photo = sys.argv[1]
    req = Transfer(photo, driving_seeds="1,2,3", output_size=64, paste_back="off")
    args = cli.build_parser().parse_args(["transfer", photo, "d.mp4", "--driving-seeds", "1,2"])
    both = cli._request("transfer", args, "image", "driving_video")
    assert both.driving_seeds == "1,2"
    try:
        checks.check_request(both)
        raise AssertionError("two drivers were taken")
    except OptionError as exc:
        assert "seeds (driving_seeds), not clip and seeds" in str(exc), exc
    result = serving.serve(req, Models.synthetic(), Path(sys.argv[2]) / file_name(req))
    assert result.how.frames == 3 and result.video.stat().st_size > 0
    assert "the faces of seeds 1,2,3" in wording.plainly(result), wording.plainly(result)
    print("seen in every door")
''')


def test_a_new_driver_is_one_module_its_fields_and_one_registry_line(astronaut, tmp_path):
    _walk(TOY_DRIVER, astronaut, tmp_path)


def _walk(script: str, astronaut, tmp_path) -> None:
    """Run ``script`` in a fresh interpreter on the astronaut photo; it ends by printing "seen
    in every door"."""
    photo = tmp_path / "astronaut.jpg"
    astronaut.save(photo)
    r = subprocess.run([sys.executable, "-c", script, str(photo), str(tmp_path)], cwd=ROOT,
                       capture_output=True, text=True, timeout=600,
                       env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                            "MICROMOTION_WORK_BUDGET": "0", "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0 and "seen in every door" in r.stdout, r.stderr[-3000:]
