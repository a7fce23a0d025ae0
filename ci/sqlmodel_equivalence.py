#!/usr/bin/env python3
"""Prove that a database built by strata is indistinguishable, to SQLModel/SQLAlchemy,
from one built by ``SQLModel.metadata.create_all`` with the SQLModel tutorial's models.

Usage:
    sqlmodel_equivalence.py STRATA_DB REFERENCE_DB

Each argument is a SQLAlchemy URL (``sqlite:///…``, ``postgresql+psycopg://…``) or a
plain path to a SQLite file (ci/check-sqlmodel-sqlite passes paths,
ci/check-sqlmodel-postgres two fresh databases on one server). STRATA_DB must already hold
strata's migrated schema and no rows in the tutorial's tables. REFERENCE_DB must be empty
(a SQLite path that does not exist yet, or an empty database); this script fills it with
``create_all``.

Steps:
 1. build the reference database with ``SQLModel.metadata.create_all``;
 2. compare both through ``sqlalchemy.inspect``: tables, columns (types, nullability,
    defaults such as PostgreSQL's ``nextval('team_id_seq'::regclass)``), primary keys and
    their constraint names, foreign keys with their names, indexes, unique and check
    constraints, and on PostgreSQL the sequences (owner column, type, start, step);
    strata's own history tables are ignored;
 3. use both databases as an application would: insert the tutorial's rows through
    SQLModel sessions without ids, check the ids the database assigned, select with joins,
    move Spider-Boy to the Preventers, then insert one more team and hero without ids (the
    id sequences must still be ahead of the rows); the observations must match on both
    sides.

Exit status: 0 when both databases match, 1 on any difference, 2 on a usage error.
The functions ``build_reference``, ``compare_schemas`` and ``exercise`` take URLs, so a
PostgreSQL twin of this check can reuse them unchanged.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeEngine
from sqlmodel import Field, Session, SQLModel, select

# Tables that strata (or its migration runner) owns; an application never sees them.
IGNORED_TABLES = {"refinery_schema_history", "strata_patch_history"}

STRATA = "strata"
REFERENCE = "create_all"


# --- the SQLModel tutorial's models ---------------------------------------------------


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    headquarters: str


class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    secret_name: str
    age: int | None = Field(default=None, index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id")


# --- URLs and engines -----------------------------------------------------------------


def to_url(arg: str) -> str:
    """A SQLAlchemy URL as given, or a SQLite URL for a plain file path."""
    if "://" in arg:
        return arg
    return "sqlite:///" + os.path.abspath(arg)


def sqlite_file(url: str) -> str | None:
    """The file behind a SQLite URL (None for other databases and for :memory:)."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or u.database in (None, "", ":memory:"):
        return None
    return u.database


def engine_for(url: str) -> Engine:
    return create_engine(url)


def shown(url: str) -> str:
    """A URL fit for output: the password masked."""
    return make_url(url).render_as_string(hide_password=True)


def user_tables(engine: Engine) -> list[str]:
    names = inspect(engine).get_table_names()
    return sorted(t for t in names if t not in IGNORED_TABLES)


# --- 1. the reference database --------------------------------------------------------


def build_reference(url: str) -> None:
    """Create the tutorial's tables with create_all in an empty database."""
    engine = engine_for(url)
    try:
        existing = inspect(engine).get_table_names()
        if existing:
            raise ValueError(
                f"the reference database {shown(url)} is not empty "
                f"(tables: {', '.join(existing)}); give a fresh one"
            )
        SQLModel.metadata.create_all(engine)
    finally:
        engine.dispose()


# --- 2. the schema as SQLAlchemy sees it ----------------------------------------------


def _plain(value: Any) -> Any:
    """Make reflected values comparable and printable: types become str(type)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, TypeEngine):
        return str(value)
    return value


def describe(url: str) -> dict[str, Any]:
    """Everything sqlalchemy.inspect reports about the application's tables."""
    engine = engine_for(url)
    try:
        insp = inspect(engine)
        schema: dict[str, Any] = {}
        for table in user_tables(engine):
            columns = [_plain(c) for c in insp.get_columns(table)]
            indexes = []
            for ix in insp.get_indexes(table):
                ix = _plain(ix)
                ix["unique"] = bool(ix["unique"])
                indexes.append(ix)
            schema[table] = {
                "column order": [c["name"] for c in columns],
                "columns": {c["name"]: c for c in columns},
                "primary key": _plain(insp.get_pk_constraint(table))["constrained_columns"],
                # None on SQLite (unnamed on both sides); team_pkey etc. on PostgreSQL.
                "primary key name": insp.get_pk_constraint(table).get("name"),
                "foreign keys": sorted(
                    (_plain(fk) for fk in insp.get_foreign_keys(table)),
                    key=lambda fk: (fk["constrained_columns"], fk["referred_table"]),
                ),
                "indexes": {ix["name"]: ix for ix in indexes},
                "unique constraints": sorted(
                    (_plain(u) for u in insp.get_unique_constraints(table)),
                    key=lambda u: (u["column_names"], u.get("name") or ""),
                ),
                "check constraints": sorted(
                    (_plain(c) for c in insp.get_check_constraints(table)),
                    key=lambda c: (c.get("name") or "", c["sqltext"]),
                ),
            }
        if engine.dialect.name == "postgresql":
            schema["(sequences)"] = _pg_sequences(engine)
        return schema
    finally:
        engine.dispose()


def _pg_sequences(engine: Engine) -> dict[str, Any]:
    """PostgreSQL's sequences in the default schema: the inspector's names, plus what
    SERIAL implies and the inspector does not show (the owning column, the type, start and
    step), so a hand-made ``DEFAULT nextval(...)`` on an unowned bigint sequence would
    differ from create_all's SERIAL. Sequences of strata's ignored tables are left out."""
    names = inspect(engine).get_sequence_names()
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT s.sequencename, s.data_type::text, s.start_value, s.increment_by, "
                "       s.min_value, s.max_value, s.cycle, "
                "       (SELECT d.refobjid::regclass::text || '.' || a.attname "
                "          FROM pg_depend d "
                "          JOIN pg_attribute a ON a.attrelid = d.refobjid "
                "                             AND a.attnum = d.refobjsubid "
                "         WHERE d.classid = 'pg_class'::regclass "
                "           AND d.objid = format('%I.%I', s.schemaname, s.sequencename)"
                "                         ::regclass "
                "           AND d.refclassid = 'pg_class'::regclass "
                "           AND d.deptype IN ('a', 'i')) AS owned_by "
                "  FROM pg_sequences s WHERE s.schemaname = current_schema()"
            )
        ).all()
    details = {r[0]: r[1:] for r in rows}
    for name in sorted(names):
        if any(name.startswith(t + "_") for t in IGNORED_TABLES):
            continue
        data_type, start, step, lo, hi, cycle, owned_by = details.get(name, (None,) * 7)
        if owned_by and owned_by.split(".")[0].strip('"') in IGNORED_TABLES:
            continue
        out[name] = {
            "owned by": owned_by,
            "type": data_type,
            "start": start,
            "increment": step,
            "min": lo,
            "max": hi,
            "cycle": cycle,
        }
    return out


def _diff(path: str, left: Any, right: Any, out: list[str]) -> None:
    """Readable differences between two reflected structures, one line each."""
    if isinstance(left, dict) and isinstance(right, dict):
        for key in list(left) + [k for k in right if k not in left]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in right:
                out.append(f"  {sub}: only in {STRATA}'s database: {left[key]!r}")
            elif key not in left:
                out.append(f"  {sub}: only in the {REFERENCE} database: {right[key]!r}")
            else:
                _diff(sub, left[key], right[key], out)
    elif (
        isinstance(left, list)
        and isinstance(right, list)
        and len(left) == len(right)
        and all(isinstance(x, dict) for x in left + right)
    ):
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            _diff(f"{path}[{i}]", a, b, out)
    elif left != right:
        out.append(f"  {path}:\n      {STRATA:>10}: {left!r}\n      {REFERENCE:>10}: {right!r}")


def compare_schemas(strata_url: str, reference_url: str) -> tuple[list[str], dict[str, Any]]:
    """(differences, reference description); no differences means indistinguishable."""
    ours = describe(strata_url)
    theirs = describe(reference_url)
    out: list[str] = []
    _diff("", ours, theirs, out)
    return out, theirs


# --- 3. use it as an application would ------------------------------------------------


def exercise(url: str) -> tuple[list[str], dict[str, Any]]:
    """Insert the tutorial's rows through SQLModel sessions and read them back.

    Returns (problems, observations). Problems are checked against what the tutorial
    promises; observations are compared between the two databases by the caller."""
    problems: list[str] = []
    seen: dict[str, Any] = {}
    engine = engine_for(url)
    try:
        _use_like_the_tutorial(engine, problems, seen)
    except SQLAlchemyError as exc:
        # The database refused what the tutorial's code does: that is the finding.
        message = str(exc).split("\n(Background on this error")[0]
        problems.append(
            f"the tutorial's code failed: {type(exc).__name__}:\n    "
            + message.replace("\n", "\n    ")
        )
        return problems, seen
    finally:
        engine.dispose()

    if problems:
        return problems, seen
    for key, want in EXPECTED.items():
        got = seen.get(key)
        if got != want:
            problems.append(f"{key}: expected {want!r}, got {got!r}")
    return problems, seen


def _use_like_the_tutorial(engine: Engine, problems: list[str], seen: dict[str, Any]) -> None:
    """The tutorial's inserts, selects and update; what they return goes into seen."""
    with Session(engine) as session:
        for model in (Team, Hero):
            rows = session.exec(select(model)).all()
            if rows:
                problems.append(
                    f"table {model.__tablename__} is not empty before the inserts "
                    f"({len(rows)} rows)"
                )
        if problems:
            return

        preventers = Team(name="Preventers", headquarters="Sharp Tower")
        z_force = Team(name="Z-Force", headquarters="Sister Margaret's Bar")
        session.add(preventers)
        session.add(z_force)
        session.commit()
        session.refresh(preventers)
        session.refresh(z_force)
        seen["team ids"] = [preventers.id, z_force.id]

        deadpond = Hero(name="Deadpond", secret_name="Dive Wilson", team_id=z_force.id)
        rusty = Hero(name="Rusty-Man", secret_name="Tommy Sharp", age=48, team_id=preventers.id)
        spider = Hero(name="Spider-Boy", secret_name="Pedro Parqueador")
        for hero in (deadpond, rusty, spider):
            session.add(hero)
        session.commit()
        for hero in (deadpond, rusty, spider):
            session.refresh(hero)
        seen["hero ids"] = [deadpond.id, rusty.id, spider.id]

    # A new session, so every value comes from the database, not the identity map.
    with Session(engine) as session:
        seen["heroes"] = [
            (h.id, h.name, h.secret_name, h.age, h.team_id)
            for h in session.exec(select(Hero).order_by(Hero.id)).all()
        ]
        seen["join"] = [
            (h.name, t.name)
            for h, t in session.exec(select(Hero, Team).join(Team).order_by(Hero.id)).all()
        ]
        seen["left join"] = [
            (h.name, t.name if t else None)
            for h, t in session.exec(
                select(Hero, Team).join(Team, isouter=True).order_by(Hero.id)
            ).all()
        ]
        seen["where on indexed columns"] = [
            h.name
            for h in session.exec(
                select(Hero).where(Hero.name == "Rusty-Man").where(Hero.age == 48)
            ).all()
        ]

        # The example project's second patch, the way the tutorial writes it.
        spider = session.exec(select(Hero).where(Hero.name == "Spider-Boy")).one()
        team = session.exec(select(Team).where(Team.name == "Preventers")).one()
        spider.team_id = team.id
        session.add(spider)
        session.commit()
        session.refresh(spider)
        seen["join after update"] = [
            (h.name, t.name)
            for h, t in session.exec(select(Hero, Team).join(Team).order_by(Hero.id)).all()
        ]

    # Later chapters add rows the same way, with the tutorial's rows already there: the
    # database must still hand out fresh ids (on PostgreSQL the sequences stay ahead).
    with Session(engine) as session:
        wakaland = Team(name="Wakaland", headquarters="Wakaland Capital City")
        session.add(wakaland)
        session.commit()
        session.refresh(wakaland)
        black_lion = Hero(
            name="Black Lion", secret_name="Trevor Challa", age=35, team_id=wakaland.id
        )
        session.add(black_lion)
        session.commit()
        session.refresh(black_lion)
        seen["ids of later inserts"] = [wakaland.id, black_lion.id]
        seen["rows after later inserts"] = [
            len(session.exec(select(Team)).all()),
            len(session.exec(select(Hero)).all()),
        ]


EXPECTED: dict[str, Any] = {
    "team ids": [1, 2],
    "hero ids": [1, 2, 3],
    "heroes": [
        (1, "Deadpond", "Dive Wilson", None, 2),
        (2, "Rusty-Man", "Tommy Sharp", 48, 1),
        (3, "Spider-Boy", "Pedro Parqueador", None, None),
    ],
    "join": [("Deadpond", "Z-Force"), ("Rusty-Man", "Preventers")],
    "left join": [
        ("Deadpond", "Z-Force"),
        ("Rusty-Man", "Preventers"),
        ("Spider-Boy", None),
    ],
    "where on indexed columns": ["Rusty-Man"],
    "join after update": [
        ("Deadpond", "Z-Force"),
        ("Rusty-Man", "Preventers"),
        ("Spider-Boy", "Preventers"),
    ],
    "ids of later inserts": [3, 4],
    "rows after later inserts": [3, 4],
}


# --- the check ------------------------------------------------------------------------


def check(strata_url: str, reference_url: str, label: str = "sqlmodel") -> int:
    """Run the whole check on two URLs; print the outcome; return the exit status."""
    build_reference(reference_url)

    differences, reference = compare_schemas(strata_url, reference_url)
    if differences:
        print(
            f"{label}: strata's database differs from create_all's (as sqlalchemy.inspect sees it):"
        )
        print("\n".join(differences))
        return 1

    failed = False
    results = {}
    for name, url in ((STRATA, strata_url), (REFERENCE, reference_url)):
        problems, seen = exercise(url)
        results[name] = seen
        if problems:
            failed = True
            print(f"{label}: using the {name} database through SQLModel sessions went wrong:")
            print("\n".join("  " + p for p in problems))
    if not failed and results[STRATA] != results[REFERENCE]:
        failed = True
        out: list[str] = []
        _diff("", results[STRATA], results[REFERENCE], out)
        print(f"{label}: the same SQLModel code saw different data on the two databases:")
        print("\n".join(out))
    if failed:
        return 1

    tables = {k: v for k, v in reference.items() if not k.startswith("(")}
    indexes = sum(len(t["indexes"]) for t in tables.values())
    fks = sum(len(t["foreign keys"]) for t in tables.values())
    sequences = len(reference.get("(sequences)", {}))
    extra = f", {_count(sequences, 'sequence')}" if "(sequences)" in reference else ""
    print(
        f"{label}: strata's database matches create_all "
        f"({_count(len(tables), 'table')}, {_count(indexes, 'index', 'indexes')}, "
        f"{_count(fks, 'foreign key')}{extra}; "
        f"tutorial rows inserted, ids and joins as expected, later inserts got ids 3 and 4)"
    )
    return 0


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    strata_url, reference_url = to_url(argv[1]), to_url(argv[2])

    path = sqlite_file(strata_url)
    if path is not None and not os.path.isfile(path):
        print(f"sqlmodel_equivalence: strata's database {path} does not exist", file=sys.stderr)
        return 2
    label = "sqlmodel-" + make_url(strata_url).get_backend_name()
    label = label.replace("postgresql", "postgres")
    try:
        return check(strata_url, reference_url, label)
    except ValueError as exc:  # a setup mistake, not a difference
        print(f"sqlmodel_equivalence: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
