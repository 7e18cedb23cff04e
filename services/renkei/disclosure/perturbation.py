"""Protection against differencing between snapshots: the cell-key method (セルキー法).

Suppression cannot stop a shown cell moving by one between two snapshots: 12/40 → 13/41 says
that the one neighbour examined in between "meets". So every shown count is published with a
deterministic perturbation, ``max(k, n + p)``, where ``p`` is read from the cell's key:

    cell key = HMAC-SHA256(secret, table digest ‖ cell id)       (uniform in [0, 1))
    p        = G₁ − G₂,  G₁, G₂ geometric with ratio α (from the key's two halves)

so ``p`` has the two-sided geometric distribution P(p = z) = (1−α)/(1+α) · α^|z| (mean 0,
variance 2α/(1−α)²; α = 1/3: variance 1.5, |p| ≤ 2 in 95 % of cells).

The key derives from the records of the table (its digest, ``table.py``) — ABS's and ONS's
cell key derives from the records of the *cell* only. That difference is deliberate: with
per-cell keys, a cell whose records did not change keeps its value exactly, so the set of
cells whose published value moved points at the records that changed (the one neighbour's
cells). Here any change in the municipality's table re-keys every cell, and which cells moved
says nothing. What stays the same: the same data gives the same published table (no new draw
to average when nothing changed), and nobody without the secret can compute a key.

For one resident's change, any one published count is at most 1/α times more likely under
"she changed" than under "she did not" (the ratio of adjacent probabilities of ``p``; clamping
at ``k`` only merges outcomes). What remains: an attacker who averages many snapshots while the
cell's other records stay unchanged (docs/disclosure-control.md).
"""

from __future__ import annotations

import hashlib
import hmac
import math

DEFAULT_ALPHA = 1 / 3


def _uniforms(secret: bytes, digest: str, cell: str) -> tuple[float, float]:
    mac = hmac.new(secret, f"{digest}\0{cell}".encode(), hashlib.sha256).digest()
    # 53 bits each, shifted away from 0 so that log() is finite.
    a = (int.from_bytes(mac[:8], "big") >> 11) + 0.5
    b = (int.from_bytes(mac[8:16], "big") >> 11) + 0.5
    return a / 2.0**53, b / 2.0**53


def noise(secret: bytes, digest: str, cell: str, alpha: float = DEFAULT_ALPHA) -> int:
    """The perturbation of ``cell`` in the table with ``digest`` (two-sided geometric)."""
    if not 0.0 < alpha < 1.0:
        raise ValueError("alpha must lie strictly between 0 and 1")
    u1, u2 = _uniforms(secret, digest, cell)
    scale = math.log(alpha)
    return math.floor(math.log(u1) / scale) - math.floor(math.log(u2) / scale)


def perturbed(value: int, k: int, secret: bytes, digest: str, cell: str, alpha: float) -> int:
    """The published value of a shown count (``value`` ≥ k): never below ``k``."""
    return max(k, value + noise(secret, digest, cell, alpha))


def noise_probability(z: int, alpha: float = DEFAULT_ALPHA) -> float:
    """P(p = z) of the two-sided geometric distribution."""
    return (1 - alpha) / (1 + alpha) * alpha ** abs(z)
