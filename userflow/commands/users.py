"""`userflow users import|export|backfill`: move users in and out of a stack, and give existing
items the keys of the search indexes (docs/users/migration.md)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from userflow.errors import EXIT_FAILED, EXIT_USAGE, CommandError
from userflow.local_state import state_file
from userflow.stack import add_stack_arguments, resolve_stack

HASH_WARNING = """\
WARNING: {path} holds PASSWORD HASHES. Anyone with this file can try to guess every user's
password offline. Keep it encrypted, move it only over encrypted channels, and delete it as soon
as the import on the other side is done. (Written with permissions 0600.)"""


def register(subparsers: Any) -> None:
    users = subparsers.add_parser("users", help="import, export and re-index a stack's users")
    commands = users.add_subparsers(dest="users_command", required=True)

    do_import = commands.add_parser(
        "import",
        help="create users from an NDJSON file (one user per line), idempotent by email",
    )
    do_import.add_argument("file", type=Path)
    do_import.add_argument("--dry-run", action="store_true", help="check every line, write nothing")
    do_import.add_argument(
        "--report", type=Path, help="where to write a result per line (default: beside FILE)"
    )
    do_import.add_argument(
        "--rate", type=float, default=50.0, help="users written per second at most (default 50)"
    )
    add_stack_arguments(do_import)
    do_import.set_defaults(run=run_import)

    export = commands.add_parser("export", help="write every user to an NDJSON file")
    export.add_argument("file", type=Path)
    export.add_argument(
        "--include-password-hashes",
        action="store_true",
        help="add each user's password hash (PHC form): the file then holds secrets",
    )
    add_stack_arguments(export)
    export.set_defaults(run=run_export)

    backfill = commands.add_parser(
        "backfill", help="give every stored user the search indexes' keys (after a deploy)"
    )
    backfill.add_argument(
        "--rate", type=float, default=200.0, help="items written per second at most (default 200)"
    )
    backfill.add_argument("--restart", action="store_true", help="forget a saved position")
    add_stack_arguments(backfill)
    backfill.set_defaults(run=run_backfill)


def _progress(**options: Any) -> Any:
    from tqdm import tqdm

    return tqdm(file=sys.stderr, disable=None, dynamic_ncols=True, **options)


def run_import(args: argparse.Namespace) -> int:
    from domain.passwords import PasswordHasher
    from domain.user_import import Result, UserImporter
    from handlers.policies import metadata_policy
    from handlers.settings import MetadataSettings, SettingsError, load
    from userflow.users.importer import default_report
    from userflow.users.importer import run_import as import_file
    from userflow.users.stack_access import function_environment, new_request_id, repository

    if not args.file.is_file():
        raise CommandError(f"import: no such file: {args.file}", EXIT_USAGE)
    stack = resolve_stack(args)
    request_id = new_request_id("import")
    try:
        policy = metadata_policy(load(MetadataSettings, function_environment(stack)))
    except SettingsError as error:
        raise CommandError(f"import: the stack's settings are invalid: {error}") from None
    importer = UserImporter(repository(stack, request_id), PasswordHasher(), policy)
    report_path = args.report or default_report(args.file)
    with (
        report_path.open("w", encoding="utf-8") as report,
        _progress(
            total=args.file.stat().st_size, unit="B", unit_scale=True, desc="import"
        ) as progress,
    ):
        counts = import_file(
            importer, args.file, report, dry_run=args.dry_run, rate=args.rate, progress=progress
        )
    summary = ", ".join(f"{counts[result]} {result}" for result in Result if counts[result])
    print(f"{'dry run: ' if args.dry_run else ''}{summary or 'no lines'}")
    print(f"report (a result per line): {report_path}")
    print(f"request id (correlation_id of the UserCreated events): {request_id}")
    return EXIT_FAILED if counts[Result.INVALID] else 0


def run_export(args: argparse.Namespace) -> int:
    from userflow.users.exporter import run_export as export_users

    stack = resolve_stack(args)
    table = stack.physical_id("UserRegistrationTable")
    db = stack.client("dynamodb")
    total = db.describe_table(TableName=table)["Table"].get("ItemCount")
    if args.include_password_hashes:
        print(HASH_WARNING.format(path=args.file), file=sys.stderr)
    descriptor = os.open(args.file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with (
        os.fdopen(descriptor, "w", encoding="utf-8") as out,
        _progress(unit=" users", desc="export", total=total or None) as progress,
    ):
        count = export_users(
            db, table, out, include_hashes=args.include_password_hashes, progress=progress
        )
    print(f"exported {count} users to {args.file}")
    if args.include_password_hashes:
        print(HASH_WARNING.format(path=args.file), file=sys.stderr)
    return 0


def run_backfill(args: argparse.Namespace) -> int:
    from handlers.settings import TableSettings, load
    from userflow.users.backfill import backfill
    from userflow.users.stack_access import function_environment

    stack = resolve_stack(args)
    table = stack.physical_id("UserRegistrationTable")
    shards = load(TableSettings, {**function_environment(stack), "TABLE_NAME": table})
    checkpoint = state_file().parent / f"backfill-{stack.name}-{table}.json"
    if args.restart:
        checkpoint.unlink(missing_ok=True)
    elif checkpoint.exists():
        print(f"resuming from the position saved in {checkpoint}", file=sys.stderr)
    with _progress(unit=" items", desc="backfill") as progress:
        counts = backfill(
            stack.client("dynamodb"),
            table,
            shards.user_index_shards,
            checkpoint,
            rate=args.rate,
            progress=progress,
        )
    print(", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "no items")
    return 0
