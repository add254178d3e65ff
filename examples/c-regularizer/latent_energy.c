/*
 * A loss regularizer written in plain C against the LIC plugin ABI 1.2:
 * "org.example.regularizer.energy" adds  mean(t^2)  of a named tensor of the
 * forward pass (by default "y", the analysis output) to the training loss,
 * weighted by the descriptor's [[regularizer]] `weight`. It computes with
 * the host's tensor ops, so the host records the tape and the gradient of
 * the term reaches the transform plugin's weights.
 *
 * Build:  cc -std=c11 -shared -fPIC -I SDK/include examples/c-regularizer/latent_energy.c \
 *            -o libexample-energy.so
 * Use:    plugins = ["libexample-energy.so"] and
 *         [[regularizer]] plugin = "org.example.regularizer.energy" weight = 0.01
 *         in a training descriptor (see energy.toml); `lic train` logs the
 *         term as "energy" in train.jsonl.
 */
#include <lic/lic_plugin.h>
#include <stdlib.h>

typedef struct energy {
    const lic_tensor_ops *ops;
    char tensor[64];           /* the name of the tensor it reads */
} energy;

/* Ownership: `params` is borrowed for the call; the instance is ours until destroy. */
static lic_status create(const lic_component_descriptor *component, const lic_host_services *host,
                         const lic_param_set *params, void **instance, lic_error *error) {
    (void)component;
    if (LIC_ABI_MINOR_OF(host->abi_version) < 2 || host->tensor_ops == NULL)
        return lic_error_set(error, LIC_ERROR_UNSUPPORTED, "needs ABI 1.2 (regularizers and the tensor op table)");
    const char *name = lic_param_value_at(params, 0)->string_value;
    if (strlen(name) >= sizeof(((energy *)0)->tensor))
        return lic_error_set(error, LIC_ERROR_INVALID_ARGUMENT, "tensor name too long");
    energy *e = calloc(1, sizeof *e);
    if (e == NULL) return lic_error_set(error, LIC_ERROR_OUT_OF_MEMORY, "out of memory");
    e->ops = host->tensor_ops;
    strcpy(e->tensor, name);
    *instance = e;
    return LIC_OK;
}

static void destroy(void *instance) { free(instance); }

/* Called by the training thread; `tensors` is borrowed; *term is a new reference for the host. */
static lic_status loss(void *instance, const lic_call_context *context, const lic_named_tensors *tensors,
                       lic_tensor **term, lic_error *error) {
    (void)context;
    const energy *e = instance;
    const lic_tensor *t = lic_named_tensors_find(tensors, e->tensor);
    if (t == NULL) return lic_error_set(error, LIC_ERROR_INVALID_ARGUMENT, "the forward pass has no tensor of that name");
    lic_tensor *squared = NULL;
    lic_status status = e->ops->unary(LIC_UNARY_SQUARE, 0, t, &squared, error);
    if (status == LIC_OK) status = e->ops->mean(squared, NULL, 0, 0, term, error);
    e->ops->release(squared);
    return status;
}

static const lic_regularizer_v1 table = {
    .struct_size = sizeof(lic_regularizer_v1), .create = create, .destroy = destroy, .loss = loss, .fit_loss = NULL,
};

static const lic_param_spec params[] = {
    {.struct_size = sizeof(lic_param_spec), .name = "tensor", .type = LIC_PARAM_STRING,
     .description = "The named tensor whose mean square is the term (y, z, y_hat, x_hat, ...)", .default_string = "y"},
};

static const lic_component_descriptor component = {
    .struct_size = sizeof(lic_component_descriptor), .version = 1, .id = "org.example.regularizer.energy",
    .kind = LIC_KIND_REGULARIZER, .interface_id = LIC_INTERFACE_REGULARIZER_1,
    .description = "Mean square of a named tensor (a latent energy penalty), written in C",
    .param_count = 1, .params = params, .interface = &table,
};
static const lic_component_descriptor *const components[] = {&component};
static const lic_plugin_library library = {
    .struct_size = sizeof(lic_plugin_library), .abi_version = LIC_ABI_VERSION, .library_name = "Example C regularizer",
    .runtime = "c", .component_count = 1, .components = components,
};

/* The one exported symbol; called once by the host under its loader lock. */
__attribute__((visibility("default"))) const lic_plugin_library *lic_plugin_entry(uint32_t abi, const lic_host_services *host) {
    (void)host;
    return LIC_ABI_MAJOR_OF(abi) == LIC_ABI_VERSION_MAJOR && LIC_ABI_MINOR_OF(abi) >= 2 ? &library : NULL;
}
