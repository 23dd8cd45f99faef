"""Server-side SVG charts: accessible names, a data table with the same numbers, escaped labels."""

from datetime import date

import pytest
from django.utils import translation

from casework.dashboard import charts

pytestmark = pytest.mark.django_db


def test_bar_chart_is_named_and_has_a_data_table():
    with translation.override("en"):
        html = str(
            charts.bar_chart(
                [("Legale", 87.5), ("Fiscale", 100)],
                title="Resolved on time",
                value_name="On time",
                label_header="Area",
                unit="%",
                max_value=100,
            )
        )
    assert html.count("<svg") == 1 and 'role="img"' in html
    assert "<title id=" in html and "<desc id=" in html and "aria-labelledby=" in html
    assert "Legale: On time 87.5%" in html  # the description reads the figures
    assert "<caption>Resolved on time</caption>" in html
    assert "<td>87.5%</td>" in html and "<td>100%</td>" in html


def test_numbers_follow_the_language():
    with translation.override("it"):
        html = str(charts.bar_chart([("Legale", 87.5)], title="t", value_name="v"))
    assert "<td>87,5</td>" in html


def test_labels_are_escaped():
    html = str(
        charts.stacked_bar_chart(
            [("<script>alert(1)</script>", [1, 2])], ["<b>a</b>", "b"], title="<i>t</i>"
        )
    )
    assert "<script>" not in html and "<b>a</b>" not in html and "<i>t</i>" not in html
    assert "&lt;script&gt;" in html


def test_line_and_column_charts_label_days():
    days = [date(2026, 3, d) for d in range(1, 8)]
    with translation.override("en"):
        line = str(charts.line_chart(days, [("Open", [1, 2, 3, 4, 5, 6, 7])], title="Backlog"))
        column = str(
            charts.column_chart(days, [("Opened", [1] * 7), ("Closed", [0] * 7)], title="Week")
        )
    assert line.count("<circle") == 7 and "<polyline" in line
    assert column.count("<rect") >= 14
    assert "1 March" in line  # the data table names each day, day before month


def test_no_data_says_so():
    assert "ancora nessun dato" in str(charts.bar_chart([], title="Vuoto", value_name="v"))
    with translation.override("en"):
        assert "no data yet" in str(charts.bar_chart([], title="Empty", value_name="v"))
        assert "no data yet" in str(charts.line_chart([], [], title="Empty"))
