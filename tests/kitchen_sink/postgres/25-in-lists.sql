-- IN lists over varchar columns, which the server prints as `= ANY ((ARRAY[…])::text[])`,
-- in a column CHECK, a table CHECK and a partial index's predicate.
CREATE TABLE delivery (
    id serial PRIMARY KEY,
    status varchar(10) NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'sent', 'it''s')),
    channel varchar NOT NULL,
    priority char(1),
    CONSTRAINT delivery_channel_known CHECK (channel IN ('mail', 'post') OR priority IN ('a', 'b'))
);
CREATE INDEX delivery_open ON delivery (id) WHERE status IN ('new', 'sent');
INSERT INTO delivery (status, channel, priority) VALUES ('new', 'mail', NULL), ('sent', 'fax', 'a');
