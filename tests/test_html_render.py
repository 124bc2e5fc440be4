"""Open the produced HTML in headless Chromium: charts load and no code is shown."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=5000",
]
PROBE = """
<script>
window.addEventListener("load", () => {
  const imgs = [...document.images];
  document.body.dataset.images = imgs.length;
  document.body.dataset.loaded = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  document.body.dataset.code = document.querySelectorAll(
    ".jp-CodeMirrorEditor, .jp-Editor, .highlight, .input_area").length;
});
</script>
"""


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium package")
        pytest.skip("chromium not installed (apt-get install chromium); CI runs this test")
    return CHROMIUM


def _render(browser, page, tmp_path):
    probe = tmp_path / page.name
    # The pages forbid every script (Content-Security-Policy); the probe is the test's own script,
    # so it runs on a copy without the policy.
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page.read_text())
    probe.write_text(text.replace("</body>", PROBE + "</body>"))
    dom = subprocess.run(
        [browser, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", probe.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    body = re.search(r"<body[^>]*>", dom).group(0)
    return {k: int(v) for k, v in re.findall(r'data-(images|loaded|code)="(\d+)"', body)}, dom


@pytest.mark.parametrize(
    ("page", "charts"),
    [
        ("sampleborough_demand_vs_reporting.html", 2),
        ("sampleborough_staffing_gap.html", 3),
        ("action_plan.html", 1),
    ],
)
def test_charts_render_and_code_is_hidden(browser, sample_report, tmp_path, page, charts):
    found, dom = _render(browser, sample_report / page, tmp_path)
    assert found["images"] == charts
    assert found["loaded"] == charts  # every chart decoded to a real image
    assert found["code"] == 0
    assert "report.prepare" not in dom


def test_screenshot_of_the_index(browser, sample_report, tmp_path):
    shot = tmp_path / "index.png"
    subprocess.run(
        [
            browser,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1000,700",
            (sample_report / "index.html").as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 5000
