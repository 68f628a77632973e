import pytest

# The browser fixtures (Debian chromium, live database with the audit triggers lifted for flushes) are
# the console's; the citizen-page browser tests reuse them.
from minsheng.console.tests.test_browser import (  # noqa: F401
    _audit_triggers_back_after_module,
    browser,
    live_db,
)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # The org fixture hashes a password per user; PBKDF2 at full strength dominates test time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _captcha_only_when_asked(settings):
    # The captcha appears after FEEDBACK_CAPTCHA_AFTER submissions from one address; every test client
    # is 127.0.0.1, so tests that are not about the captcha raise the threshold out of the way.
    settings.FEEDBACK_CAPTCHA_AFTER = 10_000
