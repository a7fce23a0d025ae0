-- Comments on tables and columns.
CREATE TABLE note (
    id serial PRIMARY KEY,
    body varchar NOT NULL
);
COMMENT ON TABLE note IS 'Free text, one row per note';
COMMENT ON COLUMN note.body IS 'What was said; ''quoted'' too';
INSERT INTO note (body) VALUES ('hello');
