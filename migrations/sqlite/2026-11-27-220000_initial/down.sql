DROP TABLE events;
DROP TABLE samples;
DROP TABLE device_tokens;
DROP TABLE devices;
DROP TABLE enrollment_tokens;
DROP TABLE user_tokens;
DROP TABLE users;
