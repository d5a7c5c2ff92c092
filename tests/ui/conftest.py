import pytest

from tests.ui.test_browser import CHROMIUM, CHROMIUM_ARGS, SHOTS


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Lets the page fixture save a screenshot of what the browser showed when a test failed.
    outcome = yield
    if outcome.get_result().failed:
        item.failed = True


@pytest.fixture
def browser(request):
    """Debian's Chromium and a list to put pages in: each gets a screenshot if the test fails."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pages = []
        yield chromium, pages
        if getattr(request.node, "failed", False):  # what each page showed when the test failed
            for i, page in enumerate(pages):
                page.screenshot(path=str(SHOTS / f"FAILED-{request.node.name}-{i}.png"))
        chromium.close()
