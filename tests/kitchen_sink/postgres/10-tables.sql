-- Plain tables: every portable type, defaults, nullability, serial and
-- composite primary keys, unique constraints with default and explicit names.
CREATE TABLE category (
    id serial PRIMARY KEY,
    name varchar(40) NOT NULL UNIQUE,
    parent_id integer,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE product (
    id bigserial CONSTRAINT pk_product PRIMARY KEY,
    sku varchar(20) NOT NULL,
    title varchar NOT NULL DEFAULT 'untitled',
    price numeric(10,2) NOT NULL DEFAULT 0,
    weight real,
    ratio double precision DEFAULT 1.5,
    qty smallint NOT NULL DEFAULT 0,
    big bigint,
    active boolean NOT NULL DEFAULT true,
    released date,
    updated timestamp DEFAULT CURRENT_TIMESTAMP,
    token uuid,
    attrs json,
    blob bytea,
    category_id integer,
    CONSTRAINT uq_product_sku UNIQUE (sku)
);
CREATE TABLE tag (
    product_id bigint NOT NULL,
    label varchar(30) NOT NULL,
    position integer NOT NULL DEFAULT 1,
    PRIMARY KEY (product_id, label),
    UNIQUE (product_id, position)
);
INSERT INTO category (name) VALUES ('tools'), ('toys');
INSERT INTO product (sku, title, price, category_id) VALUES ('A-1', 'hammer', 9.5, 1), ('B-2', 'ball', 2, 2);
INSERT INTO tag VALUES (1, 'heavy', 1), (1, 'steel', 2);
