/* A C transform that computes with the host's tensor op table (ABI 1.1):
 * y = x * factor (analysis) or y = x / factor (inverse), done as host ops on
 * tensors made from the raw views. Proves a plain C plugin can program
 * against the op table. */
#include <lic/lic_plugin.h>
#include <stdlib.h>

typedef struct scale {
    const lic_tensor_ops *ops;
    float factor;
} scale;

static lic_status create(const lic_component_descriptor *c, const lic_host_services *host, const lic_param_set *params,
                         void **instance, lic_error *error) {
    (void)c;
    if (LIC_ABI_MINOR_OF(host->abi_version) < 1 || host->tensor_ops == NULL)
        return lic_error_set(error, LIC_ERROR_UNSUPPORTED, "needs the tensor op table (ABI 1.1)");
    scale *s = calloc(1, sizeof *s);
    if (!s) return lic_error_set(error, LIC_ERROR_OUT_OF_MEMORY, "out of memory");
    s->ops = host->tensor_ops;
    float factor = (float)lic_param_value_at(params, 0)->float_value;
    s->factor = lic_param_value_at(params, 1)->bool_value ? 1.0f / factor : factor;
    *instance = s;
    return LIC_OK;
}

static void destroy(void *instance) { free(instance); }
static uint32_t alignment(void *instance) { (void)instance; return 1; }

static lic_status output_shape(void *instance, uint32_t rank, const int64_t *in, int64_t *out, lic_error *error) {
    (void)instance; (void)error;
    for (uint32_t i = 0; i < rank; i++) out[i] = in[i];
    return LIC_OK;
}

static lic_status forward(void *instance, const lic_tensor_view *input, const lic_tensor_view *output, lic_error *error) {
    const scale *s = instance;
    lic_tensor *x = NULL, *k = NULL, *y = NULL;
    int64_t one = 1;
    lic_status status = s->ops->create(input->rank, input->shape, input->data, &x, error);
    if (status == LIC_OK) status = s->ops->create(1, &one, &s->factor, &k, error);
    if (status == LIC_OK) status = s->ops->binary(LIC_BINARY_MULTIPLY, x, k, &y, error);
    if (status == LIC_OK) {
        lic_tensor_view result;
        status = s->ops->view(y, &result, error);
        if (status == LIC_OK) {
            int64_t count = 1;
            for (uint32_t i = 0; i < input->rank; i++) count *= input->shape[i];
            memcpy(output->data, result.data, (size_t)count * sizeof(float));
        }
    }
    s->ops->release(x);
    s->ops->release(k);
    s->ops->release(y);
    return status;
}

static const lic_transform_v1 table = {sizeof(lic_transform_v1), create, destroy, alignment, output_shape, forward};

static const lic_param_spec params[] = {
    {.struct_size = sizeof(lic_param_spec), .name = "factor", .type = LIC_PARAM_FLOAT, .description = "scale factor",
     .default_float = 4.0, .has_min = 1, .min = 0.01, .has_max = 1, .max = 100},
    {.struct_size = sizeof(lic_param_spec), .name = "inverse", .type = LIC_PARAM_BOOL, .description = "divide instead"},
};

static const lic_component_descriptor component = {
    .struct_size = sizeof(lic_component_descriptor), .version = 1, .id = "org.test.transform.scale",
    .kind = LIC_KIND_TRANSFORM, .interface_id = LIC_INTERFACE_TRANSFORM_1, .description = "x * factor via host ops",
    .param_count = 2, .params = params, .interface = &table,
};
static const lic_component_descriptor *const components[] = {&component};
static const lic_plugin_library library = {
    .struct_size = sizeof(lic_plugin_library), .abi_version = LIC_ABI_VERSION, .library_name = "tensor op test",
    .runtime = "c", .component_count = 1, .components = components,
};

__attribute__((visibility("default"))) const lic_plugin_library *lic_plugin_entry(uint32_t abi, const lic_host_services *host) {
    (void)host;
    return LIC_ABI_MAJOR_OF(abi) == LIC_ABI_VERSION_MAJOR && LIC_ABI_MINOR_OF(abi) >= 1 ? &library : NULL;
}
