"""``renkei audit verify|show``: check and read the hash-chained audit log."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from renkei.audit import AuditFile, audit_path
from renkei.audit.crosscheck import compare, default_log_id, read_topic
from renkei.audit.signing import (
    PRIVATE_NAME,
    PUBLIC_NAME,
    append_checkpoint,
    check_checkpoints,
    generate_key,
    key_id,
    load_private_key,
    load_public_key,
    read_checkpoints,
    sign_head,
    signatures_path,
    signing_dir,
)
from renkei.cli.common import run, settings_of
from renkei.errors import AuditError

_FILE_HELP = "Audit file (default: $RENKEI_HOME/audit/audit.jsonl)."


@click.group("audit")
def audit() -> None:
    """The tamper-evident audit log (agreements, ACLs, view deliveries, disaster releases)."""


def _file(ctx: click.Context, path: Path | None) -> AuditFile:
    return AuditFile(path or audit_path(settings_of(ctx)))


@audit.command("verify")
@click.option("--file", "path", type=click.Path(path_type=Path), help=_FILE_HELP)
@click.option(
    "--against-topic",
    is_flag=True,
    help="Also compare the file with its copy on the audit.access topic (needs the broker).",
)
@click.option(
    "--log-id",
    help="With --against-topic: the log_id the records were written under "
    "(default: <this host>:<file path>).",
)
@click.option(
    "--public-key",
    type=click.Path(path_type=Path),
    help="The audit principal's public key (default: "
    f"$RENKEI_HOME/secrets/audit/{PUBLIC_NAME} when it exists).",
)
@click.option(
    "--require-signature",
    is_flag=True,
    help="Fail when the file has no signed head (no .sig file, or no public key to check it).",
)
@click.pass_context
def verify(
    ctx: click.Context,
    path: Path | None,
    against_topic: bool,
    log_id: str | None,
    public_key: Path | None,
    require_signature: bool,
) -> None:
    """Check the hash chain: every record's hash, its link to the previous record, the
    numbering, that the file ends where its .head file says, and the signed heads.

    Prints where the chain breaks and exits 1 on a changed, deleted, inserted or reordered
    record; exits 0 and prints the record count when the log is intact. Each signed head in
    audit.jsonl.sig (`renkei audit sign`) must carry a valid signature of the audit principal's
    key and match the file: a file rewritten consistently (chain and head) up to a signed head
    is caught. With --against-topic such a rewrite is caught too: every record the topic holds
    for this file must be in the file with the same hash.
    """
    file = _file(ctx, path)
    matched = 0
    signed = ""
    try:
        result = file.verify()
        problems: list[str] = [str(p) for p in result.problems]
        checkpoints = read_checkpoints(signatures_path(file.path))
        key_path = public_key or signing_dir(settings_of(ctx).home) / PUBLIC_NAME
        if checkpoints and key_path.is_file():
            public = load_public_key(key_path)
            check = check_checkpoints(checkpoints, file.records(), public, log=file.path.name)
            problems += [str(p) for p in check.problems]
            after = (result.last_sequence or 0) - (check.signed_sequence or -1)
            signed = (
                f", signed up to sequence {check.signed_sequence} by key "
                f"{key_id(public)[:16]}… ({check.checkpoints} signed head(s); {after} record(s) "
                "after it are protected by the chain only)"
                if check.signed_sequence is not None
                else ""
            )
        elif checkpoints:
            message = f"{len(checkpoints)} signed head(s) but no public key at {key_path}"
            if require_signature or public_key is not None:
                problems.append(message)
            else:
                click.echo(f"note: {message}: signatures not checked", err=True)
        elif require_signature:
            problems.append(
                f"no signed head: {signatures_path(file.path)} (run `renkei audit sign`)"
            )
        if against_topic:
            topic = run(read_topic(settings_of(ctx)))
            cross = compare(file.records(), topic, log_id or default_log_id(file.path))
            problems += [str(p) for p in cross.problems]
            matched = cross.compared
            if cross.not_in_topic:
                click.echo(
                    f"note: {len(cross.not_in_topic)} record(s) of the file are not on the topic "
                    f"(not produced?): sequences {cross.not_in_topic[:10]}",
                    err=True,
                )
    except AuditError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(1)
    if not problems:
        last = "-" if result.last_sequence is None else result.last_sequence
        anchored = f", {matched} matched on the topic" if against_topic else ""
        click.echo(
            f"ok: {result.records} record(s), chain intact, last sequence {last}, "
            f"head {result.last_hash[:16]}…{anchored}{signed} ({file.path})"
        )
        return
    click.secho(f"BROKEN: {file.path}", fg="red", err=True)
    for problem in problems[:50]:
        click.echo(f"  {problem}", err=True)
    if len(problems) > 50:
        click.echo(f"  … and {len(problems) - 50} more", err=True)
    sys.exit(1)


@audit.command("show")
@click.option("--file", "path", type=click.Path(path_type=Path), help=_FILE_HELP)
@click.option("--kind", "kinds", multiple=True, help="Only records of these kinds.")
@click.option("--last", type=int, default=0, help="Only the last N records (0 = all).")
@click.option("--json", "as_json", is_flag=True, help="Print each record as one JSON line.")
@click.pass_context
def show(
    ctx: click.Context, path: Path | None, kinds: tuple[str, ...], last: int, as_json: bool
) -> None:
    """Print the audit records (well-formed lines only; run `verify` to check the chain)."""
    file = _file(ctx, path)
    if not file.path.exists():
        click.secho(f"error: audit file not found: {file.path}", fg="red", err=True)
        sys.exit(1)
    records = [r for r in file.records() if not kinds or r["kind"] in kinds]
    for record in records[-last:] if last > 0 else records:
        if as_json:
            click.echo(json.dumps(record, ensure_ascii=False, sort_keys=True))
            continue
        details = json.dumps(record["details"], ensure_ascii=False, sort_keys=True)
        click.echo(
            f"{record['sequence']:>6} {record['recorded_at']} {record['kind']:<20} "
            f"{record['actor']}  {details}"
        )


@audit.command("keygen")
@click.option(
    "--dir",
    "folder",
    type=click.Path(path_type=Path),
    help="Where to put the key pair (default: $RENKEI_HOME/secrets/audit, made 0700).",
)
@click.pass_context
def keygen(ctx: click.Context, folder: Path | None) -> None:
    """Create the audit principal's Ed25519 signing key (once, on the audit principal's host).

    The private key (0600) signs the chain heads (`renkei audit sign`); stages and other
    writers never need it. Hand the public key to whoever verifies. Refuses to overwrite.
    """
    folder = folder or signing_dir(settings_of(ctx).home)
    try:
        private, public, kid = generate_key(folder)
    except AuditError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(1)
    click.echo(f"private key: {private} (0600; keep it on the audit principal's host only)")
    click.echo(f"public key:  {public}")
    click.echo(f"key id:      {kid}")


@audit.command("sign")
@click.option("--file", "path", type=click.Path(path_type=Path), help=_FILE_HELP)
@click.option(
    "--key",
    type=click.Path(path_type=Path),
    help=f"The private key (default: $RENKEI_HOME/secrets/audit/{PRIVATE_NAME}).",
)
@click.pass_context
def sign(ctx: click.Context, path: Path | None, key: Path | None) -> None:
    """Sign the audit file's current head as the audit principal (run it after each release
    day, or from cron).

    Verifies the chain (and earlier signed heads) first and signs nothing when it is broken;
    then appends one signed head (sequence, hash, Ed25519 signature) to audit.jsonl.sig.
    Refuses a key its folder or file lets others read.
    """
    file = _file(ctx, path)
    key_path = key or signing_dir(settings_of(ctx).home) / PRIVATE_NAME
    try:
        private = load_private_key(key_path)
        result = file.verify()
        problems = [str(p) for p in result.problems]
        sig_path = signatures_path(file.path)
        problems += check_checkpoints(
            read_checkpoints(sig_path), file.records(), private.public_key(), log=file.path.name
        ).problems
    except AuditError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(1)
    if problems:
        click.secho(f"BROKEN: {file.path}: not signed", fg="red", err=True)
        for problem in problems[:50]:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    if result.last_sequence is None:
        click.secho(f"error: {file.path} holds no record to sign", fg="red", err=True)
        sys.exit(1)
    checkpoint = sign_head(
        private,
        log=file.path.name,
        sequence=result.last_sequence,
        record_hash=result.last_hash,
        records=result.records,
    )
    append_checkpoint(sig_path, checkpoint)
    click.echo(
        f"signed: sequence {result.last_sequence}, head {result.last_hash[:16]}…, key "
        f"{checkpoint['key_id'][:16]}… -> {sig_path}"
    )
