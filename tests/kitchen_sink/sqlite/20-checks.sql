-- CHECK constraints on a column, on the table, named and unnamed.
CREATE TABLE shipment (
    id INTEGER NOT NULL PRIMARY KEY,
    weight NUMERIC(8, 3) NOT NULL CHECK (weight > 0),
    status VARCHAR(10) NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'sent', 'lost')),
    sent_at DATETIME,
    arrived_at DATETIME,
    code VARCHAR NOT NULL,
    CHECK (arrived_at IS NULL OR arrived_at >= sent_at),
    CONSTRAINT code_shape CHECK (length(code) < 12)
);
INSERT INTO shipment (weight, status, code) VALUES (1.5, 'new', 'AB12');
