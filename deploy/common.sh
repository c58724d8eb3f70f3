# Shared by deploy/tracker, deploy/stack, deploy/backup and deploy/restore (sourced, not run).
# shellcheck shell=bash

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The project's virtual environment when there is one (a plain host, this machine); the image has python on PATH.
if [ -x "$root/.venv/bin/python" ]; then python="$root/.venv/bin/python"; else python="$(command -v python3 || command -v python)"; fi

die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }
say() { printf '%s: %s\n' "$(basename "$0")" "$*"; }

# load_env FILE: export every NAME=value of an env file (the systemd EnvironmentFile and compose env_file format).
load_env() {
    [ -f "$1" ] || die "no env file at $1"
    set -a
    # shellcheck disable=SC1090
    . "$1"
    set +a
}

# resolve_settings: what Django itself will use (so a default in settings.py is honoured), as shell variables:
# DB_ENGINE, PG* (for pg_dump, pg_restore, psql), MEDIA_ROOT, PRIVATE_MEDIA_ROOT.
resolve_settings() {
    eval "$(cd "$root" && "$python" - <<'PY'
import os, shlex
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
import django
django.setup()
from django.conf import settings
db = settings.DATABASES["default"]
values = {
    "DB_ENGINE": db["ENGINE"].rsplit(".", 1)[-1],
    "PGHOST": db.get("HOST") or "", "PGPORT": str(db.get("PORT") or ""), "PGUSER": db.get("USER") or "",
    "PGPASSWORD": db.get("PASSWORD") or "", "PGDATABASE": str(db.get("NAME") or ""),
    "MEDIA_ROOT": str(settings.MEDIA_ROOT), "PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT),
}
print("\n".join(f"{name}={shlex.quote(value)}" for name, value in values.items()))
PY
)"
    [ "$DB_ENGINE" = postgresql ] || die "backups are for PostgreSQL (DATABASE_URL is $DB_ENGINE); copy the SQLite file instead"
    export PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE
}

# The tables a restore must bring back whole, as name:table; a backup's MANIFEST lists their rows as name=count.
counted_tables=(enterprises:tracker_enterprise users:tracker_user cases:tracker_case tasks:tracker_task
    events:tracker_caseevent attachments:tracker_attachment)

# record_counts: the rows of the counted tables in the database (after resolve_settings), one name=count per line.
record_counts() {
    local pair
    for pair in "${counted_tables[@]}"; do
        printf '%s=%s\n' "${pair%%:*}" "$(psql -X -At -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM ${pair#*:}")"
    done
}
