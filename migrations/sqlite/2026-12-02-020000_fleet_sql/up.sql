-- Fleet queries in SQL (store/fleet.rs): the level of the latest sample's health findings
-- (rank of rt_core::api::HealthLevel: 0 unknown, 1 ok, 2 warning, 3 critical), written by ingest
-- with latest_findings and filled for existing rows by the server at start
-- (store::devices::refresh_latest_findings); the list's default sort order; and the "seen" time
-- (newest sample time, else last contact) that offline/online and the health filter follow.
ALTER TABLE devices ADD COLUMN sample_level INTEGER;
CREATE INDEX devices_name_nocase ON devices(name COLLATE NOCASE, id);
CREATE INDEX devices_seen ON devices(COALESCE(latest_collected_at, last_seen));
