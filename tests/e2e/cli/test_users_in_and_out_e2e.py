"""Moving users in and out of a running `userflow local`, and finding them (issue 23): import
with every hash format and bad lines, login re-hashes, re-import creates nothing, export and
import round-trip with custom attributes, and GET /users filters with pagination."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.legacy_hashes import FOREIGN_HASHERS
from tests.support.local_stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("users_in_and_out")]

PASSWORD = "an imported passphrase"


def _table(stack: LocalStack) -> Any:
    db = boto3.client(
        "dynamodb",
        endpoint_url=stack.endpoint_url,
        region_name=stack.state["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    return db, stack.state["resources"]["UserRegistrationTable"]["physical_id"]


def _stored_hash(stack: LocalStack, user_id: str) -> str:
    db, table = _table(stack)
    item = db.get_item(
        TableName=table, Key={"PK": {"S": f"USER#{user_id}"}, "SK": {"S": "PROFILE"}}
    )
    return str(item["Item"]["password_hash"]["S"])


def _users(stack: LocalStack, *args: str) -> Any:
    return stack.run("userflow.cli", "users", *args)


def _report(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _admin_token(stack: LocalStack) -> str:
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    password = "administrator passphrase"
    stack.request("POST", "/users", json_body={"email": email, "password": password, "name": "A"})
    assert stack.run("userflow.cli", "admin", "grant", email, "--force").returncode == 0
    login = stack.request("POST", "/auth/login", json_body={"email": email, "password": password})
    return str(login.json()["access_token"])


def test_given_a_file_of_every_format_and_bad_lines_when_imported_then_users_log_in_and_rehash(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    good = {name: f"imp-{run}-{index}@example.com" for index, name in enumerate(FOREIGN_HASHERS)}
    lines = [
        json.dumps(
            {
                "email": email,
                "name": f"Imported {name}",
                "email_verified": True,
                "created_at": "2020-01-02T03:04:05Z",
                "password_hash": FOREIGN_HASHERS[name](PASSWORD),
                "metadata": {"plan": "legacy"},
                "app_metadata": {"crm": 42},
            }
        ).encode()
        for name, email in good.items()
    ]
    no_hash = f"imp-{run}-nohash@example.com"
    lines += [
        json.dumps({"email": no_hash, "name": "No Hash"}).encode(),
        json.dumps({"email": "not-an-email", "name": "X"}).encode(),
        json.dumps(
            {"email": f"imp-{run}-md5@example.com", "name": "X", "password_hash": "md5$x$y"}
        ).encode(),
        json.dumps({"email": good["PHC scrypt"].upper(), "name": "Duplicate"}).encode(),
        b'{"email": "' + b"x" * 70_000 + b'@example.com", "name": "Huge"}',
        b'{"email": "latin1-\xe9@example.com", "name": "X"}',
        b"not json at all",
        json.dumps(
            {
                "email": f"imp-{run}-deep@example.com",
                "name": "X",
                "metadata": {"a": 1} | {f"k{i}": i for i in range(60)},
            }
        ).encode(),
    ]
    source = tmp_path / "users.ndjson"
    source.write_bytes(b"\n".join(lines) + b"\n")
    report = tmp_path / "report.ndjson"

    result = _users(local_stack, "import", str(source), "--report", str(report), "--rate", "0")

    assert result.returncode == 1, result.stderr  # invalid lines are something left to do
    results = _report(report)
    assert [r["line"] for r in results] == list(range(1, len(lines) + 1))
    assert [r["result"] for r in results] == ["created"] * (len(good) + 1) + ["invalid"] * 7
    reasons = [r["reason"] for r in results[len(good) + 1 :]]
    assert "email" in reasons[0]
    assert "unknown hash format" in reasons[1]
    assert "duplicate" in reasons[2]
    assert "longer than" in reasons[3]
    assert reasons[4] == "not UTF-8"
    assert reasons[5] == "not JSON"
    assert "keys" in reasons[6]
    assert "md5$x$y" not in report.read_text()
    assert f"{len(good) + 1} created, 7 invalid" in result.stdout

    ids = {r["email"]: r["id"] for r in results if r["result"] == "created"}
    for email in good.values():
        login = local_stack.request(
            "POST", "/auth/login", json_body={"email": email, "password": PASSWORD}
        )
        assert login.status == 200, (email, login.body)
        assert _stored_hash(local_stack, ids[email]).startswith("$argon2id$")
        me = local_stack.request(
            "GET", "/users/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
        ).json()
        assert me["metadata"] == {"plan": "legacy"}
        assert me["app_metadata"] == {"crm": 42}
        assert me["email_verified"] is True
        assert me["created_at"] == "2020-01-02T03:04:05Z"
    refused = local_stack.request(
        "POST", "/auth/login", json_body={"email": no_hash, "password": PASSWORD}
    )
    assert refused.status == 401  # no hash: the user must reset

    again = _users(local_stack, "import", str(source), "--report", str(report), "--rate", "0")

    assert [r["result"] for r in _report(report)][: len(good) + 1] == ["exists"] * (len(good) + 1)
    assert "created" not in again.stdout


def test_given_users_when_exported_and_imported_elsewhere_then_they_round_trip(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    email = f"round-{uuid.uuid4().hex[:8]}@example.com"
    password = "a round trip passphrase"
    created = local_stack.request(
        "POST",
        "/users",
        json_body={"email": email, "password": password, "name": "Round", "metadata": {"a": [1]}},
    ).json()
    exported = tmp_path / "export.ndjson"

    result = _users(local_stack, "export", str(exported), "--include-password-hashes")

    assert result.returncode == 0, result.stderr
    assert "PASSWORD HASHES" in result.stderr
    assert exported.stat().st_mode & 0o777 == 0o600
    line = next(json.loads(x) for x in exported.read_text().splitlines() if email in x)
    assert line["id"] == created["id"]
    assert line["metadata"] == {"a": [1]}
    assert line["password_hash"].startswith("$argon2id$")
    without = _users(local_stack, "export", str(tmp_path / "plain.ndjson"))
    assert "password_hash" not in (tmp_path / "plain.ndjson").read_text()
    assert "PASSWORD" not in without.stderr

    # The same line, read back under a new address (the account itself exists here already).
    moved = tmp_path / "moved.ndjson"
    moved_email = "moved-" + email
    moved.write_text(json.dumps({**line, "email": moved_email, "id": str(uuid.uuid4())}) + "\n")
    report = tmp_path / "moved-report.ndjson"
    imported = _users(local_stack, "import", str(moved), "--report", str(report), "--rate", "0")

    assert imported.returncode == 0, imported.stderr
    assert _report(report)[0]["result"] == "created"
    login = local_stack.request(
        "POST", "/auth/login", json_body={"email": moved_email, "password": password}
    )
    assert login.status == 200


def test_given_users_when_searched_then_every_filter_pages_and_hostile_values_are_422(
    local_stack: LocalStack,
) -> None:
    token = _admin_token(local_stack)
    auth = {"Authorization": f"Bearer {token}"}
    prefix = f"find-{uuid.uuid4().hex[:8]}"
    for index in range(5):
        local_stack.request(
            "POST",
            "/users",
            json_body={"email": f"{prefix}-{index}@example.com", "password": PASSWORD, "name": "F"},
        )

    def all_pages(query: str) -> list[str]:
        emails, cursor = [], ""
        while True:
            page = local_stack.request("GET", f"/users?limit=2&{query}{cursor}", headers=auth)
            assert page.status == 200, page.body
            emails += [user["email"] for user in page.json()["items"]]
            if not page.json()["next_cursor"]:
                return emails
            cursor = f"&cursor={page.json()['next_cursor']}"

    expected = [f"{prefix}-{index}@example.com" for index in range(5)]
    assert all_pages(f"email_prefix={prefix.upper()}") == expected
    assert all_pages(f"email_prefix={prefix}&email_verified=false&status=active") == expected
    assert all_pages(f"email_prefix={prefix}&email_verified=true") == []
    assert all_pages(f"email_prefix={prefix}&status=disabled") == []
    mine = [e for e in all_pages("created_after=2020-01-01&status=active") if e.startswith(prefix)]
    assert mine == expected
    assert not [e for e in all_pages("created_before=2020-01-01") if e.startswith(prefix)]
    updated = all_pages("updated_since=2020-01-01T00:00:00Z&email_verified=false")
    assert [e for e in updated if e.startswith(prefix)] == expected

    for hostile in [
        "email_prefix=" + "a" * 300,
        "email_prefix=%00abc",
        "email_prefix=a%1Fb",
        "created_after=yesterday",
        "updated_since=2026-13-45",
        "status=deleted",
        "email_verified=maybe",
        "limit=0",
        "cursor=forged.cursor",
    ]:
        answer = local_stack.request("GET", f"/users?{hostile}", headers=auth)
        assert answer.status == 422, (hostile, answer.body)
    first = local_stack.request("GET", f"/users?limit=1&email_prefix={prefix}", headers=auth)
    other = local_stack.request(
        "GET", f"/users?status=active&cursor={first.json()['next_cursor']}", headers=auth
    )
    assert other.status == 422  # a cursor is good only for its own query
