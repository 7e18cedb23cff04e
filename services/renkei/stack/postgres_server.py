"""A department database for change data capture: PostgreSQL from Debian's packages.

Phases of :func:`start_postgres` (called by ``renkei stack up --cdc``):

1. find the server programs (``/usr/lib/postgresql/<major>/bin``; package ``postgresql``);
2. ``initdb`` of ``data/postgres-<major>`` the first time — as the ``postgres`` user when run
   as root (PostgreSQL refuses to run as root); local socket trust, TCP by SCRAM password;
3. start it with ``pg_ctl`` on 127.0.0.1 with ``wal_level = logical`` (what a logical
   replication slot, hence Debezium, needs), its socket in ``run/postgres``;
4. :func:`prepare_department_database`: the connector's user (LOGIN REPLICATION, password in
   ``secrets/cdc/<user>.password``), the database and the legacy table of
   ``deploy/cdc/jumin-kiroku.sql`` with ``REPLICA IDENTITY FULL`` and a publication.

The server carries ``--renkei.stack=postgres --renkei.home=<home>`` (custom settings): the
marker check of :mod:`renkei.stack.processes` recognises it by them. It is stopped with
``pg_ctl stop -m fast`` (a replication connection would hold up a smart shutdown).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from renkei.errors import StackError
from renkei.settings import Settings
from renkei.stack.layout import StackLayout
from renkei.stack.processes import PidRecord, marker_args, now_iso, write_pid_record
from renkei.stack.reporting import Progress, with_excerpt
from renkei.stack.secure_tls import write_private

POSTGRES = "postgres"
OS_USER = "postgres"
PUBLICATION = "renkei_cdc"


@dataclass(frozen=True)
class PostgresInstall:
    """The server programs of one PostgreSQL major version."""

    bin: Path
    major: int

    def program(self, name: str) -> str:
        return str(self.bin / name)


def find_postgres() -> PostgresInstall:
    """The newest PostgreSQL under /usr/lib/postgresql (Debian's layout), else StackError."""
    found = []
    for folder in Path("/usr/lib/postgresql").glob("*/bin"):
        if (folder / "pg_ctl").is_file() and folder.parent.name.isdigit():
            found.append(PostgresInstall(folder, int(folder.parent.name)))
    if not found:
        raise StackError(
            "PostgreSQL server programs not found under /usr/lib/postgresql; install Debian's "
            "package: apt-get install postgresql (scripts/system-deps.sh does it in CI)"
        )
    return max(found, key=lambda install: install.major)


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run as the ``postgres`` user then."""
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser")
    if runuser is None:
        raise StackError("running as root needs `runuser` (util-linux) to start PostgreSQL")
    return [runuser, "-u", OS_USER, "--", *command]


def _give_to_server_user(*folders: Path) -> None:
    if os.geteuid() != 0:
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
        return
    import pwd

    entry = pwd.getpwnam(OS_USER)
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        folder.chmod(0o700)


def _run(command: list[str], what: str, log: Path, timeout: float = 120.0) -> str:
    done = subprocess.run(
        _as_server_user(command),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as out:
            out.write(f"$ {' '.join(command)}\n{done.stdout}{done.stderr}\n")
        raise StackError(with_excerpt(f"{what} failed (exit {done.returncode})", log))
    return done.stdout


@functools.cache
def _reachable_by_server_user(folder: Path) -> bool:
    """Whether the ``postgres`` user can enter ``folder`` (every parent must let it pass)."""
    if os.geteuid() != 0:
        return True
    done = subprocess.run(
        _as_server_user(["test", "-x", str(folder)]), capture_output=True, check=False
    )
    return done.returncode == 0


def server_root(layout: StackLayout) -> Path | None:
    """Where the server's files go when the stack home is closed to the ``postgres`` user (a
    checkout under a private folder): a folder of its own under its home directory, named after
    the stack home. None: the stack home's own ``data/``, ``run/`` and ``logs/`` are used."""
    if _reachable_by_server_user(layout.home):
        return None
    digest = hashlib.sha1(str(layout.home).encode(), usedforsecurity=False).hexdigest()[:12]
    return Path("/var/lib/postgresql") / f"renkei-{digest}"


def data_dir(layout: StackLayout, install: PostgresInstall | int) -> Path:
    major = install if isinstance(install, int) else install.major
    root = server_root(layout)
    return (root or layout.data) / f"postgres-{major}"


def socket_dir(layout: StackLayout) -> Path:
    root = server_root(layout)
    return root / "run" if root else layout.run / "postgres"


def log_file(layout: StackLayout) -> Path:
    root = server_root(layout)
    return root / "postgres.log" if root else layout.logs / "postgres.log"


def server_settings(settings: Settings, layout: StackLayout) -> list[tuple[str, str]]:
    """postgresql.conf lines: loopback only, logical decoding, small memory."""
    return [
        ("listen_addresses", "'127.0.0.1'"),
        ("port", str(settings.cdc_database_port)),
        ("unix_socket_directories", f"'{socket_dir(layout)}'"),
        ("wal_level", "logical"),
        ("max_wal_senders", "10"),
        ("max_replication_slots", "10"),
        ("shared_buffers", "32MB"),
        ("log_min_messages", "warning"),
    ]


def ensure_cluster(settings: Settings, layout: StackLayout, install: PostgresInstall) -> Path:
    """``initdb`` the data folder the first time; (re)write Renkei's settings; the folder."""
    data = data_dir(layout, install)
    layout.run.mkdir(parents=True, exist_ok=True)
    root = server_root(layout)
    if root is not None:
        _give_to_server_user(root)
    _give_to_server_user(socket_dir(layout))
    if not (data / "PG_VERSION").is_file():
        _give_to_server_user(data)
        command = [install.program("initdb"), "-D", str(data), "-U", OS_USER, "-E", "UTF8"]
        command += ["--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256"]
        _run(command, "initdb", log_file(layout))
    conf = data / "postgresql.conf"
    text = _read_as_server(conf)
    marker = "# --- renkei stack ---"
    base = text.split(marker)[0].rstrip("\n")
    lines = "".join(f"{key} = {value}\n" for key, value in server_settings(settings, layout))
    _write_as_server(conf, f"{base}\n{marker}\n{lines}")
    return data


def _read_as_server(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _write_as_server(path: Path, text: str) -> None:
    stat = path.stat()
    path.write_text(text, encoding="utf-8")
    if os.geteuid() == 0:
        os.chown(path, stat.st_uid, stat.st_gid)


def start_postgres(
    settings: Settings, layout: StackLayout, progress: Progress, timeout: float = 60.0
) -> PidRecord:
    """initdb if new, start, record the postmaster's pid, prepare the department database."""
    install = find_postgres()
    data = ensure_cluster(settings, layout, install)
    layout.logs.mkdir(parents=True, exist_ok=True)
    log = log_file(layout)
    log.parent.mkdir(parents=True, exist_ok=True)
    if not log.exists():
        log.touch()
    if os.geteuid() == 0:
        import pwd

        entry = pwd.getpwnam(OS_USER)
        os.chown(log, entry.pw_uid, entry.pw_gid)
    address = f"127.0.0.1:{settings.cdc_database_port}"
    progress(f"postgres {install.major}: starting on {address} (data {data})")
    markers = " ".join(f"--{m.removeprefix('-D')}" for m in marker_args(POSTGRES, layout.home))
    command = [install.program("pg_ctl"), "-D", str(data), "-l", str(log), "-w"]
    command += ["-t", str(int(timeout)), "-o", markers, "start"]
    _run(command, "starting PostgreSQL", log, timeout=timeout + 10)
    pid = int((data / "postmaster.pid").read_text(encoding="utf-8").split()[0])
    record = PidRecord(
        POSTGRES, pid, str(install.major), address, str(layout.home), str(log), now_iso()
    )
    write_pid_record(layout.pid_file(POSTGRES), record)
    return record


def stop_postgres(layout: StackLayout, record: PidRecord, timeout: float = 60.0) -> None:
    """``pg_ctl stop -m fast`` of the cluster the record names."""
    data = data_dir(layout, int(record.version))
    install = find_postgres()
    command = [install.program("pg_ctl"), "-D", str(data), "-m", "fast", "-w"]
    command += ["-t", str(int(timeout)), "stop"]
    _run(command, "stopping PostgreSQL", log_file(layout), timeout=timeout + 10)


def psql(
    layout: StackLayout,
    settings: Settings,
    sql: str,
    *,
    database: str = "postgres",
    variables: dict[str, str] | None = None,
) -> str:
    """Run ``sql`` as the database superuser over the local socket; its output (unaligned)."""
    install = find_postgres()
    command = [install.program("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
    command += ["-h", str(socket_dir(layout)), "-p", str(settings.cdc_database_port)]
    command += ["-U", OS_USER, "-d", database]
    for name, value in (variables or {}).items():
        command += ["-v", f"{name}={value}"]
    done = subprocess.run(
        _as_server_user(command),
        input=sql,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise StackError(f"psql on {database} failed: {done.stderr.strip()[:800]}")
    return done.stdout


def password_path(settings: Settings) -> Path:
    """The connector user's password file (generated by the local stack)."""
    if settings.cdc_database_password_file is not None:
        return settings.cdc_database_password_file
    return settings.home / "secrets" / "cdc" / f"{settings.cdc_database_user}.password"


def ensure_cdc_password(settings: Settings) -> str:
    path = password_path(settings)
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    password = secrets.token_urlsafe(24)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, password.encode() + b"\n")
    return password


def table_sql() -> str:
    """The legacy 住民記録 table of the demo department database (deploy/cdc/)."""
    relative = Path("deploy") / "cdc" / "jumin-kiroku.sql"
    for folder in [*Path(__file__).resolve().parents, Path.cwd()]:
        if (folder / relative).is_file():
            return (folder / relative).read_text(encoding="utf-8")
    raise StackError(f"{relative} not found: run `renkei stack` from a Renkei checkout")


_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def prepare_department_database(
    settings: Settings, layout: StackLayout, database: str | None = None
) -> None:
    """The connector's user, ``database`` with the legacy table, REPLICA IDENTITY FULL, the
    SELECT grant and the publication. Idempotent."""
    name = database or settings.cdc_database_name
    user = settings.cdc_database_user
    for ident in (name, user):
        if not _IDENT.match(ident):
            raise StackError(f"{ident!r}: use lower-case letters, digits and _ for database names")
    password = ensure_cdc_password(settings).replace("'", "''")
    psql(
        layout,
        settings,
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{user}') THEN
            CREATE ROLE {user} LOGIN REPLICATION PASSWORD '{password}';
          ELSE
            ALTER ROLE {user} LOGIN REPLICATION PASSWORD '{password}';
          END IF;
        END $$;
        SELECT 'CREATE DATABASE {name}' WHERE NOT EXISTS
          (SELECT FROM pg_database WHERE datname = '{name}') \\gexec
        """,
    )
    psql(layout, settings, table_sql(), database=name, variables={"cdc_user": user})
    psql(
        layout,
        settings,
        f"""
        SELECT 'CREATE PUBLICATION {PUBLICATION} FOR TABLE public.jumin_kiroku' WHERE NOT EXISTS
          (SELECT FROM pg_publication WHERE pubname = '{PUBLICATION}') \\gexec
        """,
        database=name,
    )
