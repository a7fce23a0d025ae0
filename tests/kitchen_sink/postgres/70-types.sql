-- Types beyond the portable set: PostgreSQL built-ins kept as the server spells
-- them, arrays, an extension type, and enums (one used, one not).
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE unused_level AS ENUM ('low', 'high');
CREATE TABLE profile (
    id serial PRIMARY KEY,
    handle citext NOT NULL UNIQUE,
    bio text,
    settings jsonb NOT NULL DEFAULT '{}',
    country char(2),
    tags text[],
    scores integer[] NOT NULL DEFAULT '{}',
    addr inet,
    nap interval,
    wakes time,
    search tsvector,
    feeling mood NOT NULL DEFAULT 'ok'
);
INSERT INTO profile (handle, bio, settings, country, tags, scores, addr, nap, wakes, feeling)
VALUES ('Ada', 'first', '{"theme": "dark"}', 'UK', '{math,engines}', '{9,10}', '10.0.0.1', '20 minutes', '07:30', 'happy'),
       ('bob', NULL, '{}', NULL, NULL, '{}', NULL, NULL, NULL, 'sad');
