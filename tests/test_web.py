from web import create_app

from coder.ingest import ingest


def test_index_lists_transcripts_and_shows_segments_escaped(db, nlp, write, tmp_path):
    ingest(db, [write("kaede.txt", "聞き手：<b>太字</b>ですか。\n本人：はい、𠮷田です。\n")], nlp=nlp, case="kaede")
    client = create_app({"DATABASE": str(tmp_path / "project.db"), "TESTING": True}).test_client()
    index = client.get("/").get_data(as_text=True)
    assert "kaede" in index and "トランスクリプト一覧" in index
    page = client.get("/transcripts/1").get_data(as_text=True)
    assert "𠮷田です。" in page and "&lt;b&gt;太字&lt;/b&gt;" in page
