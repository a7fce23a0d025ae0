-- Declared types SQLite keeps as written, whatever their spelling.
CREATE TABLE customer (
    id INTEGER NOT NULL PRIMARY KEY,
    name NVARCHAR(40) NOT NULL,
    note TEXT,
    visits INT NOT NULL DEFAULT 0,
    balance DECIMAL(4,2),
    grade CHAR(1),
    seen TIMESTAMP,
    flags UNSIGNED BIG INT
);
INSERT INTO customer (name, note, visits, balance, grade, seen)
VALUES ('Ada', 'first', 3, 12.5, 'A', '2026-01-01 10:00:00'), ('Bob', NULL, 0, NULL, NULL, NULL);
