"""What makes rendering fast keeps reports whole: tables carry explicit column widths in
HTML, PDF and Word; a chart is drawn once per content; with a Celery broker every place
is a task any worker takes, and the job finishes them itself when no worker does."""

import io
import zipfile

import docx
import pytest
from celery.result import AsyncResult
from django.core.cache import cache

from citycheck.celery import app as celery_app
from citycheck.reports import charts, render, services, tasks
from citycheck.reports.document import Document, Figure, Section, Table

pytestmark = pytest.mark.django_db


def document_with(*blocks) -> Document:
    return Document(
        title="测试报告",
        subject="东湖区",
        issuer="江西省住房和城乡建设厅",
        date="2025-01-01T00:00:00",
        sections=[Section("一节", list(blocks))],
        language="zh-hans",
    )


LONG = "城市历史风貌破坏负面事件数量2起，高于标准0（超出2）；在同类城市中位于后25%。" * 2
TABLE = Table(
    caption="问题清单",
    columns=["城市病", "严重程度", "得分", "证据与成因"],
    rows=[["历史文化保护不力", "严重", "100.0", LONG], ["交通拥堵", "中等", "7.5", "—"]],
    row_warnings=["red", ""],
)


def test_column_widths_keep_short_columns_whole_and_give_long_text_the_rest():
    widths = render.column_widths(TABLE)
    assert sum(widths) == pytest.approx(100, abs=0.05)
    name, severity, score, evidence = widths
    # A table is ~100 half-width characters wide: 8 Chinese characters need 16 + padding.
    assert name >= 18 and severity >= 10 and score >= 7
    assert evidence == max(widths) and evidence > 40
    # Widths a builder gives are kept (as shares); every column is at least its longest word.
    given = Table(caption="t", columns=["a", "b"], rows=[["1", "2"]], widths=[1, 3])
    assert render.column_widths(given) == [25.0, 75.0]
    crowded = Table(caption="t", columns=["x"] * 3, rows=[["https://example.org/" * 3] * 3])
    assert render.column_widths(crowded) == pytest.approx([33.33] * 3, abs=0.01)


def test_html_and_word_tables_have_fixed_widths_and_keep_rows_colours_and_text(tmp_path):
    document = document_with(TABLE)
    html = render.render_html(document, images={}, pdf=True)
    widths = render.column_widths(TABLE)
    assert "<colgroup>" + "".join(f'<col style="width: {w}%">' for w in widths) in html
    assert "table-layout: fixed" in html
    assert 'class="warning-red"' in html and LONG in html

    path = tmp_path / "t.docx"
    render.write(document, "docx", path, images={})
    (table,) = docx.Document(path).tables
    assert [c.text for c in table.rows[0].cells] == TABLE.columns
    assert [c.text for c in table.rows[1].cells] == TABLE.rows[0]
    xml = table._tbl.xml
    assert '<w:tblLayout w:type="fixed"/>' in xml and xml.count("<w:gridCol ") == 4
    assert xml.count('w:tblHeader w:val="true"') == 1 and xml.count("w:cantSplit") == 3
    assert xml.count('w:fill="F8C9C4"') == 4  # the red row's four cells, nothing else
    grid = [int(c.get(docx.oxml.ns.qn("w:w"))) for c in table._tbl.tblGrid.gridCol_lst]
    assert grid[3] == max(grid)
    # Text that XML must escape, and line breaks, arrive as written.
    odd = Table(caption="t", columns=["a<b", "c"], rows=[["x & y", "第一行\n第二行"]])
    render.write(document_with(odd), "docx", path, images={})
    (table,) = docx.Document(path).tables
    assert [c.text for c in table.rows[1].cells] == ["x & y", "第一行\n第二行"]


def test_a_chart_is_drawn_once_per_content(monkeypatch):
    drawn = []
    real = charts.render
    monkeypatch.setattr(charts, "render", lambda kind, data: drawn.append(kind) or real(kind, data))
    data = {"labels": ["甲", "乙"], "values": [3.0, 1.5], "xlabel": "测试"}
    first = render.chart_image(Figure("图", "bars", data))
    again = render.chart_image(Figure("另一个标题", "bars", dict(data)))
    other = render.chart_image(Figure("图", "bars", {**data, "values": [3.0, 1.6]}))
    assert drawn == ["bars", "bars"] and first == again != other
    assert first.startswith(b"\x89PNG")
    cache.delete(render.chart_key(Figure("图", "bars", data)))
    render.chart_image(Figure("图", "bars", data))
    assert len(drawn) == 3


@pytest.fixture
def celery_broker(settings):
    """A Celery broker is configured: render_all sends each place as a task."""
    settings.CELERY_BROKER_URL = "memory://"
    return settings


def test_with_a_broker_each_place_is_a_task_that_workers_render(
    province, published_release, media_root, celery_broker, monkeypatch
):
    # Eager (test settings): each task runs as a worker would run it.
    sent = []
    real_delay = tasks.render_place_task.delay

    def delay(*arguments):
        sent.append(arguments)
        return real_delay(*arguments)

    monkeypatch.setattr(tasks.render_place_task, "delay", delay)
    out = media_root / "all"
    progress = []
    paths = services.render_all(
        published_release, ["html"], out, progress=lambda d, t, n: progress.append((d, t, n))
    )
    assert len(sent) == 5 and {a[0] for a in sent} == {published_release.pk}
    assert None in {a[1] for a in sent}  # the provincial summary is one of them
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)
    assert len(paths) == 5 and [d for d, *_ in progress] == [1, 2, 3, 4, 5]
    assert all("<html" in p.read_text(encoding="utf-8") for p in paths)


def test_with_no_worker_taking_the_tasks_the_job_renders_every_place_itself(
    province, published_release, media_root, celery_broker, monkeypatch
):
    """The tasks go to a broker no worker reads: the job revokes and renders each one, so
    a run never waits for a worker that does not come; the archive is whole."""
    saved = {
        key: celery_app.conf[key] for key in ("task_always_eager", "broker_url", "result_backend")
    }
    celery_app.conf.update(
        task_always_eager=False, broker_url="memory://", result_backend="cache+memory://"
    )
    celery_app._local.__dict__.pop("backend", None)
    revoked = []
    monkeypatch.setattr(AsyncResult, "revoke", lambda result: revoked.append(result.id))
    try:
        path = services.build_archive(published_release, ["html"])
    finally:
        celery_app.conf.update(saved)
        celery_app._local.__dict__.pop("backend", None)
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        names = archive.namelist()
        assert len(names) == 5 and all(name.endswith(".html") for name in names)
        assert all(b"<html" in archive.read(name) for name in names)
    assert len(set(revoked)) == 5  # each task taken back before the job rendered it
