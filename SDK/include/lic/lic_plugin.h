/*
 * lic_plugin.h - the LIC Toolkit plugin ABI, version 1.2.
 *
 * 1.1 appended the tensor op table (lic_tensor_ops, host->tensor_ops).
 * 1.2 appended the call context (lic_call_context) passed to every computing
 *     call of the new interfaces lic.transform/3, lic.entropy-model/3,
 *     lic.quantizer/2 and lic.regularizer/1; entropy models publish their
 *     distribution parameters; the host codes Gaussian symbols over them
 *     (host->gaussian_*) with tables built once per model.
 *
 * A plugin is a shared library that exports one function, `lic_plugin_entry`
 * (see LIC_PLUGIN_ENTRY_SYMBOL). The host calls it with the ABI version it
 * speaks and its services table; the plugin returns a table describing its
 * components, or NULL if it cannot serve that ABI version.
 *
 * Rules that hold for everything below:
 * - Every struct that may grow starts with `struct_size` (and most with a
 *   version). Readers check `struct_size` before touching a field added
 *   later; tables are append-only; fields are never reordered or removed.
 *   An interface that must change incompatibly gets a new id ("/2").
 * - Errors: a function that can fail returns lic_status. On failure it fills
 *   the lic_error it was given exactly once (use lic_error_set) and returns
 *   the same non-zero status; on success it leaves the error untouched.
 *   No C++ exception, Swift error or trap may cross this boundary.
 * - Ownership is written beside every function: "borrowed" pointers are valid
 *   only for the duration of the call; "owned" ones must be released by the
 *   party named.
 * - Libraries are loaded local and resident and are never unloaded, so
 *   static data (descriptors, strings) may be handed out for the process
 *   lifetime.
 * - Plugins never link the host: everything they need from it comes through
 *   lic_host_services.
 */
#ifndef LIC_PLUGIN_H
#define LIC_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI version: major changes break compatibility; minor ones only append. */
#define LIC_ABI_VERSION_MAJOR 1u
#define LIC_ABI_VERSION_MINOR 3u
/* (major << 16) | minor, written as a literal so Swift imports it. */
#define LIC_ABI_VERSION 0x00010003u
#define LIC_ABI_MAJOR_OF(v) ((uint32_t)(v) >> 16)
#define LIC_ABI_MINOR_OF(v) ((uint32_t)(v) & 0xFFFFu)

/* The one symbol every plugin library exports. */
#define LIC_PLUGIN_ENTRY_SYMBOL "lic_plugin_entry"

/* Interface ids. A component's `interface_id` names the table its
 * `interface` pointer points to. */
#define LIC_INTERFACE_TRANSFORM_1 "lic.transform/1"
#define LIC_INTERFACE_QUANTIZER_1 "lic.quantizer/1"
#define LIC_INTERFACE_ENTROPY_MODEL_1 "lic.entropy-model/1"
/* ABI 1.1's learned interfaces, superseded by /3 (which add the call
 * context); a 1.2 host refuses them with a message to rebuild. Kept so that
 * the names stay reserved. */
#define LIC_INTERFACE_TRANSFORM_2 "lic.transform/2"
#define LIC_INTERFACE_ENTROPY_MODEL_2 "lic.entropy-model/2"
#define LIC_INTERFACE_TRANSFORM_3 "lic.transform/3"         /* ABI 1.2: call context, several inputs */
#define LIC_INTERFACE_ENTROPY_MODEL_3 "lic.entropy-model/3" /* ABI 1.2: call context, distributions out */
#define LIC_INTERFACE_QUANTIZER_2 "lic.quantizer/2"         /* ABI 1.2: RD inputs, state, training surrogate */
#define LIC_INTERFACE_REGULARIZER_1 "lic.regularizer/1"     /* ABI 1.2: a term of the training loss */

/* ------------------------------------------------------------------ */
/* Status codes and the error sink                                     */
/* ------------------------------------------------------------------ */

typedef enum lic_status {
    LIC_OK = 0,
    LIC_ERROR_INVALID_ARGUMENT = 1, /* a caller broke a documented precondition */
    LIC_ERROR_OUT_OF_MEMORY = 2,
    LIC_ERROR_CORRUPT_DATA = 3,     /* a stream cannot be decoded */
    LIC_ERROR_UNSUPPORTED = 4,      /* valid request this component cannot serve */
    LIC_ERROR_INTERNAL = 5          /* anything else; the message says what */
} lic_status;

#define LIC_ERROR_MESSAGE_CAPACITY 512

/* Filled by the callee on failure, exactly once. The caller zero-initialises
 * it and sets struct_size; `fill_count` lets the host detect a callee that
 * failed silently (0) or reported twice (>1). Not thread-safe: one per call. */
typedef struct lic_error {
    uint32_t struct_size;
    int32_t code;                               /* a lic_status */
    uint32_t fill_count;
    char message[LIC_ERROR_MESSAGE_CAPACITY];   /* NUL-terminated, one line */
} lic_error;

/* Reports a failure into `error` (which may be NULL) and returns `code`, so a
 * callee can write `return lic_error_set(err, LIC_ERROR_..., "why");`.
 * Only the first report is kept; later ones only bump fill_count. */
static inline lic_status lic_error_set(lic_error *error, lic_status code, const char *message) {
    if (error != NULL) {
        if (error->fill_count == 0) {
            size_t n = message ? strlen(message) : 0;
            if (n >= LIC_ERROR_MESSAGE_CAPACITY) n = LIC_ERROR_MESSAGE_CAPACITY - 1;
            if (n) memcpy(error->message, message, n);
            error->message[n] = '\0';
            error->code = (int32_t)code;
        }
        error->fill_count += 1;
    }
    return code;
}

/* ------------------------------------------------------------------ */
/* Tensors (ABI 1: raw CPU views; opaque handles arrive with the op table) */
/* ------------------------------------------------------------------ */

#define LIC_MAX_RANK 8

/* A logical NCHW float32 tensor in CPU memory. Strides are in elements.
 * Views are borrowed: the memory belongs to whoever made the view, and a
 * view is valid only during the call it is passed to. */
typedef struct lic_tensor_view {
    uint32_t struct_size;
    uint32_t rank;
    int64_t shape[LIC_MAX_RANK];
    int64_t strides[LIC_MAX_RANK];
    float *data;
} lic_tensor_view;

#include "lic_tensor.h"

/* ------------------------------------------------------------------ */
/* Parameters: typed schema (declared by components) and values (given by the host) */
/* ------------------------------------------------------------------ */

typedef enum lic_param_type {
    LIC_PARAM_BOOL = 0,
    LIC_PARAM_INT = 1,
    LIC_PARAM_FLOAT = 2,
    LIC_PARAM_STRING = 3,
    LIC_PARAM_ENUM = 4   /* a string restricted to enum_values */
} lic_param_type;

/* One declared parameter. Static data owned by the plugin. */
typedef struct lic_param_spec {
    uint32_t struct_size;
    const char *name;             /* a TOML bare key: [A-Za-z0-9_-]+ */
    uint32_t type;                /* a lic_param_type (fixed-size field) */
    const char *description;      /* one line for `lic plugins` */
    uint32_t required;            /* non-zero: the descriptor must set it */
    /* Default, read according to `type` (ignored when required). */
    uint32_t default_bool;
    int64_t default_int;
    double default_float;
    const char *default_string;   /* STRING and ENUM */
    /* Inclusive range for INT and FLOAT, checked when has_min / has_max. */
    uint32_t has_min, has_max;
    double min, max;
    /* ENUM: the allowed values. */
    const char *const *enum_values;
    uint32_t enum_count;
} lic_param_spec;

/* One parameter value after validation; every declared parameter is present
 * (defaults filled in), in declaration order. Owned by the host; borrowed by
 * the plugin for the duration of `create` (copy what you keep). */
typedef struct lic_param_value {
    uint32_t struct_size;
    const char *name;
    uint32_t type;                /* a lic_param_type */
    uint32_t bool_value;
    int64_t int_value;
    double float_value;
    const char *string_value;     /* STRING and ENUM; NULL otherwise */
} lic_param_value;

/* `values` is an array whose elements are values[0].struct_size bytes apart
 * (a newer host may append fields): read it with lic_param_value_at. */
typedef struct lic_param_set {
    uint32_t struct_size;
    uint32_t count;
    const lic_param_value *values;
} lic_param_set;

/* Element `index` of a parameter set, whatever size the host's values have. */
static inline const lic_param_value *lic_param_value_at(const lic_param_set *set, uint32_t index) {
    return (const lic_param_value *)((const char *)set->values + (size_t)index * set->values[0].struct_size);
}

/* ------------------------------------------------------------------ */
/* Host services (append-only). Every function is thread-safe unless its   */
/* comment says otherwise.                                                  */
/* ------------------------------------------------------------------ */

typedef enum lic_log_level {
    LIC_LOG_DEBUG = 0, LIC_LOG_INFO = 1, LIC_LOG_WARNING = 2, LIC_LOG_ERROR = 3
} lic_log_level;

/* A probability table for the entropy coder: immutable once built and
 * shareable between threads. Its creator owns it (cdf_table_release); the
 * coder copies what it needs, so a table may be released right after use. */
typedef struct lic_cdf_table lic_cdf_table;
/* A stream being written (encode) or read (decode). Owned by the coding
 * context that handed it out and valid only until the entropy model's
 * encode or decode call returns; used by one thread at a time. */
typedef struct lic_symbol_encoder lic_symbol_encoder;
typedef struct lic_symbol_decoder lic_symbol_decoder;
struct lic_tensor_ops;
/* ABI 1.2: Gaussian coding tables for a scale ladder (see gaussian_coder_create). */
typedef struct lic_gaussian_coder lic_gaussian_coder;

typedef struct lic_host_services {
    uint32_t struct_size;
    uint32_t abi_version;          /* LIC_ABI_VERSION of the host */

    /* Logging. `component` and `message` are borrowed. */
    void (*log)(lic_log_level level, const char *component, const char *message);

    /* Memory. alloc returns NULL on failure; alignment is a power of two
     * (0 means the platform default). Free only with free_memory. */
    void *(*alloc)(size_t size, size_t alignment);
    void (*free_memory)(void *pointer);

    /* --- Entropy coder: rANS, 16-bit probability precision. --- */

    /* Builds a table over symbols first_symbol ... first_symbol+count-1 from
     * a PMF (need not be normalised). Every symbol gets a non-zero
     * frequency; an escape symbol is added so values outside the range can
     * still be coded (at a cost in bits). On success *out is owned by the
     * caller: release it with cdf_table_release. */
    lic_status (*cdf_table_create)(const double *pmf, uint32_t count, int32_t first_symbol,
                                   lic_cdf_table **out, lic_error *error);
    void (*cdf_table_release)(lic_cdf_table *table);

    /* Encoding. Symbols are buffered and written in one pass when the coding
     * context ends, so groups may be pushed in whatever order the model's
     * context needs; decoding must read them in the same order. Tables are
     * retained by the encoder as needed; arrays are borrowed. */
    lic_status (*encode_symbols)(lic_symbol_encoder *encoder, const lic_cdf_table *table,
                                 const int32_t *symbols, size_t count, lic_error *error);
    /* symbols[i] is coded with tables[table_indexes[i]]. */
    lic_status (*encode_symbols_indexed)(lic_symbol_encoder *encoder,
                                         const lic_cdf_table *const *tables, uint32_t table_count,
                                         const int32_t *table_indexes, const int32_t *symbols,
                                         size_t count, lic_error *error);
    /* `bit_count` raw bits (0...32) of `value`. */
    lic_status (*encode_bits)(lic_symbol_encoder *encoder, uint32_t value, uint32_t bit_count,
                              lic_error *error);

    /* Decoding, the mirror of the above; outputs are caller-owned arrays. */
    lic_status (*decode_symbols)(lic_symbol_decoder *decoder, const lic_cdf_table *table,
                                 int32_t *symbols, size_t count, lic_error *error);
    lic_status (*decode_symbols_indexed)(lic_symbol_decoder *decoder,
                                         const lic_cdf_table *const *tables, uint32_t table_count,
                                         const int32_t *table_indexes, int32_t *symbols,
                                         size_t count, lic_error *error);
    lic_status (*decode_bits)(lic_symbol_decoder *decoder, uint32_t bit_count, uint32_t *value,
                              lic_error *error);

    /* The tensor op table (ABI 1.1; NULL from a 1.0 host: check abi_version
     * or struct_size before use). */
    const struct lic_tensor_ops *tensor_ops;

    /* --- ABI 1.2: Gaussian coding over per-element distribution parameters.
     * Check struct_size before use. A Gaussian coder holds one table per
     * scale of a ladder (ascending), built once when created and shared
     * read-only by any number of threads; its creator owns it
     * (gaussian_coder_release). Element i is coded with the table of the
     * first ladder scale >= scales[i] (the last one above it): the scales a
     * plugin passes must be computed identically by encoder and decoder.
     * Symbols are integers already centred on the mean and divided by the
     * quantization step (e.g. round((y - mu) / step)); values outside a
     * table's range are escape-coded. `mask` (nullable) selects the elements
     * coded: only i with mask[i] != 0 (e.g. one checkerboard pass), so a
     * context model codes a whole group with one call. Arrays hold `count`
     * elements and are borrowed for the call. */
    lic_status (*gaussian_coder_create)(const double *scales, uint32_t scale_count, double tail_mass,
                                        struct lic_gaussian_coder **out, lic_error *error);
    void (*gaussian_coder_release)(struct lic_gaussian_coder *coder);
    lic_status (*gaussian_encode)(lic_symbol_encoder *encoder, const struct lic_gaussian_coder *coder,
                                  const float *scales, const int32_t *symbols, const uint8_t *mask, size_t count,
                                  lic_error *error);
    /* Writes symbols[i] for the masked elements; the others are left as they are. */
    lic_status (*gaussian_decode)(lic_symbol_decoder *decoder, const struct lic_gaussian_coder *coder,
                                  const float *scales, int32_t *symbols, const uint8_t *mask, size_t count,
                                  lic_error *error);
    /* -log2 P(symbol) under the table coding scale `scale` (as the coder
     * would pay, escape included): the rate a quantizer's RD search needs. */
    double (*gaussian_bits)(const struct lic_gaussian_coder *coder, float scale, int32_t symbol);
} lic_host_services;

/* ------------------------------------------------------------------ */
/* Component interfaces                                                */
/* ------------------------------------------------------------------ */

typedef struct lic_component_descriptor lic_component_descriptor;

/* Common to every interface: instance life cycle.
 * create: `component`, `host` and `params` are borrowed (host and component
 *   outlive the instance). On success *instance is owned by the host, which
 *   calls destroy exactly once. May be called from any thread.
 * An instance is used by one thread at a time unless the component's
 * description says otherwise. */
typedef lic_status (*lic_create_fn)(const lic_component_descriptor *component,
                                    const lic_host_services *host, const lic_param_set *params,
                                    void **instance, lic_error *error);
/* Releases an instance and everything it owns. Called once, by the thread
 * that used it last, after every other call on it has returned. */
typedef void (*lic_destroy_fn)(void *instance);

/* "lic.transform/1": maps a tensor to another (analysis: x -> y; with an
 * `inverse` parameter, synthesis: y_hat -> x_hat). */
typedef struct lic_transform_v1 {
    uint32_t struct_size;
    lic_create_fn create;
    lic_destroy_fn destroy;
    /* Spatial sizes of the input must be multiples of this (>= 1; the host
     * pads). Called by the thread using the instance. */
    uint32_t (*alignment)(void *instance);
    /* Writes the output shape for an input of `input_shape` into
     * `output_shape`; both arrays hold `rank` entries, are host-owned and
     * borrowed for the call. Must not change the rank. */
    lic_status (*output_shape)(void *instance, uint32_t rank, const int64_t *input_shape,
                               int64_t *output_shape, lic_error *error);
    /* Fills `output` (host-allocated, shaped by output_shape, zeroed) from
     * `input`; both views are borrowed for the call; `input` is read-only. */
    lic_status (*forward)(void *instance, const lic_tensor_view *input,
                          const lic_tensor_view *output, lic_error *error);
} lic_transform_v1;

/* "lic.quantizer/1": real values <-> integer symbols. `means` (nullable) is
 * an offset per value: q = Q(x - mean), x_hat = D(q) + mean. All arrays hold
 * `count` elements, are caller-owned and borrowed for the call. An entropy
 * model calls these from the thread running it, one call at a time. */
typedef struct lic_quantizer_v1 {
    uint32_t struct_size;
    lic_create_fn create;
    lic_destroy_fn destroy;
    lic_status (*quantize)(void *instance, const float *values, const float *means,
                           int32_t *symbols, size_t count, lic_error *error);
    lic_status (*dequantize)(void *instance, const int32_t *symbols, const float *means,
                             float *values, size_t count, lic_error *error);
} lic_quantizer_v1;

/* "lic.transform/2" (ABI 1.1; superseded by /3, no longer run by a 1.2
 * host): a differentiable transform computed with the
 * host's tensor ops, so the host records the tape and gradients reach the
 * parameters the component registered (host->tensor_ops->parameter, only
 * during create). `inverse`-style variants are parameters, as in /1. */
typedef struct lic_transform_v2 {
    uint32_t struct_size;
    lic_create_fn create;
    lic_destroy_fn destroy;
    /* Spatial sizes of the input must be multiples of this (>= 1). */
    uint32_t (*alignment)(void *instance);
    /* As in lic_transform_v1: the output shape for an input shape (so a
     * decoder knows latent shapes without running the analysis). */
    lic_status (*output_shape)(void *instance, uint32_t rank, const int64_t *input_shape,
                               int64_t *output_shape, lic_error *error);
    /* *output = T(input): a new reference for the caller. `input` is
     * borrowed. Called by the thread running the computation. */
    lic_status (*apply)(void *instance, const lic_tensor *input, lic_tensor **output, lic_error *error);
} lic_transform_v2;

/* The pipeline's quantizer as handed to an entropy model (borrowed). */
typedef struct lic_quantizer_binding {
    uint32_t struct_size;
    const lic_quantizer_v1 *quantizer;
    void *instance;
} lic_quantizer_binding;

/* The host's side of one encode or decode call of an entropy model. */
typedef struct lic_coding_context {
    uint32_t struct_size;
    void *host_data;   /* for the host; do not touch */
    /* Encode: opens a new stream; streams are stored in the order opened.
     * Decode: opens the next stream in that same order (CORRUPT_DATA if the
     * file has no more). The returned object belongs to the context. */
    lic_status (*open_encoder)(struct lic_coding_context *context, lic_symbol_encoder **encoder,
                               lic_error *error);
    lic_status (*open_decoder)(struct lic_coding_context *context, lic_symbol_decoder **decoder,
                               lic_error *error);
} lic_coding_context;

/* "lic.entropy-model/1": owns the coding order and the probability model of
 * the latent; quantizes through the pipeline's quantizer. */
typedef struct lic_entropy_model_v1 {
    uint32_t struct_size;
    lic_create_fn create;
    lic_destroy_fn destroy;
    /* Quantizes `y`, codes the symbols into streams opened on `context`, and
     * writes the dequantized latent into `y_hat` (same shape, host-owned). */
    lic_status (*encode)(void *instance, const lic_tensor_view *y, const lic_tensor_view *y_hat,
                         const lic_quantizer_binding *quantizer, lic_coding_context *context,
                         lic_error *error);
    /* Reads the streams and writes the dequantized latent into `y_hat`, whose
     * shape the host derived from the image geometry. Must reproduce
     * encode's y_hat exactly, and must fail (not crash) on corrupt streams. */
    lic_status (*decode)(void *instance, const lic_tensor_view *y_hat,
                         const lic_quantizer_binding *quantizer, lic_coding_context *context,
                         lic_error *error);
} lic_entropy_model_v1;

/* "lic.entropy-model/2" (ABI 1.1; superseded by /3, no longer run by a 1.2
 * host): a learned entropy model on host tensors.
 * `condition` (nullable, borrowed) is what the model is conditioned on, e.g.
 * the hyper-synthesis output (scales and means); returned tensors are new
 * references for the caller; all calls come from the thread running the
 * computation. */
typedef struct lic_entropy_model_v2 {
    uint32_t struct_size;
    lic_create_fn create;
    lic_destroy_fn destroy;
    /* Training (`training` != 0: additive uniform noise from `seed`) or
     * evaluation (rounding): the quantized latent and its likelihoods, both
     * y's shape, on the tape. */
    lic_status (*forward)(void *instance, const lic_tensor *y, const lic_tensor *condition, uint32_t training,
                          uint64_t seed, lic_tensor **y_hat, lic_tensor **likelihoods, lic_error *error);
    /* A scalar auxiliary loss (e.g. fitting quantiles), or *loss = NULL if none. */
    lic_status (*auxiliary_loss)(void *instance, lic_tensor **loss, lic_error *error);
    /* Quantizes y through `quantizer`, codes it into streams of `context`,
     * and returns the dequantized latent the decoder will reproduce. */
    lic_status (*encode)(void *instance, const lic_tensor *y, const lic_tensor *condition,
                         const lic_quantizer_binding *quantizer, lic_coding_context *context, lic_tensor **y_hat,
                         lic_error *error);
    /* Reads the streams and returns the latent of `shape` (rank entries);
     * must reproduce encode's y_hat exactly and fail, not crash, on corrupt data. */
    lic_status (*decode)(void *instance, uint32_t rank, const int64_t *shape, const lic_tensor *condition,
                         const lic_quantizer_binding *quantizer, lic_coding_context *context, lic_tensor **y_hat,
                         lic_error *error);
} lic_entropy_model_v2;

#include "lic_stages.h"   /* ABI 1.2: the call context and the interfaces that take it */

/* ------------------------------------------------------------------ */
/* Components and the library entry                                    */
/* ------------------------------------------------------------------ */

typedef enum lic_component_kind {
    LIC_KIND_TRANSFORM = 0,
    LIC_KIND_ENTROPY_MODEL = 1,
    LIC_KIND_QUANTIZER = 2,
    LIC_KIND_REGULARIZER = 3
} lic_component_kind;

/* Static data owned by the plugin. */
struct lic_component_descriptor {
    uint32_t struct_size;
    uint32_t version;              /* the component's own version, for users */
    const char *id;                /* reverse-DNS, e.g. "lic.transform.dct" */
    uint32_t kind;                 /* a lic_component_kind (fixed-size field) */
    const char *interface_id;      /* e.g. LIC_INTERFACE_TRANSFORM_1 */
    const char *description;       /* one line */
    uint32_t param_count;
    /* Elements are params[0].struct_size bytes apart (all the same size). */
    const lic_param_spec *params;
    const void *interface;         /* the table named by interface_id */
    const void *component_data;    /* plugin-private, passed back via `component` */
};

/* What a library offers: returned by its entry function. Static data. */
typedef struct lic_plugin_library {
    uint32_t struct_size;
    uint32_t abi_version;          /* LIC_ABI_VERSION the plugin was built against */
    const char *library_name;      /* human name, e.g. "LIC classical codec" */
    /* Language runtime the library needs: "c" for none, "swift-6.3" for a
     * Swift plugin (the host refuses a Swift major.minor other than its own). */
    const char *runtime;
    uint32_t component_count;
    const lic_component_descriptor *const *components;
} lic_plugin_library;

/* The exported entry. Called by the host once per library, under the host's
 * loader lock, before any component is used. `host` outlives the library.
 * Returns static data, or NULL when the plugin cannot serve `host_abi_version`
 * (different major, or a minor older than the one it needs). */
typedef const lic_plugin_library *(*lic_plugin_entry_fn)(uint32_t host_abi_version,
                                                       const lic_host_services *host);

#ifdef __cplusplus
}
#endif
#endif /* LIC_PLUGIN_H */
