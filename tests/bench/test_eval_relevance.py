"""The relevance calibration's threshold sweep, on hand-made first moments."""

from __future__ import annotations

import math

from bench.eval.relevance import THRESHOLDS, FirstMoment, sweep


def test_each_threshold_is_scored_as_a_classifier_of_right_first_moments() -> None:
    moments = [
        FirstMoment(0.71, True),
        FirstMoment(0.55, True),
        FirstMoment(0.52, False),
        FirstMoment(0.31, False),
        FirstMoment(-1.0, False),
    ]
    rows = {row[0]: row for row in sweep(moments)}
    assert set(rows) == set(THRESHOLDS)
    assert rows[0.54] == [0.54, 2, 1.0, 1.0, 1.0]  # separates them perfectly
    _, strong, accuracy, strong_right, weak_wrong = rows[0.3]
    assert (strong, accuracy, strong_right, weak_wrong) == (4, 0.6, 0.5, 1.0)
    assert math.isnan(rows[0.8][3]) and rows[0.8][2] == 0.6  # nothing strong
