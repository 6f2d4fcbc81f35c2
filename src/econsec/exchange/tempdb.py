"""A throwaway PostgreSQL cluster from the distribution's server binaries.

Used by the test suite (a session-scoped fixture) and the load benchmark, and
handy for trying the exchange against PostgreSQL without installing a service:
``initdb`` on a temporary data directory, ``pg_ctl start`` on a free loopback
port with a private unix-socket directory, databases created on demand, and
everything stopped and removed at the end.

``initdb`` refuses to run as root: as root the cluster runs as the ``postgres``
system user (``runuser -u postgres --``), in a directory owned by it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: The cluster's superuser (trust authentication, loopback and socket only).
SUPERUSER = "econsec"


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server binaries, or no way to run them here."""


def find_bindir() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``, or None.

    Tried in order: ``$ECONSEC_PG_BINDIR``, ``pg_config --bindir``, the highest
    ``/usr/lib/postgresql/*/bin`` (Debian), ``initdb`` on the PATH.
    """
    candidates: list[Path] = []
    if os.environ.get("ECONSEC_PG_BINDIR"):
        candidates.append(Path(os.environ["ECONSEC_PG_BINDIR"]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
            candidates.append(Path(out))

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(p) for p in path.parent.name.split(".") if p.isdigit())

    candidates.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for candidate in candidates:
        if all((candidate / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return candidate
    return None


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class TempPostgres:
    """A running throwaway cluster; :meth:`stop` stops it and removes its files."""

    bindir: Path
    base: Path
    port: int
    run_as: Sequence[str]
    _counter: int = field(default=0, repr=False)

    @property
    def datadir(self) -> Path:
        return self.base / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base / "socket"

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` (psycopg 3 over loopback TCP)."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def execute(self, *statements: str, database: str = "postgres") -> None:
        """Run statements outside a transaction (CREATE/DROP DATABASE) as the superuser."""
        import psycopg  # noqa: PLC0415

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=database, autocommit=True
        ) as con:
            for statement in statements:
                con.execute(statement.encode("utf-8"))

    def create_database(self, prefix: str = "econsec", template: str | None = None) -> str:
        """A new empty database (a copy of ``template`` if given); returns its name."""
        self._counter += 1
        name = f"{prefix}_{os.getpid()}_{self._counter}"
        clause = f' TEMPLATE "{template}"' if template else ""
        self.execute(f'CREATE DATABASE "{name}"{clause}')
        return name

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove the data directory."""
        try:
            if (self.datadir / "postmaster.pid").exists():
                subprocess.run(
                    [
                        *self.run_as,
                        str(self.bindir / "pg_ctl"),
                        "-D",
                        str(self.datadir),
                        "-m",
                        "fast",
                        "-w",
                        "-t",
                        "60",
                        "stop",
                    ],
                    capture_output=True,
                    check=False,
                    timeout=90,
                )
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def start(*, durable: bool = False, settings: dict[str, str] | None = None) -> TempPostgres:
    """Initialise and start a cluster in a new temporary directory.

    ``durable=False`` (tests) turns fsync off: a test kills the application
    server, never the machine, so the database's own crash safety is not what it
    checks, and the suite runs faster. The benchmark passes ``durable=True``.
    Raises :class:`PostgresUnavailableError` naming what is missing.
    """
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailableError(
            "PostgreSQL server binaries not found (initdb, pg_ctl, postgres: tried "
            "$ECONSEC_PG_BINDIR, pg_config --bindir, /usr/lib/postgresql/*/bin, PATH); "
            "install Debian's 'postgresql' package (scripts/ensure-system-deps does)"
        )
    run_as: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="econsec-pg-"))
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            owner = None
        if runuser is None or owner is None:
            shutil.rmtree(base, ignore_errors=True)
            raise PostgresUnavailableError(
                "running as root: initdb needs the 'postgres' system user and runuser"
            )
        run_as = [runuser, "-u", "postgres", "--"]
        os.chown(base, owner.pw_uid, owner.pw_gid)
    server = TempPostgres(bindir=bindir, base=base, port=free_port(), run_as=run_as)

    def run(*args: str, timeout: float = 120) -> None:
        done = subprocess.run(
            [*run_as, *args], capture_output=True, text=True, check=False, timeout=timeout
        )
        if done.returncode != 0:
            server.stop()
            raise PostgresUnavailableError(
                f"{Path(args[0]).name} failed ({done.returncode}): "
                f"{(done.stderr or done.stdout).strip()[-2000:]}"
            )

    run(
        str(bindir / "initdb"),
        "-D",
        str(server.datadir),
        "-U",
        SUPERUSER,
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C",
        *([] if durable else ["--no-sync"]),
    )
    options = {
        "listen_addresses": "127.0.0.1",
        "unix_socket_directories": str(server.socket_dir),
        "max_connections": "200",
        "fsync": "on" if durable else "off",
        "full_page_writes": "on" if durable else "off",
        **(settings or {}),
    }
    socket_dir = server.socket_dir
    run("mkdir", "-p", str(socket_dir))
    flags = " ".join(f"-c {key}={value}" for key, value in options.items())
    run(
        str(bindir / "pg_ctl"),
        "-D",
        str(server.datadir),
        "-l",
        str(server.base / "server.log"),
        "-o",
        f"-p {server.port} {flags}",
        "-w",
        "-t",
        "60",
        "start",
    )
    return server


@contextlib.contextmanager
def running(
    *, durable: bool = False, settings: dict[str, str] | None = None
) -> Iterator[TempPostgres]:
    """:func:`start`, then :meth:`TempPostgres.stop` on the way out."""
    server = start(durable=durable, settings=settings)
    try:
        yield server
    finally:
        server.stop()
