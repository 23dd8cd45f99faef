"""Drill 6, backups: dump the database and archive the uploads, restore both into fresh places,
check every table's count and every document's checksum, and serve a restored document.

The commands are the documented procedure's: `pg_dump -Fc`, `tar` of MEDIA_ROOT, `pg_restore`
into a new database, `tar -x` into a new folder.

Beside the daily dump (deploy/README.md, "8. Backup" and "9. Restore"): the daily cron script's
whole set (`test_daily_backup_set`: dump, uploads, the environment file, counts, all 0600, old
copies pruned) and point-in-time recovery (`test_point_in_time_recovery`: a cluster of the drill's
own with WAL archiving, the weekly base backup script, a restore to a chosen instant in a fresh
cluster, counted).
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from casework.models import Attachment, Case, Cooperative

from . import harness
from .harness import multipart, sign_in

pytestmark = pytest.mark.slow


def _documents() -> list[tuple[str, bytes, str]]:
    """A few documents of the accepted kinds, with random content (so checksums mean something)."""
    noise = os.urandom
    return [
        (
            "verbale.pdf",
            b"%PDF-1.4\n" + noise(4000).hex().encode() + b"\n%%EOF\n",
            "application/pdf",
        ),
        (
            "bilancio.pdf",
            b"%PDF-1.7\n" + noise(20000).hex().encode() + b"\n%%EOF\n",
            "application/pdf",
        ),
        ("logo.png", b"\x89PNG\r\n\x1a\n" + noise(3000), "image/png"),
        ("foto.jpg", b"\xff\xd8\xff\xe0" + noise(5000), "image/jpeg"),
        ("note.txt", ("Note della cooperativa àèìòù " + noise(200).hex()).encode(), "text/plain"),
        ("elenco soci.txt", ("\n".join(f"Socio {i}" for i in range(500))).encode(), "text/plain"),
    ]


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300, **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed: {result.stderr[-2000:]}")
    return result


def test_backup_and_restore(drill, orm, report):
    """Backups: pg_dump + tar of the uploads, restored fresh: same counts, same files"""
    env = drill.env()
    media = Path(env["MEDIA_ROOT"])
    _proc, port = drill.procs.gunicorn(env, workers=2, threads=4)
    uploads = {}
    for username, cooperative in (
        ("socio.alfa", "Cooperativa Alfa"),
        ("socio.beta", "Cooperativa Beta"),
    ):
        member = sign_in(port, username)
        coop = Cooperative.objects.get(name=cooperative)
        answer = member.post(
            "/api/v1/cases/",
            {
                "cooperative": coop.pk,
                "area": "legal",
                "subject": "Documenti per il drill dei backup",
                "description": "Alleghiamo i documenti richiesti.",
            },
        )
        assert answer.status == 201, answer.body
        case_id = answer.json["id"]
        for name, content, content_type in _documents():
            body = multipart({}, {"file": (name, content, content_type)})
            sent = member.request("POST", f"/api/v1/cases/{case_id}/attachments/", raw=body)
            assert sent.status == 201, (name, sent.status, sent.body[:300])
            uploads[sent.json["id"]] = (username, case_id, hashlib.sha256(content).hexdigest())
    report.tried(
        f"{len(uploads)} documents uploaded through the API by 2 members to MEDIA_ROOT={media}"
    )
    drill.procs.stop_all()

    work = Path(tempfile.mkdtemp(prefix="sportello-drill-backup-"))
    restored_db = harness.drill_database_name("restored")
    try:
        dump, archive = work / "sportello.pgdump", work / "uploads.tar.gz"
        _run(["pg_dump", "-Fc", "--no-owner", "-f", str(dump), harness.database_url(drill.db)])
        _run(["tar", "-czf", str(archive), "-C", str(media), "."])
        report.tried(
            f"pg_dump -Fc: {dump.stat().st_size // 1024} KiB; tar of the uploads: "
            f"{archive.stat().st_size // 1024} KiB"
        )
        harness.create_database(restored_db)
        _run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                "-d",
                harness.database_url(restored_db),
                str(dump),
            ]
        )
        restored_media = work / "uploads-restored"
        restored_media.mkdir()
        _run(["tar", "-xzf", str(archive), "-C", str(restored_media)])
        report.tried(f"restored into database {restored_db} and folder {restored_media}")

        original, copy = harness.table_counts(drill.db), harness.table_counts(restored_db)
        differ = {
            t: (original.get(t), copy.get(t))
            for t in original.keys() | copy.keys()
            if original.get(t) != copy.get(t)
        }
        report.check(
            "every table has the same row count",
            not differ,
            f"{len(original)} tables, {sum(original.values())} rows; differ {differ or 'none'}",
        )
        sequences = (
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' "
            "ORDER BY 1"
        )
        report.check(
            "every sequence restored at the same value (new rows get new ids)",
            harness.sql(drill.db, sequences) == harness.sql(restored_db, sequences),
            f"{len(harness.sql(drill.db, sequences))} sequences",
        )
        migrate = subprocess.run(
            [harness.PYTHON, "manage.py", "migrate", "--check"],
            cwd=harness.ROOT,
            env=harness.django_env(restored_db, drill.var_dir),
            capture_output=True,
            text=True,
            timeout=120,
        )
        report.check(
            "the restored schema is complete (manage.py migrate --check)",
            migrate.returncode == 0,
            f"exit {migrate.returncode}",
        )

        rows = harness.sql(restored_db, "SELECT id, file, sha256 FROM casework_attachment")
        missing, mismatched = [], []
        for _pk, path, sha in rows:
            target = restored_media / path
            if not target.is_file():
                missing.append(path)
            elif hashlib.sha256(target.read_bytes()).hexdigest() != sha:
                mismatched.append(path)
        ours_ok = all(
            any(pk == row[0] and sha == row[2] for row in rows)
            for pk, (_u, _c, sha) in uploads.items()
        )
        report.check(
            "every attachment's file is restored with a matching sha256",
            rows and not missing and not mismatched and ours_ok,
            f"{len(rows)} attachments; missing {len(missing)}, wrong checksum {len(mismatched)}; "
            f"the uploaded bytes' checksums recorded: {ours_ok}",
        )

        # The restored pair serves a document as before, through the permission-checked view.
        restored_env = harness.django_env(
            restored_db, drill.var_dir, MEDIA_ROOT=str(restored_media)
        )
        _proc, port = drill.procs.gunicorn(restored_env, name="web-restored", workers=1, threads=2)
        served = 0
        for pk, (username, case_id, sha) in uploads.items():
            member = sign_in(port, username)
            answer = member.get(f"/api/v1/cases/{case_id}/attachments/{pk}/download/")
            served += answer.status == 200 and hashlib.sha256(answer.body).hexdigest() == sha
        report.check(
            "the restored site serves every uploaded document, byte for byte",
            served == len(uploads),
            f"{served} of {len(uploads)} downloads identical",
        )
        report.tried(
            f"cases {Case.objects.count()}, attachments {Attachment.objects.count()} in the "
            "original"
        )
    finally:
        drill.procs.stop_all()
        harness.drop_database(restored_db)
        shutil.rmtree(work, ignore_errors=True)
    assert not report.failed, report.failed


# --- The daily cron script's set -----------------------------------------------------------

BACKUP_DIR = harness.ROOT / "deploy" / "backup"


def _git_mode(path: Path) -> str:
    """The mode git's index records for a file ("not tracked yet" if it records none)."""
    out = subprocess.run(
        ["git", "ls-files", "--stage", "--", str(path)],
        cwd=harness.ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.split()
    return out[0] if out else "not tracked yet"


def test_daily_backup_set(drill, report):
    """Backups: the daily cron script's set (dump, uploads, env file, counts), 0600, pruned"""
    script = BACKUP_DIR / "sportello-backup"
    modes = {
        name: (BACKUP_DIR / name).stat().st_mode & 0o777
        for name in ("sportello-backup", "sportello-basebackup")
    }
    report.check(
        "the cron scripts are executable in the repository (0755)",
        all(mode == 0o755 for mode in modes.values()),
        ", ".join(
            f"{name} {mode:o} (git index: {_git_mode(BACKUP_DIR / name)})"
            for name, mode in modes.items()
        ),
    )
    work = Path(tempfile.mkdtemp(prefix="sportello-drill-daily-"))
    try:
        media = work / "uploads"
        (media / "cases" / "1").mkdir(parents=True)
        (media / "cases" / "1" / "verbale.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(2000))
        (media / "cases" / "1" / "note.txt").write_text("Note della cooperativa àèìòù\n")
        env_file = work / "etc" / "sportello" / "env"
        env_file.parent.mkdir(parents=True)
        env_file.write_text(
            "# the drill's environment file\n"
            f"SECRET_KEY=drill-{os.urandom(24).hex()}\n"
            f"DATABASE_URL={harness.database_url(drill.db)}\n"
            f"MEDIA_ROOT={media}\n"
            'DEFAULT_FROM_EMAIL="Sportello <sportello@example.org>"\n'
        )
        env_file.chmod(0o640)
        dest = work / "backups"
        dest.mkdir(mode=0o700)
        # Copies older than the retention (30 days), and a file that is none of the script's.
        old = [
            dest / f"{kind}-2000-01-01T0000.{ext}"
            for kind, ext in (
                ("sportello", "dump"),
                ("uploads", "tar.gz"),
                ("env", "tar"),
                ("counts", "txt"),
            )
        ]
        foreign = dest / "README.old"
        for path in [*old, foreign]:
            path.write_text("old")
            long_ago = time.time() - 40 * 86400
            os.utime(path, (long_ago, long_ago))
        run = subprocess.run(
            [str(script)],
            env={
                **os.environ,
                "SPORTELLO_ENV_FILE": str(env_file),
                "SPORTELLO_BACKUP_DIR": str(dest),
            },
            capture_output=True,
            text=True,
            timeout=300,
        )
        report.tried(
            f"{script.relative_to(harness.ROOT)} run as cron would (executed, not through sh), "
            f"with SPORTELLO_ENV_FILE={env_file} and SPORTELLO_BACKUP_DIR={dest}"
        )
        report.check("the script exits 0", run.returncode == 0, (run.stderr or "")[-800:])
        made = sorted(p for p in dest.iterdir() if p not in old and p != foreign)
        kinds = {p.name.split("-", 1)[0]: p for p in made}
        report.check(
            "one set: counts, dump, uploads, environment file",
            sorted(kinds) == ["counts", "env", "sportello", "uploads"] and len(made) == 4,
            ", ".join(p.name for p in made),
        )
        report.check(
            "every file of the set is 0600 in a 0700 folder",
            all(p.stat().st_mode & 0o777 == 0o600 for p in made)
            and dest.stat().st_mode & 0o777 == 0o700,
            ", ".join(f"{p.name} {p.stat().st_mode & 0o777:o}" for p in made)
            + f"; folder {dest.stat().st_mode & 0o777:o}",
        )
        if "env" in kinds:
            with tarfile.open(kinds["env"]) as archive:
                members = archive.getmembers()
                stored = archive.extractfile(members[0]).read() if members else b""
            member = str(env_file).lstrip("/")
            report.check(
                "the environment file is in the set, byte for byte, with its path and mode",
                [m.name for m in members] == [member]
                and stored == env_file.read_bytes()
                and members[0].mode == 0o640,
                f"members {[m.name for m in members]}, mode {members[0].mode:o}"
                if members
                else "empty",
            )
            back = work / "restored-root"
            back.mkdir()
            _run(["tar", "-xpf", str(kinds["env"]), "-C", str(back)])
            again = back / member
            report.check(
                "`tar -xpf env-STAMP.tar -C /` puts it back with its mode",
                again.read_bytes() == env_file.read_bytes()
                and again.stat().st_mode & 0o777 == 0o640,
                f"{again.stat().st_mode & 0o777:o}",
            )
        if "uploads" in kinds:
            with tarfile.open(kinds["uploads"]) as archive:
                names = sorted(m.name for m in archive.getmembers() if m.isfile())
            report.check(
                "the uploads are in the set",
                names == ["uploads/cases/1/note.txt", "uploads/cases/1/verbale.pdf"],
                ", ".join(names),
            )
        if "sportello" in kinds:
            listing = _run(["pg_restore", "--list", str(kinds["sportello"])]).stdout
            report.check(
                "the dump is readable and holds the case table's data",
                "TABLE DATA public casework_case" in listing,
                f"{kinds['sportello'].stat().st_size // 1024} KiB, "
                f"{len(listing.splitlines())} entries",
            )
        if "counts" in kinds:
            expected = {
                "cases": harness.sql(drill.db, "SELECT count(*) FROM casework_case")[0][0],
                "attachments": harness.sql(drill.db, "SELECT count(*) FROM casework_attachment")[0][
                    0
                ],
            }
            lines = kinds["counts"].read_text().splitlines()
            logged = {name: int(value) for name, value in (line.split() for line in lines)}
            report.check(
                "the counts a restore is checked against are logged",
                logged == expected,
                f"logged {logged}, database {expected}",
            )
        report.check(
            "copies older than 30 days pruned, other files left alone",
            not any(p.exists() for p in old) and foreign.exists(),
            f"{sum(p.exists() for p in old)} of {len(old)} old copies left; "
            f"{foreign.name} {'kept' if foreign.exists() else 'deleted'}",
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert not report.failed, report.failed


# --- Point-in-time recovery: clusters of the drill's own -----------------------------------


def _pg_bindir() -> Path | None:
    """PostgreSQL's server programs (initdb, pg_ctl, pg_verifybackup): DRILL_PG_BINDIR, or the
    directory of the version the drills' server runs."""
    if os.environ.get("DRILL_PG_BINDIR"):
        return Path(os.environ["DRILL_PG_BINDIR"])
    try:
        version = harness.sql("postgres", "SHOW server_version_num")[0][0]
    except psycopg.Error:
        return None
    for candidate in (
        Path(f"/usr/lib/postgresql/{int(version) // 10000}/bin"),
        Path(f"/usr/pgsql-{int(version) // 10000}/bin"),
    ):
        if (candidate / "initdb").is_file():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


# PostgreSQL refuses to run as root: as root, the clusters are the postgres user's.
AS_ROOT = os.geteuid() == 0
PG_OS_USER = "postgres"


def _as_pg(argv: list[str], *, env=None, cwd=None) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", PG_OS_USER, "--"] if AS_ROOT else []
    return _run([*prefix, *argv], env=env, cwd=cwd)


def _own(*paths: Path) -> None:
    if AS_ROOT:
        for path in paths:
            shutil.chown(path, PG_OS_USER, PG_OS_USER)


class Cluster:
    """A PostgreSQL cluster laid out as Debian's `pg_createcluster` lays one out: the data
    directory, and the configuration beside it (conf/postgresql.conf, which includes conf.d/),
    so that a base backup holds no configuration and a restored cluster gets its own."""

    def __init__(self, bindir: Path, root: Path, name: str, port: int):
        self.bindir, self.name, self.port = bindir, name, port
        self.home = root / name
        self.conf, self.data, self.log = self.home / "conf", self.home / "data", self.home / "log"

    def create(self) -> None:
        """initdb, then the configuration moved out of the data directory."""
        self.home.mkdir()
        _own(self.home)
        _as_pg(
            [
                str(self.bindir / "initdb"),
                "--pgdata",
                str(self.data),
                "--username",
                "postgres",
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C.UTF-8",
            ],
            cwd=self.home,
        )
        (self.conf / "conf.d").mkdir(parents=True)
        for name in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf"):
            shutil.move(self.data / name, self.conf / name)
        with (self.conf / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\n# The drill's cluster {self.name}\n"
                f"data_directory = '{self.data}'\n"
                f"hba_file = '{self.conf / 'pg_hba.conf'}'\n"
                f"ident_file = '{self.conf / 'pg_ident.conf'}'\n"
                f"port = {self.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.home}'\n"
                "include_dir = 'conf.d'\n"
            )
        _own(self.conf, self.conf / "conf.d", self.conf / "postgresql.conf")

    def add_conf(self, name: str, text: str) -> Path:
        path = self.conf / "conf.d" / name
        path.write_text(text)
        _own(path)
        return path

    def start(self) -> None:
        _as_pg(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.conf),
                "-l",
                str(self.log),
                "-w",
                "-t",
                "120",
                "start",
            ],
            cwd=self.home,
        )

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def stop(self) -> None:
        if self.running():
            _as_pg(
                [str(self.bindir / "pg_ctl"), "-D", str(self.conf), "-m", "fast", "-w", "stop"],
                cwd=self.home,
            )

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def url(self, db: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def sql(self, query: str, db: str = "postgres") -> list[tuple]:
        with psycopg.connect(self.url(db), autocommit=True, connect_timeout=10) as conn:
            cursor = conn.execute(query)
            return cursor.fetchall() if cursor.description else []

    def one(self, query: str, db: str = "postgres"):
        return self.sql(query, db)[0][0]

    def counts(self, db: str) -> dict[str, int]:
        """Row count of every table of the public schema."""
        with psycopg.connect(self.url(db), autocommit=True, connect_timeout=10) as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
                )
            ]
            return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


# Cases opened through the real intake (workflows.process.case_open), each in its own transaction.
OPEN_CASES = """
from casework.models import Membership, PracticeArea
from workflows import process
members = list(Membership.objects.filter(cooperative__membership_status="active")
               .select_related("user", "cooperative").order_by("pk"))
areas = list(PracticeArea.objects.filter(is_active=True).order_by("position"))
for i in range({count}):
    m = members[i % len(members)]
    process.case_open(requester=m.user, cooperative=m.cooperative, area=areas[i % len(areas)],
                      subject="{mark} %d" % i, description="Caso del drill di ripristino.")
"""
BEFORE, AFTER = "[pitr-before-T]", "[pitr-after-T]"
ARCHIVE_PATH = "/var/lib/postgresql/wal-archive"  # the shipped snippets' archive directory
WAL_NAME = re.compile(r"^[0-9A-F]{24}$")


def _start_wal(base_backup: Path) -> str:
    """The first WAL segment a base backup needs (its backup_label's START WAL LOCATION)."""
    with tarfile.open(base_backup / "base.tar.gz") as archive:
        label = archive.extractfile("backup_label").read().decode()
    return re.search(r"^START WAL LOCATION: .* \(file ([0-9A-F]{24})\)$", label, re.M).group(1)


def _wait(what: str, condition, cluster: Cluster, timeout: float = 120) -> None:
    """Poll until `condition()` holds; a drill waits for a server (the accepted sleep of drills)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except psycopg.OperationalError:
            pass
        if not cluster.running():
            raise AssertionError(
                f"{cluster.name} stopped while waiting for {what}:\n{cluster.tail()}"
            )
        time.sleep(0.5)
    raise AssertionError(f"{what}: not after {timeout}s:\n{cluster.tail()}")


def test_point_in_time_recovery(report):
    """Backups: WAL archive + weekly base backup, restored to a chosen instant in a fresh cluster"""
    bindir = _pg_bindir()
    if bindir is None or not (bindir / "pg_ctl").is_file():
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not here: DRILL_PG_BINDIR")
    if AS_ROOT:
        try:
            pwd.getpwnam(PG_OS_USER)
        except KeyError:
            pytest.skip("run as root without a postgres user: PostgreSQL will not run as root")
    work = Path(tempfile.mkdtemp(prefix="sportello-drill-pitr-"))
    _own(work)
    archive, bases, var_dir = work / "wal-archive", work / "base-backups", work / "var"
    archive.mkdir(mode=0o700)
    _own(archive)
    for sub in ("static", "mail", "logs"):
        (var_dir / sub).mkdir(parents=True)
    first_port = harness.free_port()
    primary = Cluster(bindir, work, "primary", first_port)
    restored = Cluster(
        bindir, work, "restored", next(p for p in iter(harness.free_port, None) if p != first_port)
    )
    basebackup_env = {
        **os.environ,
        "PGHOST": str(primary.home),
        "PGPORT": str(primary.port),
        "PGUSER": "postgres",
        "SPORTELLO_BASEBACKUP_DIR": str(bases),
        "SPORTELLO_WAL_ARCHIVE": str(archive),
        "SPORTELLO_BASEBACKUP_KEEP": "1",
    }
    try:
        primary.create()
        shipped = (BACKUP_DIR / "postgresql-archive.conf").read_text()
        primary.add_conf("sportello-archive.conf", shipped.replace(ARCHIVE_PATH, str(archive)))
        primary.start()
        settings = primary.sql(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('wal_level', 'archive_mode', 'archive_timeout') ORDER BY 1"
        )
        report.tried(
            f"cluster 'primary' of our own ({bindir / 'initdb'}, port {primary.port}, run as "
            f"{PG_OS_USER if AS_ROOT else 'this user'}), conf.d/sportello-archive.conf = "
            f"deploy/backup/postgresql-archive.conf archiving to {archive}: "
            + ", ".join(f"{k}={v}" for k, v in settings)
        )
        primary.sql("CREATE DATABASE sportello")
        env = harness.django_env("sportello", var_dir, DATABASE_URL=primary.url("sportello"))
        harness.manage(env, "migrate", "--noinput", "-v0")
        report.tried("manage.py migrate on it: the Sportello schema")

        script = BACKUP_DIR / "sportello-basebackup"
        _as_pg([str(script)], env=basebackup_env, cwd=work)
        first = sorted(bases.iterdir())
        harness.manage(env, "seed_demo", "--cases", "20")
        # The segments of the first backup's weeks, which the second one's retention trims.
        first_segments = sorted(p.name for p in archive.iterdir() if WAL_NAME.match(p.name))
        _as_pg([str(script)], env=basebackup_env, cwd=work)
        kept = sorted(bases.iterdir())
        report.tried(
            f"{script.relative_to(harness.ROOT)} (as {PG_OS_USER}, SPORTELLO_BASEBACKUP_KEEP=1) "
            f"before and after seed_demo --cases 20: {[p.name for p in first]} then "
            f"{[p.name for p in kept]}"
        )
        base = kept[-1]
        start_wal = _start_wal(base)
        segments = sorted(p.name for p in archive.iterdir() if WAL_NAME.match(p.name))
        report.check(
            "retention: the older base backup removed, the archive trimmed to the kept one's WAL",
            len(kept) == 1
            and kept[0] not in first
            and {p.name for p in base.iterdir()}
            == {"base.tar.gz", "pg_wal.tar.gz", "backup_manifest"}
            and bool(segments)
            and segments[0] >= start_wal
            and any(name < start_wal for name in first_segments),
            f"kept {[p.name for p in kept]} ({', '.join(sorted(p.name for p in base.iterdir()))}); "
            f"archive from {first_segments[0] if first_segments else 'nothing'} trimmed to "
            f"{segments[0] if segments else 'nothing'}, the backup starts at {start_wal}",
        )

        # Cases written after the base backup and before T: only the archived WAL holds them.
        harness.manage(env, "shell", "-c", OPEN_CASES.format(count=8, mark=BEFORE))
        at_t = primary.counts("sportello")
        instant = primary.one("SELECT clock_timestamp()::text")
        harness.manage(env, "shell", "-c", OPEN_CASES.format(count=8, mark=AFTER))
        later = primary.counts("sportello")
        grown = {t: (at_t[t], later[t]) for t in at_t if later[t] != at_t[t]}
        report.tried(
            f"8 cases opened after the base backup, T = {instant} noted with the counts "
            f"({at_t['casework_case']} cases, {sum(at_t.values())} rows), then 8 more cases: "
            f"{later['casework_case']} cases, {len(grown)} tables grew"
        )
        segment = primary.one("SELECT pg_walfile_name(pg_current_wal_lsn())")
        primary.sql("SELECT pg_switch_wal()")
        _wait(f"{segment} archived", lambda: (archive / segment).is_file(), primary)
        archiver = primary.sql("SELECT archived_count, failed_count FROM pg_stat_archiver")[0]
        report.check(
            "pg_switch_wal(): the segment holding T and after archived, no archiving failure",
            archiver[1] == 0,
            f"{segment} in the archive; archived {archiver[0]}, failed {archiver[1]}",
        )
        archived_before = sorted(p.name for p in archive.iterdir())

        # The restore, as deploy/README.md "9. Restore" says: a fresh cluster, its data directory
        # replaced by the base backup, the recovery settings in its conf.d, recovery.signal.
        restored.create()
        for entry in restored.data.iterdir():
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        _as_pg(["tar", "-xzf", str(base / "base.tar.gz"), "-C", str(restored.data)], cwd=work)
        _as_pg(
            ["tar", "-xzf", str(base / "pg_wal.tar.gz"), "-C", str(restored.data / "pg_wal")],
            cwd=work,
        )
        verified = _as_pg(
            [
                str(bindir / "pg_verifybackup"),
                "--manifest-path",
                str(base / "backup_manifest"),
                str(restored.data),
            ],
            cwd=work,
        )
        recovery = (BACKUP_DIR / "postgresql-recovery.conf").read_text()
        recovery = recovery.replace(ARCHIVE_PATH, str(archive))
        recovery, targets = re.subn(
            r"^recovery_target_time = '[^']*'",
            f"recovery_target_time = '{instant}'",
            recovery,
            flags=re.M,
        )
        assert targets == 1, "postgresql-recovery.conf has no recovery_target_time line"
        restored.add_conf("sportello-recovery.conf", recovery)
        (restored.data / "recovery.signal").touch()
        _own(restored.data / "recovery.signal")
        report.tried(
            f"fresh cluster 'restored' (port {restored.port}): data directory = {base.name}/"
            f"base.tar.gz + pg_wal.tar.gz, pg_verifybackup: {verified.stdout.strip()}; "
            "conf.d/sportello-recovery.conf = deploy/backup/postgresql-recovery.conf with "
            f"recovery_target_time = '{instant}'; recovery.signal; pg_ctl start"
        )
        restored.start()
        _wait(
            "recovery paused at T",
            lambda: restored.one("SELECT pg_get_wal_replay_pause_state()") == "paused",
            restored,
        )
        paused = restored.counts("sportello")
        differ = {t: (at_t.get(t), paused.get(t)) for t in at_t if at_t.get(t) != paused.get(t)}
        report.check(
            "paused at T (read-only): every table's count is the count at T",
            restored.one("SELECT pg_is_in_recovery()") and paused == at_t,
            f"{len(paused)} tables, {sum(paused.values())} rows (at T {sum(at_t.values())}, "
            f"later {sum(later.values())}); differ {differ or 'none'}",
        )
        promoted = restored.one("SELECT pg_promote(true, 60)")
        after = restored.counts("sportello")
        timeline = int(restored.one("SELECT pg_walfile_name(pg_current_wal_lsn())")[:8], 16)
        report.check(
            "pg_promote(): out of recovery on a new timeline, writable, still the counts at T",
            promoted
            and not restored.one("SELECT pg_is_in_recovery()")
            and timeline == 2
            and restored.one("SELECT txid_current()") > 0
            and after == at_t,
            f"promoted {promoted}, timeline {timeline}, {after['casework_case']} cases "
            f"(at T {at_t['casework_case']}, later {later['casework_case']})",
        )
        marks = dict(
            restored.sql(
                "SELECT left(subject, 15), count(*) FROM casework_case "
                "WHERE subject LIKE '[pitr-%' GROUP BY 1",
                "sportello",
            )
        )
        newest = restored.one(
            f"SELECT max(created_at) <= '{instant}'::timestamptz FROM casework_case", "sportello"
        )
        report.check(
            "the cases opened before T are there, none of those after, none created after T",
            marks.get(BEFORE[:15]) == 8 and not marks.get(AFTER[:15]) and newest,
            f"{marks}; newest case at or before T: {newest}",
        )
        migrate = subprocess.run(
            [harness.PYTHON, "manage.py", "migrate", "--check"],
            cwd=harness.ROOT,
            env={**env, "DATABASE_URL": restored.url("sportello")},
            capture_output=True,
            text=True,
            timeout=120,
        )
        report.check(
            "the restored schema is complete (manage.py migrate --check)",
            migrate.returncode == 0,
            f"exit {migrate.returncode}",
        )
        archived_now = sorted(p.name for p in archive.iterdir())
        report.check(
            "the restored cluster wrote nothing into the primary's archive (archive_mode = off)",
            archived_now == archived_before,
            f"{len(archived_now)} files before and after",
        )
    finally:
        for cluster in (restored, primary):
            try:
                cluster.stop()
            except AssertionError as trouble:
                report.finding(f"{cluster.name} did not stop: {trouble}")
        shutil.rmtree(work, ignore_errors=True)
    assert not report.failed, report.failed
