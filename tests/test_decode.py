import os

import pytest

from coder.decode import decode
from coder.errors import IngestError

TEXT = "支援員：就労パスポートで主治医と情報を共有しています。\n本人：はい、助かっています。\n"


@pytest.mark.parametrize("encoding, detected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("cp932", "cp932"),
    ("shift_jis", "cp932"), ("euc_jp", "euc-jp"), ("iso2022_jp", "iso-2022-jp"),
])
def test_japanese_encodings_are_detected(encoding, detected):
    assert decode(TEXT.encode(encoding), "x.txt") == (TEXT, detected)


def test_cp932_only_characters_are_decoded():
    text = "①番の件は～ですね。髙橋さん㈱みどり物流\n"  # NEC and IBM extensions of CP932
    assert decode(text.encode("cp932"), "x.txt") == (text, "cp932")


@pytest.mark.parametrize("data", [os.urandom(4000), b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
                                  b"PK\x03\x04" + bytes(range(256)) * 8])
def test_binary_file_is_refused_with_its_name(data):
    with pytest.raises(IngestError, match="notes.txt"):
        decode(data, "notes.txt")


@pytest.mark.parametrize("data", [b"", b"\n\n  \r\n", "\ufeff".encode("utf-8"), "\ufeff".encode("utf-16")])
def test_empty_file_is_refused(data):
    with pytest.raises(IngestError, match="empty"):
        decode(data, "empty.txt")
