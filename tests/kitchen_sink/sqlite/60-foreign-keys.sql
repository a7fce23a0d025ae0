-- Foreign keys: on a column, to a composite key, with actions, DEFERRABLE
-- INITIALLY DEFERRED, explicit names, self-referencing; a unique constraint
-- next to a unique index on the same columns.
CREATE TABLE warehouse (
    region VARCHAR(4) NOT NULL,
    code INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    CONSTRAINT pk_warehouse PRIMARY KEY (region, code)
);
CREATE TABLE bin (
    id INTEGER NOT NULL PRIMARY KEY,
    region VARCHAR(4) NOT NULL,
    code INTEGER NOT NULL,
    shelf INTEGER NOT NULL,
    parent_id INTEGER REFERENCES bin (id) ON DELETE SET NULL,
    CONSTRAINT fk_bin_warehouse FOREIGN KEY (region, code)
        REFERENCES warehouse (region, code) ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT uq_bin_place UNIQUE (region, code, shelf)
);
CREATE UNIQUE INDEX bin_place_idx ON bin (region, code, shelf);
CREATE TABLE stock (
    id INTEGER NOT NULL PRIMARY KEY,
    region VARCHAR(4) NOT NULL,
    code INTEGER NOT NULL,
    shelf INTEGER NOT NULL,
    product_id INTEGER NOT NULL REFERENCES product (id) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (region, code, shelf) REFERENCES bin (region, code, shelf) DEFERRABLE INITIALLY DEFERRED
);
INSERT INTO warehouse VALUES ('EU', 1, 'Ghent');
INSERT INTO bin (region, code, shelf) VALUES ('EU', 1, 7);
INSERT INTO stock (region, code, shelf, product_id) VALUES ('EU', 1, 7, 1);
