# ruff: noqa: E501 - the table of cases reads best one case a line
"""A corpus of faulty extracts shaped the way UK councils send them, and a run of the pack's
loader and commands over it.

Synthetic only: every extract starts from :func:`daanalysis.synthetic.sample.write_sample` (one
area, or a region of three) or from monthly returns summed from it, and has one fault planted
(an Excel export's title row, a totals row, a notes sheet, a sheet per area, Windows-1252 with a
byte-order mark, "<5" cells, ...). Each case says what a correct reading does (``expect``):

- ``same``: the figures read are the clean base's (the fault is a form the contract accepts);
- ``ledger``: the faulty rows are listed in the ledger with their reason, the rest used;
- ``error``: loading stops with a message naming the file (and row or column) and the fix;
- ``gap``: the faulty values are gaps (not collected or suppressed), never zeros.

``python tools/faulty_corpus.py build OUT`` writes ``OUT/<case>/`` (one data folder a case);
``python tools/faulty_corpus.py run OUT [--report] [--only NAME ...] > run.jsonl`` loads each,
runs ``daanalysis verdict`` (and ``daanalysis report`` with ``--report``, its output in a
temporary folder, for the extracts that load), and prints a JSON line a case: what happened,
against the base's figures, and a first classification (correct, ledgered, clear error, check)
to be read by a person, who judges the messages (clear, unclear) and the differences (correct,
wrong or silent). ``python tools/faulty_corpus.py table --before A.jsonl --after B.jsonl``
prints two runs side by side (an older commit's run: ``PYTHONPATH`` at its ``daanalysis``).
"""

from __future__ import annotations

import argparse
import codecs
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from daanalysis.synthetic.sample import write_sample

REGION = {"Ayton": 1.0, "Beeby": 0.6, "Ceeford": 0.8}
BIN = Path(sys.executable).parent


@dataclass
class Case:
    name: str
    base: str  # single, region or returns
    expect: str  # same, ledger, error or gap
    what: str
    plant: Callable[[Path], None]


# --- bases -------------------------------------------------------------------------------------


def _returns_from(folder: Path) -> None:
    """Replace record-level referrals with monthly returns summed from them (one area)."""
    refs = pd.read_csv(folder / "referrals.csv", dtype=str, encoding="cp1252")
    when = pd.to_datetime(refs["referral_date"], format="%d/%m/%Y", errors="coerce")
    refs = refs[when.notna()].assign(period=when.dt.strftime("%Y-%m"))  # the sample's planted 31/02
    source = refs["referral_source"].str.lower()
    risk = refs["risk_level"].str.lower()
    grouped = refs.assign(
        self_referrals=source.str.startswith("self"),
        high_risk=risk.eq("high"),
        standard_medium_risk=risk.isin(["standard", "medium"]),
    ).groupby(["area", "period"], sort=True)
    returns = grouped.agg(
        referrals=("referral_id", "size"),
        self_referrals=("self_referrals", "sum"),
        high_risk=("high_risk", "sum"),
        standard_medium_risk=("standard_medium_risk", "sum"),
    ).reset_index()
    returns.to_csv(folder / "returns.csv", index=False, lineterminator="\n")
    (folder / "referrals.csv").unlink()


def write_base(kind: str, folder: Path) -> None:
    """A clean extract: ``single`` (the sample), ``region`` (three areas) or ``returns``."""
    if kind in ("region", "region_returns"):
        write_sample(folder, areas=REGION)
        config = pd.read_csv(folder / "config.csv", dtype=str, keep_default_na=False)
        config.loc[config["key"] == "default_area", "value"] = ""
        config.to_csv(folder / "config.csv", index=False, lineterminator="\n")
    else:
        write_sample(folder)
    if kind in ("returns", "region_returns"):
        _returns_from(folder)


# --- helpers for planting faults ---------------------------------------------------------------


def _read(folder: Path, table: str) -> pd.DataFrame:
    enc = "cp1252" if table == "referrals" else "utf-8"
    return pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False, encoding=enc)


def _write(folder: Path, table: str, frame: pd.DataFrame, **kw) -> None:
    kw.setdefault("encoding", "cp1252" if table == "referrals" else "utf-8")
    frame.to_csv(folder / f"{table}.csv", index=False, lineterminator="\n", **kw)


def _to_xlsx(folder: Path, table: str, above: list[list[str]] | None = None, below=None) -> Path:
    """``table.csv`` as ``table.xlsx`` (texts as Excel would hold them: numbers as numbers),
    with rows written above the header and below the data."""
    import openpyxl

    frame = _read(folder, table)
    (folder / f"{table}.csv").unlink()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = table.title()
    for row in above or []:
        sheet.append(row)
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append([_excel_value(v) for v in row])
    for row in below or []:
        sheet.append(row)
    path = folder / f"{table}.xlsx"
    book.save(path)
    return path


def _excel_value(text: str) -> object:
    if text == "":
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text else number


def _lines(folder: Path, table: str, enc: str = "utf-8") -> list[str]:
    return (folder / f"{table}.csv").read_text(encoding=enc).splitlines()


def _put_lines(folder: Path, table: str, lines: list[str], enc: str = "utf-8") -> None:
    (folder / f"{table}.csv").write_text("\n".join(lines) + "\n", encoding=enc)


def _set_cells(
    folder: Path, table: str, rows: list[int] | slice, column: str, value: str | list[str]
) -> None:
    """``value`` written into ``column`` of ``rows`` (positions, or a slice such as every 50th
    row), one value for them all or one each."""
    frame = _read(folder, table)
    frame.loc[rows, column] = value
    _write(folder, table, frame)


def _append_row(folder: Path, table: str, row: list[str]) -> None:
    frame = _read(folder, table)
    frame.loc[len(frame)] = row
    _write(folder, table, frame)


# --- the faults --------------------------------------------------------------------------------


def xlsx_clean(d: Path) -> None:
    _to_xlsx(d, "police")
    _to_xlsx(d, "staffing")


def xlsx_title_row(d: Path) -> None:
    _to_xlsx(d, "police", above=[["Police-recorded domestic abuse, Sampleborough"], []])


def xlsx_merged_header(d: Path) -> None:
    import openpyxl

    path = _to_xlsx(d, "marac", above=[["", "MARAC", "", ""]])
    book = openpyxl.load_workbook(path)
    book.active.merge_cells("B1:D1")
    book.save(path)


def xlsx_totals_row(d: Path) -> None:
    police = _read(d, "police")
    total = ["Sampleborough", "Total"] + [
        str(pd.to_numeric(police[c]).sum()) for c in ("da_incidents", "da_crimes")
    ]
    _to_xlsx(d, "police", below=[total])


def csv_totals_row_no_label(d: Path) -> None:
    police = _read(d, "police")
    total = ",," + ",".join(
        str(pd.to_numeric(police[c]).sum()) for c in ("da_incidents", "da_crimes")
    )
    _put_lines(d, "police", _lines(d, "police") + [total])


def returns_totals_row(d: Path) -> None:
    r = _read(d, "returns")
    total = ["Sampleborough", "Grand total"] + [
        str(pd.to_numeric(r[c]).sum()) for c in r.columns[2:]
    ]
    _put_lines(d, "returns", _lines(d, "returns") + [",".join(total)])


def xlsx_notes_sheet(d: Path) -> None:
    import openpyxl

    path = _to_xlsx(d, "police")
    book = openpyxl.load_workbook(path)
    notes = book.create_sheet("Notes")
    notes.append(["Notes"])
    notes.append(["Source: force crime system, extracted 01/10/2026."])
    notes.append(["Figures are provisional."])
    book.save(path)


def xlsx_notes_sheet_first(d: Path) -> None:
    import openpyxl

    path = _to_xlsx(d, "referrals")
    book = openpyxl.load_workbook(path)
    notes = book.create_sheet("About", 0)
    notes.append(["About this extract"])
    notes.append(["Case system export, all services."])
    book.save(path)


def xlsx_sheet_per_table(d: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for table in ("referrals", "police", "marac", "staffing", "population"):
        frame = _read(d, table)
        sheet = book.create_sheet(table.title())
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([_excel_value(v) for v in row])
        (d / f"{table}.csv").unlink()
    book.save(d / "Sampleborough DA extract.xlsx")


def _sheet_per_area(d: Path, table: str, keep_area: bool = False) -> None:
    """``table``.csv rewritten as ``table``.xlsx with a sheet per area, named after it (the
    area column kept on each sheet with ``keep_area``), as a region's analyst keeps it."""
    import openpyxl

    frame = _read(d, table)
    book = openpyxl.Workbook()
    book.remove(book.active)
    for area, rows in frame.groupby("area", sort=False):
        rows = rows if keep_area else rows.drop(columns="area")
        sheet = book.create_sheet(area)
        sheet.append(list(rows.columns))
        for row in rows.itertuples(index=False):
            sheet.append([_excel_value(v) for v in row])
    (d / f"{table}.csv").unlink()
    book.save(d / f"{table}.xlsx")


def xlsx_sheet_per_area(d: Path) -> None:
    _sheet_per_area(d, "referrals")


def xlsx_sheet_per_area_with_area(d: Path) -> None:
    _sheet_per_area(d, "police", keep_area=True)


def xlsx_dates_as_dates(d: Path) -> None:
    import openpyxl

    frame = _read(d, "referrals")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(frame.columns))
    dates = {"referral_date", "first_contact_date", "closed_date"}
    for row in frame.itertuples(index=False):
        sheet.append(
            [
                _excel_date(v) if c in dates and v else v
                for c, v in zip(frame.columns, row, strict=True)
            ]
        )
    (d / "referrals.csv").unlink()
    book.save(d / "referrals.xlsx")


def _excel_date(text: str) -> object:
    when = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
    return text if pd.isna(when) else when.to_pydatetime()


def cp1252_with_bom(d: Path) -> None:
    text = (d / "referrals.csv").read_bytes()
    text = text.replace(b"White British", b"White British \x96 English", 50)  # an en dash
    (d / "referrals.csv").write_bytes(codecs.BOM_UTF8 + text)


def cp1252_plain(d: Path) -> None:
    text = (d / "staffing.csv").read_text()
    (d / "staffing.csv").write_bytes(
        text.replace("IDVA team", "IDVA team \u2013 Café").encode("cp1252")
    )


def utf8_bom_crlf(d: Path) -> None:
    text = (d / "police.csv").read_text()
    (d / "police.csv").write_bytes(codecs.BOM_UTF8 + text.replace("\n", "\r\n").encode())


def semicolons(d: Path) -> None:
    _write(d, "police", _read(d, "police"), sep=";")


def semicolons_decimal_comma(d: Path) -> None:
    s = _read(d, "staffing")
    for c in ("fte_in_post", "fte_funded"):
        s[c] = s[c].str.replace(".", ",", regex=False)
    _write(d, "staffing", s, sep=";")


def dates_iso_months_as_dates(d: Path) -> None:
    p = _read(d, "police")
    p["month"] = pd.to_datetime(p["month"]).dt.strftime("01/%m/%Y")
    _write(d, "police", p)


def referral_dates_iso(d: Path) -> None:
    r = _read(d, "referrals")
    for c in ("referral_date", "first_contact_date", "closed_date"):
        when = pd.to_datetime(r[c], format="%d/%m/%Y", errors="coerce")
        r[c] = when.dt.strftime("%Y-%m-%d").where(when.notna(), r[c])
    _write(d, "referrals", r)


def referral_dates_month_only(d: Path) -> None:
    r = _read(d, "referrals")
    r.loc[:30, "referral_date"] = pd.to_datetime(
        r.loc[:30, "referral_date"], format="%d/%m/%Y"
    ).dt.strftime("%Y-%m")
    _write(d, "referrals", r)


def marac_fy_quarters(d: Path) -> None:
    m = _read(d, "marac")
    per = pd.PeriodIndex(m["period"], freq="M").asfreq("Q-MAR")
    m["q"] = [f"{p.qyear - 1}/{str(p.qyear)[2:]} Q{p.quarter}" for p in per]
    for c in ("cases_discussed", "repeat_cases"):
        m[c] = pd.to_numeric(m[c])
    q = m.groupby(["area", "q"], sort=False)[["cases_discussed", "repeat_cases"]].sum()
    q = q.reset_index().rename(columns={"q": "period"})
    _write(d, "marac", q.astype(str))


def marac_quarters_then_months(d: Path) -> None:
    m = _read(d, "marac")
    early = m[m["period"] < "2022-04"].copy()
    per = pd.PeriodIndex(early["period"], freq="M").asfreq("Q-MAR")
    early["period"] = [f"{p.qyear - 1}/{str(p.qyear)[2:]} Q{p.quarter}" for p in per]
    for c in ("cases_discussed", "repeat_cases"):
        early[c] = pd.to_numeric(early[c])
    q = early.groupby(["area", "period"], sort=False)[["cases_discussed", "repeat_cases"]].sum()
    q = q.reset_index().astype(str)
    _write(d, "marac", pd.concat([q, m[m["period"] >= "2022-04"]], ignore_index=True))


def returns_quarter_rows_beside_months(d: Path) -> None:
    """Each quarter's subtotal row after its three months, as a returns spreadsheet keeps."""
    r = _read(d, "returns")
    per = pd.PeriodIndex(r["period"], freq="M").asfreq("Q-MAR")
    out = []
    for q, rows in r.groupby(per, sort=True):
        out.append(rows)
        if len(rows) == 3:
            total = rows.iloc[:1].copy()
            total["period"] = f"{q.qyear - 1}/{str(q.qyear)[2:]} Q{q.quarter}"
            for c in r.columns[2:]:
                total[c] = str(pd.to_numeric(rows[c]).sum())
            out.append(total)
    _write(d, "returns", pd.concat(out, ignore_index=True))


def _returns_by_quarter(d: Path, label: Callable[[pd.Period], str]) -> None:
    """The monthly returns summed to financial quarters, each quarter written by ``label``."""
    r = _read(d, "returns")
    per = pd.PeriodIndex(r["period"], freq="M").asfreq("Q-MAR")
    for c in r.columns[2:]:
        r[c] = pd.to_numeric(r[c])
    q = r.assign(q=[label(p) for p in per])
    q = q.groupby(["area", "q"], sort=False)[list(r.columns[2:])].sum().reset_index()
    _write(d, "returns", q.rename(columns={"q": "period"}).astype(str))


def returns_fy_label_forms(d: Path) -> None:
    _returns_by_quarter(d, lambda p: f"Q{p.quarter} {p.qyear - 1}-{str(p.qyear)[2:]}")


def police_markers(d: Path) -> None:
    p = _read(d, "police")
    for i, marker in zip((10, 20, 30, 40), ("not collected", "n/a", "N/A", ".."), strict=True):
        p.loc[i, "da_crimes"] = marker
    _write(d, "police", p)


def police_dash(d: Path) -> None:
    _set_cells(d, "police", [12, 25], "da_crimes", "-")


def police_star_suppressed(d: Path) -> None:
    _set_cells(d, "marac", [5, 17, 33], "repeat_cases", "*")


def marac_lt5_suppressed(d: Path) -> None:
    _set_cells(d, "marac", [4, 9, 21, 50], "repeat_cases", "<5")


def returns_suppressed_mixed(d: Path) -> None:
    r = _read(d, "returns")
    r.loc[[3, 15], "self_referrals"] = "<5"
    r.loc[[7], "self_referrals"] = "[c]"
    r.loc[[9], "high_risk"] = "*"
    _write(d, "returns", r)


def thousands_commas(d: Path) -> None:
    p = _read(d, "police")
    p["da_incidents"] = pd.to_numeric(p["da_incidents"]).map(lambda v: f"{v + 1000:,}")
    pop = _read(d, "population")
    for c in ("females_16plus", "males_16plus"):
        pop[c] = pd.to_numeric(pop[c]).map(lambda v: f"{v:,}")
    _write(d, "police", p)
    _write(d, "population", pop)


def thousands_spaces(d: Path) -> None:
    pop = _read(d, "population")
    pop["females_16plus"] = pd.to_numeric(pop["females_16plus"]).map(
        lambda v: f"{v:,}".replace(",", " ")
    )
    _write(d, "population", pop)


def decimal_comma_fte(d: Path) -> None:
    s = _read(d, "staffing")
    s.loc[[3, 4], "fte_in_post"] = s.loc[[3, 4], "fte_in_post"].str.replace(".", ",")
    _write(d, "staffing", s)


def trailing_blank_columns(d: Path) -> None:
    _put_lines(d, "police", [line + ",,," for line in _lines(d, "police")])


def trailing_blank_columns_referrals(d: Path) -> None:
    lines = _lines(d, "referrals", "cp1252")
    _put_lines(d, "referrals", [line + ",," for line in lines], "cp1252")


def repeated_header_rows(d: Path) -> None:
    lines = _lines(d, "referrals", "cp1252")
    for at in (3001, 6001):
        lines.insert(at, lines[0])
    _put_lines(d, "referrals", lines, "cp1252")


def repeated_header_rows_police(d: Path) -> None:
    lines = _lines(d, "police")
    lines.insert(40, lines[0])
    _put_lines(d, "police", lines)


def area_stray_spaces(d: Path) -> None:
    _set_cells(d, "police", slice(None), "area", " Sampleborough  ")


def area_other_case(d: Path) -> None:
    _set_cells(d, "police", slice(None), "area", "SAMPLEBOROUGH")


def area_other_case_some_rows(d: Path) -> None:
    _set_cells(d, "referrals", slice(None, None, 50), "area", "sampleborough")


def region_area_case_in_police(d: Path) -> None:
    p = _read(d, "police")
    p["area"] = p["area"].str.upper()
    _write(d, "police", p)


def ons_codes_in_police(d: Path) -> None:
    _set_cells(d, "police", slice(None), "area", "E06000099")


def ons_code_column_extra(d: Path) -> None:
    pop = _read(d, "population")
    pop.insert(0, "area_code", "E06000099")
    _write(d, "population", pop)


def optional_missing(d: Path) -> None:
    for t in ("police", "marac", "staffing"):
        (d / f"{t}.csv").unlink()


def optional_empty_file(d: Path) -> None:
    (d / "police.csv").write_text("")


def optional_header_only(d: Path) -> None:
    (d / "marac.csv").write_text("area,period,cases_discussed,repeat_cases\n")


def required_header_only(d: Path) -> None:
    (d / "referrals.csv").write_text(_lines(d, "referrals", "cp1252")[0] + "\n")


def renamed_columns_spaces(d: Path) -> None:
    r = _read(d, "referrals")
    r.columns = [c.replace("_", " ").title() for c in r.columns]
    _write(d, "referrals", r)


def renamed_columns_other_words(d: Path) -> None:
    r = _read(d, "referrals")
    _write(d, "referrals", r.rename(columns={"referral_date": "Date of Referral"}))


def extra_unknown_columns(d: Path) -> None:
    r = _read(d, "referrals")
    r["Postcode district"] = "XX1"
    r["Worker"] = "A. Worker"
    _write(d, "referrals", r)


def misspelt_optional_column(d: Path) -> None:
    m = _read(d, "marac")
    _write(d, "marac", m.rename(columns={"repeat_cases": "repeats"}))


def future_dated_row(d: Path) -> None:
    _set_cells(d, "referrals", [100], "referral_date", "14/03/2027")


def future_month_police(d: Path) -> None:
    _append_row(d, "police", ["Sampleborough", "2027-03", "300", "200"])


def negative_counts(d: Path) -> None:
    _set_cells(d, "police", [7], "da_incidents", "-12")


def negative_returns(d: Path) -> None:
    _set_cells(d, "returns", [7], "high_risk", "-3")


def percent_fte(d: Path) -> None:
    _set_cells(d, "staffing", [5], "fte_in_post", "80%")


def percent_in_returns(d: Path) -> None:
    _set_cells(d, "returns", [4, 5], "high_risk", ["35%", "0.35"])


def benchmark_percent(d: Path) -> None:
    pd.DataFrame(
        {
            "measure": ["referrals_per_1000_adults", "referrals_per_1000_adults"],
            "name": ["Regional A", "Regional B"],
            "value": ["10.5", "35%"],
            "period": ["2025/26", "2025/26"],
            "source": ["synthetic", "synthetic"],
        }
    ).to_csv(d / "benchmarks.csv", index=False)


def excel_serial_dates(d: Path) -> None:
    _set_cells(d, "referrals", [5, 6], "referral_date", ["45366", "45367"])


def two_digit_years(d: Path) -> None:
    p = _read(d, "police")
    p["month"] = pd.to_datetime(p["month"]).dt.strftime("01/%m/%y")
    _write(d, "police", p)


def month_names_short(d: Path) -> None:
    p = _read(d, "police")
    p["month"] = pd.to_datetime(p["month"]).dt.strftime("%b-%y")
    _write(d, "police", p)


def region_one_area_no_police(d: Path) -> None:
    p = _read(d, "police")
    _write(d, "police", p[p["area"] != "Beeby"])


def region_police_wider(d: Path) -> None:
    p = _read(d, "police")
    extra = p[p["area"] == "Ayton"].assign(area="Deeham")
    _write(d, "police", pd.concat([p, extra], ignore_index=True))


def region_blank_area_rows(d: Path) -> None:
    _set_cells(d, "referrals", slice(None, None, 400), "area", "")


def region_area_trailing_space(d: Path) -> None:
    r = _read(d, "referrals")
    r.loc[r["area"] == "Beeby", "area"] = "Beeby "
    _write(d, "referrals", r)


def region_population_codes(d: Path) -> None:
    pop = _read(d, "population")
    codes = {"Ayton": "E07000001", "Beeby": "E07000002", "Ceeford": "E07000003"}
    pop["area"] = pop["area"].map(codes)
    _write(d, "population", pop)


def numbers_with_decimals_zero(d: Path) -> None:
    p = _read(d, "police")
    p["da_incidents"] = p["da_incidents"] + ".0"
    _write(d, "police", p)


def duplicate_referral_rows(d: Path) -> None:
    lines = _lines(d, "referrals", "cp1252")
    _put_lines(d, "referrals", lines + lines[100:104], "cp1252")


def closed_before_referral(d: Path) -> None:
    _set_cells(d, "referrals", [200], "closed_date", "01/01/2020")


def quarterly_police(d: Path) -> None:
    _append_row(d, "police", ["Sampleborough", "2026/27 Q2", "900", "600"])


def blank_lines_between(d: Path) -> None:
    lines = _lines(d, "police")
    lines[20:20] = ["", ",,,", ""]
    _put_lines(d, "police", lines)


def utf16_tab(d: Path) -> None:
    p = _read(d, "police")
    (d / "police.csv").write_bytes(p.to_csv(index=False, sep="\t").encode("utf-16"))


def all_quoted(d: Path) -> None:
    import csv

    _write(d, "police", _read(d, "police"), quoting=csv.QUOTE_ALL)


def risk_labels_odd(d: Path) -> None:
    _set_cells(d, "referrals", slice(None, None, 97), "risk_level", "Not assessed")


def staffing_total_rows(d: Path) -> None:
    s = _read(d, "staffing")
    out = []
    for _, rows in s.groupby(["area", "month"], sort=False):
        out.append(rows)
        total = rows.iloc[:1].copy()
        total["team"] = "Total"
        total["role"] = "All"
        for c in ("fte_in_post", "fte_funded"):
            total[c] = f"{pd.to_numeric(rows[c]).sum():.1f}"
        out.append(total)
    _write(d, "staffing", pd.concat(out, ignore_index=True))


def vintage_excel_date(d: Path) -> None:
    (d / "VINTAGE").write_text("Case system extract\nExtract date: 5 October 2026\n")


def returns_quarter_words(d: Path) -> None:
    r = _read(d, "returns")
    per = pd.PeriodIndex(r["period"], freq="M").asfreq("Q-MAR")
    for c in r.columns[2:]:
        r[c] = pd.to_numeric(r[c])
    words = {1: "Apr-Jun", 2: "Jul-Sep", 3: "Oct-Dec", 4: "Jan-Mar"}
    label = [f"{words[p.quarter]} {p.qyear - 1 if p.quarter < 4 else p.qyear}" for p in per]
    q = r.assign(q=label).groupby(["area", "q"], sort=False)[list(r.columns[2:])].sum()
    _write(d, "returns", q.reset_index().rename(columns={"q": "period"}).astype(str))


def police_zero_months(d: Path) -> None:
    _set_cells(d, "police", [30, 31], "da_incidents", "0")


def referrals_second_file(d: Path) -> None:
    r = _read(d, "referrals")
    _write(d, "referrals", r[r["area"] != "Ceeford"])
    r[r["area"] == "Ceeford"].to_csv(d / "referrals_ceeford.csv", index=False, encoding="cp1252")


def referrals_totals_row_xlsx(d: Path) -> None:
    n = len(_read(d, "referrals"))
    _to_xlsx(d, "referrals", below=[[], ["Total", n]])


def region_returns_sheet_per_area(d: Path) -> None:
    _sheet_per_area(d, "returns")


def region_returns_suppressed(d: Path) -> None:
    r = _read(d, "returns")
    beeby = r.index[r["area"] == "Beeby"]
    r.loc[beeby[::6], "self_referrals"] = "<5"
    _write(d, "returns", r)


def fte_with_unit(d: Path) -> None:
    _set_cells(d, "staffing", [9], "fte_in_post", "6.3 FTE")


def population_mid_year_labels(d: Path) -> None:
    pop = _read(d, "population")
    pop["year"] = "Mid-" + pop["year"]
    _write(d, "population", pop)


def dates_with_dots(d: Path) -> None:
    r = _read(d, "referrals")
    r["referral_date"] = r["referral_date"].str.replace("/", ".")
    _write(d, "referrals", r)


def csv_title_row(d: Path) -> None:
    lines = _lines(d, "marac")
    _put_lines(d, "marac", ["MARAC cases by month,,,", ",,,", *lines])


def negative_fte(d: Path) -> None:
    _set_cells(d, "staffing", [11], "fte_in_post", "-1.0")


def returns_future_quarter(d: Path) -> None:
    r = _read(d, "returns")
    extra = r.iloc[[-1]].copy()
    extra["period"] = "2027/28 Q1"
    _write(d, "returns", pd.concat([r, extra], ignore_index=True))


def returns_months_as_dates(d: Path) -> None:
    r = _read(d, "returns")
    r["period"] = pd.to_datetime(r["period"]).dt.strftime("01/%m/%Y")
    _write(d, "returns", r)


def xlsx_notes_and_area_sheets(d: Path) -> None:
    import openpyxl

    frame = _read(d, "police")
    book = openpyxl.Workbook()
    book.active.title = "Read me"
    book.active.append(["Police-recorded DA by council, provisional"])
    for area, rows in frame.groupby("area", sort=False):
        sheet = book.create_sheet(area)
        sheet.append([c for c in frame.columns if c != "area"])
        for row in rows.drop(columns="area").itertuples(index=False):
            sheet.append([_excel_value(v) for v in row])
    (d / "police.csv").unlink()
    book.save(d / "police.xlsx")


def referrals_blank_rows_xlsx(d: Path) -> None:
    _to_xlsx(d, "referrals", below=[[None] * 3] * 40 + [["", "", ""]] * 20)


def region_area_case_one_council(d: Path) -> None:
    r = _read(d, "referrals")
    beeby = r.index[r["area"] == "Beeby"]
    r.loc[beeby[:40], "area"] = "BEEBY"
    _write(d, "referrals", r)


def _config(d: Path, key: str, value: str) -> None:
    config = pd.read_csv(d / "config.csv", dtype=str, keep_default_na=False)
    config.loc[config["key"] == key, "value"] = value
    config.to_csv(d / "config.csv", index=False, lineterminator="\n")


def config_percent(d: Path) -> None:
    _config(d, "response_target_share", "90%")


def config_share_as_percent_number(d: Path) -> None:
    _config(d, "demand_growth_annual", "7")


def returns_quarter_differs(d: Path) -> None:
    r = _read(d, "returns")
    first = r.iloc[:3]
    total = first.iloc[:1].copy()
    total["period"] = "2020/21 Q1"
    for c in r.columns[2:]:
        total[c] = str(pd.to_numeric(first[c]).sum() + (7 if c == "referrals" else 0))
    _write(d, "returns", pd.concat([first, total, r.iloc[3:]], ignore_index=True))


# --- round three: more of what councils' exports hold ------------------------------------------


def xlsx_dates_some_text(d: Path) -> None:
    """referrals.xlsx with real date cells, but 25 referral dates typed in as text (a cell
    formatted as Text before the date was keyed, as happens when rows are added by hand)."""
    import openpyxl

    frame = _read(d, "referrals")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(frame.columns))
    dates = {"referral_date", "first_contact_date", "closed_date"}
    for i, row in enumerate(frame.itertuples(index=False)):
        sheet.append(
            [
                v
                if (c == "referral_date" and i % 400 == 7) or not v
                else _excel_date(v)
                if c in dates
                else v
                for c, v in zip(frame.columns, row, strict=True)
            ]
        )
    (d / "referrals.csv").unlink()
    book.save(d / "referrals.xlsx")


def xlsx_filtered_rows(d: Path) -> None:
    """police.xlsx saved with a filter on and 12 rows hidden by it: the rows are in the file."""
    import openpyxl

    path = _to_xlsx(d, "police")
    book = openpyxl.load_workbook(path)
    sheet = book.active
    sheet.auto_filter.ref = sheet.dimensions
    for r in range(10, 22):
        sheet.row_dimensions[r].hidden = True
    book.save(path)


def xlsx_numbers_stored_as_text(d: Path) -> None:
    """police.xlsx whose counts are text cells with Excel's apostrophe prefix (green triangles)."""
    import openpyxl
    from openpyxl.styles import Alignment

    frame = _read(d, "police")
    (d / "police.csv").unlink()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append(list(row))  # every value a text cell
    for cells in sheet.iter_rows(min_row=2, min_col=3):
        for cell in cells:
            cell.alignment = Alignment(horizontal="left")
            cell.quotePrefix = True
    book.save(d / "police.xlsx")


def apostrophe_numbers_csv(d: Path) -> None:
    """police.csv from a tool that writes a leading apostrophe to keep Excel from reformatting."""
    p = _read(d, "police")
    p.loc[[3, 4, 5], "da_crimes"] = "'" + p.loc[[3, 4, 5], "da_crimes"]
    _write(d, "police", p)


def nbsp_thousands(d: Path) -> None:
    """population 75 000 with a non-breaking space (U+00A0) and a thin space (U+2009)."""
    pop = _read(d, "population")
    pop["females_16plus"] = pd.to_numeric(pop["females_16plus"]).map(
        lambda v: f"{v:,}".replace(",", "\u00a0")
    )
    pop["males_16plus"] = pd.to_numeric(pop["males_16plus"]).map(
        lambda v: f"{v:,}".replace(",", "\u2009")
    )
    _write(d, "population", pop)


def labels_nbsp_and_capitals(d: Path) -> None:
    """Risk levels 'HIGH', 'Medium\u00a0', 'Standard ', and the police area with a trailing
    non-breaking space."""
    r = _read(d, "referrals")
    risk = r["risk_level"].str.lower()
    r.loc[risk.eq("high") & (r.index % 3 == 0), "risk_level"] = "HIGH"
    r.loc[risk.eq("medium") & (r.index % 3 == 1), "risk_level"] = "Medium\u00a0"
    r.loc[risk.eq("standard") & (r.index % 3 == 2), "risk_level"] = "Standard "
    _write(d, "referrals", r)
    p = _read(d, "police")
    p["area"] = p["area"] + "\u00a0"
    _write(d, "police", p)


def sanctuary_pounds(d: Path) -> None:
    """sanctuary.csv costs as a finance system exports them: '£153.38', '£1,250.00'."""
    s = _read(d, "sanctuary")
    cost = pd.to_numeric(s["cost"])
    s["cost"] = cost.map(lambda v: f"£{v:,.2f}")
    s.loc[[2, 9], "cost"] = ["£1,250.00", "£2,040.50"]
    _write(d, "sanctuary", s)


def bracket_negative(d: Path) -> None:
    """An accountant's negative, '(12)', in police incidents."""
    _set_cells(d, "police", [7], "da_incidents", "(12)")


def returns_fy_short(d: Path) -> None:
    """Quarterly returns labelled 'FY20/21 Q1'."""
    _returns_by_quarter(
        d, lambda p: f"FY{(p.qyear - 1) % 100:02d}/{p.qyear % 100:02d} Q{p.quarter}"
    )


def returns_month_end_and_words(d: Path) -> None:
    """Monthly returns: the first year's months as 'April 2020', later ones as the month's
    last day ('30/04/2021')."""
    r = _read(d, "returns")
    when = pd.PeriodIndex(r["period"], freq="M")
    words = when.strftime("%B %Y")
    ends = when.to_timestamp(how="end").strftime("%d/%m/%Y")
    r["period"] = np.where(when < pd.Period("2021-04", "M"), words, ends)
    _write(d, "returns", r)


def crlf_ctrl_z(d: Path) -> None:
    """police.csv with CRLF line ends and a DOS end-of-file byte (Ctrl-Z, 0x1A) at the end."""
    text = (d / "police.csv").read_text()
    (d / "police.csv").write_bytes(text.replace("\n", "\r\n").encode() + b"\x1a")


def tab_separated_csv(d: Path) -> None:
    """police.csv that is tab-separated (Excel's 'Text (Tab delimited)' renamed .csv)."""
    _write(d, "police", _read(d, "police"), sep="\t")


def campaign_end_before_start(d: Path) -> None:
    # A year typed wrong: before its start, 01/06/2024.
    _set_cells(d, "campaigns", [1], "end_date", "15/07/2023")


def campaign_no_start(d: Path) -> None:
    _set_cells(d, "campaigns", [1], "start_date", "")


def events_kind_spelt(d: Path) -> None:
    """events.csv kind 'Temporary ' (a trailing space) and 'Level-Shift'."""
    e = _read(d, "events")
    e.loc[0, "kind"] = "Temporary "
    e.loc[1] = ["Recording practice change", "01/04/2023", "", "Level-Shift", ""]
    _write(d, "events", e)


def events_kind_unknown(d: Path) -> None:
    """events.csv kind 'lockdown': neither level_shift nor temporary."""
    _set_cells(d, "events", [0], "kind", "lockdown")


def referral_id_reused(d: Path) -> None:
    """Three referral IDs each on two different referrals (another date, client and source)."""
    r = _read(d, "referrals")
    r.loc[[900, 1900, 2900], "referral_id"] = r.loc[[100, 1100, 2100], "referral_id"].to_numpy()
    _write(d, "referrals", r)


def returns_iso_timestamps(d: Path) -> None:
    """Monthly returns with periods '2020-04-01 00:00:00' (a date cell exported as text)."""
    r = _read(d, "returns")
    r["period"] = pd.PeriodIndex(r["period"], freq="M").strftime("%Y-%m-01 00:00:00")
    _write(d, "returns", r)


# fmt: off
CASES = [
    Case("xlsx_clean", "single", "same", "police and staffing as XLSX", xlsx_clean),
    Case("xlsx_title_row", "single", "error", "XLSX with a title row", xlsx_title_row),
    Case("xlsx_merged_header", "single", "error", "merged heading over header", xlsx_merged_header),
    Case("xlsx_totals_row", "single", "ledger", "XLSX police, Total row at bottom", xlsx_totals_row),
    Case("csv_totals_no_label", "single", "ledger", "police totals row, no label", csv_totals_row_no_label),
    Case("returns_totals_row", "returns", "ledger", "returns 'Grand total' row", returns_totals_row),
    Case("xlsx_notes_sheet", "single", "same", "police.xlsx with a Notes sheet", xlsx_notes_sheet),
    Case("xlsx_notes_sheet_first", "single", "same", "referrals.xlsx, About sheet first", xlsx_notes_sheet_first),
    Case("xlsx_sheet_per_table", "single", "error", "one workbook, a sheet per table", xlsx_sheet_per_table),
    Case("xlsx_sheet_per_area", "region", "same", "referrals.xlsx, a sheet per area, no area column", xlsx_sheet_per_area),
    Case("xlsx_sheet_per_area_col", "region", "same", "police.xlsx, a sheet per area", xlsx_sheet_per_area_with_area),
    Case("xlsx_dates_as_dates", "single", "same", "referral dates as Excel dates", xlsx_dates_as_dates),
    Case("cp1252_with_bom", "single", "same", "Windows-1252 bytes behind a UTF-8 BOM", cp1252_with_bom),
    Case("cp1252_plain", "single", "same", "staffing in Windows-1252", cp1252_plain),
    Case("utf8_bom_crlf", "single", "same", "UTF-8 BOM and CRLF", utf8_bom_crlf),
    Case("utf16_tab", "single", "error", "Excel Unicode Text (UTF-16, tabs)", utf16_tab),
    Case("semicolons", "single", "error", "police.csv with ';'", semicolons),
    Case("semicolons_decimal_comma", "single", "error", "staffing ';' and 6,3", semicolons_decimal_comma),
    Case("months_as_dates", "single", "same", "police months 01/04/2020", dates_iso_months_as_dates),
    Case("referral_dates_iso", "single", "same", "referral dates yyyy-mm-dd", referral_dates_iso),
    Case("referral_dates_month_only", "single", "ledger", "31 referral dates as 2020-04", referral_dates_month_only),
    Case("month_names_short", "single", "same", "police months Apr-20", month_names_short),
    Case("two_digit_years", "single", "error", "police months 01/04/20", two_digit_years),
    Case("excel_serial_dates", "single", "ledger", "two referral dates 45366", excel_serial_dates),
    Case("marac_fy_quarters", "single", "same", "MARAC by quarter 2023/24 Q1", marac_fy_quarters),
    Case("marac_quarters_then_months", "single", "same", "MARAC quarterly then monthly", marac_quarters_then_months),
    Case("returns_quarter_subtotals", "returns", "ledger", "returns with quarter subtotal rows", returns_quarter_rows_beside_months),
    Case("returns_fy_label_forms", "returns", "same", "returns quarterly 'Q1 2020-21'", returns_fy_label_forms),
    Case("police_markers", "single", "gap", "not collected, n/a, .. in police", police_markers),
    Case("police_dash", "single", "ledger", "'-' in police", police_dash),
    Case("marac_star", "single", "gap", "'*' suppressed MARAC repeats", police_star_suppressed),
    Case("marac_lt5", "single", "gap", "'<5' suppressed MARAC repeats", marac_lt5_suppressed),
    Case("returns_suppressed", "returns", "gap", "'<5', '[c]', '*' in returns", returns_suppressed_mixed),
    Case("thousands_commas", "single", "ledger", "police incidents 1,304 (planted 1000 up) and population 75,000", thousands_commas),
    Case("thousands_spaces", "single", "ledger", "population 75 000", thousands_spaces),
    Case("decimal_comma_fte", "single", "ledger", "FTE 6,3", decimal_comma_fte),
    Case("numbers_dot_zero", "single", "same", "police counts 304.0", numbers_with_decimals_zero),
    Case("trailing_blank_cols", "single", "same", "police with ',,,' at each line end", trailing_blank_columns),
    Case("trailing_blank_cols_refs", "single", "same", "referrals with ',,' at each line end", trailing_blank_columns_referrals),
    Case("repeated_header_rows", "single", "ledger", "referrals header pasted twice more", repeated_header_rows),
    Case("repeated_header_police", "single", "ledger", "police header pasted again", repeated_header_rows_police),
    Case("blank_lines_between", "single", "same", "blank lines in police", blank_lines_between),
    Case("all_quoted", "single", "same", "every police value quoted", all_quoted),
    Case("area_stray_spaces", "single", "same", "police area ' Sampleborough  '", area_stray_spaces),
    Case("area_other_case", "single", "error", "police area SAMPLEBOROUGH", area_other_case),
    Case("area_case_some_referrals", "single", "error", "some referrals 'sampleborough'", area_other_case_some_rows),
    Case("region_police_upper", "region", "error", "region police areas in capitals", region_area_case_in_police),
    Case("ons_codes_police", "single", "error", "police area an ONS code", ons_codes_in_police),
    Case("ons_code_extra_column", "single", "same", "population with area_code", ons_code_column_extra),
    Case("optional_missing", "single", "same", "no police, marac, staffing", optional_missing),
    Case("optional_empty_file", "single", "same", "police.csv of 0 bytes", optional_empty_file),
    Case("optional_header_only", "single", "same", "marac.csv header only", optional_header_only),
    Case("required_header_only", "single", "error", "referrals.csv header only", required_header_only),
    Case("renamed_title_case", "single", "same", "'Referral Date' headers", renamed_columns_spaces),
    Case("renamed_other_words", "single", "error", "'Date of Referral'", renamed_columns_other_words),
    Case("extra_unknown_columns", "single", "same", "extra columns in referrals", extra_unknown_columns),
    Case("misspelt_optional_column", "single", "same", "marac 'repeats' for repeat_cases", misspelt_optional_column),
    Case("future_dated_row", "single", "ledger", "a referral dated 2027", future_dated_row),
    Case("future_month_police", "single", "ledger", "a police month 2027-03", future_month_police),
    Case("negative_count", "single", "ledger", "police -12", negative_counts),
    Case("negative_returns", "returns", "ledger", "returns high_risk -3", negative_returns),
    Case("percent_fte", "single", "ledger", "FTE 80%", percent_fte),
    Case("percent_in_returns", "returns", "ledger", "returns 35% and 0.35", percent_in_returns),
    Case("benchmark_percent", "single", "ledger", "benchmark value 35%", benchmark_percent),
    Case("quarterly_police_row", "single", "ledger", "a police row 2026/27 Q2", quarterly_police),
    Case("region_one_no_police", "region", "same", "region, Beeby without police", region_one_area_no_police),
    Case("region_police_wider", "region", "same", "police covering a 4th area", region_police_wider),
    Case("region_blank_area_rows", "region", "ledger", "region referrals, some area blank", region_blank_area_rows),
    Case("region_area_trailing_space", "region", "same", "'Beeby ' in referrals", region_area_trailing_space),
    Case("region_population_codes", "region", "error", "population by ONS code", region_population_codes),
    Case("duplicate_referral_rows", "single", "ledger", "4 referral rows repeated", duplicate_referral_rows),
    Case("closed_before_referral", "single", "ledger", "closed before referral", closed_before_referral),
    Case("risk_not_assessed", "single", "ledger", "risk 'Not assessed'", risk_labels_odd),
    Case("staffing_total_rows", "single", "ledger", "staffing Total/All row each month", staffing_total_rows),
    Case("vintage_long_date", "single", "same", "VINTAGE 'Extract date: 5 October 2026'", vintage_excel_date),
    Case("returns_quarter_words", "returns", "same", "returns quarters 'Apr-Jun 2020'", returns_quarter_words),
    Case("police_zero_months", "single", "ledger", "police months keyed 0", police_zero_months),
    Case("referrals_second_file", "region", "error", "Ceeford in referrals_ceeford.csv", referrals_second_file),
    Case("referrals_totals_row_xlsx", "single", "ledger", "referrals.xlsx, a Total row", referrals_totals_row_xlsx),
    Case("region_returns_sheet_per_area", "region_returns", "same", "returns.xlsx, a sheet per council", region_returns_sheet_per_area),
    Case("region_returns_suppressed", "region_returns", "gap", "Beeby's self-referrals '<5' every 6th month", region_returns_suppressed),
    Case("fte_with_unit", "single", "ledger", "FTE '6.3 FTE'", fte_with_unit),
    Case("population_mid_year", "single", "same", "population year 'Mid-2020'", population_mid_year_labels),
    Case("dates_with_dots", "single", "same", "referral dates 01.04.2020", dates_with_dots),
    Case("csv_title_row", "single", "error", "marac.csv with a title row", csv_title_row),
    Case("negative_fte", "single", "ledger", "FTE -1.0", negative_fte),
    Case("returns_future_quarter", "returns", "ledger", "returns 2027/28 Q1", returns_future_quarter),
    Case("returns_months_as_dates", "returns", "same", "returns periods 01/04/2020", returns_months_as_dates),
    Case("xlsx_notes_and_area_sheets", "region", "same", "police.xlsx: Read me + a sheet per council", xlsx_notes_and_area_sheets),
    Case("referrals_blank_rows_xlsx", "single", "ledger", "referrals.xlsx, 60 empty rows below", referrals_blank_rows_xlsx),
    Case("region_area_case_one_council", "region", "error", "40 of Beeby's referrals 'BEEBY'", region_area_case_one_council),
    Case("config_percent", "single", "error", "config response_target_share '90%'", config_percent),
    Case("config_share_as_number", "single", "error", "config demand_growth_annual '7' for 7%", config_share_as_percent_number),
    Case("returns_quarter_differs", "returns", "error", "a quarter row 7 above its months", returns_quarter_differs),
    Case("xlsx_dates_some_text", "single", "same", "referrals.xlsx date cells, 25 dates typed as text", xlsx_dates_some_text),
    Case("xlsx_filtered_rows", "single", "same", "police.xlsx, a filter hiding 12 rows", xlsx_filtered_rows),
    Case("xlsx_numbers_as_text", "single", "same", "police.xlsx counts as text cells ('304)", xlsx_numbers_stored_as_text),
    Case("apostrophe_numbers_csv", "single", "ledger", "police.csv crimes \"'216\"", apostrophe_numbers_csv),
    Case("nbsp_thousands", "single", "error", "population 75\u00a0000 and 71\u2009000", nbsp_thousands),
    Case("labels_nbsp_capitals", "single", "same", "risk 'HIGH', 'Medium\u00a0'; police area with U+00A0", labels_nbsp_and_capitals),
    Case("sanctuary_pounds", "single", "same", "sanctuary cost '£153.38', '£1,250.00'", sanctuary_pounds),
    Case("bracket_negative", "single", "ledger", "police incidents '(12)'", bracket_negative),
    Case("returns_fy_short", "returns", "same", "returns quarters 'FY20/21 Q1'", returns_fy_short),
    Case("returns_month_end_words", "returns", "same", "returns 'April 2020', then '30/04/2021'", returns_month_end_and_words),
    Case("crlf_ctrl_z", "single", "same", "police.csv CRLF and a final Ctrl-Z byte", crlf_ctrl_z),
    Case("tab_separated_csv", "single", "error", "police.csv tab-separated", tab_separated_csv),
    Case("campaign_end_before_start", "single", "error", "a campaign ending before it starts", campaign_end_before_start),
    Case("campaign_no_start", "single", "error", "a campaign with no start date", campaign_no_start),
    Case("events_kind_spelt", "single", "same", "event kinds 'Temporary ', 'Level-Shift'", events_kind_spelt),
    Case("events_kind_unknown", "single", "error", "event kind 'lockdown'", events_kind_unknown),
    Case("referral_id_reused", "single", "ledger", "3 referral IDs on two different referrals", referral_id_reused),
    Case("returns_iso_timestamps", "returns", "same", "returns periods '2020-04-01 00:00:00'", returns_iso_timestamps),
]
# fmt: on


# --- build and run -----------------------------------------------------------------------------


def build(out: Path, only: list[str] | None = None) -> None:
    bases: dict[str, Path] = {}
    for kind in ("single", "region", "returns", "region_returns"):
        bases[kind] = out / f"_base_{kind}"
        if not bases[kind].exists():
            try:
                write_base(kind, bases[kind])
            except BaseException:
                shutil.rmtree(bases[kind], ignore_errors=True)
                raise
    for case in CASES:
        if only and case.name not in only:
            continue
        folder = out / case.name
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(bases[case.base], folder)
        case.plant(folder)


def figures(folder: Path) -> dict:
    """What the loader made of a folder: rows used and excluded a table, notes, sums."""
    from daanalysis.config import ConfigError
    from daanalysis.ingest.load import DataContractError, load_extract

    try:
        ex = load_extract(folder)
    except (DataContractError, ConfigError) as err:
        return {"error": str(err)}
    except Exception as err:  # noqa: BLE001 - a traceback is the finding
        return {"crash": f"{type(err).__name__}: {err}"}
    from daanalysis.ingest.ledger import NO_DATA

    out: dict = {"notes": len(ex.notes), "excluded": {}, "used": {}, "sums": {}}
    led = ex.ledger
    for table, rows in led.groupby("table"):
        # A row of no data (an empty line, the header again) is listed, but is no row lost.
        lost = (rows["status"] == "excluded") & ~rows["reason"].str.endswith(NO_DATA)
        out["excluded"][table] = int(lost.sum())
    for name in ("referrals", "police", "marac", "returns", "staffing", "population"):
        frame = ex[name]
        out["used"][name] = len(frame)
        for col in frame.columns:
            if col in ("source_row", "year") or not pd.api.types.is_numeric_dtype(frame[col]):
                continue
            out["sums"][f"{name}.{col}"] = round(float(np.nansum(frame[col])), 3)
    out["areas"] = (
        sorted(map(str, ex["referrals"]["area"].unique()))
        if len(ex["referrals"])
        else sorted(map(str, ex["returns"]["area"].unique()))
    )
    out["reasons"] = sorted(set(led.loc[led["status"] == "excluded", "reason"].str.slice(0, 90)))[
        :6
    ]
    return out


def _cli(args: list[str]) -> tuple[int, str, float]:
    start = time.process_time()
    t0 = time.time()
    proc = subprocess.run(
        [str(BIN / "daanalysis"), *args], capture_output=True, text=True, timeout=1200
    )
    del start
    return proc.returncode, (proc.stdout + "\n" + proc.stderr), time.time() - t0


def run(out: Path, report: bool, only: list[str] | None) -> list[dict]:
    results = []
    kinds = ("single", "region", "returns", "region_returns")
    base_figures = {k: figures(out / f"_base_{k}") for k in kinds}
    for case in CASES:
        if only and case.name not in only:
            continue
        folder = out / case.name
        got = figures(folder)
        base = base_figures[case.base]
        rc, text, secs = _cli(["verdict", "--data", str(folder)])
        row = {
            "case": case.name,
            "base": case.base,
            "expect": case.expect,
            "what": case.what,
            "verdict_rc": rc,
            "verdict_traceback": "Traceback" in text,
            "verdict_head": text.strip().splitlines()[0][:160] if text.strip() else "",
        }
        if report and "error" not in got and "crash" not in got:  # else it repeats the load
            with tempfile.TemporaryDirectory(prefix="faulty_") as tmp:
                rc2, text2, secs2 = _cli(["report", "--data", str(folder), "--out", tmp])
            row.update(
                report_rc=rc2,
                report_traceback="Traceback" in text2,
                report_tail=text2.strip().splitlines()[-1][:200] if text2.strip() else "",
                report_s=round(secs2, 1),
            )
        row.update(_judge(case, got, base))
        results.append(row)
        print(json.dumps(row), flush=True)
    return results


def _judge(case: Case, got: dict, base: dict) -> dict:
    """A first classification; a person reads the message and the differences."""
    if "crash" in got:
        return {"outcome": "wrong or silent", "detail": "traceback: " + got["crash"][:300]}
    if "error" in got:
        msg = got["error"]
        named = any(s in msg for s in (".csv", ".xlsx", "config", "VINTAGE"))
        outcome = "clear error" if named else "unclear"
        return {"outcome": outcome, "detail": msg[:400]}
    diffs = {
        k: (base["sums"].get(k), v) for k, v in got["sums"].items() if base["sums"].get(k) != v
    }
    missing = [k for k in base["sums"] if k not in got["sums"]]
    extra_excl = {
        t: n - base["excluded"].get(t, 0)
        for t, n in got["excluded"].items()
        if n != base["excluded"].get(t, 0)
    }
    detail = json.dumps(
        {
            "diffs": diffs,
            "missing": missing,
            "excluded+": extra_excl,
            "areas": got["areas"],
            "notes": got["notes"] - base["notes"],
            "reasons": got["reasons"],
        }
    )[:700]
    if not diffs and not missing and not extra_excl and got["areas"] == base["areas"]:
        return {"outcome": "correct", "detail": detail}
    if extra_excl and case.expect in ("ledger", "gap"):
        return {"outcome": "ledgered", "detail": detail}
    return {"outcome": "check", "detail": detail}


def table(before: Path, after: Path) -> str:
    """A Markdown table of two runs' results (``run`` prints one JSON line a case)."""

    def rows(path: Path) -> dict[str, dict]:
        lines = path.read_text().splitlines()
        return {r["case"]: r for r in map(json.loads, filter(None, lines))}

    old, new = rows(before), rows(after)
    out = [
        "| case | fault | before | after | verdict / report exit |",
        "| --- | --- | --- | --- | --- |",
    ]
    for case in CASES:
        if case.name not in new:
            continue
        r = new[case.name]
        codes = f"{r['verdict_rc']} / {r.get('report_rc', '-')}"
        if r["verdict_traceback"] or r.get("report_traceback"):
            codes += " (traceback)"
        was = old.get(case.name, {}).get("outcome", "-")
        out.append(f"| {case.name} | {case.what} | {was} | {r['outcome']} | {codes} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["build", "run", "list", "table"])
    parser.add_argument("out", type=Path, nargs="?", default=Path("/tmp/faulty_corpus"))
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--before", type=Path, help="table: the earlier run's output")
    parser.add_argument("--after", type=Path, help="table: the later run's output")
    args = parser.parse_args(argv)
    if args.action == "list":
        for case in CASES:
            print(f"{case.name:32} {case.base:8} {case.expect:7} {case.what}")
        return 0
    if args.action == "table":
        print(table(args.before, args.after))
        return 0
    if args.action == "build":
        build(args.out, args.only)
        print(f"{len(CASES)} cases in {args.out}")
        return 0
    results = run(args.out, args.report, args.only)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
