"""Production settings: HTTPS follows SITE_URL, DEBUG is off by default, no published key runs, CSP everywhere."""

import secrets
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests import live
from tests.test_foundation import run_manage

ROOT = Path(__file__).resolve().parent.parent.parent
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "followthrough.example.com,127.0.0.1",
}


def test_check_deploy_is_clean_with_an_https_site_url():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, SITE_URL="https://followthrough.example.com"
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_about_an_http_site_url():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, SITE_URL="http://10.0.0.5:8000")
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT" in result.stderr


@pytest.mark.parametrize(
    "key",
    [
        "django-insecure-development-only-key-change-me-in-production",
        "change-me-to-a-long-random-string-before-going-live",
    ],
)
def test_a_published_key_never_runs_with_debug_off(key):
    result = run_manage("check", DEBUG="false", SECRET_KEY=key)
    assert result.returncode != 0
    assert "published development key" in result.stderr


def test_debug_is_off_unless_asked_for():
    result = run_manage(
        "shell", "--no-imports", "-c", "from django.conf import settings; print(settings.DEBUG)", SECRET_KEY="k" * 50
    )
    assert result.stdout.strip() == "False", result.stderr


def test_hsts_preload_and_subdomains_are_opt_in():
    code = (
        "from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.SECURE_HSTS_PRELOAD, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE)"
    )
    https = run_manage("shell", "--no-imports", "-c", code, **PRODUCTION, SITE_URL="https://followthrough.example.com")
    assert https.stdout.split() == ["31536000", "False", "False", "True", "True"], https.stderr
    opted = run_manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        **PRODUCTION,
        SITE_URL="https://followthrough.example.com",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
        SECURE_HSTS_PRELOAD="true",
    )
    assert opted.stdout.split()[1:3] == ["True", "True"]
    plain = run_manage("shell", "--no-imports", "-c", code, **PRODUCTION, SITE_URL="http://10.0.0.5:8000")
    assert plain.stdout.split() == ["0", "False", "False", "False", "False"], plain.stderr


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_gunicorn_with_debug_off_serves_plain_http_on_an_http_site_url(tmp_path, agent):
    """As the contract's outside tests run it: DEBUG=0, an http:// SITE_URL, a real gunicorn."""
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "--verbosity", "0"],
        cwd=ROOT,
        env=live.process_env(**PRODUCTION),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collected.returncode == 0, collected.stderr
    with live.gunicorn_web(tmp_path, **PRODUCTION) as base_url:
        # No redirect to https, the page itself
        opener = urllib.request.build_opener(NoRedirects())
        response = opener.open(f"{base_url}/accounts/login/", timeout=20)
        assert response.status == 200
        page = response.read().decode()
        assert "Log in" in page
        assert "Strict-Transport-Security" not in response.headers
        cookie = response.headers.get("Set-Cookie", "")
        assert "csrftoken=" in cookie and "Secure" not in cookie  # a Secure cookie would never come back over http
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        # Static files are served with DEBUG off
        assert opener.open(f"{base_url}/static/js/app.js", timeout=20).status == 200
        # The customer's status link works over plain http as well
        from commitments.status_links import token_for
        from tests.factories import make_commitment

        commitment = make_commitment(actor=agent)
        status = opener.open(f"{base_url}/s/{token_for(commitment.status_token_nonce)}/", timeout=20)
        assert status.status == 200 and commitment.summary in status.read().decode()
    # The token never reached gunicorn's access log
    log = (tmp_path / "web.log").read_text()
    assert "GET /s/[redacted]/" in log
    assert token_for(commitment.status_token_nonce) not in log


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        raise AssertionError(f"redirected: {args[-1]}")


def test_every_page_carries_a_policy_with_no_inline_script(client, agent):
    client.force_login(agent)
    for path in ("/", "/commitments/new/", "/api/v1/docs/", "/accounts/login/", "/admin/login/"):
        response = client.get(path)
        policy = response["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
        assert directives["script-src"] == "'self'", path
        assert directives["frame-ancestors"] == "'none'", path
        # and the page itself has no inline script or handler
        page = response.content.decode()
        assert "<script>" not in page and " onclick=" not in page and " onload=" not in page, path
