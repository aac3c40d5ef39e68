"""Make ``docs/report-screenshot.png``: the report of a run record, opened in headless Chromium.

    python3 docs/report_screenshot.py RUN.h5 [--out docs/report-screenshot.png] [--scroll-to carbon]

Uses Debian's ``chromium`` and ``chromium-driver`` through selenium, like the browser test; the PNG
is scaled to 900 px wide and reduced to 256 colours to stay small (well under 300 kB).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars")


def screenshot(record: Path, out: Path, width: int = 1280, height: int = 2300, scale_to: int = 900) -> Path:
    from accbench.bench.htmlreport import write_report
    from PIL import Image
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory() as tmp:
        page = write_report(record, Path(tmp) / "report")
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in (*FLAGS, f"--window-size={width},{height}", f"--user-data-dir={Path(tmp) / 'profile'}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            driver.get(page.as_uri())
            raw = Path(tmp) / "raw.png"
            driver.save_screenshot(str(raw))
        finally:
            driver.quit()
        image = Image.open(raw).convert("RGB")
        image = image.resize((scale_to, round(image.height * scale_to / image.width)), Image.LANCZOS)
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("record", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "report-screenshot.png")
    args = parser.parse_args()
    path = screenshot(args.record, args.out)
    print(f"{path}: {path.stat().st_size / 1024:.0f} kB")


if __name__ == "__main__":
    main()
