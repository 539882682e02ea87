/* video4linux ioctls (_ioctl_v4l2, _ioctl_v4l2_req) on fd -1: each call
 * fails with EBADF after strace has read what the request passes, so the
 * lines show the entry half of each struct (and the ` => ` half of the
 * extended controls, which strace prints after a failure too): formats by
 * buffer type (the overlay window's clips read behind their pointer),
 * buffers, controls by id and class, tuners, crops, frame sizes. */
#include "common.h"
#include <sys/ioctl.h>
#include <linux/videodev2.h>
#define EBADF_TEXT "-1 EBADF (Bad file descriptor)"
int main(int argc, char **argv) {
	open_out(argc, argv);
	syscall(SYS_ioctl, -1, VIDIOC_QUERYCAP, NULL);
	EXPECT("ioctl(-1, VIDIOC_QUERYCAP, NULL) = " EBADF_TEXT);
	struct v4l2_fmtdesc fd = { .index = 3, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	syscall(SYS_ioctl, -1, VIDIOC_ENUM_FMT, &fd);
	EXPECT("ioctl(-1, VIDIOC_ENUM_FMT, {index=3, type=V4L2_BUF_TYPE_VIDEO_CAPTURE}) = " EBADF_TEXT);
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_OUTPUT };
	f.fmt.pix.width = 640; f.fmt.pix.height = 480; f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	f.fmt.pix.field = V4L2_FIELD_NONE; f.fmt.pix.bytesperline = 1280; f.fmt.pix.sizeimage = 614400;
	f.fmt.pix.colorspace = V4L2_COLORSPACE_SRGB;
	syscall(SYS_ioctl, -1, VIDIOC_S_FMT, &f);
	EXPECT("ioctl(-1, VIDIOC_S_FMT, {type=V4L2_BUF_TYPE_VIDEO_OUTPUT, fmt.pix={width=640, height=480, "
	       "pixelformat=v4l2_fourcc('Y', 'U', 'Y', 'V') /* V4L2_PIX_FMT_YUYV */, field=V4L2_FIELD_NONE, "
	       "bytesperline=1280, sizeimage=614400, colorspace=V4L2_COLORSPACE_SRGB}}) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, VIDIOC_G_FMT, &f);
	EXPECT("ioctl(-1, VIDIOC_G_FMT, {type=V4L2_BUF_TYPE_VIDEO_OUTPUT}) = " EBADF_TEXT);
	struct v4l2_clip clips[2] = { { .c = { 1, -2, 3, 4 } }, { .c = { 5, 6, 7, 8 } } };
	memset(&f, 0, sizeof(f));
	f.type = V4L2_BUF_TYPE_VIDEO_OVERLAY;
	f.fmt.win.w.width = 10; f.fmt.win.field = V4L2_FIELD_TOP; f.fmt.win.chromakey = 0xff00;
	f.fmt.win.clips = clips; f.fmt.win.clipcount = 2; f.fmt.win.global_alpha = 0x80;
	syscall(SYS_ioctl, -1, VIDIOC_TRY_FMT, &f);
	EXPECT("ioctl(-1, VIDIOC_TRY_FMT, {type=V4L2_BUF_TYPE_VIDEO_OVERLAY, fmt.win={w={left=0, top=0, width=10, "
	       "height=0}, field=V4L2_FIELD_TOP, chromakey=0xff00, clips=[{c={left=1, top=-2, width=3, height=4}}, "
	       "{c={left=5, top=6, width=7, height=8}}], clipcount=2, bitmap=NULL, global_alpha=0x80}}) = " EBADF_TEXT);
	struct v4l2_requestbuffers rb = { .count = 4, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP };
	syscall(SYS_ioctl, -1, VIDIOC_REQBUFS, &rb);
	EXPECT("ioctl(-1, VIDIOC_REQBUFS, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE, memory=V4L2_MEMORY_MMAP, count=4}) = " EBADF_TEXT);
	struct v4l2_buffer b = { .index = 1, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	syscall(SYS_ioctl, -1, VIDIOC_QBUF, &b);
	EXPECT("ioctl(-1, VIDIOC_QBUF, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE, index=1}) = " EBADF_TEXT);
	int type = 0x77;
	syscall(SYS_ioctl, -1, VIDIOC_STREAMON, &type);
	EXPECT("ioctl(-1, VIDIOC_STREAMON, [0x77 /* V4L2_BUF_TYPE_??? */]) = " EBADF_TEXT);
	struct v4l2_control ctl = { .id = V4L2_CID_BRIGHTNESS, .value = -5 };
	syscall(SYS_ioctl, -1, VIDIOC_S_CTRL, &ctl);
	EXPECT("ioctl(-1, VIDIOC_S_CTRL, {id=V4L2_CID_BRIGHTNESS, value=-5}) = " EBADF_TEXT);
	ctl.id = V4L2_CTRL_CLASS_CAMERA | 0x42;
	syscall(SYS_ioctl, -1, VIDIOC_G_CTRL, &ctl);
	EXPECT("ioctl(-1, VIDIOC_G_CTRL, {id=V4L2_CTRL_CLASS_CAMERA+0x42}) = " EBADF_TEXT);
	struct v4l2_queryctrl qc = { .id = V4L2_CTRL_FLAG_NEXT_CTRL | V4L2_CID_CONTRAST };
	syscall(SYS_ioctl, -1, VIDIOC_QUERYCTRL, &qc);
	EXPECT("ioctl(-1, VIDIOC_QUERYCTRL, {id=V4L2_CTRL_FLAG_NEXT_CTRL|V4L2_CID_CONTRAST}) = " EBADF_TEXT);
	struct v4l2_streamparm sp = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	sp.parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
	sp.parm.capture.timeperframe.numerator = 1; sp.parm.capture.timeperframe.denominator = 30;
	syscall(SYS_ioctl, -1, VIDIOC_S_PARM, &sp);
	EXPECT("ioctl(-1, VIDIOC_S_PARM, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE, parm.capture={capability=V4L2_CAP_TIMEPERFRAME, "
	       "capturemode=0, timeperframe=1/30, extendedmode=0, readbuffers=0}}) = " EBADF_TEXT);
	v4l2_std_id std = V4L2_STD_PAL;
	syscall(SYS_ioctl, -1, VIDIOC_S_STD, &std);
	EXPECT("ioctl(-1, VIDIOC_S_STD, [0xff]) = " EBADF_TEXT);
	struct v4l2_crop cr = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .c = { -1, 2, 3, 4 } };
	syscall(SYS_ioctl, -1, VIDIOC_S_CROP, &cr);
	EXPECT("ioctl(-1, VIDIOC_S_CROP, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE, c={left=-1, top=2, width=3, height=4}}) = " EBADF_TEXT);
	struct v4l2_frmsizeenum fs = { .index = 0, .pixel_format = V4L2_PIX_FMT_MJPEG };
	syscall(SYS_ioctl, -1, VIDIOC_ENUM_FRAMESIZES, &fs);
	EXPECT("ioctl(-1, VIDIOC_ENUM_FRAMESIZES, {index=0, pixel_format=v4l2_fourcc('M', 'J', 'P', 'G') "
	       "/* V4L2_PIX_FMT_MJPEG */}) = " EBADF_TEXT);
	struct v4l2_ext_control ec[2] = { { .id = V4L2_CID_SATURATION, .value = 7 }, { .id = V4L2_CID_HUE, .value64 = -3 } };
	struct v4l2_ext_controls ecs = { .ctrl_class = V4L2_CTRL_CLASS_USER, .count = 2, .controls = ec };
	syscall(SYS_ioctl, -1, VIDIOC_S_EXT_CTRLS, &ecs);
	EXPECT("ioctl(-1, VIDIOC_S_EXT_CTRLS, {ctrl_class=V4L2_CTRL_CLASS_USER, count=2, controls=[{id=V4L2_CID_SATURATION, "
	       "size=0, value=7, value64=7}, {id=V4L2_CID_HUE, size=0, value=-3, value64=-3}]} => {controls=[{id=V4L2_CID_SATURATION, "
	       "size=0, value=7, value64=7}, {id=V4L2_CID_HUE, size=0, value=-3, value64=-3}], error_idx=0}) = " EBADF_TEXT);
	return 0;
}
