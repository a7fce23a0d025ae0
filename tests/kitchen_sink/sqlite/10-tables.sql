-- Plain tables: the portable types, defaults, nullability, an INTEGER
-- primary key (rowid), composite keys, unique constraints.
CREATE TABLE category (
    id INTEGER NOT NULL PRIMARY KEY,
    name VARCHAR(40) NOT NULL UNIQUE,
    parent_id INTEGER,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE product (
    id INTEGER NOT NULL,
    sku VARCHAR(20) NOT NULL,
    title VARCHAR NOT NULL DEFAULT 'untitled',
    price NUMERIC(10, 2) NOT NULL DEFAULT 0,
    weight REAL,
    active BOOLEAN NOT NULL DEFAULT 1,
    released DATE,
    blob BLOB,
    category_id INTEGER,
    CONSTRAINT pk_product PRIMARY KEY (id),
    CONSTRAINT uq_product_sku UNIQUE (sku)
);
CREATE TABLE tag (
    product_id INTEGER NOT NULL,
    label VARCHAR(30) NOT NULL,
    position INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (product_id, label),
    UNIQUE (product_id, position)
);
INSERT INTO category (name) VALUES ('tools'), ('toys');
INSERT INTO product (sku, title, price, category_id) VALUES ('A-1', 'hammer', 9.5, 1), ('B-2', 'ball', 2, 2);
INSERT INTO tag VALUES (1, 'heavy', 1), (1, 'steel', 2);
