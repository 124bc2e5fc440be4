"""Action plan progress: RAG by priority at the latest review and change since the last one."""

from __future__ import annotations

import pandas as pd

RAG_ORDER = {"red": 0, "amber": 1, "amber/green": 2, "green": 3}


def reviews(plan: pd.DataFrame) -> list[pd.Timestamp]:
    """Review dates, oldest first."""
    return sorted(plan["review_date"].dropna().unique())


def up_to(plan: pd.DataFrame, quarter: pd.Period) -> pd.DataFrame:
    """The reviews held by the end of ``quarter``: a pack for an earlier quarter does not show
    ratings given after it."""
    return plan[plan["review_date"] <= quarter.end_time].reset_index(drop=True)


def at_review(plan: pd.DataFrame, when: pd.Timestamp | None = None) -> pd.DataFrame:
    """Actions as they stood at review ``when`` (default: the latest)."""
    when = when if when is not None else reviews(plan)[-1]
    return plan[plan["review_date"] == when].sort_values("action_id").reset_index(drop=True)


def rag_by_priority(plan: pd.DataFrame) -> pd.DataFrame:
    """Number of actions per priority (rows) and RAG (columns) at the latest review, with totals."""
    latest = at_review(plan)
    table = pd.crosstab(latest["priority"], latest["rag"])
    order = [c for c in [*RAG_ORDER, "not rated", "unknown"] if c in table.columns]
    table = table[order]
    table["total"] = table.sum(axis=1)
    return table


def changes_since_last_review(plan: pd.DataFrame) -> pd.DataFrame:
    """Each action's RAG at the previous and latest reviews: improved, worse, no change or new."""
    dates = reviews(plan)
    latest = at_review(plan, dates[-1])
    if len(dates) < 2:
        return latest.assign(rag_before=pd.NA, change="first review")
    before = at_review(plan, dates[-2])[["action_id", "rag"]].rename(columns={"rag": "rag_before"})
    out = latest.merge(before, on="action_id", how="left")

    def change(row: pd.Series) -> str:
        if pd.isna(row["rag_before"]):
            return "new"
        a, b = RAG_ORDER.get(row["rag_before"]), RAG_ORDER.get(row["rag"])
        if a is None or b is None:
            return "rated" if a is None and b is not None else "no change"
        return "improved" if b > a else ("worse" if b < a else "no change")

    out["change"] = out.apply(change, axis=1)
    return out[["priority", "action_id", "action", "lead", "rag_before", "rag", "change"]]


def red_and_amber(plan: pd.DataFrame) -> pd.DataFrame:
    """Red and amber actions at the latest review, red first, with lead and progress."""
    latest = at_review(plan)
    out = latest[latest["rag"].isin(["red", "amber"])].copy()
    out["order"] = out["rag"].map(RAG_ORDER)
    cols = ["action_id", "action", "lead", "rag", "progress"]
    return out.sort_values(["order", "action_id"])[cols].reset_index(drop=True)
