#include "common.h"
#include <stdint.h>
#include <sys/mman.h>
/* keyctl by command (_keyctl): the command an int (its upper half ignored),
 * key serials by KEY_SPEC_* name, permissions, strings, an out buffer,
 * an errno, DH_COMPUTE's params and its KDF params' pointers (the table's
 * keyctl_kdf_params layout), PKEY_*'s params and buffers, MOVE's flags. */
struct kdf { char *hashname; char *otherinfo; uint32_t otherinfolen; uint32_t spare[8]; };
struct pkey { int32_t key_id; uint32_t in_len; uint32_t out_len; uint32_t spare[7]; };
int main(int argc, char **argv) {
	open_out(argc, argv);
	long r;
	char *pg = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pg == MAP_FAILED || mprotect(pg + 4096, 4096, PROT_NONE))
		return 1;
	char *end = pg + 4096;

	r = syscall(SYS_keyctl, 0xbadc0dedfacefeedUL, 1UL, 2UL, 3UL, 4UL);
	EXPECT("keyctl(0xfacefeed /* KEYCTL_??? */, 0x1, 0x2, 0x3, 0x4) = %s", res(r));
	r = syscall(SYS_keyctl, G | 0, G | 0xffffffffUL, G | 1, 0UL, 0UL);
	long tk = r;
	EXPECT("keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_THREAD_KEYRING, 1) = %s", res(r));
	r = syscall(SYS_keyctl, G | 5, G | 0xfffffff8UL, G | 0x3f010101UL, 0UL, 0UL);
	EXPECT("keyctl(KEYCTL_SETPERM, KEY_SPEC_REQUESTOR_KEYRING, KEY_POS_VIEW|KEY_POS_READ|KEY_POS_WRITE|KEY_POS_SEARCH|"
	       "KEY_POS_LINK|KEY_POS_SETATTR|KEY_USR_VIEW|KEY_GRP_VIEW|KEY_OTH_VIEW) = %s", res(r));
	char *buf = end - 64;
	memset(buf, 0xff, 64);
	r = syscall(SYS_keyctl, G | 11, (unsigned long) tk, buf, 64UL, 0UL);
	if (r == 0)
		EXPECT("keyctl(KEYCTL_READ, %ld, \"\", 64) = 0", tk);
	char *ty = end - 5, *de = end - 10;
	memcpy(ty, "user", 5);
	memcpy(de, "desc", 5);
	r = syscall(SYS_keyctl, G | 10, G | 0xfffffffeUL, ty, de, 0UL);
	EXPECT("keyctl(KEYCTL_SEARCH, KEY_SPEC_PROCESS_KEYRING, \"user\", \"desc\", 0) = %s", res(r));
	r = syscall(SYS_keyctl, G | 19, G | 0xfffffffaUL, 5UL, G | ENODEV, 0UL);
	EXPECT("keyctl(KEYCTL_REJECT, KEY_SPEC_GROUP_KEYRING, 5, ENODEV, 0) = %s", res(r));

	int32_t *dh = (int32_t *) (end - 32);
	dh[0] = -6; dh[1] = 1234; dh[2] = -1;
	struct kdf *k = (struct kdf *) (end - 256);
	memset(k, 0, sizeof *k);
	char *hn = end - 50, *oi = end - 40;
	memcpy(hn, "hmac(aes)", 10);
	memcpy(oi, "\1\2OH\0HAI", 8);
	k->hashname = hn; k->otherinfo = oi; k->otherinfolen = 8; k->spare[7] = 0xdeadfeed;
	r = syscall(SYS_keyctl, G | 23, dh, pg, 16UL, k);
	EXPECT("keyctl(KEYCTL_DH_COMPUTE, {private=KEY_SPEC_GROUP_KEYRING, prime=1234, base=KEY_SPEC_THREAD_KEYRING}, %p, 16, "
	       "{hashname=\"hmac(aes)\", otherinfo=\"\\1\\2OH\\0HAI\", otherinfolen=8, __spare=[0, 0, 0, 0, 0, 0, 0, 0xdeadfeed]}) = %s",
	       pg, res(r));
	k->hashname = NULL; k->otherinfo = end; k->otherinfolen = 0; k->spare[7] = 0;
	r = syscall(SYS_keyctl, G | 23, dh, pg, 16UL, k);
	EXPECT("keyctl(KEYCTL_DH_COMPUTE, {private=KEY_SPEC_GROUP_KEYRING, prime=1234, base=KEY_SPEC_THREAD_KEYRING}, %p, 16, "
	       "{hashname=NULL, otherinfo=%p, otherinfolen=0}) = %s", pg, end, res(r));

	struct pkey *p = (struct pkey *) (end - 512);
	memset(p, 0, sizeof *p);
	p->key_id = -2; p->in_len = 4; p->out_len = 8; p->spare[1] = 0xface;
	char *in = end - 300;
	memcpy(in, "abcd", 4);
	r = syscall(SYS_keyctl, G | 25, p, ty, in, pg);
	EXPECT("keyctl(KEYCTL_PKEY_ENCRYPT, {key_id=KEY_SPEC_PROCESS_KEYRING, in_len=4, out_len=8, __spare=[0, 0xface, 0, 0, 0, 0, 0]}, "
	       "\"user\", \"abcd\", %p) = %s", pg, res(r));
	r = syscall(SYS_keyctl, G | 28, p, ty, in, in);
	EXPECT("keyctl(KEYCTL_PKEY_VERIFY, {key_id=KEY_SPEC_PROCESS_KEYRING, in_len=4, in2_len=8, __spare=[0, 0xface, 0, 0, 0, 0, 0]}, "
	       "\"user\", \"abcd\", \"abcd\\0\\0\\0\\0\") = %s", res(r));
	r = syscall(SYS_keyctl, G | 30, G | 0xffffffffUL, G | 0xfffffffeUL, G | 0xfffffffdUL, G | 3);
	EXPECT("keyctl(KEYCTL_MOVE, KEY_SPEC_THREAD_KEYRING, KEY_SPEC_PROCESS_KEYRING, KEY_SPEC_SESSION_KEYRING, "
	       "KEYCTL_MOVE_EXCL|0x2) = %s", res(r));
	return 0;
}
