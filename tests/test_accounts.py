"""Accounts and sessions: safe redirects, throttling and lockout, sessions that end, the signing key,
no caching of interview pages, and the supervisors' accounts page."""

import os
import re
import stat

import pytest
from click.testing import CliRunner

from coder import db as store
from coder import users
from coder.cli import cli
from coder.errors import CoderError

LOCKED = "一時的にロックされています"


def token(client):
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def try_login(client, name, password, next_=None):
    return client.post(
        "/login",
        query_string={"next": next_} if next_ else None,
        data={"name": name, "password": password, "csrf_token": token(client)},
    )


def with_db(project, action):
    database = store.open_db(project)
    try:
        return action(database)
    finally:
        database.close()


# 1. Open redirect after login


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "\t//evil.example",
        "/\x00/evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "///evil.example",
        "//evil.example",
        " //evil.example",
        "/\u3000/evil.example",
        "https:evil.example",
        "https://evil.example/x",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "evil.example",
        "",
    ],
)
def test_login_never_redirects_off_site(app, target):
    response = try_login(app.test_client(), "hanako", "hanako-password", next_=target or None)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_login_returns_to_the_page_asked_for(app):
    response = try_login(app.test_client(), "hanako", "hanako-password", next_="/transcripts/1?view=all")
    assert response.headers["Location"] == "/transcripts/1?view=all"


# 2. Throttling and lockout


def test_sixth_wrong_password_within_a_minute_is_throttled_even_if_right(app):
    client = app.test_client()
    assert [try_login(client, "hanako", "wrong-password").status_code for _ in range(5)] == [401] * 5
    response = try_login(client, "hanako", "hanako-password")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "試行が多すぎます" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert try_login(client, "taro", "taro-password").status_code == 302  # other accounts unaffected


def test_many_failures_from_one_address_throttle_every_name(app):
    client = app.test_client()
    for i in range(20):
        assert try_login(client, f"guess{i}", "wrong-password").status_code == 401
    assert try_login(client, "sato", "sato-password").status_code == 429


def test_right_passwords_are_never_throttled(app):
    client = app.test_client()
    assert all(try_login(client, "hanako", "hanako-password").status_code == 302 for _ in range(30))


def test_throttling_can_be_switched_off_in_config(project):
    from web import create_app

    app = create_app({"DATABASE": str(project), "TESTING": True, "SECRET_KEY": "t", "RATELIMIT_ENABLED": False})
    client = app.test_client()
    assert all(try_login(client, "hanako", "wrong-password").status_code == 401 for _ in range(9))
    assert try_login(client, "hanako", "hanako-password").status_code == 302


def test_ten_wrong_passwords_lock_the_account_until_unlocked(db):
    users.add_user(db, "hanako", "analyst", "right password")
    for _ in range(users.LOCKOUT_FAILURES):
        assert users.attempt_login(db, "hanako", "wrong password") is None
    with pytest.raises(users.AccountLocked):
        users.attempt_login(db, "hanako", "right password")
    users.unlock(db, "hanako")
    assert users.attempt_login(db, "hanako", "right password")["name"] == "hanako"


def test_a_right_password_resets_the_failure_count(db):
    users.add_user(db, "hanako", "analyst", "right password")
    for _ in range(users.LOCKOUT_FAILURES - 1):
        users.attempt_login(db, "hanako", "wrong password")
    assert users.attempt_login(db, "hanako", "right password")
    assert users.get_user(db, "hanako")["failed_logins"] == 0
    assert users.attempt_login(db, "hanako", "wrong password") is None
    assert users.attempt_login(db, "hanako", "right password")


def test_a_lockout_ends_by_itself_after_its_time(db):
    users.add_user(db, "hanako", "analyst", "right password")
    for _ in range(users.LOCKOUT_FAILURES):
        users.attempt_login(db, "hanako", "wrong password")
    db.execute("update users set locked_until = '2000-01-01T00:00:00+00:00'")
    assert users.attempt_login(db, "hanako", "right password")


def test_locked_account_is_refused_on_the_login_page_and_unknown_names_look_the_same(app, project):
    def lock(database):
        for _ in range(users.LOCKOUT_FAILURES):
            users.attempt_login(database, "hanako", "wrong")

    with_db(project, lock)
    client = app.test_client()
    response = try_login(client, "hanako", "hanako-password")
    page = response.get_data(as_text=True)
    assert response.status_code == 401 and "パスワードが違います" in page and LOCKED in page
    assert client.get("/").status_code == 302
    unknown = try_login(client, "nobody", "whatever-password").get_data(as_text=True)
    assert "パスワードが違います" in unknown and LOCKED not in unknown


def test_cli_unlocks_and_lists_account_status(project):
    def lock(database):
        for _ in range(users.LOCKOUT_FAILURES):
            users.attempt_login(database, "hanako", "wrong")

    with_db(project, lock)
    runner = CliRunner()
    assert "locked" in runner.invoke(cli, ["user", "list", "--db", str(project)]).output
    result = runner.invoke(cli, ["user", "unlock", "hanako", "--db", str(project)])
    assert result.exit_code == 0, result.output
    assert "locked" not in runner.invoke(cli, ["user", "list", "--db", str(project)]).output
    assert with_db(project, lambda d: users.attempt_login(d, "hanako", "hanako-password"))


# 3. Sessions end with logout, password change and disabling


def end_by_logout(app, project, client):
    assert client.post("/logout", data={"csrf_token": client.csrf}).status_code == 302


def end_by_cli_passwd(app, project, client):
    result = CliRunner().invoke(cli, ["user", "passwd", "hanako", "--db", str(project)], input="new-password\n" * 2)
    assert result.exit_code == 0, result.output


def end_by_cli_disable(app, project, client):
    result = CliRunner().invoke(cli, ["user", "disable", "hanako", "--db", str(project)])
    assert result.exit_code == 0, result.output


def end_by_web_password_change(app, project, client):
    response = client.post(
        "/password",
        data={
            "current": "hanako-password",
            "new": "brand-new-password",
            "confirm": "brand-new-password",
            "csrf_token": client.csrf,
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # the browser that changed it stays logged in


@pytest.mark.parametrize("end", [end_by_logout, end_by_cli_passwd, end_by_cli_disable, end_by_web_password_change])
def test_a_saved_session_cookie_stops_working(app, login, project, end):
    client = login("hanako")
    saved = client.get_cookie("session").value
    end(app, project, client)
    replay = app.test_client()
    replay.set_cookie("session", saved)
    response = replay.get("/transcripts/1")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert replay.get("/api/status").status_code == 401


def test_disabled_account_cannot_log_in_until_enabled(app, project):
    with_db(project, lambda d: users.disable(d, "hanako"))
    response = try_login(app.test_client(), "hanako", "hanako-password")
    assert response.status_code == 401 and "パスワードが違います" in response.get_data(as_text=True)
    assert "disabled" in CliRunner().invoke(cli, ["user", "list", "--db", str(project)]).output
    assert CliRunner().invoke(cli, ["user", "enable", "hanako", "--db", str(project)]).exit_code == 0
    assert try_login(app.test_client(), "hanako", "hanako-password").status_code == 302


def test_web_password_change_needs_the_current_password(login):
    client = login("hanako")
    response = client.post(
        "/password",
        data={
            "current": "wrong-password",
            "new": "brand-new-password",
            "confirm": "brand-new-password",
            "csrf_token": client.csrf,
        },
    )
    assert response.status_code == 400 and "現在のパスワード" in response.get_data(as_text=True)
    assert try_login(client, "hanako", "hanako-password").status_code == 302


# 4. The signing key lives outside the project database


@pytest.fixture
def fresh_app(project, monkeypatch):
    from web import create_app

    monkeypatch.delenv("CODER_SECRET_KEY", raising=False)
    return lambda: create_app({"DATABASE": str(project), "TESTING": True})


def test_signing_key_is_a_private_file_beside_the_project_not_in_it(fresh_app, project):
    first = fresh_app()
    secret = project.parent / f"{project.name}.secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert with_db(project, lambda d: store.get_setting(d, "secret_key")) is None
    assert first.config["SECRET_KEY"] not in str(with_db(project, lambda d: list(d["settings"].rows)))
    assert fresh_app().config["SECRET_KEY"] == first.config["SECRET_KEY"]


def test_a_session_survives_an_app_restart(fresh_app):
    client = fresh_app().test_client()
    assert try_login(client, "hanako", "hanako-password").status_code == 302
    replay = fresh_app().test_client()
    replay.set_cookie("session", client.get_cookie("session").value)
    assert replay.get("/").status_code == 200


def test_environment_key_wins(fresh_app, project, monkeypatch):
    monkeypatch.setenv("CODER_SECRET_KEY", "k" * 64)
    assert fresh_app().config["SECRET_KEY"] == "k" * 64
    assert not (project.parent / f"{project.name}.secret").exists()


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_key_file_others_can_read_is_refused(fresh_app, project):
    secret = project.parent / f"{project.name}.secret"
    secret.write_text("x" * 64)
    secret.chmod(0o644)
    with pytest.raises(CoderError, match="chmod 600"):
        fresh_app()


# 5. Nothing with interview text stays in the browser cache


def test_pages_api_answers_and_downloads_are_not_cached(login):
    client = login("hanako")
    responses = [
        client.get("/transcripts/1"),
        client.get("/api/status"),
        client.post("/export/", data={"format": "quotes-csv", "source": "all", "csrf_token": client.csrf}),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200]
    for response in responses:
        assert "no-store" in response.headers["Cache-Control"] and response.headers["Pragma"] == "no-cache"
    assert "no-store" not in client.get("/static/style.css").headers.get("Cache-Control", "")


# 6. The supervisors' accounts page


def post_action(client, name, action, project):
    user_id = with_db(project, lambda d: users.get_user(d, name)["id"])
    return client.post(f"/users/{user_id}/{action}", data={"csrf_token": client.csrf})


def test_accounts_page_is_for_supervisors_only(login):
    assert login("hanako").get("/users").status_code == 403
    page = login("sato").get("/users").get_data(as_text=True)
    assert all(name in page for name in ("hanako", "taro", "sato"))


def test_supervisor_lifts_a_lockout_on_the_accounts_page(app, login, project):
    def lock(database):
        for _ in range(users.LOCKOUT_FAILURES):
            users.attempt_login(database, "hanako", "wrong")

    with_db(project, lock)
    sato = login("sato")
    assert "ロック中" in sato.get("/users").get_data(as_text=True)
    assert post_action(sato, "hanako", "unlock", project).status_code == 302
    assert try_login(app.test_client(), "hanako", "hanako-password").status_code == 302


def test_supervisor_disables_an_account_and_its_session_ends(app, login, project):
    hanako, sato = login("hanako"), login("sato")
    assert post_action(sato, "hanako", "disable", project).status_code == 302
    assert "無効" in sato.get("/users").get_data(as_text=True)
    assert hanako.get("/").status_code == 302
    assert try_login(app.test_client(), "hanako", "hanako-password").status_code == 401
    assert post_action(sato, "hanako", "enable", project).status_code == 302
    assert try_login(app.test_client(), "hanako", "hanako-password").status_code == 302


def test_supervisor_cannot_disable_themselves_and_actions_need_csrf(login, project):
    sato = login("sato")
    assert post_action(sato, "sato", "disable", project).status_code == 400
    assert sato.get("/").status_code == 200
    user_id = with_db(project, lambda d: users.get_user(d, "hanako")["id"])
    assert sato.post(f"/users/{user_id}/disable").status_code == 400
    assert sato.post("/users/9999/disable", data={"csrf_token": sato.csrf}).status_code == 404
    assert with_db(project, lambda d: users.get_user(d, "hanako")["disabled_at"]) is None


def test_user_library_refuses_unknown_names(db):
    for action in (users.unlock, users.disable, users.enable):
        with pytest.raises(CoderError, match="no user"):
            action(db, "nobody")
