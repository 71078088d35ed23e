"""Channel code of the robust watermark: CRC-24 for error detection, a rate-1/3
convolutional code (constraint length 7) for error correction, and a soft-decision
Viterbi decoder.

Why this code: the watermark channel delivers *soft* values (correlations whose sign is
the bit and whose size is the confidence), and a convolutional code with soft Viterbi
decoding gains about 2 dB over hard-decision block codes such as BCH at the same rate,
for a decoder of a few dozen lines. The CRC is what makes a wrong ID unlikely: Viterbi
always returns *some* codeword, even from pure noise, and only the CRC (plus the sync
gate in `read.py`) tells a real mark from noise.
"""

from __future__ import annotations

import numpy as np

CRC_BITS = 24
# CRC-24 of OpenPGP (RFC 4880): a well-studied polynomial with Hamming distance 4 up to
# thousands of bits; the initial value keeps an all-zero message from having an all-zero CRC.
_CRC24_POLY = 0x864CFB
_CRC24_INIT = 0xB704CE

CONSTRAINT_LENGTH = 7
# The classic rate-1/3, K=7 generators (octal 133, 171, 165): maximal free distance (15)
# for this rate and memory.
_GENERATORS = (0o133, 0o171, 0o165)
CODE_RATE_INVERSE = len(_GENERATORS)
_MEMORY = CONSTRAINT_LENGTH - 1
_N_STATES = 1 << _MEMORY


def int_to_bits(value: int, n_bits: int) -> np.ndarray:
    """Most significant bit first, as uint8 0/1."""
    return ints_to_bits([value], n_bits)[0]


def ints_to_bits(values, n_bits: int) -> np.ndarray:
    """One row of bits (most significant first) per value, for values below 2**64."""
    shifts = np.arange(n_bits - 1, -1, -1, dtype=np.uint64)
    column = np.asarray(values, dtype=np.uint64).reshape(-1, 1)
    return ((column >> shifts) & np.uint64(1)).astype(np.uint8)


def bits_to_int(bits: np.ndarray) -> int:
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return value


def crc24(bits: np.ndarray) -> int:
    """Bitwise CRC-24 over a bit sequence (bits need not fill whole bytes)."""
    return int(crc24_rows(np.asarray(bits).reshape(1, -1))[0])


def crc24_rows(rows: np.ndarray) -> np.ndarray:
    """CRC-24 of every row of a 2-D bit array at once."""
    crc = np.full(rows.shape[0], _CRC24_INIT, dtype=np.int64)
    for column in np.asarray(rows, dtype=np.int64).T:
        feedback = ((crc >> 23) & 1) ^ column
        crc = ((crc << 1) & 0xFFFFFF) ^ (feedback * _CRC24_POLY)
    return crc


def add_crc(payload_bits: np.ndarray) -> np.ndarray:
    return add_crc_rows(np.asarray(payload_bits).reshape(1, -1))[0]


def add_crc_rows(rows: np.ndarray) -> np.ndarray:
    return np.concatenate([rows, ints_to_bits(crc24_rows(rows), CRC_BITS)], axis=1)


def check_crc(message_bits: np.ndarray) -> bool:
    payload_bits, crc_bits = message_bits[:-CRC_BITS], message_bits[-CRC_BITS:]
    return crc24(payload_bits) == bits_to_int(crc_bits)


def _parity(values: np.ndarray) -> np.ndarray:
    values = values.copy()
    result = np.zeros_like(values)
    while np.any(values):
        result ^= values & 1
        values >>= 1
    return result


# Trellis tables. A state holds the previous `_MEMORY` input bits, newest in the highest
# bit; feeding bit b into state s forms the register (b << _MEMORY) | s, emits one parity
# per generator, and moves to state register >> 1.
_states = np.arange(_N_STATES)
_registers = np.stack([_states, _states | (1 << _MEMORY)])  # [input bit, state]
_OUTPUT_BITS = np.stack([_parity(_registers & g) for g in _GENERATORS], axis=-1)  # [b, s, k]
_NEXT_STATE = _registers >> 1
# For the decoder: each next state has exactly two predecessors (the oldest bit dropped
# was 0 or 1), both reached with the same input bit (the new highest bit of the state).
_INPUT_OF_STATE = (_states >> (_MEMORY - 1)) & 1
_PREDECESSORS = np.stack([((_states << 1) & (_N_STATES - 1)) | dropped for dropped in (0, 1)])


_STEPS_PER_BATCH = 2048  # trellis steps whose branch gains are computed in one product


def coded_length(n_message_bits: int) -> int:
    return (n_message_bits + _MEMORY) * CODE_RATE_INVERSE


def conv_encode(message_bits: np.ndarray) -> np.ndarray:
    """Encode and flush with `_MEMORY` zero tail bits, so the trellis ends in state 0."""
    return conv_encode_rows(np.asarray(message_bits).reshape(1, -1))[0]


def conv_encode_rows(messages: np.ndarray) -> np.ndarray:
    """`conv_encode` of every row of a 2-D bit array at once."""
    n_rows = messages.shape[0]
    padded = np.concatenate([messages, np.zeros((n_rows, _MEMORY), dtype=np.uint8)], axis=1).astype(np.int64)
    state = np.zeros(n_rows, dtype=np.int64)
    out = np.empty((n_rows, padded.shape[1], CODE_RATE_INVERSE), dtype=np.uint8)
    for step, bits in enumerate(padded.T):
        out[:, step] = _OUTPUT_BITS[bits, state]
        state = _NEXT_STATE[bits, state]
    return out.reshape(n_rows, -1)


def viterbi_decode(soft: np.ndarray, n_message_bits: int) -> np.ndarray:
    """Maximum-likelihood message for soft values (positive = bit 1, size = confidence).

    The path metric is the correlation between the soft values and the codeword in ±1
    form, which is the maximum-likelihood metric for Gaussian noise and does not need
    the noise level.
    """
    return viterbi_decode_rows(np.asarray(soft).reshape(1, -1), n_message_bits)[0]


def viterbi_decode_rows(soft: np.ndarray, n_message_bits: int) -> np.ndarray:
    """`viterbi_decode` of every row of a 2-D array of soft values at once (codewords of the
    same length). The trellis walk is a Python loop over steps, so decoding many codewords side
    by side costs little more than decoding one."""
    n_rows = soft.shape[0]
    n_steps = n_message_bits + _MEMORY
    soft = np.asarray(soft, dtype=np.float64).reshape(n_rows, n_steps, CODE_RATE_INVERSE)
    signed_outputs = (2.0 * _OUTPUT_BITS - 1.0).reshape(-1, CODE_RATE_INVERSE)  # [(b, s), k]
    # Branch gain of entering next-state `ns` from its predecessor p = _PREDECESSORS[d, ns]:
    # the outputs of register (input(ns) << _MEMORY) | p, as columns of the [(b, s)] product.
    entering = [_INPUT_OF_STATE * _N_STATES + _PREDECESSORS[d] for d in (0, 1)]
    rows = np.arange(n_rows)
    metrics = np.full((n_rows, _N_STATES), -np.inf)
    metrics[:, 0] = 0.0
    chosen_predecessor = np.empty((n_steps, n_rows, _N_STATES), dtype=np.int16)
    for first in range(0, n_steps, _STEPS_PER_BATCH):
        branches = soft[:, first:first + _STEPS_PER_BATCH] @ signed_outputs.T  # [row, step, (b, s)]
        gains = [branches[:, :, columns] for columns in entering]
        for offset in range(branches.shape[1]):
            via_0 = metrics[:, _PREDECESSORS[0]] + gains[0][:, offset]
            via_1 = metrics[:, _PREDECESSORS[1]] + gains[1][:, offset]
            second_better = via_1 > via_0
            chosen_predecessor[first + offset] = np.where(second_better, _PREDECESSORS[1], _PREDECESSORS[0])
            metrics = np.where(second_better, via_1, via_0)
    # The tail forces the final state to 0; walk back from there.
    state = np.zeros(n_rows, dtype=np.int64)
    decoded = np.empty((n_rows, n_steps), dtype=np.uint8)
    for step in range(n_steps - 1, -1, -1):
        decoded[:, step] = _INPUT_OF_STATE[state]
        state = chosen_predecessor[step, rows, state]
    return decoded[:, :n_message_bits]
