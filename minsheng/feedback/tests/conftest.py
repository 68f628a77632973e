import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # The org fixture hashes a password per user; PBKDF2 at full strength dominates test time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
