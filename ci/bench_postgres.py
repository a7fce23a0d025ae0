#!/usr/bin/env python3
"""Helper for ci/bench-postgres (standard library only).

    bench_postgres.py schema N_TABLES > schema.toml
        ci/bench_generate.py's N-table schema (indexes, foreign keys to earlier
        tables, some self references) with dialects = ["sqlite", "postgres"],
        plus on every table a comment, CHECKs, a column comment and an
        expression index (a partial index on every third).

    bench_postgres.py migrations N FOLDER ALL_SQL
        Writes FOLDER/V1__step_0001.sql .. FOLDER/VN__step_NNNN.sql and their
        concatenation ALL_SQL (what psql -1 -f runs). Each migration creates a
        table with a serial key, an index and a foreign key to an earlier table;
        every 4th one also adds a column and its index to an earlier table.

    bench_postgres.py url URL DBNAME
        URL with its database (the path) replaced by DBNAME; query kept.

    bench_postgres.py hyperfine-times JSON_FILE >> SAMPLES
        The run times (seconds) in hyperfine's --export-json file, one a line.

    bench_postgres.py time RUNS WARMUP PREPARE_SHELL_CMD SHELL_CMD >> SAMPLES
        The fallback when hyperfine is not installed: runs SHELL_CMD WARMUP times
        untimed, then RUNS times, each after PREPARE_SHELL_CMD (untimed, "" for
        none), output discarded; prints each run's seconds, one a line.

    bench_postgres.py cpu RUNS POSTMASTER_PID RESULTS_DIR KEY PREPARE CMD [KEY PREPARE CMD ...]
        Load-independent-ish view: runs each CMD (after its PREPARE, "" for none)
        in turn, RUNS rounds, and appends "wall client_cpu server_cpu" seconds to
        RESULTS_DIR/cpu.KEY. client_cpu is the user+system time of CMD and its
        children; server_cpu is what the local server (the postmaster, its reaped
        children and its live children, from /proc) used meanwhile.

    bench_postgres.py table RESULTS_DIR N_TABLES N_MIGRATIONS
        RESULTS_DIR holds SAMPLES files named pull, pg_dump, migrate, psql; prints
        median, min, max (ms) of each and the ratios of the medians.
"""

import os
import json
import random
import statistics
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_generate  # noqa: E402  (same folder)

PULL_GOAL = 0.5
MIGRATE_GOAL = 1.5


def schema(n):
    text = bench_generate.schema(n)
    old = 'dialects = ["sqlite"]'
    assert old in text, "ci/bench_generate.py's schema header changed"
    text = text.replace(old, 'dialects = ["sqlite", "postgres"]', 1)
    return with_pull_features(text)


def with_pull_features(text):
    """What a real schema has and pull must read back (issue #12): on every
    table a comment, a CHECK and an expression index; a column comment and a
    column CHECK; on every third table a partial index."""
    out = []
    for line in text.split("\n"):
        if line.startswith("[table.") and line.endswith(".columns]"):
            t = line[len("[table."):-len(".columns]")]
            i = int(t[1:])
            indexes = [f'{{ name = "{t}_lower_code", columns = [{{ expr = "lower(code)" }}] }}']
            if i % 3 == 0:
                indexes.append(
                    f'{{ name = "{t}_recent", columns = ["created_at"], where = "quantity IS NOT NULL" }}'
                )
            out.append(f"[table.{t}]")
            out.append(f'comment = "Benchmark table {t}"')
            out.append('check = [{ sql = "quantity IS NULL OR quantity >= 0" }]')
            out.append(f"indexes = [{', '.join(indexes)}]")
        elif line.startswith("note "):
            line = ('note       = { type = "text", nullable = true, comment = "free text", '
                    'check = "length(note) < 1000" }')
        out.append(line)
    return "\n".join(out)


def migration(i):
    """Migration i (1-based): SQL text."""
    t = f"m{i:04d}"
    lines = [f"-- step {i}: table {t}"]
    lines.append(f"CREATE TABLE {t} (")
    lines.append("    id SERIAL NOT NULL,")
    lines.append("    name TEXT NOT NULL,")
    lines.append("    amount INTEGER,")
    lines.append("    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,")
    if i > 1:
        lines.append("    parent_id INTEGER,")
    lines.append(f"    CONSTRAINT {t}_pkey PRIMARY KEY (id)" + ("," if i > 1 else ""))
    if i > 1:
        parent = f"m{random.Random(i).randrange(1, i):04d}"
        lines.append(
            f"    CONSTRAINT {t}_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES {parent} (id)"
        )
    lines.append(");")
    lines.append(f"CREATE INDEX ix_{t}_name ON {t} (name);")
    if i % 4 == 0:
        earlier = f"m{random.Random(-i).randrange(1, i):04d}"
        column = f"extra_{i:04d}"
        lines.append(f"ALTER TABLE {earlier} ADD COLUMN {column} INTEGER;")
        lines.append(f"CREATE INDEX ix_{earlier}_{column} ON {earlier} ({column});")
    return "\n".join(lines) + "\n"


def migrations(n, folder, all_sql):
    os.makedirs(folder, exist_ok=True)
    with open(all_sql, "w") as combined:
        for i in range(1, n + 1):
            sql = migration(i)
            with open(os.path.join(folder, f"V{i}__step_{i:04d}.sql"), "w") as f:
                f.write(sql)
            combined.write(sql)


def url_with_database(url, database):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + database))


def hyperfine_times(path):
    with open(path) as f:
        for seconds in json.load(f)["results"][0]["times"]:
            print(seconds)


def time_command(runs, warmup, prepare, command):
    def once():
        if prepare:
            subprocess.run(prepare, shell=True, check=True)
        start = time.perf_counter()
        result = subprocess.run(
            command, shell=True, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(f"bench: `{command}` exited with {result.returncode}")
        return elapsed

    for _ in range(warmup):
        once()
    for _ in range(runs):
        print(once(), flush=True)


def _proc_times(pid, fields):
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    # rest[0] is field 3 (state); utime, stime, cutime, cstime are fields 14..17.
    return sum(int(rest[i - 3]) for i in fields)


def server_cpu(postmaster):
    ticks = _proc_times(postmaster, (14, 15, 16, 17))
    with open(f"/proc/{postmaster}/task/{postmaster}/children") as f:
        children = f.read().split()
    for child in children:
        try:
            ticks += _proc_times(child, (14, 15))
        except (FileNotFoundError, ProcessLookupError):
            pass  # exited (and counted in cutime/cstime) meanwhile
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu(runs, postmaster, folder, specs):
    commands = [specs[i:i + 3] for i in range(0, len(specs), 3)]
    for _ in range(runs):
        for key, prepare, command in commands:
            if prepare:
                subprocess.run(prepare, shell=True, check=True)
            time.sleep(0.2)  # let the postmaster reap the prepare's backend
            server0, own0, start = server_cpu(postmaster), os.times(), time.perf_counter()
            result = subprocess.run(
                command, shell=True, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            wall = time.perf_counter() - start
            time.sleep(0.2)  # the backend exits after the client: let it be reaped
            server1, own1 = server_cpu(postmaster), os.times()
            if result.returncode != 0:
                sys.exit(f"bench: `{command}` exited with {result.returncode}")
            client = (own1.children_user - own0.children_user) + (
                own1.children_system - own0.children_system)
            with open(os.path.join(folder, f"cpu.{key}"), "a") as f:
                print(wall, client, server1 - server0, file=f)


def table(folder, tables, count):
    rows = {}
    for key in ("pull", "pg_dump", "migrate", "psql"):
        path = os.path.join(folder, key)
        if os.path.exists(path):
            with open(path) as f:
                ms = [float(line) * 1000 for line in f if line.strip()]
            rows[key] = (statistics.median(ms), min(ms), max(ms), len(ms))
    labels = [
        ("pull", f"strata pull ({tables:,} tables)"),
        ("pg_dump", "pg_dump --schema-only (same database)"),
        ("migrate", f"strata migrate ({count:,} migrations, fresh db)"),
        ("psql", f"psql -1 -f all_{count}.sql (fresh db)"),
    ]
    print(f"{'':44} {'median ms':>10} {'min ms':>10} {'max ms':>10} {'runs':>5}")
    for key, label in labels:
        if key in rows:
            median, low, high, n = rows[key]
            print(f"{label:44} {median:10.1f} {low:10.1f} {high:10.1f} {n:5d}")
    cpu_rows = {}
    for key, _ in labels:
        path = os.path.join(folder, f"cpu.{key}")
        if os.path.exists(path):
            with open(path) as f:
                samples = [[float(x) * 1000 for x in line.split()] for line in f if line.strip()]
            cpu_rows[key] = [statistics.median(column) for column in zip(*samples)] + [len(samples)]
    if cpu_rows:
        print()
        print(f"{'CPU time, medians (local server)':44} {'wall ms':>10} {'client ms':>10}"
              f" {'server ms':>10} {'runs':>5}")
        for key, label in labels:
            if key in cpu_rows:
                wall, client, server, n = cpu_rows[key]
                print(f"{label:44} {wall:10.0f} {client:10.0f} {server:10.0f} {n:5d}")
        print()
    for (a, b, goal, what) in [
        ("pull", "pg_dump", PULL_GOAL, "introspection: strata pull / pg_dump"),
        ("migrate", "psql", MIGRATE_GOAL, "migrate: strata migrate / psql -1 -f"),
    ]:
        if a in rows and b in rows:
            ratio = rows[a][0] / rows[b][0]
            verdict = "meets" if ratio <= goal else "MISSES"
            line = f"ratio {what}: {ratio:.2f}  ({verdict} the goal <= {goal})"
            if a in cpu_rows and b in cpu_rows:
                total_a = cpu_rows[a][1] + cpu_rows[a][2]
                total_b = cpu_rows[b][1] + cpu_rows[b][2]
                line += f"; client+server CPU ratio {total_a / total_b:.2f}"
            print(line)


def main(argv):
    if len(argv) == 3 and argv[1] == "schema":
        print(schema(int(argv[2])))
    elif len(argv) == 5 and argv[1] == "migrations":
        migrations(int(argv[2]), argv[3], argv[4])
    elif len(argv) == 4 and argv[1] == "url":
        print(url_with_database(argv[2], argv[3]))
    elif len(argv) == 3 and argv[1] == "hyperfine-times":
        hyperfine_times(argv[2])
    elif len(argv) == 6 and argv[1] == "time":
        time_command(int(argv[2]), int(argv[3]), argv[4], argv[5])
    elif len(argv) >= 8 and (len(argv) - 5) % 3 == 0 and argv[1] == "cpu":
        cpu(int(argv[2]), int(argv[3]), argv[4], argv[5:])
    elif len(argv) == 5 and argv[1] == "table":
        table(argv[2], int(argv[3]), int(argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
