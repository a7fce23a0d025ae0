-- Arrays of the schema's own enums and domains: pulled with PostgreSQL's
-- spelling, type = { postgres = "mood[]" }.
CREATE DOMAIN ks_above_zero AS integer CHECK (VALUE > 0);
CREATE TABLE ks_diary (
    id serial PRIMARY KEY,
    moods mood[] NOT NULL DEFAULT '{}',
    scores ks_above_zero[]
);
INSERT INTO ks_diary (moods, scores) VALUES ('{sad,happy}', '{1,2,3}'), ('{}', NULL);
