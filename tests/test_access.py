"""The one access policy (coder.access): blind mode holds on every page, export and count, and bad
ids or sources are 400/404 answers, never 500s."""

import re

import pytest

from coder import access, topics
from coder.access import Policy
from coder.db import open_db, segments_to_code
from coder.errors import Forbidden, NotFound


@pytest.fixture
def blind(project, two_analysts):
    """The kaede project with hanako's and taro's codings, back in blind mode (a new project's default)."""
    database = open_db(project)
    access.set_blind(database, True)
    database.close()
    return two_analysts


def test_a_new_project_starts_in_blind_mode(tmp_path):
    database = open_db(tmp_path / "new.db")
    assert access.blind(database)
    assert not Policy.for_user(database, "hanako", "analyst").sees_others
    assert Policy.for_user(database, "sato", "supervisor").sees_others


@pytest.mark.parametrize(
    "url",
    [
        "/matrix/?source=hanako",
        "/matrix/?source=all",
        "/matrix/?source=consensus",
        "/matrix/cell?row=person&code=information_sharing&source=hanako&by=perspective",
        "/matrix/cell?row=person&code=information_sharing&source=all&by=perspective",
    ],
)
def test_blind_analyst_cannot_read_another_analysts_codes_from_the_matrix(blind, login, url):
    response = login("taro").get(url)
    assert response.status_code == 403 and "ブラインドモード" in response.get_data(as_text=True)
    assert login("sato").get(url).status_code == 200


def test_blind_analyst_cannot_tell_whether_another_analyst_has_started(project, login):
    database = open_db(project)
    access.set_blind(database, True)
    database.close()
    taro, hanako = login("taro"), login("hanako")
    before = taro.get("/matrix/?source=hanako")
    segment = segments_to_code(open_db(project))[0]["id"]
    assert (
        hanako.post(
            f"/api/segments/{segment}/actions", json={"action": "review"}, headers={"X-CSRFToken": hanako.csrf}
        ).status_code
        == 200
    )
    after = taro.get("/matrix/?source=hanako")
    assert before.status_code == after.status_code == 403
    assert taro.get("/matrix/").status_code == 200  # their own codes by default, even before coding any


def test_blind_analyst_menus_list_only_their_own_codes_and_the_model(blind, login):
    taro = login("taro")
    for page in (taro.get("/matrix/?source=taro").get_data(as_text=True), taro.get("/export/").get_data(as_text=True)):
        assert 'value="taro"' in page and 'value="model"' in page
        assert 'value="hanako"' not in page and 'value="all"' not in page and 'value="consensus"' not in page


def test_blind_analysts_own_matrix_counts_only_their_codes(blind, login):
    page = login("taro").get("/matrix/?source=taro").get_data(as_text=True)
    # taro confirmed information_sharing once and value_alignment once; hanako's second
    # information_sharing must not show up as a count or a quote
    cell = login("taro").get("/matrix/cell?row=person&code=information_sharing&source=taro&by=perspective")
    assert cell.status_code == 200 and "1（1人）" in page
    assert login("taro").get("/matrix/cell?row=person&code=information_sharing&source=hanako").status_code == 403


def test_blind_analyst_codebook_page_counts_only_their_own_codings(blind, login):
    taro = login("taro").get("/codebook").get_data(as_text=True)
    sato = login("sato").get("/codebook").get_data(as_text=True)
    assert "確認済み 3 件（2 セグメント、2 人）" in sato  # information_sharing: hanako ×2, taro ×1
    assert "確認済み 1 件（1 セグメント、1 人）" in taro and "2 人" not in taro


def test_blind_analyst_topic_counts_leave_out_other_analysts(blind, project):
    a, b, c = blind
    result = {"source": "all", "topics": [{"id": 1, "segments": [a, b, c], "codes": {}, "uncoded_share": 0.0}]}
    database = open_db(project)
    taro = topics.as_seen_by(database, result, Policy.for_user(database, "taro", "analyst"))["topics"][0]
    sato = topics.as_seen_by(database, result, Policy.for_user(database, "sato", "supervisor"))["topics"][0]
    assert taro["codes"] == {"information_sharing": 1, "value_alignment": 1}
    assert taro["uncoded_share"] == round(1 / 3, 3)
    assert sato is result["topics"][0]  # supervisors see the stored counts (everyone's)


def test_blind_analyst_cannot_see_uncoded_topics_or_other_layers_in_the_library(blind, project):
    database = open_db(project)
    taro = Policy.for_user(database, "taro", "analyst")
    assert taro.check_source(database, "taro") == "taro" and taro.check_source(database, "model") == "model"
    for closed in ("hanako", "all", "consensus", "nobody"):  # "nobody": the same answer, coded or not
        with pytest.raises(Forbidden):
            taro.check_source(database, closed)
    with pytest.raises(NotFound):
        Policy.for_user(database, "sato", "supervisor").check_source(database, "nobody")
    assert taro.may_write("taro") and taro.may_write("taro:recode")
    assert not taro.may_write("hanako") and not taro.may_write("consensus") and not taro.may_write("model:x")
    assert Policy.owner().check_source(database, "hanako") == "hanako"


def test_export_library_refuses_a_closed_source_before_writing(blind, project, codebook, tmp_path):
    from coder import export

    database = open_db(project)
    with pytest.raises(Forbidden):
        export.run(
            database, "quotes-csv", tmp_path, codebook, "hanako", policy=Policy.for_user(database, "taro", "analyst")
        )
    assert list(tmp_path.glob("coder-*")) == []


BAD_QUERY = (
    "source=nobody&transcript=999&case=nobody&coders=nobody&row=x&code=x&by=x&measure=x&all=x"
    "&order=x&next=//evil.example"
)
BAD_IDS = ("0", "999", "99999999999999999999999")
# what forms can send: "²" passes str.isdigit but not int(); "inf" and "nan" pass float()
BAD_VALUES = ("x", "²", "inf", "nan", "-1", "99999999999999999999999", "9" * 5000, "\x00(")
BAD_JSON = (
    [1],
    "action",
    3.5,
    None,
    {"action": ["confirm"], "code": {"x": 1}, "layer": 7},
    {"action": "nothing", "code": "x", "layer": "x"},
)


def _urls(app):
    """Every route with each bad id filled in (GET and POST as the route allows)."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        names = sorted(rule.arguments)
        fills = [dict.fromkeys(names, bad) for bad in BAD_IDS] if names else [{}]
        for values in fills:
            path = rule.rule
            for name in names:
                path = re.sub(rf"<(?:\w+(?:\([^)]*\))?:)?{name}>", values[name], path)
            for method in sorted(rule.methods & {"GET", "POST"}):
                yield method, path


@pytest.mark.parametrize("who", ["taro", "sato"])
def test_every_route_answers_bad_ids_and_sources_without_a_server_error(app, login, who, blind):
    client, failures = login(who), []
    for method, path in _urls(app):
        if path == "/logout":
            continue
        if method == "GET":
            responses = [client.get(f"{path}?{BAD_QUERY}")]
        elif path.startswith("/api/"):
            responses = [client.post(path, json=body, headers={"X-CSRFToken": client.csrf}) for body in BAD_JSON]
        else:
            responses = [
                client.post(
                    f"{path}?{BAD_QUERY}",
                    data={
                        "csrf_token": client.csrf,
                        "source": "nobody",
                        "format": "nobody",
                        "transcript": bad,
                        "coder": bad,
                        "codes": bad,
                        "code": "nobody",
                        "segment_id": bad,
                        "size": bad,
                        "min_age_days": bad,
                        "topic": bad,
                        "n_topics": bad,
                        "token": bad,
                        "blind": bad,
                        "name": bad,
                        "kind": bad,
                        "status": bad,
                        "text": bad,
                    },
                )
                for bad in BAD_VALUES
            ]
        failures += [f"{method} {path}: {r.status_code}" for r in responses if r.status_code >= 500]
    assert failures == []


@pytest.mark.parametrize(
    "url,status",
    [
        ("/matrix/cell?row=person&code=information_sharing&source=nobody", 404),
        ("/matrix/cell?row=person&code=information_sharing&source=consensus&transcript=999", 404),
        ("/matrix/?source=consensus&case=nobody", 404),
        ("/agreement/disagreements?coders=nobody", 404),
        ("/transcripts/99999999999999999999999", 404),
    ],
)
def test_unknown_sources_and_ids_are_named_in_a_404(login, two_analysts, url, status):
    assert login("sato").get(url).status_code == status


def test_an_out_of_range_segment_id_is_a_json_404(login, project):
    client = login("hanako")
    response = client.post(
        "/api/segments/99999999999999999999999/actions", json={"action": "review"}, headers={"X-CSRFToken": client.csrf}
    )
    assert response.status_code == 404 and response.is_json


def test_blind_mode_is_shown_and_set_from_the_command_line(project):
    from click.testing import CliRunner

    from coder.cli import cli

    assert "blind mode is off" in CliRunner().invoke(cli, ["blind", "--db", str(project)]).output
    result = CliRunner().invoke(cli, ["blind", "on", "--db", str(project)])
    assert result.exit_code == 0 and "blind mode is on" in result.output
    assert access.blind(open_db(project))
