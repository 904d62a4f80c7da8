"""Driving the Airflow 3.3 UI with headless Chromium (Debian's), through the Python `playwright` package.

Playwright's own browser download does not work on these machines: the system Chromium is started with
``executable_path`` and the flags that keep it off the network (background networking, component
updates, sync, QUIC), with a fresh profile. The DOM facts used here (field names ``element_<param>``,
the ``datetime-input`` picker, one open accordion section at a time) are documented in docs/forms.md.

A form is described by data (:class:`FormCase`), so every DAG's form can be added to the test as a row.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
INSTALL_HINT = ("headless Chromium is needed: `make test` installs it (target browser-tool), or run "
                "`apt-get install -y chromium chromium-driver` and `pip install -r requirements-dev.txt` (playwright)")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOGIN = ("admin", "admin")


@dataclass(frozen=True)
class FormCase:
    """One DAG's trigger form as a person fills it.

    ``window``: the names of the window params (start, end) and the dates to set (ISO ``YYYY-MM-DD``; a
    date-time field gets 00:00 of that day); set through the date picker the form renders for them, else
    typed into the text field. ``fields``: other params to set (name → text typed into a text field, or the
    option label of a select). ``unpause``: leave "Unpause on trigger" ticked (the default). ``trigger``:
    submit the form (else only open it and check its sections). ``expect_state``: the run's final state.
    ``expect_file``: a file name the run must publish in its partition (opened through the outputs page;
    ``partition`` names it, default the window's first day). ``expect_no_writes``: the sandbox's write
    journal must not grow (a dry run). ``first_section``: the section shown first (the write choice's).
    ``expect_chart``: the partition shows a chart image, which the browser loads (a PNG, the stored bytes).
    """

    dag_id: str
    window: tuple[tuple[str, str], tuple[str, str]] | None = None
    fields: dict[str, str] = field(default_factory=dict)
    unpause: bool = True
    trigger: bool = True
    expect_state: str | None = "success"
    expect_file: str | None = None
    partition: str | None = None
    expect_no_writes: bool = False
    first_section: str | None = None
    run_timeout_s: float = 300.0
    expect_chart: bool = False


def browser_missing() -> str:
    """'' when the browser and the driver package are there; else why not, with the install hint."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"the Python package `playwright` is missing: {INSTALL_HINT}"
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        return f"{CHROMIUM} is missing: {INSTALL_HINT}"
    return ""


@contextmanager
def chromium(viewport: tuple[int, int] = (1400, 1000)) -> Iterator[Any]:
    """A browser context on a fresh profile (removed afterwards)."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=shutil.which("chromium") or CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": viewport[0], "height": viewport[1]},
            )
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


class AirflowPage:
    """A logged-in page of the Airflow UI, saving a screenshot of each step to ``shots``."""

    def __init__(self, context: Any, url: str, shots: Path) -> None:
        self.context, self.url, self.shots = context, url.rstrip("/"), shots
        self.page = context.new_page()
        self.page.set_default_timeout(30_000)
        shots.mkdir(parents=True, exist_ok=True)
        self._n = 0

    def shot(self, name: str) -> Path:
        self._n += 1
        path = self.shots / f"{self._n:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def login(self) -> None:
        page = self.page
        page.goto(f"{self.url}/")
        page.get_by_label("Username").fill(LOGIN[0])
        page.get_by_label("Password").fill(LOGIN[1])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{self.url}/", timeout=60_000)
        assert any(c["name"] == "_token" for c in self.context.cookies()), "no _token cookie after login"

    # -- the trigger form ---------------------------------------------------------------------------
    def open_trigger_form(self, dag_id: str) -> Any:
        self.page.goto(f"{self.url}/dags/{dag_id}")
        self.page.get_by_role("button", name="Trigger").first.click()
        dialog = self.page.get_by_role("dialog")
        dialog.get_by_text(f"Trigger Dag - {dag_id}").wait_for()
        self.shot(f"{dag_id}-form")
        return dialog

    def sections_in_order(self, dialog: Any, titles: list[str]) -> list[str]:
        """Which of ``titles`` the form shows as accordion sections (docs/forms.md: one per ``section``),
        top to bottom; a title missing from the form is missing from the answer."""
        found = {}
        for title in titles:
            button = dialog.locator("button", has_text=re.compile(rf"^\s*{re.escape(title)}\s*!?\s*$")).first
            if button.count():
                found[title] = button.bounding_box()["y"]
        return sorted(found, key=found.__getitem__)

    def _field_row(self, dialog: Any, name: str) -> Any:
        """The form row of param ``name``, opening its accordion section if needed."""
        target = dialog.locator(f'[name="element_{name}"], #element_{name}')
        if not target.count():  # a date-time picker has no element_ name: find the row by label
            target = dialog.locator("[role=group]", has_text=name)
        if not target.first.is_visible():
            # all section buttons (open or closed): their order is stable while one opens and another closes
            sections = dialog.locator("button[aria-expanded]")
            for i in range(sections.count()):
                if sections.nth(i).get_attribute("aria-expanded") == "false":
                    sections.nth(i).click()
                if target.first.is_visible():
                    break
        return target.first.locator("xpath=ancestor-or-self::div[@role='group'][1]")

    def set_date(self, dialog: Any, name: str, day: str) -> str:
        """Set param ``name`` to ``day`` the way its widget takes it; returns which widget it was."""
        row = self._field_row(dialog, name)
        picker = row.get_by_test_id("datetime-input")
        if picker.count():  # format: date-time → popover with date and time fields
            picker.click()
            popover = self.page.locator("[data-scope=popover][data-part=content][data-state=open]").first
            popover.get_by_placeholder("YYYY/MM/DD").fill(day.replace("-", "/"))
            popover.get_by_placeholder("HH:mm").fill("00:00")
            self.page.keyboard.press("Escape")
            return "date-time picker"
        box = row.locator(f'[name="element_{name}"]')
        if box.get_attribute("type") == "date":  # format: date → native date input
            box.fill(day)
            return "date input"
        box.fill(day)
        return "text field"

    def set_field(self, dialog: Any, name: str, value: str) -> None:
        row = self._field_row(dialog, name)
        box = row.locator(f'[name="element_{name}"]')
        if box.count() and box.evaluate("e => e.tagName") in ("INPUT", "TEXTAREA"):
            box.fill(value)
            return
        row.locator(f"#element_{name}").click()  # a select: pick the option by its label
        self.page.get_by_role("option", name=value, exact=True).click()

    def submit(self, dialog: Any, dag_id: str, unpause: bool) -> None:
        label = f"Unpause {dag_id} on trigger"
        box = dialog.get_by_label(label)
        if box.count() and box.is_checked() != unpause:
            dialog.get_by_text(label, exact=True).click()  # the label, as a person clicks it (the input is covered)
            assert box.is_checked() == unpause, f"could not set '{label}' to {unpause}"
        self.shot(f"{dag_id}-form-filled")
        button = dialog.get_by_role("button", name="Trigger")
        assert button.is_enabled(), "the Trigger button is disabled: a field of the form is invalid"
        button.click()
        dialog.wait_for(state="detached", timeout=60_000)

    # -- the outputs page -----------------------------------------------------------------------------
    def open_outputs_tab(self, dag_id: str) -> Any:
        """The DAG's *Outputs* tab (the plugin's external view); returns the frame of the page inside it."""
        self.page.goto(f"{self.url}/dags/{dag_id}")
        # exact: the menu's "Genesys outputs" entry is a link too
        tab = self.page.get_by_role("link", name="Outputs", exact=True).or_(
            self.page.get_by_role("tab", name="Outputs", exact=True))
        # a DAG page with many mapped task instances renders slowly on 2 busy cores: wait as a person would
        tab.first.click(timeout=90_000)
        frame = self.page.frame_locator("iframe").first
        frame.locator("h1").wait_for(timeout=90_000)
        self.shot(f"{dag_id}-outputs")
        return frame
