-- SQLite's legacy quirk: a key other than the INTEGER PRIMARY KEY (the rowid)
-- may hold NULL unless declared NOT NULL; pull keeps it nullable.
CREATE TABLE legacy_code (code TEXT PRIMARY KEY, label TEXT);
INSERT INTO legacy_code VALUES ('a', 'first'), (NULL, 'no code');
CREATE TABLE legacy_pair (a TEXT, b INT, note TEXT, PRIMARY KEY (a, b));
INSERT INTO legacy_pair VALUES ('x', 1, 'both'), ('x', NULL, 'half');
