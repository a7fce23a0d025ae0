-- Foreign keys: on a column, to a composite key, with actions, DEFERRABLE and
-- INITIALLY DEFERRED, with explicit names, self-referencing, two keys on one
-- column; and a unique constraint next to a unique index on the same columns.
CREATE TABLE warehouse (
    region varchar(4) NOT NULL,
    code integer NOT NULL,
    name varchar NOT NULL,
    CONSTRAINT pk_warehouse PRIMARY KEY (region, code)
);
CREATE TABLE bin (
    id serial PRIMARY KEY,
    region varchar(4) NOT NULL,
    code integer NOT NULL,
    shelf integer NOT NULL,
    parent_id integer REFERENCES bin (id) ON DELETE SET NULL,
    CONSTRAINT fk_bin_warehouse FOREIGN KEY (region, code)
        REFERENCES warehouse (region, code) ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT uq_bin_place UNIQUE (region, code, shelf)
);
CREATE UNIQUE INDEX bin_place_idx ON bin (region, code, shelf);
CREATE TABLE stock (
    id serial PRIMARY KEY,
    region varchar(4) NOT NULL,
    code integer NOT NULL,
    shelf integer NOT NULL,
    product_id bigint NOT NULL REFERENCES product (id) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (region, code, shelf) REFERENCES bin (region, code, shelf) DEFERRABLE,
    CONSTRAINT stock_product_again FOREIGN KEY (product_id) REFERENCES product (id) ON DELETE RESTRICT
);
ALTER TABLE category ADD CONSTRAINT category_parent FOREIGN KEY (parent_id) REFERENCES category (id) ON UPDATE SET NULL;
INSERT INTO warehouse VALUES ('EU', 1, 'Ghent');
INSERT INTO bin (region, code, shelf) VALUES ('EU', 1, 7);
INSERT INTO stock (region, code, shelf, product_id) VALUES ('EU', 1, 7, 1);
