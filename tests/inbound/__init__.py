"""Mail intake's pure core (casework.inbound): samples made by make_samples.py, no database."""

from pathlib import Path

SAMPLES = Path(__file__).resolve().parent / "samples"


def sample(name: str) -> bytes:
    """The bytes of one sample under samples/ (run make_samples.py to make them again)."""
    return (SAMPLES / name).read_bytes()
