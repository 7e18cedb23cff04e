"""``renkei identity hash|check``: the staff users file of the staff login (renkei.identity)."""

from __future__ import annotations

from pathlib import Path

import click

from renkei.identity import hash_password, load_users


@click.group("identity")
def identity() -> None:
    """The staff login of the staff view and the data catalogue: a users file (YAML, 0600)
    with scrypt password hashes, named by RENKEI_STAFF_USERS_FILE (docs/security.md)."""


@identity.command("hash")
def hash_cmd() -> None:
    """Ask for a password (twice, not echoed) and print its scrypt hash for the users file's
    password_hash. The password itself is never printed or stored."""
    password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise click.ClickException("empty password")
    click.echo(hash_password(password))


@identity.command("check")
@click.argument("users_file", type=click.Path(dir_okay=False, path_type=Path))
def check_cmd(users_file: Path) -> None:
    """Check a users file (readable, 0600, every user with an id and a hash) and list its user
    ids; exits 1 naming the problem otherwise."""
    users = load_users(users_file)
    for user_id, user in users.items():
        click.echo(f"{user_id}\t{user.identity.display_name}\t{','.join(user.identity.roles)}")
    click.echo(f"{len(users)} users, ok")
