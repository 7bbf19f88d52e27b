"""Errors a user can cause, one type per cause, each with a sentence they can act on."""


class CheckpointError(ValueError):
    """A generator checkpoint could not be used."""


class NotACheckpointError(CheckpointError):
    """The file is not a PyTorch checkpoint, or it is truncated."""


class UnsafeCheckpointError(CheckpointError):
    """The file holds pickled Python objects (code), which are never unpickled."""


class ArchitectureMismatchError(CheckpointError):
    """The tensors do not form a StyleGAN2 generator: missing/unexpected keys or wrong shapes."""


class LatentShapeError(ValueError):
    """A latent has the wrong type, dtype or shape."""
