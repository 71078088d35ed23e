"""Lossless mode: reversible embedding for channels that keep files intact.

Immunizing:
1. Pick the coupling parameters (threshold, busy-context cut-off) that give the most capacity
   while keeping PSNR ≥ 40.5 dB, by dry runs on a sample of blocks.
2. Build the signed stream: a digest of the original pixels, an AVIF reference of the photo as
   large as capacity allows (for rebuilding tampered areas), and the tags of blocks that cannot
   carry their own.
3. Every 8×8 block carries a 16-bit tag of its *original* content, then LT-coded byte symbols
   of the stream (named by block and slot), embedded by the integer coupling steps.

Verifying runs the steps backwards: blocks whose restored content matches its tag are intact
(and now restored bit for bit); their symbols rebuild the stream; the signature proves it;
tampered blocks are rebuilt from the reference.

The mode's parts: `layout` (what each block carries: its tag, the meta word, symbol slots),
`exception_list` (blocks whose tags travel in the stream), `params` (predictors and coupling
parameters), `embedder` (`immunize`) and `verifier` (`verify`).
"""

from app.core.immunizer.lossless.embedder import immunize
from app.core.immunizer.lossless.verifier import verify

__all__ = ["immunize", "verify"]
