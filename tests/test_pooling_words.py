"""A campaign run in several areas, read together, in words and in ``daanalysis verdict``
(``daanalysis.present.pooling``): hand-made readings for the words, and a generated extract
whose campaigns are listed area by area for the command."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from daanalysis.metrics.demand import PooledContrast, Verdict
from daanalysis.present.pooling import as_record, pooled_lines


def r(est: float, low: float, high: float, level: float = 0.95) -> dict:
    return {"rate_ratio": est, "ci_low": low, "ci_high": high, "level": level}


def _verdict(area: str, reading: str) -> Verdict:
    return Verdict(area=area, quarter="2026/27 Q2 (Jul-Sep 2026)", verdict=reading)


def pooled(**kw) -> PooledContrast:
    base = dict(
        campaign="Know the signs",
        start_date=pd.Timestamp("2022-11-01"),
        areas=["Ayton", "Beeby"],
        pooled_areas=["Ayton", "Beeby"],
        primary=r(1.30, 1.12, 1.51),
        corroboration=r(1.25, 1.08, 1.44, 0.9),
        correlation=0.2,
        passes=True,
        own={"Beeby": r(1.22, 1.03, 1.45, 0.9)},
        gated={"Ayton": True, "Beeby": True},
        credited={"Ayton": True, "Beeby": True},
        credited_relaxed={"Ayton": True, "Beeby": True},
        others_areas=["Ceeford"],
        others=r(1.02, 0.9, 1.15),
        others_up=False,
        difference=r(1.27, 1.05, 1.5),
        verdicts={"Ayton": _verdict("Ayton", "reporting"), "Beeby": _verdict("Beeby", "need")},
    )
    return PooledContrast(**{**base, **kw})


def test_credited_areas_say_on_which_evidence():
    lines = pooled_lines(pooled())
    assert lines[0] == (
        "Know the signs (started 01/11/2022) ran in Ayton and Beeby. Read together (Ayton and "
        "Beeby), their reporting effects (each area's rise in standard and medium risk "
        "referrals relative to need since its first campaign, as its own verdict reads it) come "
        "to 1.30 (95% CI 1.12 to 1.51), and to 1.25 (90% CI 1.08 to 1.44) relative to the "
        "service's own need streams (high risk and MARAC): the areas' evidence together passes "
        "the test a reporting claim needs."
    )
    assert lines[1] == "Ayton: a reporting effect, on its own verdict."
    assert lines[2] == (
        "Beeby: a reporting effect, on its own interval 1.22 (90% CI 1.03 to 1.45) with the "
        "areas' evidence together (its own verdict, from its figures alone, could not tell)."
    )
    assert lines[3] == (
        "The areas without the campaign (Ceeford) showed no clear rise at its date: 1.02 (95% "
        "CI 0.90 to 1.15)."
    )


def test_a_regional_rise_is_not_credited_to_the_campaign():
    lines = pooled_lines(
        pooled(
            credited={"Ayton": False, "Beeby": False},
            others=r(1.2, 1.05, 1.37),
            others_up=True,
        )
    )
    assert lines[1] == (
        "Ayton: its own verdict reads a reporting effect, but it is not credited to the "
        "campaign here, as the areas without the campaign rose at its date too."
    )
    assert lines[2] == "Beeby: no reporting effect credited."
    assert lines[3].startswith(
        "The areas without the campaign (Ceeford) rose 1.20 (95% CI 1.05 to 1.37) at its date "
        "too: the rise may be regional"
    )


def test_nothing_to_pool_says_each_verdict_stands():
    lines = pooled_lines(pooled(primary={}, corroboration={}, pooled_areas=["Ayton"], others={}))
    assert lines == [
        "Know the signs (started 01/11/2022) ran in Ayton and Beeby. Fewer than two of them "
        "have a tested reporting contrast, so they cannot be read together; each area's own "
        "verdict stands."
    ]


def test_the_commands_record_is_plain_and_names_this_areas_credit():
    p = pooled(credited={"Ayton": True, "Beeby": False})
    record = as_record(p, "Beeby")
    assert json.loads(json.dumps(record)) == record
    assert record["credited_here"] is False and record["credited"] == {
        "Ayton": True,
        "Beeby": False,
    }
    assert record["sentences"] == pooled_lines(p)


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    """Three generated areas; one campaign listed area by area for Ayton and Beeby, the other
    for Ayton alone; Ceeford ran none."""
    from daanalysis.synthetic.sample import write_sample

    folder = tmp_path_factory.mktemp("pooled") / "data"
    write_sample(folder, seed=3, areas={"Ayton": 1.0, "Beeby": 0.8, "Ceeford": 1.2})
    (folder / "campaigns.csv").write_text(
        "name,start_date,end_date,area\n"
        "Know the signs,01/11/2022,10/12/2022,Ayton\n"
        "Know the signs,01/11/2022,10/12/2022,Beeby\n"
        "Open doors,01/06/2024,15/07/2024,Ayton\n"
    )
    return folder


def test_a_campaign_listed_area_by_area_is_read_together(region):
    from daanalysis.cli import as_json, as_table, verdicts_and_pooled

    results, together, at = verdicts_and_pooled(region, [])
    assert at == "2026/27 Q2 (Jul-Sep 2026)"
    assert [p.campaign for p in together] == ["Know the signs"]  # "Open doors": one area
    assert together[0].areas == ["Ayton", "Beeby"] and together[0].others_areas == ["Ceeford"]
    # The areas' own verdicts are those the command gives, reused (not fitted again).
    assert all(together[0].verdicts[v.area] is v for v in results if v.area != "Ceeford")
    rows = {row["area"]: row for row in json.loads(as_json(results, together, at))}
    assert [p["campaign"] for p in rows["Ayton"]["pooled"]] == ["Know the signs"]
    assert rows["Ayton"]["pooled"][0]["quarter"] == at
    assert rows["Ceeford"]["pooled"] == []
    text = as_table(results, together, at)
    assert (
        "\nRead together, 2026/27 Q2 (Jul-Sep 2026): Know the signs (started 01/11/2022) ran in "
        "Ayton and Beeby." in text
    )


def test_one_campaign_listed_twice_for_an_area_stops_the_load_naming_both_rows(region, tmp_path):
    import shutil

    from daanalysis.ingest.load import DataContractError, load_extract

    folder = tmp_path / "data"
    shutil.copytree(region, folder)
    with (folder / "campaigns.csv").open("a") as out:
        out.write("Safe at home,01/03/2025,30/04/2025,\nSafe at home,01/03/2025,30/04/2025,Beeby\n")
    # Every campaign row is part of the model: one that breaks the contract is not left out
    # (the verdict would change without a word), the load stops and says which rows and why.
    with pytest.raises(DataContractError) as stopped:
        load_extract(folder, salt=b"test-salt")
    message = str(stopped.value)
    assert "campaigns.csv: row 6: name: 'Safe at home' is also listed for every area" in message
    assert "(blank area, row 5)" in message and "load again" in message


def test_the_pages_table_has_ratios_and_names_only():
    from daanalysis.present.pooling import pooled_table

    table = pooled_table([pooled(credited={"Ayton": True, "Beeby": False})])
    assert table.iloc[0].to_dict() == {
        "campaign": "Know the signs (01/11/2022)",
        "areas": "Ayton, Beeby",
        "read together (ratio)": 1.30,
        "95% CI lower": 1.12,
        "95% CI upper": 1.51,
        "passes": "yes",
        "credited with a reporting effect": "Ayton",
        "areas without it, at its date (ratio)": 1.02,
    }
    none = pooled_table([pooled(credited={"Ayton": False, "Beeby": False}, others={})])
    assert none.iloc[0]["credited with a reporting effect"] == "none"
    assert pd.isna(none.iloc[0]["areas without it, at its date (ratio)"])
