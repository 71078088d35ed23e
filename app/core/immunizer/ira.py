"""An irregular repeat-accumulate (IRA) LDPC code for the robust mode's stream.

The parity-check matrix is H = [A | T]: A joins each message bit to CHECKS_PER_BIT parity checks
chosen by a fixed seed, T is the accumulator (each parity bit is the previous one xor its check),
so encoding is a sparse product and a running xor. Decoding is belief propagation over H, by the
`ldpc` package (C++), fed log-likelihood ratios.

Why not the convolutional code alone: on the soft bits of real photos read after JPEG 75 with a
quarter of the photo replaced, this code decoded at rate 3/5 where the rate-1/2 convolutional
code needed its Reed-Solomon layer to get through (see `robust.CODES`): a fifth more room for
the reference photo.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np
from ldpc import BpDecoder
from scipy import sparse

CHECKS_PER_BIT = 3
MAX_ITERATIONS = 100
_LLR_LIMIT = 30.0  # beyond this a bit is certain either way; keeps exp() finite


@lru_cache(maxsize=4)
def _code(message_bits: int, parity_bits: int) -> tuple[sparse.csr_matrix, BpDecoder, threading.Lock]:
    """(A, decoder over H = [A | T], a lock for the decoder, which keeps state between calls).
    Built from the lengths alone, so encoder and decoder agree; cached, for a large photo's
    takes a second or two to build."""
    rng = np.random.default_rng([message_bits, parity_bits, CHECKS_PER_BIT])
    checks = rng.permutation(np.resize(np.arange(parity_bits), message_bits * CHECKS_PER_BIT))
    bits = np.repeat(np.arange(message_bits), CHECKS_PER_BIT)
    joins = sparse.csr_matrix((np.ones(len(bits), dtype=np.int64), (checks, bits)),
                              shape=(parity_bits, message_bits))
    joins.data %= 2  # a bit drawn twice into one check cancels out
    joins.eliminate_zeros()
    joins = joins.astype(np.uint8)
    accumulator = sparse.diags([np.ones(parity_bits), np.ones(parity_bits - 1)], [0, -1],
                               shape=(parity_bits, parity_bits), dtype=np.uint8)
    parity_check = sparse.hstack([joins, accumulator]).tocsr()
    decoder = BpDecoder(parity_check, error_rate=0.1, max_iter=MAX_ITERATIONS, bp_method="product_sum")
    return joins, decoder, threading.Lock()


def encode(message: np.ndarray, parity_bits: int) -> np.ndarray:
    """The codeword: the message bits, then the parity bits."""
    joins = _code(len(message), parity_bits)[0]
    checks = (joins @ message.astype(np.int64)) % 2
    return np.concatenate([message.astype(np.uint8), np.bitwise_xor.accumulate(checks.astype(np.uint8))])


def decode(llr: np.ndarray, message_bits: int) -> np.ndarray:
    """The codeword (message bits first) from log-likelihood ratios of its bits (positive: a 1;
    zero: no opinion). Belief propagation's best guess even when it does not converge: the bits
    it is sure of are mostly right all the same, which the robust mode uses to tell which blocks
    an edit reached."""
    _, decoder, lock = _code(message_bits, len(llr) - message_bits)
    magnitude = np.minimum(np.abs(llr), _LLR_LIMIT)
    flip_probability = np.clip(1.0 / (1.0 + np.exp(magnitude)), 1e-12, 0.5 - 1e-9)
    with lock:
        decoder.update_channel_probs(flip_probability)
        codeword = decoder.decode((llr > 0).astype(np.uint8))
    return np.asarray(codeword, dtype=np.uint8)

