"""StyleGAN2's two custom ops, each with a PyTorch reference (``impl="ref"``, the spec) and a
CUDA kernel (``impl="cuda"``) built lazily on first CUDA use; ``impl=None`` picks CUDA when the
tensor is on a GPU and the kernel builds, the reference otherwise."""
from .bias_act import bias_leaky_relu
from .upfirdn2d import upfirdn2d

__all__ = ["bias_leaky_relu", "upfirdn2d"]
