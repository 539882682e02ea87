int tr_version(void);
