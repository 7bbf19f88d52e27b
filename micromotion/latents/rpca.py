"""Robust PCA: D = L + S with L low-rank and S sparse, by the inexact augmented Lagrange
multiplier method (Lin, Chen & Ma 2010, Algorithm 5), batched over leading dimensions.

    minimise ‖L‖_* + λ‖S‖_1  subject to  D = L + S

Each iteration: L ← SVT(D − S + Y/μ, 1/μ); S ← shrink(D − L + Y/μ, λ/μ); Y ← Y + μ(D − L − S);
μ ← min(ρμ, μ̄). It starts from Y = D / max(‖D‖₂, ‖D‖_∞/λ), μ = 1.25/‖D‖₂, and stops when
‖D − L − S‖_F / ‖D‖_F ≤ tol. (The paper's code release measures these sizes with sums of
squares and stops after two iterations; this is the published algorithm.)
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class RPCAInfo:
    iterations: torch.Tensor  # [...] int: iterations each problem ran
    residual: torch.Tensor  # [...] ‖D − L − S‖_F / ‖D‖_F at the end
    converged: torch.Tensor  # [...] bool


def _shrink(x: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    return torch.sign(x) * torch.clamp(x.abs() - tau, min=0)


def _svt(x: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    """Singular value thresholding: U·shrink(Σ, τ)·Vᵀ."""
    u, s, vh = torch.linalg.svd(x, full_matrices=False)
    return u @ (torch.clamp(s - tau[..., None], min=0)[..., None] * vh)


def rpca(D: torch.Tensor, lam: float | None = None, tol: float = 1e-7, max_iter: int = 1000,
         rho: float = 1.5) -> tuple[torch.Tensor, torch.Tensor, RPCAInfo]:
    """D ``[..., m, n]`` → (L, S, info), L and S like D. λ defaults to 1/√max(m, n).

    Computed in float64 (the tolerance is below float32's resolution); problems that converge
    stop changing while the others go on."""
    if D.ndim < 2 or D.shape[-1] == 0 or D.shape[-2] == 0:
        raise ValueError(f"D must be [..., m, n] with m, n ≥ 1, got {list(D.shape)}")
    if not torch.isfinite(D).all():
        raise ValueError("D has NaN or infinite entries")
    dtype = D.dtype
    D = D.to(torch.float64)
    m, n = D.shape[-2:]
    lam = 1.0 / max(m, n) ** 0.5 if lam is None else float(lam)
    batch = D.shape[:-2]
    norm_fro = torch.linalg.matrix_norm(D, "fro")
    norm_two = torch.linalg.matrix_norm(D, 2)
    norm_inf = D.abs().amax(dim=(-2, -1)) / lam
    zero = norm_fro == 0  # an all-zero problem is solved by L = S = 0
    safe = lambda t: torch.where(zero, torch.ones_like(t), t)  # noqa: E731
    Y = D / safe(torch.maximum(norm_two, norm_inf))[..., None, None]
    mu = 1.25 / safe(norm_two)
    mu_max = mu * 1e7
    L, S = torch.zeros_like(D), torch.zeros_like(D)
    active = ~zero
    iterations = torch.zeros(batch, dtype=torch.long, device=D.device)
    residual = torch.zeros(batch, dtype=torch.float64, device=D.device)
    for _ in range(max_iter):
        if not active.any():
            break
        a = active[..., None, None]
        L = torch.where(a, _svt(D - S + Y / mu[..., None, None], 1.0 / mu), L)
        S = torch.where(a, _shrink(D - L + Y / mu[..., None, None], (lam / mu)[..., None, None]), S)
        Z = D - L - S
        Y = torch.where(a, Y + mu[..., None, None] * Z, Y)
        mu = torch.where(active, torch.minimum(mu * rho, mu_max), mu)
        iterations += active.long()
        residual = torch.where(active, torch.linalg.matrix_norm(Z, "fro") / safe(norm_fro),
                               residual)
        active = active & (residual > tol)
    info = RPCAInfo(iterations, residual, residual <= tol)
    return L.to(dtype), S.to(dtype), info
