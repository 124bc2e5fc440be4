"""The column-wise record-level path gives exactly what version 1 gave.

``benchmarks/load_v1.py`` is a frozen copy of version 1's loading and cleaning (pandas' C parser,
a reason list per row, a hash per row); ``bench_records.py`` times the two. Each comparison runs
twice: with Arrow reading the CSV files and with pandas reading them (as without pyarrow), so
both routes through :func:`daanalysis.ingest.load._read_raw` are held to version 1.
"""

from __future__ import annotations

import hashlib
import random
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from benchmarks import load_v1
from daanalysis.config import Config
from daanalysis.ingest import load
from daanalysis.ingest.clean import factorise_text, pseudonymise, same_as_first
from daanalysis.ingest.load import _Reasons, load_extract, read_table
from daanalysis.ingest.schema import MARAC, POLICE, REFERRALS, STAFFING
from daanalysis.panel import build_panel
from tests.conftest import REFERRAL_HEADER, SAMPLE, WITH_AREA

try:
    import pyarrow  # noqa: F401

    READERS = ["arrow", "pandas"]
except ImportError:
    READERS = ["pandas"]


@pytest.fixture(params=READERS)
def reader(request, monkeypatch):
    """Run the test with Arrow reading CSV files, then with pandas reading them."""
    if request.param == "pandas":
        monkeypatch.setattr(load, "_pyarrow", lambda: None)
    return request.param


def _outcome(function, *args, **kwargs):
    """(True, result) or (False, 'ExceptionType: message')."""
    try:
        return True, function(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 - any failure must be the same failure
        return False, f"{type(err).__name__}: {err}"


def as_version_1(ledger: pd.DataFrame) -> pd.DataFrame:
    """The ledger without what issue 17 changed on purpose: the note on a row whose counts
    were not collected, the advice after a count that is no number, and the accepted forms
    after a period that is none."""
    reason = ledger["reason"].str.replace(load.GAP_ADVICE, "", regex=False)
    note = rf"(; )?{re.escape(load.NOT_COLLECTED_NOTE)}: [^;]*; a gap, not a zero"
    reason = reason.str.replace(note, "", regex=True)
    reason = reason.str.replace(
        f"is neither a month nor a financial quarter; {load.PERIOD_FORMS}",
        "is neither a month (yyyy-mm) nor a financial quarter (2024/25 Q1)",
        regex=False,
    )
    return ledger.assign(reason=reason.astype(ledger["reason"].dtype))


def assert_same_extract(new, old) -> None:
    assert list(new.tables) == list(old.tables)
    for name, frame in old.tables.items():
        pd.testing.assert_frame_equal(new.tables[name], frame, obj=name)
    pd.testing.assert_frame_equal(as_version_1(new.ledger), old.ledger, obj="ledger")
    assert (new.notes, new.basis, new.vintage) == (old.notes, old.basis, old.vintage)


def test_sample_extract_and_panel_equal_version_1(reader):
    new = load_extract(SAMPLE, salt=b"test-salt")
    old = load_v1.load_extract(SAMPLE, salt=b"test-salt")
    assert_same_extract(new, old)
    for services in (("victim",), ("victim", "perpetrator", "children")):
        pd.testing.assert_frame_equal(build_panel(new, services), build_panel(old, services))


def test_the_sample_is_read_by_arrow():
    """Not a vacuous comparison: with pyarrow installed the sample takes the Arrow route."""
    pytest.importorskip("pyarrow")
    for name in ("referrals", "staffing", "police", "marac", "action_plan"):
        assert load._read_csv_arrow(SAMPLE / f"{name}.csv") is not None, name


# --- a messy extract: every kind of fault version 1 ledgers, in one folder ----------------------

MESSY_REFERRALS = [
    # whitespace, 'nan', quoted commas and line breaks, labels in odd case
    ' R900 , C900 ,14/03/2024, Self referral ,HIGH,15/03/2024,,"Victim"',
    'R901,nan,14/03/2024,Police,Standard,,,Victim,"White, other"',
    'R902,C902,14/03/2024,"GP\nsurgery",Medium,,,Victim,"two\nlines"',
    "R903,N/A,15/03/2024,Police,High,,,Victim",  # placeholder client: blank, not one client
    "R904,  n/a ,15/03/2024,Police,High,,,Victim",
    "R905,C905,15/03/2024,Neighbour,Very high,,,Victim",  # unknown labels: noted
    "R906,C906,15/03/2024,Police,High,,,Victm",  # unknown service: excluded
    "R907,C907,31/02/2024,Police,High,,,Victim",  # not a date
    "R908,C908,2024/31/12,Police,High,,10/10/2023,Victim",
    "R909,C909,15/03/2030,Police,High,,,Victim",  # after the extract
    "R910,C910,15/03/1924,Police,High,,,Victim",  # before 2000
    "R911,C911,15/03/2024,Police,High,16/03/2024,01/03/2024,Victim",  # closed before referral
    ",C912,15/03/2024,Police,High,,,Victim",  # blank required value
    "R913,C913,,Police,High,,,Victim",
    "R900,C914,16/03/2024,Police,High,,,Victim",  # duplicate referral_id
    "R907,C915,nonsense,Police,High,,,Victim",  # bad date and a duplicate id: two reasons
    "R916,C900,14/03/2024,Police,High,,,Victim",  # probable duplicate of R900
    "R917,C900,14/03/2024,Police,High,,,Perpetrator",  # same client and date, other service
    "R918,,14/03/2024,Police,High,,,Victim",  # blank client: noted, never a duplicate
    "R919,,14/03/2024,Police,High,,,Victim",
    "R920,C920,14/03/2024,,,,,Victim",  # blank source and risk: noted
    "R921,C921,14/03/2024 10:30,Police,High,2024-03-15,,Victim",  # other accepted formats
    "R922,C922,30-03-2024,Police,High,,,Children",
    "R923,C923,01/04/2024,Police,High,,,Victim,,,,Northfield",  # area not in population
]


def _messy_folder(tmp_path, encoding: str = "cp1252", newline: str = "\n"):
    """The sample with the messy rows above added and faults in its aggregate tables."""
    folder = tmp_path / f"messy-{encoding}-{len(newline)}"
    shutil.copytree(SAMPLE, folder)
    sample = (SAMPLE / "referrals.csv").read_text(encoding="cp1252").splitlines()
    header = sample[0].split(",")
    order = REFERRAL_HEADER.split(",") + ["ethnicity", "age_band", "disability", "area"]
    rows = []
    for line in MESSY_REFERRALS:
        fields = pd.read_csv(pd.io.common.StringIO(line), header=None, dtype=str).iloc[0]
        values = dict(zip(order, fields.fillna("").tolist(), strict=False))
        values.setdefault("area", "Sampleborough")
        cells = [values.get(c, "") for c in header]
        quoted = [f'"{v}"' if "," in v or "\n" in v else v for v in cells]
        rows.append(",".join(quoted))
    text = newline.join([*sample, *rows]) + newline
    (folder / "referrals.csv").write_bytes(text.encode(encoding))
    for name, extra in {
        "police": ["Sampleborough,2024-06,lots,50", 'Sampleborough,2024-07,-3,"1,500"'],
        "staffing": [
            'Sampleborough,2024-06,IDVA team,IDVA,"1,5",6',
            "Sampleborough,2024-07,IDVA team,IDVA,16,6",
        ],
        "marac": ["Sampleborough,2024/25 Q1,30,5", "Sampleborough,Q5 2024,30,5"],
    }.items():
        path = folder / f"{name}.csv"
        path.write_text(path.read_text(encoding="cp1252") + "\n".join(extra) + "\n")
    return folder


@pytest.mark.parametrize(("encoding", "newline"), [("cp1252", "\n"), ("utf-8-sig", "\r\n")])
def test_messy_extract_equals_version_1(tmp_path, reader, encoding, newline):
    folder = _messy_folder(tmp_path, encoding, newline)
    config = Config(default_area="Sampleborough", extract_date="2026-10-05", max_excluded_share=0.5)
    new = load_extract(folder, config=config, salt=b"k")
    old = load_v1.load_extract(folder, config=config, salt=b"k")
    assert_same_extract(new, old)
    ledger = new.ledger.set_index(["table", "row"])
    first = len((SAMPLE / "referrals.csv").read_text(encoding="cp1252").splitlines()) + 1
    # The row with two faults keeps both reasons, in the order version 1 gave them.
    assert ledger.loc[("referrals", first + 15), "reason"] == (
        "referral_date: 'nonsense' is not a date; write it as dd/mm/yyyy; "
        f"duplicate of row {first + 7} (same referral_id)"
    )
    assert ledger.loc[("referrals", first + 16), "reason"] == (
        f"probable duplicate of row {first} (same client, service and date)"
    )


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        (POLICE, "month,da_incidents,da_crimes\n2024-01,1,500\n"),  # a row too long
        (POLICE, "month;da_incidents;da_crimes\n2024-01;1;2\n"),
        (POLICE, 'month,da_incidents,da_crimes\n2024-01,"1,2\n'),  # quote never closed
        (POLICE, ""),
        (POLICE, "month,da_incidents\n2024-01,1\n"),
        (POLICE, "month,da_incidents,da_crimes\n2024-01,1\n2024-02,2,2\n"),  # short row: padded
        (POLICE, "month,Month,da_incidents,da_crimes\n2024-01,2024-01,1,2\n"),
        (REFERRALS, REFERRAL_HEADER + "\nR1,C1,13/01/2024,P,H,,,V\nR2,C1,01/13/2024,P,H,,,V\n"),
        (REFERRALS, REFERRAL_HEADER + "\nR1,C1,01/13/2024,P,H,,,V\nR2,C1,02/01/2024,P,H,,,V\n"),
        (STAFFING, "month,team,role,fte_in_post,fte_funded\n\r2024-01,T,R,1,1\r"),  # old Mac
        (MARAC, "period,cases_discussed,repeat_cases\n2024/25 Q1,3,4\n2024-05,x,1\n"),
    ],
)
def test_faulty_files_give_version_1s_result_or_error(tmp_path, reader, spec, text):
    path = tmp_path / f"{spec.name}.csv"
    path.write_text(text)
    notes_new, notes_old = [], []
    new = _outcome(read_table, path, spec, WITH_AREA, None, notes_new)
    old = _outcome(load_v1.read_table, path, spec, WITH_AREA, None, notes_old)
    assert new[0] == old[0], (new, old)
    if not new[0]:
        assert new[1] == old[1]
        return
    frame, ledger = new[1]
    pd.testing.assert_frame_equal(frame, old[1][0])
    pd.testing.assert_frame_equal(as_version_1(ledger), old[1][1])
    # Issue 17: a count not collected is named in the notes as well (version 1 had no note).
    assert [n for n in notes_new if "not collected" not in n] == notes_old


# --- reading: random files, pandas' answer or pandas' error --------------------------------------

_PIECES = ["a", "b", "1", " ", "\t", "nan", "NaN", "é", "\xa0", "–", ";", "\x1f", "\u2003", "x y"]
_QUOTED = [",", '"', "\n", "\r\n", "\r"]
_BROKEN = ['"', ",", "\r", "\n", "\r\n", "  ", "\t"]


def _random_csv(rng: random.Random) -> bytes:
    ncol = rng.randint(1, 5)
    names = ["id", "Name", "a b", "c-d", "x", "y", " Q ", "é", "x"]
    lines = [",".join(rng.choice(names) for _ in range(ncol))]
    for _ in range(rng.randint(0, 6)):
        if rng.random() < 0.1:  # a line that is not a row: blank, spaces, a stray quote, ...
            lines.append("".join(rng.choice(_BROKEN + _PIECES) for _ in range(rng.randint(0, 3))))
            continue
        fields = []
        for _ in range(ncol if rng.random() < 0.9 else rng.randint(1, ncol + 1)):
            if rng.random() < 0.3:
                value = "".join(rng.choice(_PIECES + _QUOTED) for _ in range(rng.randint(0, 4)))
                fields.append('"' + value.replace('"', '""') + '"')
            else:
                fields.append("".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 3))))
        lines.append(",".join(fields))
    newline = rng.choice(["\n", "\r\n"])
    text = newline.join(lines) + rng.choice([newline, ""])
    encoding = rng.choice(["utf-8", "utf-8-sig", "cp1252"])
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8")


@pytest.mark.parametrize("seed", range(3))
def test_random_files_read_as_version_1_reads_them(tmp_path, seed):
    """Arrow's reading (pandas' is version 1's own) of awkward files, or pandas' error for them."""
    pytest.importorskip("pyarrow")
    rng = random.Random(seed)
    path = tmp_path / "table.csv"
    for _ in range(150):
        data = _random_csv(rng)
        path.write_bytes(data)
        new, old = _outcome(load._read_raw, path), _outcome(load_v1._read_raw, path)
        assert new[0] == old[0], (data, new, old)
        if new[0]:
            pd.testing.assert_frame_equal(new[1], old[1], obj=repr(data))
        else:
            assert new[1] == old[1], data


# --- the pieces, by hand --------------------------------------------------------------------------


def test_reasons_keep_every_reason_of_a_row_in_the_order_added():
    reasons = _Reasons()
    reasons.add(np.array([5, 2]), "first check")
    reasons.add(np.array([], dtype="int64"), "nothing")
    reasons.add(np.array([2, 7]), np.array(["second for 2", "second for 7"], dtype=object))
    reasons.add(np.array([2]), "third")
    joined = reasons.joined()
    assert joined.index.tolist() == [2, 5, 7]
    assert joined.tolist() == ["first check; second for 2; third", "first check", "second for 7"]
    assert _Reasons().joined().empty


def test_a_row_with_two_faults_lists_both(tmp_path):
    path = tmp_path / "referrals.csv"
    rows = [f"R{i},C{i},14/03/2024,Police,High,,,Victim" for i in range(20)]
    rows.append("R3,C3,31/02/2024,Police,High,,,Victim")  # a bad date and a repeated id
    path.write_text("\n".join([REFERRAL_HEADER, *rows]) + "\n")
    _, ledger = read_table(path, REFERRALS, WITH_AREA)
    assert ledger.loc[ledger["row"] == 22, "reason"].item() == (
        "referral_date: '31/02/2024' is not a date; write it as dd/mm/yyyy; "
        "duplicate of row 5 (same referral_id)"
    )
    assert (ledger.loc[ledger["row"] != 22, "status"] == "used").all()


def test_pseudonyms_are_the_keyed_blake2b_of_each_id():
    ids = pd.Series(["C1", None, "C1", "Ré-7", "C2"], dtype="str", index=[9, 8, 7, 6, 5])

    def key(value: str) -> str:
        return hashlib.blake2b(value.encode(), key=b"salt", digest_size=8).hexdigest()

    expected = pd.Series([key("C1"), np.nan, key("C1"), key("Ré-7"), key("C2")], index=ids.index)
    pd.testing.assert_series_equal(pseudonymise(ids, b"salt"), expected.astype("str"))
    pd.testing.assert_series_equal(
        pseudonymise(ids, b"salt"), load_v1.pseudonymise(ids, b"salt"), check_dtype=True
    )


def test_same_as_first_marks_what_duplicated_marks(monkeypatch):
    frame = pd.DataFrame(
        {
            "a": pd.Series(["x", None, "x", None, "y", "x", "z"], dtype="str"),
            "b": pd.to_datetime(["2024-01-01", None, "2024-01-01", None, None, "2024-01-02", None]),
        }
    )
    expected = [0, 1, 0, 1, 4, 5, 6]
    first = same_as_first([frame["a"], frame["b"]])
    assert (first != np.arange(len(frame))).tolist() == frame.duplicated().tolist()
    assert first.tolist() == expected
    # Texts that share a hash (forced here: every text hashes alike) are still told apart.
    monkeypatch.setattr(pd.util, "hash_array", lambda values, **_: np.zeros(len(values), "uint64"))
    assert same_as_first([frame["a"], frame["b"]]).tolist() == expected
    codes, uniques = factorise_text(frame["a"])
    pd.testing.assert_index_equal(uniques, pd.factorize(frame["a"])[1])
    assert codes.tolist() == pd.factorize(frame["a"])[0].tolist()
