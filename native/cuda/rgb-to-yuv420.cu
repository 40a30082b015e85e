// The CUDA side of device-frame input: a renderer's RGB frame, already in GPU memory, becomes
// the YUV 4:2:0 frame that scale_cuda and NVENC take, without leaving the GPU. FFmpeg's
// scale_cuda (5.1 through 7.1) converts only between YUV formats, hence a kernel of our own.
//
// Built with clang, not nvcc (no CUDA toolkit needed): scripts/build-cuda-kernels.sh writes
// the PTX into rgb-to-yuv420-ptx.h, which the addon loads through the driver at run time.
#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __host__ __attribute__((host))
#define ABRCAST_HOST_DEVICE __host__ __device__

#include "rgb-to-yuv420.h"

using namespace abrcast::rgb_to_yuv420;

// One thread a 2x2 block. Pitches in bytes; width and height of the luma plane, both even.
extern "C" __global__ void abrcast_rgb_to_yuv420p(const unsigned char* rgb, long long rgbPitch, int bytesPerPixel,
                                                  int red, int green, int blue, int width, int height,
                                                  unsigned char* y, long long yPitch, unsigned char* u,
                                                  long long uPitch, unsigned char* v, long long vPitch) {
  const int cx = int(__nvvm_read_ptx_sreg_ctaid_x() * __nvvm_read_ptx_sreg_ntid_x() + __nvvm_read_ptx_sreg_tid_x());
  const int cy = int(__nvvm_read_ptx_sreg_ctaid_y() * __nvvm_read_ptx_sreg_ntid_y() + __nvvm_read_ptx_sreg_tid_y());
  if (cx >= width / 2 || cy >= height / 2) return;
  const PackedRgb src{rgb, rgbPitch, bytesPerPixel, red, green, blue};
  const Yuv420Planes dst{y, yPitch, u, uPitch, v, vPitch};
  convertBlock(src, dst, cx, cy);
}
