"""`userflow users export FILE.ndjson`: every user, one JSON object per line, read page by page
(one page in memory at a time). With --include-password-hashes each line also carries the hash in
a form `userflow users import` (and most password libraries) read: PHC strings, bcrypt, Django's.
For tables beyond what a scan should carry, DynamoDB's own export to S3 (docs/deploy.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from adapters.user_items import USER_PREFIX, USER_SK, account_from_item
from domain.passwords import SCRYPT_PREFIX

PAGE_ITEMS = 500


def user_items(db: Any, table: str) -> Iterator[dict[str, Any]]:
    paginator = db.get_paginator("scan")
    for page in paginator.paginate(
        TableName=table,
        FilterExpression="begins_with(PK, :user) AND SK = :profile",
        ExpressionAttributeValues={":user": {"S": USER_PREFIX}, ":profile": {"S": USER_SK}},
        PaginationConfig={"PageSize": PAGE_ITEMS},
    ):
        yield from page["Items"]


def phc(encoded: str) -> str:
    """A stored hash as a PHC string: our earliest format, ``scrypt$log2N$r$p$salt$hash``, is
    scrypt's PHC form with other separators; every other stored hash is one already."""
    if not encoded.startswith(SCRYPT_PREFIX):
        return encoded
    _, log2_n, block, lanes, salt, digest = encoded.split("$")
    return f"$scrypt$ln={log2_n},r={block},p={lanes}${salt}${digest}"


def export_line(item: dict[str, Any], include_hashes: bool) -> str:
    account = account_from_item(item)
    line: dict[str, Any] = account.user.model_dump(mode="json")
    if include_hashes:
        line["password_hash"] = phc(account.password_hash)
    return json.dumps(line, ensure_ascii=False)


def run_export(db: Any, table: str, out: IO[str], *, include_hashes: bool, progress: Any) -> int:
    count = 0
    for item in user_items(db, table):
        out.write(export_line(item, include_hashes) + "\n")
        count += 1
        progress.update(1)
    return count
