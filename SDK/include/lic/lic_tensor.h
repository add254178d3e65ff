/*
 * lic_tensor.h - the tensor op table of the plugin ABI (since 1.1).
 * Included by lic_plugin.h; reached through lic_host_services.tensor_ops.
 *
 * Plugins program against these ops: tensors are opaque host handles, the
 * host runs the ops (oneDNN and its own kernels), records the autodiff tape
 * and owns the parameters, so gradients cross plugin boundaries. A plugin
 * with its own kernel reads raw CPU views or registers a custom op with its
 * own backward.
 *
 * Tensors: float32, logical NCHW (row-major), rank 1...LIC_MAX_RANK,
 * immutable once made (except through `view` of a tensor the caller just
 * created and has not yet passed to any op).
 *
 * Ownership: every function that returns a tensor through `out` gives the
 * caller one reference; release it with `release`. Input tensors are
 * borrowed. Threading: ops may be called from any thread; a tensor may be
 * read from several threads; the tape belongs to the computation, not the
 * thread. Errors follow the lic_error rules of lic_plugin.h; on failure *out
 * is left NULL.
 */
#ifndef LIC_TENSOR_H
#define LIC_TENSOR_H

#ifndef LIC_PLUGIN_H
#error "include <lic/lic_plugin.h>, which includes this header"
#endif

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lic_tensor lic_tensor;

/* Elementwise ops of one tensor. `parameter` is used by LEAKY_RELU (slope). */
typedef enum lic_unary_op {
    LIC_UNARY_NEGATE = 0,
    LIC_UNARY_SQUARE = 1,
    LIC_UNARY_SQRT = 2,
    LIC_UNARY_RSQRT = 3,
    LIC_UNARY_RECIPROCAL = 4,
    LIC_UNARY_EXP = 5,
    LIC_UNARY_LOG = 6,
    LIC_UNARY_ABS = 7,
    LIC_UNARY_TANH = 8,
    LIC_UNARY_SIGMOID = 9,
    LIC_UNARY_RELU = 10,
    LIC_UNARY_LEAKY_RELU = 11,
    LIC_UNARY_GELU = 12,
    LIC_UNARY_SOFTPLUS = 13,
    LIC_UNARY_ERFC = 14,
    LIC_UNARY_GAUSSIAN_CDF = 15,   /* Phi(x) */
    LIC_UNARY_ROUND_STE = 16,      /* round, straight-through gradient */
    LIC_UNARY_STOP_GRADIENT = 17
} lic_unary_op;

/* Elementwise ops of two tensors, with numpy broadcasting. */
typedef enum lic_binary_op {
    LIC_BINARY_ADD = 0,
    LIC_BINARY_SUBTRACT = 1,
    LIC_BINARY_MULTIPLY = 2,
    LIC_BINARY_DIVIDE = 3,
    LIC_BINARY_POWER = 4,
    LIC_BINARY_MAXIMUM = 5,
    LIC_BINARY_MINIMUM = 6
} lic_binary_op;

/* Convolution settings; `mask` (nullable, the weight's shape) multiplies the
 * weight (masked / checkerboard context convolutions). */
typedef struct lic_conv_params {
    uint32_t struct_size;
    uint32_t stride;
    uint32_t pad_top, pad_left, pad_bottom, pad_right;
    uint32_t groups;
    uint32_t output_padding;       /* transposed convolution only */
    const lic_tensor *mask;
} lic_conv_params;

typedef enum lic_initializer {
    LIC_INIT_ZEROS = 0,
    LIC_INIT_CONSTANT = 1,         /* a */
    LIC_INIT_UNIFORM = 2,          /* U(a, b) */
    LIC_INIT_KAIMING_UNIFORM = 3,  /* U(-1/sqrt(fan_in), ...), fan_in = a */
    LIC_INIT_VALUES = 4            /* copy from `values` */
} lic_initializer;

typedef enum lic_parameter_group {
    LIC_GROUP_MAIN = 0,            /* trained by the rate-distortion loss */
    LIC_GROUP_AUXILIARY = 1,       /* trained by an auxiliary loss */
    LIC_GROUP_REGULARIZER = 2      /* ABI 1.2: a regularizer's own, with its own optimizer */
} lic_parameter_group;

/* A custom op's kernels (plugin-owned). forward fills `output` (host memory,
 * zeroed) from `inputs`; backward fills grad_inputs[i] (host memory, zeroed;
 * data NULL where input i needs no gradient) from grad_output. Called on the
 * thread running the computation; `user_data` is the plugin's. */
typedef lic_status (*lic_custom_forward_fn)(void *user_data, const lic_tensor_view *inputs, uint32_t input_count,
                                            const lic_tensor_view *output, lic_error *error);
typedef lic_status (*lic_custom_backward_fn)(void *user_data, const lic_tensor_view *inputs, uint32_t input_count,
                                             const lic_tensor_view *grad_output, const lic_tensor_view *grad_inputs,
                                             lic_error *error);

typedef struct lic_tensor_ops {
    uint32_t struct_size;

    /* References. retain/release accept NULL. */
    void (*retain)(lic_tensor *tensor);
    void (*release)(lic_tensor *tensor);

    /* A new tensor with `data` copied in (NULL: zeros). */
    lic_status (*create)(uint32_t rank, const int64_t *shape, const float *data, lic_tensor **out, lic_error *error);
    /* A raw CPU view (shape, strides, data) valid while the caller holds a
     * reference. Read-only, except on a tensor the caller created and has
     * not yet given to any op. */
    lic_status (*view)(const lic_tensor *tensor, lic_tensor_view *view, lic_error *error);

    lic_status (*unary)(lic_unary_op op, float parameter, const lic_tensor *x, lic_tensor **out, lic_error *error);
    lic_status (*binary)(lic_binary_op op, const lic_tensor *a, const lic_tensor *b, lic_tensor **out, lic_error *error);
    /* x [N,C,H,W], weight [O, C/groups, kH, kW], bias [O] or NULL. */
    lic_status (*conv2d)(const lic_tensor *x, const lic_tensor *weight, const lic_tensor *bias,
                         const lic_conv_params *params, lic_tensor **out, lic_error *error);
    /* x [N,C,H,W], weight [C, O/groups, kH, kW], bias [O] or NULL. */
    lic_status (*conv_transpose2d)(const lic_tensor *x, const lic_tensor *weight, const lic_tensor *bias,
                                   const lic_conv_params *params, lic_tensor **out, lic_error *error);
    /* [..., m, k] x [..., k, n]. */
    lic_status (*matmul)(const lic_tensor *a, const lic_tensor *b, lic_tensor **out, lic_error *error);
    lic_status (*clamp)(const lic_tensor *x, float min, float max, lic_tensor **out, lic_error *error);
    /* max(x, bound); gradient passes where x >= bound or it pushes x up. */
    lic_status (*lower_bound)(const lic_tensor *x, float bound, lic_tensor **out, lic_error *error);
    /* U(low, high) as a pure function of (seed, offset + element index). */
    lic_status (*uniform_noise)(uint32_t rank, const int64_t *shape, uint64_t seed, uint64_t offset, float low,
                                float high, lic_tensor **out, lic_error *error);
    /* Sum or mean over `axes` (axis_count 0: all axes). */
    lic_status (*sum)(const lic_tensor *x, const int32_t *axes, uint32_t axis_count, uint32_t keep_dimensions,
                      lic_tensor **out, lic_error *error);
    lic_status (*mean)(const lic_tensor *x, const int32_t *axes, uint32_t axis_count, uint32_t keep_dimensions,
                       lic_tensor **out, lic_error *error);
    lic_status (*concat)(const lic_tensor *const *tensors, uint32_t count, int32_t axis, lic_tensor **out,
                         lic_error *error);
    /* Elements start ... start+length-1 of `axis` (split = several slices). */
    lic_status (*slice)(const lic_tensor *x, int32_t axis, int64_t start, int64_t length, lic_tensor **out,
                        lic_error *error);
    lic_status (*reshape)(const lic_tensor *x, uint32_t rank, const int64_t *shape, lic_tensor **out, lic_error *error);
    /* Output axis i is input axis permutation[i] (x's rank entries). */
    lic_status (*permute)(const lic_tensor *x, const uint32_t *permutation, lic_tensor **out, lic_error *error);
    /* [N, C*r*r, H, W] -> [N, C, H*r, W*r]; inverse: the other way. */
    lic_status (*pixel_shuffle)(const lic_tensor *x, uint32_t factor, uint32_t inverse, lic_tensor **out,
                                lic_error *error);
    /* padding[2*axis] before, padding[2*axis+1] after; negative crops. */
    lic_status (*pad)(const lic_tensor *x, const int64_t *padding, float value, lic_tensor **out, lic_error *error);
    /* y = x / sqrt(beta + gamma (x^2)) over channels; inverse multiplies. */
    lic_status (*gdn)(const lic_tensor *x, const lic_tensor *beta, const lic_tensor *gamma, uint32_t inverse,
                      lic_tensor **out, lic_error *error);
    /* An op with the plugin's own kernels. `user_data` is released with
     * `release_user_data` (nullable) when the op and its tape entry are gone. */
    lic_status (*custom)(const char *name, const lic_tensor *const *inputs, uint32_t input_count, uint32_t output_rank,
                         const int64_t *output_shape, lic_custom_forward_fn forward, lic_custom_backward_fn backward,
                         void *user_data, void (*release_user_data)(void *user_data), lic_tensor **out,
                         lic_error *error);
    /* A parameter of the component being created, registered as
     * "<stage>/<name>" in the pipeline's parameter store; only valid inside
     * the component's create. The host keeps it; *out is a new reference. */
    lic_status (*parameter)(const char *name, uint32_t rank, const int64_t *shape, lic_initializer initializer,
                            float a, float b, uint64_t seed, const float *values, lic_parameter_group group,
                            lic_tensor **out, lic_error *error);
} lic_tensor_ops;

#ifdef __cplusplus
}
#endif
#endif /* LIC_TENSOR_H */
