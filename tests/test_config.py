import pytest

from daanalysis.config import DEFAULTS, Config, read_config


def test_defaults_carry_a_source_for_every_setting():
    config = read_config(None)
    assert config == Config()
    table = config.table()
    assert list(table["key"]) == list(DEFAULTS)
    assert table["source"].str.len().min() > 20
    assert "committee minutes" in config.source("safe_caseload_per_fte").lower()


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
