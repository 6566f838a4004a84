import pytest

from coder import users
from coder.errors import CoderError


def test_added_user_can_authenticate_and_only_a_hash_is_stored(db):
    users.add_user(db, "hanako", "analyst", "correct horse")
    assert users.authenticate(db, "hanako", "correct horse")["role"] == "analyst"
    assert users.authenticate(db, "hanako", "wrong horse") is None
    assert users.authenticate(db, "nobody", "correct horse") is None
    assert "correct horse" not in str(list(db["users"].rows))


@pytest.mark.parametrize(
    "name, role, password, message",
    [
        ("hanako", "admin", "long enough", "unknown role"),
        ("a b", "analyst", "long enough", "without spaces"),
        ("model:v1", "analyst", "long enough", "reserved"),
        ("hanako", "analyst", "short", "too short"),
    ],
)
def test_bad_accounts_are_refused_with_a_reason(db, name, role, password, message):
    with pytest.raises(CoderError, match=message):
        users.add_user(db, name, role, password)
    assert db["users"].count == 0


def test_duplicate_user_is_refused_and_password_can_be_changed(db):
    users.add_user(db, "hanako", "analyst", "first password")
    with pytest.raises(CoderError, match="already exists"):
        users.add_user(db, "hanako", "supervisor", "other password")
    users.set_password(db, "hanako", "second password")
    assert users.authenticate(db, "hanako", "second password") and not users.authenticate(
        db, "hanako", "first password"
    )


def test_cli_adds_a_user_from_a_password_file(tmp_path):
    from click.testing import CliRunner

    from coder.cli import cli

    secret = tmp_path / "pw.txt"
    secret.write_text("s3cret-passphrase\n", encoding="utf-8")
    runner = CliRunner()
    db = str(tmp_path / "p.db")
    assert runner.invoke(cli, ["init", "--db", db]).exit_code == 0
    result = runner.invoke(
        cli, ["user", "add", "sato", "--role", "supervisor", "--password-file", str(secret), "--db", db]
    )
    assert result.exit_code == 0, result.output
    assert "sato" in runner.invoke(cli, ["user", "list", "--db", db]).output
    prompted = runner.invoke(cli, ["user", "add", "ken", "--db", db], input="another-pass\nanother-pass\n")
    assert prompted.exit_code == 0 and "ken (analyst)" in prompted.output
