"""The city report's survey section: placeholder without a weighted survey; otherwise the
sample, dimension scores with intervals and the satisfaction/index gaps."""

from citycheck.assessment.models import Release
from citycheck.reports.document import Figure, Paragraph, Table
from citycheck.reports.survey_section import survey_section

from .test_comparison import compared  # noqa: F401  (fixture)


def test_section_reports_scores_intervals_and_gaps(compared):  # noqa: F811
    release = Release.objects.get()
    place = compared.places["county"]
    section = survey_section(release, place, {"tidiness": "整洁有序", "ecology": "生态宜居"})
    assert section.title == "满意度调查"
    first = section.blocks[0]
    assert isinstance(first, Paragraph) and "有效答卷 30 份" in first.text
    assert "95% 置信区间" in first.text
    table = next(b for b in section.blocks if isinstance(b, Table))
    tidiness = next(row for row in table.rows if row[0] == "整洁有序")
    assert "（" in tidiness[1] and "–" in tidiness[1]
    assert any(isinstance(b, Figure) and b.kind == "bars" for b in section.blocks)
    gaps = [b for b in section.blocks if isinstance(b, Table)][-1]
    assert ["整洁有序", "25", "100", "感受到但指标未反映"] in gaps.rows


def test_section_says_when_no_survey_was_weighted(compared):  # noqa: F811
    release = Release.objects.get()
    compared.survey.weighted_at = None
    compared.survey.save()
    section = survey_section(release, compared.places["county"], {})
    assert section.blocks[0].text == "本轮未开展满意度调查。"


def test_a_score_without_an_interval_is_reported_with_a_dash(compared):  # noqa: F811
    """Too few effective responses give a score but no interval: the report says "—"
    (it used to fail the whole report of that county)."""
    from citycheck.survey.models import Score

    release = Release.objects.get()
    place = compared.places["county"]
    Score.objects.filter(survey=compared.survey, place=place).update(low=None, high=None)
    section = survey_section(release, place, {"tidiness": "整洁有序"})
    assert "95% 置信区间 —–—" in section.blocks[0].text
    table = next(b for b in section.blocks if isinstance(b, Table))
    assert "（—–—）" in next(row for row in table.rows if row[0] == "整洁有序")[1]
