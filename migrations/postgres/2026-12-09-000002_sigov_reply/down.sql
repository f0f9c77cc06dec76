DROP TABLE sigov_reply;
