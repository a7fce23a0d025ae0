"""strata migrate against a database 10 ms away, beside psql -1 -f (see ci/bench-roundtrips).

A small TCP proxy on loopback delays every chunk the server sends by DELAY, so
each round trip costs it, and counts the client's round trips after login: a
burst of client bytes that follows a server reply, counted once the server has
said ReadyForQuery ('Z') for the first time (sslmode=disable, so the server's
stream is plain protocol messages from the first byte).
"""
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import bench_postgres  # noqa: E402  (the migrations of ci/bench-postgres)

DELAY = float(os.environ.get("BENCH_DELAY_MS", "10")) / 1000


class Proxy:
    def __init__(self, host, port):
        self.target = (host, port)
        self.round_trips = 0

    async def pipe_client(self, reader, writer, state):
        while data := await reader.read(65536):
            # Terminate ('X') gets no answer: not a round trip.
            if state["logged_in"] and state["server_spoke"] and not data.startswith(b"X"):
                self.round_trips += 1
                if os.environ.get("BENCH_TRACE"):
                    print("round trip:", data[:120], file=sys.stderr)
            state["server_spoke"] = False
            writer.write(data)
            await writer.drain()
        writer.close()

    async def pipe_server(self, reader, writer, state):
        buffer = b""
        while data := await reader.read(65536):
            await asyncio.sleep(DELAY)
            if not state["logged_in"]:
                buffer += data
                while len(buffer) >= 5:
                    kind = buffer[0:1]
                    length = int.from_bytes(buffer[1:5], "big")
                    if len(buffer) < 1 + length:
                        break
                    buffer = buffer[1 + length:]
                    if kind == b"Z":
                        state["logged_in"] = True
            state["server_spoke"] = True
            writer.write(data)
            await writer.drain()
        writer.close()

    async def handle(self, client_reader, client_writer):
        server_reader, server_writer = await asyncio.open_connection(*self.target)
        state = {"logged_in": False, "server_spoke": False}
        await asyncio.gather(
            self.pipe_client(client_reader, server_writer, state),
            self.pipe_server(server_reader, client_writer, state),
            return_exceptions=True,
        )

    def start(self):
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def serve():
            server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            async with server:
                await server.serve_forever()

        threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True).start()
        ready.wait()


def psql_bin():
    for version in ("15", "16", "17", "14"):
        path = f"/usr/lib/postgresql/{version}/bin/psql"
        if os.path.exists(path):
            return path
    return "psql"


def main():
    server = os.environ["STRATA_TEST_PG_URL"]
    strata = os.environ["STRATA_BIN"]
    count = int(os.environ.get("BENCH_MIGRATIONS", "200"))
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    parts = urllib.parse.urlsplit(server)
    proxy = Proxy(parts.hostname, parts.port)
    proxy.start()

    def through_proxy(database):
        netloc = f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}"
        return urllib.parse.urlunsplit(
            (parts.scheme, netloc, "/" + database, "sslmode=disable", "")
        )

    def admin(sql):
        subprocess.run([psql_bin(), "-X", "-q", "-d", server, "-c", sql], check=True,
                       stdout=subprocess.DEVNULL)

    with tempfile.TemporaryDirectory() as work:
        project = os.path.join(work, "project")
        os.makedirs(project)
        with open(os.path.join(project, "schema.toml"), "w") as f:
            f.write('[project]\ndialects = ["postgres"]\n\n[table.unused.columns]\nid = { type = "integer", primary_key = true }\n')
        all_sql = os.path.join(work, "all.sql")
        bench_postgres.migrations(count, os.path.join(project, "migrations", "postgres"), all_sql)

        times = {"strata": [], "psql": []}
        trips = {}
        for run in range(runs):
            for name in times:
                database = f"bench_rt_{name}"
                admin(f"DROP DATABASE IF EXISTS {database}")
                admin(f"CREATE DATABASE {database}")
                url = through_proxy(database)
                if name == "strata":
                    command = [strata, "--project", project, "migrate", "--database-url", url, "--quiet"]
                else:
                    command = [psql_bin(), "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", all_sql]
                proxy.round_trips = 0
                started = time.perf_counter()
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
                times[name].append((time.perf_counter() - started) * 1000)
                trips[name] = proxy.round_trips

        proxy.round_trips = 0
        subprocess.run([strata, "--project", project, "migrate", "--database-url",
                        through_proxy("bench_rt_strata"), "--quiet"], check=True)
        noop = proxy.round_trips
        for name in times:
            admin(f"DROP DATABASE IF EXISTS bench_rt_{name}")

    strata_ms = statistics.median(times["strata"])
    psql_ms = statistics.median(times["psql"])
    print(f"{count} migrations, {DELAY * 1000:.0f} ms added per round trip, median of {runs}:")
    print(f"  strata migrate       {strata_ms:8.0f} ms   {trips['strata']} round trips after login")
    print(f"  psql -1 -f           {psql_ms:8.0f} ms   {trips['psql']} round trips after login")
    print(f"  ratio strata / psql  {strata_ms / psql_ms:8.2f}   (goal <= 0.5)")
    print(f"  no-op migrate: {noop} round trips after login   (goal <= 4)")


if __name__ == "__main__":
    main()
