// All three convolution passes are one matrix product with a gathered left operand:
//   tile[i][j] = sum over t of x[row_offset[i] + column_offset[t]] * b[t * ldb + j]
// forward:          rows = output pixels, t = filter taps (h, w, in channel), b = filter [taps][out channels];
// filter gradient:  rows = filter taps,   t = output pixels,                  b = dy [pixels][out channels];
// input gradient:   at stride 1, a forward convolution of dy, padded, with the filter flipped and its channels
//                   swapped; at larger strides rows = output pixels, t = out channels, b = the filter transposed,
//                   and the tile is scattered into the padded input's gradient (col2im).
// So no im2col matrix is ever built, and one 6 x 16 register tile (12 AVX2 accumulators) does all the work.

#include "conv_kernels.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

enum { TILE_ROWS = 6, TILE_COLUMNS = 16, PIXEL_BLOCK = 512 };

typedef void (*tile_function)(const float *x, const long *row_offset, const long *column_offset, long depth, const float *b,
                              long ldb, int columns, float *tile);

// The portable tile: same contract as the AVX2 one, the compiler's own vectorization only.
static void tile_portable(const float *x, const long *row_offset, const long *column_offset, long depth, const float *b, long ldb,
                          int columns, float *tile) {
  float sums[TILE_ROWS][TILE_COLUMNS] = {{0}};
  for (long t = 0; t < depth; t++) {
    const float *bt = b + t * ldb;
    for (int i = 0; i < TILE_ROWS; i++) {
      const float a = x[row_offset[i] + column_offset[t]];
      for (int j = 0; j < columns; j++) sums[i][j] += a * bt[j];
    }
  }
  memcpy(tile, sums, sizeof sums);
}

#define TILE_STEP(LOAD0, LOAD1)                                                                                                      \
  for (long t = 0; t < depth; t++) {                                                                                                 \
    const float *bt = b + t * ldb;                                                                                                   \
    const long o = column_offset[t];                                                                                                 \
    const __m256 b0 = LOAD0, b1 = LOAD1;                                                                                             \
    __m256 a = _mm256_broadcast_ss(r0 + o);                                                                                          \
    c00 = _mm256_fmadd_ps(a, b0, c00), c01 = _mm256_fmadd_ps(a, b1, c01);                                                            \
    a = _mm256_broadcast_ss(r1 + o);                                                                                                 \
    c10 = _mm256_fmadd_ps(a, b0, c10), c11 = _mm256_fmadd_ps(a, b1, c11);                                                            \
    a = _mm256_broadcast_ss(r2 + o);                                                                                                 \
    c20 = _mm256_fmadd_ps(a, b0, c20), c21 = _mm256_fmadd_ps(a, b1, c21);                                                            \
    a = _mm256_broadcast_ss(r3 + o);                                                                                                 \
    c30 = _mm256_fmadd_ps(a, b0, c30), c31 = _mm256_fmadd_ps(a, b1, c31);                                                            \
    a = _mm256_broadcast_ss(r4 + o);                                                                                                 \
    c40 = _mm256_fmadd_ps(a, b0, c40), c41 = _mm256_fmadd_ps(a, b1, c41);                                                            \
    a = _mm256_broadcast_ss(r5 + o);                                                                                                 \
    c50 = _mm256_fmadd_ps(a, b0, c50), c51 = _mm256_fmadd_ps(a, b1, c51);                                                            \
  }

// Blocks of at most 8 columns (8-filter layers, the last block of odd widths): half the accumulators, half the FMAs.
#define TILE_STEP_NARROW(LOAD0)                                                                                                      \
  for (long t = 0; t < depth; t++) {                                                                                                 \
    const float *bt = b + t * ldb;                                                                                                   \
    const long o = column_offset[t];                                                                                                 \
    const __m256 b0 = LOAD0;                                                                                                         \
    c00 = _mm256_fmadd_ps(_mm256_broadcast_ss(r0 + o), b0, c00);                                                                     \
    c10 = _mm256_fmadd_ps(_mm256_broadcast_ss(r1 + o), b0, c10);                                                                     \
    c20 = _mm256_fmadd_ps(_mm256_broadcast_ss(r2 + o), b0, c20);                                                                     \
    c30 = _mm256_fmadd_ps(_mm256_broadcast_ss(r3 + o), b0, c30);                                                                     \
    c40 = _mm256_fmadd_ps(_mm256_broadcast_ss(r4 + o), b0, c40);                                                                     \
    c50 = _mm256_fmadd_ps(_mm256_broadcast_ss(r5 + o), b0, c50);                                                                     \
  }

__attribute__((target("avx2,fma"))) static void tile_avx2(const float *x, const long *row_offset, const long *column_offset,
                                                          long depth, const float *b, long ldb, int columns, float *tile) {
  const float *r0 = x + row_offset[0], *r1 = x + row_offset[1], *r2 = x + row_offset[2];
  const float *r3 = x + row_offset[3], *r4 = x + row_offset[4], *r5 = x + row_offset[5];
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  if (columns == TILE_COLUMNS) {
    TILE_STEP(_mm256_loadu_ps(bt), _mm256_loadu_ps(bt + 8))
  } else if (columns == 8) {
    TILE_STEP_NARROW(_mm256_loadu_ps(bt))
  } else {
    // Masked lanes are neither read nor faulted on: a narrow last block needs no padded copy of b.
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(columns), lane);
    const __m256i mask1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(columns - 8), lane);
    if (columns < 8) {
      TILE_STEP_NARROW(_mm256_maskload_ps(bt, mask0))
    } else {
      TILE_STEP(_mm256_maskload_ps(bt, mask0), _mm256_maskload_ps(bt + 8, mask1))
    }
  }
  __m256 *out = (__m256 *)tile;
  _mm256_storeu_ps((float *)(out + 0), c00), _mm256_storeu_ps((float *)(out + 1), c01);
  _mm256_storeu_ps((float *)(out + 2), c10), _mm256_storeu_ps((float *)(out + 3), c11);
  _mm256_storeu_ps((float *)(out + 4), c20), _mm256_storeu_ps((float *)(out + 5), c21);
  _mm256_storeu_ps((float *)(out + 6), c30), _mm256_storeu_ps((float *)(out + 7), c31);
  _mm256_storeu_ps((float *)(out + 8), c40), _mm256_storeu_ps((float *)(out + 9), c41);
  _mm256_storeu_ps((float *)(out + 10), c50), _mm256_storeu_ps((float *)(out + 11), c51);
}

static tile_function tile = tile_portable;

const char *conv_select_isa(int allow_simd) {
  __builtin_cpu_init();
  if (allow_simd && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    tile = tile_avx2;
    return "avx2+fma";
  }
  tile = tile_portable;
  return "portable";
}

// The input copied into its zero-padded buffer, or x itself when there is no padding.
static const float *pad_input(const float *x, const conv_geometry *g, float **owned) {
  *owned = NULL;
  if (g->padded_height == g->in_height && g->padded_width == g->in_width) return x;
  const long row = (long)g->in_width * g->in_channels;
  float *padded = calloc((size_t)g->batch * g->padded_height * g->padded_width * g->in_channels, sizeof(float));
  if (padded == NULL) return NULL;
  for (long n = 0; n < g->batch; n++)
    for (long r = 0; r < g->in_height; r++)
      memcpy(padded + ((n * g->padded_height + r + g->pad_top) * g->padded_width + g->pad_left) * g->in_channels,
             x + (n * g->in_height + r) * row, row * sizeof(float));
  *owned = padded;
  return padded;
}

// Offsets into the padded input: of each filter tap from a window's corner, and of each output pixel's window corner.
static long *tap_offsets(const conv_geometry *g) {
  long *offsets = malloc(sizeof(long) * g->filter_height * g->filter_width * g->in_channels);
  if (offsets == NULL) return NULL;
  long k = 0;
  for (long h = 0; h < g->filter_height; h++)
    for (long w = 0; w < g->filter_width; w++)
      for (long c = 0; c < g->in_channels; c++) offsets[k++] = (h * g->padded_width + w) * g->in_channels + c;
  return offsets;
}

static long *pixel_offsets(const conv_geometry *g) {
  long *offsets = malloc(sizeof(long) * g->batch * g->out_height * g->out_width);
  if (offsets == NULL) return NULL;
  long p = 0;
  for (long n = 0; n < g->batch; n++)
    for (long r = 0; r < g->out_height; r++)
      for (long c = 0; c < g->out_width; c++)
        offsets[p++] = ((n * g->padded_height + r * g->stride_height) * g->padded_width + c * g->stride_width) * g->in_channels;
  return offsets;
}

// A tile's row offsets; rows past the end repeat the last one (computed, never stored), so the tile is always full height.
static void tile_rows(const long *offsets, long first, long count, long *rows) {
  for (long i = 0; i < TILE_ROWS; i++) rows[i] = offsets[first + (first + i < count ? i : count - 1 - first)];
}

static long min_long(long a, long b) { return a < b ? a : b; }

int conv2d_forward(const float *x, const float *filter, float *y, const conv_geometry *g) {
  float *owned;
  const float *padded = pad_input(x, g, &owned);
  long *taps = tap_offsets(g), *pixels = pixel_offsets(g);
  const long tap_count = (long)g->filter_height * g->filter_width * g->in_channels;
  const long pixel_count = (long)g->batch * g->out_height * g->out_width, oc = g->out_channels;
  int status = -1;
  if (padded == NULL || taps == NULL || pixels == NULL) goto done;
  float out[TILE_ROWS * TILE_COLUMNS];
  long rows[TILE_ROWS];
  for (long p = 0; p < pixel_count; p += TILE_ROWS) {
    const long row_count = min_long(TILE_ROWS, pixel_count - p);
    tile_rows(pixels, p, pixel_count, rows);
    for (long j = 0; j < oc; j += TILE_COLUMNS) {
      const int columns = (int)min_long(TILE_COLUMNS, oc - j);
      tile(padded, rows, taps, tap_count, filter + j, oc, columns, out);
      for (long i = 0; i < row_count; i++) memcpy(y + (p + i) * oc + j, out + i * TILE_COLUMNS, columns * sizeof(float));
    }
  }
  status = 0;
done:
  free(owned), free(taps), free(pixels);
  return status;
}

int conv2d_filter_gradient(const float *x, const float *dy, float *dfilter, const conv_geometry *g) {
  float *owned;
  const float *padded = pad_input(x, g, &owned);
  long *taps = tap_offsets(g), *pixels = pixel_offsets(g);
  const long tap_count = (long)g->filter_height * g->filter_width * g->in_channels;
  const long pixel_count = (long)g->batch * g->out_height * g->out_width, oc = g->out_channels;
  int status = -1;
  if (padded == NULL || taps == NULL || pixels == NULL) goto done;
  memset(dfilter, 0, sizeof(float) * tap_count * oc);
  float out[TILE_ROWS * TILE_COLUMNS];
  long rows[TILE_ROWS];
  // Blocks of pixels keep the slice of dy every tile streams through in L2.
  for (long p = 0; p < pixel_count; p += PIXEL_BLOCK) {
    const long block = min_long(PIXEL_BLOCK, pixel_count - p);
    for (long k = 0; k < tap_count; k += TILE_ROWS) {
      const long row_count = min_long(TILE_ROWS, tap_count - k);
      tile_rows(taps, k, tap_count, rows);
      for (long j = 0; j < oc; j += TILE_COLUMNS) {
        const int columns = (int)min_long(TILE_COLUMNS, oc - j);
        tile(padded, rows, pixels + p, block, dy + p * oc + j, oc, columns, out);
        for (long i = 0; i < row_count; i++) {
          float *target = dfilter + (k + i) * oc + j;
          for (int c = 0; c < columns; c++) target[c] += out[i * TILE_COLUMNS + c];
        }
      }
    }
  }
  status = 0;
done:
  free(owned), free(taps), free(pixels);
  return status;
}

// dx[i] = sum over taps a of dy[i + pad_top - a] * filter[a]: a 'valid' forward pass over dy padded by
// filter_height - 1 - pad_top above, with tap a read as filter_height - 1 - a.
static int input_gradient_by_forward(const float *dy, const float *filter, float *dx, const conv_geometry *g) {
  const long fh = g->filter_height, fw = g->filter_width, ic = g->in_channels, oc = g->out_channels;
  const conv_geometry flipped_geometry = {
      .batch = g->batch, .in_height = g->out_height, .in_width = g->out_width, .in_channels = g->out_channels,
      .out_height = g->in_height, .out_width = g->in_width, .out_channels = g->in_channels,
      .filter_height = g->filter_height, .filter_width = g->filter_width, .stride_height = 1, .stride_width = 1,
      .pad_top = g->filter_height - 1 - g->pad_top, .pad_left = g->filter_width - 1 - g->pad_left,
      .padded_height = g->in_height + g->filter_height - 1, .padded_width = g->in_width + g->filter_width - 1,
  };
  float *flipped = malloc(sizeof(float) * fh * fw * ic * oc);
  if (flipped == NULL) return -1;
  for (long a = 0; a < fh; a++)
    for (long b = 0; b < fw; b++)
      for (long i = 0; i < ic; i++)
        for (long o = 0; o < oc; o++)
          flipped[(((fh - 1 - a) * fw + (fw - 1 - b)) * oc + o) * ic + i] = filter[((a * fw + b) * ic + i) * oc + o];
  const int status = conv2d_forward(dy, flipped, dx, &flipped_geometry);
  free(flipped);
  return status;
}

int conv2d_input_gradient(const float *dy, const float *filter, float *dx, const conv_geometry *g) {
  // Where dy, padded, holds every window of the flipped pass (always so at stride 1 with tfjs's pads).
  if (g->stride_height == 1 && g->stride_width == 1 && g->pad_top < g->filter_height && g->pad_left < g->filter_width &&
      g->out_height + g->filter_height - 1 - g->pad_top <= g->in_height + g->filter_height - 1 &&
      g->out_width + g->filter_width - 1 - g->pad_left <= g->in_width + g->filter_width - 1)
    return input_gradient_by_forward(dy, filter, dx, g);
  const long tap_count = (long)g->filter_height * g->filter_width * g->in_channels;
  const long pixel_count = (long)g->batch * g->out_height * g->out_width, oc = g->out_channels;
  const size_t padded_size = (size_t)g->batch * g->padded_height * g->padded_width * g->in_channels;
  long *taps = tap_offsets(g), *pixels = pixel_offsets(g), *channels = malloc(sizeof(long) * oc);
  float *transposed = malloc(sizeof(float) * tap_count * oc), *padded = calloc(padded_size, sizeof(float));
  int status = -1;
  if (taps == NULL || pixels == NULL || channels == NULL || transposed == NULL || padded == NULL) goto done;
  for (long c = 0; c < oc; c++) channels[c] = c;
  for (long k = 0; k < tap_count; k++)
    for (long c = 0; c < oc; c++) transposed[c * tap_count + k] = filter[k * oc + c];
  float out[TILE_ROWS * TILE_COLUMNS];
  long rows[TILE_ROWS], dy_rows[TILE_ROWS];
  for (long p = 0; p < pixel_count; p += TILE_ROWS) {
    const long row_count = min_long(TILE_ROWS, pixel_count - p);
    for (long i = 0; i < TILE_ROWS; i++) dy_rows[i] = min_long(p + i, pixel_count - 1) * oc;
    tile_rows(pixels, p, pixel_count, rows);
    for (long k = 0; k < tap_count; k += TILE_COLUMNS) {
      const int columns = (int)min_long(TILE_COLUMNS, tap_count - k);
      tile(dy, dy_rows, channels, oc, transposed + k, tap_count, columns, out);
      // col2im: each tap of the tile adds into the input pixel it came from.
      for (long i = 0; i < row_count; i++) {
        float *window = padded + rows[i];
        for (int c = 0; c < columns; c++) window[taps[k + c]] += out[i * TILE_COLUMNS + c];
      }
    }
  }
  const long row = (long)g->in_width * g->in_channels;
  for (long n = 0; n < g->batch; n++)
    for (long r = 0; r < g->in_height; r++)
      memcpy(dx + (n * g->in_height + r) * row,
             padded + ((n * g->padded_height + r + g->pad_top) * g->padded_width + g->pad_left) * g->in_channels,
             row * sizeof(float));
  status = 0;
done:
  free(taps), free(pixels), free(channels), free(transposed), free(padded);
  return status;
}
