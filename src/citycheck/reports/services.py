"""Reports: render one, render all of a release into one archive, edit readings.

Reports are built from a **published** release only (``preview=True`` renders a draft
for those who may publish it, marked 草稿). The same release with the same readings
always gives the same content. Readings may be edited while the release is a draft;
publishing freezes them with the numbers.

Files (Word, PDF, HTML, the archive) are official reports and always in Chinese, whatever
the language of the request, command or job that asks for them; :func:`build` alone, used
for the on-screen preview, writes in the active language.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import threading
import time
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from citycheck.assessment.models import Level, Release, ReleaseStatus, Result
from citycheck.assessment.services import code_version
from citycheck.core.choices import Action
from citycheck.core.jobs import jobs_mode, start_job
from citycheck.core.models import record_event
from citycheck.diagnosis.models import Problem
from citycheck.places.models import Place

from . import content, parts, render, summaries
from .document import Document
from .models import ReportReading

FORMATS = render.FORMATS
REPORT_LANGUAGE = settings.LANGUAGE_CODE  # of every report file: 简体中文


class ReportError(ValueError):
    """A report that cannot be made (unpublished release, unknown format, no results)."""


def check_formats(formats: Iterable[str]) -> list[str]:
    formats = [f.strip() for f in formats if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ReportError(
            _("format: 未知格式 %(bad)s；可选：%(known)s")
            % {"bad": ", ".join(unknown) or _("（空）"), "known": ", ".join(FORMATS)}
        )
    return formats


def _check_release(release: Release, preview: bool) -> None:
    if release.status == ReleaseStatus.DRAFT and not preview:
        raise ReportError(
            _("评价结果 #%(pk)d 尚未发布；报告只能由已发布的版本生成。") % {"pk": release.pk}
        )


def report_places(release: Release):
    """The places with results in ``release``, in code order."""
    return Place.objects.filter(
        pk__in=Result.objects.filter(release=release, level=Level.INDEX).values("place")
    ).order_by("code")


def build(release: Release, place: Place | None = None, *, preview=False) -> Document:
    """The document of ``place``'s report (the provincial summary when ``place`` is the
    release's scope or None)."""
    _check_release(release, preview)
    if place is None or place.pk == parts.summary_subject(release).pk:
        return summaries.province_summary(release)
    try:
        return content.city_report(release, place)
    except ValueError as exc:
        raise ReportError(str(exc)) from exc


def build_for_file(release: Release, place: Place | None = None, *, preview=False) -> Document:
    """The document of a report file: :func:`build` in :data:`REPORT_LANGUAGE`."""
    with translation.override(REPORT_LANGUAGE):
        return build(release, place, preview=preview)


def file_stem(release: Release, place: Place | None) -> str:
    summary = parts.summary_subject(release)
    subject = place or summary
    kind = "summary" if subject.pk == summary.pk else "report"
    return f"{release.round.year}-{subject.code}-{kind}-r{release.pk}"


def write_document(document: Document, formats: list[str], out_dir: Path, stem: str) -> list[Path]:
    """Write ``document`` in each format to ``out_dir/stem.<format>``; charts drawn once.

    Each file is written under a temporary name and renamed, so a reader never finds a
    half-written report.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    images = render.chart_images(document)
    paths = []
    for fmt in formats:
        path = out_dir / f"{stem}.{fmt}"
        partial = out_dir / f".{stem}.{fmt}.{os.getpid()}-{threading.get_ident()}"
        render.write(document, fmt, partial, images)
        partial.replace(path)
        paths.append(path)
    return paths


def render_report(
    release: Release, place: Place | None, formats, out_dir, *, preview=False
) -> list[Path]:
    """Render one report in ``formats`` into ``out_dir``; returns the files written."""
    formats = check_formats(formats)
    document = build_for_file(release, place, preview=preview)
    return write_document(document, formats, Path(out_dir), file_stem(release, place))


QUARTERS = (1, 2, 3, 4)


def render_bulletin(release: Release, quarter: int, formats, out_dir) -> list[Path]:
    """Render the quarterly bulletin (季度通报) of the year after ``release``'s round — the
    projects of a round are built in the following year — in ``formats`` into ``out_dir``,
    named by its Chinese title (江西省2025年第2季度城市更新工作通报.pdf); returns the files.
    The command's ``--bulletin`` and the bulletin page both call this."""
    _check_release(release, preview=False)
    formats = check_formats(formats)
    if quarter not in QUARTERS:
        raise ReportError(_("quarter: 季度须为 1–4，收到 %(quarter)s") % {"quarter": quarter})
    with translation.override(REPORT_LANGUAGE):
        document = summaries.quarterly_bulletin(release, quarter)
    return write_document(document, formats, Path(out_dir), f"{document.subject}{document.title}")


def render_all(
    release: Release,
    formats,
    out_dir,
    *,
    places: list[Place | None] | None = None,
    workers: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[Path]:
    """Render the report of every place of ``release`` and the provincial summary
    (or of ``places`` only; None stands for the summary).

    With a Celery broker (:func:`~citycheck.core.jobs.jobs_mode` "celery") each place is a
    task any worker machine takes (:func:`render_on_workers`); otherwise documents are
    built here (database reads) and written in ``workers`` processes (default: the CPU
    count). Both write through :func:`write_document`. ``progress(done, total, name)`` is
    called after each place.
    """
    formats = check_formats(formats)
    _check_release(release, preview=False)
    out_dir = Path(out_dir)
    if places is None:
        summary = parts.summary_subject(release)
        places = [None, *report_places(release).exclude(pk=summary.pk)]
    if jobs_mode() == "celery":
        return render_on_workers(release, formats, out_dir, places, progress=progress)
    workers = workers or os.cpu_count() or 1
    paths: list[Path] = []
    total = len(places)

    def documents():
        for place in places:
            yield place, build_for_file(release, place)

    if workers == 1:
        for done, (place, document) in enumerate(documents(), 1):
            paths += write_document(document, formats, out_dir, file_stem(release, place))
            if progress:
                progress(done, total, document.subject)
        return sorted(paths)
    # Children never touch the database; closing ours keeps a forked copy from sharing it.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {
            pool.submit(
                write_document, document, formats, out_dir, file_stem(release, place)
            ): document.subject
            for place, document in documents()
        }
        for done, future in enumerate(as_completed(futures), 1):
            paths += future.result()
            if progress:
                progress(done, total, futures[future])
    return sorted(paths)


# How often the job looks at its places' tasks while workers render all that is left.
TASK_POLL_SECONDS = 1.0


def render_on_workers(
    release: Release,
    formats: list[str],
    out_dir: Path,
    places: list[Place | None],
    *,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[Path]:
    """Render each place's report as a Celery task (``reports.render_place``), taken by
    whichever worker, on whichever machine, has a free slot; ``out_dir`` must be on
    storage the workers share (MEDIA_ROOT is). While it waits, this process renders the
    places no worker has started yet, from the end of the list (their tasks revoked), so
    the run also finishes when every other worker slot is busy or there is none. A
    place rendered twice (a worker took it at the moment it was revoked) is written
    twice, each time whole: :func:`write_document` renames finished files only.
    """
    from .tasks import render_place_task

    summary = parts.summary_subject(release)
    names = [parts.place_name(place or summary) for place in places]
    results = [
        render_place_task.delay(release.pk, place.pk if place else None, formats, str(out_dir))
        for place in places
    ]
    waiting = list(range(len(places)))
    paths: list[Path] = []
    done = 0

    def finished(index: int, written) -> None:
        nonlocal done
        paths.extend(Path(path) for path in written)
        done += 1
        if progress:
            progress(done, len(places), names[index])

    while waiting:
        ready = [index for index in waiting if results[index].ready()]
        for index in ready:
            finished(index, results[index].get(disable_sync_subtasks=False))
        waiting = [index for index in waiting if index not in ready]
        if not waiting or ready:
            continue
        # The last place still queued (no worker has started it), if any, is rendered here.
        queued = next((i for i in reversed(waiting) if results[i].state == "PENDING"), None)
        if queued is None:
            time.sleep(TASK_POLL_SECONDS)
            continue
        results[queued].revoke()
        waiting.remove(queued)
        finished(queued, render_report(release, places[queued], formats, out_dir))
    return sorted(set(paths))


def archive_dir(release: Release) -> Path:
    """Where a published release's rendered files and archive are kept: per release, per
    version of the code that renders them and per state of the round's problem reviews, so
    an upgrade or a review (a problem confirmed or dismissed) renders them anew rather than
    serving files written before it."""
    renderer = re.sub(r"[^0-9A-Za-z.+-]", "_", code_version())
    reviews = Problem.objects.filter(round=release.round).order_by("pk")
    state = repr(list(reviews.values_list("pk", "status", "last_updated")))
    reviewed = hashlib.sha256(state.encode()).hexdigest()[:12]
    return Path(settings.MEDIA_ROOT) / "reports" / str(release.pk) / renderer / reviewed


def archive_path(release: Release) -> Path:
    return archive_dir(release) / f"reports-{release.round.year}-r{release.pk}.zip"


def build_archive(release: Release, formats, *, workers: int | None = None, progress=None) -> Path:
    """Render every report of ``release`` and pack them into one zip under MEDIA_ROOT."""
    files_dir = archive_dir(release) / "files"
    paths = render_all(release, formats, files_dir, workers=workers, progress=progress)
    target = archive_path(release)
    partial = target.with_suffix(".zip.part")
    stamp = (release.published_at or release.created).timetuple()[:6]
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in paths:
            info = zipfile.ZipInfo(path.name, date_time=stamp)  # fixed: same release, same zip
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    partial.replace(target)  # a half-written archive is never offered for download
    return target


def start_render_all(release: Release, formats, *, acting_user, workers: int | None = None):
    """Start rendering every report of ``release`` as a background job (``workers``
    processes; default the CPU count)."""
    formats = check_formats(formats)
    _check_release(release, preview=False)
    # Rendering every place's report is heavy and its archive covers the whole scope: only
    # users who may publish the release start it.
    if not Release.objects.restrict(acting_user, Action.PUBLISH).filter(pk=release.pk).exists():
        raise PermissionDenied(_("只有可发布该评价结果的用户才能生成全部报告。"))
    return start_job(
        "reports.render_all",
        acting_user=acting_user,
        release_id=release.pk,
        formats=formats,
        workers=workers,
    )


@transaction.atomic
def save_reading(release: Release, place: Place, section: str, text: str, *, acting_user):
    """Keep an official's edit of a reading; only while the release is a draft and only
    by users who may publish it."""
    if release.status != ReleaseStatus.DRAFT:
        raise ReportError(_("评价结果已发布，报告解读不能再修改。"))
    if not Release.objects.restrict(acting_user, Action.PUBLISH).filter(pk=release.pk).exists():
        raise PermissionDenied(_("只有可发布该评价结果的用户才能修改报告解读。"))
    text = text.strip()
    if not text:
        raise ReportError(_("text: 解读文字不能为空。"))
    reading = ReportReading.objects.filter(release=release, place=place, section=section).first()
    if reading is None:
        reading = ReportReading(release=release, place=place, section=section)
    else:
        reading.snapshot()
    reading.text = text
    reading.author = acting_user
    reading.edited = timezone.now()
    reading.save()
    record_event(
        release,
        "reading_edited",
        acting_user=acting_user,
        data={"place": place.code, "section": section},
    )
    return reading


def report_file(release: Release, place: Place | None, fmt: str) -> Path:
    """The file of a published release's report in ``fmt``, rendered on first request.

    A published release never changes and its readings are frozen, so the file is kept
    under MEDIA_ROOT beside the archive (per renderer version, :func:`archive_dir`) and
    served again.
    """
    (fmt,) = check_formats([fmt])
    _check_release(release, preview=False)
    folder, stem = archive_dir(release) / "files", file_stem(release, place)
    path = folder / f"{stem}.{fmt}"
    if not path.exists():
        write_document(build_for_file(release, place), [fmt], folder, stem)
    return path
