"""The report in a real browser: Debian's headless Chromium, driven by selenium through chromium-driver.

Renders the report of the version-1 fixture record, opens ``index.html`` from disk and checks that
every image decoded (``naturalWidth > 0``) and that the console logged nothing SEVERE. Nothing is
downloaded: the browser and its driver are the system packages (``.ci/run`` installs them when
missing); the test is skipped, saying why, only where ``/usr/bin/chromium`` is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from accbench.bench.htmlreport import write_report

from .conftest import FIXTURES

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,1000")


def open_browser(profile: Path):
    """A headless Chromium of the system packages with a fresh profile in ``profile``, console logs kept."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    return write_report(FIXTURES / "records" / "v1-example.h5", tmp_path_factory.mktemp("report"))


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent: install Debian's chromium and "
                                                   "chromium-driver (.ci/run does) to run the browser test")
def test_the_report_renders_in_chromium_with_every_image_and_no_console_error(report, tmp_path):
    if not CHROMEDRIVER.exists():
        pytest.fail("/usr/bin/chromium is installed but /usr/bin/chromedriver is not: install chromium-driver")
    driver = open_browser(tmp_path / "profile")
    try:
        driver.get(report.as_uri())
        assert driver.title.endswith("accbench report")
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight]);")
        assert len(images) == len(list(report.parent.glob("*.png"))) >= 10
        broken = [alt for alt, complete, width, height in images if not (complete and width > 0 and height > 0)]
        assert not broken, f"images that did not load: {broken}"
        captions = driver.execute_script("return Array.from(document.querySelectorAll('figcaption'))"
                                         ".map(c => c.innerText);")
        assert len(captions) == len(images) and all("Conclusion:" in c for c in captions)
        severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert not severe, f"console errors: {severe}"
    finally:
        driver.quit()
