"""The monthly panel: one tidy row per area and month, the narrow waist of the project.

Built from record-level referrals (:func:`panel_from_records`) or from aggregate returns
(:func:`panel_from_returns`); either way the context tables (police, MARAC, staffing, population)
are joined on by :func:`build_panel`. Everything downstream computes from the panel.

Counts are float64 so that a figure that is not available is NaN, never a misleading 0. The
``basis`` column says where the referral figures came from: ``records`` or ``aggregates``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from daanalysis.ingest.clean import label_key, on_uniques
from daanalysis.ingest.extract import DataContractError, Extract
from daanalysis.periods import MONTH_FREQ, QUARTER_FREQ, quarter_label, quarter_months

# The referral streams counted a month (a month of partly exported records leaves them as gaps,
# see gap_months), then the columns only records give.
COUNTED_STREAMS = [
    "referrals",
    "self_referrals",
    "first_time",
    "standard_medium_risk",
    "high_risk",
    "repeat_12m",
]
REFERRAL_COLUMNS = [*COUNTED_STREAMS, "cases_closed", "open_caseload", "mean_days_open"]
RECORDS_ONLY = ["repeat_12m", "cases_closed", "open_caseload", "mean_days_open"]


class NeedsRecordLevelData(ValueError):
    """A metric needs record-level referrals but the panel was built from aggregate returns."""


def require_records(panel: pd.DataFrame, metric: str) -> None:
    """Raise :class:`NeedsRecordLevelData` if ``panel`` came from aggregate returns."""
    if (panel["basis"] != "records").any():
        raise NeedsRecordLevelData(
            f"{metric} needs record-level referrals (referrals.csv with dates per referral); this "
            "data has aggregate returns only. Ask the commissioned service for a pseudonymised "
            "record-level extract, or report this metric as not available."
        )


def _client_runs(
    referrals: pd.DataFrame, date_key: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows ordered by client, date and source row; whether each is the same client as the row
    before it in that order; and whether each row (in that order) has a client key at all.

    Clients are brought together by a 64-bit hash of their key, sorted as numbers: one pass over
    the keys and no hash table of Python strings (whose cost grows faster than the rows on
    millions of them). Neighbours with equal hashes are then checked to have equal keys; should
    two keys ever share a hash, the keys are factorised instead, so the result is exact. Keys as
    :func:`daanalysis.ingest.clean.pseudonymise` writes them (16 hex digits) are read as the 64-bit
    numbers they spell, which is exact without a check.
    """
    keys = referrals["client_key"]
    linked = keys.notna().to_numpy()
    source_row = referrals["source_row"].to_numpy()
    hashed = _hex_keys(keys)
    exact = hashed is not None
    if not exact:
        hashed = _hash_keys(keys)
    order = np.lexsort((source_row, date_key, hashed, ~linked))
    key, is_linked = hashed[order], linked[order]
    same = np.zeros(len(order), dtype=bool)
    same[1:] = (key[1:] == key[:-1]) & is_linked[1:] & is_linked[:-1]
    if exact:
        return order, same, is_linked
    pairs = np.flatnonzero(same)
    first, second = keys.array.take(order[pairs]), keys.array.take(order[pairs - 1])
    if np.asarray(first == second, dtype=bool).all():
        return order, same, is_linked
    codes = pd.factorize(keys, sort=False)[0]  # -1: no key
    order = np.lexsort((source_row, date_key, codes))
    code = codes[order]
    same[:] = False
    same[1:] = (code[1:] == code[:-1]) & (code[1:] >= 0)
    return order, same, code >= 0


def _hex_keys(keys: pd.Series) -> np.ndarray | None:
    """The keys as the unsigned 64-bit numbers they spell (0 where blank) when the column is held
    by Arrow and every key is 16 lower-case hex digits; else None.

    Read straight from Arrow's bytes: distinct keys are distinct numbers, with no hashing and no
    Python string per key.
    """
    if not isinstance(keys.array, pd.arrays.ArrowExtensionArray):
        return None
    import pyarrow

    column = pyarrow.chunked_array(keys.array.__arrow_array__())
    if not pyarrow.types.is_large_string(column.type):
        return None
    parts = []
    for chunk in column.chunks:
        n = len(chunk)
        _, offsets, data = chunk.buffers()
        offsets = np.frombuffer(offsets, dtype="int64")[chunk.offset : chunk.offset + n + 1]
        valid = ~np.asarray(chunk.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        if not np.array_equal(np.diff(offsets) == 16, valid):  # blank keys: no bytes
            return None
        text = np.frombuffer(data, dtype="uint8") if data is not None else np.zeros(0, "uint8")
        text = text[offsets[0] : offsets[-1]]
        if not (((text - 48) < 10) | ((text - 97) < 6)).all():  # 0-9 and a-f only
            return None
        numbers = np.zeros(n, dtype="uint64")
        numbers[valid] = np.frombuffer(bytes.fromhex(text.tobytes().decode("ascii")), ">u8")
        parts.append(numbers)
    return np.concatenate(parts) if parts else np.zeros(0, dtype="uint64")


def _hash_keys(keys: pd.Series, batch: int = 1 << 20) -> np.ndarray:
    """A 64-bit hash of each key (blank as ""), a million at a time: the keys pass through Python
    strings to be hashed, and only a batch of them exists at once."""
    return np.concatenate(
        [
            pd.util.hash_array(
                keys.iloc[start : start + batch].to_numpy(dtype=object, na_value=""),
                categorize=False,
            )
            for start in range(0, len(keys), batch)
        ]
        or [np.array([], dtype="uint64")]
    )


def mark_repeats(referrals: pd.DataFrame, window_days: int = 365) -> pd.DataFrame:
    """Add ``first_time`` and ``repeat_12m`` flags per referral.

    A repeat is a referral of a client whose previous referral was within ``window_days``
    (SafeLives' definition: a further incident within 12 months of the last referral). First-time
    means no earlier referral in the extract, so the first year of an extract overstates it.
    Referrals with no client key are neither.

    Vectorised, with no sorting or grouping of strings: one numeric sort by client (hashed),
    date and source row, then each referral is compared with the one before it. Rows come back
    in index order.
    """
    dates = np.asarray(referrals["referral_date"].to_numpy(), dtype="datetime64")  # its own unit
    # Undated referrals sort last within their client, as sort_values puts them.
    date_key = np.where(np.isnat(dates), np.iinfo(np.int64).max, dates.view("int64"))
    order, same, linked = _client_runs(referrals, date_key)
    date = dates[order]
    previous = np.full(len(order), np.datetime64("NaT"), dtype=dates.dtype)
    previous[1:] = date[:-1]
    previous[~same] = np.datetime64("NaT")
    first_time = np.empty(len(order), dtype=bool)
    repeat_12m = np.empty(len(order), dtype=bool)
    first_time[order] = linked & np.isnat(previous)
    # NaT compares False, so a referral with no date (or after one) is never a repeat.
    # Compared by day: a referral's time of day (kept from a timestamp) does not decide it.
    apart = date.astype("datetime64[D]") - previous.astype("datetime64[D]")
    repeat_12m[order] = linked & (apart <= np.timedelta64(window_days, "D"))
    ref = referrals.assign(first_time=first_time, repeat_12m=repeat_12m)
    return ref if ref.index.is_monotonic_increasing else ref.sort_index()


def _months(dates: pd.Series) -> pd.Series:
    """``dates.dt.to_period("M")``, from NumPy's month count (several times faster on millions)."""
    values = dates.to_numpy()
    if not np.issubdtype(values.dtype, np.datetime64):
        return dates.dt.to_period(MONTH_FREQ)
    ordinals = values.astype("datetime64[M]").view("int64")  # NaT stays NaT
    return pd.Series(
        pd.PeriodIndex.from_ordinals(ordinals, freq=MONTH_FREQ), index=dates.index, name=dates.name
    )


def open_caseload(opened: pd.Series, closed: pd.Series, months: pd.PeriodIndex) -> pd.Series:
    """Cases open at each month end: opened up to the month end minus closed up to it.

    A case is open at the end of month m if it opened on or before the last day of m and has no
    closed date or closed after that day. Vectorised: monthly opens and closes, cumulated.
    """
    opens = _months(opened).value_counts()
    closes = _months(closed.dropna()).value_counts()
    first = months.min()
    # Cases opened before the first month still count, so cumulate from the earliest date.
    start = min([first, *opens.index, *closes.index]) if len(opens) else first
    full = pd.period_range(start, months.max(), freq=MONTH_FREQ)
    cumulative = (
        opens.reindex(full, fill_value=0).cumsum() - closes.reindex(full, fill_value=0).cumsum()
    )
    return cumulative.reindex(months).astype("float64")


def _within_runs(lengths: np.ndarray) -> np.ndarray:
    """0, 1, 2... within each run of ``lengths`` laid end to end (lengths 3 and 2: 0 1 2 0 1)."""
    return np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def _open_at_month_end(
    area: np.ndarray,
    opened: np.ndarray,
    closed: np.ndarray,
    row_area: np.ndarray,
    row_month: np.ndarray,
) -> np.ndarray:
    """:func:`open_caseload` of every area at once: for each (``row_area``, ``row_month``), the
    area's cases opened in or before the month less those closed in or before it (months as
    ordinals; a missing month, NaT's ordinal, counts nowhere)."""
    missing = np.iinfo(np.int64).min  # NaT's ordinal
    valid = np.r_[opened[opened != missing], closed[closed != missing], row_month]
    lowest = valid.min() if len(valid) else 0
    base = row_area.astype("int64") << 32  # one number per (area, month): area, then month

    def counted_by(months: np.ndarray) -> np.ndarray:
        keep = (area >= 0) & (months != missing)
        key = np.sort((area[keep].astype("int64") << 32) + (months[keep] - lowest))
        upto = np.searchsorted(key, base + (row_month - lowest), side="right")
        return upto - np.searchsorted(key, base, side="left")

    return (counted_by(opened) - counted_by(closed)).astype("float64")


def panel_from_records(
    referrals: pd.DataFrame,
    services: tuple[str, ...] = ("victim",),
    gap_months: dict[str, list[str]] | None = None,
) -> pd.DataFrame:
    """Monthly referral streams per area from record-level referrals of ``services``.

    Every stream is counted in one grouped sum over (area code, month); areas are factorised
    once, so no string is hashed twice; the loop is over areas only. ``gap_months`` (area to
    ``yyyy-mm`` texts, from :attr:`Extract.gap_months`) are months loading found implausibly
    few referrals in: their referral streams are gaps (NaN), never the low count.
    """
    codes, areas = pd.factorize(referrals["area"], sort=True)  # -1: no area, never looked up
    # The extract runs to its last referral of any service, so cases stay counted open after
    # the last referral of the services analysed.
    by_area = referrals.groupby(codes)
    last_month = by_area["referral_date"].max().dt.to_period(MONTH_FREQ)
    # The last month is complete only if the extract holds a date (referral, contact or closure)
    # on or after its last day; an extract taken mid-month has a partial last month.
    last_seen = by_area[["referral_date", "first_contact_date", "closed_date"]].max().max(axis=1)
    chosen = referrals["service"].isin(services).to_numpy()
    # Only the columns counted here are copied for the chosen services.
    used = ["client_key", "referral_date", "source_row", "closed_date"]
    used += ["referral_source", "risk_level"]
    ref = mark_repeats(referrals.loc[chosen, used].assign(_area=codes[chosen]))
    area = ref["_area"].to_numpy()
    month = _months(ref["referral_date"])
    closed_month = _months(ref["closed_date"])
    risk = ref["risk_level"]
    flags = pd.DataFrame(
        {
            "referrals": 1,
            "self_referrals": ref["referral_source"].eq("self").fillna(False).astype(bool),
            "first_time": ref["first_time"],
            "standard_medium_risk": risk.isin(["standard", "medium"]),
            "high_risk": risk.eq("high").fillna(False).astype(bool),
            "repeat_12m": ref["repeat_12m"],
        },
        index=ref.index,
    )
    streams_all = flags.groupby([area, month]).sum()
    closures = (
        pd.DataFrame(
            {
                # Whole days, whatever times of day the dates carry.
                "days_open": (
                    ref["closed_date"].dt.normalize() - ref["referral_date"].dt.normalize()
                ).dt.days
            }
        )
        .groupby([area, closed_month])["days_open"]
        .agg(["size", "mean"])
    )
    # Every area's months at once: from its first referral of the services analysed to the
    # extract's last month for the area, one row per (area, month).
    month_number = month.array.asi8  # months as ordinals (NaT: the lowest int64)
    counted = (area >= 0) & (month_number != np.iinfo(np.int64).min)
    codes_seen = np.unique(area[counted])
    first = pd.Series(month_number[counted]).groupby(area[counted]).min().to_numpy()
    last = last_month.reindex(codes_seen).array.asi8
    length = last - first + 1
    row_area = np.repeat(codes_seen, length)
    row_month = np.repeat(first, length) + _within_runs(length)
    months = pd.PeriodIndex.from_ordinals(row_month, freq=MONTH_FREQ)
    index = pd.MultiIndex.from_arrays([row_area, months])
    streams = streams_all.reindex(index, fill_value=0)
    streams["cases_closed"] = closures["size"].reindex(index, fill_value=0).to_numpy()
    streams["open_caseload"] = _open_at_month_end(
        area, month_number, _months(ref["closed_date"]).array.asi8, row_area, row_month
    )
    streams["mean_days_open"] = closures["mean"].reindex(index).to_numpy()
    streams = streams.astype("float64")
    gap_rows = np.zeros(len(streams), dtype=bool)
    for name, listed in (gap_months or {}).items():
        code = areas.get_indexer([name])[0]
        gaps = pd.PeriodIndex(listed, freq=MONTH_FREQ).asi8
        gap_rows |= (row_area == code) & np.isin(row_month, gaps)
    streams.loc[gap_rows, COUNTED_STREAMS] = np.nan
    ends = last_month.dt.end_time.dt.normalize().reindex(codes_seen).to_numpy()
    seen = last_seen.reindex(codes_seen).to_numpy()
    streams["complete"] = (row_month < np.repeat(last, length)) | np.repeat(seen >= ends, length)
    panel = streams.reset_index(drop=True)
    panel.insert(0, "month", months)
    panel["area"] = areas.take(row_area)
    panel["basis"] = "records"
    return panel


def _check_no_overlap(frame: pd.DataFrame, file: str, keys: tuple[str, ...] = ("area",)) -> None:
    """Refuse a quarter given as well as one of its months (for the same ``keys``: the area, or
    the area and programme): the figures would count those months twice. Which of the two is
    right cannot be told, so neither is guessed.
    """
    if frame.empty:
        return
    is_quarter = frame["period"].map(lambda p: p.freqstr.startswith("Q")).astype(bool)
    if not is_quarter.any() or is_quarter.all():
        return
    months = frame.loc[~is_quarter]
    given = {(*key, period) for *key, period in months[[*keys, "period"]].itertuples(index=False)}
    for _, row in frame.loc[is_quarter].iterrows():
        key = tuple(row[k] for k in keys)
        both = [m for m in quarter_months(row["period"]) if (*key, m) in given]
        if not both:
            continue
        same = (months[list(keys)] == pd.Series(key, index=list(keys))).all(axis=1)
        at = months[same & months["period"].isin(both)]
        where = row.get("source_row")
        month_rows = ", ".join(str(r) for r in at.get("source_row", pd.Series(dtype=int)))
        plural = len(both) > 1
        raise DataContractError(
            f"{file}, row {where}, column period: the quarter {quarter_label(row['period'])} for "
            f"{', '.join(str(k) for k in key)} is given as well as "
            f"{'its months' if plural else 'its month'} {', '.join(str(m) for m in both)} "
            f"({'rows' if len(at) > 1 else 'row'} {month_rows}), so "
            f"{'those months' if plural else 'that month'} would be counted twice. Keep one: "
            "delete the quarter's row, or the months' rows. (A quarter row that equals the sum "
            "of all three of its months is set aside as a subtotal by itself; this one is not.)"
        )


def _spread_periods(
    frame: pd.DataFrame, columns: list[str], snapshot: tuple[str, ...] = (), file: str = ""
):
    """Monthly rows from a table whose ``period`` holds months or financial quarters.

    A quarterly count is split evenly over its three months, so quarterly sums stay exact; a
    snapshot column (e.g. open cases at period end) goes to the last month only. A quarter and
    one of its months both given is an error (:func:`_check_no_overlap`), never a double count.
    """
    _check_no_overlap(frame, file or "the table")
    # Each row once for a month, three times for a quarter (its months in order), in file order.
    starts = on_uniques(
        frame["period"],
        lambda u: u.map(
            lambda p: (
                p.asfreq(MONTH_FREQ, how="start").ordinal
                if p.freqstr.startswith("Q")
                else p.ordinal
            ),
            na_action="ignore",
        ),
    ).astype("int64")
    quarter = on_uniques(
        frame["period"], lambda u: u.map(lambda p: p.freqstr.startswith("Q"), na_action="ignore")
    ).astype(bool)
    repeat = np.where(quarter, 3, 1)
    row = np.repeat(np.arange(len(frame)), repeat)
    within = _within_runs(repeat)  # 0 for a month; 0, 1, 2 for a quarter
    spread = quarter[row]
    out = pd.DataFrame(
        {
            "area": frame["area"].to_numpy(dtype=object)[row].tolist(),
            "month": pd.PeriodIndex.from_ordinals(starts[row] + within, freq=MONTH_FREQ),
        }
    )
    for c in columns:
        values = frame[c].to_numpy(dtype="float64")[row]
        if c in snapshot:
            out[c] = np.where(spread & (within != 2), np.nan, values)
        else:
            out[c] = np.where(spread, values / 3, values)
    return out.groupby(["area", "month"], as_index=False).sum(min_count=1)


def _fill_months(frame: pd.DataFrame) -> pd.DataFrame:
    """Every month from each area's first to its last, a month with no row (a return not
    sent, or a row set aside as not collected) as a row of gaps (NaN), never a missing row
    that would close up the series or a zero."""
    if frame.empty:
        return frame
    parts = []
    for area, rows in frame.groupby("area", sort=False):
        months = pd.period_range(rows["month"].min(), rows["month"].max(), freq=MONTH_FREQ)
        full = rows.set_index("month").reindex(months).rename_axis("month").reset_index()
        parts.append(full.assign(area=area))
    return pd.concat(parts, ignore_index=True)[frame.columns]


def panel_from_returns(returns: pd.DataFrame, file: str = "returns.csv") -> pd.DataFrame:
    """Monthly referral streams per area from aggregate returns (months or quarters)."""
    source = returns.rename(columns={"open_cases_end": "open_caseload"})
    columns = [c for c in REFERRAL_COLUMNS if c in source.columns]
    panel = _fill_months(_spread_periods(source, columns, snapshot=("open_caseload",), file=file))
    for col in REFERRAL_COLUMNS:
        if col not in panel:
            panel[col] = np.nan
    panel["basis"] = "aggregates"
    panel["complete"] = True
    quarterly = source["period"].map(lambda p: p.freqstr.startswith("Q")).any()
    panel["returns_frequency"] = "quarterly" if quarterly else "monthly"
    return panel


def _population_by_month(population: pd.DataFrame, panel: pd.DataFrame) -> pd.DataFrame:
    """Adults 16+ for each panel month: the mid-year estimate for the financial year's start."""
    if population.empty:
        return pd.DataFrame(columns=["area", "month", "females_16plus", "adults_16plus"])
    pop = population.assign(
        year=population["year"].astype(int),
        adults_16plus=population["females_16plus"] + population["males_16plus"],
    )
    keys = panel[["area", "month"]].copy()
    month = pd.PeriodIndex(keys["month"])
    keys["year"] = np.where(month.month >= 4, month.year, month.year - 1)
    # Every year each area needs, from the first of its estimates and months to the last of
    # them; years outside the estimates take the nearest year's figures.
    pop = pop[pop["area"].isin(keys["area"])]
    if pop.empty:
        return pd.DataFrame(columns=["area", "month", "females_16plus", "adults_16plus"])
    span = pd.concat([pop[["area", "year"]], keys[["area", "year"]]]).groupby("area")["year"]
    first, last = span.min(), span.max()
    length = (last - first + 1).to_numpy()
    years = pd.DataFrame(
        {
            "area": np.repeat(first.index.to_numpy(), length),
            "year": np.repeat(first.to_numpy(), length) + _within_runs(length),
        }
    )
    filled = years.merge(
        pop[["area", "year", "females_16plus", "adults_16plus"]], on=["area", "year"], how="left"
    )
    columns = ["females_16plus", "adults_16plus"]
    by_area = filled.groupby("area", sort=False)[columns]
    filled[columns] = by_area.ffill()
    filled[columns] = filled.groupby("area", sort=False)[columns].bfill()
    out = keys[keys["area"].isin(pop["area"])].merge(filled, on=["area", "year"], how="left")
    return out.drop(columns="year")


def _staffing_by_month(staffing: pd.DataFrame, roles: list[str]) -> pd.DataFrame:
    """Caseworker FTE in post and funded per area and month.

    Roles are matched as labels are (:func:`daanalysis.ingest.clean.label_key`): ``idva`` or
    ``IDVA\u00a0`` in the staffing file is the ``IDVA`` of config ``caseload_roles``, not a role
    that carries no caseload (which would leave those staff out of caseload per FTE).
    """
    wanted = {label_key(role) for role in roles}
    keys = pd.Series(
        on_uniques(staffing["role"], lambda u: u.map(label_key, na_action="ignore")),
        index=staffing.index,
        dtype=object,
    )
    caseworkers = staffing[keys.isin(wanted).to_numpy(dtype=bool)]
    return (
        caseworkers.groupby(["area", "month"], as_index=False)[["fte_in_post", "fte_funded"]]
        .sum(min_count=1)
        .rename(columns={"fte_in_post": "caseworker_fte", "fte_funded": "caseworker_fte_funded"})
    )


def _file(extract: Extract, table: str) -> str:
    """The file a table was read from, as the ledger names it (``<table>.csv`` if unknown)."""
    files = extract.ledger.loc[extract.ledger["table"] == table, "file"]
    # A workbook read from a sheet an area names each row's sheet; its rows are numbered as if
    # the sheets were stacked (source_row), so the file is the workbook.
    return str(files.iloc[0]).split(", sheet ")[0] if len(files) else f"{table}.csv"


def build_panel(extract: Extract, services: tuple[str, ...] = ("victim",)) -> pd.DataFrame:
    """The monthly panel for every area in ``extract``.

    Columns: area, month, the referral streams (see ``REFERRAL_COLUMNS``), police_incidents,
    police_crimes, marac_cases, marac_repeats, caseworker_fte, caseworker_fte_funded,
    females_16plus, adults_16plus, basis, quarter, and complete (False for a partial last month,
    which quarterly figures and models leave out).
    """
    if extract.basis == "records":
        gaps = getattr(extract, "gap_months", {})  # an Extract pickled before it had them
        panel = panel_from_records(extract["referrals"], services, gaps)
    else:
        panel = panel_from_returns(extract["returns"], _file(extract, "returns"))
    police = extract["police"].rename(
        columns={"da_incidents": "police_incidents", "da_crimes": "police_crimes"}
    )[["area", "month", "police_incidents", "police_crimes"]]
    if "perpetrator_programme" in extract.tables:  # counted by quarter on the partnership page
        _check_no_overlap(
            extract["perpetrator_programme"],
            _file(extract, "perpetrator_programme"),
            keys=("area", "programme"),
        )
    marac = extract["marac"]
    marac_monthly = (
        _spread_periods(
            marac, ["cases_discussed", "repeat_cases"], file=_file(extract, "marac")
        ).rename(columns={"cases_discussed": "marac_cases", "repeat_cases": "marac_repeats"})
        if len(marac)
        else pd.DataFrame(columns=["area", "month", "marac_cases", "marac_repeats"])
    )
    staffing = _staffing_by_month(extract["staffing"], extract.config.roles)
    for table in (police, marac_monthly, staffing):
        if len(table):
            table["month"] = pd.PeriodIndex(table["month"], freq=MONTH_FREQ)
            panel = panel.merge(table, on=["area", "month"], how="left")
        else:
            for col in table.columns.difference(["area", "month"]):
                panel[col] = np.nan
    population = _population_by_month(extract["population"], panel)
    if len(population):
        panel = panel.merge(population, on=["area", "month"], how="left")
    else:
        panel[["females_16plus", "adults_16plus"]] = np.nan
    panel["quarter"] = panel["month"].dt.asfreq(QUARTER_FREQ)
    numeric = panel.columns.difference(
        ["area", "month", "quarter", "basis", "returns_frequency", "complete"]
    )
    panel[numeric] = panel[numeric].astype("float64")
    return panel.sort_values(["area", "month"], ignore_index=True)


def area_panel(panel: pd.DataFrame, area: str | None) -> pd.DataFrame:
    """The rows of one area (the only area when ``area`` is None or empty)."""
    areas = panel["area"].unique().tolist()
    if not area:
        if len(areas) != 1:
            raise ValueError(f"Several areas in the data ({', '.join(areas)}): name one.")
        area = areas[0]
    if area not in areas:
        raise ValueError(f"Area {area!r} is not in the data; areas found: {', '.join(areas)}.")
    return panel[panel["area"] == area].reset_index(drop=True)


def complete_months(panel: pd.DataFrame) -> pd.Series:
    """True for months the data cover in full (every month of a panel built by hand)."""
    if "complete" in panel:
        return panel["complete"].astype(bool)
    return pd.Series(True, index=panel.index)


def quarter_complete(panel: pd.DataFrame, by: list[str]) -> pd.Series:
    """For each group of ``by`` (ending in quarter): all three months present and complete."""
    grouped = panel.assign(_complete=complete_months(panel)).groupby(by)
    return (grouped.size() == 3) & grouped["_complete"].all()


def complete_quarters(panel: pd.DataFrame) -> list[pd.Period]:
    """Quarters of a one-area panel that the data cover in full."""
    flags = quarter_complete(panel, ["quarter"])
    return sorted(flags[flags].index)


def common_quarters(panel: pd.DataFrame, areas: list[str] | None = None) -> list[pd.Period]:
    """Quarters that every one of ``areas`` (default: all in the panel) covers in full."""
    areas = areas or panel["area"].unique().tolist()
    covered = [set(complete_quarters(panel[panel["area"] == a])) for a in areas]
    return sorted(set.intersection(*covered))


def quarterly(panel: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Quarterly sums of ``columns`` per area, complete quarters only.

    A column's sum needs all three of its months: a quarter with a month not collected (NaN)
    is partial for that column and its sum is NaN (a gap), never the sum of the months that
    were collected (see :func:`partial_quarters`).
    """
    grouped = panel.groupby(["area", "quarter"])[columns]
    sums = grouped.sum(min_count=1).where(grouped.count() == 3)
    return sums[quarter_complete(panel, ["area", "quarter"])].reset_index()


def partial_quarters(panel: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Quarters of complete months in which a column has some months but not all three:
    ``area``, ``quarter``, ``column`` and ``months`` (how many it has). Their sums are gaps in
    :func:`quarterly`; a page names them rather than show a partial total."""
    grouped = panel.groupby(["area", "quarter"])[columns]
    counts = grouped.count()[quarter_complete(panel, ["area", "quarter"])]
    long = counts.stack().rename("months").reset_index()
    long.columns = ["area", "quarter", "column", "months"]
    return long[(long["months"] > 0) & (long["months"] < 3)].reset_index(drop=True)


__all__ = [
    "RECORDS_ONLY",
    "REFERRAL_COLUMNS",
    "NeedsRecordLevelData",
    "area_panel",
    "build_panel",
    "common_quarters",
    "complete_months",
    "complete_quarters",
    "mark_repeats",
    "open_caseload",
    "panel_from_records",
    "partial_quarters",
    "panel_from_returns",
    "quarter_complete",
    "quarterly",
    "require_records",
]
