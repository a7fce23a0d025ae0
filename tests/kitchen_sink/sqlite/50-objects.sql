-- Views and triggers.
CREATE TABLE audit (
    id INTEGER NOT NULL PRIMARY KEY,
    title VARCHAR NOT NULL,
    touched DATETIME
);
CREATE TRIGGER audit_touch AFTER INSERT ON audit FOR EACH ROW
BEGIN
    UPDATE audit SET touched = '2000-01-01 00:00:00' WHERE id = NEW.id AND touched IS NULL;
END;
CREATE VIEW audit_titles AS SELECT id, upper(title) AS title FROM audit;
INSERT INTO audit (title) VALUES ('first');
