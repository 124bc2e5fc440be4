"""Cleaning: canonical labels, de-duplication and pseudonymised client keys, with a row ledger.

Labels are mapped through tables (``daanalysis/mappings/<field>.csv``, columns ``raw, canonical``)
that analysts extend by putting a file of the same name in ``<data>/mappings/``: their rows are
added to, and override, the packaged ones. An unmapped label is kept as ``unknown`` and noted in
the ledger, so the referral still counts.

Nothing here runs Python per row: labels are mapped, placeholders found and client ids hashed once
per distinct value (:func:`on_uniques`), duplicates found by sorting integer keys
(:func:`same_as_first`) and ledger notes written column-wise.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import unicodedata
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from daanalysis.config import UnreadableTable, read_small_csv

MAPPED_FIELDS = ("referral_source", "risk_level", "service", "gender")
# What case systems write for "no client reference". Read as an identifier, "N/A" would make
# every such referral the same client and remove them all as probable duplicates.
# The school phases of the data contract (schools.csv and prevention.csv); kept here, beside the
# other label rules, so that the partnership metrics read them without importing pandera.
SCHOOL_PHASES = ("primary", "secondary", "special", "college", "other")
NO_ID = {"n/a", "na", "n.a.", "none", "null", "nil", "unknown", "not known", "-", "--", "?", "0"}


# Characters a spreadsheet or case system leaves in text that no one can see: zero-width spaces
# and joiners, soft hyphens, word joiners, byte-order marks (Unicode category Cf, "format").
_INVISIBLE = re.compile(r"[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_SPACES = re.compile(r"\s+")
# In a label key: curly quotes as straight ones, hyphens, dashes and underscores as spaces.
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u2032": "'", "`": "'"})
_SEPARATORS = re.compile(r"[\s\-_\u2010-\u2015\u2212]+")
_AROUND_SLASH = re.compile(r"\s*/\s*")


def tidy(text: str) -> str:
    """``text`` as a reader sees it: Unicode compatibility forms folded (NFKC: a non-breaking
    space is a space, a full-width letter a letter), invisible characters removed, runs of
    whitespace made one space, and the ends trimmed.

    Two values that print the same are then the same value: ``'Sampleborough\u200b'`` is not a
    second area, nor ``'Police\u00a0'`` a label of its own.
    """
    if not isinstance(text, str):
        return text  # a missing value
    text = unicodedata.normalize("NFKC", text)
    return _SPACES.sub(" ", _INVISIBLE.sub("", text)).strip()


def label_key(text: str) -> str:
    """The form in which labels are matched to a mapping table: :func:`tidy`, case folded,
    curly quotes straight, hyphens, dashes and underscores as spaces, no spaces around ``/``.

    ``'Self-Referral'``, ``'self_referral'`` and ``'SELF\u00a0REFERRAL'`` are one key, as are
    ``"Children\u2019s services"`` and ``"children's services"``, ``'A / G'`` and ``'a/g'``.
    """
    if not isinstance(text, str):
        return text  # a missing value
    text = tidy(text).casefold().translate(_QUOTES)
    return _AROUND_SLASH.sub("/", _SEPARATORS.sub(" ", text)).strip()


def tidy_column(values: pd.Series) -> pd.Series:
    """:func:`tidy` of each value (missing stays missing; a value left blank becomes missing),
    once per distinct value."""
    if not len(values):
        return values

    def each(unique: pd.Series) -> pd.Series:
        out = unique.astype(object).map(lambda v: tidy(v) if isinstance(v, str) else v)
        return out.where(out != "", None)

    tidied = on_uniques(values, each)
    return pd.Series(tidied, index=values.index, dtype=values.dtype)


def distinct(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """The distinct values of ``values``, missing values as one missing value at the end, and
    for each row the position of its value among them (-1, the last, for a missing value).

    ``func(distinct).array.take(codes)`` is then ``func(values)`` for any ``func`` that works
    value by value, at the cost of the distinct values only: a column of a million referrals
    holds a few thousand dates or labels.
    """
    codes, uniques = pd.factorize(values)  # -1: missing
    dtype = values.dtype if len(uniques) == 0 else uniques.dtype
    missing = pd.Series([np.nan], dtype=dtype)
    return codes, pd.concat([pd.Series(uniques, dtype=dtype), missing], ignore_index=True)


def on_uniques(
    values: pd.Series,
    func: Callable[[pd.Series], pd.Series],
    factorised: tuple[np.ndarray, pd.Series] | None = None,
) -> np.ndarray:
    """``func(values)`` computed on the distinct values only, as a NumPy array aligned with
    ``values`` (see :func:`distinct`, whose result ``factorised`` may already hold)."""
    codes, unique = factorised if factorised is not None else distinct(values)
    return np.asarray(func(unique).to_numpy())[codes]


def reprs(values: pd.Series) -> np.ndarray:
    """``repr`` of each value (an object array aligned with ``values``), once per distinct value.

    Distinct by value is exact for strings, and for floats once ``-0.0`` and ``0.0`` (one value to
    a hash table, two texts) are told apart by their bits; anything else (dates, periods, mixed
    objects) is written value by value, as only a few flagged rows ever are.
    """
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("string", "empty"):
        return on_uniques(values, lambda u: u.astype(object).map(repr))
    if kind == "floating":
        numbers = values.to_numpy(dtype="float64")
        bits, where = np.unique(numbers.view("int64"), return_inverse=True)
        texts = [repr(float(v)) for v in bits.view("float64")]
        return np.array(texts, dtype=object)[where.reshape(-1)]
    return np.array([repr(v) for v in values], dtype=object)


def first_of_equal(key: np.ndarray) -> np.ndarray:
    """For each row, the first row with the same ``key`` (an integer array): itself if none
    comes before it. Rows are brought together by one stable sort of the numbers: no hash table,
    whose cost grows faster than the rows on millions of distinct values."""
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    starts = np.ones(len(key), dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    first = np.empty(len(key), dtype="int64")
    first[order] = order[starts][np.cumsum(starts) - 1]  # stable: a run's first is its earliest
    return first


def hash_strings(values: pd.Series, batch: int = 1 << 20) -> np.ndarray:
    """A 64-bit hash of each value's text (missing values all alike), a million at a time."""
    hashed = np.empty(len(values), dtype="uint64")
    for start in range(0, len(values), batch):
        part = values.iloc[start : start + batch].to_numpy(dtype=object, na_value="")
        hashed[start : start + batch] = pd.util.hash_array(part, categorize=False)
    hashed[values.isna().to_numpy()] = 0x9E3779B97F4A7C15  # checked against the values anyway
    return hashed


def _equal_at(values: pd.Series | np.ndarray, rows: np.ndarray, others: np.ndarray) -> bool:
    """Whether ``values`` at ``rows`` equal those at ``others`` (missing equal to missing)."""
    array = values.array if isinstance(values, pd.Series) else pd.array(values)
    left, right = array.take(rows), array.take(others)
    same = np.asarray(pd.Series(left == right).fillna(False), dtype=bool)
    return bool((same | (pd.isna(left) & pd.isna(right))).all())


def same_as_first(columns: list) -> np.ndarray:
    """For each row, the first row with equal values in all ``columns`` (itself if none comes
    before it); missing values count as equal, as in ``DataFrame.duplicated``, so
    ``same_as_first(...) != arange(n)`` marks the rows ``duplicated(keep="first")`` marks.

    Text columns are hashed and other columns factorised, the parts mixed into one 64-bit key
    and the rows grouped by sorting it (:func:`first_of_equal`). Rows grouped together are then
    checked to be equal, so the result is exact: should different values ever share a key, the
    columns are factorised instead.
    """
    key = np.zeros(len(columns[0]), dtype="uint64")
    for column in columns:
        if isinstance(column, pd.Series) and not pd.api.types.is_numeric_dtype(column.dtype):
            part = hash_strings(column)
        else:
            part = pd.factorize(column, use_na_sentinel=False)[0].astype("uint64")
        key = key * np.uint64(0x100000001B3) ^ part  # wraps around; checked below
    first = first_of_equal(key)
    rows = np.flatnonzero(first != np.arange(len(first)))
    if all(_equal_at(column, rows, first[rows]) for column in columns):
        return first
    combined = np.zeros(len(first), dtype="int64")
    for column in columns:
        part, uniques = pd.factorize(column, use_na_sentinel=False)
        combined = pd.factorize(combined * (len(uniques) + 1) + part)[0].astype("int64")
    return first_of_equal(combined)


def factorise_text(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(values)`` for a column of many distinct texts (client ids): codes in order
    of first appearance (-1 for missing) and the distinct values in that order.

    Found by hashing and sorting (:func:`same_as_first`), which stays linear on millions of
    distinct values where a hash table of them does not.
    """
    first = same_as_first([values])
    present = values.notna().to_numpy()
    is_first = (first == np.arange(len(first))) & present
    number = np.cumsum(is_first) - 1
    codes = np.where(present, number[first], -1)
    return codes, pd.Index(values.iloc[np.flatnonzero(is_first)].array)


def keep_rows(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """``frame[keep]`` (a boolean mask), without copying Arrow-backed columns when the rows left
    out are few: the runs of kept rows become chunks that share the column's memory.

    Excluding a few hundred of a million referrals would otherwise copy every text column.
    """
    if keep.all():
        return frame
    positions = np.flatnonzero(keep)
    edges = np.flatnonzero(np.diff(positions) != 1) + 1  # where a run of kept rows breaks
    if len(edges) + 1 > max(16, len(frame) // 1000):
        return frame[keep]
    starts = positions[np.r_[0, edges]] if len(positions) else positions
    stops = positions[np.r_[edges - 1, len(positions) - 1]] + 1 if len(positions) else positions
    columns = {}
    for name in frame.columns:
        values = frame[name].array
        if isinstance(values, pd.arrays.ArrowExtensionArray):
            import pyarrow

            whole = pyarrow.chunked_array(values.__arrow_array__())
            chunks = [
                chunk
                for start, stop in zip(starts.tolist(), stops.tolist(), strict=True)
                for chunk in whole.slice(start, stop - start).chunks
            ]
            columns[name] = pd.array(pyarrow.chunked_array(chunks, whole.type), dtype=values.dtype)
        else:
            columns[name] = values.take(positions)
    return pd.DataFrame(columns, index=frame.index[positions])


class MappingError(ValueError):
    """An analyst's mapping file cannot be used; the message names the file and the fix."""


def read_mapping(field: str, mapping_dir: Path | None = None) -> dict[str, str]:
    """Raw label (lower case, trimmed) to canonical label for ``field``."""
    text = resources.files("daanalysis").joinpath("mappings", f"{field}.csv").read_text("utf-8")
    tables = [pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)]
    if mapping_dir is not None and (mapping_dir / f"{field}.csv").exists():
        tables.append(_read_mapping_file(mapping_dir / f"{field}.csv"))
    mapping: dict[str, str] = {}
    for table in tables:
        mapping.update(zip(table["raw"].map(label_key), table["canonical"].map(tidy), strict=True))
    return mapping


def _read_mapping_file(path: Path) -> pd.DataFrame:
    """An analyst's mapping file, with clear errors for the usual slips."""
    try:
        table = read_small_csv(path)
    except UnreadableTable as err:
        if err.reason == "encoding":
            raise MappingError(
                f"{path}: cannot be decoded as UTF-8 or Windows-1252; save it as CSV."
            ) from None
        raise MappingError(
            f"{path}: cannot be read as a table ({err.detail}). It needs a header row "
            "'raw,canonical' and one row per label."
        ) from None
    missing = [c for c in ("raw", "canonical") if c not in table.columns]
    if missing:
        raise MappingError(
            f"{path}, row 1 (header), column {missing[0]!r}: a mapping file needs the columns "
            f"raw, canonical (found: {', '.join(table.columns)}). Rename the header."
        )
    blank = table["canonical"].str.strip() == ""
    if blank.any():
        row = int(blank.idxmax()) + 2
        raise MappingError(
            f"{path}, row {row}, column 'canonical': blank. Give every raw label a canonical one."
        )
    return table


def map_labels(values: pd.Series, mapping: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    """Canonical labels and a boolean Series marking non-blank values that were not recognised.

    Labels are matched by :func:`label_key` (case, spacing, hyphens and invisible characters
    do not matter), each distinct value once.
    """
    codes, unique = distinct(values)
    mapped = unique.astype("str").map(label_key).map(mapping)
    unmapped = values.notna() & mapped.isna().to_numpy()[codes]
    labels = mapped.fillna("unknown").astype("str").array.take(codes)  # -1: the missing slot
    return pd.Series(labels, index=values.index), unmapped


def pseudonymise(ids: pd.Series, salt: bytes) -> pd.Series:
    """Keyed hash (BLAKE2b, 8 bytes) of each identifier; blank stays blank.

    Each distinct identifier is hashed once (a client with ten referrals is hashed once, not ten
    times); the hash is the same keyed BLAKE2b as ever, so pseudonyms do not change.
    """
    codes, uniques = pd.factorize(ids)
    return pd.Series(_keys(uniques, salt).take(codes), index=ids.index)


def _keys(uniques: pd.Index, salt: bytes) -> pd.api.extensions.ExtensionArray:
    """The keyed hash of each of ``uniques`` as strings, and a missing value after them."""
    dtype = pd.StringDtype(na_value=np.nan)
    try:
        import pyarrow
    except ImportError:
        pyarrow = None
    if pyarrow is not None and dtype.storage == "pyarrow" and uniques.dtype == dtype:
        # The identifiers' UTF-8 bytes straight from Arrow, the digests joined and written as
        # hex in one go, and Arrow strings made from that text: no Python string per client.
        data = pyarrow.array(uniques).cast(pyarrow.large_binary())
        hexes = []
        for start in range(0, len(data), 1 << 17):  # a batch at a time: little memory at once
            batch = data.slice(start, 1 << 17).to_pylist()
            digests = [hashlib.blake2b(v, key=salt, digest_size=8).digest() for v in batch]
            hexes.append(b"".join(digests).hex().encode("ascii"))
        width = 16  # hex digits of 8 bytes
        offsets = np.arange(len(data) + 2, dtype="int64") * width
        offsets[-1] = offsets[-2]  # the missing value at the end
        validity = np.ones(len(data) + 1, dtype=bool)
        validity[-1] = False
        keys = pyarrow.Array.from_buffers(
            pyarrow.large_string(),
            len(data) + 1,
            [
                pyarrow.py_buffer(np.packbits(validity, bitorder="little")),
                pyarrow.py_buffer(offsets),
                pyarrow.py_buffer(b"".join(hexes)),
            ],
            null_count=1,
        )
        return pd.array(keys, dtype=dtype)
    keys = [
        hashlib.blake2b(str(value).encode(), key=salt, digest_size=8).hexdigest()
        for value in uniques.tolist()
    ]
    return pd.array([*keys, None], dtype=dtype)


def _note(
    ledger: pd.DataFrame,
    table: str | np.ndarray,
    rows: pd.Series,
    text: pd.Series | np.ndarray | str,
) -> None:
    """Add ``text`` (one for all, or one per row) to the ledger reason of each of ``rows`` of
    ``table`` (its name, or a mask of its lines in the ledger)."""
    texts = np.full(len(rows), text, dtype=object) if isinstance(text, str) else text
    by_row = pd.Series(np.asarray(texts, dtype=object), index=np.asarray(rows))
    by_row = by_row[~by_row.index.duplicated(keep="last")]
    in_table = (ledger["table"] == table).to_numpy() if isinstance(table, str) else table
    where = in_table & ledger["row"].isin(by_row.index).to_numpy()
    new = by_row.reindex(ledger["row"].to_numpy()[where]).to_numpy()
    old = ledger["reason"].to_numpy(dtype=object)[where]
    ledger.loc[where, "reason"] = np.where(old != "", old + "; " + new, new)


def _exclude(
    ledger: pd.DataFrame, table: str | np.ndarray, rows: pd.Series, text: pd.Series | np.ndarray
) -> None:
    in_table = (ledger["table"] == table).to_numpy() if isinstance(table, str) else table
    ledger.loc[in_table & ledger["row"].isin(rows).to_numpy(), "status"] = "excluded"
    _note(ledger, in_table, rows, text)


def _quoted(prefix: str, values: pd.Series, suffix: str) -> np.ndarray:
    """``prefix + repr(value) + suffix`` for each of ``values`` (each distinct value once)."""
    return prefix + reprs(values) + suffix


def clean_referrals(
    referrals: pd.DataFrame,
    ledger: pd.DataFrame,
    mapping_dir: Path | None = None,
    salt: bytes | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Canonical labels, probable duplicates removed, client_id replaced by ``client_key``.

    A probable duplicate is a second referral for the same client, service and date under a new
    referral_id (a double entry); the first is kept. Returns (referrals, updated ledger).

    Clients are numbered once (placeholders such as ``N/A`` become blank), duplicates are found
    from those numbers, and the rows are filtered once at the end.
    """
    ledger = ledger.copy()
    mine = (ledger["table"] == "referrals").to_numpy()
    out = referrals.copy(deep=False)
    source_row = out["source_row"]
    client, clients = factorise_text(out["client_id"])  # -1: blank
    placeholder = pd.Series(clients).astype("str").str.strip().str.lower().isin(NO_ID).to_numpy()
    client = np.where((client >= 0) & placeholder[client], -1, client)
    unknown_service = np.zeros(len(out), dtype=bool)
    for field in MAPPED_FIELDS:
        mapping = read_mapping(field, mapping_dir)
        out[field], unmapped = map_labels(out[field], mapping)
        unmapped = unmapped.to_numpy()
        blank = referrals[field].isna().to_numpy()
        if field == "service":
            # Every figure is for a service: a referral with an unrecognised service would
            # silently fall out of all of them, so it is excluded and listed instead.
            unknown_service = unmapped
            continue
        # Required labels only: an optional column (gender) is often absent or unrecorded.
        if blank.any() and field in ("referral_source", "risk_level"):
            _note(ledger, mine, source_row[blank], f"{field} blank: counted as unknown")
        if unmapped.any():
            _note(
                ledger,
                mine,
                source_row[unmapped],
                _quoted(
                    f"{field} ",
                    referrals.loc[unmapped, field],
                    f" not in the mapping table, counted as unknown (add it to "
                    f"mappings/{field}.csv)",
                ),
            )
    if unknown_service.any():
        _exclude(
            ledger,
            mine,
            source_row[unknown_service],
            _quoted(
                "service ",
                referrals.loc[unknown_service, "service"],
                " not in the mapping table, so the referral belongs to no service's figures "
                "(add it to mappings/service.csv)",
            ),
        )
    kept = np.flatnonzero(~unknown_service)
    no_client = np.zeros(len(out), dtype=bool)
    no_client[kept] = client[kept] < 0
    if no_client.any():
        _note(
            ledger,
            mine,
            source_row[no_client],
            "client_id blank: counted, but cannot be linked to earlier referrals",
        )
    service, services = pd.factorize(out["service"], use_na_sentinel=False)
    day, days = pd.factorize(out["referral_date"], use_na_sentinel=False)
    # One exact integer per (client, service, date): blank clients (-1) count as one value.
    key = ((client + 1) * (len(services) + 1) + service) * (len(days) + 1) + day
    repeats = kept[first_of_equal(key[kept])]  # the first row with the same client, service, date
    dup = np.zeros(len(out), dtype=bool)
    dup[kept] = (repeats != kept) & (client[kept] >= 0)
    if dup.any():
        _exclude(
            ledger,
            mine,
            source_row[dup],
            "probable duplicate of row "
            + source_row.iloc[repeats[dup[kept]]].astype("str").to_numpy(dtype=object)
            + " (same client, service and date)",
        )
    keep = ~unknown_service & ~dup
    out = keep_rows(out, keep)
    # Only the clients still referred are hashed, each once; a blank client takes the missing
    # value that follows their keys.
    client = client[keep]
    linked = client >= 0
    used = np.zeros(len(clients) + 1, dtype=bool)
    used[client[linked]] = True
    used[-1] = True  # the blank client: the missing value after the keys
    position = np.cumsum(used) - 1
    keys = _keys(clients[used[:-1]], salt or secrets.token_bytes(16))
    out["client_key"] = pd.Series(keys.take(position[client]), index=out.index)
    out = out.drop(columns=["client_id"])
    return out.reset_index(drop=True), ledger


def clean_action_plan(
    plan: pd.DataFrame, ledger: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """RAG labels to red / amber / amber/green / green / not rated."""
    ledger = ledger.copy()
    out = plan.copy()
    out["rag"], unmapped = map_labels(out["rag"], read_mapping("rag"))
    out.loc[plan["rag"].isna(), "rag"] = "not rated"
    if unmapped.any():
        _note(
            ledger,
            "action_plan",
            out.loc[unmapped, "source_row"],
            _quoted("rag ", plan.loc[unmapped, "rag"], " not recognised, shown as unknown"),
        )
    return out, ledger


def normalise_phase(phase: pd.Series) -> pd.Series:
    """School phases in lower case; any phase outside the data contract's
    (:data:`SCHOOL_PHASES`) becomes ``other``."""
    lower = phase.astype("str").str.strip().str.lower()
    return lower.where(lower.isin(SCHOOL_PHASES), "other")
