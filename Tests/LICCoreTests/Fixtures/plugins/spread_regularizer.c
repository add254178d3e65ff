/* A regularizer with a parameter of its own and alternating updates (ABI
 * 1.2): "org.test.regularizer.spread" owns `centre` (group REGULARIZER);
 * fit_loss = mean((t - centre)^2) fits the centre to the (detached) tensor,
 * loss = the same expression, which the codec then minimizes with the centre
 * frozen. Proves own parameters, their optimizer, alternation and freezing. */
#include <lic/lic_plugin.h>
#include <stdlib.h>

typedef struct spread {
    const lic_tensor_ops *ops;
    lic_tensor *centre;
} spread;

static lic_status create(const lic_component_descriptor *c, const lic_host_services *host, const lic_param_set *params,
                         void **instance, lic_error *error) {
    (void)c; (void)params;
    spread *s = calloc(1, sizeof *s);
    if (!s) return lic_error_set(error, LIC_ERROR_OUT_OF_MEMORY, "out of memory");
    s->ops = host->tensor_ops;
    int64_t one = 1;
    lic_status status = s->ops->parameter("centre", 1, &one, LIC_INIT_ZEROS, 0, 0, 0, NULL, LIC_GROUP_REGULARIZER, &s->centre, error);
    if (status != LIC_OK) { free(s); return status; }
    *instance = s;
    return LIC_OK;
}

static void destroy(void *instance) {
    spread *s = instance;
    s->ops->release(s->centre);
    free(s);
}

static lic_status spread_of(void *instance, const lic_named_tensors *tensors, lic_tensor **out, lic_error *error) {
    const spread *s = instance;
    const lic_tensor *y = lic_named_tensors_find(tensors, "y");
    if (!y) return lic_error_set(error, LIC_ERROR_INVALID_ARGUMENT, "no tensor 'y'");
    lic_tensor *d = NULL, *d2 = NULL;
    lic_status status = s->ops->binary(LIC_BINARY_SUBTRACT, y, s->centre, &d, error);
    if (status == LIC_OK) status = s->ops->unary(LIC_UNARY_SQUARE, 0, d, &d2, error);
    if (status == LIC_OK) status = s->ops->mean(d2, NULL, 0, 0, out, error);
    s->ops->release(d);
    s->ops->release(d2);
    return status;
}

static lic_status loss(void *instance, const lic_call_context *context, const lic_named_tensors *tensors, lic_tensor **term,
                       lic_error *error) {
    if (context->mode != LIC_MODE_TRAIN) return lic_error_set(error, LIC_ERROR_INVALID_ARGUMENT, "not training");
    return spread_of(instance, tensors, term, error);
}

static lic_status fit_loss(void *instance, const lic_call_context *context, const lic_named_tensors *tensors,
                           lic_tensor **out, lic_error *error) {
    (void)context;
    return spread_of(instance, tensors, out, error);
}

static const lic_regularizer_v1 table = {sizeof(lic_regularizer_v1), create, destroy, loss, fit_loss};
static const lic_component_descriptor component = {
    .struct_size = sizeof(lic_component_descriptor), .version = 1, .id = "org.test.regularizer.spread",
    .kind = LIC_KIND_REGULARIZER, .interface_id = LIC_INTERFACE_REGULARIZER_1, .description = "spread of y around a fitted centre",
    .param_count = 0, .params = NULL, .interface = &table,
};
static const lic_component_descriptor *const components[] = {&component};
static const lic_plugin_library library = {
    .struct_size = sizeof(lic_plugin_library), .abi_version = LIC_ABI_VERSION, .library_name = "spread regularizer test",
    .runtime = "c", .component_count = 1, .components = components,
};

__attribute__((visibility("default"))) const lic_plugin_library *lic_plugin_entry(uint32_t abi, const lic_host_services *host) {
    (void)host;
    return LIC_ABI_MAJOR_OF(abi) == LIC_ABI_VERSION_MAJOR && LIC_ABI_MINOR_OF(abi) >= 2 ? &library : NULL;
}
