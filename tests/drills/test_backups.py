"""Drill 6, backups: dump the database and archive the uploads, restore both into fresh places,
check every table's count and every document's checksum, and serve a restored document.

The commands are the documented procedure's: `pg_dump -Fc`, `tar` of MEDIA_ROOT, `pg_restore`
into a new database, `tar -x` into a new folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

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
