import pytest


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    """Staff passwords are hashed once per user made; the slow production hasher is not under test here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
