"""The syscall table's struct sizes ([structs] in bpfgen/syscalls.toml) are
the C side's: gcc's sizeof of the uapi (or libc) type, for x86_64 and, with
-m32, for i386. The fetch plan reads that many bytes and the decoders cut
structs by them, so a wrong size misprints silently; this holds each one to
the compiler, as tests/protocol holds the wire constants to the C loop's.

Sizes that are not one C type's are named in NOT_A_C_TYPE with the reason,
and a new [structs] entry must land in one of the two maps."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tracerd._wire import Pers
from tracerd.bpfgen import load_table

T = load_table()

# the kernel's uapi headers only (they clash with libc's), then libc's
KERNEL_HEADERS = [
    "asm/stat.h", "asm/statfs.h", "linux/stat.h", "linux/time.h", "linux/time_types.h", "linux/timex.h",
    "linux/times.h", "linux/resource.h", "linux/utsname.h", "linux/sysinfo.h", "linux/poll.h",
    "linux/eventpoll.h", "linux/socket.h", "linux/fcntl.h", "linux/sched/types.h", "linux/capability.h",
    "linux/futex.h", "asm/ldt.h", "linux/mqueue.h", "linux/rseq.h", "linux/io_uring.h", "linux/sem.h",
    "linux/mount.h", "linux/filter.h", "linux/seccomp.h", "linux/kcmp.h", "linux/kexec.h", "linux/openat2.h",
    "linux/sched.h", "linux/landlock.h", "asm/signal.h", "linux/blkpg.h", "linux/kd.h", "linux/if_xdp.h",
    "linux/keyctl.h", "linux/ptrace.h", "linux/tee.h",
]
LIBC_HEADERS = ["sys/socket.h", "sys/uio.h", "fcntl.h", "net/if.h", "sys/user.h", "linux/videodev2.h"]  # videodev2.h takes libc's sys/time.h

# table struct -> (C expression of its size, header set, personalities it
# holds for: the table's i386 size is the kernel's compat layout, -m32's)
BOTH = (Pers.X86_64, Pers.I386)
X64 = (Pers.X86_64,)
C_SIZES = {
    "stat": ("sizeof(struct stat)", "k", BOTH),
    "stat64": ("sizeof(struct stat64)", "k", (Pers.I386,)),
    "old_stat": ("sizeof(struct __old_kernel_stat)", "k", BOTH),
    "statx": ("sizeof(struct statx)", "k", BOTH),
    "statfs": ("sizeof(struct statfs)", "k", BOTH),
    "statfs64": ("sizeof(struct statfs64)", "k", BOTH),
    "timespec": ("sizeof(struct timespec)", "k", BOTH),
    "timespec64": ("sizeof(struct __kernel_timespec)", "k", BOTH),
    "timespec_pair": ("2 * sizeof(struct timespec)", "k", BOTH),
    "timespec64_pair": ("2 * sizeof(struct __kernel_timespec)", "k", BOTH),
    "timeval": ("sizeof(struct timeval)", "k", BOTH),
    "timeval_pair": ("2 * sizeof(struct timeval)", "k", BOTH),
    "timezone": ("sizeof(struct timezone)", "k", BOTH),
    "itimerval": ("sizeof(struct itimerval)", "k", BOTH),
    "itimerspec": ("sizeof(struct itimerspec)", "k", BOTH),
    "itimerspec64": ("sizeof(struct __kernel_itimerspec)", "k", BOTH),
    "timex": ("sizeof(struct timex)", "k", BOTH),
    "tms": ("sizeof(struct tms)", "k", BOTH),
    "rusage": ("sizeof(struct rusage)", "k", BOTH),
    "rlimit": ("sizeof(struct rlimit)", "k", BOTH),
    "rlimit64": ("sizeof(struct rlimit64)", "k", BOTH),
    "utsname": ("sizeof(struct new_utsname)", "k", BOTH),
    "old_utsname": ("sizeof(struct old_utsname)", "k", BOTH),
    "oldold_utsname": ("sizeof(struct oldold_utsname)", "k", BOTH),
    "sysinfo": ("sizeof(struct sysinfo)", "k", BOTH),
    "old_sigaction": ("sizeof(struct sigaction)", "k", BOTH),  # asm/signal.h's, the old one on i386
    "sigaction": ("sizeof(struct sigaction)", "k", X64),
    "stack": ("sizeof(stack_t)", "k", BOTH),
    "pollfd": ("sizeof(struct pollfd)", "k", BOTH),
    "epoll_event": ("sizeof(struct epoll_event)", "k", (Pers.X86_64,)),  # packed on x86_64 only
    "sockaddr_storage": ("sizeof(struct __kernel_sockaddr_storage)", "k", BOTH),
    "flock": ("sizeof(struct flock)", "k", BOTH),
    "f_owner_ex": ("sizeof(struct f_owner_ex)", "k", BOTH),
    "sched_attr": ("sizeof(struct sched_attr)", "k", BOTH),
    "cap_header": ("sizeof(struct __user_cap_header_struct)", "k", BOTH),
    "cap_data": ("_LINUX_CAPABILITY_U32S_3 * sizeof(struct __user_cap_data_struct)", "k", BOTH),
    "robust_list_head": ("sizeof(struct robust_list_head)", "k", BOTH),
    "user_desc": ("sizeof(struct user_desc)", "k", BOTH),
    "mq_attr": ("sizeof(struct mq_attr)", "k", BOTH),
    "rseq": ("sizeof(struct rseq)", "k", BOTH),
    "io_uring_params": ("sizeof(struct io_uring_params)", "k", BOTH),
    "sembuf": ("sizeof(struct sembuf)", "k", BOTH),
    "mount_attr": ("sizeof(struct mount_attr)", "k", BOTH),
    "sock_fprog": ("sizeof(struct sock_fprog)", "k", BOTH),
    "sock_filter": ("sizeof(struct sock_filter)", "k", BOTH),
    "seccomp_notif_addfd": ("sizeof(struct seccomp_notif_addfd)", "k", BOTH),
    "kcmp_epoll_slot": ("sizeof(struct kcmp_epoll_slot)", "k", BOTH),
    "kexec_segment": ("sizeof(struct kexec_segment)", "k", BOTH),
    "open_how": ("sizeof(struct open_how)", "k", BOTH),
    "clone_args": ("sizeof(struct clone_args)", "k", BOTH),
    "futex_waitv": ("sizeof(struct futex_waitv)", "k", BOTH),
    "futex_waitv_pair": ("2 * sizeof(struct futex_waitv)", "k", BOTH),
    "landlock_path_beneath": ("sizeof(struct landlock_path_beneath_attr)", "k", BOTH),
    "msghdr": ("sizeof(struct msghdr)", "c", BOTH),
    "mmsghdr": ("sizeof(struct mmsghdr)", "c", BOTH),
    "iovec": ("sizeof(struct iovec)", "c", BOTH),
    "file_handle": ("sizeof(struct file_handle)", "c", BOTH),
    "int": ("sizeof(int)", "c", BOTH),
    "uint": ("sizeof(unsigned int)", "c", BOTH),
    "gid": ("sizeof(unsigned int)", "c", BOTH),  # the kernel's gid_t (getgroups; getgroups32 on i386)
    "int_pair": ("2 * sizeof(int)", "c", BOTH),
    "long": ("sizeof(long)", "c", BOTH),
    "ulong": ("sizeof(unsigned long)", "c", BOTH),
    "loff": ("sizeof(long long)", "c", BOTH),
    "socklen": ("sizeof(socklen_t)", "c", BOTH),
    "page_ptr": ("sizeof(void *)", "c", BOTH),
    "node_id": ("sizeof(int)", "c", BOTH),
    "page_status": ("sizeof(int)", "c", BOTH),
    "blkpg_ioctl_arg": ("sizeof(struct blkpg_ioctl_arg)", "k", BOTH),
    "unimapdesc": ("sizeof(struct unimapdesc)", "k", BOTH),
    "consolefontdesc": ("sizeof(struct consolefontdesc)", "k", BOTH),
    "console_font_op": ("sizeof(struct console_font_op)", "k", BOTH),
    "kbsentry": ("sizeof(struct kbsentry)", "k", X64),
    "kbdiacrs": ("sizeof(struct kbdiacrs)", "k", X64),
    "kbdiacrsuc": ("sizeof(struct kbdiacrsuc)", "k", X64),
    "sockaddr_xdp": ("sizeof(struct sockaddr_xdp)", "k", X64),
    "keyctl_dh_params": ("sizeof(struct keyctl_dh_params)", "k", X64),
    "keyctl_kdf_params": ("sizeof(struct keyctl_kdf_params)", "k", X64),
    "keyctl_pkey_params": ("sizeof(struct keyctl_pkey_params)", "k", X64),
    "ptrace_peeksiginfo_args": ("sizeof(struct ptrace_peeksiginfo_args)", "k", X64),
    "v4l2_format": ("sizeof(struct v4l2_format)", "c", X64),
    "v4l2_create_buffers": ("sizeof(struct v4l2_create_buffers)", "c", X64),
    "v4l2_ext_controls": ("sizeof(struct v4l2_ext_controls)", "c", X64),
    "tee_ioctl_buf_data": ("sizeof(struct tee_ioctl_buf_data)", "k", X64),
    "ifconf": ("sizeof(struct ifconf)", "c", BOTH),
    "user_regs_struct": ("sizeof(struct user_regs_struct)", "c", X64),
    "user_fpregs_struct": ("sizeof(struct user_fpregs_struct)", "c", X64),
    "ptrace_iovec": ("sizeof(struct iovec)", "c", X64),
}

NOT_A_C_TYPE = {
    "ustat": "libc dropped <ustat.h>; the kernel's struct ustat is not in uapi",
    "utimbuf": "the kernel's struct utimbuf is not in uapi (libc's time_t is 64-bit on -m32 with _TIME_BITS=64)",
    "sigset": "the rt_ calls' kernel sigset: 8 bytes, a count strace prints by sigsetsize",
    "old_sigset": "the old calls' word-sized mask (old_sigset_t)",
    "siginfo": "the kernel's SI_MAX_SIZE, 128 (libc's siginfo_t agrees; checked by the siginfo printers)",
    "sigevent": "what the kernel reads of it (the union is 16 bytes used of 48)",
    "fd_set": "FD_SETSIZE bits: what strace reads of a set at most",
    "sched_param": "one int (sched_priority): a described item",
    "cpu_set": "what strace reads of a mask at most (1024 bits)",
    "fsconfig_value": "a string, a path or aux bytes, read as far as PATH_MAX",
    "quota_data": "the largest quotactl reads it as (XFS's fs_quota_statv)",
    "mincore_vec": "a byte a page",
    "sysctl_args": "struct __sysctl_args is no longer in uapi",
    "seccomp_arg": "a sock_fprog, an action word or notif sizes, by operation",
    "ipc_ctl_buf": "the largest of msgctl/shmctl/semctl's structs (msqid64_ds)",
    "msgbuf": "mtype and the first 1024 bytes of mtext",
    "mmap_arg_struct": "kernel-internal (old_mmap's block: six longs)",
    "socketcall_args": "kernel-internal (socketcall's block: six longs)",
    "sel_arg_struct": "kernel-internal (old_select's block: five longs)",
    "perf_event_attr": "what strace reads (PERF_ATTR_SIZE_VER8); the installed headers may be older or newer",
    "ptrace_data": "the largest ptrace's data is read as (a siginfo)",
    "bpf_attr": "what strace reads of the union (its size argument, at most a page)",
    "landlock_ruleset_attr": "what strace reads (three u64s); the installed headers may be older or newer",
    "sigset_argpack": "pselect6's sixth argument: {sigset pointer, size}, no uapi type",
    "cachestat_range": "linux/mman.h has it only from 6.5 on (two u64s)",
    "cachestat": "linux/mman.h has it only from 6.5 on (five u64s)",
    "linux_dirent": "variable length: a buffer of them",
    "linux_dirent64": "variable length: a buffer of them",
    "sockaddr": "the 16 bytes of struct sockaddr's family + data (a sockaddr argument reads its length)",
    "kernel_sigset_size": "the kernel's sigset size, what sigsetsize must be",
    "prctl_arg": "prctl's argument read by option (two longs at most)",
    "bpf_map_create_attr": "the fields BPF_MAP_CREATE reads of union bpf_attr (a view, for its layout)",
    "bpf_prog_load_attr": "the fields BPF_PROG_LOAD reads of union bpf_attr (a view, for its layout)",
    "bpf_obj_attr": "the fields BPF_OBJ_PIN/GET read of union bpf_attr (a view, for its layout)",
    "bpf_query_attr": "the fields BPF_PROG_QUERY reads of union bpf_attr (a view, for its layout)",
    "bpf_raw_tp_attr": "the fields BPF_RAW_TRACEPOINT_OPEN reads of union bpf_attr (a view, for its layout)",
    "bpf_btf_load_attr": "the fields BPF_BTF_LOAD reads of union bpf_attr (a view, for its layout)",
    "bpf_link_create_attr": "the fields BPF_LINK_CREATE reads of union bpf_attr (a view, for its layout)",
    "bpf_info_attr": "the fields BPF_OBJ_GET_INFO_BY_FD reads of union bpf_attr (a view, for its layout)",
    "ptrace_siginfo": "a siginfo as PTRACE_SETSIGINFO's data (the kernel's 128 bytes, checked as siginfo)",
    "qword": "an eight-byte word: a DEREF element for arrays of larger structs (v4l2's clips, controls)",
    "keyctl_byte": "one byte: a DEREF element (keyctl's buffers)",
    "console_font": "GIO_FONT/PIO_FONT's 8 KiB: 256 characters of 32 bytes, no C type",
    "kvm_cpuid2": "its head and the 100 entries the fetch reads (the kernel takes up to 256)",
}


def test_every_struct_is_checked_or_explained():
    assert set(C_SIZES) | set(NOT_A_C_TYPE) >= set(T.structs), sorted(set(T.structs) - set(C_SIZES) - set(NOT_A_C_TYPE))
    assert not set(C_SIZES) & set(NOT_A_C_TYPE)
    assert set(C_SIZES) | set(NOT_A_C_TYPE) <= set(T.structs)


def _sizes(tmp_path, headers: str, m32: bool) -> dict[str, int]:
    pers = Pers.I386 if m32 else Pers.X86_64
    names = [n for n, (_, h, ps) in C_SIZES.items() if h == headers and pers in ps]
    incs = KERNEL_HEADERS if headers == "k" else LIBC_HEADERS
    src = tmp_path / f"sizes_{headers}{'32' if m32 else ''}.c"
    src.write_text("#define _GNU_SOURCE\n#include <stdio.h>\n" + "".join(f"#include <{h}>\n" for h in incs)
                   + "int main(void) {\n"
                   + "".join(f'printf("{n} %zu\\n", (size_t)({C_SIZES[n][0]}));\n' for n in names)
                   + "return 0;\n}\n")
    exe = tmp_path / src.stem
    subprocess.run(["gcc", *(["-m32"] if m32 else []), "-o", str(exe), str(src)], check=True, capture_output=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    return {line.split()[0]: int(line.split()[1]) for line in out.splitlines()}


def _m32_works(tmp_path) -> bool:
    src = tmp_path / "m32.c"
    src.write_text("#include <stdio.h>\nint main(void) { return 0; }\n")
    return subprocess.run(["gcc", "-m32", "-o", str(tmp_path / "m32"), str(src)], capture_output=True).returncode == 0


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
@pytest.mark.parametrize("pers", [Pers.X86_64, Pers.I386])
@pytest.mark.parametrize("headers", ["k", "c"])
def test_table_sizes_are_the_c_compilers(tmp_path, pers, headers):
    if pers == Pers.I386 and not _m32_works(tmp_path):
        pytest.skip("gcc -m32 cannot build here")
    got = _sizes(tmp_path, headers, pers == Pers.I386)
    want = {n: T.struct_size(n, pers) for n in got}
    assert got and got == want
