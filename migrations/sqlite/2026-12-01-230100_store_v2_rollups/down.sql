DROP TABLE rollup_1d;
DROP TABLE rollup_1h;
DROP TABLE rollup_5m;
