/*
 * lic_stages.h - the ABI 1.2 call context and the interfaces that take it:
 * lic.transform/3, lic.quantizer/2, lic.entropy-model/3, lic.regularizer/1.
 * Included by lic_plugin.h (after the ABI 1.0/1.1 interfaces it builds on).
 * The rules of lic_plugin.h hold: growable structs start with struct_size,
 * errors go to the lic_error sink exactly once, ownership and threading are
 * written beside each function.
 */
#ifndef LIC_STAGES_H
#define LIC_STAGES_H

#ifndef LIC_PLUGIN_H
#error "include <lic/lic_plugin.h>, which includes this header"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* ABI 1.2: the call context and the interfaces that take it            */
/* ------------------------------------------------------------------ */

typedef enum lic_call_mode {
    LIC_MODE_TRAIN = 0,   /* training forward: quantizers apply their surrogate */
    LIC_MODE_EVAL = 1,    /* evaluation forward: hard quantization, likelihoods */
    LIC_MODE_ENCODE = 2,  /* coding a file */
    LIC_MODE_DECODE = 3   /* decoding a file */
} lic_call_mode;

/* What one computing call is for. Every computing function of the 1.2
 * interfaces receives one (borrowed for the call, never NULL). Append-only:
 * read a field only if struct_size covers it (LIC_CONTEXT_HAS). */
typedef struct lic_call_context {
    uint32_t struct_size;
    uint32_t mode;            /* a lic_call_mode (fixed-size field) */
    uint64_t seed;            /* for noise; distinct per stage, step and call */
    int64_t step;             /* training step (0 outside training) */
    double lambda;            /* rate-distortion weight of the loss this call trains or codes for (0: none given) */
    double rate_level;        /* variable rate: a level in [0, levels - 1]; negative: the model's only rate */
    /* The part of the first input this call computes from, in its pixels:
     * the tile's origin and size (halo included), and the halo it was given
     * (see lic_transform_v3.halo). Untiled calls: x = y = halo = 0 and
     * width x height the (padded) image. */
    int64_t tile_x, tile_y, tile_width, tile_height;
    int64_t tile_halo;
    uint32_t stream_index;    /* decoding: the first coded stream of this call (streams are opened in order) */
    /* A lic_surrogate_use: what the training surrogate this call asks a
     * quantizer for stands in for. Hosts set 0 (any): they zero-initialize
     * the whole context. An entropy model sets it on its own copy of the
     * context when it calls its quantizer. (The field was `reserved` from
     * ABI 1.2 on, and hosts left it 0: the layout is unchanged and 0 keeps
     * the old behaviour, so no version bump.) */
    uint32_t surrogate_use;
} lic_call_context;

/* Training quantizes twice in principle: the likelihoods see one surrogate of
 * y (the rate term), the synthesis and the entropy model's contexts another
 * (the reconstruction). Most quantizers give both the same values (the same
 * noise from the same seed); a "mixed" one gives noise to the rate and
 * straight-through rounding to the reconstruction (Minnen & Singh 2020), so
 * the decoder trains on the integers it will see. An entropy model that asks
 * once passes ANY and gets the quantizer's single surrogate. */
typedef enum lic_surrogate_use {
    LIC_SURROGATE_ANY = 0,
    LIC_SURROGATE_RATE = 1,
    LIC_SURROGATE_RECONSTRUCTION = 2
} lic_surrogate_use;

#define LIC_CONTEXT_HAS(context, field) \
    ((context)->struct_size >= offsetof(lic_call_context, field) + sizeof((context)->field))

/* "lic.transform/3": lic.transform/2 with the call context and several
 * inputs (the stage's `inputs`, in order; a context or LRP transform reads
 * more than one). Differentiable through the host's ops, as /2. */
typedef struct lic_transform_v3 {
    uint32_t struct_size;
    lic_create_fn create;
    lic_destroy_fn destroy;
    uint32_t (*alignment)(void *instance);
    /* The output shape for the shape of the first input (see /1). */
    lic_status (*output_shape)(void *instance, uint32_t rank, const int64_t *input_shape,
                               int64_t *output_shape, lic_error *error);
    /* *output = T(inputs...): a new reference for the caller; inputs borrowed.
     * Called by the thread running the computation. */
    lic_status (*apply)(void *instance, const lic_call_context *context, const lic_tensor *const *inputs,
                        uint32_t input_count, lic_tensor **output, lic_error *error);
    /* ABI 1.3; absent from smaller tables (LIC_TRANSFORM_V3_HAS), or NULL:
     * the transform is never tiled. How far, in pixels of its first input,
     * an output looks beyond the input region that maps onto it (for a conv
     * stack, the receptive field's reach past the stride footprint), on each
     * side; negative: it must see the whole image. With it the host may
     * compute coding passes over tiles whose inputs overlap by at least this
     * halo (with zero padding, like the whole image's, only at the image's
     * borders) and stitch the outputs: bounded memory for large images, the
     * same result. Only single-input transforms are tiled; the context says
     * which tile (tile_x, tile_y, tile_width, tile_height, tile_halo). Called
     * from any thread. */
    int64_t (*halo)(void *instance);
} lic_transform_v3;

#define LIC_TRANSFORM_V3_HAS(table, field) \
    ((table)->struct_size >= offsetof(lic_transform_v3, field) + sizeof((table)->field))

/* One batch for lic.quantizer/2 quantize: what a rate-distortion decision
 * needs. Arrays hold `count` elements, are owned by the caller and borrowed
 * for the call. */
typedef struct lic_quantize_batch {
    uint32_t struct_size;
    uint32_t reserved;
    size_t count;
    const float *values;           /* the latent y */
    const float *means;            /* nullable: the distribution's mean per value (q = Q(y - mean)) */
    const float *scales;           /* nullable: the distribution's scale per value */
    /* Nullable: the bits the active entropy model pays for `symbol` at
     * element `index` when the quantizer's state uses level set `level_set`
     * (see lic_quantizer_v2.level_set). Called from the quantizing thread
     * during the call only. A quantizer without it may estimate rates from
     * `scales` itself (Gaussian cell probabilities). */
    double (*rate)(void *rate_data, size_t index, int32_t symbol, uint32_t level_set);
    void *rate_data;
    int32_t *symbols;              /* out: the indices the entropy model codes */
    float *reconstruction;         /* out: y_hat, what the decoder reproduces */
} lic_quantize_batch;

/* "lic.quantizer/2": owns quantization in training (the surrogate) and in
 * coding, with state held in a scope (a trellis path) across the batches of
 * one latent. The rate-distortion weight is context->lambda. An entropy
 * model reaches its quantizer through a lic_quantizer_handle, from the thread
 * running it, one call at a time per scope. */
typedef struct lic_quantizer_v2 {
    uint32_t struct_size;
    lic_create_fn create;
    lic_destroy_fn destroy;
    /* Training and evaluation: y_tilde from y (additive noise, straight-
     * through rounding, soft rounding ... as the quantizer chooses; by the
     * context's mode and surrogate_use) around `means` (nullable), on the
     * tape. A function of (context, y, means) alone: the same seed gives the
     * same noise for every use, and outside LIC_MODE_TRAIN the use changes
     * nothing. Returns a new reference; inputs borrowed. */
    lic_status (*surrogate)(void *instance, const lic_call_context *context, const lic_tensor *y,
                            const lic_tensor *means, lic_tensor **y_tilde, lic_error *error);
    /* A scope holds state across the quantize / dequantize calls of one
     * latent (the encoder's and the decoder's scopes walk the same states).
     * *scope is owned by the caller and ended with end_scope; it is NULL for
     * a stateless quantizer (whose levels never change), which lets an
     * entropy model code every index with one table per distribution. */
    lic_status (*begin_scope)(void *instance, const lic_call_context *context, void **scope, lic_error *error);
    void (*end_scope)(void *instance, void *scope);
    /* Encoder: symbols and reconstruction for a batch, advancing the scope. */
    lic_status (*quantize)(void *instance, void *scope, const lic_call_context *context,
                           const lic_quantize_batch *batch, lic_error *error);
    /* Decoder: values[i] = reconstruction of symbols[i] (+ means[i], nullable),
     * advancing the scope exactly as quantize did. */
    lic_status (*dequantize)(void *instance, void *scope, const lic_call_context *context, const int32_t *symbols,
                             const float *means, size_t count, float *values, lic_error *error);
    /* The reconstruction levels (relative to the mean) of indices first ...
     * first + count - 1 in the scope's current state, without advancing it:
     * an entropy model computes state-dependent index probabilities from them. */
    lic_status (*levels)(void *instance, void *scope, int32_t first, uint32_t count, float *values,
                         lic_error *error);
    /* Which set of levels the scope's current state uses (0 when stateless):
     * states with equal ids have equal levels() for every index, so entropy
     * models build one table set per id (a trellis has two: Q0 and Q1). */
    uint32_t (*level_set)(void *instance, void *scope);
} lic_quantizer_v2;

/* The pipeline's quantizer as the host hands it to a /3 entropy model
 * (borrowed for the call). The table is always a lic_quantizer_v2: the host
 * adapts a /1 quantizer (which then has no training surrogate). */
typedef struct lic_quantizer_handle {
    uint32_t struct_size;
    const lic_quantizer_v2 *quantizer;
    void *instance;
} lic_quantizer_handle;

/* What a /3 entropy model returns. The caller zero-initialises it and sets
 * struct_size; the model sets each tensor it produces to a new reference
 * (the caller releases them, also on failure). */
typedef struct lic_entropy_outputs {
    uint32_t struct_size;
    lic_tensor *y_hat;        /* always: the quantized latent, y's shape */
    lic_tensor *likelihoods;  /* TRAIN and EVAL: per element, y's shape */
    /* Nullable: the per-element distribution parameters the model used, y's
     * shape (published as "<latent>.means" / "<latent>.scales" for
     * regularizers and quantizers; context models give the refined ones). */
    lic_tensor *means;
    lic_tensor *scales;
} lic_entropy_outputs;

/* "lic.entropy-model/3": a learned entropy model with the call context.
 * `condition` (nullable, borrowed) is the stage's second input (e.g. the
 * hyper-synthesis output); all calls come from the thread running the
 * computation.
 *
 * Decoding on any machine: prepare_coding, encode and decode run in the
 * host's exact mode, and so do the transform stages that compute their
 * condition: the op table's convolutions, transposed convolutions and
 * matrix products then sum in a fixed order (no oneDNN), and every other op
 * is already built from correctly rounded IEEE operations, so whatever the
 * model computes through the op table - tables, scales, contexts - is the
 * same bits on every machine, instruction set and thread count. Arithmetic
 * of your own that decides which symbol is read must be as portable: no C
 * library transcendental functions (their last bits vary between libraries
 * and CPUs; LICPluginKit's PortableMath has exp, log and erfc that do not),
 * no fused multiply-add, no sums whose order depends on threads. */
typedef struct lic_entropy_model_v3 {
    uint32_t struct_size;
    lic_create_fn create;
    lic_destroy_fn destroy;
    /* TRAIN or EVAL: quantize through quantizer->surrogate, outputs on the tape. */
    lic_status (*forward)(void *instance, const lic_call_context *context, const lic_tensor *y,
                          const lic_tensor *condition, const lic_quantizer_handle *quantizer,
                          lic_entropy_outputs *outputs, lic_error *error);
    /* A scalar auxiliary loss (e.g. fitting quantiles), or *loss = NULL. */
    lic_status (*auxiliary_loss)(void *instance, const lic_call_context *context, lic_tensor **loss,
                                 lic_error *error);
    /* Builds what coding needs from the current weights (CDF tables, the
     * Gaussian coder): the host calls it before the first encode or decode
     * and again after the weights change, never concurrently with coding. */
    lic_status (*prepare_coding)(void *instance, lic_error *error);
    /* ENCODE: quantizes y through the quantizer, codes it into streams of
     * `coding`, and returns y_hat as the decoder will reproduce it. */
    lic_status (*encode)(void *instance, const lic_call_context *context, const lic_tensor *y,
                         const lic_tensor *condition, const lic_quantizer_handle *quantizer,
                         lic_coding_context *coding, lic_entropy_outputs *outputs, lic_error *error);
    /* DECODE: reads the streams; y_hat of `shape` (rank entries). Must
     * reproduce encode's y_hat exactly and fail, not crash, on corrupt data. */
    lic_status (*decode)(void *instance, const lic_call_context *context, uint32_t rank, const int64_t *shape,
                         const lic_tensor *condition, const lic_quantizer_handle *quantizer,
                         lic_coding_context *coding, lic_entropy_outputs *outputs, lic_error *error);
} lic_entropy_model_v3;

/* One named tensor of the codec graph, as a regularizer reads it. */
typedef struct lic_named_tensor {
    const char *name;              /* "x", "x_hat", "y", "y_hat", "y.means", "y.scales", "y.likelihoods", ... */
    const lic_tensor *tensor;
} lic_named_tensor;

/* The tensors of one training forward pass (borrowed for the call). */
typedef struct lic_named_tensors {
    uint32_t struct_size;
    uint32_t count;
    const lic_named_tensor *entries;
} lic_named_tensors;

/* The tensor called `name`, or NULL. */
static inline const lic_tensor *lic_named_tensors_find(const lic_named_tensors *set, const char *name) {
    for (uint32_t i = 0; set != NULL && i < set->count; i++)
        if (strcmp(set->entries[i].name, name) == 0) return set->entries[i].tensor;
    return NULL;
}

/* "lic.regularizer/1": a term of the training loss, weighted by the
 * descriptor's [[regularizer]] `weight`. Its parameters (registered in
 * create with group LIC_GROUP_REGULARIZER) get an optimizer of their own.
 * Training only: never called while coding. Calls come from the training
 * thread. */
typedef struct lic_regularizer_v1 {
    uint32_t struct_size;
    lic_create_fn create;
    lic_destroy_fn destroy;
    /* The term (a scalar tensor on the tape, a new reference) from the
     * forward pass's tensors; its gradients reach every parameter it
     * depends on, in any plugin. context->lambda and ->step are set. */
    lic_status (*loss)(void *instance, const lic_call_context *context, const lic_named_tensors *tensors,
                       lic_tensor **term, lic_error *error);
    /* Nullable. When set, training alternates: first the host minimizes
     * fit_loss over the regularizer's own parameters with the codec's
     * tensors detached, then the codec's loss (with `loss`) with the
     * regularizer's parameters frozen. */
    lic_status (*fit_loss)(void *instance, const lic_call_context *context, const lic_named_tensors *tensors,
                           lic_tensor **loss, lic_error *error);
} lic_regularizer_v1;

#ifdef __cplusplus
}
#endif
#endif /* LIC_STAGES_H */
