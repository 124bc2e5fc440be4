"""Write the committed notebooks from the cell lists below (clean: no outputs, no counts).

Edit here, run ``python tools/build_notebooks.py``, then ``python tools/build_notebooks.py
--record`` to refresh the reference output of each notebook's check cell (the only stored
output, compared by nbval). Analysts may equally edit the .ipynb files in JupyterLab.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks"

PARAMS = """quarter = "latest"  # "latest", "2024/25 Q2" or "2024-25Q2"
data_dir = "../data/sample"  # folder holding referrals.csv (or returns.csv) and the other tables
area = ""  # blank: the only area in the data
kpi_path = ""  # where the quarterly run collects headline figures; blank: not written
today = ""  # yyyy-mm-dd that "latest" is judged from; blank: today"""

SOURCES = """display(ctx.config.table().style.hide(axis="index"))"""


def md(text):
    return new_markdown_cell(text)


def code(text, tags=()):
    cell = new_code_cell(text)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def check(text):
    cell = code("# NBVAL_CHECK_OUTPUT\n" + text, tags=("check",))
    cell.metadata["keep_output"] = True  # nbstripout keeps this output: nbval compares it
    return cell


DEMAND = [
    md(
        "# Demand versus reporting\n\nReferrals are up. Is that more people coming forward "
        "because campaigns built confidence, or more abuse and more need? This page sets the "
        "streams that move with confidence beside the streams that move with need."
    ),
    code(PARAMS, tags=("parameters",)),
    code("""import pandas as pd
from IPython.display import Markdown, display

from daanalysis import demand, disclosure, plots, report
from daanalysis.load import ledger_problems, ledger_summary
from daanalysis.panel import NeedsRecordLevelData

plots.setup()
ctx = report.prepare(data_dir, quarter, area, today)
panel, cfg, q = ctx.panel, ctx.config, ctx.quarter
campaigns = demand.campaigns_for(ctx.extract["campaigns"], ctx.area)
vols = demand.volumes(panel, q)
fits, notes = demand.fit_streams(panel, campaigns)
summary = demand.summary(fits, vols)
display(Markdown(f"**{ctx.area}, {ctx.label}**"))"""),
    md("## Headline"),
    code("display(Markdown(demand.headline(vols, summary, q)))"),
    md(
        "## Referrals this quarter\n\nThe quarter, the same quarter last year and the 12 months "
        "to the quarter's end. Counts below the suppression threshold are shown as [c]."
    ),
    code("""published = disclosure.suppress(
    vols.drop(columns=["stream"]).round(1),
    ["count", "same_quarter_last_year", "rolling_12m"],
    cfg.suppression_threshold,
    rate_columns={"change_pct": ["count", "same_quarter_last_year"],
                  "rolling_change_pct": "rolling_12m"},
)
display(published.style.hide(axis="index").format(precision=1, na_rep="-"))"""),
    md(
        "## Confidence-sensitive and need-sensitive streams\n\nIf campaigns built confidence to "
        "report, the left-hand streams step up at the dashed campaign lines while the right-hand "
        "ones keep to their own trend."
    ),
    code("""fig = plots.streams_chart(
    panel, {k: s for k, s in demand.STREAMS.items() if s.kind != "context"}, campaigns
)"""),
    md(
        "## What the models say\n\nEach stream is modelled as monthly counts with an underlying "
        "trend, month-of-year seasonality and a step at each campaign start (Poisson regression "
        "with intervals widened for over-dispersion). A rate ratio of 1.20 means 20% higher; the "
        "interval is the 95% range of values consistent with the data. This is evidence, not "
        "proof."
    ),
    code("""fig = plots.rate_ratio_chart(fits)
display(summary.style.hide(axis="index").format(precision=1, na_rep="-"))
if notes:
    display(Markdown("\\n".join(f"- {n}" for n in notes)))"""),
    md("## Rates and benchmarks"),
    code("""try:
    bench = pd.concat([demand.rates(panel, q, cfg), demand.marac_benchmark(panel, q, cfg)])
    display(bench.round(1).style.hide(axis="index").format(precision=1, na_rep="-"))
except ValueError as err:
    display(Markdown(f"*Not available: {err}*"))"""),
    md(
        "## Repeat referrals\n\nA repeat is a referral of a client referred within the previous "
        "12 months."
    ),
    code("""try:
    repeats = demand.repeat_rate(panel).tail(8)
    repeats["quarter"] = [report.quarter_label(p, with_months=False) for p in repeats["quarter"]]
    display(
        disclosure.suppress(repeats, ["referrals", "repeat_12m"], cfg.suppression_threshold,
                            rate_columns={"repeat_rate_pct": "repeat_12m"})
        .style.hide(axis="index").format(precision=1)
    )
except NeedsRecordLevelData as err:
    display(Markdown(f"*{err}*"))"""),
    md("## Referral sources this quarter"),
    code("""if ctx.extract.basis == "records":
    sources = demand.source_breakdown(ctx.extract["referrals"], ctx.area, q)
    display(disclosure.suppress(sources.reset_index(), list(sources.columns),
                                cfg.suppression_threshold, totals=True)
            .style.hide(axis="index"))
else:
    display(Markdown("*Referral sources by risk level need record-level referrals.*"))"""),
    md("## Data quality\n\nEvery input row is used or listed here with its reason."),
    code("""display(ledger_summary(ctx.extract.ledger).style.hide(axis="index"))
problems = ledger_problems(ctx.extract.ledger)
display(problems.head(30).style.hide(axis="index"))
for note in ctx.extract.notes:
    display(Markdown(f"*{note}*"))"""),
    md("## Sources"),
    code(SOURCES),
    check("""# Headline figures on the sample data; nbval compares them with the stored output.
assert not {"client_id", "client_key", "referral_id"} & set(published.columns)
print(ctx.label)
print(vols.set_index("stream")[["count", "change_pct"]].round(1).to_string())
print(summary[["indicator", "consistent with", "confidence"]].to_string(index=False))"""),
    code(
        """kpis = report.write_kpis(demand.kpis(vols, fits, summary), kpi_path, ctx,
                        "demand_vs_reporting")""",
        tags=("remove",),
    ),
]

STAFFING = [
    md(
        "# Staffing gap\n\nOpen cases per caseworker against the SafeLives best-practice level "
        "of 30 (safe band 27 to 33), the staffing that would be safe, what the gap costs, and "
        "when demand growth would breach the band again."
    ),
    code(PARAMS, tags=("parameters",)),
    code("""import pandas as pd
from IPython.display import Markdown, display

from daanalysis import disclosure, plots, report, staffing
from daanalysis.periods import quarter_label

plots.setup()
ctx = report.prepare(data_dir, quarter, area, today)
panel, cfg, q = ctx.panel, ctx.config, ctx.quarter
caseload = staffing.caseload_per_fte(panel, cfg)
now = staffing.quarter_end(caseload, q)
need = staffing.required_staffing(now["open_caseload"], now["caseworker_fte"], cfg)
bid = staffing.growth_bid_scenario(now["open_caseload"], now["caseworker_fte"], cfg)
growth = cfg.demand_growth_annual
projections = {
    f"Today's staffing ({need['fte_in_post']:.1f} FTE)":
        staffing.project(now["open_caseload"], need["fte_in_post"], q, growth, cfg),
    f"After the growth bid ({bid['fte_after']:.1f} FTE)":
        staffing.project(now["open_caseload"], bid["fte_after"], q, growth, cfg),
    f"Safe staffing ({need['required_fte']:.1f} FTE)":
        staffing.project(now["open_caseload"], need["required_fte"], q, growth, cfg),
}
breach = staffing.breach_quarter(list(projections.values())[-1])
display(Markdown(f"**{ctx.area}, {ctx.label}**"))"""),
    md("## The answer"),
    code('''breach_text = (quarter_label(breach) if breach is not None else "not within four years")
display(Markdown(f"""**{staffing.one_line_answer(need)}**

- At the end of the quarter {need['open_cases']:,.0f} cases were open for {need['fte_in_post']:.1f}
  caseworker FTE: **{need['per_fte']:.1f} cases per FTE** ({now['status']}; safe band
  {cfg.safe_band_lower:.0f} to {cfg.safe_band_upper:.0f}).
- The GBP {bid['growth_bid']:,.0f} growth bid buys {bid['fte_bought']:.1f} FTE and brings the
  caseload to **{bid['per_fte_after']:.1f} per FTE**; reaching 30 needs a further
  {bid['further_fte_for_safe_level']:.1f} FTE
  (GBP {bid['further_cost_for_safe_level']:,.0f} a year).
- Staffed at the safe level, {100 * growth:.0f}% a year growth in demand would take caseloads
  above {cfg.safe_band_upper:.0f} per FTE in **{breach_text}**."""))'''),
    md("## Caseload against the safe band"),
    code("fig = plots.caseload_chart(caseload, cfg)"),
    md("## Required staffing and cost"),
    code("""rows = pd.DataFrame([
    {"scenario": "Today", "FTE": need["fte_in_post"], "cases per FTE": need["per_fte"]},
    {"scenario": "After the growth bid", "FTE": bid["fte_after"],
     "cases per FTE": bid["per_fte_after"]},
    {"scenario": "Safe staffing (30 per FTE)", "FTE": need["required_fte"],
     "cases per FTE": cfg.safe_caseload_per_fte},
])
rows["FTE short of safe"] = (need["required_fte"] - rows["FTE"]).clip(lower=0)
rows["cost of the shortfall (GBP a year)"] = rows["FTE short of safe"] * cfg.cost_per_fte
display(rows.style.hide(axis="index").format(
    {"FTE": "{:.1f}", "cases per FTE": "{:.1f}", "FTE short of safe": "{:.1f}",
     "cost of the shortfall (GBP a year)": "{:,.0f}"}))"""),
    md("## When will growth breach the band again?"),
    code("fig = plots.projection_chart(projections, cfg)"),
    md(
        "## Cross-check: Little's law\n\nOpen cases should be close to new cases a month times "
        "the months a case stays open. A large gap means cases are held open longer than closed "
        "cases suggest, or are not being closed on the system."
    ),
    code("""little = staffing.littles_law(panel)
display(Markdown(
    f"Over the last 12 months: {little['new_cases_per_month']:.0f} new cases a month x "
    f"{little['mean_months_open']:.1f} months open = "
    f"{little['expected_open_cases']:.0f} expected open cases, against "
    f"{little['observed_open_cases']:.0f} observed (ratio {little['ratio']:.2f})."))"""),
    md(
        "## Response times\n\nShare of referrals first contacted within one working day "
        "(weekends and England bank holidays excluded), against the target."
    ),
    code("""referrals = ctx.extract["referrals"]
kpi = staffing.response_kpi(referrals[referrals["area"] == ctx.area], cfg)
kpi = kpi[kpi["quarter"] <= q]
fig = plots.response_chart(kpi)
shown = kpi.tail(8).assign(
    quarter=lambda d: [quarter_label(p, with_months=False) for p in d["quarter"]]
)
display(disclosure.suppress(shown, ["referrals", "contacted", "within_kpi", "no_contact_recorded"],
                            cfg.suppression_threshold,
                            rate_columns={"within_kpi_pct": "within_kpi"})
        .style.hide(axis="index").format(precision=1))"""),
    md("## Sources"),
    code(SOURCES),
    check("""# Headline figures on the sample data; nbval compares them with the stored output.
print(ctx.label)
print(staffing.one_line_answer(need))
print(f"per FTE now {need['per_fte']:.1f}, after bid {bid['per_fte_after']:.1f}")
print(f"breach at safe staffing: {quarter_label(breach) if breach is not None else 'none'}")
print(f"within one working day this quarter: {kpi.iloc[-1]['within_kpi_pct']:.1f}%")"""),
    code(
        """kpis = report.write_kpis(
    staffing.kpis(need, bid, breach, kpi.iloc[-1], cfg), kpi_path, ctx,
                        "staffing_gap")""",
        tags=("remove",),
    ),
]

ACTION = [
    md(
        "# Action plan progress\n\nThe domestic abuse action plan: RAG status by priority at "
        "the latest review, what changed since the review before, and the red and amber actions."
    ),
    code(PARAMS, tags=("parameters",)),
    code("""from IPython.display import Markdown, display

from daanalysis import actionplan, plots, report

plots.setup()
ctx = report.prepare(data_dir, quarter, area, today, partnership=True)
plan = ctx.extract["action_plan"]
dates = actionplan.reviews(plan)
changes = actionplan.changes_since_last_review(plan)
display(Markdown(f"**Latest review {dates[-1]:%d/%m/%Y}**"
                 + (f", compared with {dates[-2]:%d/%m/%Y}" if len(dates) > 1 else "")))"""),
    md("## RAG by priority"),
    code("""counts = actionplan.rag_by_priority(plan)
fig = plots.rag_chart(counts.drop(columns="total"))
display(counts)"""),
    md("## Change since the last review"),
    code("""display(changes["change"].value_counts().rename("actions").to_frame())
moved = changes[~changes["change"].isin(["no change"])]
display(moved.style.hide(axis="index"))"""),
    md("## Red and amber actions"),
    code('display(actionplan.red_and_amber(plan).style.hide(axis="index"))'),
    check("""# Headline figures on the sample data; nbval compares them with the stored output.
print(counts.sum().to_string())
print(changes["change"].value_counts().sort_index().to_string())"""),
    code(
        """latest = actionplan.at_review(plan)
kpis = report.write_kpis(
    [{"kpi": f"Actions {rag}", "value": int((latest["rag"] == rag).sum()), "unit": "actions",
      "rag": rag} for rag in ["red", "amber", "green"]]
    + [{"kpi": "Actions worse since last review",
        "value": int((changes["change"] == "worse").sum()),
        "unit": "actions"}],
    kpi_path, ctx, "action_plan")""",
        tags=("remove",),
    ),
]

NOTEBOOKS = {"demand_vs_reporting": DEMAND, "staffing_gap": STAFFING, "action_plan": ACTION}
KERNEL = {"name": "daanalysis", "display_name": "Python (daanalysis)", "language": "python"}


def build() -> None:
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(
            cells=cells, metadata={"kernelspec": KERNEL, "language_info": {"name": "python"}}
        )
        for i, cell in enumerate(nb.cells):
            cell.id = f"{name[:8]}-{i:02d}"
        nbformat.write(nb, NB / f"{name}.ipynb")


def record() -> None:
    """Run each notebook on the sample and store the check cell's output for nbval."""
    import tempfile

    import papermill as pm

    for name in NOTEBOOKS:
        path = NB / f"{name}.ipynb"
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / f"{name}.ipynb"
            pm.execute_notebook(
                str(path), str(out), kernel_name="daanalysis", cwd=str(NB), progress_bar=False
            )
            executed = nbformat.read(out, as_version=4)
        outputs = {
            c.source: c.outputs for c in executed.cells if "check" in c.metadata.get("tags", [])
        }
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if "check" in cell.metadata.get("tags", []):
                cell.outputs = outputs[cell.source]
                cell.execution_count = None
                for o in cell.outputs:
                    o.pop("execution_count", None)
        nbformat.write(nb, path)


if __name__ == "__main__":
    build()
    if "--record" in sys.argv:
        record()
