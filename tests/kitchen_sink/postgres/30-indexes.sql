-- Indexes: plain, unique, expression, partial, gist, opclass, INCLUDE, sort
-- order and NULLS placement, NULLS NOT DISTINCT, hash, brin.
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE TABLE event (
    id serial PRIMARY KEY,
    name varchar(80) NOT NULL,
    email varchar,
    happened timestamptz NOT NULL DEFAULT now(),
    score integer,
    deleted boolean NOT NULL DEFAULT false
);
CREATE INDEX ix_event_name ON event (name);
CREATE UNIQUE INDEX event_email_lower ON event (lower(email));
CREATE INDEX event_live ON event (happened) WHERE NOT deleted;
CREATE INDEX event_name_pattern ON event (name varchar_pattern_ops);
CREATE INDEX event_score_include ON event (score) INCLUDE (name);
CREATE INDEX event_sorted ON event (happened DESC, score NULLS FIRST);
CREATE UNIQUE INDEX event_score_nnd ON event (score, name) NULLS NOT DISTINCT;
CREATE INDEX event_name_hash ON event USING hash (name);
CREATE INDEX event_happened_brin ON event USING brin (happened);
CREATE INDEX event_score_gist ON event USING gist (score);
INSERT INTO event (name, email, score) VALUES ('launch', 'A@x.org', 3), ('party', null, null);
