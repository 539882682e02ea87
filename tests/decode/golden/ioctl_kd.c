/* The Linux console's ioctls (linux/kd.h, linux/keyboard.h): values with
 * their comments (tones, LEDs, modes, signals), key table entries and
 * keysyms, function key strings, accent tables, screen maps, the unicode
 * map and fonts behind a struct's pointer (DEREF). Each call on fd -1
 * fails with EBADF after strace has read its argument. */
#include "common.h"
#include <sys/ioctl.h>
#include <linux/kd.h>
#include <linux/keyboard.h>
#define EBADF_TEXT "-1 EBADF (Bad file descriptor)"
int main(int argc, char **argv) {
	open_out(argc, argv);
	syscall(SYS_ioctl, -1, KIOCSOUND, 440);
	EXPECT("ioctl(-1, KIOCSOUND, 440 /* 2711 Hz */) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, KIOCSOUND, 0);
	EXPECT("ioctl(-1, KIOCSOUND, 0 /* off */) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, KDMKTONE, 0x1ffff);
	EXPECT("ioctl(-1, KDMKTONE, 1<<16|65535 /* 18 Hz, 1 ms */) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, KDSETLED, 0xfe);
	EXPECT("ioctl(-1, KDSETLED, LED_NUM|LED_CAP|0xf8) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, KDSKBLED, 0x71);
	EXPECT("ioctl(-1, KDSKBLED, LED_SCR|LED_SCR<<4|LED_NUM<<4|LED_CAP<<4) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, KDSETMODE, G | KD_GRAPHICS);
	EXPECT("ioctl(-1, KDSETMODE, KD_GRAPHICS) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, KDSKBMODE, 5);
	EXPECT("ioctl(-1, KDSKBMODE, 5 /* K_??? */) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, KDSKBMETA, K_METABIT);
	EXPECT("ioctl(-1, KDSKBMETA, K_METABIT) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, KDSIGACCEPT, SIGUSR1);
	EXPECT("ioctl(-1, KDSIGACCEPT, SIGUSR1) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, KDADDIO, 0x3c0);
	EXPECT("ioctl(-1, KDADDIO, 0x3c0 /* GPFIRST + 12 */) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, KDGETLED, NULL);
	EXPECT("ioctl(-1, KDGETLED, NULL) = " EBADF_TEXT);
	struct kbentry kbe = { .kb_table = K_SHIFTTAB, .kb_index = 69, .kb_value = K(KT_LATIN, 'a') };
	syscall(SYS_ioctl, -1, KDSKBENT, &kbe);
	EXPECT("ioctl(-1, KDSKBENT, {kb_table=K_SHIFTTAB, kb_index=69, kb_value=0x61 /* K(KT_LATIN, 'a') */}) = " EBADF_TEXT);
	kbe.kb_table = 1 << KG_CTRL;
	kbe.kb_value = K_PAUSE;
	syscall(SYS_ioctl, -1, KDSKBENT, &kbe);
	EXPECT("ioctl(-1, KDSKBENT, {kb_table=1<<KG_CTRL, kb_index=69, kb_value=0x11d /* K_PAUSE */}) = " EBADF_TEXT);
	kbe.kb_value = K(KT_SPEC, 0x14);
	syscall(SYS_ioctl, -1, KDGKBENT, &kbe);
	EXPECT("ioctl(-1, KDGKBENT, {kb_table=1<<KG_CTRL, kb_index=69}) = " EBADF_TEXT);
	struct kbsentry kbs = { .kb_func = KVAL(K_PGDN) };
	strcpy((char *) kbs.kb_string, "\033[6~");
	syscall(SYS_ioctl, -1, KDSKBSENT, &kbs);
	EXPECT("ioctl(-1, KDSKBSENT, {kb_func=KVAL(K_PGDN), kb_string=\"\\33[6~\"}) = " EBADF_TEXT);
	struct kbdiacrs dia = { .kb_cnt = 2, .kbdiacr = { { '`', 'a', 0xe0 }, { '\'', 'e', 0xe9 } } };
	syscall(SYS_ioctl, -1, KDSKBDIACR, &dia);
	EXPECT("ioctl(-1, KDSKBDIACR, {kb_cnt=2, kbdiacr=[{diacr='`', base='a', result='\\xe0'}, "
	       "{diacr='\\'', base='e', result='\\xe9'}]}) = " EBADF_TEXT);
	struct kbkeycode kc = { .scancode = 0x1e, .keycode = 30 };
	syscall(SYS_ioctl, -1, KDSETKEYCODE, &kc);
	EXPECT("ioctl(-1, KDSETKEYCODE, {scancode=0x1e, keycode=0x1e}) = " EBADF_TEXT);
	struct kbd_repeat rep = { .delay = 250, .period = 33 };
	syscall(SYS_ioctl, -1, KDKBDREP, &rep);
	EXPECT("ioctl(-1, KDKBDREP, {delay=250, period=33}) = " EBADF_TEXT);
	unsigned short umap[E_TABSZ];
	for (int i = 0; i < E_TABSZ; i++)
		umap[i] = i < 2 ? 0x20 + i : UNI_DIRECT_BASE + i;
	syscall(SYS_ioctl, -1, PIO_UNISCRNMAP, umap);
	EXPECT("ioctl(-1, PIO_UNISCRNMAP, [0x20, 0x21, UNI_DIRECT_BASE+0x2, UNI_DIRECT_BASE+0x3, UNI_DIRECT_BASE+0x4, "
	       "UNI_DIRECT_BASE+0x5, UNI_DIRECT_BASE+0x6, UNI_DIRECT_BASE+0x7, UNI_DIRECT_BASE+0x8, UNI_DIRECT_BASE+0x9, "
	       "UNI_DIRECT_BASE+0xa, UNI_DIRECT_BASE+0xb, UNI_DIRECT_BASE+0xc, UNI_DIRECT_BASE+0xd, UNI_DIRECT_BASE+0xe, "
	       "UNI_DIRECT_BASE+0xf, UNI_DIRECT_BASE+0x10, UNI_DIRECT_BASE+0x11, UNI_DIRECT_BASE+0x12, "
	       "UNI_DIRECT_BASE+0x13, UNI_DIRECT_BASE+0x14, UNI_DIRECT_BASE+0x15, UNI_DIRECT_BASE+0x16, "
	       "UNI_DIRECT_BASE+0x17, UNI_DIRECT_BASE+0x18, UNI_DIRECT_BASE+0x19, UNI_DIRECT_BASE+0x1a, "
	       "UNI_DIRECT_BASE+0x1b, UNI_DIRECT_BASE+0x1c, UNI_DIRECT_BASE+0x1d, UNI_DIRECT_BASE+0x1e, "
	       "UNI_DIRECT_BASE+0x1f, ...]) = " EBADF_TEXT);
	struct unipair pairs[2] = { { 0x263a, 1 }, { 0x2591, 0xb0 } };
	struct unimapdesc ud = { .entry_ct = 2, .entries = pairs };
	syscall(SYS_ioctl, -1, PIO_UNIMAP, &ud);
	EXPECT("ioctl(-1, PIO_UNIMAP, {entry_ct=2, entries=[{unicode=0x263a, fontpos=0x1}, "
	       "{unicode=0x2591, fontpos=0xb0}]}) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, GIO_UNIMAP, &ud);
	EXPECT("ioctl(-1, GIO_UNIMAP, {entry_ct=2 => 2, entries=%p}) = " EBADF_TEXT, (void *) pairs);
	unsigned char glyphs[64];
	for (int i = 0; i < 64; i++)
		glyphs[i] = i;
	struct console_font_op op = { .op = KD_FONT_OP_SET, .flags = KD_FONT_FLAG_DONT_RECALC, .width = 8,
				      .height = 16, .charcount = 1, .data = glyphs };
	syscall(SYS_ioctl, -1, KDFONTOP, &op);
	EXPECT("ioctl(-1, KDFONTOP, {op=KD_FONT_OP_SET, flags=KD_FONT_FLAG_DONT_RECALC, width=8, height=16, "
	       "charcount=1, data=\"\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\x09\\x0a\\x0b\\x0c\\x0d\\x0e\\x0f"
	       "\\x10\\x11\\x12\\x13\\x14\\x15\\x16\\x17\\x18\\x19\\x1a\\x1b\\x1c\\x1d\\x1e\\x1f\"}) = " EBADF_TEXT);
	op.op = KD_FONT_OP_SET_DEFAULT;
	op.data = (unsigned char *) "default8x16";
	syscall(SYS_ioctl, -1, KDFONTOP, &op);
	EXPECT("ioctl(-1, KDFONTOP, {op=KD_FONT_OP_SET_DEFAULT, width=8, height=16, data=\"default8x16\"}) = " EBADF_TEXT);
	struct consolefontdesc cfd = { .charcount = 1, .charheight = 16, .chardata = (char *) glyphs };
	syscall(SYS_ioctl, -1, PIO_FONTX, &cfd);
	EXPECT("ioctl(-1, PIO_FONTX, {charcount=1, charheight=16, chardata=\"\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07"
	       "\\x08\\x09\\x0a\\x0b\\x0c\\x0d\\x0e\\x0f\\x10\\x11\\x12\\x13\\x14\\x15\\x16\\x17\\x18\\x19\\x1a\\x1b\\x1c"
	       "\\x1d\\x1e\\x1f\"}) = " EBADF_TEXT);
	return 0;
}
