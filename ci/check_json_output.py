"""Runs every strata command with --format json and validates each document against
docs/json-schema.json. Called by ci/check-json-output (which finds a python with
jsonschema and builds strata). Arguments: STRATA_BINARY REPO."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

import jsonschema

strata, repo = sys.argv[1], sys.argv[2]
schema = json.load(open(os.path.join(repo, "docs", "json-schema.json")))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
failures = []
checked = []


def run(project, args, expect=0, database=None):
    """strata --format json ARGS in PROJECT; validates stdout, returns the document."""
    command = [strata, "--format", "json", *args]
    if database:
        command += ["--database-url", database]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "STRATA_DATABASE_URL")}
    result = subprocess.run(command, cwd=project, capture_output=True, text=True, env=env)
    label = " ".join(args) + (f" on {database.split(':')[0]}" if database else "")
    if result.returncode != expect:
        failures.append(f"{label}: exit {result.returncode}, expected {expect}\n{result.stderr}")
        return None
    try:
        document = json.loads(result.stdout)
    except json.JSONDecodeError as error:
        failures.append(f"{label}: stdout is not one JSON document ({error}):\n{result.stdout}")
        return None
    name = document.get("command")
    by_command = schema["$defs"]["commands"].get(name)
    if by_command is None:
        failures.append(f"{label}: no schema for command {name!r}")
        return None
    # Against the command's own schema (precise messages), then the whole (oneOf).
    sub = dict(by_command, **{"$defs": schema["$defs"]})
    errors = list(jsonschema.Draft202012Validator(sub).iter_errors(document))
    errors += [] if errors else list(validator.iter_errors(document))
    for error in errors:
        path = "/".join(str(p) for p in error.absolute_path)
        failures.append(f"{label}: at /{path}: {error.message}")
    checked.append((label, not errors))
    return document


def scenario(database, dialect):
    tmp = tempfile.mkdtemp(prefix="strata-json-")
    try:
        project = os.path.join(tmp, "project")
        run(tmp, ["--project", "project", "init"])
        if dialect == "postgres":
            # The example's schema on both dialects, so migrations/postgres exists.
            with open(os.path.join(project, "schema.toml")) as f:
                text = f.read().replace('dialects = ["sqlite"]', 'dialects = ["sqlite", "postgres"]')
            with open(os.path.join(project, "schema.toml"), "w") as f:
                f.write(text)
        run(project, ["generate", "create_team_and_hero"])
        run(project, ["generate", "nothing_new"])
        run(project, ["hash"])
        for name in os.listdir(os.path.join(repo, "patches")):
            shutil.copy(os.path.join(repo, "patches", name), os.path.join(project, "patches"))
        run(project, ["status"], database=database)
        run(project, ["migrate", "--dry-run"], database=database)
        run(project, ["setup"], database=database)
        run(project, ["migrate"], database=database)
        run(project, ["check"], database=database)
        # Fleets: the scenario's database and a second SQLite file, then one that fails.
        with open(os.path.join(project, "fleet.txt"), "w") as f:
            f.write(f"# fleet\n{database}\nsecond = sqlite:second.db\n")
        run(project, ["setup", "--targets", "fleet.txt"])
        run(project, ["migrate", "--targets", "fleet.txt", "--parallel", "2"])
        run(project, ["migrate", "--dry-run", "--targets", "fleet.txt"])
        run(project, ["patch", "--targets", "fleet.txt", "--fail-fast"])
        run(project, ["status", "--targets", "fleet.txt"])
        run(project, ["check", "--targets", "fleet.txt"])
        with open(os.path.join(project, "broken.txt"), "w") as f:
            f.write("sqlite:no/such/folder.db\nsecond = sqlite:second.db\n")
        run(project, ["setup", "--targets", "broken.txt"], expect=1)
        with open(os.path.join(project, "patches", "0003_more.toml"), "w") as f:
            f.write('[[insert]]\ntable = "hero"\nrows = [{ name = "Tarantula", secret_name = "Natalia Roman-on" }]\n'
                    '\n[[delete]]\ntable = "hero"\nwhere = { name = "Deadpond" }\n'
                    '\n[[sql]]\nstatement = "UPDATE hero SET age = 49 WHERE name = \'Rusty-Man\'"\n')
        run(project, ["patch", "--dry-run"], database=database)
        run(project, ["check"], database=database, expect=14)
        run(project, ["patch", "--echo"], database=database)
        new = run(project, ["patch", "new", "later"])
        if new:
            os.remove(os.path.join(project, new["file"]))  # a template, no operation yet
        run(project, ["status"], database=database)
        run(project, ["pull"], database=database)
        run(project, ["setup", "--fresh", "--yes"], database=database)
        migrations = os.path.join(project, "migrations", dialect)
        with open(os.path.join(migrations, "V2__power.sql"), "w") as f:
            f.write("ALTER TABLE hero ADD COLUMN power VARCHAR;\n")
        with open(os.path.join(migrations, "V2__power.down.sql"), "w") as f:
            f.write("ALTER TABLE hero DROP COLUMN power;\n")
        if dialect == "postgres":
            for name in ("V2__power.sql", "V2__power.down.sql"):
                shutil.copy(os.path.join(migrations, name), os.path.join(project, "migrations", "sqlite", name))
        run(project, ["hash"])
        run(project, ["migrate"], database=database)
        run(project, ["rollback", "--dry-run"], database=database)
        run(project, ["rollback"], database=database)
        for folder in {dialect, "sqlite"}:
            for name in ("V2__power.sql", "V2__power.down.sql"):
                os.remove(os.path.join(project, "migrations", folder, name))
        run(project, ["hash"])
        # Diesel's layout and back, the history moved along.
        run(project, ["convert", "--to", "diesel"], database=database)
        run(project, ["status"], database=database)
        run(project, ["convert", "--to", "refinery"], database=database)
        with open(os.path.join(project, "migrations", dialect, "V1__create_team_and_hero.sql"), "a") as f:
            f.write("-- a hand edit\n")
        run(project, ["check"], expect=10)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


scenario("sqlite:database.db", "sqlite")
server = os.environ.get("STRATA_TEST_PG_URL")
if server:
    name = f"strata_json_check_{os.getpid()}"
    parts = urllib.parse.urlsplit(server)
    url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    admin = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
    # status and migrate --dry-run read an existing database (they never create one).
    subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    try:
        scenario(url, "postgres")
    finally:
        subprocess.run(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
                       capture_output=True)
else:
    print("json-output: STRATA_TEST_PG_URL is not set; PostgreSQL was not checked", file=sys.stderr)

for label, ok in checked:
    print(f"  {'ok  ' if ok else 'FAIL'} {label}")
if failures:
    print("json-output: documents that do not match docs/json-schema.json:", file=sys.stderr)
    for failure in failures:
        print("  " + failure, file=sys.stderr)
    sys.exit(1)
print(f"json-output: {len(checked)} documents match docs/json-schema.json")
