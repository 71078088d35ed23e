"""Robust mode: immunization that survives social networks (JPEG ≥ 70, downscaling).

Each 8×8 block of luminance carries 13 bits by quantization index modulation (QIM, Chen &
Wornell 2001) on its lowest DCT frequencies (the DC and u, v ≤ 3, u + v ≤ 4): these survive JPEG
75, whose quantisation steps there are 5–8 against our step of 22. The blocks are those of the photo as
a 0.75× downscale would leave it (`channel.resize_proof`): a resize blurs fine detail into these
frequencies, which made busy areas of untouched copies read as edited. One of the 13 is a
pilot bit that everybody can predict from the photo's size, in every other block also flipped by
a bit of the photo's nonce (from its pixel digest; each bit voted by blocks all over the photo).
The other twelve carry the signed stream (a reference photo plus header) under an LDPC code of
rate 3/5, 1/2 or 1/4 (`ira`), or for small photos a convolutional code with an outer Reed-Solomon code,
spread over the photo by a fixed permutation and repeated as often as space allows.

Verifying finds the scale at which the pilots line up, decodes the stream (belief propagation
on log-likelihoods the pilots calibrate, or soft Viterbi), checks
its signature, re-encodes it and compares *every* expected bit with what each block holds:
blocks an edit reached read like coin flips (about 6 of 13 wrong), untouched ones survive
re-compression with at most a few errors. Tampered blocks are rebuilt from the reference.
Honest limit: the stream is signed, but QIM bits are public, so someone who knows this scheme
could re-embed the expected bits into edited content, and the bit comparison would not see the
edit (see docs/threat-model.md).

The mode's parts: `channel` (the QIM channel: block DCTs, embedding, soft bits, platform
copies), `layout` (the codes, pilots and where every bit goes), `reader` (finding the scale and
decoding the stream from a copy), `embedder` (`immunize` and its own platform test) and
`verifier` (`verify` and the tamper map).
"""

from app.core.immunizer.robust.embedder import immunize
from app.core.immunizer.robust.verifier import verify

__all__ = ["immunize", "verify"]
