"""The charts' axes: whole, distinct, round numbers whatever the counts are."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from django.utils import translation

from stadtbote.dashboards import charts

SVG = "{http://www.w3.org/2000/svg}"


def _y_labels(top: int) -> list[str]:
    points = [("2026-12-01", 0), ("2026-12-02", top)]
    with translation.override("de"):
        svg = ET.fromstring(str(charts.line(points, title="t", description="d")))
    # The y axis's labels are numbers (German thousands separator: "."); the x axis's dates.
    texts = [t.text or "" for t in svg.iter(f"{SVG}text")]
    return [text for text in texts if re.fullmatch(r"[\d.]+", text)]


@pytest.mark.parametrize("top", [0, 1, 3, 7, 40, 1234, 987654])
def test_the_y_axis_labels_are_distinct_whole_numbers_reaching_the_top(top):
    labels = _y_labels(top)
    assert len(labels) == 5 and len(set(labels)) == 5, labels
    values = [int(re.sub(r"\D", "", label)) for label in labels]
    assert values == sorted(values) and values[0] == 0 and values[-1] >= top


@pytest.mark.parametrize(
    ("value", "step"), [(0, 1), (4, 1), (5, 2), (8, 2), (9, 5), (21, 10), (4001, 2000)]
)
def test_the_axis_step_is_one_two_or_five_times_a_power_of_ten(value, step):
    assert charts.axis_step(value) == step
