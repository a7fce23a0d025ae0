-- Domains: over a portable type with an unnamed CHECK (PostgreSQL's name),
-- over varchar with NOT NULL, a default and two named CHECKs, over an enum,
-- over an array; columns of them with and without their own NOT NULL/default.
CREATE TYPE ks_mood AS ENUM ('sad', 'ok', 'glad');
CREATE DOMAIN ks_positive AS integer CHECK (VALUE > 0);
CREATE DOMAIN ks_email AS varchar(200) NOT NULL DEFAULT 'nobody@example.org'
    CONSTRAINT ks_email_at CHECK (VALUE LIKE '%@%')
    CONSTRAINT ks_email_short CHECK (length(VALUE) < 100);
CREATE DOMAIN ks_cheerful AS ks_mood DEFAULT 'ok' CHECK (VALUE <> 'sad');
CREATE DOMAIN ks_scores AS integer[];
CREATE TABLE ks_member (
    id serial PRIMARY KEY,
    age ks_positive,
    visits ks_positive NOT NULL DEFAULT 1,
    mail ks_email,
    mood ks_cheerful,
    scores ks_scores
);
INSERT INTO ks_member (age, mail, mood, scores) VALUES (30, 'a@b.org', 'glad', '{1,2}');
