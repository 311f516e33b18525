"""Decoding report bytes without ever failing: compressed streams, encoding sniffing, marks.

Each byte that is invalid in the encoding decodes to the lone surrogate U+DC00+byte (error
handler :data:`MARK_ERRORS`), which no valid decoding produces: :func:`first_invalid` finds it,
and the reader rejects the record that holds it instead of refusing the file.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import lzma
import re
from pathlib import Path
from typing import IO

from .errors import InputFormatError, InputOptionError

SNIFF_BYTES = 4096
SURROGATE = re.compile("[\ud800-\udfff]")

# Decoding never fails: each invalid byte becomes the lone surrogate U+DC00+byte, which no valid
# decoding produces, and the record that holds one is rejected.
MARK_ERRORS = "reportlab_nlp.mark_invalid"


MARKS = [0]  # how many invalid byte runs were marked, process-wide: a reader checks rows once it grows


def _mark_invalid(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeDecodeError):
        raise err
    MARKS[0] += 1
    return "".join(chr(0xDC00 + b) for b in err.object[err.start : err.end]), err.end


codecs.register_error(MARK_ERRORS, _mark_invalid)


def open_binary(path: Path) -> IO[bytes]:
    """``path`` opened for reading bytes, decompressed by its suffix (.gz, .bz2, .xz, .zst)."""
    suffix = path.suffix.lower()
    if suffix == ".gz":
        return gzip.open(path, "rb")
    if suffix == ".bz2":
        return bz2.open(path, "rb")
    if suffix == ".xz":
        return lzma.open(path, "rb")
    if suffix == ".zst":
        try:
            import zstandard
        except ImportError:
            raise InputFormatError(f"{path.name} is zstd-compressed", hint="pip install zstandard") from None
        return zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)
    return open(path, "rb")


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32 LE byte-order mark"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32 BE byte-order mark"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 byte-order mark"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 LE byte-order mark"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 BE byte-order mark"),
)


def sniff_encoding(head: bytes) -> tuple[str, str]:
    """``(codec, why)`` for the first bytes of a file: BOM, then NUL pattern, else UTF-8."""
    for bom, codec, why in _BOMS:
        if head.startswith(bom):
            return codec, why
    n = len(head) - len(head) % 4
    if n >= 4:
        nul = [head[k:n:4].count(0) / (n // 4) for k in range(4)]
        if nul[1] > 0.9 and nul[2] > 0.9 and nul[3] > 0.9 and nul[0] < 0.1:
            return "utf-32-le", "NUL bytes in the pattern of UTF-32 LE"
        if nul[0] > 0.9 and nul[1] > 0.9 and nul[2] > 0.9 and nul[3] < 0.1:
            return "utf-32-be", "NUL bytes in the pattern of UTF-32 BE"
        even, odd = (nul[0] + nul[2]) / 2, (nul[1] + nul[3]) / 2
        if odd > 0.4 and even < 0.05:
            return "utf-16-le", "NUL bytes in the pattern of UTF-16 LE"
        if even > 0.4 and odd < 0.05:
            return "utf-16-be", "NUL bytes in the pattern of UTF-16 BE"
    return "utf-8", "default"


def resolve_encoding(encoding: str) -> str:
    """The canonical codec name of ``encoding`` (``"auto"`` stays); RL119 if Python has none."""
    if encoding == "auto":
        return encoding
    try:
        return codecs.lookup(encoding).name
    except (LookupError, TypeError):
        raise InputOptionError(
            f"unknown encoding {encoding!r}", hint="pass a Python codec name such as utf-8"
        ) from None


def first_invalid(value: str) -> int:
    """Character position of the first undecodable byte in ``value``, or -1."""
    m = SURROGATE.search(value)
    return m.start() if m else -1
