"""Production settings (DJANGO_DEBUG=0), proven in fresh processes started like production starts them.

A process without its secret key or host names stops at once naming what is missing; with them it passes
`check --deploy` at warning level; the check is real (turning the HTTPS redirect off fails it); a bad LOG_FORMAT
stops the process with a clear message. Settings are read once per process, hence the subprocesses.
"""

import json
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

TIMEOUT_SECONDS = 60
HOSTS = "portal.example.cn,10.0.0.5"


def secret_key() -> str:
    return secrets.token_urlsafe(45)  # 60 characters


@pytest.fixture
def run(tmp_path):
    """`run("check", "--deploy", DJANGO_DEBUG="0", ...)`: manage.py in a fresh process, with only the DJANGO_*
    variables given here (none inherited from whoever runs the tests) and a database of its own."""

    def run(*args: str, **variables: str) -> subprocess.CompletedProcess:
        env = {name: value for name, value in os.environ.items() if not name.startswith("DJANGO_")}
        env.pop("LOG_FORMAT", None)
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
        env.update(variables)
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
        )

    return run


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"])
def test_production_without_a_required_variable_stops_naming_it(run, missing):
    # Given production mode with one required variable left out
    required = {"DJANGO_SECRET_KEY": secret_key(), "DJANGO_ALLOWED_HOSTS": HOSTS}
    given = {name: value for name, value in required.items() if name != missing}
    # When any management command starts
    result = run("check", DJANGO_DEBUG="0", **given)
    # Then the process stops before doing anything, naming that variable and only that one
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {missing} must be set when DJANGO_DEBUG=0" in result.stderr
    assert "System check" not in result.stdout


def test_production_with_its_variables_passes_the_deployment_check(run):
    # Given production mode with a long random key and the host names
    # When Django's deployment check runs, failing on warnings
    result = run(
        "check", "--deploy", "--fail-level", "WARNING", DJANGO_DEBUG="0", DJANGO_SECRET_KEY=secret_key(),
        DJANGO_ALLOWED_HOSTS=HOSTS,
    )  # fmt: skip
    # Then it passes: HSTS, the HTTPS redirect, secure cookies, no framing
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deployment_check_is_real_and_only_the_preload_warning_is_silenced(run):
    # Given production with the HTTPS redirect turned off and HSTS preload declined
    # When the deployment check runs
    result = run(
        "check", "--deploy", "--fail-level", "WARNING", DJANGO_DEBUG="0", DJANGO_SECRET_KEY=secret_key(),
        DJANGO_ALLOWED_HOSTS=HOSTS, DJANGO_SECURE_SSL_REDIRECT="0", DJANGO_HSTS_PRELOAD="0",
    )  # fmt: skip
    output = result.stdout + result.stderr
    # Then it fails on the redirect, and the declined preload is not held against the site
    assert result.returncode != 0
    assert "security.W008" in output
    assert "security.W021" not in output


def test_production_settings_are_the_safe_ones(run):
    # Given production mode, asking browsers to preload HSTS
    script = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'debug': s.DEBUG, 'static': s.STORAGES['staticfiles']['BACKEND'], 'ssl_redirect': s.SECURE_SSL_REDIRECT,"
        "'hsts': s.SECURE_HSTS_SECONDS, 'preload': s.SECURE_HSTS_PRELOAD, 'silenced': s.SILENCED_SYSTEM_CHECKS,"
        "'session_secure': s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE,"
        "'frame': s.X_FRAME_OPTIONS, 'proxy_ssl': s.SECURE_PROXY_SSL_HEADER, 'log_format': s.LOG_FORMAT}))"
    )
    # When the settings are read in a fresh process
    result = run(
        "shell", "-v", "0", "-c", script, DJANGO_DEBUG="0", DJANGO_SECRET_KEY=secret_key(),
        DJANGO_ALLOWED_HOSTS=HOSTS, DJANGO_HSTS_PRELOAD="1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    # Then every production default holds, static files are hashed and compressed by WhiteNoise, logs are JSON
    assert values["debug"] is False
    assert values["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert values["ssl_redirect"] is True and values["hsts"] >= 365 * 24 * 3600
    assert values["session_secure"] is True and values["csrf_secure"] is True
    assert values["frame"] == "DENY"
    assert values["proxy_ssl"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["log_format"] == "json"
    # And the preload the operator asked for is on, its warning no longer silenced
    assert values["preload"] is True
    assert "security.W021" not in values["silenced"]


def test_an_unknown_log_format_stops_the_process_saying_so(run):
    # Given a log format nobody supports
    # When a command starts
    result = run("check", LOG_FORMAT="xml")
    # Then it stops with a message naming the variable, the bad value and the good ones
    assert result.returncode != 0
    assert "LOG_FORMAT must be json or text, not 'xml'" in result.stderr
