-- CHECK constraints: on a column (PostgreSQL's name), on the table (unnamed
-- and numbered, and with explicit names), over several columns.
CREATE TABLE shipment (
    id serial PRIMARY KEY,
    weight numeric(8,3) NOT NULL CHECK (weight > 0),
    status varchar(10) NOT NULL DEFAULT 'new' CHECK (status <> 'void'),
    sent_at timestamp,
    arrived_at timestamp,
    code varchar NOT NULL,
    CHECK (arrived_at IS NULL OR arrived_at >= sent_at),
    CONSTRAINT code_shape CHECK (code ~ '^[A-Z]{2}[0-9]+$' AND length(code) < 12)
);
INSERT INTO shipment (weight, status, code) VALUES (1.5, 'new', 'AB12');
