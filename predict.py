"""Cog predictor: a thin door on ``micromotion`` (written by tools/write_predict.py from the
request table in micromotion/fields.py; edit the table, then run the script).

The Replicate inputs of the original (``image``, ``micromotion``, ``scale``) keep their names,
meaning and defaults, and the output is an mp4. ``BasePredictor.predict`` and cog.yaml's
``predict:`` are served by Cog 0.16 (FastAPI) and by Cog 0.20 and later (coglet), where they
are the deprecated names of ``BaseRunner.run`` and ``run:``. ``MICROMOTION_SYNTHETIC=1`` serves
synthetic weights (abstract patterns, not faces); ``MICROMOTION_WEIGHTS`` names the weights
folder. A file input is only a file Cog received with the request (an upload, a URL or a
data: URI), never a path on the server.
"""
import sys
from typing import Optional

from cog import BasePredictor, Input, Path

from micromotion.doors import cog_inputs, serving, wording
from micromotion.requests.request import file_name
from micromotion.errors import MicromotionError


class Predictor(BasePredictor):
    def setup(self) -> None:
        """Weights fetched (first run) and verified, CUDA ops built, models loaded and warm."""
        self.models = serving.load_models(progress=_log_download)
        self.outputs = serving.Outputs()
        self.outputs.remove_on_sigterm()  # Cog 0.16 stops its worker with a SIGTERM

    def predict(
        self,
        image: Optional[Path] = Input(
            description="A photo with a face (JPEG, PNG, WebP, ...); for the latent videos optional: the walk's first keyframe, the held face or the circle's centre.",
            default=None,
        ),
        micromotion: str = Input(
            description="The motion: one of the published directions.",
            choices=["smile", "angry", "aging", "eyesClose", "headsTurn"],
            default="eyesClose",
        ),
        scale: int = Input(
            description="How far the face moves: 5 is the motion's usual amount (the published one; with a driving video, the driver's own), 10 twice it.",
            ge=1,
            le=10,
            default=5,
        ),
        text_template: str = Input(
            description="Or describe your own motion with {degree}, e.g. 'a person with {degree} smile' (anchors from CLIP; takes minutes).",
            default="",
        ),
        anchor_seed: int = Input(
            description="The generated face the text anchors start from.",
            ge=0,
            le=4294967295,
            default=0,
        ),
        anchor_video: Optional[Path] = Input(
            description="Or show the motion: a short clip (at most 60 s) of one face doing it.",
            default=None,
        ),
        direction_file: Optional[Path] = Input(
            description="Or a direction file made with python -m micromotion direction.",
            default=None,
        ),
        frames: int = Input(
            description="Number of frames of the video (a circle's too).",
            ge=2,
            le=300,
            default=100,
        ),
        fps: int = Input(
            description="Frames per second of the video (a motion transfer reads its driving clip at this rate, keeping its timing).",
            ge=1,
            le=60,
            default=30,
        ),
        curve: str = Input(
            description="How the motion unfolds: linear (the original), ease (in-out) or loop (there and back).",
            choices=["linear", "ease", "loop"],
            default="linear",
        ),
        output_size: int = Input(
            description="Size in pixels the face is rendered at; when pasted back the video has the photo's size instead.",
            choices=[1024, 512, 256, 128, 64],
            default=1024,
        ),
        side_by_side: bool = Input(
            description="Put the photo beside the motion.",
            default=False,
        ),
        timeline: str = Input(
            description="Or compose motions: cues MOTION:SCALE:START-END:CURVE, START and END in percent of the video (f0-f12: frames), e.g. 'smile:5:0-40:ease; headsTurn:3:40-100' (MOTION a preset, or text:... with {degree}).",
            default="",
        ),
        driving_video: Optional[Path] = Input(
            description="Motion transfer: a clip of one face; the photo's face performs its motion at its timing.",
            default=None,
        ),
        video: Optional[Path] = Input(
            description="Or edit your own video: the face in it makes the motion over the seconds in span, its sound kept (image is then not needed).",
            default=None,
        ),
        span: str = Input(
            description="With video: when the face moves, START-END in seconds, e.g. 2-5 (empty: the whole video); it eases in and out over about half a second.",
            default="",
        ),
        paste_back: str = Input(
            description="Put the moving face back into the photo (auto: when the photo is larger than the face's crop).",
            choices=["auto", "on", "off"],
            default="auto",
        ),
        faces: str = Input(
            description="Which faces move in a photo of several people: one (the most confident), all, or their numbers from the left, e.g. 1,3.",
            default="one",
        ),
        dtype: str = Input(
            description="Precision: auto (the fastest path verified on this machine at start-up), fp32, or bf16 (about 1 level of 255 off; refused where this machine cannot run it).",
            choices=["auto", "fp32", "bf16"],
            default="auto",
        ),
        fidelity: str = Input(
            description="fast: the encoder's inversion, at times a look-alike. faithful: the generator is tuned to the photo first (pivotal tuning), so the video keeps the person; minutes on a CPU, seconds on a GPU.",
            choices=["fast", "faithful"],
            default="fast",
        ),
        mode: str = Input(
            description="animate: the photo's face does the micromotion. Latent videos: walk (through seeds), coarse or fine (style mixing), circle (an equal-step loop).",
            choices=["animate", "walk", "coarse", "fine", "circle"],
            default="animate",
        ),
        seeds: str = Input(
            description="Latent videos: the walk's keyframe seeds, e.g. 1-4 or 3,8,21 (a circle's plane: the first two).",
            default="1-4",
        ),
        interpolation: str = Input(
            description="Walks: cubic (through W+) or slerp (in z).",
            choices=["cubic", "slerp"],
            default="cubic",
        ),
        frames_per_segment: int = Input(
            description="Walks: frames from one keyframe to the next.",
            ge=1,
            le=300,
            default=30,
        ),
        loop: bool = Input(
            description="Walks: back to the first keyframe.",
            default=False,
        ),
        source_seed: int = Input(
            description="Mixing and circle without a photo: the face held or circled.",
            ge=0,
            le=4294967295,
            default=0,
        ),
        radius: float = Input(
            description="Circle: 1 reaches about as far as the seeds' faces.",
            ge=0,
            le=10,
            default=1.0,
        ),
        truncation: float = Input(
            description="Latent videos: truncation of the seeds' faces.",
            ge=0,
            le=1,
            default=0.7,
        ),
    ) -> Path:
        sys.__dict__.pop("tracebacklimit", None)  # a bug's traceback shows in full
        inputs = dict(
            image=image, micromotion=micromotion, scale=scale, text_template=text_template,
            anchor_seed=anchor_seed, anchor_video=anchor_video, direction_file=direction_file,
            frames=frames, fps=fps, curve=curve, output_size=output_size,
            side_by_side=side_by_side, timeline=timeline, driving_video=driving_video, video=video,
            span=span, paste_back=paste_back, faces=faces, dtype=dtype, fidelity=fidelity,
            mode=mode, seeds=seeds, interpolation=interpolation,
            frames_per_segment=frames_per_segment, loop=loop, source_seed=source_seed,
            radius=radius, truncation=truncation)
        try:
            req = cog_inputs.from_cog(inputs)
            received = [v for v in inputs.values() if isinstance(v, Path)]
            with self.outputs.request(file_name(req), received) as out:
                result = serving.serve(req, self.models, out, progress=_log_progress)
        except MicromotionError:
            # a user's mistake: both Cogs print the failure's traceback, with this server's
            # paths; without frames it is the one line "ErrorClass: sentence"
            sys.tracebacklimit = 0
            raise
        print(wording.said(result), flush=True)
        return Path(result.video)


def _log_progress(stage: str, done: int, total: int) -> None:
    print(f"{stage}: {done}/{total}", flush=True)  # Cog streams stdout into the logs


def _log_download(name: str, done: int, total: int | None) -> None:
    if done == total or done % (64 << 20) < (1 << 20):
        print(f"fetching {name}: {done >> 20} MB" + (f" of {total >> 20} MB" if total else ""),
              flush=True)
