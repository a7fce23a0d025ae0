-- Indexes: plain, unique, expression, partial, descending.
CREATE TABLE event (
    id INTEGER NOT NULL PRIMARY KEY,
    name VARCHAR(80) NOT NULL,
    email VARCHAR,
    happened DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    score INTEGER,
    deleted BOOLEAN NOT NULL DEFAULT 0
);
CREATE INDEX ix_event_name ON event (name);
CREATE UNIQUE INDEX event_email_lower ON event (lower(email));
CREATE INDEX event_live ON event (happened) WHERE NOT deleted;
CREATE INDEX event_sorted ON event (happened DESC, score);
CREATE UNIQUE INDEX event_score_name ON event (score, name);
INSERT INTO event (name, email, score) VALUES ('launch', 'A@x.org', 3), ('party', null, null);
