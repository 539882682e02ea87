int tr_version(void)
{
	return 1;
}
