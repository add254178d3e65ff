/*
 * A LIC plugin in plain C: a dead-zone scalar quantizer.
 *
 *     q = sign(x - mean) * floor(|x - mean| / step + rounding)
 *     x_hat = q * step + mean
 *
 * `rounding` = 0.5 is ordinary rounding; smaller values widen the zero bin
 * (the "dead zone"), which saves bits on small coefficients.
 *
 * Build:  cc -shared -fPIC -O2 -I SDK/include examples/c-plugin/deadzone_quantizer.c \
 *            -o libexample-deadzone.so
 * Use:    LIC_PLUGIN_PATH=$PWD/libexample-deadzone.so lic plugins
 *         and [quantizer] plugin = "org.example.quantizer.deadzone" in a descriptor.
 *
 * It needs nothing but <lic/lic_plugin.h>: no Swift, no link against the host.
 */
#include <lic/lic_plugin.h>
#include <math.h>
#include <stdlib.h>

typedef struct deadzone {
    float step;
    float rounding;
} deadzone;

static lic_status deadzone_create(const lic_component_descriptor *component, const lic_host_services *host,
                                  const lic_param_set *params, void **instance, lic_error *error) {
    (void)component;
    (void)host;
    deadzone *q = calloc(1, sizeof *q);
    if (q == NULL) return lic_error_set(error, LIC_ERROR_OUT_OF_MEMORY, "deadzone: out of memory");
    /* The host validated every value against the schema and filled defaults. */
    for (uint32_t i = 0; i < params->count; i++) {
        const lic_param_value *v = lic_param_value_at(params, i);
        if (strcmp(v->name, "step") == 0) q->step = (float)v->float_value;
        if (strcmp(v->name, "rounding") == 0) q->rounding = (float)v->float_value;
    }
    *instance = q;
    return LIC_OK;
}

static void deadzone_destroy(void *instance) { free(instance); }

static lic_status deadzone_quantize(void *instance, const float *values, const float *means, int32_t *symbols,
                                    size_t count, lic_error *error) {
    const deadzone *q = instance;
    for (size_t i = 0; i < count; i++) {
        float x = values[i] - (means ? means[i] : 0.0f);
        if (!isfinite(x)) return lic_error_set(error, LIC_ERROR_INVALID_ARGUMENT, "deadzone: non-finite input");
        float magnitude = floorf(fabsf(x) / q->step + q->rounding);
        if (magnitude > 1e9f) magnitude = 1e9f;
        symbols[i] = (int32_t)(x < 0 ? -magnitude : magnitude);
    }
    return LIC_OK;
}

static lic_status deadzone_dequantize(void *instance, const int32_t *symbols, const float *means, float *values,
                                      size_t count, lic_error *error) {
    (void)error;
    const deadzone *q = instance;
    for (size_t i = 0; i < count; i++) values[i] = (float)symbols[i] * q->step + (means ? means[i] : 0.0f);
    return LIC_OK;
}

static const lic_quantizer_v1 deadzone_interface = {
    .struct_size = sizeof(lic_quantizer_v1),
    .create = deadzone_create,
    .destroy = deadzone_destroy,
    .quantize = deadzone_quantize,
    .dequantize = deadzone_dequantize,
};

static const lic_param_spec deadzone_params[] = {
    {.struct_size = sizeof(lic_param_spec), .name = "step", .type = LIC_PARAM_FLOAT,
     .description = "Quantization step size in latent units", .required = 1,
     .has_min = 1, .min = 1e-6, .has_max = 1, .max = 1e6},
    {.struct_size = sizeof(lic_param_spec), .name = "rounding", .type = LIC_PARAM_FLOAT,
     .description = "Rounding offset: 0.5 rounds to nearest, less widens the dead zone",
     .default_float = 0.35, .has_min = 1, .min = 0.0, .has_max = 1, .max = 0.5},
};

static const lic_component_descriptor deadzone_component = {
    .struct_size = sizeof(lic_component_descriptor),
    .version = 1,
    .id = "org.example.quantizer.deadzone",
    .kind = LIC_KIND_QUANTIZER,
    .interface_id = LIC_INTERFACE_QUANTIZER_1,
    .description = "Dead-zone scalar quantizer (a plugin written in C)",
    .param_count = sizeof deadzone_params / sizeof deadzone_params[0],
    .params = deadzone_params,
    .interface = &deadzone_interface,
};

static const lic_component_descriptor *const components[] = {&deadzone_component};

static const lic_plugin_library library = {
    .struct_size = sizeof(lic_plugin_library),
    .abi_version = LIC_ABI_VERSION,
    .library_name = "Example C plugins",
    .runtime = "c",
    .component_count = 1,
    .components = components,
};

#ifndef LIC_EXPORT
#define LIC_EXPORT __attribute__((visibility("default")))
#endif

LIC_EXPORT const lic_plugin_library *lic_plugin_entry(uint32_t host_abi_version, const lic_host_services *host) {
    (void)host;
    if (LIC_ABI_MAJOR_OF(host_abi_version) != LIC_ABI_VERSION_MAJOR) return NULL;
    return &library;
}
