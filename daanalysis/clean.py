"""Cleaning: canonical labels, de-duplication and pseudonymised client keys, with a row ledger.

Labels are mapped through tables (``daanalysis/mappings/<field>.csv``, columns ``raw, canonical``)
that analysts extend by putting a file of the same name in ``<data>/mappings/``: their rows are
added to, and override, the packaged ones. An unmapped label is kept as ``unknown`` and noted in
the ledger, so the referral still counts.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from importlib import resources
from pathlib import Path

import pandas as pd

MAPPED_FIELDS = ("referral_source", "risk_level", "service", "gender")
# What case systems write for "no client reference". Read as an identifier, "N/A" would make
# every such referral the same client and remove them all as probable duplicates.
NO_ID = {"n/a", "na", "n.a.", "none", "null", "nil", "unknown", "not known", "-", "--", "?", "0"}


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
        mapping.update(
            zip(table["raw"].str.strip().str.lower(), table["canonical"].str.strip(), strict=True)
        )
    return mapping


def _read_mapping_file(path: Path) -> pd.DataFrame:
    """An analyst's mapping file, with clear errors for the usual slips."""
    table = None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
            break
        except UnicodeDecodeError:
            continue
        except (pd.errors.EmptyDataError, pd.errors.ParserError) as err:
            raise MappingError(
                f"{path}: cannot be read as a table ({err}). It needs a header row 'raw,canonical' "
                "and one row per label."
            ) from None
    if table is None:
        raise MappingError(f"{path}: cannot be decoded as UTF-8 or Windows-1252; save it as CSV.")
    table.columns = [str(c).strip().lower() for c in table.columns]
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
    """Canonical labels and a boolean Series marking non-blank values that were not recognised."""
    key = values.astype("str").str.strip().str.lower()
    mapped = key.map(mapping)
    unmapped = values.notna() & mapped.isna()
    return mapped.fillna("unknown").astype("str"), unmapped


def pseudonymise(ids: pd.Series, salt: bytes) -> pd.Series:
    """Keyed hash (BLAKE2b, 8 bytes) of each identifier; blank stays blank."""

    def one(value: object) -> object:
        if pd.isna(value):
            return pd.NA
        return hashlib.blake2b(str(value).encode(), key=salt, digest_size=8).hexdigest()

    return ids.map(one).astype("str")


def _note(ledger: pd.DataFrame, table: str, rows: pd.Series, text: pd.Series | str) -> None:
    where = (ledger["table"] == table) & ledger["row"].isin(rows)
    texts = pd.Series(text, index=rows.index) if isinstance(text, str) else text
    by_row = dict(zip(rows, texts, strict=True))
    ledger.loc[where, "reason"] = [
        (f"{old}; {by_row[r]}" if old else by_row[r])
        for old, r in zip(ledger.loc[where, "reason"], ledger.loc[where, "row"], strict=True)
    ]


def _exclude(ledger: pd.DataFrame, table: str, rows: pd.Series, text: pd.Series) -> None:
    where = (ledger["table"] == table) & ledger["row"].isin(rows)
    ledger.loc[where, "status"] = "excluded"
    _note(ledger, table, rows, text)


def clean_referrals(
    referrals: pd.DataFrame,
    ledger: pd.DataFrame,
    mapping_dir: Path | None = None,
    salt: bytes | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Canonical labels, probable duplicates removed, client_id replaced by ``client_key``.

    A probable duplicate is a second referral for the same client, service and date under a new
    referral_id (a double entry); the first is kept. Returns (referrals, updated ledger).
    """
    ledger = ledger.copy()
    out = referrals.copy()
    placeholder = out["client_id"].astype("str").str.strip().str.lower().isin(NO_ID)
    out["client_id"] = out["client_id"].where(~placeholder)
    unknown_service = pd.Series(False, index=out.index)
    for field in MAPPED_FIELDS:
        mapping = read_mapping(field, mapping_dir)
        out[field], unmapped = map_labels(out[field], mapping)
        blank = referrals[field].isna()
        if field == "service":
            # Every figure is for a service: a referral with an unrecognised service would
            # silently fall out of all of them, so it is excluded and listed instead.
            unknown_service = unmapped
            continue
        # Required labels only: an optional column (gender) is often absent or unrecorded.
        if blank.any() and field in ("referral_source", "risk_level"):
            _note(
                ledger,
                "referrals",
                out.loc[blank, "source_row"],
                f"{field} blank: counted as unknown",
            )
        if unmapped.any():
            _note(
                ledger,
                "referrals",
                out.loc[unmapped, "source_row"],
                f"{field} "
                + referrals.loc[unmapped, field].map(repr)
                + f" not in the mapping table, counted as unknown (add it to "
                f"mappings/{field}.csv)",
            )
    if unknown_service.any():
        _exclude(
            ledger,
            "referrals",
            out.loc[unknown_service, "source_row"],
            "service "
            + referrals.loc[unknown_service, "service"].map(repr)
            + " not in the mapping table, so the referral belongs to no service's figures "
            "(add it to mappings/service.csv)",
        )
        out = out[~unknown_service]
    no_client = out["client_id"].isna()
    if no_client.any():
        _note(
            ledger,
            "referrals",
            out.loc[no_client, "source_row"],
            "client_id blank: counted, but cannot be linked to earlier referrals",
        )
    keys = ["client_id", "service", "referral_date"]
    dup = out.duplicated(subset=keys, keep="first") & ~no_client
    if dup.any():
        first = out[~out.duplicated(subset=keys, keep="first")].set_index(keys)["source_row"]
        first_rows = [first.loc[tuple(k)] for k in out.loc[dup, keys].itertuples(index=False)]
        _exclude(
            ledger,
            "referrals",
            out.loc[dup, "source_row"],
            pd.Series(
                [
                    f"probable duplicate of row {r} (same client, service and date)"
                    for r in first_rows
                ],
                index=out.index[dup],
            ),
        )
        out = out[~dup]
    out["client_key"] = pseudonymise(out["client_id"], salt or secrets.token_bytes(16))
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
            "rag " + plan.loc[unmapped, "rag"].map(repr) + " not recognised, shown as unknown",
        )
    return out, ledger
