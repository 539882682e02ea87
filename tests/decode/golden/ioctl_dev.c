/* ioctl argument structs of device families decoded by request type:
 * input devices (evdev, with the request names built from the number),
 * PTP clocks, GPIO lines, loop devices, userfaultfd, terminals, MTD. Each call on fd -1 fails with EBADF
 * after strace has read its argument; a request the call fills prints NULL
 * or its address. */
#include "common.h"
#include <sys/ioctl.h>
#include <linux/input.h>
#include <linux/ptp_clock.h>
#include <linux/gpio.h>
#include <linux/loop.h>
#include <linux/userfaultfd.h>
#include <asm/termbits.h>
#include <mtd/mtd-abi.h>
#define EBADF_TEXT "-1 EBADF (Bad file descriptor)"
int main(int argc, char **argv) {
	open_out(argc, argv);
	/* evdev: names from the number and size, read requests at exit */
	syscall(SYS_ioctl, -1, EVIOCGVERSION, NULL);
	EXPECT("ioctl(-1, EVIOCGVERSION, NULL) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, EVIOCGBIT(EV_KEY, 8), NULL);
	EXPECT("ioctl(-1, EVIOCGBIT(EV_KEY, 8), NULL) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, EVIOCGABS(0xe), NULL);
	EXPECT("ioctl(-1, EVIOCGABS(0xe /* ABS_??? */), NULL) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, EVIOCGNAME(16), NULL);
	EXPECT("ioctl(-1, EVIOCGNAME(16), NULL) = " EBADF_TEXT);
	unsigned int id[2] = { 0, 0 };
	syscall(SYS_ioctl, -1, EVIOCGID, id);
	EXPECT("ioctl(-1, EVIOCGID, %p) = " EBADF_TEXT, (void *) id);
	unsigned int rep[2] = { 500, 33 };
	syscall(SYS_ioctl, -1, EVIOCSREP, rep);
	EXPECT("ioctl(-1, EVIOCSREP, [500, 33]) = " EBADF_TEXT);
	unsigned int keycode[2] = { 7, KEY_ESC };
	syscall(SYS_ioctl, -1, EVIOCSKEYCODE, keycode);
	EXPECT("ioctl(-1, EVIOCSKEYCODE, [7, KEY_ESC]) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, EVIOCGRAB, G | 1);
	EXPECT("ioctl(-1, EVIOCGRAB, %lu) = " EBADF_TEXT, G | 1);
	struct ff_effect ffe = { .type = FF_RUMBLE, .id = -1, .direction = 2 };
	syscall(SYS_ioctl, -1, EVIOCSFF, &ffe);
	EXPECT("ioctl(-1, EVIOCSFF, {type=FF_RUMBLE, id=-1, direction=2, ...}) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, _IOC(_IOC_WRITE, 'M', 0x7e, 4), 1UL);
	EXPECT("ioctl(-1, MIXER_WRITE(126), 0x1) = " EBADF_TEXT);
	/* PTP clocks */
	struct ptp_extts_request extts = { .index = 3, .flags = PTP_ENABLE_FEATURE | PTP_RISING_EDGE };
	syscall(SYS_ioctl, -1, PTP_EXTTS_REQUEST, &extts);
	EXPECT("ioctl(-1, PTP_EXTTS_REQUEST, {index=3, flags=PTP_ENABLE_FEATURE|PTP_RISING_EDGE}) = " EBADF_TEXT);
	extts.rsv[0] = 1;
	syscall(SYS_ioctl, -1, PTP_EXTTS_REQUEST2, &extts);
	EXPECT("ioctl(-1, PTP_EXTTS_REQUEST2, {index=3, flags=PTP_ENABLE_FEATURE|PTP_RISING_EDGE, rsv=[0x1, 0]}) = "
	       EBADF_TEXT);
	struct ptp_perout_request perout = { .period = { .sec = 1, .reserved = 7 }, .index = 2,
					     .flags = PTP_PEROUT_ONE_SHOT | 0x100 };
	syscall(SYS_ioctl, -1, PTP_PEROUT_REQUEST, &perout);
	EXPECT("ioctl(-1, PTP_PEROUT_REQUEST, {start={sec=0, nsec=0}, period={sec=1, nsec=0, reserved=0x7}, index=2, "
	       "flags=PTP_PEROUT_ONE_SHOT|0x100}) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, PTP_CLOCK_GETCAPS, NULL);
	EXPECT("ioctl(-1, PTP_CLOCK_GETCAPS, NULL) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, PTP_ENABLE_PPS, 1UL);
	EXPECT("ioctl(-1, PTP_ENABLE_PPS, 0x1) = " EBADF_TEXT);
	static struct ptp_sys_offset sysoff = { .n_samples = 3 };
	syscall(SYS_ioctl, -1, PTP_SYS_OFFSET, &sysoff);
	EXPECT("ioctl(-1, PTP_SYS_OFFSET, {n_samples=3}) = " EBADF_TEXT);
	struct ptp_pin_desc pin = { .index = 2, .func = PTP_PF_PEROUT, .chan = 1 };
	syscall(SYS_ioctl, -1, PTP_PIN_SETFUNC, &pin);
	EXPECT("ioctl(-1, PTP_PIN_SETFUNC, {index=2, func=PTP_PF_PEROUT, chan=1}) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, PTP_PIN_GETFUNC, &pin);
	EXPECT("ioctl(-1, PTP_PIN_GETFUNC, {index=2}) = " EBADF_TEXT);
	/* GPIO lines */
	syscall(SYS_ioctl, -1, GPIO_GET_CHIPINFO_IOCTL, NULL);
	EXPECT("ioctl(-1, GPIO_GET_CHIPINFO_IOCTL, NULL) = " EBADF_TEXT);
	struct gpioline_info li = { .line_offset = 5 };
	syscall(SYS_ioctl, -1, GPIO_GET_LINEINFO_IOCTL, &li);
	EXPECT("ioctl(-1, GPIO_GET_LINEINFO_IOCTL, {line_offset=5}) = " EBADF_TEXT);
	struct gpiohandle_request hr = { .lineoffsets = { 1, 2 }, .flags = GPIOHANDLE_REQUEST_OUTPUT,
					 .default_values = { 1, 0 }, .consumer_label = "x", .lines = 2 };
	syscall(SYS_ioctl, -1, GPIO_GET_LINEHANDLE_IOCTL, &hr);
	EXPECT("ioctl(-1, GPIO_GET_LINEHANDLE_IOCTL, {lines=2, lineoffsets=[1, 2], flags=GPIOHANDLE_REQUEST_OUTPUT, "
	       "default_values=[1, 0], consumer_label=\"x\"}) = " EBADF_TEXT);
	struct gpioevent_request er = { .lineoffset = 1, .handleflags = GPIOHANDLE_REQUEST_INPUT,
					.eventflags = GPIOEVENT_REQUEST_BOTH_EDGES, .consumer_label = "ev" };
	syscall(SYS_ioctl, -1, GPIO_GET_LINEEVENT_IOCTL, &er);
	EXPECT("ioctl(-1, GPIO_GET_LINEEVENT_IOCTL, {lineoffset=1, handleflags=GPIOHANDLE_REQUEST_INPUT, "
	       "eventflags=GPIOEVENT_REQUEST_BOTH_EDGES, consumer_label=\"ev\"}) = " EBADF_TEXT);
	struct gpio_v2_line_values vals = { .bits = 1, .mask = 3 };
	syscall(SYS_ioctl, -1, GPIO_V2_LINE_SET_VALUES_IOCTL, &vals);
	EXPECT("ioctl(-1, GPIO_V2_LINE_SET_VALUES_IOCTL, {bits=0x1, mask=0x3}) = " EBADF_TEXT);
	static struct gpio_v2_line_request lr = { .offsets = { 4 }, .consumer = "c", .num_lines = 1,
		.config = { .flags = GPIO_V2_LINE_FLAG_INPUT, .num_attrs = 1,
			    .attrs = { { .attr = { .id = GPIO_V2_LINE_ATTR_ID_DEBOUNCE, .debounce_period_us = 10 },
					 .mask = 1 } } } };
	syscall(SYS_ioctl, -1, GPIO_V2_GET_LINE_IOCTL, &lr);
	EXPECT("ioctl(-1, GPIO_V2_GET_LINE_IOCTL, {num_lines=1, offsets=[4], consumer=\"c\", "
	       "config={flags=GPIO_V2_LINE_FLAG_INPUT, num_attrs=1, attrs=[{debounce_period_us=10, mask=0x1}]}}) = "
	       EBADF_TEXT);
	/* loop devices */
	syscall(SYS_ioctl, -1, LOOP_SET_FD, G | 7);
	EXPECT("ioctl(-1, LOOP_SET_FD, 7) = " EBADF_TEXT);
	struct loop_info64 info64 = { .lo_offset = 0x200, .lo_number = 1, .lo_flags = LO_FLAGS_AUTOCLEAR,
				      .lo_file_name = "/tmp/x" };
	syscall(SYS_ioctl, -1, LOOP_SET_STATUS64, &info64);
	EXPECT("ioctl(-1, LOOP_SET_STATUS64, {lo_offset=0x200, lo_number=1, lo_flags=LO_FLAGS_AUTOCLEAR, "
	       "lo_file_name=\"/tmp/x\", ...}) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, LOOP_GET_STATUS, NULL);
	EXPECT("ioctl(-1, LOOP_GET_STATUS, NULL) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, LOOP_CLR_FD, 5UL);
	EXPECT("ioctl(-1, LOOP_CLR_FD) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, LOOP_CTL_ADD, G | 3);
	EXPECT("ioctl(-1, LOOP_CTL_ADD, 3) = " EBADF_TEXT);
	/* userfaultfd */
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_THREAD_ID };
	syscall(SYS_ioctl, -1, UFFDIO_API, &api);
	EXPECT("ioctl(-1, UFFDIO_API, {api=0xaa, features=UFFD_FEATURE_THREAD_ID}) = " EBADF_TEXT);
	struct uffdio_range range = { .start = 0x1000, .len = 0x2000 };
	syscall(SYS_ioctl, -1, UFFDIO_WAKE, &range);
	EXPECT("ioctl(-1, UFFDIO_WAKE, {start=0x1000, len=0x2000}) = " EBADF_TEXT);
	struct uffdio_copy copy = { .dst = 0x3000, .src = 0x4000, .len = 0x1000, .mode = UFFDIO_COPY_MODE_DONTWAKE };
	syscall(SYS_ioctl, -1, UFFDIO_COPY, &copy);
	EXPECT("ioctl(-1, UFFDIO_COPY, {dst=0x3000, src=0x4000, len=0x1000, mode=UFFDIO_COPY_MODE_DONTWAKE}) = "
	       EBADF_TEXT);
	/* terminals: every flag by name, the sound timer's alias joined */
	struct termios2 t2 = { .c_iflag = ICRNL | IXON, .c_oflag = OPOST | ONLCR, .c_cflag = B38400 | CS8 | CREAD,
			       .c_lflag = ISIG | ICANON | ECHO };
	syscall(SYS_ioctl, -1, TCSETS, &t2);
	EXPECT("ioctl(-1, SNDCTL_TMR_START or TCSETS, {c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, "
	       "c_cflag=B38400|CS8|CREAD, c_lflag=ISIG|ICANON|ECHO, ...}) = " EBADF_TEXT);
	t2.c_cflag = B9600 | (B115200 << IBSHIFT) | CS7;
	syscall(SYS_ioctl, -1, TCSETS2, &t2);
	EXPECT("ioctl(-1, TCSETS2, {c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, "
	       "c_cflag=B9600|B115200<<IBSHIFT|CS7|, c_lflag=ISIG|ICANON|ECHO, ...}) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, TCGETS, NULL);
	EXPECT("ioctl(-1, TCGETS, NULL) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, TCFLSH, (unsigned long) TCIOFLUSH);
	EXPECT("ioctl(-1, TCFLSH, TCIOFLUSH) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, TCSBRK, G | 1);
	EXPECT("ioctl(-1, TCSBRK, 1) = " EBADF_TEXT);
	/* memory technology devices (the numbers are also the sound mixer's) */
	struct erase_info_user erase = { .start = 0x1000, .length = 0x2000 };
	syscall(SYS_ioctl, -1, MEMERASE, &erase);
	EXPECT("ioctl(-1, MIXER_WRITE(2) or MEMERASE, {start=0x1000, length=0x2000}) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, MEMGETINFO, NULL);
	EXPECT("ioctl(-1, MIXER_READ(1) or MEMGETINFO, NULL) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, MTDFILEMODE, (unsigned long) MTD_FILE_MODE_RAW);
	EXPECT("ioctl(-1, MTDFILEMODE, MTD_FILE_MODE_RAW) = " EBADF_TEXT);
	/* names strace 6.1 has beside the uapi headers' (OpenZFS), and lacks
	 * (aliases added later, other architectures' KVM requests) */
	syscall(SYS_ioctl, -1, 'Z' << 8 | 'A', 1UL);
	EXPECT("ioctl(-1, ZFS_IOC_SEND_SPACE, 0x1) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, 0x5a84, 1UL);
	EXPECT("ioctl(-1, ZFS_IOC_NEXTBOOT, 0x1) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, ('K' << 8) + 1, 1UL);
	EXPECT("ioctl(-1, KSTAT_IOC_CHAIN_ID, 0x1) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, _IOC(_IOC_READ | _IOC_WRITE, 'V', 40, 40), NULL);
	EXPECT("ioctl(-1, VIDIOC_G_EDID, 0) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, _IOC(_IOC_NONE, 0xae, 6, 0), NULL);
	EXPECT("ioctl(-1, _IOC(_IOC_NONE, 0xae, 0x6, 0), 0) = " EBADF_TEXT);
	/* video4linux requests strace decodes: a null argument is NULL */
	syscall(SYS_ioctl, -1, _IOC(_IOC_READ | _IOC_WRITE, 'V', 26, 80), NULL);
	EXPECT("ioctl(-1, VIDIOC_ENUMINPUT, NULL) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, _IOC(_IOC_NONE, 0x12, 105, 0), NULL);
	EXPECT("ioctl(-1, BLKPG, NULL) = " EBADF_TEXT);
	return 0;
}
