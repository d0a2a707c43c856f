"""Diagnosis receives the round's satisfaction by place and dimension as evidence."""

from types import SimpleNamespace

import pandas as pd

from citycheck.diagnosis import services as diagnosis
from citycheck.survey.services import satisfaction_frame
from citycheck.survey.weighting import weight_survey

from .conftest import enter, synthetic_rows


def test_diagnosis_is_given_the_weighted_satisfaction(surveyed, monkeypatch):
    round_ = surveyed.open_round
    assert satisfaction_frame(round_) is None  # not weighted yet
    enter(surveyed, synthetic_rows(["360102", "360103", "360402", "360403"], 20))
    weight_survey(surveyed.survey, acting_user=surveyed.admin)
    frame = satisfaction_frame(round_)
    assert {"360102", "360100", "360000"} <= set(frame.index)
    assert frame.loc["360100", "tidiness"] < 40 < frame.loc["360100", "ecology"]

    given = {}

    def fake_diagnose(values, **kwargs):
        given.update(kwargs)
        return pd.DataFrame(columns=["place", "disease"])

    monkeypatch.setattr(diagnosis.engine, "diagnose", fake_diagnose)
    values = pd.DataFrame(
        {"x": [1.0]},
        index=pd.MultiIndex.from_tuples([("360102", round_.year)], names=["place", "year"]),
    )
    data = SimpleNamespace(
        values=values, indicators=None, standards=None, city_classes={}, peer_groups={}, places={}
    )
    diagnosis.diagnose_frame(round_, data)
    pd.testing.assert_frame_equal(given["satisfaction"], frame)
