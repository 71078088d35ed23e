"""A rateless erasure code (LT code) for the immunizer's recovery data.

Why a fountain code: the recovery data of a region must live *outside* it, and nobody knows in
advance which blocks an edit will reach or how many bits each block can carry (that depends on
its texture). With an LT code every block just carries as many encoded symbols as it can hold,
each symbol named by (block, slot); the decoder collects the symbols of the blocks that are
still intact and, as soon as it has about 10 % more than the data's size, peels the data out.

Symbols are words of any unsigned integer type (the immunizer uses bytes: a busy block may
carry only a few dozen bits, and a symbol must fit whole inside one block). An encoded symbol is the XOR of `d` source words, with `d` drawn from
the robust soliton distribution and the words chosen by a counter-based hash of the symbol's
id, so encoder and decoder derive the same graph for any subset of symbols without storing it.
Peeling runs in rounds over all degree-one symbols at once (numpy), which keeps it fast for the
hundreds of thousands of symbols of a 12-megapixel photo.
"""

from __future__ import annotations

import functools
import math

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _splitmix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a well-tested bijective mix of 64-bit counters."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        return z ^ (z >> np.uint64(31))


@functools.lru_cache(maxsize=16)
def _soliton_cdf(k: int, c: float = 0.05, delta: float = 0.05) -> np.ndarray:
    """Cumulative robust soliton distribution over degrees 1..k (Luby 2002)."""
    d = np.arange(1, k + 1, dtype=np.float64)
    rho = np.empty(k)
    rho[0] = 1.0 / k
    rho[1:] = 1.0 / (d[1:] * (d[1:] - 1.0))
    s = c * math.log(k / delta) * math.sqrt(k)
    spike = max(1, min(k, int(round(k / s))))
    tau = np.zeros(k)
    tau[: spike - 1] = s / (k * d[: spike - 1])
    tau[spike - 1] = s * math.log(s / delta) / k
    mu = rho + tau
    cdf = np.cumsum(mu / mu.sum())
    cdf[-1] = 1.0
    return cdf


def graph(symbol_ids: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Edges (symbol position, source index) of the given symbols; positions index `symbol_ids`."""
    ids = np.asarray(symbol_ids, dtype=np.uint64)
    base = np.uint64(seed & 0xFFFFFFFF) << np.uint64(40)
    u = (_splitmix(ids ^ base) >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    degrees = np.searchsorted(_soliton_cdf(k), u, side="right") + 1
    degrees = np.minimum(degrees, k)
    owner = np.repeat(np.arange(len(ids)), degrees)
    starts = np.cumsum(degrees) - degrees
    nth = np.arange(len(owner)) - np.repeat(starts, degrees)
    counters = (ids[owner] << np.uint64(8)) + nth.astype(np.uint64) + np.uint64(1)
    sources = (_splitmix(counters ^ base ^ np.uint64(0x5A5A)) % np.uint64(k)).astype(np.int64)
    # A word drawn twice cancels out in the XOR; encoder and peeler both count it twice, which
    # stays consistent (peeling it removes both), so no de-duplication pass is needed.
    return owner, sources


def encode(data: np.ndarray, symbol_ids: np.ndarray, seed: int) -> np.ndarray:
    """Encoded symbols for the given ids; `data` is the source words (any unsigned int type)."""
    k = len(data)
    owner, sources = graph(symbol_ids, k, seed)
    out = np.zeros(len(symbol_ids), dtype=data.dtype)
    np.bitwise_xor.at(out, owner, data[sources])
    return out


def decode(k: int, symbol_ids: np.ndarray, values: np.ndarray, seed: int) -> np.ndarray | None:
    """Recover the k source words from received symbols, or None if they don't suffice."""
    if len(symbol_ids) < k:
        return None
    owner, sources = graph(symbol_ids, k, seed)
    n = len(symbol_ids)
    values = values.copy()
    degree = np.bincount(owner, minlength=n)
    # XOR of the sources still attached to each symbol: for a degree-one symbol it *is* the source.
    xor_source = np.zeros(n, dtype=np.int64)
    np.bitwise_xor.at(xor_source, owner, sources)
    by_source = np.argsort(sources, kind="stable")
    source_start = np.searchsorted(sources[by_source], np.arange(k + 1))

    known = np.zeros(k, dtype=bool)
    data = np.zeros(k, dtype=values.dtype)
    while True:
        ripple = np.flatnonzero(degree == 1)
        if len(ripple) == 0:
            break
        found = xor_source[ripple]
        fresh = ~known[found]
        if not fresh.any():
            degree[ripple] = 0
            continue
        found, first = np.unique(found[fresh], return_index=True)
        data[found] = values[ripple[fresh][first]]
        known[found] = True
        # Peel the newly known words off every symbol that contains them.
        lengths = source_start[found + 1] - source_start[found]
        edge_pos = np.repeat(source_start[found], lengths) + (
            np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths))
        edges = by_source[edge_pos]
        touched = owner[edges]
        np.bitwise_xor.at(values, touched, data[sources[edges]])
        np.bitwise_xor.at(xor_source, touched, sources[edges])
        np.subtract.at(degree, touched, 1)
        if known.all():
            return data
    if known.all():
        return data
    return _finish_by_elimination(data, known, values, degree, owner, sources)


# Peeling stalls when no symbol is left with one unknown word, which happens near the margin
# (a few percent more symbols than words) more often than the code's design suggests for a
# few thousand words. The words still unknown are then few, and the symbols that still touch
# them form a small linear system over GF(2): solving it recovers the data whenever the
# symbols determine it at all (inactivation decoding, as RaptorQ does).
MAX_ELIMINATION_WORDS = 4000


def _finish_by_elimination(data, known, values, degree, owner, sources) -> np.ndarray | None:
    unknown = np.flatnonzero(~known)
    if len(unknown) > MAX_ELIMINATION_WORDS:
        return None
    column = np.full(len(known), -1)
    column[unknown] = np.arange(len(unknown))
    open_edges = column[sources] >= 0
    rows_used = np.unique(owner[open_edges])
    if len(rows_used) < len(unknown):
        return None
    row = np.full(len(degree), -1)
    row[rows_used] = np.arange(len(rows_used))
    # A word drawn twice into one symbol cancels: keep the parity of each (symbol, word) pair.
    dense = np.zeros((len(rows_used), len(unknown)), dtype=np.uint8)
    np.add.at(dense, (row[owner[open_edges]], column[sources[open_edges]]), 1)
    matrix = np.packbits(dense & 1, axis=1)  # eight columns a byte: row operations 8x cheaper
    del dense
    rhs = values[rows_used].copy()
    for col in range(len(unknown)):
        byte, bit = col >> 3, np.uint8(0x80 >> (col & 7))
        has = (matrix[:, byte] & bit) != 0
        candidates = np.flatnonzero(has[col:]) + col
        if len(candidates) == 0:
            return None  # the symbols do not determine this word
        pivot = candidates[0]
        if pivot != col:
            matrix[[col, pivot]] = matrix[[pivot, col]]
            rhs[[col, pivot]] = rhs[[pivot, col]]
            has[[col, pivot]] = has[[pivot, col]]
        has[col] = False
        others = np.flatnonzero(has)
        matrix[others] ^= matrix[col]
        rhs[others] ^= rhs[col]
    data[unknown] = rhs[: len(unknown)]
    return data
