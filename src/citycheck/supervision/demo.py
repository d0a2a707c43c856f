"""The demo's supervision stage (synthetic): each city's implementation plan with targets,
tasks and yearly plans (written by the city's administrator); three years of
monthly dispatch (2022-07 … 2025-06) with some cities late and two not yet reporting in the open
month; four issued quarterly bulletins (2024 Q3 … 2025 Q2); the 2024 annual assessment computed,
hand-scored, adjusted with a reason and issued; a dozen cases — all through the services, as the
demo's people."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
from PIL import Image, ImageDraw

from citycheck.accounts.models import User
from citycheck.collection.models import Source, Value
from citycheck.core.choices import Role
from citycheck.core.context import acting
from citycheck.indicators.models import Direction
from citycheck.places.models import Place, PlaceLevel
from citycheck.renewal.models import RenewalProject

from . import appraisals, bulletins, cases, dispatch, plans, province_tasks
from .models import AppraisalScore, CaseType, ProvinceTask, TaskStatus

DEMO_ADMIN = "province_admin"
NAMED_CITY_LOGINS = {"360100": "nanchang_admin"}
TASKS = [
    ("完成城市体检指标体系本地化", "市住房城乡建设局", dt.date(2024, 6, 30)),
    ("建立问题清单销号管理机制", "市城市更新办", dt.date(2025, 6, 30)),
    ("完成年度城市更新项目建设", "市发展改革委", dt.date(2025, 12, 31)),
]
# Cities (by position in code order) that report late in some months, and that have not
# reported yet in the open month.
LATE_CITIES = {3, 8}
SILENT_CITIES = {5, 9}
# The 36 months ending at the demo's open month.
DISPATCH_MONTHS = [dt.date(2022 + (6 + n) // 12, (6 + n) % 12 + 1, 1) for n in range(36)]
BULLETINS = [(2024, 3), (2024, 4), (2025, 1), (2025, 2)]
# Plan tasks as the cities report them: the first done from this month, the second under
# way (late cities: delayed) from that one.
FIRST_TASK_DONE = dt.date(2024, 5, 1)
SECOND_TASK_STARTED = dt.date(2024, 9, 1)


def _city_user(city: Place) -> User:
    name = NAMED_CITY_LOGINS.get(city.code, f"admin{city.code}")
    users = User.objects.select_related("place")
    user = users.filter(username=name).first()
    return user or users.filter(role=Role.CITY_ADMIN, place=city).order_by("pk").first()


def _targets(city: Place, rng) -> list[tuple[str, float, str]]:
    """Three indicators with adopted values in 2021 and 2024: 2025 targets a little or a
    lot beyond their trend, so some are on track and some not."""
    rows = {}
    for code, year, value, direction in Value.objects.filter(
        place=city,
        source=Source.ADOPTED,
        round__year__in=[2021, 2024],
        value__isnull=False,
        indicator__direction__in=[Direction.HIGHER, Direction.LOWER],
    ).values_list("indicator__code", "round__year", "value", "indicator__direction"):
        rows.setdefault((code, direction), {})[year] = value
    chosen = sorted(k for k, v in rows.items() if len(v) == 2)[:: max(1, len(rows) // 3)][:3]
    out = []
    for code, direction in chosen:
        first, latest = rows[(code, direction)][2021], rows[(code, direction)][2024]
        step = abs(latest - first) / 3 or abs(latest) * 0.05 or 1.0
        factor = rng.choice([0.5, 1.0, 2.0, 4.0])
        sign = 1 if direction == Direction.HIGHER else -1
        out.append((code, round(latest + sign * step * factor, 2), ""))
    return out


def load_supervision(progress=print) -> dict:
    admin = User.objects.get(username=DEMO_ADMIN)
    rng = np.random.default_rng(13)
    cities = list(Place.objects.filter(level=PlaceLevel.CITY).order_by("code"))
    counts = {"plans": 0, "targets": 0, "dispatch_reports": 0, "bulletins": 0}
    progress("plans …")
    tasks = {}
    for city in cities:
        user = _city_user(city)
        with acting(user):
            plan = plans.save_plan(
                city,
                title=f"{city.name_zh}城市体检评估机制实施方案（演示）",
                start_year=2021,
                end_year=2025,
                summary="演示数据（合成）：按省实施方案确定的目标和任务编制。",
                acting_user=user,
            )
            for code, value, comparison in _targets(city, rng):
                plans.set_target(
                    plan,
                    indicator=code,
                    year=2025,
                    value=value,
                    comparison=comparison,
                    acting_user=user,
                )
                counts["targets"] += 1
            tasks[city.pk] = [
                plans.add_task(plan, title=t, department=d, deadline=day, acting_user=user)
                for t, d, day in TASKS
            ]
            for year in (2024, 2025):
                plans.set_yearly_plan(
                    plan,
                    year=year,
                    text=f"{year}年：推进问题清单整改，实施年度城市更新项目（演示）。",
                    acting_user=user,
                )
        counts["plans"] += 1
    progress("monthly dispatch …")
    last = DISPATCH_MONTHS[-1]
    users = {city.pk: _city_user(city) for city in cities}  # each signed in once
    with acting(admin):
        for number, month in enumerate(DISPATCH_MONTHS):
            opened = dispatch.open_month(month, acting_user=admin, is_synthetic=True)
            reports = {r.place_id: r for r in opened.reports.select_related("place", "month")}
            for index, city in enumerate(cities):
                if month == last and index in SILENT_CITIES:
                    continue
                late = index in LATE_CITIES and number % 3 == 0
                day = opened.deadline + dt.timedelta(days=4 if late else -3)
                user = users[city.pk]
                updates = {}
                if month >= FIRST_TASK_DONE:
                    updates[tasks[city.pk][0].pk] = TaskStatus.DONE
                if month >= SECOND_TASK_STARTED:
                    updates[tasks[city.pk][1].pk] = (
                        TaskStatus.DELAYED if index in LATE_CITIES else TaskStatus.IN_PROGRESS
                    )
                report = reports[city.pk]
                with acting(user):
                    dispatch.submit_report(
                        report,
                        summary=f"{city.name_zh}{month:%Y年%m月}城市更新项目按计划调度（演示）。",
                        task_updates=updates,
                        acting_user=user,
                        submitted_on=day,
                    )
                counts["dispatch_reports"] += 1
            if month == last:
                dispatch.remind(opened, acting_user=admin)
            else:
                dispatch.close_month(opened, acting_user=admin)
        progress("bulletins …")
        for year, quarter in BULLETINS:
            draft = bulletins.draft_bulletin(year, quarter, acting_user=admin)
            bulletins.issue_bulletin(draft, acting_user=admin)
            counts["bulletins"] += 1
        progress("2024 annual assessment …")
        appraisal = appraisals.compute_appraisal(2024, acting_user=admin)
        manual = AppraisalScore.objects.filter(appraisal=appraisal).exclude(kind="computed")
        for score in manual.select_related("place"):
            if score.kind == "manual":
                points = float(rng.choice([6, 7, 8, 9, 10]))
                evidence = "演示：领导小组会议纪要、工作方案印发文件（合成）"
            elif score.kind == "bonus" and score.place.code in ("360100", "360700"):
                points, evidence = 3.0, "演示：城市更新经验被省级推广（合成）"
            elif score.kind == "penalty" and score.place.code == "361100":
                points, evidence = 4.0, "演示：抽查发现两项指标数据与统计年报不符（合成）"
            else:
                continue
            appraisals.score_by_hand(
                score, points=points, evidence=evidence, acting_user=admin, retotal=False
            )
        appraisals.retotal(appraisal, acting_user=admin)
        adjusted = AppraisalScore.objects.get(
            appraisal=appraisal, place__code="360400", criterion="check_timeliness"
        )
        appraisals.adjust_score(
            adjusted,
            points=adjusted.points + 2 if adjusted.points <= 8 else 10,
            reason="演示：因汛期顺延报送，经省级同意（合成）",
            acting_user=admin,
        )
        appraisals.issue_appraisal(appraisal, acting_user=admin)
    counts["appraisals"] = 1
    progress("province tasks …")
    with acting(admin):
        counts["province_tasks"] = province_tasks.load_tasks(acting_user=admin)
        for number, month in enumerate((dt.date(2025, 5, 1), dt.date(2025, 6, 1))):
            for task in ProvinceTask.objects.prefetch_related("departments"):
                for department in task.departments.all():
                    status = (
                        TaskStatus.DONE if task.number <= 2 + number else TaskStatus.IN_PROGRESS
                    )
                    province_tasks.report_status(
                        task,
                        month=month,
                        department=department,
                        status=status,
                        note="演示（合成）",
                        acting_user=admin,
                    )
    progress("outstanding cases …")
    counts["cases"] = _cases(cities, tasks, rng)
    return counts


def _photo(seed: int, after: bool) -> bytes:
    """A generated picture (synthetic): grey blocks before, green and blue after."""
    image = Image.new("RGB", (480, 320), (200, 200, 195) if not after else (215, 235, 215))
    draw = ImageDraw.Draw(image)
    local = np.random.default_rng(seed)
    for _ in range(14):
        x, y = int(local.integers(0, 420)), int(local.integers(0, 260))
        colour = (
            (120, 120, 120)
            if not after
            else tuple(int(c) for c in local.choice([[70, 150, 80], [60, 120, 200]]))
        )
        draw.rectangle(
            [x, y, x + int(local.integers(20, 60)), y + int(local.integers(20, 60))], fill=colour
        )
    draw.text((10, 295), "synthetic demo image", fill=(0, 0, 0))
    stream = io.BytesIO()
    image.save(stream, format="PNG")
    return stream.getvalue()


CASE_TITLES = [
    ("老旧小区改造提升", CaseType.OLD_COMPOUNDS),
    ("完整社区建设试点", CaseType.COMMUNITY),
    ("口袋公园与绿道串联", CaseType.GREEN),
    ("易涝点系统整治", CaseType.RESILIENCE),
    ("历史文化街区保护利用", CaseType.HERITAGE),
    ("城市运行管理服务平台", CaseType.SMART),
]


def _cases(cities, tasks, rng) -> int:
    """A dozen cases: every city one, 南昌市 two; the reviewer scores them, shortlists
    eight and selects six (published on the portal)."""
    reviewer = User.objects.get(username="province_reviewer")
    made = []
    for number, city in enumerate([*cities, cities[0]]):
        user = _city_user(city)
        title, kind = CASE_TITLES[number % len(CASE_TITLES)]
        codes = [t.indicator.code for t in city.local_plan.targets.all()[:2]]
        projects = list(
            RenewalProject.objects.filter(place__in=Place.objects.subtree_of(city))
            .exclude(status__in=["candidate", "cancelled"])
            .values_list("pk", flat=True)[:2]
        )
        with acting(user):
            case = cases.save_case(
                city,
                year=2024,
                title=f"{city.name_zh}{title}（演示）",
                case_type=kind,
                summary=f"{city.name_zh}结合体检发现的问题实施{title}，居民满意度明显提升。演示数据（合成）。",
                projects=projects,
                indicators=codes,
                acting_user=user,
                is_synthetic=True,
            )
            for after in (False, True):
                cases.attach_file(
                    case,
                    name=f"{'实施后' if after else '实施前'}.png",
                    content=_photo(number * 2 + after, after),
                    acting_user=user,
                )
            cases.submit_case(case, acting_user=user)
        made.append(case)
    with acting(reviewer):
        for case in made:
            cases.review_case(
                case,
                score=float(rng.integers(70, 98)),
                comment="演示评审（合成）",
                acting_user=reviewer,
            )
        shortlisted = cases.shortlist(2024, count=8, acting_user=reviewer)
        for index, case in enumerate(shortlisted):
            cases.decide(
                case,
                selected=index < 6,
                note="演示：成效明显，可复制推广（合成）"
                if index < 6
                else "演示：成效尚待观察（合成）",
                acting_user=reviewer,
            )
    return len(made)


# `citycheck demo` runs this after the reports' cycle stage (citycheck.core.demo).
DEMO_STAGES = [("supervision", load_supervision)]
