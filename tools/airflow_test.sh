#!/usr/bin/env bash
# The shipped Airflow DAG (daanalysis.airflow) tested for real, as issue 22 asks: Apache Airflow 3
# in an environment of its own, .venv-airflow (never the project's .venv: Airflow is not a
# dependency of daanalysis), the project installed into it, then tests/test_airflow.py, whose DAG
# tests run `airflow dags test` on a three-area synthetic extract and check each area's pack, the
# roll-up with its comparison of areas, an alert failing its task and a broken extract failing
# only its own.
# DAANALYSIS_REQUIRE_AIRFLOW=1 makes a missing Airflow a failure, never a skip.
#
# Versions: tools/airflow-constraints.txt (Python 3.11; see its header), or AIRFLOW_CONSTRAINTS
# (a file or URL, e.g. Airflow's own constraints file for your Python, where it can be reached).
# Reinstalls only when pyproject.toml or the constraints change. Prints how long each part took.
set -euo pipefail
cd "$(dirname "$0")/.."
AIRFLOW_VERSION=3.3.2
VENV=${AIRFLOW_VENV:-.venv-airflow}
CONSTRAINTS=${AIRFLOW_CONSTRAINTS:-tools/airflow-constraints.txt}
PYTHON=${PYTHON:-python3}

started=$SECONDS
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  && [ -z "${AIRFLOW_CONSTRAINTS:-}" ]; then
  echo "airflow_test: warning: $CONSTRAINTS was made on Python 3.11; this is" \
    "$("$VENV/bin/python" -V); installing without it" >&2
  CONSTRAINTS=""
fi
wanted=$(cat pyproject.toml ${CONSTRAINTS:+"$CONSTRAINTS"} 2>/dev/null | sha256sum | cut -c1-64)
stamp="$VENV/.installed"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    ${CONSTRAINTS:+--constraint "$CONSTRAINTS"} \
    "apache-airflow==$AIRFLOW_VERSION" -e . pytest nbval
  echo "$wanted" >"$stamp"
fi
echo "airflow_test: Airflow $("$VENV/bin/airflow" version 2>/dev/null | tail -1) ready in" \
  "$((SECONDS - started)) s"

started=$SECONDS
DAANALYSIS_REQUIRE_AIRFLOW=1 "$VENV/bin/python" -m pytest tests/test_airflow.py -p no:cacheprovider -q -rs
echo "airflow_test: tests took $((SECONDS - started)) s"
