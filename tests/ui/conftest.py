import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Lets the page fixture save a screenshot of what the browser showed when a test failed.
    outcome = yield
    if outcome.get_result().failed:
        item.failed = True
