"""A real PostgreSQL server for the tests: ``initdb`` and ``pg_ctl`` in a temporary folder, one database per test.

The server runs as a non-root user (``initdb`` and ``postgres`` refuse root, and CI runs as root):
as ``nobody`` when the tests run as root, else as the tests' own user. It listens on 127.0.0.1 at a
free port (and on a Unix socket in its folder), trusts local connections, and is stopped and
removed at the end of the session. Debian keeps the binaries in ``/usr/lib/postgresql/<ver>/bin``
(off the PATH); ``.ci/run`` installs Debian's ``postgresql`` when they are missing. Without them the
tests skip, saying why, except under CI (``CI`` set), where a missing server is a failure.

``qualified_run`` is the database tests' shared run: a tiny simulated plan qualified once per session
with ``--db`` into a SQLite file.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVER_USER = "nobody"  # when the tests run as root
_COUNTER = itertools.count()


def pg_bin() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: on the PATH, else Debian's newest /usr/lib/postgresql/<ver>/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                      key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """A throwaway PostgreSQL cluster: started in ``folder``, reached at ``host``:``port`` as ``postgres``."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="accbench-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self.host = "127.0.0.1"
        self._as = {}
        if os.geteuid() == 0:
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
            self._as = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def _run(self, *args: str) -> None:
        done = subprocess.run([str(self.bindir / args[0]), *args[1:]], capture_output=True, text=True, timeout=120,
                              cwd=self.folder, **self._as)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync",
                  "--no-instructions")
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses={self.host} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"), "-w",
                  "-t", "60", "start")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; its URL."""
        from sqlalchemy import create_engine, text

        name = f"t{os.getpid()}_{next(_COUNTER)}"
        engine = create_engine(self.url().replace("postgresql:", "postgresql+psycopg2:"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)


_SERVER: list[PgServer] = []
_USERS = [0]


@pytest.fixture(scope="session")
def pg_server():
    """The session's PostgreSQL server (skipped, saying why, where no PostgreSQL is installed outside CI)."""
    bindir = pg_bin()
    if bindir is None:
        why = ("PostgreSQL's initdb/pg_ctl not found (on PATH or /usr/lib/postgresql/*/bin): install Debian's "
               "postgresql package (.ci/run does)")
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    if not _SERVER:  # each test module that imports the fixture registers it anew: one server all the same
        server = PgServer(bindir)
        server.start()
        _SERVER.append(server)
    _USERS[0] += 1
    yield _SERVER[0]
    _USERS[0] -= 1
    if _USERS[0] == 0:
        _SERVER.pop().stop()


@pytest.fixture
def pg_url(pg_server) -> str:
    """The URL of a fresh, empty PostgreSQL database on the session's server."""
    return pg_server.create_database()


TINY_PLAN = """\
# Four cables in two wire lots at 53.125 GBd on the simulated bench: a run small enough for the database tests.
[run]
name = "db-tiny"
rates_gbd = [53.125]
ber_rates_gbd = [53.125]
seed = 5

[gates]
il_mask = "ieee802.3ck-ca"

[[lots]]
id = "DB-L1"
carbon_mg_m2 = 10.0

[[lots]]
id = "DB-L2"
carbon_mg_m2 = 90.0

[[cables]]
serial = "DB-001"
lot = "DB-L1"
length_m = 3.0

[[cables]]
serial = "DB-002"
lot = "DB-L2"
length_m = 3.0

[[cables]]
serial = "DB-003"
lot = "DB-L1"
length_m = 3.0

[[cables]]
serial = "DB-004"
lot = "DB-L2"
length_m = 3.0
"""


@dataclass(frozen=True)
class QualifiedRun:
    """A tiny simulated run written live into a SQLite database by ``accbench qualify --db`` (read-only for tests)."""

    plan: Path
    record: Path
    db: Path
    station: str
    operator: str
    stdout: str
    stderr: str


_QUALIFIED: list[QualifiedRun] = []


@pytest.fixture(scope="session")
def qualified_run(tmp_path_factory) -> QualifiedRun:
    """``accbench qualify tiny.toml -o run.h5 --db results.db --station-id bench-A --operator ann``, once."""
    from click.testing import CliRunner

    from accbench.cli.run import qualify

    if _QUALIFIED:  # each test module that imports the fixture registers it anew: run it once all the same
        return _QUALIFIED[0]
    folder = tmp_path_factory.mktemp("qualified")
    plan = folder / "tiny.toml"
    plan.write_text(TINY_PLAN, encoding="utf-8")
    record, db = folder / "run.h5", folder / "results.db"
    result = CliRunner().invoke(qualify, [str(plan), "-o", str(record), "--db", str(db), "--station-id", "bench-A",
                                          "--operator", "ann"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    _QUALIFIED.append(QualifiedRun(plan, record, db, "bench-A", "ann", result.stdout, result.stderr))
    return _QUALIFIED[0]
