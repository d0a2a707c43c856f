"""``citycheck backup`` / ``citycheck restore``: a round trip gives back the database and
the media files as they were at the backup (SQLite and PostgreSQL alike); a wrong file or
another kind of database is refused before anything changes."""

import json
import shutil
import tarfile

import pytest
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.db import connection

from citycheck.collection.models import Value
from citycheck.core.models import Job
from citycheck.places.models import Place

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(settings, tmp_path):
    if connection.vendor == "postgresql" and not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed (postgresql-client)")
    settings.MEDIA_ROOT = tmp_path / "media"
    (settings.MEDIA_ROOT / "reports").mkdir(parents=True)
    (settings.MEDIA_ROOT / "reports" / "南昌市.pdf").write_bytes(b"%PDF report")
    return settings.MEDIA_ROOT


def test_a_round_trip_gives_back_the_database_and_the_media(small_province, media, tmp_path):
    archive = tmp_path / "citycheck-backup.tar.gz"
    values = sorted(Value.objects.values_list("pk", "value"))
    job = Job.objects.create(kind="test.ok", key="k", status=Job.Status.SUCCEEDED)
    call_command("backup", output=str(archive))
    with tarfile.open(archive) as packed:
        names = packed.getnames()
        manifest = json.load(packed.extractfile("manifest.json"))
    assert "media/reports/南昌市.pdf" in names and manifest["database"] in names
    assert manifest["migrations"]["core"] >= "0005" and manifest["media_files"] == 1

    # Everything changes after the backup...
    Value.objects.filter(pk=values[0][0]).update(value=-1)
    Value.objects.filter(pk=values[1][0]).delete()
    Place.objects.filter(code="360403").update(name_zh="改名")
    Job.objects.filter(pk=job.pk).delete()
    (media / "reports" / "南昌市.pdf").unlink()
    (media / "later.txt").write_text("written after the backup")
    caches["public_pages"].set("portal page", "showing the data after the backup")

    call_command("restore", str(archive), yes=True)
    assert caches["public_pages"].get("portal page") is None  # cached pages go with it
    assert sorted(Value.objects.values_list("pk", "value")) == values
    assert Place.objects.get(code="360403").name_zh == "浔阳区"
    assert Job.objects.filter(pk=job.pk).exists()
    assert (media / "reports" / "南昌市.pdf").read_bytes() == b"%PDF report"
    assert not (media / "later.txt").exists()
    # The restored database takes new rows (sequences restored too).
    assert Job.objects.create(kind="test.ok", key="k2").pk > job.pk


def test_a_wrong_archive_is_refused_and_nothing_changes(small_province, media, tmp_path):
    count = Value.objects.count()
    not_a_backup = tmp_path / "x.tar.gz"
    not_a_backup.write_bytes(b"not a tar file")
    with pytest.raises(CommandError, match="is not a citycheck backup"):
        call_command("restore", str(not_a_backup), yes=True)

    other_kind = tmp_path / "other.tar.gz"
    manifest = tmp_path / "manifest.json"
    vendor = "sqlite" if connection.vendor == "postgresql" else "postgresql"
    manifest.write_text(json.dumps({"format": 1, "vendor": vendor, "migrations": {}}))
    with tarfile.open(other_kind, "w:gz") as packed:
        packed.add(manifest, "manifest.json")
    with pytest.raises(CommandError, match=f"backup is of a {vendor} database"):
        call_command("restore", str(other_kind), yes=True)
    assert Value.objects.count() == count
    assert (media / "reports" / "南昌市.pdf").exists()
