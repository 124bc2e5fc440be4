from dataclasses import fields

import pandas as pd
import pytest

from daanalysis.config import DEFAULTS, Config, ConfigError, read_config


def test_defaults_carry_a_source_for_every_setting():
    config = read_config(None)
    table = config.table()
    assert list(table["key"]) == list(DEFAULTS)
    assert table["source"].str.len().min() > 20
    assert "committee minutes" in config.source("safe_caseload_per_fte").lower()


def test_defaults_written_once_and_read_back_the_same(tmp_path):
    """Every setting is a Config field whose default is DEFAULTS' value, of the field's type, and
    a config.csv restating every default (as the sample generator writes it) changes nothing."""
    settings = [f for f in fields(Config) if f.name != "sources"]
    assert [f.name for f in settings] == list(DEFAULTS)
    for f in settings:
        value = DEFAULTS[f.name][0]
        assert f.default == value and type(value).__name__ == f.type, f.name
    table = pd.DataFrame(
        [{"key": k, "value": v, "unit": u, "source": s} for k, (v, u, s) in DEFAULTS.items()]
    )
    table.to_csv(tmp_path / "config.csv", index=False)
    restated = read_config(tmp_path / "config.csv")
    assert restated.table()["value"].tolist() == Config().table()["value"].tolist()
    assert restated == Config(sources=restated.sources)


def test_config_file_overrides_value_and_source(tmp_path):
    path = tmp_path / "config.csv"
    path.write_text(
        "key,value,unit,source\n"
        "cost_per_fte,41000,GBP a year,Contract schedule 3 (2026)\n"
        "caseload_roles,IDVA;Outreach worker;Children's worker,roles,\n"
    )
    config = read_config(path)
    assert config.cost_per_fte == 41000.0
    assert config.source("cost_per_fte") == "Contract schedule 3 (2026)"
    assert config.roles == ["IDVA", "Outreach worker", "Children's worker"]
    assert config.safe_caseload_per_fte == 30.0  # untouched settings keep their defaults


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("safe_casload,30,,", "row 2, column key: unknown setting 'safe_casload'"),
        ("cost_per_fte,thirty,,", "row 2, column value: 'thirty' is not a number"),
        ("safe_caseload_per_fte,40,,", "must lie inside the band 27.0-33.0"),
    ],
)
def test_bad_config_names_row_and_column(tmp_path, line, message):
    path = tmp_path / "config.csv"
    path.write_text(f"key,value,unit,source\n{line}\n")
    with pytest.raises(ValueError, match=message):
        read_config(path)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("suppression_threshold,0,,", "0 is outside the plausible range 1 to 100"),
        ("suppression_threshold,3,,", "3 is below 5, the floor for published counts"),
        ("suppression_threshold,5.5,,", "5.5 is not a whole number"),
        ("max_excluded_share,5,,", "5 is outside the plausible range 0 to 0.5"),
        # A share written as a percentage: the message says how to write it.
        (
            "demand_growth_annual,7,,",
            r"1 for demand_growth_annual; it is a share: write 7% as 0\.07",
        ),
        ("max_excluded_share,5,,", r"write 5% as 0\.05"),
        ("max_excluded_share,80,,", r"0\.5 for max_excluded_share\.$"),
        ("cost_per_fte,375,,", "375 is outside the plausible range"),
        ("cost_per_fte,nan,,", "nan is outside the plausible range"),
        ('cost_per_fte,"37,500",,', "'37,500' is not a number for cost_per_fte"),
        ("extract_date,10/31/2026,,", "'10/31/2026' is not a date"),
        ("allow_low_suppression,maybe,,", "'maybe' must be yes or no"),
        (
            "cost_per_fte,41000,,\ncost_per_fte,42000,,",
            "row 3, column key: cost_per_fte is set again",
        ),
    ],
)
def test_out_of_range_or_malformed_settings_are_refused(tmp_path, line, message):
    path = tmp_path / "config.csv"
    path.write_text(f"key,value,unit,source\n{line}\n")
    with pytest.raises(ValueError, match=message):
        read_config(path)


def test_low_suppression_needs_the_flag_and_is_announced(tmp_path):
    path = tmp_path / "config.csv"
    path.write_text(
        "key,value,unit,source\nsuppression_threshold,3,count,Data owner agreement 2026\n"
        "allow_low_suppression,yes,,Agreed by the Caldicott guardian\n"
    )
    config = read_config(path)
    assert config.suppression_threshold == 3
    assert "lowered to counts below 3" in config.disclosure_warning
    assert read_config(None).disclosure_warning == ""
    with pytest.raises(ConfigError, match="below 5"):
        Config(suppression_threshold=2)  # held to the same rule when built in code


def test_extract_date_is_read_day_first():
    assert Config(extract_date="05/10/2026").extract_timestamp == pd.Timestamp("2026-10-05")
    assert Config(extract_date="2026-10-05").extract_timestamp == pd.Timestamp("2026-10-05")
    assert Config().extract_timestamp is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"setting,amount\ncost_per_fte,41000\n", "row 1 \\(header\\): config needs columns key"),
    ],
)
def test_unreadable_config_files_are_named(tmp_path, content, message):
    path = tmp_path / "config.csv"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        read_config(path)


def test_cp1252_config_is_read(tmp_path):
    path = tmp_path / "config.csv"
    path.write_bytes(
        "key,value,unit,source\ncost_per_fte,41000,GBP,Contract – schedule 3 (£)\n".encode("cp1252")
    )
    config = read_config(path)
    assert config.source("cost_per_fte") == "Contract – schedule 3 (£)"


def test_small_tables_are_read_one_way_for_settings_and_mappings(tmp_path):
    """config.csv and the mapping files share one reader: Excel's encodings are read, and an
    empty, unparseable or undecodable file is a clear error naming the file in each caller."""
    from daanalysis.config import UnreadableTable, read_small_csv
    from daanalysis.ingest.clean import MappingError, _read_mapping_file

    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes("Raw,Canonical\nCafé,Cafe\n".encode("utf-16"))
    cp1252 = tmp_path / "cp1252.csv"
    cp1252.write_bytes("Raw,Canonical\nCafé,Cafe\n".encode("cp1252"))
    for path in (utf16, cp1252):
        assert read_small_csv(path).to_dict("records") == [{"raw": "Café", "canonical": "Cafe"}]
        assert list(_read_mapping_file(path)["raw"]) == ["Café"]

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(UnreadableTable) as caught:
        read_small_csv(empty)
    assert caught.value.reason == "empty"
    with pytest.raises(ConfigError, match=r"empty\.csv: the file is empty"):
        read_config(empty)
    with pytest.raises(MappingError, match=r"empty\.csv: cannot be read as a table"):
        _read_mapping_file(empty)

    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"raw,canonical\n\x81\x8d\x8f\x90,x\n")  # undefined in Windows-1252
    with pytest.raises(MappingError, match=r"binary\.csv: cannot be decoded"):
        _read_mapping_file(binary)
    with pytest.raises(ConfigError, match=r"binary\.csv: cannot be decoded"):
        read_config(binary)
