"""Errors a user can cause, one type per cause, each with a sentence they can act on. The doors
translate them (Cog error, gr.Error, CLI exit code 2); anything else is a bug."""


class MicromotionError(ValueError):
    """Base of every user-facing micromotion error."""


class NotAnImageError(MicromotionError):
    """The input could not be decoded as an image (wrong format, or truncated)."""


class ImageTooLargeError(MicromotionError):
    """More pixels than we decode (also how decompression bombs are refused)."""


class ImageTooSmallError(MicromotionError):
    """Too few pixels to hold a face."""


class NoFaceError(MicromotionError):
    """No face was found."""


class EncoderCheckpointError(MicromotionError):
    """An encoder checkpoint could not be used."""


class DirectionFileError(MicromotionError):
    """A direction file could not be used (missing, wrong shape, or code inside)."""


class UnknownPresetError(MicromotionError):
    """A preset name that is not one of the published directions."""


class AnchorError(MicromotionError):
    """Anchors that cannot give a direction (too few, wrong shape, not finite)."""


class OptionError(MicromotionError):
    """A rendering option out of range (frames, fps, strength, size, curve)."""


class WeightsMissingError(MicromotionError):
    """An official weights file is not where it should be."""


class PromptError(MicromotionError):
    """A text prompt or template that cannot be used (empty, too long, no {degree})."""


class VideoError(MicromotionError):
    """A video that cannot be used (missing, unreadable, too long, too few frames)."""


class LabelError(MicromotionError):
    """Labelled latents that cannot give a direction (shape, lengths, NaNs, constant labels)."""


class PrecisionError(MicromotionError):
    """A precision this machine cannot run right or at speed (bf16 on a CPU without it)."""


class ServerPathError(MicromotionError):
    """A file input that names a path on the server instead of sending a file."""


class ServerError(MicromotionError):
    """The server cannot serve now (its disk is full, its weights unreadable): the operator's
    to fix, said in words the operator can act on, never a broken result."""


class BudgetError(MicromotionError):
    """A request that would cost more work than one request may (``budget``)."""
