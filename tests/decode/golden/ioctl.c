/* ioctl argument structs by request family: file flags and ranges, fiemap,
 * ATA disks (HDIO), counters, modem lines, perf events, namespaces,
 * sockets (struct ifreq by request), UBI volumes, KVM's capabilities and
 * cpuid arrays. Each
 * call on fd -1 fails with EBADF after strace has read its argument. */
#include "common.h"
#include <sched.h>
#include <linux/fs.h>
#include <linux/tee.h>
#include <linux/blkpg.h>
#include <linux/blktrace_api.h>
#include <linux/fiemap.h>
#include <linux/hdreg.h>
#include <linux/counter.h>
#include <linux/perf_event.h>
#include <linux/nsfs.h>
#include <linux/seccomp.h>
#include <linux/rtc.h>
#include <linux/lirc.h>
#include <linux/nbd.h>
#include <scsi/sg.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <mtd/ubi-user.h>
#include <linux/kvm.h>
#define EBADF_TEXT "-1 EBADF (Bad file descriptor)"
int main(int argc, char **argv) {
	open_out(argc, argv);
	unsigned int flags = FS_APPEND_FL | FS_NOATIME_FL | 0x1000000;
	syscall(SYS_ioctl, -1, FS_IOC32_SETFLAGS, &flags);
	EXPECT("ioctl(-1, FS_IOC32_SETFLAGS, [FS_APPEND_FL|FS_NOATIME_FL|0x1000000]) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, FS_IOC_GETFLAGS, NULL);
	EXPECT("ioctl(-1, FS_IOC_GETFLAGS, NULL) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, FS_IOC_GETFLAGS, &flags);
	EXPECT("ioctl(-1, FS_IOC_GETFLAGS, %p) = " EBADF_TEXT, (void *) &flags);
	struct fstrim_range range = { .start = 0x1000, .len = 4096, .minlen = 512 };
	syscall(SYS_ioctl, -1, FITRIM, &range);
	EXPECT("ioctl(-1, FITRIM, {start=0x1000, len=4096, minlen=512}) = " EBADF_TEXT);
	struct fsxattr fsx = { .fsx_xflags = FS_XFLAG_APPEND | FS_XFLAG_DAX, .fsx_extsize = 7, .fsx_projid = 0x2a,
			       .fsx_cowextsize = 9 };
	syscall(SYS_ioctl, -1, FS_IOC_FSSETXATTR, &fsx);
	EXPECT("ioctl(-1, FS_IOC_FSSETXATTR, {fsx_xflags=FS_XFLAG_APPEND|FS_XFLAG_DAX, fsx_extsize=7, "
	       "fsx_projid=0x2a, fsx_cowextsize=9}) = " EBADF_TEXT);
	struct fiemap fm = { .fm_start = 1, .fm_length = 2, .fm_flags = FIEMAP_FLAG_SYNC | 0x10, .fm_extent_count = 3 };
	syscall(SYS_ioctl, -1, FS_IOC_FIEMAP, &fm);
	EXPECT("ioctl(-1, FS_IOC_FIEMAP, {fm_start=1, fm_length=2, fm_flags=FIEMAP_FLAG_SYNC|0x10, "
	       "fm_extent_count=3}) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, HDIO_GETGEO, NULL);
	EXPECT("ioctl(-1, HDIO_GETGEO, NULL) = " EBADF_TEXT);
	unsigned char cmd[4] = { 0xfa, 1, 2, 0 };
	syscall(SYS_ioctl, -1, HDIO_DRIVE_CMD, cmd);
	EXPECT("ioctl(-1, HDIO_DRIVE_CMD, {command=0xfa /* ATA_CMD_??? */, sector_number=1, feature=2, "
	       "sector_count=0}) = " EBADF_TEXT);
	cmd[0] = 0xe7;
	syscall(SYS_ioctl, -1, HDIO_DRIVE_CMD, cmd);
	EXPECT("ioctl(-1, HDIO_DRIVE_CMD, {command=ATA_CMD_FLUSH, sector_number=1, feature=2, "
	       "sector_count=0}) = " EBADF_TEXT);
	unsigned int three[3] = { 0xdeadbeef, 1, 0 };
	syscall(SYS_ioctl, -1, HDIO_DRIVE_RESET, three);
	EXPECT("ioctl(-1, HDIO_DRIVE_RESET, [0xdeadbeef, 0x1, 0]) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, HDIO_SET_NICE, 0x3UL);
	EXPECT("ioctl(-1, HDIO_SET_NICE, 1 << IDE_NICE_DSC_OVERLAP|1 << IDE_NICE_ATAPI_OVERLAP) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, HDIO_SET_BUSSTATE, 1UL);
	EXPECT("ioctl(-1, HDIO_SET_BUSSTATE, BUSSTATE_ON) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, HDIO_SET_DMA, G | 5);
	EXPECT("ioctl(-1, HDIO_SET_DMA, %lu) = " EBADF_TEXT, G | 5);
	struct counter_watch w = { .component = { .type = COUNTER_COMPONENT_COUNT, .scope = COUNTER_SCOPE_SIGNAL,
						   .parent = 3, .id = 4 },
				   .event = COUNTER_EVENT_INDEX, .channel = 5 };
	syscall(SYS_ioctl, -1, COUNTER_ADD_WATCH_IOCTL, &w);
	EXPECT("ioctl(-1, COUNTER_ADD_WATCH_IOCTL, {component={type=COUNTER_COMPONENT_COUNT, "
	       "scope=COUNTER_SCOPE_SIGNAL, parent=3, id=4}, event=COUNTER_EVENT_INDEX, channel=5}) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, COUNTER_ENABLE_EVENTS_IOCTL, 1UL);
	EXPECT("ioctl(-1, COUNTER_ENABLE_EVENTS_IOCTL) = " EBADF_TEXT);
	int lines = TIOCM_DTR | TIOCM_RTS | 0x10000;
	syscall(SYS_ioctl, -1, TIOCMBIS, &lines);
	EXPECT("ioctl(-1, TIOCMBIS, [TIOCM_DTR|TIOCM_RTS|0x10000]) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, PERF_EVENT_IOC_ENABLE, G | PERF_IOC_FLAG_GROUP);
	EXPECT("ioctl(-1, PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP) = " EBADF_TEXT);
	unsigned long long period = 100;
	syscall(SYS_ioctl, -1, PERF_EVENT_IOC_PERIOD, &period);
	EXPECT("ioctl(-1, PERF_EVENT_IOC_PERIOD, [100]) = " EBADF_TEXT);
	struct blkpg_partition part = { .start = 2048, .length = 1 << 20, .pno = 3, .devname = "sdz3", .volname = "" };
	struct blkpg_ioctl_arg bpa = { .op = BLKPG_ADD_PARTITION, .datalen = sizeof(part), .data = &part };
	syscall(SYS_ioctl, -1, BLKPG, &bpa);
	EXPECT("ioctl(-1, BLKPG, {op=BLKPG_ADD_PARTITION, flags=0, datalen=152, data={start=2048, length=1048576, "
	       "pno=3, devname=\"sdz3\", volname=\"\"}}) = " EBADF_TEXT);
	bpa.op = 7;
	syscall(SYS_ioctl, -1, BLKPG, &bpa);
	EXPECT("ioctl(-1, BLKPG, {op=0x7 /* BLKPG_??? */, flags=0, datalen=152, data={start=2048, length=1048576, "
	       "pno=3, devname=\"sdz3\", volname=\"\"}}) = " EBADF_TEXT);
	struct blk_user_trace_setup buts = { .act_mask = 0xffff, .buf_size = 4096, .buf_nr = 4, .start_lba = 1,
					     .end_lba = 9, .pid = 42 };
	syscall(SYS_ioctl, -1, BLKTRACESETUP, &buts);
	EXPECT("ioctl(-1, BLKTRACESETUP, {act_mask=65535, buf_size=4096, buf_nr=4, start_lba=1, end_lba=9, pid=42}) = "
	       EBADF_TEXT);
	struct tee_ioctl_cancel_arg tca = { .cancel_id = 7, .session = 0x2a };
	syscall(SYS_ioctl, -1, TEE_IOC_CANCEL, &tca);
	EXPECT("ioctl(-1, TEE_IOC_CANCEL, {cancel_id=7, session=0x2a}) = " EBADF_TEXT);
	struct { struct tee_ioctl_invoke_arg h; struct tee_ioctl_param p[2]; } inv = {
		.h = { .func = 3, .session = 0x2a, .cancel_id = 7, .num_params = 2 },
		.p = { { .attr = TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_INPUT, .a = 1, .b = 2, .c = 3 },
		       { .attr = TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_OUTPUT | TEE_IOCTL_PARAM_ATTR_META, .a = 0x10, .b = 0x20, .c = 5 } } };
	struct tee_ioctl_buf_data tbd = { .buf_ptr = (unsigned long) &inv, .buf_len = sizeof(inv) };
	syscall(SYS_ioctl, -1, TEE_IOC_INVOKE, &tbd);
	EXPECT("ioctl(-1, TEE_IOC_INVOKE, {buf_len=88, buf_ptr={func=3, session=0x2a, cancel_id=7, num_params=2, "
	       "params=[{attr=TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_INPUT, a=0x1, b=0x2, c=0x3}, "
	       "{attr=TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_OUTPUT|TEE_IOCTL_PARAM_ATTR_META, a=0x10, b=0x20, "
	       "c=0x5}]}}) = " EBADF_TEXT);
	tbd.buf_len = 80;
	syscall(SYS_ioctl, -1, TEE_IOC_INVOKE, &tbd);
	EXPECT("ioctl(-1, TEE_IOC_INVOKE, {buf_len=80, buf_ptr=%p}) = " EBADF_TEXT, (void *) &inv);
	struct perf_event_attr pea = { .type = PERF_TYPE_SOFTWARE, .size = PERF_ATTR_SIZE_VER0,
				       .config = PERF_COUNT_SW_CPU_CLOCK, .sample_period = 1000, .disabled = 1 };
	syscall(SYS_ioctl, -1, PERF_EVENT_IOC_MODIFY_ATTRIBUTES, &pea);
	EXPECT("ioctl(-1, PERF_EVENT_IOC_MODIFY_ATTRIBUTES, {type=PERF_TYPE_SOFTWARE, size=PERF_ATTR_SIZE_VER0, "
	       "config=PERF_COUNT_SW_CPU_CLOCK, sample_period=1000, sample_type=0, read_format=0, disabled=1, "
	       "precise_ip=0 /* arbitrary skid */, ...}) = " EBADF_TEXT);
	struct seccomp_notif_resp resp = { .id = 0x10, .val = -5, .error = -ENOSR, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };
	syscall(SYS_ioctl, -1, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	EXPECT("ioctl(-1, SECCOMP_IOCTL_NOTIF_SEND, {id=0x10, val=-5, error=-ENOSR, "
	       "flags=SECCOMP_USER_NOTIF_FLAG_CONTINUE}) = " EBADF_TEXT);
	unsigned long long id = 0xfeed;
	syscall(SYS_ioctl, -1, SECCOMP_IOCTL_NOTIF_ID_VALID, &id);
	EXPECT("ioctl(-1, SECCOMP_IOCTL_NOTIF_ID_VALID, [0xfeed]) = " EBADF_TEXT);
	struct rtc_time tm = { .tm_sec = 1, .tm_min = 2, .tm_hour = 3, .tm_mday = 4, .tm_mon = 5, .tm_year = 126 };
	syscall(SYS_ioctl, -1, RTC_SET_TIME, &tm);
	EXPECT("ioctl(-1, RTC_SET_TIME, {tm_sec=1, tm_min=2, tm_hour=3, tm_mday=4, tm_mon=5, tm_year=126, ...}) = "
	       EBADF_TEXT);
	syscall(SYS_ioctl, -1, RTC_RD_TIME, &tm);
	EXPECT("ioctl(-1, RTC_RD_TIME, %p) = " EBADF_TEXT, (void *) &tm);
	struct rtc_param param = { .param = RTC_PARAM_BACKUP_SWITCH_MODE, .uvalue = RTC_BSM_LEVEL, .index = 2 };
	syscall(SYS_ioctl, -1, RTC_PARAM_SET, &param);
	EXPECT("ioctl(-1, RTC_PARAM_SET, {param=RTC_PARAM_BACKUP_SWITCH_MODE, uvalue=RTC_BSM_LEVEL, index=2}) = "
	       EBADF_TEXT);
	syscall(SYS_ioctl, -1, RTC_PARAM_GET, &param);
	EXPECT("ioctl(-1, RTC_PARAM_GET, {param=RTC_PARAM_BACKUP_SWITCH_MODE, index=2} => %p) = " EBADF_TEXT,
	       (void *) &param);
	unsigned int mode = LIRC_MODE_SCANCODE;
	syscall(SYS_ioctl, -1, LIRC_SET_SEND_MODE, &mode);
	EXPECT("ioctl(-1, LIRC_SET_SEND_MODE, [LIRC_MODE_SCANCODE]) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, NBD_SET_FLAGS, (unsigned long) (NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_TRIM));
	EXPECT("ioctl(-1, NBD_SET_FLAGS, NBD_FLAG_HAS_FLAGS|NBD_FLAG_SEND_TRIM) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, NBD_DISCONNECT, 7UL);
	EXPECT("ioctl(-1, NBD_DISCONNECT) = " EBADF_TEXT);
	int reset = 0x100 /* SG_SCSI_RESET_NO_ESCALATE (the kernel header) */ | SG_SCSI_RESET_BUS;
	syscall(SYS_ioctl, -1, SG_SCSI_RESET, &reset);
	EXPECT("ioctl(-1, SG_SCSI_RESET, [SG_SCSI_RESET_NO_ESCALATE|SG_SCSI_RESET_BUS]) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, SG_SET_TRANSFORM, G | 0x10);
	EXPECT("ioctl(-1, SG_SET_TRANSFORM, 0x10) = " EBADF_TEXT);
	int ns = open("/proc/self/ns/user", O_RDONLY);
	if (ns >= 0) {
		long r = syscall(SYS_ioctl, ns, NS_GET_NSTYPE);
		if (r == CLONE_NEWUSER)
			EXPECT("ioctl(%d, NS_GET_NSTYPE) = %ld (CLONE_NEWUSER)", ns, r);
		close(ns);
	}
	/* sockets: struct ifreq by the union field each request sets or gets */
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "tr0");
	ifr.ifr_mtu = 1500;
	/* SIOCGIFCONF on a socket: the first interface, the loopback (index 1) */
	int sfd = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq one[1];
	struct ifconf ifc = { .ifc_len = sizeof(one) + 2, .ifc_buf = (char *) one };
	if (syscall(SYS_ioctl, sfd, SIOCGIFCONF, &ifc) == 0 && !strcmp(one[0].ifr_name, "lo"))
		EXPECT("ioctl(%d, SIOCGIFCONF, {ifc_len=42 => 40 /* 1 * sizeof(struct ifreq) */, ifc_buf=[{ifr_name=\"lo\", "
		       "ifr_addr={sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr(\"127.0.0.1\")}}]}) = 0", sfd);
	ifc.ifc_buf = NULL;
	syscall(SYS_ioctl, sfd, SIOCGIFCONF, &ifc);
	char note[64] = "";
	if (ifc.ifc_len > 0 && ifc.ifc_len % 40 == 0)
		snprintf(note, sizeof note, " /* %d * sizeof(struct ifreq) */", ifc.ifc_len / 40);
	EXPECT("ioctl(%d, SIOCGIFCONF, {ifc_len=%d%s, ifc_buf=NULL}) = 0", sfd, ifc.ifc_len, note);
	close(sfd);
	syscall(SYS_ioctl, -1, SIOCSIFMTU, &ifr);
	EXPECT("ioctl(-1, SIOCSIFMTU, {ifr_name=\"tr0\", ifr_mtu=1500}) = " EBADF_TEXT);
	memset(ifr.ifr_name, 'a', IFNAMSIZ);
	ifr.ifr_flags = IFF_UP | IFF_RUNNING | 0x80000;
	syscall(SYS_ioctl, -1, SIOCSIFFLAGS, &ifr);
	EXPECT("ioctl(-1, SIOCSIFFLAGS, {ifr_name=\"aaaaaaaaaaaaaaa\"..., ifr_flags=IFF_UP|IFF_RUNNING}) = " EBADF_TEXT);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(80) };
	sin.sin_addr.s_addr = htonl(0x0a000001);
	strcpy(ifr.ifr_name, "tr0");
	memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
	syscall(SYS_ioctl, -1, SIOCSIFADDR, &ifr);
	EXPECT("ioctl(-1, SIOCSIFADDR, {ifr_name=\"tr0\", ifr_addr={sa_family=AF_INET, sin_port=htons(80), "
	       "sin_addr=inet_addr(\"10.0.0.1\")}}) = " EBADF_TEXT);
	ifr.ifr_hwaddr.sa_family = 1;
	memcpy(ifr.ifr_hwaddr.sa_data, "\x02\x00\x5e\x10\x20\x30", 6);
	syscall(SYS_ioctl, -1, SIOCSIFHWADDR, &ifr);
	EXPECT("ioctl(-1, SIOCSIFHWADDR, {ifr_name=\"tr0\", ifr_hwaddr={sa_family=ARPHRD_ETHER, "
	       "sa_data=02:00:5e:10:20:30}}) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, SIOCBRADDBR, "br-test");
	EXPECT("ioctl(-1, SIOCBRADDBR, \"br-test\") = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, SIOCGSTAMP_OLD, NULL);
	EXPECT("ioctl(-1, SIOCGSTAMP_OLD, NULL) = " EBADF_TEXT);
	int sk = socket(AF_INET, SOCK_DGRAM, 0);
	if (sk >= 0) {
		int owner = -1;
		syscall(SYS_ioctl, sk, FIOGETOWN, &owner);
		EXPECT("ioctl(%d, FIOGETOWN, [%d]) = 0", sk, owner);
		memset(&ifr, 0, sizeof(ifr));
		strcpy(ifr.ifr_name, "lo");
		if (syscall(SYS_ioctl, sk, SIOCGIFINDEX, &ifr) == 0) {
			EXPECT("ioctl(%d, SIOCGIFINDEX, {ifr_name=\"lo\", ifr_ifindex=%d}) = 0", sk, ifr.ifr_ifindex);
			memset(ifr.ifr_name, 0, IFNAMSIZ);
			if (syscall(SYS_ioctl, sk, SIOCGIFNAME, &ifr) == 0)
				EXPECT("ioctl(%d, SIOCGIFNAME, {ifr_ifindex=%d, ifr_name=\"%s\"}) = 0", sk, ifr.ifr_ifindex,
				       ifr.ifr_name);
		}
		memset(&ifr, 0, sizeof(ifr));
		strcpy(ifr.ifr_name, "nosuch0");
		syscall(SYS_ioctl, sk, SIOCGIFMTU, &ifr);
		EXPECT("ioctl(%d, SIOCGIFMTU, {ifr_name=\"nosuch0\"}) = -1 ENODEV (No such device)", sk);
		close(sk);
	}
	/* UBI volumes */
	syscall(SYS_ioctl, -1, UBI_IOCVOLCRBLK, G | 5);
	EXPECT("ioctl(-1, UBI_IOCVOLCRBLK) = " EBADF_TEXT);
	int vol = -3;
	syscall(SYS_ioctl, -1, UBI_IOCRMVOL, &vol);
	EXPECT("ioctl(-1, UBI_IOCRMVOL, [-3]) = " EBADF_TEXT);
	struct ubi_mkvol_req mk = { .vol_id = 2, .alignment = 1, .bytes = 1 << 20, .vol_type = UBI_DYNAMIC_VOLUME,
				    .name_len = 4 };
	strcpy(mk.name, "data");
	syscall(SYS_ioctl, -1, UBI_IOCMKVOL, &mk);
	EXPECT("ioctl(-1, UBI_IOCMKVOL, {vol_id=2, alignment=1, bytes=1048576, vol_type=UBI_DYNAMIC_VOLUME, flags=0, "
	       "name_len=4, name=\"data\"}) = " EBADF_TEXT);
	struct ubi_map_req map = { .lnum = 7, .dtype = 1 };
	syscall(SYS_ioctl, -1, UBI_IOCEBMAP, &map);
	EXPECT("ioctl(-1, UBI_IOCEBMAP, {lnum=7, dtype=UBI_LONGTERM}) = " EBADF_TEXT);
	static struct ubi_rnvol_req rn;
	rn.count = 2;
	rn.ents[0].vol_id = 1;
	rn.ents[0].name_len = 3;
	strcpy(rn.ents[0].name, "new");
	rn.ents[1].vol_id = 2;
	rn.ents[1].name_len = 2;
	strcpy(rn.ents[1].name, "old");
	syscall(SYS_ioctl, -1, UBI_IOCRNVOL, &rn);
	EXPECT("ioctl(-1, UBI_IOCRNVOL, {count=2, ents=[{vol_id=1, name_len=3, name=\"new\"}, "
	       "{vol_id=2, name_len=2, name=\"ol\"...}]}) = " EBADF_TEXT);
	/* KVM: capabilities by name, cpuid arrays abbreviated */
	syscall(SYS_ioctl, -1, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY);
	EXPECT("ioctl(-1, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) = " EBADF_TEXT);
	/* the whole long: garbage in the upper half is no capability */
	syscall(SYS_ioctl, -1, KVM_CHECK_EXTENSION, G | KVM_CAP_USER_MEMORY);
	EXPECT("ioctl(-1, KVM_CHECK_EXTENSION, %#lx /* KVM_CAP_??? */) = " EBADF_TEXT, G | KVM_CAP_USER_MEMORY);
	syscall(SYS_ioctl, -1, KVM_CHECK_EXTENSION, 0xdead);
	EXPECT("ioctl(-1, KVM_CHECK_EXTENSION, 0xdead /* KVM_CAP_??? */) = " EBADF_TEXT);
	static struct { struct kvm_cpuid2 head; struct kvm_cpuid_entry2 e[2]; } cpuid = { .head = { .nent = 2 } };
	syscall(SYS_ioctl, -1, KVM_SET_CPUID2, &cpuid);
	EXPECT("ioctl(-1, KVM_SET_CPUID2, {nent=2, entries=[...]}) = " EBADF_TEXT);
	cpuid.head.nent = 0;
	syscall(SYS_ioctl, -1, KVM_SET_CPUID2, &cpuid);
	EXPECT("ioctl(-1, KVM_SET_CPUID2, {nent=0, entries=[]}) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, KVM_GET_SUPPORTED_CPUID, &cpuid);
	EXPECT("ioctl(-1, KVM_GET_SUPPORTED_CPUID, %p) = " EBADF_TEXT, (void *) &cpuid);
	return 0;
}
