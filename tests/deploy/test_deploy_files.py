"""The deploy files agree with each other and with what they start (deploy/, .env.example, tracker/settings.py).

No Docker needed: the compose file is read as YAML, the rest as text. .ci/deploy-check runs the real linters.
"""

import json
import os
import re
import runpy
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
APP_COMMANDS = {"release", "web", "worker", "beat"}
NGINX_CONFS = [DEPLOY / "nginx.conf", DEPLOY / "nginx-host.conf"]
SHELL_VARIABLES = {"BASH_SOURCE", "HOME", "PATH", "PWD"}  # bash's own, not settings


# --- readers ------------------------------------------------------------------------------------------------------


def documented_variables() -> set[str]:
    """Every NAME of .env.example, set (NAME=) or commented out with its default (#NAME=)."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {match[1] for line in lines if (match := re.match(r"#?([A-Z][A-Z0-9_]*)=", line))}


def compose_services() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]


def app_services() -> dict:
    """The services that run the tracker's image: built from deploy/Dockerfile, or named like what it builds."""
    services = compose_services()
    images = {service["image"] for service in services.values() if "build" in service}
    return {name: service for name, service in services.items() if "build" in service or service.get("image") in images}


def gunicorn_config(monkeypatch) -> dict:
    """deploy/gunicorn.conf.py evaluated with its defaults (no GUNICORN_* in the environment)."""
    for name in [name for name in os.environ if name.startswith("GUNICORN_")]:
        monkeypatch.delenv(name)
    return runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile's last stage, continuation lines joined, comments dropped."""
    text = (DEPLOY / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    instructions = [tuple(line.strip().split(None, 1)) for line in joined.splitlines() if line.strip()]
    last_from = max(index for index, (name, *_) in enumerate(instructions) if name.upper() == "FROM")
    return [(name.upper(), rest[0] if rest else "") for name, *rest in instructions[last_from:]]


def unit(name: str) -> dict[str, list[str]]:
    """A systemd unit's Key=Value lines (keys may repeat)."""
    values: dict[str, list[str]] = {}
    for line in (DEPLOY / "systemd" / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def seconds(duration: str) -> float:
    """'40s', '1min', '1m30s' (systemd and compose durations) in seconds."""
    factors = {"h": 3600, "min": 60, "m": 60, "s": 1, "": 1}
    parts = re.findall(r"(\d+)\s*(min|h|m|s|)", duration)
    assert parts, f"not a duration: {duration!r}"
    return sum(int(number) * factors[suffix] for number, suffix in parts)


def size_bytes(size: str) -> int:
    number, suffix = re.fullmatch(r"(\d+)([kKmMgG]?)", size).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[suffix.lower()]


def nginx_tokens(path: Path) -> list[str]:
    """nginx's configuration as tokens: words, quoted strings, '{', '}' and ';' (comments dropped)."""
    pattern = r"""#[^\n]*|'[^']*'|"[^"]*"|[{};]|[^\s{};'"#]+"""
    return [token for token in re.findall(pattern, path.read_text()) if not token.startswith("#")]


def nginx_blocks(path: Path) -> list[dict]:
    """The configuration as a tree: each node {"directive": [words], "children": [nodes] or None}."""
    root: list[dict] = []
    stack, words = [root], []
    for token in nginx_tokens(path):
        if token == ";":
            stack[-1].append({"directive": words, "children": None})
            words = []
        elif token == "{":
            node = {"directive": words, "children": []}
            stack[-1].append(node)
            stack.append(node["children"])
            words = []
        elif token == "}":
            stack.pop()
        else:
            words.append(token)
    return root


def directives(nodes: list[dict], name: str) -> list[list[str]]:
    """The arguments of every `name` directive anywhere below nodes."""
    found = []
    for node in nodes:
        if node["directive"] and node["directive"][0] == name:
            found.append(node["directive"][1:])
        if node["children"]:
            found += directives(node["children"], name)
    return found


def nodes_named(nodes: list[dict], name: str) -> list[dict]:
    return [node for node in nodes if node["directive"] and node["directive"][0] == name]


def servers(path: Path) -> list[list[dict]]:
    """The contents of each server { } block."""
    return [node["children"] for node in nodes_named(nginx_blocks(path), "server") if node["children"] is not None]


# --- compose ------------------------------------------------------------------------------------------------------


def test_every_app_service_runs_the_image_with_a_deploy_tracker_command():
    # given the services that run the tracker's image
    services = app_services()

    # then each runs one deploy/tracker command through the image's entrypoint, and every command has its service
    for name, service in services.items():
        assert "entrypoint" not in service, f"{name} replaces deploy/tracker as the entrypoint"
        assert service.get("command") in [[command] for command in APP_COMMANDS], f"{name}: {service.get('command')}"
    assert sorted(service["command"][0] for service in services.values()) == sorted(APP_COMMANDS)


def test_exactly_one_beat_runs():
    # given the compose file
    services = app_services()

    # when the services that run beat are counted, with their replicas
    beats = [service for service in services.values() if service["command"] == ["beat"]]

    # then there is one, with one replica
    assert len(beats) == 1
    assert beats[0].get("deploy", {}).get("replicas", 1) == 1


def test_web_worker_and_beat_start_only_after_the_release_succeeded():
    # given the long-running app services
    services = app_services()
    running = {name: service for name, service in services.items() if service["command"] != ["release"]}

    # then each waits for release to exit 0, and release itself is never restarted
    for name, service in running.items():
        assert service["depends_on"]["release"] == {"condition": "service_completed_successfully"}, name
    (release,) = [service for service in services.values() if service["command"] == ["release"]]
    assert release["restart"] == "no"


def test_only_the_proxy_is_reachable_from_outside():
    # given the compose file
    services = compose_services()

    # then only the proxy publishes ports, and it waits for a healthy web
    assert [name for name, service in services.items() if service.get("ports")] == ["proxy"]
    assert services["proxy"]["depends_on"]["web"] == {"condition": "service_healthy"}


def test_every_variable_compose_gives_the_app_is_documented():
    # given the app services' environment and every ${VAR} the compose file interpolates
    text = (DEPLOY / "compose.yaml").read_text()
    interpolated = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    environment = {key for service in app_services().values() for key in service.get("environment", {})}

    # when they are looked up in .env.example (which the operator copies to deploy/.env)
    missing = sorted((interpolated | environment) - documented_variables())

    # then none is missing
    assert missing == [], f"not in .env.example: {missing}"


# --- the processes' own variables ---------------------------------------------------------------------------------


def test_every_variable_read_by_gunicorn_conf_and_deploy_tracker_is_documented():
    # given the variables deploy/gunicorn.conf.py and deploy/tracker read
    gunicorn = (DEPLOY / "gunicorn.conf.py").read_text()
    script = (DEPLOY / "tracker").read_text()
    read = set(re.findall(r"""(?:environ\.get|_int)\(\s*["']([A-Z][A-Z0-9_]*)["']""", gunicorn))
    read |= set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", script)) - SHELL_VARIABLES
    assert {"GUNICORN_BIND", "CELERY_WORKER_CONCURRENCY"} <= read  # the readers above still see them

    # then every one is in .env.example
    assert sorted(read - documented_variables()) == []


def test_every_variable_read_by_settings_is_documented():
    # given every env.<type>("NAME", …) in tracker/settings.py
    text = (ROOT / "tracker" / "settings.py").read_text()
    read = set(re.findall(r"""\benv\.\w+\(\s*["']([A-Z][A-Z0-9_]*)["']""", text))
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "API_MAX_BODY_BYTES"} <= read

    # then every one is in .env.example
    assert sorted(read - documented_variables()) == []


# --- the image ----------------------------------------------------------------------------------------------------


def test_the_image_starts_deploy_tracker_as_a_user_other_than_root():
    # given the runtime stage of the Dockerfile
    instructions = dockerfile_instructions()

    # when its entrypoint, command and last user are read
    entrypoint = [json.loads(args) for name, args in instructions if name == "ENTRYPOINT"][-1]
    command = [json.loads(args) for name, args in instructions if name == "CMD"][-1]
    user = [args for name, args in instructions if name == "USER"][-1]

    # then it is deploy/tracker, with one of its commands, and not as root
    assert entrypoint == ["/app/deploy/tracker"]
    assert command[0] in APP_COMMANDS
    assert user.split(":")[0] not in {"root", "0"}


def test_the_image_bakes_in_no_secret_and_only_documented_settings():
    # given the ENV and ARG of the runtime stage
    instructions = dockerfile_instructions()
    text = " ".join(args for name, args in instructions if name in {"ENV", "ARG"})
    names = set(re.findall(r"\b([A-Z][A-Z0-9_]*)=", text))

    # then no secret is among them, and each setting (not Python's own) is documented
    assert "DJANGO_SECRET_KEY" not in names
    assert sorted(name for name in names - documented_variables() if not name.startswith(("PYTHON", "PATH"))) == []


# --- systemd ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", sorted(APP_COMMANDS))
def test_each_systemd_unit_runs_deploy_tracker_like_the_image(command):
    # given the unit of one process
    values = unit(f"tracker-{command}.service")

    # then it runs the same deploy/tracker command as compose, as tracker, with the settings file
    assert values["ExecStart"] == [f"/opt/tracker/deploy/tracker {command}"]
    assert values["User"] == ["tracker"]
    assert values["EnvironmentFile"] == ["/etc/tracker/tracker.env"]
    assert values["PartOf"] == ["tracker.target"]
    assert values["ReadWritePaths"] == ["/srv/tracker"]


def test_tracker_target_starts_web_worker_and_beat_after_a_successful_release():
    # given the target and the units
    wanted = " ".join(unit("tracker.target")["Wants"]).split()

    # then the target wants all four, release is a oneshot, and the others require it and start after it
    assert sorted(wanted) == sorted(f"tracker-{command}.service" for command in APP_COMMANDS)
    assert unit("tracker-release.service")["Type"] == ["oneshot"]
    for command in APP_COMMANDS - {"release"}:
        values = unit(f"tracker-{command}.service")
        assert "tracker-release.service" in " ".join(values["Requires"]).split()
        assert "tracker-release.service" in " ".join(values["After"]).split()


def test_web_is_given_gunicorns_graceful_timeout_to_stop(monkeypatch):
    # given gunicorn's graceful timeout
    graceful = gunicorn_config(monkeypatch)["graceful_timeout"]

    # then systemd and compose wait longer than that before killing web
    assert seconds(unit("tracker-web.service")["TimeoutStopSec"][0]) > graceful
    assert seconds(compose_services()["web"]["stop_grace_period"]) > graceful


# --- nginx --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", NGINX_CONFS, ids=lambda path: path.name)
def test_the_proxy_lets_django_answer_oversized_bodies_and_matches_gunicorns_limits(path, monkeypatch):
    # given gunicorn's limits, Django's body limit and the proxy's configuration
    gunicorn = gunicorn_config(monkeypatch)
    tree = nginx_blocks(path)

    # when the proxy's limits are read
    (body,) = directives(tree, "client_max_body_size")
    (buffers,) = directives(tree, "large_client_header_buffers")
    read_timeouts = {seconds(args[0]) for args in directives(tree, "proxy_read_timeout")}

    # then a body Django may accept passes (a larger one gets Django's JSON 413), a request line that fits the
    # proxy's buffer fits gunicorn's limit (with its CRLF), and the proxy outwaits gunicorn's worker timeout
    assert size_bytes(body[0]) >= settings.API_MAX_BODY_BYTES
    assert size_bytes(buffers[1]) == gunicorn["limit_request_line"] + len("\r\n")
    assert size_bytes(buffers[1]) == gunicorn["limit_request_field_size"] + len("\r\n")
    assert read_timeouts and min(read_timeouts) > gunicorn["timeout"]


@pytest.mark.parametrize("path", NGINX_CONFS, ids=lambda path: path.name)
def test_every_proxied_request_carries_the_proxys_scheme_host_and_request_id(path):
    # given every location that passes requests to gunicorn
    for server in servers(path):
        for location in nodes_named(server, "location"):
            if not directives(location["children"], "proxy_pass"):
                continue

            # when its headers are read (a location's own proxy_set_header replace all of the server's)
            headers = directives(location["children"], "proxy_set_header") or directives(
                [node for node in server if node["children"] is None], "proxy_set_header"
            )

            # then the client cannot choose the scheme Django trusts (DJANGO_TRUST_X_FORWARDED_PROTO)
            assert ["X-Forwarded-Proto", "$scheme"] in headers, location["directive"]
            assert ["Host", "$host"] in headers
            assert ["X-Request-ID", "$request_id"] in headers


@pytest.mark.parametrize("path", NGINX_CONFS, ids=lambda path: path.name)
def test_the_proxy_serves_no_file_from_disk(path):
    # given the proxy's configuration
    tree = nginx_blocks(path)

    # then nothing maps a URL to a folder: attachments (PRIVATE_MEDIA_ROOT) only ever come through Django
    for name in ("root", "alias", "try_files", "autoindex"):
        assert directives(tree, name) == [], f"{path.name} has {name}"
    assert "/srv/tracker" not in " ".join(nginx_tokens(path))


def test_the_proxy_container_has_no_access_to_the_files():
    # given the proxy's volumes and the app's
    services = compose_services()
    proxy_sources = {volume.split(":")[0] for volume in services["proxy"].get("volumes", [])}
    app_sources = {volume.split(":")[0] for service in app_services().values() for volume in service["volumes"]}

    # then the proxy mounts none of the app's volumes
    assert proxy_sources & app_sources == set()


def test_the_compose_and_host_proxies_differ_only_in_upstream_and_certificates():
    # given both configurations, directive by directive
    compose, host = (nginx_tokens(path) for path in NGINX_CONFS)

    # when the words that may differ are set aside
    differing = [(one, other) for one, other in zip(compose, host, strict=True) if one != other]

    # then what differs is the upstream's address and the certificate folder
    assert differing == [
        ("web:8000", "127.0.0.1:8000"),
        ("/etc/nginx/certs/fullchain.pem", "/etc/ssl/tracker/fullchain.pem"),
        ("/etc/nginx/certs/privkey.pem", "/etc/ssl/tracker/privkey.pem"),
    ]
