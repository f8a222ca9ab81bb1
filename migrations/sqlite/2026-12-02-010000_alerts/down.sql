DROP TABLE alerts;
DROP TABLE device_alert_state;
