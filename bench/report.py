"""What every benchmark does with its finished table: print it and keep it under bench/out/."""

from __future__ import annotations

from pathlib import Path


def publish(text: str, out: Path) -> None:
    """Print the report and write it to `out` (paste it into docs/benchmarks.md from there)."""
    print()
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"written to {out}")
