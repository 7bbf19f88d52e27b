"""The three doors agree with the one request table (micromotion/fields.py): Cog's predict.py
read statically, as Cog's own parser reads it; the Gradio page's widgets; the CLI's options.
And the table's checks: one error per cause, naming the field, the value and what is allowed."""
import ast
import inspect
import io
import json
import os
import sys
import tempfile
import time
import tokenize
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import ROOT
from micromotion.errors import OptionError, ServerPathError
from micromotion.fields import FIELDS, USES
from micromotion.doors.cog_inputs import COG_INPUTS, from_cog
from micromotion.requests.checks import check_animate, check_latent, check_transfer
from micromotion.requests.request import Animate, LatentVideo, Transfer

PREDICT = ROOT / "predict.py"


def predict_inputs() -> list[tuple[str, str, dict]]:
    """(name, annotation, Input keywords as AST nodes) of ``Predictor.predict``, in order."""
    tree = ast.parse(PREDICT.read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Predictor")
    fn = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "predict")
    args = fn.args.args[1:]
    defaults = fn.args.defaults[-len(args):]
    out = []
    for arg, default in zip(args, defaults):
        assert isinstance(default, ast.Call) and default.func.id == "Input", arg.arg
        out.append((arg.arg, ast.unparse(arg.annotation), {k.arg: k.value for k in default.keywords}))
    return out


def module_lists() -> dict[str, list]:
    """Module-level names bound to a list or tuple literal (what Cog accepts for choices)."""
    tree = ast.parse(PREDICT.read_text())
    return {t.id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
            and isinstance(n.value, (ast.List, ast.Tuple)) for t in n.targets
            if isinstance(t, ast.Name)}


def test_predict_py_is_what_the_table_writes():
    sys.path.insert(0, str(ROOT / "tools"))
    import write_predict
    assert PREDICT.read_text() == write_predict.source(PREDICT.read_text()), \
        "predict.py is out of date: run python tools/write_predict.py"
    written = json.loads(write_predict.SCHEMA.read_text())
    assert written == write_predict.schema(), "run python tools/write_predict.py"


def test_predict_passes_every_input_by_name():
    """predict() hands the request table exactly its parameters, each under its own name."""
    tree = ast.parse(PREDICT.read_text())
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "predict")
    call = next(n.value for n in ast.walk(fn) if isinstance(n, ast.Assign)
                and n.targets[0].id == "inputs")
    assert [(k.arg, k.value.id) for k in call.keywords] == [(n, n) for n in COG_INPUTS]


def test_predict_inputs_are_literal_for_cogs_static_parser():
    """Cog ≥ 0.19 reads the schema from source: default/ge/le inline literals, choices a list
    literal (or a module-level name bound to one), description one plain string literal."""
    lists = module_lists()
    strings = {t.start: t.string for t in tokenize.generate_tokens(io.StringIO(
        PREDICT.read_text()).readline) if t.type == tokenize.STRING}
    for name, _, kw in predict_inputs():
        for key in ("default", "ge", "le"):
            if key in kw:
                assert isinstance(kw[key], ast.Constant), f"{name}.{key} is not a literal"
        if "choices" in kw:
            c = kw["choices"]
            assert isinstance(c, ast.List) and all(isinstance(e, ast.Constant) for e in c.elts) \
                or isinstance(c, ast.Name) and c.id in lists, f"{name}.choices is not a list literal"
        d = kw["description"]
        assert isinstance(d, ast.Constant) and isinstance(d.value, str), name
        token = strings[(d.lineno, d.col_offset)]  # one token: no implicit concatenation
        assert token[0] in "\"'" and "\\" not in token and ast.literal_eval(token) == d.value, name


def test_predict_inputs_match_the_table():
    inputs = predict_inputs()
    assert [n for n, _, _ in inputs] == list(COG_INPUTS)
    assert COG_INPUTS[:3] == ("image", "micromotion", "scale")  # Replicate's, first
    for name, annotation, kw in inputs:
        f = FIELDS[name]
        value = {k: ast.literal_eval(v) for k, v in kw.items()}
        assert annotation == ("Optional[Path]" if f.type is Path else f.type.__name__), name
        assert value["description"] == f.help and value["default"] == f.default, name
        assert value.get("choices") == (list(f.choices) if f.choices else None), name
        assert (value.get("ge"), value.get("le")) == (f.lo, f.hi), name


def test_replicate_inputs_keep_their_meaning():
    assert FIELDS["micromotion"].choices == ("smile", "angry", "aging", "eyesClose", "headsTurn")
    assert FIELDS["micromotion"].default == "eyesClose"
    assert (FIELDS["scale"].lo, FIELDS["scale"].hi, FIELDS["scale"].default) == (1, 10, 5)
    assert FIELDS["scale"].type is int and FIELDS["image"].type is Path


def page_widgets():
    """{endpoint: {field name: component}} of the page, built as app.py builds it."""
    gr = pytest.importorskip("gradio")
    import app

    demo = app.build(app.Page(SimpleNamespace(synthetic=True)))  # the layout needs no models
    out = {}
    for fn in demo.fns.values():
        if fn.api_name in ("generate", "transfer", "latent_video", "edit"):
            names = [p for p in inspect.signature(fn.fn).parameters if p != "progress"]
            out[fn.api_name] = dict(zip(names, fn.inputs))
    assert isinstance(demo, gr.Blocks)
    return out


def test_page_widgets_come_from_the_table():
    endpoints = page_widgets()
    assert set(endpoints) == {"generate", "transfer", "latent_video", "edit"}
    seen = set()
    for api, widgets in endpoints.items():
        for name, w in widgets.items():
            if name not in FIELDS:
                continue  # the page's own controls (source, keep_fps)
            f, seen = FIELDS[name], seen | {name}
            if f.type is Path or name == "timeline":  # uploads, and the cues' table
                continue
            assert w.label == f.label, (api, name)  # its help may be shortened on the page
            if f.choices is not None:
                choices = [c[1] if isinstance(c, tuple) else c for c in w.choices]
                assert set(choices) <= set(f.choices), (api, name)
            elif f.lo is not None:
                assert (w.minimum, w.maximum) == (f.lo, f.hi), (api, name)
            if name not in ("text_template", "mode"):  # the page shows an example template
                assert w.value == f.on_page, (api, name)
    assert {n for n, f in FIELDS.items() if "page" in f.doors} <= seen
    for api, use in {"generate": "animate", "transfer": "transfer", "latent_video": "latent",
                     "edit": "edit"}.items():
        shown = {n for n in endpoints[api] if n in FIELDS}
        assert shown == {n for n, f in FIELDS.items() if use in f.page}, api  # the table's, all


def test_the_page_says_how_long_faithful_takes_before_it_is_picked():
    pytest.importorskip("gradio")
    import app
    page = app.Page(SimpleNamespace(synthetic=True), tuning_seconds=125.0)
    info = page.fidelity("animate")["info"]
    assert info.startswith(FIELDS["fidelity"].help_for("animate"))
    assert info.endswith("Here faithful adds about 2 min 5 s.")
    assert page.fidelity("latent")["info"].startswith(FIELDS["fidelity"].help_for("latent"))


def test_cli_options_come_from_the_table():
    from micromotion.doors.cli import build_parser
    parser = build_parser()
    subs = next(a for a in parser._actions if a.dest == "command").choices
    seen = set()
    uses = {"animate": "animate", "transfer": "transfer", "interpolate": "latent",
            "direction": "direction", "edit": "edit"}
    for command, use in uses.items():
        for action in subs[command]._actions:
            f = FIELDS.get(action.dest)
            if f is None:
                continue
            seen.add(f.name)
            if not action.option_strings:  # the photo, the driving clip, the kind of video
                continue
            assert action.option_strings == ["--" + f.name.replace("_", "-")]
            if f.type is bool:
                assert action.default is False
                continue
            text = action.help.replace("%%", "%")
            assert f.help_for(use) in text and f.allowed() in text, (command, f.name)
            default = None if (command, f.name) == ("transfer", "fps") else f.default
            assert action.default == (() if f.name == "photos" else default), (command, f.name)
        options = {a.dest for a in subs[command]._actions if a.option_strings} & set(FIELDS)
        assert options == {n for n, f in FIELDS.items() if use in f.cli}, command
    assert {n for n, f in FIELDS.items() if "cli" in f.doors} <= seen


@pytest.mark.parametrize("name,value,message", [
    ("scale", 11, "scale must be an integer from 1 to 10, got 11"),
    ("scale", 2.5, "scale must be an integer from 1 to 10, got 2.5"),
    ("scale", True, "scale must be an integer from 1 to 10, got True"),
    ("frames", 301, "frames must be an integer from 2 to 300, got 301"),
    ("fps", 0, "fps must be an integer from 1 to 60 fps, got 0"),
    ("output_size", 300, "output_size must be one of 1024, 512, 256, 128, 64, got 300"),
    ("curve", "zigzag", "curve must be one of linear, ease, loop, got 'zigzag'"),
    ("truncation", float("nan"), "truncation must be a number from 0 to 1, got nan"),
    ("paste_back", "maybe", "paste_back must be one of auto, on, off, got 'maybe'"),
])
def test_field_checks_name_field_value_and_what_is_allowed(name, value, message):
    with pytest.raises(OptionError) as e:
        FIELDS[name].check(value)
    assert str(e.value) == message


def test_a_long_wrong_value_is_quoted_short():
    with pytest.raises(OptionError) as exc:
        FIELDS["fidelity"].check("faithful" * 10_000)
    said = str(exc.value)
    assert said.startswith("fidelity must be one of fast, faithful, got 'faithfulfaith")
    assert said.endswith("… (80,002 characters)") and len(said) < 160


def test_field_checks_take_what_widgets_send():
    assert FIELDS["scale"].check(5.0) == 5 and isinstance(FIELDS["scale"].check(5.0), int)
    assert FIELDS["radius"].check(2) == 2.0
    assert FIELDS["fps"].check(None, optional=True) is None


def _cog_upload(suffix: str) -> str:
    """A file where Cog puts what a request sent: tmp…<name> in the temp folder."""
    f = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)
    f.close()
    return f.name


def test_from_cog_picks_the_request_and_names_files_by_role():
    photo, clip = _cog_upload("file.jpg"), _cog_upload("file.mp4")
    req = from_cog({"image": photo})
    assert isinstance(req, Animate) and req.names == {"image": "the photo"}
    assert (req.micromotion, req.scale, req.frames) == ("eyesClose", 5, 100)
    assert not req.server_files
    req = from_cog({"image": photo, "driving_video": clip, "scale": 10})
    assert isinstance(req, Transfer) and req.scale == 10  # 5 is the driver's own amplitude
    assert req.names["driving_video"] == "the driving clip"
    req = from_cog({"image": photo, "driving_video": clip, "frames": 10, "micromotion": "smile"})
    assert req.notes == ["micromotion was not used: a motion transfer does not read it"]
    assert req.frames == 10  # its check notes that a clip gives its own (below)
    assert from_cog({"mode": "walk", "scale": 8, "radius": 2.0}).notes == [
        "scale and radius were not used: a latent video (walk) does not read them"]
    assert from_cog({"image": photo, "scale": 8}).notes == []
    clip_frames = check_transfer(Transfer(str(ROOT / "examples" / "astronaut.jpg"),
                                          str(ROOT / "examples" / "drive.mp4"), frames=10))
    assert clip_frames.notes == ["frames was not used: a driving clip gives its own"]
    timed = check_animate(from_cog({"image": photo, "timeline": "smile:3", "scale": 8}),
                          need_image=False)
    assert timed.notes == ["scale 8 was not used: with a timeline each cue has its own"]
    req = from_cog({"mode": "circle", "seeds": "1,2", "frames": 12})
    assert isinstance(req, LatentVideo) and (req.mode, req.frames) == ("circle", 12)
    with pytest.raises(OptionError, match="mode must be one of animate, walk"):
        from_cog({"mode": "spiral"})
    os.unlink(photo), os.unlink(clip)


def test_from_cog_reads_no_file_of_the_server(tmp_path):
    """A file input is only a file Cog received: any other path, existing or not, a folder,
    a link to a received file or a way out of the temp folder, gets one sentence that names
    neither the path nor whether it exists."""
    upload = _cog_upload("file.jpg")
    link = Path(tempfile.gettempdir()) / f"tmplink{os.getpid()}.jpg"
    link.symlink_to("/etc/hostname")
    others = ["/etc/hostname", "/etc/no-such-file", str(tmp_path), str(link),
              f"{tempfile.gettempdir()}/tmp/../../etc/hostname", "hostname", "data:,x",
              str(ROOT / "examples" / "astronaut.jpg")]
    try:
        messages = set()
        for name in ("image", "anchor_video", "direction_file", "driving_video"):
            for path in others:
                with pytest.raises(ServerPathError) as err:
                    from_cog({"image": upload, name: path})
                messages.add(str(err.value))
                assert path not in str(err.value) and "exist" not in str(err.value)
        assert len(messages) == 4  # one sentence per input, whatever the path
        with pytest.raises(ServerPathError, match="files are not read from the server"):
            check_animate(from_cog({"image": upload, "timeline": "smile:5; video:/etc/x.mp4"}),
                          need_image=False)
    finally:
        link.unlink(), os.unlink(upload)


@pytest.mark.parametrize("fields, words", [
    ({"mode": "walk", "seeds": "0-9999999"}, "give more than 300 numbers"),
    ({"mode": "walk", "seeds": "1," * 1500}, "characters long; it may hold at most 2,000"),
    ({"timeline": "; ".join(["smile:1"] * 17)}, "timeline has 17 cues; it may have at most 16"),
    ({"timeline": "; ".join(["smile:10:0-50"] * 5)}, "add up to scale 50"),
    ({"timeline": "smile;" * 1000}, "characters long"),
    ({"text_template": "a person with {degree} smile" * 40}, "at most 1,000"),
])
def test_lists_and_texts_are_bounded_before_they_are_parsed(fields, words):
    started = time.perf_counter()
    with pytest.raises(OptionError, match=words):
        req = from_cog(fields)
        (check_latent if isinstance(req, LatentVideo) else
         lambda r: check_animate(r, need_image=False))(req)
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize("fields, words", [
    ({"seeds": 12345}, "seeds must look like '0-3,7' or be a list of whole numbers, got 12345"),
    ({"seeds": [1, True]}, "got [1, True]"),
    ({"seeds": {"path": "/etc/passwd"}}, "got {'path': '/etc/passwd'}"),
    ({"seeds": list(range(10**6))}, "seeds give 1000000 numbers; give at most 300"),
    ({"mode": {"x": 1}}, "mode must be one of walk, coarse, fine, circle for a latent video, "
                         "got {'x': 1}"),
    ({"mode": "walk" * 10_000}, "(40,002 characters)"),
])
def test_a_value_of_the_wrong_kind_is_said_not_raised(fields, words):
    """A client of its own (the page's or Cog's API, Python) sends numbers, objects or huge
    text where the table has text or a list: one sentence, never another library's error;
    the output's file name, made before the check, is made of it all the same."""
    from micromotion.requests.request import file_name
    req = LatentVideo(**fields)
    assert file_name(req).endswith(".mp4")
    with pytest.raises(OptionError) as e:
        check_latent(req)
    assert words in str(e.value) and len(str(e.value)) < 200


def test_help_is_worded_for_where_it_is_shown():
    """A field's help in a CLI command or page tab speaks of that use only; Cog's one form
    keeps the sentence that covers every use."""
    from micromotion.doors.cli import build_parser
    subs = next(a for a in build_parser()._actions if a.dest == "command").choices
    helps = {c: subs[c].format_help() for c in ("animate", "transfer", "interpolate")}
    assert "latent videos" not in helps["animate"] and "circle's too" not in helps["animate"]
    assert "circle" not in helps["transfer"].split("--frames", 1)[1].split("--", 1)[0]
    assert "motion transfer" not in helps["interpolate"]
    assert "the encoder that inverts photos into W+" in helps["animate"]
    for f in FIELDS.values():
        assert set(f.words) <= set(USES), f.name


def test_a_video_is_named_after_its_photo_and_motion():
    from micromotion.requests.request import file_name
    assert file_name(Animate("/in/astronaut.jpg", "smile")) == "astronaut-smile.mp4"
    assert file_name(Animate("/in/my photo (1).jpg", text_template="a {degree} smile")) == \
        "my-photo-1-text.mp4"
    assert file_name(Animate("/tmp/tmpab12file.jpg", names={"image": "the photo"})) == \
        "eyesClose.mp4"  # Cog knows the photo by its role only
    assert file_name(Transfer("/in/me.png", "/in/d.mp4")) == "me-transfer.mp4"
    assert file_name(LatentVideo("circle")) == "circle.mp4"
    assert file_name(Animate("me.jpg", timeline="smile:5")) == "me-timeline.mp4"


def test_a_result_is_said_in_plain_words_first(tmp_path):
    """Which part of the face moves, from where a direction's length lies in W+."""
    import torch

    from micromotion.latents.direction import Direction
    from micromotion.stages.results import Animation
    from micromotion.latents.provenance import Fit, FromText, MadeCue, Published, Timeline
    from micromotion.doors.wording import plainly
    vector = torch.zeros(18, 512)
    vector[1, :3] = 1.0
    vector[9, 0] = 0.5
    made = Animation(tmp_path / "v.mp4", None, Direction(vector, Published("h.pt", "headsTurn")),
                     None)
    assert plainly(made) == ("The face turns its head; the motion is mostly in the coarse "
                             "layers (pose and face shape).")
    fit = Fit(3, 2, [0.5] * 18, [0.1] * 18)
    cues = Timeline([MadeCue(Published("s.pt", "smile"), 2, 0, 5, "linear"),
                     MadeCue(FromText("a {degree} frown", ["no", "all"], 0, 1, 64, {}, fit),
                             1, 5, 9, "ease")])
    made = Animation(tmp_path / "v.mp4", None, Direction(vector * 0, cues), None)
    assert plainly(made) == ("The face smiles, then moves as the words say ('a {degree} "
                             "frown'); the direction is zero: nothing moves.")
