"""Headless Chromium for the dashboard's browser tests and benchmarks (Debian's ``chromium``, driven by Playwright).

The flags keep it offline and quiet: no GPU, no background networking, no component updates, no sync,
no first-run page; it may run as root (``--no-sandbox``), as in CI's container.
"""

from __future__ import annotations

import shutil

#: The browser's executable: ``chromium`` on ``PATH``, else where Debian installs it.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: What it is launched with (Playwright's ``chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS])``).
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
