import plotly.graph_objects as go

from gnnkit.viz.report import Report, format_value, table_html


def test_table_html_formats_floats_and_undefined():
    html = table_html([{"fold": 1, "roc_auc": None, "acc": 0.123456}])

    assert "<td>undefined</td>" in html
    assert "<td>0.1235</td>" in html
    assert html.count("<tr>") == 2


def test_format_value_keeps_ints():
    assert format_value(3) == "3"
    assert format_value(0.5) == "0.5000"


def test_report_inlines_plotly_once(tmp_path):
    report = Report("t <1>")
    report.add_figure("a", go.Figure(go.Bar(y=[1, 2])))
    report.add_figure("b", go.Figure(go.Bar(y=[3])))
    report.add_text("notes", "one\n\ntwo & three")
    path = report.write(tmp_path / "r.html")
    page = open(path).read()

    assert page.count("<h2>") == 3
    assert "t &lt;1&gt;" in page
    assert "two &amp; three" in page
    assert page.count("plotly.js v") == 1
