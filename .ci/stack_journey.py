"""The HTTP smoke journey against the production-like stack (`deploy/stack`), as a client behind the proxy would
make it: every request says `X-Forwarded-Proto: https`, and cookies marked Secure are sent back.

    stack_journey.py journey FIXTURE OUT   health, HTTPS headers, static files, portal and admin sign-in, the whole
                                           loop over the API with an attachment, a reminder delivered by the worker,
                                           the structured logs; writes what it made to OUT (JSON)
    stack_journey.py revisit OUT           after a restore: the enterprise signs in and finds its case and file

Only the standard library: it runs with any Python, like a monitoring probe would. Exits non-zero on the first
step that fails, saying which.
"""

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://" + os.environ["GUNICORN_BIND"]
ORIGIN = "https://" + os.environ["GUNICORN_BIND"]
PASSWORD = "demo12345"
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def step(text: str) -> None:
    print(f"stack journey: {text}", flush=True)


def fail(text: str) -> None:
    print(f"stack journey FAILED: {text}", file=sys.stderr, flush=True)
    sys.exit(1)


def check(condition, text: str) -> None:
    if not condition:
        fail(text)


class BehindTheProxy(http.cookiejar.DefaultCookiePolicy):
    """The proxy speaks HTTPS to the browser: cookies marked Secure go back, as a browser would send them."""

    def return_ok_secure(self, cookie, request):
        return True


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    def __init__(self, token: str | None = None):
        self.jar = http.cookiejar.CookieJar(BehindTheProxy())
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())
        self.token = token

    def request(self, method, path, *, body=None, headers=None, https=True):
        headers = dict(headers or {})
        if https:
            headers.setdefault("X-Forwarded-Proto", "https")
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        request = urllib.request.Request(BASE + path, data=body, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def api(self, method, path, payload=None):
        body = json.dumps(payload).encode() if payload is not None else None
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        status, _headers, content = self.request(method, "/api/v1/" + path, body=body, headers=headers)
        return status, json.loads(content) if content else None

    def csrf(self) -> str:
        return next(cookie.value for cookie in self.jar if cookie.name == "csrftoken")

    def sign_in(self, login_path: str, username: str, expect: str) -> None:
        status, _, _ = self.get(login_path)
        check(status == 200, f"{login_path} answered {status}")
        form = urllib.parse.urlencode(
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": self.csrf()}
        ).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": ORIGIN,
            "Referer": ORIGIN + login_path,
        }
        status, headers, _ = self.request("POST", login_path, body=form, headers=headers)
        check(status == 302, f"signing in {username} at {login_path} answered {status}, not a redirect")
        status, _, _ = self.get(expect)
        check(status == 200, f"{username} signed in, but {expect} answered {status}")


def page(client: Client, path: str, *texts: str) -> str:
    status, _, content = client.get(path)
    check(status == 200, f"{path} answered {status}")
    html = content.decode()
    for text in texts:
        check(text in html, f"{path} does not show {text!r}")
    return html


def health() -> None:
    anonymous = Client()
    status, headers, content = anonymous.get("/healthz", https=False)
    check(status == 200 and json.loads(content) == {"status": "ok"}, f"/healthz answered {status} {content!r}")
    status, _, content = anonymous.get("/readyz", https=False)
    ready = json.loads(content)
    check(status == 200, f"/readyz answered {status}: {ready}")
    check(ready["checks"] == {"database": "ok", "migrations": "ok", "redis": "ok"}, f"/readyz: {ready}")
    step(f"/healthz and /readyz answer 200 ({ready['checks']})")

    status, headers, _ = anonymous.get("/portal/login/", https=False)
    check(status == 301 and headers["Location"].startswith("https://"), f"plain HTTP got {status}, not 301 to https")
    status, headers, html = anonymous.get("/portal/login/")
    check(status == 200, f"/portal/login/ over HTTPS answered {status}")
    for name, value in [
        ("Strict-Transport-Security", "max-age=31536000"),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
    ]:
        check(value in (headers.get(name) or ""), f"the login page's {name} is {headers.get(name)!r}")
    check(re.fullmatch(r"[0-9a-f]{32}", headers.get("X-Request-ID", "")), "no X-Request-ID on the response")
    cookie = headers.get("Set-Cookie", "")
    check("csrftoken" in cookie and "Secure" in cookie, f"the CSRF cookie is not Secure: {cookie!r}")
    step("plain HTTP is sent to HTTPS; HSTS, framing, sniffing and referrer headers are set; cookies are Secure")

    stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', html.decode())
    hashed = [href for href in stylesheets if re.search(r"\.[0-9a-f]{12}\.css$", href)]
    check(hashed, f"no hashed stylesheet on the login page: {stylesheets}")
    for href in hashed:
        status, headers, _ = anonymous.get(href, headers={"Accept-Encoding": "gzip"})
        check(status == 200, f"{href} answered {status}")
        check("immutable" in headers.get("Cache-Control", ""), f"{href} is not cached for good")
        check(headers.get("Content-Encoding") == "gzip", f"{href} is not served compressed")
    step(f"{len(hashed)} hashed stylesheets served by gunicorn, compressed and cacheable for good")


def multipart(fields: dict, filename: str, content: bytes, content_type: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def whole_loop(fixture: dict) -> dict:
    enterprise, concierge, member = (Client(fixture["tokens"][k]) for k in ("enterprise", "concierge", "member"))
    status, case = enterprise.api(
        "POST",
        "cases/",
        {"category": "land", "title": "冒烟：扩产新增用地需求", "description": "需新增工业用地约30亩。"},
    )
    check(status == 201, f"submitting a case answered {status}: {case}")
    path = f"cases/{case['id']}/"
    body, content_type = multipart({"note": "用地红线图"}, "红线图.pdf", PDF, "application/pdf")
    status, _, content = enterprise.request(
        "POST", f"/api/v1/{path}attachments/", body=body, headers={"Content-Type": content_type}
    )
    check(status == 201, f"uploading an attachment answered {status}: {content[:300]!r}")
    attachment = json.loads(content)

    for client, action, payload in [
        (concierge, "accept", {"note": "已联系企业"}),
        (concierge, "decompose", {"tasks": [{"title": "落实用地指标", "task_force": fixture["task_force"]}]}),
    ]:
        status, case = client.api("POST", f"{path}{action}/", payload)
        check(status == 200, f"{action} answered {status}: {case}")
    (task,) = case["tasks"]
    for action, payload in [("start", {}), ("complete", {"result": "已纳入年度供地计划"})]:
        status, answer = member.api("POST", f"tasks/{task['id']}/{action}/", payload)
        check(status == 200, f"task {action} answered {status}: {answer}")
    status, case = concierge.api("POST", f"{path}resolve/", {"answer": "用地指标已落实。"})
    check(status == 200 and case["status"] == "resolved", f"resolve answered {status}: {case}")
    status, case = enterprise.api("POST", f"{path}confirm/", {"rating": 5, "comment": "感谢"})
    check(status == 200 and case["status"] == "closed", f"confirm answered {status}: {case}")
    status, events = enterprise.api("GET", f"{path}events/")
    kinds = [event["kind"] for event in events["results"]]
    check(kinds[0] == "submitted" and kinds[-1] == "confirmed", f"the timeline is {kinds}")
    step(f"API: {case['number']} submitted with a file, accepted, decomposed, done, resolved and confirmed")
    return {"id": case["id"], "number": case["number"], "attachment": attachment["id"], "file": "红线图.pdf"}


def portal_and_admin(fixture: dict, closed: dict) -> None:
    portal = Client()
    portal.sign_in("/portal/login/", fixture["enterprise_user"], "/portal/")
    page(portal, "/portal/?show=finished", closed["number"])
    page(portal, f"/portal/cases/{closed['number']}/", closed["number"], closed["file"])
    step(f"portal: {fixture['enterprise_user']} signed in; the home page and the case page show {closed['number']}")

    admin = Client()
    admin.sign_in("/admin/login/?next=/admin/", "admin", "/admin/")
    page(admin, f"/admin/tracker/case/?q={urllib.parse.quote(closed['number'])}", closed["number"])
    page(admin, f"/admin/tracker/case/{closed['id']}/change/", closed["number"])
    step("admin: signed in; the case list and the case page answer")


def manage(*args: str) -> str:
    result = subprocess.run(
        [str(ROOT / "deploy" / "tracker"), "manage", *args], capture_output=True, text=True, check=False
    )
    check(result.returncode == 0, f"manage.py {' '.join(args)[:80]} failed: {result.stderr[-2000:]}")
    return result.stdout


def reminder(fixture: dict) -> dict:
    """A task due today, a sweep queued through Redis, and the real worker writes the reminder and its notices."""
    enterprise, concierge = Client(fixture["tokens"]["enterprise"]), Client(fixture["tokens"]["concierge"])
    status, case = enterprise.api(
        "POST", "cases/", {"category": "land", "title": "冒烟：今日到期", "description": "提醒"}
    )
    check(status == 201, f"submitting the second case answered {status}: {case}")
    path = f"cases/{case['id']}/"
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    concierge.api("POST", f"{path}accept/", {})
    status, case = concierge.api(
        "POST",
        f"{path}decompose/",
        {"tasks": [{"title": "今日办结", "task_force": fixture["task_force"], "due_on": today}]},
    )
    check(status == 200, f"decompose with a task due today answered {status}: {case}")
    manage("shell", "-v0", "-c", "from tracker.tasks import sweep_reminders; sweep_reminders.delay()")

    member = Client()
    member.sign_in("/admin/login/?next=/admin/", fixture["member_user"], "/admin/inbox/")
    for _ in range(120):
        status, _, content = member.get("/admin/inbox/")
        if status == 200 and case["number"] in content.decode():
            break
        time.sleep(0.5)
    else:
        fail(f"no reminder about {case['number']} reached {fixture['member_user']}'s inbox in 60 s")
    step(f"reminder: the worker swept; {fixture['member_user']}'s inbox shows the task of {case['number']} due today")

    query = (
        "import json; from django.utils import timezone; from tracker.models import PushDelivery; "
        f"rows = PushDelivery.objects.filter(notification__case__number='{case['number']}'); "
        "print(json.dumps([[p.status, p.next_attempt_at <= timezone.now()] for p in rows]))"
    )
    pushes = json.loads(manage("shell", "-v0", "-c", query).strip())
    check(pushes, f"the reminder about {case['number']} wrote no push (email) for anyone")
    if any(due for _status, due in pushes):
        # Inside working hours: the worker sends them now (EMAIL_URL writes each message to a file in mail/).
        for _ in range(120):
            pushes = json.loads(manage("shell", "-v0", "-c", query).strip())
            if all(status == "sent" for status, _due in pushes):
                break
            time.sleep(0.5)
        else:
            fail(f"pushes due now were not sent in 60 s: {pushes}")
        mails = list(Path(os.environ["STACK_DIR"], "mail").glob("*.log"))
        check(mails, "pushes are marked sent but no email was written")
        step(f"reminder: {len(pushes)} emails sent by the worker")
    else:
        step(f"reminder: {len(pushes)} emails wait for working hours (outside them now), as they should")
    return {"number": case["number"]}


def logs(closed: dict, fixture: dict) -> None:
    log_dir = Path(os.environ["STACK_DIR"], "log")

    def records(name):
        for line in (log_dir / name).read_text().splitlines():
            if line.startswith("{"):
                yield json.loads(line)

    confirm = [
        r
        for r in records("web.log")
        if r.get("path", "").endswith(f"/cases/{closed['id']}/confirm/") and r.get("logger") == "tracker.request"
    ]
    check(confirm, "no request line for the confirm in web.log")
    line = confirm[-1]
    check(line.get("user") == fixture["enterprise_user"], f"the confirm line's user: {line}")
    check(line.get("case") == closed["number"], f"the confirm line's case: {line}")
    check(re.fullmatch(r"[0-9a-f]{32}", line.get("request_id", "")), f"the confirm line's request id: {line}")
    check(line.get("status") == 200 and line.get("level") == "INFO", f"the confirm line: {line}")
    swept = [r for r in records("worker.log") if r.get("task") == "tracker.tasks.sweep_reminders"]
    check(swept and all(r.get("task_id") for r in swept), "no worker line names the sweep task and its id")
    step("logs: JSON lines; the confirm's line names its request id, user and case; the worker's name the task")

    # Beat's schedule is in the database; each entry first comes due one interval after beat starts (60 s at most).
    for _ in range(180):
        sent = [r for r in records("beat.log") if r.get("message", "").startswith("Scheduler: Sending due task")]
        if sent:
            break
        time.sleep(0.5)
    else:
        fail("beat sent no periodic task in 90 s")
    step(f"beat: {sent[0]['message']}")


def revisit(made: dict) -> None:
    portal = Client()
    portal.sign_in("/portal/login/", made["fixture"]["enterprise_user"], "/portal/")
    closed = made["closed"]
    html = page(portal, f"/portal/cases/{closed['number']}/", closed["number"], closed["file"])
    link = re.search(r'href="(/portal/cases/[^"]+/files/\d+/)"', html)
    check(link, "the restored case page has no file link")
    status, _, content = portal.get(link.group(1))
    check(status == 200 and content == PDF, f"the restored attachment answered {status}, {len(content)} bytes")
    step(f"after the restore: {closed['number']} and its file are back, byte for byte")


def main() -> None:
    mode = sys.argv[1]
    if mode == "journey":
        fixture = json.loads(Path(sys.argv[2]).read_text())
        health()
        closed = whole_loop(fixture)
        portal_and_admin(fixture, closed)
        due = reminder(fixture)
        logs(closed, fixture)
        Path(sys.argv[3]).write_text(json.dumps({"fixture": fixture, "closed": closed, "due": due}, ensure_ascii=False))
    elif mode == "revisit":
        revisit(json.loads(Path(sys.argv[2]).read_text()))
    else:
        fail(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
