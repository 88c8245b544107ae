// N-API entry points of the prototype: each kernel takes its two operands and the result as Float32Arrays,
// plus the geometry as an Int32Array, checks every length against the geometry, and writes the result in place.

#define NAPI_VERSION 8
#include <node_api.h>
#include <stdlib.h>

#include "conv_kernels.h"

typedef int (*conv_pass)(const float *a, const float *b, float *out, const conv_geometry *g);

static napi_value fail(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

static int typed_array(napi_env env, napi_value value, napi_typedarray_type expected, void **data, size_t *length) {
  bool is_typed_array = false;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array) return 0;
  if (napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) != napi_ok) return 0;
  return type == expected;
}

// The element counts of the pass's two operands and its result, from the geometry.
static void sizes_of(const conv_geometry *g, int pass, size_t sizes[3]) {
  const size_t input = (size_t)g->batch * g->in_height * g->in_width * g->in_channels;
  const size_t filter = (size_t)g->filter_height * g->filter_width * g->in_channels * g->out_channels;
  const size_t output = (size_t)g->batch * g->out_height * g->out_width * g->out_channels;
  const size_t forward[3] = {input, filter, output}, filter_gradient[3] = {input, output, filter},
               input_gradient[3] = {output, filter, input};
  const size_t *chosen = pass == 0 ? forward : pass == 1 ? filter_gradient : input_gradient;
  for (int i = 0; i < 3; i++) sizes[i] = chosen[i];
}

static int geometry_is_sane(const conv_geometry *g) {
  const int *fields = (const int *)g;
  for (int i = 0; i < CONV_GEOMETRY_FIELDS; i++)
    if (fields[i] < (i == 11 || i == 12 ? 0 : 1)) return 0;
  return g->padded_height >= g->in_height + g->pad_top && g->padded_width >= g->in_width + g->pad_left &&
         (long)(g->out_height - 1) * g->stride_height + g->filter_height <= g->padded_height &&
         (long)(g->out_width - 1) * g->stride_width + g->filter_width <= g->padded_width;
}

static napi_value run_pass(napi_env env, napi_callback_info info, int pass) {
  static const conv_pass passes[3] = {conv2d_forward, conv2d_filter_gradient, conv2d_input_gradient};
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4)
    return fail(env, "expected (a, b, result, geometry)");
  void *data[3];
  size_t lengths[3], geometry_length;
  int *geometry;
  for (int i = 0; i < 3; i++)
    if (!typed_array(env, argv[i], napi_float32_array, &data[i], &lengths[i])) return fail(env, "operands must be Float32Arrays");
  if (!typed_array(env, argv[3], napi_int32_array, (void **)&geometry, &geometry_length) ||
      geometry_length != CONV_GEOMETRY_FIELDS)
    return fail(env, "geometry must be an Int32Array of 15 fields");
  conv_geometry g;
  int *fields = (int *)&g;
  for (int i = 0; i < CONV_GEOMETRY_FIELDS; i++) fields[i] = geometry[i];
  if (!geometry_is_sane(&g)) return fail(env, "geometry out of range");
  size_t sizes[3];
  sizes_of(&g, pass, sizes);
  for (int i = 0; i < 3; i++)
    if (lengths[i] != sizes[i]) return fail(env, "an operand's length does not match the geometry");
  if (passes[pass](data[0], data[1], data[2], &g) != 0) return fail(env, "out of memory");
  return NULL;
}

static napi_value forward(napi_env env, napi_callback_info info) { return run_pass(env, info, 0); }
static napi_value filter_gradient(napi_env env, napi_callback_info info) { return run_pass(env, info, 1); }
static napi_value input_gradient(napi_env env, napi_callback_info info) { return run_pass(env, info, 2); }

// selectIsa(allowSimd): which kernels run from now on; the bench's check compares both against tfjs.
static napi_value select_isa(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  bool allow_simd = true;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc == 1) napi_get_value_bool(env, argv[0], &allow_simd);
  const char *isa = conv_select_isa(allow_simd);
  napi_create_string_utf8(env, isa, NAPI_AUTO_LENGTH, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  conv_select_isa(1);
  const napi_property_descriptor methods[] = {
      {"conv2dForward", NULL, forward, NULL, NULL, NULL, napi_default, NULL},
      {"conv2dFilterGradient", NULL, filter_gradient, NULL, NULL, NULL, napi_default, NULL},
      {"conv2dInputGradient", NULL, input_gradient, NULL, NULL, NULL, napi_default, NULL},
      {"selectIsa", NULL, select_isa, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
