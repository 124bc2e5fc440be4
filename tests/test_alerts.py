"""Staffing alert rules: hand-computed cases, missing inputs, the sample, the front page."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from daanalysis.config import Config
from daanalysis.metrics import alerts

M = "M"
Q = "Q-MAR"


def _caseload(per_fte: list[float]) -> pd.DataFrame:
    months = pd.period_range("2024-04", periods=len(per_fte), freq=M)
    return pd.DataFrame({"month": months, "per_fte": per_fte})


@pytest.mark.parametrize(
    ("values", "status", "run"),
    [
        ([30, 34, 35, 36], "fired", 3),
        ([34, 35, 31, 34], "clear", 1),
        ([30, 31, 32, 33], "clear", 0),  # 33 is inside the band
    ],
)
def test_caseload_alert_counts_consecutive_month_ends(values, status, run):
    out = alerts.caseload_alert(_caseload(values), pd.Period("2024-07", M).asfreq(Q), Config())
    assert out["status"] == status and out["value"] == run


def test_caseload_alert_ignores_months_after_the_quarter():
    frame = _caseload([30, 34, 35, 36, 30])
    out = alerts.caseload_alert(frame, pd.Period("2024-06", M).asfreq(Q), Config())
    assert out["value"] == 2 and out["status"] == "fired"


def test_caseload_alert_from_quarter_ends_counts_quarter_ends():
    # Quarterly returns give the caseload at quarter ends (Jun, Sep, Dec, Mar) only: the run is
    # of quarter ends, and 2 month ends in a row read as 1 quarter end (2 / 3, rounded up).
    months = pd.PeriodIndex(["2024-06", "2024-09", "2024-12", "2025-03"], freq=M)
    frame = pd.DataFrame({"month": months, "per_fte": [30, 31, 34, 36]})
    out = alerts.caseload_alert(frame, pd.Period("2025-03", M).asfreq(Q), Config())
    assert (out["status"], out["value"], out["threshold"], out["unit"]) == (
        "fired",
        2,
        1,
        "quarter ends",
    )
    assert out["message"] == (
        "36.0 open cases per caseworker FTE at the end of March 2025, above the safe band's "
        "upper limit of 33 at the last 2 quarter ends (the alert is raised after 2 month ends in "
        "a row above it; the figures give quarter ends only, so after 1 quarter end)."
    )
    four = alerts.caseload_alert(
        frame, pd.Period("2025-03", M).asfreq(Q), Config(alert_caseload_months=4)
    )
    assert (four["status"], four["threshold"]) == ("fired", 2)
    six = alerts.caseload_alert(
        frame.assign(per_fte=[30, 31, 32, 36]),
        pd.Period("2025-03", M).asfreq(Q),
        Config(alert_caseload_months=6),
    )
    assert (six["status"], six["value"], six["threshold"]) == ("clear", 1, 2)


def test_month_ends_with_a_gap_are_still_month_ends():
    months = pd.PeriodIndex(["2024-04", "2024-05", "2024-06", "2024-09"], freq=M)
    frame = pd.DataFrame({"month": months, "per_fte": [30, 34, 35, 36]})
    out = alerts.caseload_alert(frame, pd.Period("2024-09", M).asfreq(Q), Config())
    assert out["unit"] == "month ends" and out["value"] == 3


def test_response_alert_needs_the_configured_run_of_quarters():
    kpi = pd.DataFrame(
        {"quarter": pd.period_range("2024Q1", periods=3, freq=Q), "within_kpi_pct": [95, 85, 88]}
    )
    q = pd.Period("2024Q3", Q)
    assert alerts.response_alert(kpi, q, Config())["status"] == "fired"
    assert alerts.response_alert(kpi, q, Config(alert_response_quarters=3))["status"] == "clear"
    assert alerts.response_alert(kpi, q, Config())["value"] == 88


def test_projection_alert_quarters_to_breach():
    config = Config()  # band upper 33, growth 7% a year
    q = pd.Period("2025Q1", Q)
    # 31 per FTE: 31 x 1.07 ** (k / 4) passes 33 at k = 4 (33.17); k = 3 is 32.6.
    assert alerts.projection_alert(310, 10, q, config)["status"] == "clear"
    far = alerts.projection_alert(310, 10, q, Config(alert_breach_quarters=4))
    assert far["status"] == "fired" and far["value"] == 4
    now = alerts.projection_alert(400, 10, q, config)
    assert now["status"] == "fired" and now["value"] == 0


def test_vacancy_alert_share_of_funded():
    assert alerts.vacancy_alert(9.0, 10.0, Config())["status"] == "clear"  # 10% is not above
    out = alerts.vacancy_alert(8.5, 10.0, Config())
    assert out["status"] == "fired" and out["value"] == pytest.approx(15.0)
    assert alerts.vacancy_alert(np.nan, np.nan, Config())["status"] == "not evaluated"


def test_rules_without_inputs_are_not_evaluated_not_clear():
    months = pd.period_range("2024-04", periods=3, freq=M)
    panel = pd.DataFrame(
        {
            "area": "A",
            "month": months,
            "quarter": months.asfreq(Q),
            "open_caseload": np.nan,
            "caseworker_fte": np.nan,
            "caseworker_fte_funded": np.nan,
            "basis": "aggregates",
        }
    )
    out = alerts.evaluate(panel, None, pd.Period("2025Q1", Q), Config())
    assert list(out.columns) == alerts.ALERT_COLUMNS
    assert set(out["rule"]) == {"caseload", "projection", "vacancies", "response"}
    assert (out["status"] == "not evaluated").all()
    assert out["message"].str.startswith("Not evaluated").all()


def test_sample_fires_the_planted_staffing_pressure(sample_extract):
    """The sample plants about 41 cases per FTE before the bid and about 90% response: caseload
    and projection fire; vacancies (funded = in post at the quarter end) do not."""
    quarter = pd.Period("2026-09", M).asfreq(Q)
    out = alerts.evaluate_extract(sample_extract, quarter).set_index("rule")
    assert out.loc["caseload", "status"] == "fired"
    assert out.loc["projection", "status"] == "fired"
    assert out.loc["vacancies", "status"] == "clear"
    assert out.loc["response", "status"] in {"fired", "clear"}
    assert len(alerts.lines(out.reset_index())) >= 2


def test_front_page_block_lists_fired_rules_escaped(tmp_path):
    frame = pd.DataFrame(
        [
            {"area": "A", "rule": "caseload", "status": "fired", "message": "Too high <b>"},
            {"area": "A", "rule": "vacancies", "status": "clear", "message": "Fine"},
        ]
    )
    from daanalysis.pack.site import write_front_page

    for name, table in {"fired": frame, "clear": frame.assign(status="clear")}.items():
        folder = tmp_path / name / "2026-27Q2"
        folder.mkdir(parents=True)
        alerts.write(table, folder)
        write_front_page(folder, [], "Pack", "2026/27 Q2")
        page = (folder / "index.html").read_text(encoding="utf-8")
        if name == "fired":
            assert "Staffing alerts" in page and "A: Too high &lt;b&gt;" in page
            assert "Fine" not in page
        else:
            assert "Staffing alerts" not in page


def test_pack_has_alerts_partnership_page_and_officer_list(sample_report):
    table = pd.read_csv(sample_report / "alerts.csv")
    assert list(table.columns) == alerts.ALERT_COLUMNS
    assert set(table["rule"]) == {"caseload", "projection", "vacancies", "response"}
    index = (sample_report / "index.html").read_text(encoding="utf-8")
    # A one-line count of the alerts before the main points, linking to the box after them.
    assert index.index("staffing alerts</strong> this quarter") < index.index("Main points")
    assert index.index("Main points") < index.index("Staffing alerts")
    assert 'href="#alerts"' in index
    assert (sample_report / "sampleborough_partnership_activity.html").exists()
    # The schools never engaged are for officers: written, but linked from no page, and no
    # school is named on the partnership page (config publish_school_names is no).
    listed = pd.read_csv(sample_report / "analysts" / "schools_not_engaged.csv")
    assert len(listed) >= 10
    for page in sample_report.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert 'href="schools_not_engaged' not in text
        assert not any(school in text for school in listed["school"])


def test_fail_on_alert_exit_code(tmp_path, monkeypatch, capsys):
    from daanalysis import cli
    from daanalysis.pack import report

    pack = tmp_path / "2026-27Q2"
    pack.mkdir()
    rows = pd.DataFrame(
        [{"area": "A", "quarter": "q", "rule": "caseload", "status": "fired", "message": "High"}]
    )
    rows.to_csv(pack / "alerts.csv", index=False)
    monkeypatch.setattr(report, "run_report", lambda *args, **kwargs: pack)
    assert cli.main(["report", "--data", "x", "--fail-on-alert"]) == alerts.FAIL_EXIT_CODE
    assert "ALERT A: High" in capsys.readouterr().err
    assert (
        cli.main(["report", "--data", "x"]) == 0
    )  # without the option, alerts are printed, not fatal
    rows.assign(status="clear").to_csv(pack / "alerts.csv", index=False)
    assert cli.main(["report", "--data", "x", "--fail-on-alert"]) == 0


def test_alerts_command_on_the_sample(tmp_path, capsys):
    from daanalysis import cli
    from tests.conftest import SAMPLE

    code = cli.main(["alerts", "--data", str(SAMPLE), "--fail-on-alert", "--out", str(tmp_path)])
    assert code == alerts.FAIL_EXIT_CODE
    printed = capsys.readouterr().out
    assert (
        "FIRED  Sampleborough, caseload" in printed and "CLEAR  Sampleborough, vacancies" in printed
    )
    assert (tmp_path / "alerts.csv").exists()
    assert cli.main(["alerts", "--data", str(SAMPLE), "--quarter", "now"]) == 0
    assert cli.main(["alerts", "--data", str(tmp_path / "missing")]) == 1


def test_front_page_shows_fired_alerts_first(tmp_path):
    from daanalysis.pack.site import write_front_page

    folder = tmp_path / "2026-27Q2"
    folder.mkdir()
    rows = pd.DataFrame(
        [{"area": "A", "rule": "vacancies", "status": "fired", "message": "2 of 10 FTE vacant"}]
    )
    alerts.write(rows, folder)
    kpis = pd.DataFrame(
        [
            {
                "area": "A",
                "quarter": "2026-27Q2",
                "notebook": "staffing_gap",
                "kpi": "Open cases per caseworker FTE",
                "value": 35.0,
                "unit": "cases per FTE",
                "rag": "red",
            }
        ]
    )
    write_front_page(folder, [], "Pack", "2026/27 Q2", kpis, Config())
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert "A: 2 of 10 FTE vacant" in page
    assert page.index("staffing alert") < page.index("Main points") < page.index("Staffing alerts")
    assert page.index("Main points") < page.index("<table")


def test_alert_messages_read_as_sentences(sample_report):
    table = pd.read_csv(sample_report / "alerts.csv", keep_default_na=False)
    for message in table["message"]:
        assert "(s)" not in message and "alert at" not in message and "config" not in message
    caseload = table.set_index("rule").at["caseload", "message"]
    assert "month ends (the alert is raised after 2 month ends in a row above it)" in caseload
    block = (sample_report / "index.html").read_text(encoding="utf-8")
    assert "<li>Sampleborough: " in block and 'href="alerts.csv"' in block


def test_counts_take_the_noun_in_the_right_number():
    assert alerts.counted(1, "working day") == "1 working day"
    assert alerts.counted(2, "quarter") == "2 quarters"
    assert alerts.counted(0, "month end") == "0 month ends"
    assert alerts.counted(1.5, "working day") == "1.5 working days"
