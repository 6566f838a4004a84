"""Bytes → text: detect the encoding of a transcript file.

Order: byte-order marks (UTF-8/16/32), strict UTF-8, then charset-normalizer
limited to the Japanese legacy encodings (CP932/Shift_JIS, EUC-JP, ISO-2022-JP)
and BOM-less UTF-16. Text that decodes only into control characters is binary.
"""

from __future__ import annotations

import codecs

import charset_normalizer

from .errors import IngestError

_BOMS = [  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
_LEGACY = ["cp932", "euc_jp", "iso2022_jp", "utf_16_le", "utf_16_be"]
_NAMES = {"euc_jp": "euc-jp", "iso2022_jp": "iso-2022-jp", "utf_16_le": "utf-16-le", "utf_16_be": "utf-16-be"}


def decode(data: bytes, source: str) -> tuple[str, str]:
    """Return ``(text, encoding)``; raise IngestError naming ``source`` if it is not text."""
    if not data.strip(b" \t\r\n\x00") or data in {bom for bom, _ in _BOMS}:
        raise IngestError(source, "the file is empty")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise IngestError(source, f"starts with a {encoding} byte-order mark but is not valid {encoding}: {exc}")
            return _checked(text.lstrip("\ufeff"), encoding, source)
    if b"\x1b$" in data:  # ISO-2022-JP escapes are valid ASCII, so test before UTF-8
        try:
            return _checked(data.decode("iso2022_jp"), "iso-2022-jp", source)
        except UnicodeDecodeError:
            pass
    if b"\x00" not in data:
        try:
            return _checked(data.decode("utf-8"), "utf-8", source)
        except UnicodeDecodeError:
            pass
    best = charset_normalizer.from_bytes(data, cp_isolation=_LEGACY).best()
    if best is None:
        raise IngestError(source, "cannot detect the text encoding (tried UTF-8, UTF-16, CP932/Shift_JIS, EUC-JP, "
                                  "ISO-2022-JP); is it a binary file? Save it as UTF-8 text and try again")
    encoding = _NAMES.get(best.encoding, best.encoding)
    return _checked(str(best), encoding, source)


def _checked(text: str, encoding: str, source: str) -> tuple[str, str]:
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\n\r\f")
    if controls > max(2, len(text) // 100):
        raise IngestError(source, f"looks like a binary file, not text ({controls} control characters "
                                  f"when read as {encoding})")
    if not text.strip():
        raise IngestError(source, "the file is empty")
    return text, encoding
