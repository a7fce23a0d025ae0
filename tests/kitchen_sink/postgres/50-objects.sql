-- Views, materialized views, functions, triggers and extensions.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE audit (
    id serial PRIMARY KEY,
    title varchar NOT NULL,
    touched timestamp
);
CREATE INDEX audit_title_trgm ON audit USING gin (title gin_trgm_ops);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.touched = now();
    RETURN NEW;
END
$$;
CREATE FUNCTION add_one(x integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT x + 1';
CREATE TRIGGER audit_touch BEFORE INSERT OR UPDATE ON audit FOR EACH ROW EXECUTE FUNCTION touch();
CREATE VIEW audit_titles AS SELECT id, upper(title) AS title FROM audit;
CREATE MATERIALIZED VIEW audit_count AS SELECT count(*) AS n FROM audit;
INSERT INTO audit (title) VALUES ('first');
