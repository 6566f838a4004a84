"""The REFI-QDA vocabulary the reader, importer and exporter share (``coder.refi_vocab``)."""

import uuid

import pytest

from coder import refi_vocab as vocab


def test_guids_are_stable_and_a_user_code_keeps_the_one_it_came_with():
    assert vocab.guid("code", "handover") == vocab.guid("code", "handover") == vocab.code_guid("handover")
    assert str(uuid.UUID(vocab.guid("user", "hanako"))) == vocab.guid("user", "hanako")  # lower-case uuid text
    assert vocab.guid("user", "hanako") != vocab.guid("code", "hanako")
    assert vocab.code_guid("user:0a1b-2c") == "0a1b-2c"
    assert vocab.source_guid("kaede", "本人：はい。") != vocab.source_guid("kaede", "本人：いいえ。")


@pytest.mark.parametrize(
    "written, read",
    [
        ("{0A1B2C3D-0000-4000-8000-00000000ABCD}", "0a1b2c3d-0000-4000-8000-00000000abcd"),
        (" 0a1b ", "0a1b"),
        ("", None),
        (None, None),
    ],
)
def test_guids_written_by_other_tools_compare_equal(written, read):
    assert vocab.norm_guid(written) == read


def test_a_source_text_lives_in_the_sources_folder_and_is_named_internally():
    assert vocab.source_paths("abc") == ("sources/abc.txt", "internal://abc.txt")


def test_a_cell_summary_note_name_reads_back_as_its_key():
    key = {"grouping": "case", "row": "kaede", "code": "handover", "segments": [["abc", 0, 12]]}
    assert vocab.cell_name(key).startswith(vocab.CELL_NOTE)
    assert vocab.cell_key(vocab.cell_name(key)) == key
    assert vocab.cell_key(vocab.cell_name({**key, "segments": [["abc", "0", 12], ["abc", 3]]}))["segments"] == []
    assert vocab.cell_key(vocab.CASE_NOTE + "kaede") is None
    assert vocab.cell_key(vocab.CELL_NOTE + "{not json") is None


def test_coders_own_files_say_so_in_their_origin():
    assert vocab.origin("renkei@p3") == "coder (renkei@p3)" and vocab.origin("x").startswith(vocab.ORIGIN)
