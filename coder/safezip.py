"""ZIP-based files (Word .docx, REFI-QDA .qdpx) are checked before anything parses them.

A ZIP bomb is a small archive that inflates to far more than a reader can hold: a 4 MB .docx whose
``word/document.xml`` inflates to 1.2 GB made python-docx and lxml hold 11 GB before refusing it.
Every reader of a zip goes through this module, in two steps:

1. :func:`open_zip` reads the central directory only (``ZipFile.infolist``, nothing inflated) and
   refuses the archive when a member would inflate beyond ``Limits.member`` bytes, all members
   together beyond ``Limits.total``, a member over ``RATIO_FLOOR`` bytes inflates more than
   ``Limits.ratio`` times its compressed size, or there are more than ``Limits.members`` members.
2. Those sizes are whatever the file's maker wrote, so reading is bounded too: :func:`read` inflates
   one member in chunks and refuses it as soon as it passes its declared size; :func:`verify` streams
   every member that way, keeping nothing, before a library that opens the archive itself
   (python-docx) is handed it. (``zipfile`` itself stops at the declared size and then fails its
   CRC check; we count as well, so the bound does not rest on that detail.)

Why both: DEFLATE inflates at most about 1032 times, so a bomb needs large members, many members,
or members that overlap and so multiply the declared total (David Fifield, "A better zip bomb",
WOOT 2019, https://www.bamsoftware.com/hacks/zipbomb/): all three show in the central directory.
But the sizes there are written by the file's maker and can understate the data, which only
bounded reading catches. Apache POI guards .docx/.xlsx the same way (``ZipSecureFile``: an inflate
ratio of at most 100, members under 100 kB exempt, 1,000 entries).

Limits, in bytes (decimal MB, as the messages print them):

- ``WORD``: a Word interview transcript's ``document.xml`` is rarely above 20 MB (a 100-page
  transcript is a few MB), and lxml's tree takes about 5 times the XML (measured: 26 MB of
  paragraphs → 127 MB), so 50 MB per member keeps the largest accepted file well under 1 GB; 200 MB in all (images are stored whole,
  and the file itself is at most ``ingest.MAX_BYTES``); 1,000 members, as POI.
- ``REFI``: a .qdpx holds whole projects, so sources can be larger: 200 MB per member, 1 GB in all,
  20,000 members (one per source file, plus the project; ``zipfile`` spends about 0.5 kB per member
  on the directory alone).
- Both: a member over ``RATIO_FLOOR`` (1 MB) may inflate at most 100 times; smaller XML parts often
  compress 10–30 times (``styles.xml``: 30) and cannot hurt.

Every refusal is a :class:`BombError` (an :class:`~coder.errors.IngestError`) naming the file and the
member, its message ending with ``BOMB``; an archive that cannot be read at all is an IngestError with
the caller's ``unreadable`` words.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass

from .errors import IngestError

MB = 1_000_000
RATIO_FLOOR = 1 * MB  # members up to this size are exempt from the ratio limit
CHUNK = 1 << 20  # bytes inflated at a time while streaming
BOMB = "refused as a possible ZIP bomb"


@dataclass(frozen=True)
class Limits:
    """What an archive may inflate to: bytes per member, bytes in all, inflation ratio (for members
    over ``RATIO_FLOOR``) and number of members."""

    member: int
    total: int
    ratio: int
    members: int


WORD = Limits(member=50 * MB, total=200 * MB, ratio=100, members=1_000)
REFI = Limits(member=200 * MB, total=1_000 * MB, ratio=100, members=20_000)


def size(n: int) -> str:
    """Bytes for people, decimal units: 1_234_000_000 → '1.23 GB', 20_000 → '20 kB'."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


class BombError(IngestError):
    """An archive refused as a possible ZIP bomb (its message ends with ``BOMB``)."""


def _refuse(source: str, problem: str) -> BombError:
    return BombError(source, f"{problem} — {BOMB}")


def check(z: zipfile.ZipFile, source: str, limits: Limits) -> None:
    """Raise :class:`BombError` naming ``source`` if the central directory of ``z`` breaks ``limits``;
    nothing is inflated."""
    members = z.infolist()
    if len(members) > limits.members:
        raise _refuse(source, f"{len(members):,} members (limit {limits.members:,})")
    total = 0
    for info in members:
        if info.file_size > limits.member:
            raise _refuse(
                source, f"member {info.filename} would inflate to {size(info.file_size)} (limit {size(limits.member)})"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR and ratio > limits.ratio:
            raise _refuse(
                source,
                f"member {info.filename} would inflate {ratio:,.0f} times its compressed size "
                f"(limit {limits.ratio} times for members over {size(RATIO_FLOOR)})",
            )
        total += info.file_size
    if total > limits.total:
        raise _refuse(source, f"members would inflate to {size(total)} in all (limit {size(limits.total)})")


def open_zip(file, source: str, limits: Limits, unreadable: str = "not a readable zip archive") -> zipfile.ZipFile:
    """Open ``file`` (a path or a binary file object) as a zip after :func:`check`; the caller closes it.

    Raises IngestError naming ``source``: ``"{unreadable}: {why}"`` when it is not a readable zip,
    or a refusal ending with ``BOMB`` when its central directory breaks ``limits``.
    """
    try:
        z = zipfile.ZipFile(file)
    except (OSError, zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise IngestError(source, f"{unreadable}: {exc}") from exc
    try:
        check(z, source, limits)
    except IngestError:
        z.close()
        raise
    return z


def _chunks(z: zipfile.ZipFile, info: zipfile.ZipInfo, source: str):
    """The inflated bytes of one member, ``CHUNK`` at a time, never more than its declared size."""
    count = 0
    try:
        with z.open(info) as f:
            while chunk := f.read(CHUNK):
                count += len(chunk)
                if count > info.file_size:
                    raise _refuse(
                        source, f"member {info.filename} inflates to more than its declared {size(info.file_size)}"
                    )
                yield chunk
    except zipfile.BadZipFile as exc:
        # a CRC mismatch is what an understated size looks like once zipfile stops at the declared size
        raise _refuse(
            source,
            f"member {info.filename} does not match its central directory entry "
            f"({size(info.file_size)} declared; corrupt, or its size understated: {exc})",
        ) from exc
    except (zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:  # damaged, deflate64, encrypted
        raise IngestError(source, f"member {info.filename} cannot be read: {exc}") from exc


def read(z: zipfile.ZipFile, name: str, source: str) -> bytes:
    """The bytes of member ``name`` of an archive opened with :func:`open_zip`, inflated in chunks
    and refused (IngestError naming ``source``) as soon as they pass the declared size."""
    return b"".join(_chunks(z, z.getinfo(name), source))


def verify(z: zipfile.ZipFile, source: str) -> None:
    """Inflate every member of an archive opened with :func:`open_zip`, keeping nothing, so that a
    library reading it afterwards gets at most the declared (checked) sizes. IngestError as :func:`read`."""
    for info in z.infolist():
        for _ in _chunks(z, info, source):
            pass
