"""One file to a raw frame: every column as stripped text, blank (or ``nan``) as missing, names in
snake case. CSV in UTF-8, UTF-8 with a byte-order mark, Windows-1252 or UTF-16; XLSX from its one
sheet with data.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import numpy as np
import pandas as pd

from daanalysis.ingest.header import refuse_repeated_column
from daanalysis.ingest.workbook import hidden_sheets


def _pyarrow():
    """``(pyarrow, pyarrow.csv, pyarrow.compute)``, or None when pyarrow is not installed."""
    try:
        import pyarrow
        import pyarrow.compute
        import pyarrow.csv
    except ImportError:
        return None
    return pyarrow, pyarrow.csv, pyarrow.compute


# Arrow reads columns named f0, f1, ... as bytes; the header is read as the first row, by the
# same rules as the data, and decoded with it.
_MAX_COLUMNS = 1000
_BLOCK = 1 << 23  # bytes Arrow parses at a time (a block per core, and few chunks per column)
_LONE_CR = re.compile(rb"\r(?!\n)")
# Bytes that may begin or end a value Python's str.strip() would change: ASCII whitespace
# (Python's, which includes \x1c-\x1f), the lead bytes of the UTF-8 whitespace characters
# (U+0085, U+00A0, U+1680, U+2000-U+3000) and, at the end, any continuation byte.
_EDGE_FIRST = np.zeros(256, dtype=bool)
_EDGE_FIRST[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 0xC2, 0xE1, 0xE2, 0xE3]] = True
_EDGE_LAST = np.zeros(256, dtype=bool)
_EDGE_LAST[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_EDGE_LAST[0x80:0xC0] = True


def release_arrow_memory() -> None:
    """Hand memory Arrow has freed back to the system (its allocator keeps it for itself)."""
    modules = _pyarrow()
    if modules is not None:
        modules[0].default_memory_pool().release_unused()


def _read_csv_arrow(path: Path) -> pd.DataFrame | None:
    """A CSV file read by Arrow exactly as :func:`read_raw` reads it with pandas (values stripped,
    blank or ``nan`` as missing, names in snake case), or None when pyarrow is missing or the file
    needs pandas' reading.

    None (read it with pandas instead) for anything Arrow reads differently or not at all: rows of
    the wrong length (pandas pads short ones), whitespace-only lines, blank, repeated or clashing
    column names, a byte-order mark on a file that is not UTF-8, bytes that are neither UTF-8 nor
    Windows-1252, or a parse error (for which pandas gives the row-numbered message).
    """
    modules = _pyarrow()
    if modules is None:
        return None
    arrow, arrow_csv, compute = modules
    try:
        table = arrow_csv.read_csv(
            path,
            read_options=arrow_csv.ReadOptions(autogenerate_column_names=True, block_size=_BLOCK),
            parse_options=arrow_csv.ParseOptions(newlines_in_values=True),
            convert_options=arrow_csv.ConvertOptions(
                column_types={f"f{i}": arrow.large_binary() for i in range(_MAX_COLUMNS)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except arrow.ArrowException:
        return None
    finally:
        # Parsing needs about as much memory again as its result: give it back to the system
        # rather than keep it for Arrow alone.
        release_arrow_memory()
    # One column: pandas skips lines of spaces that Arrow reads as values (and such a file
    # cannot meet the contract anyway).
    if not table.num_rows or not 1 < table.num_columns <= _MAX_COLUMNS:
        return None
    columns = table.columns
    del table
    if _pandas_reads_differently(path, columns[-1][-1].as_py()):
        return None
    try:
        # UTF-8 (a byte-order mark is skipped by Arrow, as by utf-8-sig), as pandas tries first;
        # the cast only checks the bytes.
        text = [column.cast(arrow.large_string()) for column in columns]
    except arrow.ArrowInvalid:
        with path.open("rb") as file:
            if file.read(3) == codecs.BOM_UTF8:
                return None
        text = [_cp1252(column, arrow, compute) for column in columns]
        if any(column is None for column in text):
            return None
    del columns
    header = [column[0].as_py() for column in text]
    names = [re.sub(r"[\s\-]+", "_", str(c).strip().lower()) for c in header]
    if "" in header or len(set(header)) < len(header) or len(set(names)) < len(names):
        return None
    dtype = pd.StringDtype(na_value=np.nan)  # what astype("str") gives: Arrow-backed
    frame = {}
    for name in names:
        column = text.pop(0).slice(1)
        chunks = [_tidy_chunk(chunk, arrow, compute) for chunk in column.chunks]
        frame[name] = pd.array(arrow.chunked_array(chunks, arrow.large_string()), dtype=dtype)
    return pd.DataFrame(frame, index=pd.RangeIndex(len(frame[names[0]])))


def _pandas_reads_differently(path: Path, last: bytes) -> bool:
    """Whether pandas may read the file differently from Arrow: a carriage return that does not
    end a line with a line feed (old Mac line ends, which pandas reads in its own way), or a
    quoted value still open at the end of the file (pandas refuses it, Arrow reads it).

    ``last`` is the last value Arrow read. A value whose quote is never closed runs to the end of
    the file, so it is that value; it holds a line break, or else its opening quote is on the
    file's last line. One pass over the file, a block at a time.
    """
    if b"\n" in last or b"\r" in last:
        return True
    last_line, carry = b"", b""
    with path.open("rb") as file:
        while block := file.read(1 << 24):
            chunk = carry + block
            carry = b"\r" if chunk.endswith(b"\r") else b""
            chunk = chunk[: len(chunk) - len(carry)]
            if b"\r" in chunk and _LONE_CR.search(chunk):
                return True
            cut = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
            last_line = chunk[cut + 1 :] if cut >= 0 else last_line + chunk
    return bool(carry) or b'"' in last_line


def _tidy_chunk(chunk, arrow, compute):
    """A chunk of strings stripped as by ``str.strip()``, with blank and ``nan`` as missing.

    Worked on the chunk's own buffers: only values that may need stripping are stripped, and
    missing values are marked by a new validity bitmap over the same offsets and bytes.
    """
    n = len(chunk)
    if not n:
        return chunk
    starts, ends, data = _spans(chunk)
    length = ends - starts
    edge = np.zeros(n, dtype=bool)
    filled = np.flatnonzero(length > 0)
    edge[filled] = _EDGE_FIRST[data[starts[filled]]] | _EDGE_LAST[data[ends[filled] - 1]]
    if edge.any():
        mask = arrow.array(edge)
        stripped = compute.utf8_trim_whitespace(compute.filter(chunk, mask))
        chunk = compute.replace_with_mask(chunk, mask, stripped.cast(arrow.large_string()))
        starts, ends, data = _spans(chunk)
        length = ends - starts
    blank = length == 0
    three = np.flatnonzero(length == 3)
    at = starts[three]
    blank[three[(data[at] == 110) & (data[at + 1] == 97) & (data[at + 2] == 110)]] = True  # nan
    if not blank.any():
        return chunk
    offsets = np.concatenate([starts, ends[-1:]])
    return arrow.Array.from_buffers(
        arrow.large_string(),
        n,
        [
            arrow.py_buffer(np.packbits(~blank, bitorder="little")),
            arrow.py_buffer(offsets),
            chunk.buffers()[2] or arrow.py_buffer(b""),
        ],
        null_count=int(blank.sum()),
    )


def _spans(chunk) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start and end byte of each value of a large-string chunk (no nulls), and the bytes."""
    _, offsets, data = chunk.buffers()
    offsets = np.frombuffer(offsets, dtype=np.int64)[chunk.offset : chunk.offset + len(chunk) + 1]
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(1, np.uint8)
    return offsets[:-1], offsets[1:], data


def _cp1252(column, arrow, compute):
    """A column of bytes decoded as Windows-1252 (None if it cannot be): ASCII values as they are,
    the others decoded once per distinct value."""
    loose = compute.cast(
        column,
        options=compute.CastOptions(target_type=arrow.large_string(), allow_invalid_utf8=True),
    )
    other = compute.invert(compute.string_is_ascii(loose))
    if not compute.any(other).as_py():
        return loose
    encoded = compute.filter(column, other).combine_chunks().dictionary_encode()
    try:
        decoded = [value.decode("cp1252") for value in encoded.dictionary.to_pylist()]
    except UnicodeDecodeError:
        return None
    values = compute.take(arrow.array(decoded, arrow.large_string()), encoded.indices)
    merged = compute.replace_with_mask(loose.combine_chunks(), other.combine_chunks(), values)
    return arrow.chunked_array([merged])


def is_utf16(path: Path) -> bool:
    """Whether the file starts with a UTF-16 byte-order mark (Excel's "Unicode Text")."""
    with path.open("rb") as file:
        return file.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _read_csv_pandas(path: Path) -> pd.DataFrame:
    # Exports from Excel on Windows arrive as cp1252 or as UTF-8 with a byte-order mark, and
    # now and then as UTF-16 (which Arrow does not read).
    if is_utf16(path):
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-16")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="cp1252")


def read_raw(path: Path) -> pd.DataFrame:
    """Every column as stripped strings, blank (or ``nan``) as missing, names in snake case."""
    if path.suffix.lower() == ".xlsx":
        try:
            sheets = pd.read_excel(path, dtype=str, keep_default_na=False, sheet_name=None)
        except Exception as err:  # noqa: BLE001 - openpyxl raises many types for a bad workbook
            raise ValueError(f"not a readable Excel workbook: {type(err).__name__}: {err}") from err
        # Nothing is read silently in part: a second sheet with data would otherwise be dropped.
        filled = {name: sheet for name, sheet in sheets.items() if not sheet.empty}
        if len(filled) > 1:
            hidden = hidden_sheets(path)
            names = [f"{n!r} (hidden)" if n in hidden else repr(n) for n in filled]
            unhide = (
                " A hidden sheet counts too: unhide it (right-click a sheet tab, Unhide) to see it."
                if hidden & set(filled)
                else ""
            )
            raise ValueError(
                f"the workbook has {len(filled)} sheets with data ({', '.join(names)})"
                "; a table must be on one sheet. Move the rows onto one sheet, or save that "
                f"sheet as CSV.{unhide}"
            )
        frame = next(iter(filled.values()), next(iter(sheets.values())))
        frame.attrs["sheet"] = next(iter(filled), next(iter(sheets)))  # for read_table's note
        refuse_repeated_column(path, list(frame.columns))
    else:
        arrow_frame = None if is_utf16(path) else _read_csv_arrow(path)
        if arrow_frame is not None:
            return arrow_frame
        frame = _read_csv_pandas(path)
    frame.columns = [re.sub(r"[\s\-]+", "_", str(c).strip().lower()) for c in frame.columns]
    for col in frame.columns:
        frame[col] = frame[col].astype("str").str.strip().replace({"": pd.NA, "nan": pd.NA})
    return frame
