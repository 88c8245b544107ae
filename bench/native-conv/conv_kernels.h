// Dense NHWC convolutions on float32, one thread: forward, filter gradient and input gradient.
#ifndef CONV_KERNELS_H
#define CONV_KERNELS_H

// The geometry of bench/../src/engine/kernels/conv-geometry.ts, in the same order: the input is seen through a
// zero-padded buffer of padded_height x padded_width ('same' padding and 'ceil' rounding both become pads).
typedef struct {
  int batch, in_height, in_width, in_channels;
  int out_height, out_width, out_channels;
  int filter_height, filter_width, stride_height, stride_width;
  int pad_top, pad_left, padded_height, padded_width;
} conv_geometry;

#define CONV_GEOMETRY_FIELDS 15

// Picks the AVX2 + FMA kernels when the CPU has both, the portable ones otherwise; returns which.
const char *conv_select_isa(int allow_simd);

// Each returns 0, or -1 when memory ran out. Results are written whole (no accumulation into them).
int conv2d_forward(const float *x, const float *filter, float *y, const conv_geometry *g);
int conv2d_filter_gradient(const float *x, const float *dy, float *dfilter, const conv_geometry *g);
int conv2d_input_gradient(const float *dy, const float *filter, float *dx, const conv_geometry *g);

#endif
