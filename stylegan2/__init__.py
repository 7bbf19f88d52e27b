"""StyleGAN2 (rosinality layout): the generator, checkpoint loading, synthetic checkpoints and
the custom ops. Knows nothing of micromotion."""
from .checkpoint import infer_config, load_generator, read_checkpoint, safe_load
from .errors import (ArchitectureMismatchError, CheckpointError, LatentShapeError,
                     NotACheckpointError, UnsafeCheckpointError)
from .model import Generator
from .synthetic import synthetic_checkpoint, synthetic_generator, write_synthetic_checkpoint

__all__ = [
    "Generator", "load_generator", "read_checkpoint", "safe_load", "infer_config",
    "synthetic_generator", "synthetic_checkpoint", "write_synthetic_checkpoint",
    "CheckpointError", "NotACheckpointError", "UnsafeCheckpointError",
    "ArchitectureMismatchError", "LatentShapeError",
]
