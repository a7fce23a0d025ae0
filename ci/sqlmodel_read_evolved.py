"""Reads the tutorial database after the schema-evolution steps of
tests/evolution_property.rs (alias renamed from secret_name, a bigint age, an optional
headquarters, a power table and hero.power_id) through SQLModel models that match
the evolved schema, as the application would after the same change.

Usage: sqlmodel_read_evolved.py URL   (sqlite:///path or postgresql+psycopg://…)
Exits 1, saying what differs, unless Spider-Boy is still on the Preventers with his
alias and power, and a hero written through SQLModel reads back.
"""

import sys

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, Session, SQLModel, create_engine, select


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    headquarters: str | None = None


class Power(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str


class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    alias: str
    age: int | None = Field(default=None, sa_column=Column(BigInteger, index=True))
    power_id: int | None = Field(default=None, foreign_key="power.id")
    team_id: int | None = Field(default=None, foreign_key="team.id")


def main(url: str) -> int:
    engine = create_engine(url)
    with Session(engine) as session:
        spider_boy = session.exec(select(Hero).where(Hero.name == "Spider-Boy")).one()
        team = session.get(Team, spider_boy.team_id)
        power = session.get(Power, spider_boy.power_id)
        found = (spider_boy.alias, team.name if team else None, power.name if power else None)
        session.add(Hero(name="Tarantula", alias="Natalia Roman-on", age=5_000_000_001,
                         team_id=spider_boy.team_id))
        session.commit()
        age = session.exec(select(Hero).where(Hero.name == "Tarantula")).one().age
        nomads = Team(name="Nomads")
        session.add(nomads)
        session.commit()
        headquarters = session.get(Team, nomads.id).headquarters
    engine.dispose()
    expected = ("Pedro Parqueador", "Preventers", "webs")
    if found != expected:
        print(f"sqlmodel-evolved: Spider-Boy reads as {found}, expected {expected}", file=sys.stderr)
        return 1
    if age != 5_000_000_001 or headquarters is not None:
        print(f"sqlmodel-evolved: wrote age 5000000001 and no headquarters, read "
              f"{age} and {headquarters!r}", file=sys.stderr)
        return 1
    print(f"sqlmodel-evolved: {url.split(':')[0]}: SQLModel reads the evolved tutorial; "
          f"Spider-Boy ({found[0]}) is on the {found[1]} with {found[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
