"""Cog predictor (``BaseRunner.run``, the current form of ``predict``): a thin door on ``micromotion`` (the logic lives in ``micromotion.serving``).

The Replicate inputs of the original (``image``, ``micromotion``, ``scale``) keep their names,
meaning and defaults, and the output is an mp4. The other inputs are optional and expose the
engine; ``mode`` picks an interpolation video instead of a micromotion (then ``image`` may be
left out). ``MICROMOTION_SYNTHETIC=1`` serves synthetic weights (abstract patterns, not faces);
``MICROMOTION_WEIGHTS`` names the weights folder.
"""
from typing import Optional

from cog import BaseRunner, Input, Path

from micromotion import serving
from micromotion.direction import PRESETS
from micromotion.interpolate import MAX_FRAMES_PER_SEGMENT, METHODS
from micromotion.render import CURVES


class Predictor(BaseRunner):
    def setup(self) -> None:
        """Weights fetched (first run) and verified, CUDA ops built, models loaded and warm."""
        self.mm = serving.load_models(progress=_log_download)
        self.outputs = serving.Outputs()

    def run(
        self,
        image: Optional[Path] = Input(
            description="A photo with a face (JPEG, PNG, WebP, …); for the latent-video modes "
                        "optional: the walk's first keyframe, the held face or the circle's "
                        "centre", default=None),
        micromotion: str = Input(description="The motion: one of the published directions",
                                 choices=list(PRESETS), default="eyesClose"),
        scale: int = Input(description="Strength of the motion", ge=1, le=10, default=5),
        text_template: str = Input(
            description="Describe your own motion instead, with {degree}: e.g. 'a person with "
                        "{degree} smile' (anchors from CLIP; takes minutes)", default=""),
        anchor_seed: int = Input(description="The generated face the text anchors start from",
                                 ge=0, default=0),
        anchor_video: Optional[Path] = Input(
            description="Or show the motion: a short clip (≤ 60 s) of one face doing it",
            default=None),
        direction_file: Optional[Path] = Input(
            description="Or a direction file made with `python -m micromotion direction`",
            default=None),
        frames: int = Input(description="Number of frames", ge=2, le=serving.MAX_FRAMES,
                            default=100),
        fps: int = Input(description="Frames per second", ge=1, le=serving.MAX_FPS, default=30),
        curve: str = Input(description="linear (the original), ease (in-out) or loop (there "
                                       "and back)", choices=list(CURVES), default="linear"),
        output_size: int = Input(description="Video size in pixels",
                                 choices=list(serving.OUTPUT_SIZES), default=1024),
        side_by_side: bool = Input(description="The aligned photo beside the motion",
                                   default=False),
        timeline: str = Input(
            description="Compose motions instead: cues MOTION:STRENGTH:START-END:CURVE, e.g. "
                        "'smile:5:0-40:ease; headsTurn:3:40-99' (MOTION a preset, or text:... "
                        "with {degree})", default=""),
        driving_video: Optional[Path] = Input(
            description="Motion transfer: a clip of one face; the photo's face performs its "
                        "motion at its timing (scale 5 = the driver's own amplitude; fps "
                        "resamples it)", default=None),
        paste_back: str = Input(
            description="Put the moving face back into the photo (auto: when the photo is "
                        "larger than the face's crop)", choices=["auto", "on", "off"],
            default="auto"),
        mode: str = Input(
            description="animate: the photo's face does the micromotion. Latent videos: walk "
                        "(through seeds), coarse / fine (style mixing: pose and expression, or "
                        "hair and colour, from a walk), circle (an equal-step loop)",
            choices=list(serving.MODES), default="animate"),
        seeds: str = Input(description="Latent videos: the walk's keyframe seeds, e.g. 1-4 or "
                                       "3,8,21 (a circle's plane: the first two)",
                           default="1-4"),
        interpolation: str = Input(description="Walks: cubic (through W+) or slerp (in z)",
                                   choices=list(METHODS), default="cubic"),
        frames_per_segment: int = Input(description="Walks: frames from keyframe to keyframe",
                                        ge=1, le=MAX_FRAMES_PER_SEGMENT, default=30),
        loop: bool = Input(description="Walks: back to the first keyframe", default=False),
        source_seed: int = Input(description="Mixing and circle without a photo: the face "
                                             "held or circled", ge=0, default=0),
        radius: float = Input(description="Circle: 1 reaches about as far as the seeds' faces",
                              ge=0, le=10, default=1.0),
        truncation: float = Input(description="Latent videos: truncation of the seeds' faces",
                                  ge=0, le=1, default=0.7),
    ) -> Path:
        if mode != "animate":
            return Path(serving.interpolate_request(
                self.mm, self.outputs, mode, image and str(image), seeds, interpolation,
                frames_per_segment, loop, source_seed, radius, frames, truncation, fps,
                output_size, progress=_log_progress).video)
        if driving_video is not None:
            return Path(serving.transfer_request(
                self.mm, self.outputs, image and str(image), str(driving_video), scale / 5,
                fps=fps, output_size=output_size, side_by_side=side_by_side,
                paste_back=paste_back, progress=_log_progress).video)
        result = serving.animate_request(
            self.mm, self.outputs, image and str(image), micromotion, scale, text_template,
            anchor_seed, anchor_video and str(anchor_video), direction_file and str(direction_file),
            frames, fps, curve, output_size, side_by_side, paste_back, timeline,
            progress=_log_progress)
        return Path(result.video)


def _log_progress(stage: str, done: int, total: int) -> None:
    print(f"{stage}: {done}/{total}", flush=True)  # Cog streams stdout into the logs


def _log_download(name: str, done: int, total: int | None) -> None:
    if done == total or done % (64 << 20) < (1 << 20):
        print(f"fetching {name}: {done >> 20} MB" + (f" of {total >> 20} MB" if total else ""),
              flush=True)
