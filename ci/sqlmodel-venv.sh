# shellcheck shell=bash
# Sourced by ci/check-sqlmodel-sqlite and ci/check-sqlmodel-postgres: the one virtualenv
# (ci/.venv) both checks use, with the pinned SQLModel/SQLAlchemy stack and the PostgreSQL
# driver. Not executable on purpose: `source` it, then call
#     sqlmodel_venv LABEL        # LABEL prefixes messages, e.g. sqlmodel-sqlite
# It sets $venv and returns once ci/.venv holds exactly the pins below (building it when it
# doesn't). It keeps a shared lock on ci/ (file descriptor 9) until the calling script
# exits, so no concurrent run rebuilds the virtualenv while this one is using it.
# Needs python3 with the venv module, and access to PyPI the first time.

# Pinned and verified together (CPython 3.11, Debian 12, x86_64). Change them together.
# SQLAlchemy 2.1's default driver for postgresql:// URLs is psycopg (3); the [binary]
# extra brings psycopg-binary, which bundles libpq, so no libpq-dev or compiler is needed.
sqlmodel_requirements=(
    "sqlmodel==0.0.50"
    "SQLAlchemy==2.1.9"
    "pydantic==2.14.4"
    "pydantic-core==2.50.5"
    "annotated-types==0.8.0"
    "typing-inspection==0.4.5"
    "typing-extensions==4.16.0"
    "psycopg[binary]==3.3.9"
    "psycopg-binary==3.3.9"
)

sqlmodel_venv() {
    local label=$1
    local repo
    repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    venv="$repo/ci/.venv"
    local stamp="$venv/.strata-requirements"

    # Exclusive while checking and building; shared (kept until exit) while in use.
    exec 9<"$repo/ci"
    flock 9
    if ! _sqlmodel_venv_is_valid "$stamp"; then
        echo "$label: creating $venv (${sqlmodel_requirements[*]})"
        rm -rf "$venv"
        if ! python3 -m venv "$venv"; then
            echo "$label: 'python3 -m venv' failed (on Debian: apt-get install python3-venv)" >&2
            exit 1
        fi
        if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
            "${sqlmodel_requirements[@]}"; then
            echo "$label: pip install into $venv failed" >&2
            rm -rf "$venv"
            exit 1
        fi
        if ! _sqlmodel_venv_imports; then
            echo "$label: $venv was installed but its packages do not import:" >&2
            "$venv/bin/python" -c 'import sqlmodel, sqlalchemy, psycopg; psycopg.pq.version()' >&2 || true
            rm -rf "$venv"
            exit 1
        fi
        printf '%s\n' "${sqlmodel_requirements[@]}" >"$stamp"
    fi
    flock -s 9
}

_sqlmodel_venv_imports() {
    # psycopg.pq.version() loads libpq: the binary wheel's, or fails.
    "$venv/bin/python" -c 'import sqlmodel, sqlalchemy, psycopg; psycopg.pq.version()' \
        >/dev/null 2>&1
}

_sqlmodel_venv_is_valid() {
    local stamp=$1
    [ -x "$venv/bin/python" ] &&
        [ -f "$stamp" ] &&
        [ "$(cat "$stamp")" = "$(printf '%s\n' "${sqlmodel_requirements[@]}")" ] &&
        _sqlmodel_venv_imports
}
