-- Generated columns, stored and virtual.
CREATE TABLE line (
    id INTEGER NOT NULL PRIMARY KEY,
    qty INTEGER NOT NULL,
    price REAL NOT NULL,
    total REAL GENERATED ALWAYS AS (qty * price) STORED,
    label TEXT GENERATED ALWAYS AS ('x' || qty) VIRTUAL
);
INSERT INTO line (qty, price) VALUES (2, 1.5), (3, 4.0);
