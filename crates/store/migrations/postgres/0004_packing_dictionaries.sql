-- Nothing: PostgreSQL compresses large values itself, and records are stored as JSON text.
SELECT 1;
