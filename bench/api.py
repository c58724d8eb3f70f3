"""How fast the REST API answers under concurrent load, served by gunicorn: prints a table, asserts nothing.

    .venv/bin/python bench/api.py                       # PostgreSQL tracker_bench10, zone x10, defaults below
    .venv/bin/python bench/api.py --database-url postgres://postgres@127.0.0.1:5432/tracker_bench1 --scale 1
    .venv/bin/python bench/api.py --bare-only --rounds 20      # only the API against the bare view, interleaved

The script migrates the database (creating it first if it is a missing PostgreSQL database), loads the demo zone
at --scale unless it is already there, issues API tokens for a leader, the concierge with the most cases and an
enterprise user, starts gunicorn on 127.0.0.1 (DEBUG off, throttling out of the way, Celery tasks run in the web
process), and sends --requests requests per scenario from --concurrency client threads, each with its own
keep-alive session. Then it compares the leader's case list with a bare Django view answering the same bytes from
one SQL statement (bench/bare.py, mounted only in the bench's own URLconf, bench/bare_settings.py): it checks the
two bodies are byte-identical, sends --requests to each in --rounds alternating rounds (so both see the same load
on the machine) and prints the API's share of the bare view's throughput.

Gunicorn's sync workers close the connection after each answer, so most requests open a
new TCP connection; that is how the application would be served. Latencies include errors.

What it leaves behind: the tokens it issued are deleted at the end, also on Ctrl-C or an error. The cases the
submit scenario writes (--requests of them, titled "压测诉求 …", channel api, for the enterprise user's
enterprise) stay in the database: a case's events are append-only (a trigger refuses deletes), so they cannot be
cleaned up without defeating that guarantee. Use a database meant for benchmarks.
"""

import argparse
import itertools
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tracker_bench10"
SAMPLE_SEED = 20261121  # the same case ids are read on every run of the same database
SUBMIT_TITLE = "压测诉求"  # the title of every case the submit scenario writes


@dataclass(frozen=True)
class Scenario:
    label: str
    username: str
    key: str
    # Request number → (method, path, JSON body or None).
    request: Callable[[int], tuple[str, str, dict | None]]


@dataclass
class Outcome:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    seconds: float = 0.0
    bodies: list[dict] = field(default_factory=list)  # of successful POSTs, to report what was written


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=7"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def load_average() -> str:
    """The 1-minute load average against the cores: other work on the machine skews every figure."""
    try:
        return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    except OSError:
        return "load unknown"


def percentile(sorted_values: list[float], share: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(share * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


# Setting up: database, zone, tokens (Django in this process, before gunicorn starts) ---------------------------


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    os.environ["DJANGO_DEBUG"] = "0"  # no query log kept in this process either
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(32))
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")  # required when DEBUG is off
    import django

    django.setup()


def ensure_database() -> None:
    """Create the PostgreSQL database named in DATABASE_URL when it does not exist yet."""
    from django.db import OperationalError, connection

    try:
        connection.ensure_connection()
    except OperationalError as error:
        if connection.vendor != "postgresql" or "does not exist" not in str(error):
            raise
        name = connection.settings_dict["NAME"]
        print(f"creating database {name}")
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")


def ensure_zone(scale: int) -> None:
    """Migrate, then load the demo zone's blocks 0..scale-1 unless they are all there."""
    from django.core.management import call_command

    from seeds.generator import marker_username
    from tracker.models import User

    call_command("migrate", interactive=False, verbosity=0)
    markers = [marker_username(block) for block in range(scale)]
    if User.objects.filter(username__in=markers).count() == scale:
        return
    print(f"loading the demo zone x{scale} (about 5 s per block on PostgreSQL)…", flush=True)
    started = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        call_command("seed", demo=True, scale=scale, stdout=quiet)
    print(f"loaded in {time.perf_counter() - started:.0f} s", flush=True)


def pick_people() -> dict[str, object]:
    """The leader, the concierge with the most cases, and an enterprise user (the demo logins where present)."""
    from django.db.models import Count

    from services.roles import Role
    from tracker.models import Case, User

    leader = User.objects.filter(username="leader01").first() or (
        User.objects.filter(groups__name=Role.LEADER, is_active=True).order_by("id").first()
    )
    busiest = (
        # Not counting earlier runs' submissions, so repeated runs measure the same concierge.
        Case.objects.filter(concierge__isnull=False, concierge__is_active=True)
        .exclude(title__startswith=SUBMIT_TITLE)
        .values("concierge")
        .annotate(cases=Count("id"))
        .order_by("-cases", "concierge")
        .first()
    )
    enterprise_user = User.objects.filter(username="ent0001", is_active=True).first() or (
        User.objects.filter(enterprise__isnull=False, is_active=True).order_by("id").first()
    )
    if leader is None or busiest is None or enterprise_user is None:
        sys.exit("the database holds no leader, concierge with cases or enterprise user: is the zone loaded?")
    return {
        "leader": leader,
        "concierge": User.objects.get(pk=busiest["concierge"]),
        "concierge_cases": busiest["cases"],
        "enterprise": enterprise_user,
    }


def issue_tokens(people: dict[str, object]) -> tuple[dict[str, str], list[int]]:
    from services.api_tokens import create_token

    keys, token_ids = {}, []
    for role in ("leader", "concierge", "enterprise"):
        token, key = create_token(actor=None, user=people[role], name="bench/api.py")
        keys[role] = key
        token_ids.append(token.pk)
    return keys, token_ids


def delete_tokens(token_ids: list[int]) -> None:
    from tracker.models import ApiToken

    ApiToken.objects.filter(pk__in=token_ids).delete()


def zone_counts() -> dict[str, int]:
    from tracker.models import Case, Task

    return {"cases": Case.objects.count(), "tasks": Task.objects.count()}


def case_id_sample(size: int) -> list[int]:
    from tracker.models import Case

    ids = list(Case.objects.values_list("id", flat=True))
    return random.Random(SAMPLE_SEED).sample(ids, min(size, len(ids)))


# The server ---------------------------------------------------------------------------------------------------


def start_gunicorn(args, log_path: Path, *, env: dict | None = None, options: tuple = ()) -> subprocess.Popen:
    """Gunicorn on the product's WSGI app, DEBUG off, no throttling, tasks in the web process; `env` adds to or
    overrides its environment and `options` to its command line (bench/submit.py's config module)."""
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",  # spoken to directly over HTTP, with no TLS proxy in front
        "API_THROTTLE_RATE": "1000000/s",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "tracker.wsgi:application",
        *options,
        f"--bind=127.0.0.1:{args.port}",
        f"--workers={args.workers}",
        f"--chdir={ROOT}",
        "--log-level=warning",
    ]
    with open(log_path, "wb") as log:
        # Its own session: Ctrl-C reaches only this script, which then stops gunicorn itself.
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_answering(server: subprocess.Popen, base_url: str, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with {server.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            requests.get(f"{base_url}/api/v1/categories/", timeout=5)
            return  # any answer (401 without a token) means a worker is serving
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or workers still booting
            time.sleep(0.2)
    sys.exit(f"gunicorn did not answer within {timeout:.0f} s:\n{log_path.read_text(errors='replace')[-3000:]}")


def stop_gunicorn(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.terminate()  # SIGTERM: the arbiter stops its workers
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


# The load -----------------------------------------------------------------------------------------------------


def run(scenario: Scenario, base_url: str, concurrency: int, total: int, keep_bodies: bool = False) -> Outcome:
    """Send `total` requests from `concurrency` threads, each with its own keep-alive session."""
    outcome = Outcome()
    numbers = itertools.count()
    lock = threading.Lock()
    stop = threading.Event()

    def client() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {scenario.key}"
        latencies = []
        while not stop.is_set():
            with lock:
                number = next(numbers)
            if number >= total:
                break
            method, path, body = scenario.request(number)
            started = time.perf_counter()
            try:
                response = session.request(method, base_url + path, json=body, timeout=120)
                failed = not 200 <= response.status_code < 300
                detail = f"HTTP {response.status_code}: {response.text[:500]}" if failed else ""
            except requests.RequestException as error:
                failed, detail, response = True, f"{type(error).__name__}: {error}", None
            latencies.append((time.perf_counter() - started) * 1000)
            with lock:
                if failed:
                    outcome.errors += 1
                    outcome.first_error = outcome.first_error or f"{method} {path} → {detail}"
                elif keep_bodies:
                    outcome.bodies.append(response.json())
        session.close()
        with lock:
            outcome.latencies_ms.extend(latencies)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        stop.set()
    outcome.seconds = time.perf_counter() - started
    return outcome


def build_scenarios(keys, people, case_ids, categories) -> list[tuple[Scenario, bool]]:
    """(scenario, whether it writes) in the order they run."""
    leader, concierge, enterprise = people["leader"], people["concierge"], people["enterprise"]
    run_tag = time.strftime("%Y%m%d-%H%M%S")

    def submit(number: int):
        body = {
            "category": categories[number % len(categories)],
            "title": f"{SUBMIT_TITLE} {run_tag}-{number:05d}",
            "description": "bench/api.py 写入的压测诉求：检查接口在并发提交下的响应时间。",
        }
        return "POST", "/api/v1/cases/", body

    return [
        (
            Scenario(
                "case list, whole zone",
                leader.username,
                keys["leader"],
                lambda n: ("GET", "/api/v1/cases/?page_size=50", None),
            ),
            False,
        ),
        (
            Scenario(
                f"case list, ?concierge= ({people['concierge_cases']:,})",
                concierge.username,
                keys["concierge"],
                lambda n: ("GET", f"/api/v1/cases/?concierge={concierge.pk}", None),
            ),
            False,
        ),
        (
            Scenario(
                f"case detail, {len(case_ids):,} random ids",
                leader.username,
                keys["leader"],
                lambda n: ("GET", f"/api/v1/cases/{case_ids[n % len(case_ids)]}/", None),
            ),
            False,
        ),
        (Scenario("submit case (POST)", enterprise.username, keys["enterprise"], submit), True),
        (
            Scenario(
                "task list, ?status=pending",
                leader.username,
                keys["leader"],
                lambda n: ("GET", "/api/v1/tasks/?status=pending", None),
            ),
            False,
        ),
    ]


def compare_with_bare(base_url: str, key: str, leader: str, args) -> list[tuple[Scenario, Outcome]]:
    """The leader's case list from the API and from the bare view: byte-identical bodies (checked here), then
    --requests each in --rounds alternating rounds, so that other work on the machine weighs on both alike."""
    api_path, bare_path = "/api/v1/cases/?page_size=50", "/bench/bare/cases/?page_size=50"
    headers = {"Authorization": f"Token {key}"}
    api_body = requests.get(base_url + api_path, headers=headers, timeout=60).content
    bare_body = requests.get(base_url + bare_path, timeout=60).content
    if api_body != bare_body:
        pairs = enumerate(zip(api_body, bare_body, strict=False))
        at = next((i for i, (a, b) in pairs if a != b), min(len(api_body), len(bare_body)))
        around = slice(max(0, at - 80), at + 80)
        sys.exit(
            f"the bare view's body differs from the API's at byte {at}:\n"
            f"  api:  {api_body[around]!r}\n  bare: {bare_body[around]!r}"
        )
    print(f"the bare view answers the leader's case list byte for byte as the API does ({len(api_body):,} bytes)")
    api = Scenario("case list, whole zone · API", leader, key, lambda n: ("GET", api_path, None))
    bare = Scenario("case list, whole zone · bare view", leader, key, lambda n: ("GET", bare_path, None))
    totals = {api: Outcome(), bare: Outcome()}
    per_round = max(1, args.requests // args.rounds)
    for _ in range(args.rounds):
        for scenario in (api, bare):
            outcome = run(scenario, base_url, args.concurrency, per_round)
            total = totals[scenario]
            total.latencies_ms += outcome.latencies_ms
            total.errors += outcome.errors
            total.first_error = total.first_error or outcome.first_error
            total.seconds += outcome.seconds
    return list(totals.items())


def print_bare_ratio(rows: list[tuple[Scenario, Outcome]]) -> None:
    (_, api), (_, bare) = rows
    api_rate, bare_rate = len(api.latencies_ms) / api.seconds, len(bare.latencies_ms) / bare.seconds
    api_p50, bare_p50 = percentile(sorted(api.latencies_ms), 0.5), percentile(sorted(bare.latencies_ms), 0.5)
    print(
        f"API / bare view, leader's case list: throughput {api_rate / bare_rate:.0%} of the bare view's "
        f"({api_rate:,.1f} against {bare_rate:,.1f} req/s); median latency {bare_p50 / api_p50:.0%} "
        f"({api_p50:,.1f} against {bare_p50:,.1f} ms)"
    )


def fetch_categories(base_url: str, key: str) -> list[str]:
    response = requests.get(
        f"{base_url}/api/v1/categories/", headers={"Authorization": f"Token {key}"}, params={"page_size": 200}
    )
    response.raise_for_status()
    codes = [category["code"] for category in response.json()["results"] if category.get("is_active", True)]
    if not codes:
        sys.exit("/api/v1/categories/ lists no active category")
    return codes


def print_table(rows: list[tuple[Scenario, Outcome]]) -> None:
    head = ("scenario", "user", "requests", "errors", "req/s", "p50 ms", "p90 ms", "p99 ms")
    lines = []
    for scenario, outcome in rows:
        ordered = sorted(outcome.latencies_ms)
        lines.append(
            (
                scenario.label,
                scenario.username,
                f"{len(ordered):,}",
                f"{outcome.errors:,}",
                f"{len(ordered) / outcome.seconds:,.1f}",
                *(f"{percentile(ordered, share):,.1f}" for share in (0.50, 0.90, 0.99)),
            )
        )
    widths = [max(len(row[i]) for row in [head, *lines]) for i in range(len(head))]
    for row in [head, *lines]:
        # The scenario and the user read left-aligned, the figures right-aligned.
        cells = [cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
        print("  ".join(cells))
    for scenario, outcome in rows:
        if outcome.first_error:
            print(f"first error of “{scenario.label}”: {outcome.first_error}")


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # SIGTERM as Ctrl-C: gunicorn is stopped and the tokens deleted either way


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help=f"default {DEFAULT_DATABASE_URL}")
    parser.add_argument("--scale", type=int, default=10, help="blocks of the demo zone to load (default 10)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--requests", type=int, default=2000, help="requests per scenario (default 2000)")
    parser.add_argument(
        "--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers (default 2 × cores + 1)"
    )
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    parser.add_argument(
        "--rounds", type=int, default=10, help="alternating rounds of the API against the bare view (default 10)"
    )
    parser.add_argument("--bare-only", action="store_true", help="only the API against the bare view")
    args = parser.parse_args()
    if min(args.scale, args.concurrency, args.requests, args.workers, args.rounds) < 1:
        parser.error("--scale, --concurrency, --requests, --workers and --rounds must be at least 1")
    args.port = args.port or free_port()

    signal.signal(signal.SIGTERM, _interrupt)
    setup_django(args.database_url)
    ensure_database()
    ensure_zone(args.scale)

    from django.db import connections

    people = pick_people()
    counts = zone_counts()
    case_ids = case_id_sample(min(args.requests, 1000))
    keys, token_ids = issue_tokens(people)
    server = None
    log_path = Path(tempfile.mkstemp(prefix="bench-api-gunicorn-", suffix=".log")[1])
    try:
        connections.close_all()  # this process holds no connection while the server is measured
        base_url = f"http://127.0.0.1:{args.port}"
        # The product's settings with one more URL, the bare view (bench/bare.py); the API is served unchanged.
        bare = {"DJANGO_SETTINGS_MODULE": "bench.bare_settings", "BENCH_BARE_USER_ID": str(people["leader"].pk)}
        server = start_gunicorn(args, log_path, env=bare)
        wait_until_answering(server, base_url, log_path)
        scenarios = build_scenarios(keys, people, case_ids, fetch_categories(base_url, keys["leader"]))

        database = urlsplit(args.database_url).path.lstrip("/") or args.database_url
        print(
            f"API benchmark · zone x{args.scale} in {database} ({connections['default'].vendor}): "
            f"{counts['cases']:,} cases, {counts['tasks']:,} tasks · gunicorn {args.workers} sync workers · "
            f"concurrency {args.concurrency} · {args.requests:,} requests per scenario · commit {git_commit()} · "
            f"{load_average()}",
            flush=True,
        )
        # Every worker imports and connects before anything is timed; reads only, so nothing is written.
        if args.bare_only:
            scenarios = scenarios[:1]
        for scenario, writes in scenarios:
            if not writes:
                run(scenario, base_url, args.concurrency, 4 * args.workers)
        run(
            Scenario("warm-up", "", "", lambda n: ("GET", "/bench/bare/cases/?page_size=50", None)),
            base_url,
            args.concurrency,
            4 * args.workers,
        )

        rows = [
            (scenario, run(scenario, base_url, args.concurrency, args.requests, keep_bodies=writes), writes)
            for scenario, writes in ([] if args.bare_only else scenarios)
        ]
        bare_rows = compare_with_bare(base_url, keys["leader"], people["leader"].username, args)
        print_table([(scenario, outcome) for scenario, outcome, _ in rows] + bare_rows)
        print_bare_ratio(bare_rows)
        print(f"{load_average()} at the end (the clients, gunicorn and PostgreSQL share this machine's cores)")
        for scenario, outcome, writes in rows:
            if writes:
                numbers = sorted(body["number"] for body in outcome.bodies)
                span = f" ({numbers[0]} … {numbers[-1]})" if numbers else ""
                print(
                    f"“{scenario.label}” wrote {len(numbers):,} cases{span} for {scenario.username}; "
                    "they stay in the database (case events are append-only)."
                )
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    finally:
        if server is not None:
            stop_gunicorn(server)
        delete_tokens(token_ids)
        log_path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
