"""Reminders before and after a round's deadline: in-app rows and e-mail.

:func:`send_reminders` is run once a day (the ``send_reminders`` job, or the command
``citycheck round remind``); :func:`remind_now` is the 催报 button of the completeness
board. Both write through :func:`_remind` and are idempotent per day: a second run on the
same day creates and sends nothing new.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from citycheck.accounts.models import User
from citycheck.core.access import may
from citycheck.core.choices import Action, Role
from citycheck.core.models import record_event
from citycheck.places.models import PlaceLevel

from .models import Reminder, ReminderKind, Round, RoundStatus, Source, Submission, SubmissionStatus
from .services import CheckStepError

DAYS_BEFORE = (7, 3, 1)
# After the deadline: on these days late, then every week.
DAYS_AFTER = (1, 3, 7)
FILLER_ROLES = (Role.COUNTY_ADMIN, Role.CITY_ADMIN, Role.DEPARTMENT_FILLER)
# Who may send reminders now, from the completeness board (besides the daily run).
REMINDING_LEVELS = (PlaceLevel.PROVINCE, PlaceLevel.CITY)


def reminder_kind(deadline: dt.date, today: dt.date) -> str | None:
    """Which reminder (if any) is due today for a deadline.

    >>> str(reminder_kind(dt.date(2024, 6, 30), dt.date(2024, 6, 27)))
    'before'
    >>> str(reminder_kind(dt.date(2024, 6, 30), dt.date(2024, 7, 14)))
    'overdue'
    >>> reminder_kind(dt.date(2024, 6, 30), dt.date(2024, 6, 25)) is None
    True
    """
    days = (deadline - today).days
    if days in DAYS_BEFORE:
        return ReminderKind.BEFORE_DEADLINE
    late = -days
    if late in DAYS_AFTER or (late > 0 and late % 7 == 0):
        return ReminderKind.OVERDUE
    return None


def _recipients(submission: Submission):
    if submission.source == Source.THIRD_PARTY:
        return User.objects.filter(
            evaluation_assignments__round=submission.round,
            evaluation_assignments__place=submission.place,
            is_active=True,
        )
    users = User.objects.filter(place=submission.place, role__in=FILLER_ROLES, is_active=True)
    if submission.department_id:
        users = users.filter(Q(department=submission.department) | ~Q(role=Role.DEPARTMENT_FILLER))
    return users


@transaction.atomic
def send_reminders(today: dt.date | None = None) -> list[Reminder]:
    """Create (and e-mail) today's reminders for every open round; returns the new ones."""
    today = today or timezone.localdate()
    created = []
    rounds = Round.objects.filter(status=RoundStatus.OPEN, deadline__isnull=False)
    for round_ in rounds:
        kind = reminder_kind(round_.deadline, today)
        if kind is not None:
            created += _remind(round_, _owing(round_), kind, today)
    _email(created)
    return created


@transaction.atomic
def remind_now(round_: Round, *, acting_user, today: dt.date | None = None) -> list[Reminder]:
    """催报 from the completeness board: remind, today, whoever still owes data of the round
    in the places the acting city or province user reviews; returns the new reminders.

    Before the deadline (or without one) the reminder says when it is due, after it how
    late it is. Like the daily run it sends one reminder per person, place and kind a day,
    so a second click on the same day sends nothing new.
    """
    if not may(acting_user, Action.APPROVE) or _level(acting_user) not in REMINDING_LEVELS:
        raise PermissionDenied(_("只有省级和市级审核用户可以催报。"))
    if round_.status != RoundStatus.OPEN:
        raise CheckStepError(_("体检轮次已截止，不能催报。"))
    today = today or timezone.localdate()
    kind = (
        ReminderKind.OVERDUE
        if round_.deadline is not None and today > round_.deadline
        else ReminderKind.BEFORE_DEADLINE
    )
    owing = _owing(round_).restrict(acting_user, Action.APPROVE)
    created = _remind(round_, owing, kind, today)
    _email(created)
    record_event(
        round_,
        "reminded",
        acting_user=acting_user,
        data={"reminders": len(created), "places": len({r.place_id for r in created})},
    )
    return created


def _level(user) -> str | None:
    if user.is_superuser:
        return PlaceLevel.PROVINCE
    return user.place.level if user.place_id else None


def _owing(round_: Round):
    """The round's submissions not yet submitted (drafts and returned data)."""
    return Submission.objects.filter(
        round=round_, status__in=[SubmissionStatus.DRAFT, SubmissionStatus.RETURNED]
    ).select_related("place", "department")


def _remind(round_: Round, owing, kind: str, today: dt.date) -> list[Reminder]:
    """One reminder of ``kind`` today for every recipient of every owing submission, unless
    it already has one; returns the new ones."""
    created = []
    for submission in owing:
        message = _message(round_, submission, kind, today)
        for user in _recipients(submission):
            reminder, is_new = Reminder.objects.get_or_create(
                user=user,
                round=round_,
                place=submission.place,
                kind=kind,
                day=today,
                defaults={"message": message},
            )
            if is_new:
                created.append(reminder)
    return created


def _email(created: list[Reminder]) -> None:
    emailed = [r for r in created if r.user.email]
    for reminder in emailed:
        send_mail(
            subject=_("【城市体检】%(round)s 填报提醒") % {"round": reminder.round},
            message=reminder.message,
            from_email=getattr(settings, "DEFAULT_FROM_EMAIL", None),
            recipient_list=[reminder.user.email],
        )
    Reminder.objects.filter(pk__in=[r.pk for r in emailed]).update(emailed=True)


def _message(round_: Round, submission: Submission, kind: str, today: dt.date) -> str:
    parts = {
        "round": round_,
        "place": submission.place.name_zh,
        "deadline": round_.deadline,
        "status": submission.get_status_display(),
        "days": abs((round_.deadline - today).days),
    }
    if kind == ReminderKind.BEFORE_DEADLINE:
        return (
            _(
                "%(place)s：%(round)s 数据将于 %(deadline)s 截止（还有 %(days)d 天），当前状态“%(status)s”，请及时填报提交。"
            )
            % parts
        )
    return (
        _(
            "%(place)s：%(round)s 数据已于 %(deadline)s 截止，已逾期 %(days)d 天，当前状态“%(status)s”，请尽快提交。"
        )
        % parts
    )


def unread_reminders(user):
    """The in-app reminders a user has not read yet, newest first."""
    return Reminder.objects.filter(user=user, read_at__isnull=True).select_related("round", "place")


def mark_read(reminder: Reminder, *, acting_user) -> None:
    if reminder.user_id != acting_user.pk:
        raise PermissionError("a reminder can be marked read only by its recipient")
    Reminder.objects.filter(pk=reminder.pk).update(read_at=timezone.now())
