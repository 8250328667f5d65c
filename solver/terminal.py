"""Output for terminals that cannot show every character: `·`, `≤`, `−` and friends in ASCII.

The renderings use a few characters beyond ASCII. Where the streams' encoding cannot hold
them (PYTHONIOENCODING=ascii, a C locale), each stream is wrapped so that those characters
become ASCII spellings (`·` → `*`, `≤` → `<=`) and anything else becomes `?`: output degrades,
it never raises UnicodeEncodeError.

>>> "2 · 16 GB ≤ 24 GB".translate(_ASCII)
'2 * 16 GB <= 24 GB'
"""

from __future__ import annotations

import sys

# Characters the renderings use beyond ASCII, and what they become where the terminal's
# encoding cannot show them (PYTHONIOENCODING=ascii, a C locale); anything else becomes `?`.
_ASCII = str.maketrans({"·": "*", "×": "x", "−": "-", "–": "-", "—": "-", "≤": "<=", "≥": ">=",
                        "≠": "!=", "→": "->", "←": "<-", "…": "...", "µ": "u", "μ": "u", "²": "^2",
                        "³": "^3", "°": " deg", "≈": "~", "√": "sqrt", "‘": "'", "’": "'", "“": '"',
                        "”": '"', "€": "EUR"})


class _Degrading:
    """A text stream that writes what its encoding cannot hold in ASCII spellings."""

    def __init__(self, stream):  # type: ignore[no-untyped-def]
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(text.translate(_ASCII))
        return len(text)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._stream, name)


def plain_streams() -> None:
    """Where stdout or stderr cannot encode `·` (PYTHONIOENCODING=ascii), wrap it to degrade."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, _Degrading):
            continue
        encoding = getattr(stream, "encoding", None) or "utf-8"
        try:
            "·≤".encode(encoding)
        except (UnicodeEncodeError, LookupError):
            if hasattr(stream, "reconfigure"):
                stream.reconfigure(errors="replace")
            setattr(sys, name, _Degrading(stream))
