DROP TABLE retention_cut;
