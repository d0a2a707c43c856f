"""Adopted values (采信值): the one set of values every later step reads.

The rule, written here once: a place's adopted value of an indicator is

* the value the province adjudicated (:func:`~citycheck.collection.services.adjudicate`),
  where it chose one;
* otherwise the self-check value of the place's **accepted** submission (the whole data
  set, or the part of the indicator's responsible department).

Values of submissions not yet accepted are not adopted. The rule is applied when the
province acts — :func:`adopt_submission` runs inside ``accept_submission`` and
``adjudicate`` writes its value — and stored as ``Value(source=adopted)`` rows with their
audit trail (channel ``acceptance`` or ``adjudication``). Every reader (assessment,
diagnosis, re-check, what-if, the public API) reads those rows through
:func:`adopted_values` or the ``source=adopted`` filter, so nothing reapplies the rule.

A submission reopened by a granted revision request keeps its adopted values — the
province's last accepted figures — until the corrected data is accepted again.
"""

from __future__ import annotations

import pandas as pd
from django.db import transaction
from django.utils.translation import gettext as _

from .models import Adjudication, ChangeChannel, Round, Source, Submission, Value
from .services import ValueEntry, indicators_owed, write_values


@transaction.atomic
def adopt_submission(submission: Submission, *, acting_user) -> int:
    """Adopt the self-check values of an accepted submission; returns how many changed.

    Indicators the province has adjudicated for the place keep the adjudicated value. A
    value the filler left empty is adopted as empty (the assessment imputes it).
    """
    if submission.source != Source.SELF_CHECK:
        return 0
    round_, place = submission.round, submission.place
    indicators = {i.pk: i for i in indicators_owed(round_, department=submission.department)}
    adjudicated = set(
        Adjudication.objects.filter(round=round_, place=place).values_list(
            "indicator_id", flat=True
        )
    )
    entered = dict(
        Value.objects.filter(
            round=round_, place=place, source=Source.SELF_CHECK, indicator_id__in=indicators
        ).values_list("indicator_id", "value")
    )
    already = set(
        Value.objects.filter(round=round_, place=place, source=Source.ADOPTED).values_list(
            "indicator_id", flat=True
        )
    )
    entries = [
        ValueEntry(place, indicator, entered.get(pk))
        for pk, indicator in indicators.items()
        if pk not in adjudicated and (pk in entered or pk in already)
    ]
    if not entries:
        return 0
    _stored, changed = write_values(
        round_,
        Source.ADOPTED,
        entries,
        acting_user=acting_user,
        channel=ChangeChannel.ACCEPTANCE,
        reason=_("省级采纳 %(place)s 的自体检数据") % {"place": place.name_zh},
    )
    return changed


def adopted_values(round_: Round, *, place_codes=None) -> pd.DataFrame:
    """The round's adopted values: place, indicator, value, source.

    ``source`` says where the value came from: ``adopted`` for a value the province gave
    itself when adjudicating, ``third_party`` or ``self_check`` for the source it chose or
    accepted. Empty adopted values are left out.
    """
    rows = Value.objects.filter(round=round_, source=Source.ADOPTED, value__isnull=False)
    if place_codes is not None:
        rows = rows.filter(place__code__in=list(place_codes))
    frame = pd.DataFrame.from_records(
        rows.values_list("place__code", "indicator__code", "value"),
        columns=["place", "indicator", "value"],
    )
    chosen = pd.DataFrame.from_records(
        Adjudication.objects.filter(round=round_).values_list(
            "place__code", "indicator__code", "chosen_source"
        ),
        columns=["place", "indicator", "source"],
    )
    frame = frame.merge(chosen, on=["place", "indicator"], how="left")
    frame["source"] = frame["source"].fillna(Source.SELF_CHECK)
    return frame.sort_values(["place", "indicator"]).reset_index(drop=True)
