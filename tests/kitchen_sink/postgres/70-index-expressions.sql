-- Indexes with several expression keys between column keys: pull reads all of
-- an index's expressions in one pg_get_expr of the list and splits it at the
-- top-level commas, so the expressions hold commas in calls, strings and arrays.
CREATE TABLE reading (
    id serial PRIMARY KEY,
    label varchar(40) NOT NULL,
    note varchar,
    value integer,
    taken timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reading_mixed ON reading (label, coalesce(note, 'a, b'), value, (value + 1) DESC, lower(label) varchar_pattern_ops);
CREATE INDEX reading_pair ON reading (coalesce(value, 0), (ARRAY[value, 1]), (label || ',')) WHERE value > 0;
CREATE UNIQUE INDEX reading_quote ON reading (replace(label, '''', ','), taken);
INSERT INTO reading (label, note, value) VALUES ('x', 'y', 1), ('it''s', NULL, 2);
