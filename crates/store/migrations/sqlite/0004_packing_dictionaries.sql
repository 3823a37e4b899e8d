-- The dictionaries a stream's records are packed with (see packing.rs): made from the first
-- records a sync writes of a connection's data type, with every value fewer than three of them
-- hold blanked out. Values name theirs by id; a dictionary is never changed or removed while
-- the database may hold a value packed with it.
CREATE TABLE packing_dictionaries (
    id         INTEGER PRIMARY KEY,
    connection TEXT NOT NULL,
    data_type  TEXT NOT NULL,
    bytes      BLOB NOT NULL,
    created_at TEXT NOT NULL
);
