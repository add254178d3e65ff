/* A transform that fails the hard way, for `lic plugins --check` tests:
 * forward dereferences NULL for an odd width, calls abort() for an empty
 * input, and never returns for a 1x1 input. Any other input is copied.
 * The validator must report each as a crash or hang of that case while the
 * host carries on. With CRASH_IN_ENTRY the library aborts as it is loaded. */
#include <lic/lic_plugin.h>
#include <stdlib.h>
#include <unistd.h>

static lic_status create(const lic_component_descriptor *c, const lic_host_services *h, const lic_param_set *p,
                         void **instance, lic_error *e) {
    (void)c; (void)h; (void)p; (void)e;
    static int token;
    *instance = &token;
    return LIC_OK;
}
static void destroy(void *instance) { (void)instance; }
static uint32_t alignment(void *instance) { (void)instance; return 1; }

static lic_status output_shape(void *instance, uint32_t rank, const int64_t *in, int64_t *out, lic_error *error) {
    (void)instance;
    if (rank != 4) return lic_error_set(error, LIC_ERROR_INVALID_ARGUMENT, "faulty: expects NCHW");
    for (uint32_t i = 0; i < rank; i++) out[i] = in[i];
    return LIC_OK;
}

static lic_status forward(void *instance, const lic_tensor_view *input, const lic_tensor_view *output, lic_error *error) {
    (void)instance; (void)error;
    int64_t count = 1;
    for (uint32_t i = 0; i < input->rank; i++) count *= input->shape[i];
    if (count == 0) abort();
    if (input->shape[2] == 1 && input->shape[3] == 1)
        for (;;) pause();                       /* hangs: only SIGKILL ends it */
    if (input->shape[3] % 2 == 1) {
        volatile float *nowhere = NULL;
        *nowhere = 1.0f;                        /* SIGSEGV */
    }
    for (int64_t i = 0; i < count; i++) output->data[i] = input->data[i];
    return LIC_OK;
}

static const lic_transform_v1 table = {sizeof(lic_transform_v1), create, destroy, alignment, output_shape, forward};

static const lic_component_descriptor component = {
    .struct_size = sizeof(lic_component_descriptor), .version = 1, .id = "org.test.transform.faulty",
    .kind = LIC_KIND_TRANSFORM, .interface_id = LIC_INTERFACE_TRANSFORM_1, .description = "crashes, aborts or hangs on some shapes",
    .param_count = 0, .params = NULL, .interface = &table,
};
static const lic_component_descriptor *const components[] = {&component};
static const lic_plugin_library library = {
    .struct_size = sizeof(lic_plugin_library), .abi_version = LIC_ABI_VERSION, .library_name = "faulty test plugin",
    .runtime = "c", .component_count = 1, .components = components,
};

__attribute__((visibility("default"))) const lic_plugin_library *lic_plugin_entry(uint32_t abi, const lic_host_services *host) {
    (void)host; (void)abi;
#ifdef CRASH_IN_ENTRY
    abort();
#endif
    return &library;
}
