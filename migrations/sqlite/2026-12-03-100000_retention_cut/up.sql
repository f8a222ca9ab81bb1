-- Store v2, retention: when the optional database size cap ([retention] max_database_bytes) makes
-- the retention job keep a tier for less time than configured, the tier has a row here saying
-- how many days it keeps now and since when (store::retention). No row: the tier keeps what it
-- is configured to. Read by /fleet/summary (the console's header) and /metrics.
CREATE TABLE retention_cut (
    tier TEXT PRIMARY KEY,
    configured_days BIGINT NOT NULL,
    kept_days BIGINT NOT NULL,
    since BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
