#!/usr/bin/env python3
"""Helper for ci/bench-patch (standard library only).

    bench_patch.py files DIR ROWS
        Writes into DIR:
          insert.toml   a patch with one [[insert]] of ROWS heroes (name, secret_name, age)
          insert.sql    BEGIN; the same ROWS single-row INSERTs; COMMIT;
          seed.sql      ROWS heroes with secret_name = 'x' (the update benchmark's start)
          update.toml   a patch: [[update]] hero where secret_name = "x" set age = 99
          update.sql    BEGIN; UPDATE hero SET age = 99 WHERE secret_name = 'x'; COMMIT;

    bench_patch.py rss [--stdin FILE] -- COMMAND...
        Runs COMMAND once under `/usr/bin/time -v` (its stdout to our stderr), fails
        if it fails; prints "PEAK_KB WALL_MS CPU_MS": its peak resident set size
        ("Maximum resident set size"), wall-clock and user + system time.

    bench_patch.py memory ROWS PATCH_FILE STRATA_RSS SQLITE3_RSS
        The lines of the 1,000,000-row memory check from two `rss` outputs: peak RSS
        against the patch file's size (goals: <= 4x the file, <= 1 GB) and the
        wall-clock and CPU ratios strata / sqlite3 of that one run.

    bench_patch.py time RUNS WARMUP NAME [--prepare SHELL_CMD] -- SHELL_CMD
        The fallback when hyperfine is not installed: SHELL_CMD (sh -c, output
        discarded) WARMUP times untimed, then RUNS times, each after the prepare
        command (untimed); prints "NAME median q1 q3 min max" in ms.

    bench_patch.py hyperfine-json FILE NAME
        Reads hyperfine's --export-json FILE; prints "NAME median q1 q3 min max cpu" in ms.

    bench_patch.py callgrind FILE
        Prints the total instruction count (Ir) of a callgrind output file.

    bench_patch.py table RESULTS ROWS [RSS_FILE] [CALLGRIND_FILE]
        RESULTS holds lines "key median q1 q3 min max cpu" for strata-insert,
        sqlite3-insert, strata-update, sqlite3-update; RSS_FILE and CALLGRIND_FILE
        lines "key value". Prints the table and the two ratios strata / sqlite3.
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

GOAL = 1.25


def age(i):
    # 10..89: never 99, so the update changes every row's age.
    return 10 + i % 80


def files(folder, rows):
    with open(f"{folder}/insert.toml", "w") as out:
        out.write(f'description = "{rows} heroes in one [[insert]] (ci/bench-patch)"\n\n')
        out.write('[[insert]]\ntable = "hero"\nrows = [\n')
        for i in range(1, rows + 1):
            out.write(
                f'    {{ name = "Hero {i:06d}", secret_name = "Secret {i}", age = {age(i)} }},\n'
            )
        out.write("]\n")
    with open(f"{folder}/insert.sql", "w") as out:
        out.write("BEGIN;\n")
        for i in range(1, rows + 1):
            out.write(
                "INSERT INTO hero (name, secret_name, age) VALUES "
                f"('Hero {i:06d}', 'Secret {i}', {age(i)});\n"
            )
        out.write("COMMIT;\n")
    with open(f"{folder}/seed.sql", "w") as out:
        out.write(
            "BEGIN;\n"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            f"WHERE i < {rows})\n"
            "INSERT INTO hero (name, secret_name, age)\n"
            "SELECT printf('Hero %06d', i), 'x', 10 + i % 80 FROM n;\n"
            "COMMIT;\n"
        )
    with open(f"{folder}/update.toml", "w") as out:
        out.write(
            'description = "Every hero whose secret name is x turns 99 (ci/bench-patch)"\n\n'
            "[[update]]\n"
            'table = "hero"\n'
            'where = { secret_name = "x" }\n'
            "set = { age = 99 }\n"
        )
    with open(f"{folder}/update.sql", "w") as out:
        out.write("BEGIN;\nUPDATE hero SET age = 99 WHERE secret_name = 'x';\nCOMMIT;\n")


def rss(argv):
    stdin_path = None
    if argv[:1] == ["--stdin"]:
        stdin_path, argv = argv[1], argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    # GNU time's report goes to its own file (-o), apart from the command's output.
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        try:
            child = subprocess.run(
                ["/usr/bin/time", "-v", "-o", report.name, *argv],
                stdin=stdin,
                stdout=sys.stderr,
            )
        finally:
            if stdin_path:
                stdin.close()
        if child.returncode != 0:
            sys.exit(f"bench: `{' '.join(argv)}` exited with {child.returncode}")
        fields = {}
        for line in report.read().splitlines():
            key, _, value = line.strip().rpartition(": ")
            fields[key] = value
    peak = int(fields["Maximum resident set size (kbytes)"])
    wall = 0.0
    for part in fields["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":"):
        wall = wall * 60 + float(part)
    cpu = float(fields["User time (seconds)"]) + float(fields["System time (seconds)"])
    print(peak, round(wall * 1000), round(cpu * 1000))


def memory(rows, patch_file, strata_rss, sqlite3_rss):
    size = os.path.getsize(patch_file)
    peak, wall, cpu = (int(v) for v in strata_rss.split())
    _, raw_wall, raw_cpu = (int(v) for v in sqlite3_rss.split())
    times = peak * 1024 / size
    limit = min(4 * size, 1024**3)
    verdict = "meets" if peak * 1024 <= limit else "misses"
    print(
        f"memory, {rows} rows: peak RSS {peak / 1024:.0f} MB = {times:.2f} x the patch file"
        f" ({size / 1024**2:.1f} MB) ({verdict} the goal <= 4 x the file and <= 1 GB)"
    )
    print(
        f"  one run each: strata {wall} ms ({cpu} ms CPU), sqlite3 {raw_wall} ms"
        f" ({raw_cpu} ms CPU); ratio {wall / raw_wall:.2f}, CPU {cpu / raw_cpu:.2f}"
        f" (goal <= {GOAL})"
    )
    return verdict == "misses" or wall / raw_wall > GOAL


def summary(name, seconds, cpu_seconds):
    ms = sorted(s * 1000 for s in seconds)
    if len(ms) >= 2:
        q1, _, q3 = statistics.quantiles(ms, n=4)
    else:
        q1 = q3 = ms[0]
    values = [statistics.median(ms), q1, q3, ms[0], ms[-1], cpu_seconds * 1000]
    print(name, " ".join(f"{v:.3f}" for v in values))


def time_command(runs, warmup, name, command, prepare):
    def cpu():
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def once():
        if prepare:
            subprocess.run(prepare, shell=True, check=True)
        cpu_before = cpu()
        start = time.perf_counter()
        result = subprocess.run(
            command, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(f"bench: `{command}` exited with {result.returncode}")
        return elapsed, cpu() - cpu_before

    for _ in range(warmup):
        once()
    samples = [once() for _ in range(runs)]
    summary(name, [s[0] for s in samples], statistics.mean(s[1] for s in samples))


def hyperfine_json(path, name):
    with open(path) as f:
        result = json.load(f)["results"][0]
    summary(name, result["times"], result["user"] + result["system"])


def callgrind_total(path):
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                print(line.split()[1])
                return
    sys.exit(f"bench: no totals in {path}")


def read_pairs(path):
    values = {}
    if path and path != "-":
        with open(path) as f:
            for line in f:
                key, value = line.split(maxsplit=1)
                values[key] = value.strip()
    return values


def table(path, rows, rss_path=None, callgrind_path=None, patch_file=None):
    results = {}
    with open(path) as f:
        for line in f:
            key, *numbers = line.split()
            results[key] = [float(n) for n in numbers]
    peaks = read_pairs(rss_path)
    instructions = read_pairs(callgrind_path)
    labels = [
        ("strata-insert", f"strata patch: [[insert]] {rows} rows"),
        ("sqlite3-insert", f"sqlite3 < {rows} INSERTs in BEGIN/COMMIT"),
        ("strata-update", f"strata patch: [[update]] {rows} rows"),
        ("sqlite3-update", "sqlite3: one UPDATE in BEGIN/COMMIT"),
    ]
    header = (
        f"{'':44} {'median ms':>10} {'IQR ms':>17} {'min ms':>9} {'max ms':>9}"
        f" {'CPU ms':>8} {'peak RSS':>9}"
    )
    if instructions:
        header += f" {'instructions':>14}"
    print(header)
    for key, label in labels:
        median, q1, q3, low, high, cpu = results[key]
        peak = f"{int(peaks[key].split()[0]) / 1024:.0f} MB" if key in peaks else "-"
        line = (
            f"{label:44} {median:10.1f} {f'{q1:.1f}–{q3:.1f}':>17} {low:9.1f} {high:9.1f}"
            f" {cpu:8.1f} {peak:>9}"
        )
        if instructions:
            count = instructions.get(key)
            line += f" {int(count):14,}" if count else f" {'-':>14}"
        print(line)
    print()
    missed = False
    for what in ("insert", "update"):
        ratio = results[f"strata-{what}"][0] / results[f"sqlite3-{what}"][0]
        verdict = "meets" if ratio <= GOAL else "misses"
        missed |= ratio > GOAL
        cpu = results[f"strata-{what}"][5] / results[f"sqlite3-{what}"][5]
        line = (
            f"ratio {what}: strata / sqlite3 = {ratio:.2f}  ({verdict} the goal <= {GOAL});"
            f" CPU {cpu:.2f}"
        )
        a, b = instructions.get(f"strata-{what}"), instructions.get(f"sqlite3-{what}")
        if a and b:
            line += f"; instructions {int(a) / int(b):.2f}"
        print(line)
    if patch_file and "strata-insert" in peaks:
        size = os.path.getsize(patch_file)
        peak = int(peaks["strata-insert"].split()[0]) * 1024
        verdict = "meets" if peak <= 4 * size else "misses"
        missed |= peak > 4 * size
        print(
            f"memory insert: peak RSS {peak / 1024**2:.0f} MB = {peak / size:.2f} x the patch"
            f" file ({size / 1024**2:.1f} MB) ({verdict} the goal <= 4 x the file)"
        )
    return missed


def main(argv):
    command = argv[1] if len(argv) > 1 else ""
    if command == "files" and len(argv) == 4:
        files(argv[2], int(argv[3]))
    elif command == "rss":
        rss(argv[2:])
    elif command == "time" and len(argv) >= 6:
        runs, warmup, name = int(argv[2]), int(argv[3]), argv[4]
        rest = argv[5:]
        prepare = None
        if rest[:1] == ["--prepare"]:
            prepare, rest = rest[1], rest[2:]
        if rest[:1] == ["--"]:
            rest = rest[1:]
        time_command(runs, warmup, name, " ".join(rest), prepare)
    elif command == "hyperfine-json" and len(argv) == 4:
        hyperfine_json(argv[2], argv[3])
    elif command == "callgrind" and len(argv) == 3:
        callgrind_total(argv[2])
    elif command == "memory" and len(argv) == 6:
        memory(*argv[2:])
    elif command == "table" and 4 <= len(argv) <= 7:
        table(argv[2], argv[3], *argv[4:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
