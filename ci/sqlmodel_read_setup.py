"""Opens a database that `strata setup` built, the way the SQLModel tutorial's
application does, and reads the heroes with their teams.

Usage: sqlmodel_read_setup.py URL   (sqlite:///path or postgresql://…)
Exits 1, saying what differs, unless the rows are the tutorial's with
Spider-Boy on the Preventers.
"""

import sys

from sqlmodel import Session, create_engine, select

# The tutorial's models, as the equivalence check declares them.
from sqlmodel_equivalence import Hero, Team


EXPECTED = [
    ("Deadpond", "Dive Wilson", None, "Z-Force"),
    ("Rusty-Man", "Tommy Sharp", 48, "Preventers"),
    ("Spider-Boy", "Pedro Parqueador", None, "Preventers"),
]


def main(url: str) -> int:
    engine = create_engine(url)
    with Session(engine) as session:
        rows = session.exec(
            select(Hero, Team).join(Team, isouter=True).order_by(Hero.id)
        ).all()
        found = [
            (hero.name, hero.secret_name, hero.age, team.name if team else None)
            for hero, team in rows
        ]
        spider_boy = session.exec(select(Hero).where(Hero.name == "Spider-Boy")).one()
        team = session.get(Team, spider_boy.team_id) if spider_boy.team_id else None
    engine.dispose()
    if found != EXPECTED:
        print(f"sqlmodel-setup: heroes with teams are {found}, expected {EXPECTED}", file=sys.stderr)
        return 1
    if team is None or team.name != "Preventers":
        print(f"sqlmodel-setup: Spider-Boy's team is {team}, expected the Preventers", file=sys.stderr)
        return 1
    print(f"sqlmodel-setup: {url.split(':')[0]}: SQLModel reads the tutorial's heroes; "
          f"Spider-Boy's team is {team.name} ({team.headquarters})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
