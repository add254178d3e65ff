/* Broken plugins for the loader's refusal tests: one source, one defect per
 * macro (see PluginLoadingTests.swift). Without a macro it is a valid plugin
 * offering "org.test.quantizer.round". */
#include <lic/lic_plugin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef CONSTRUCTOR_MARKER
/* Proves whether the library was ever loaded: writes $LIC_TEST_MARKER at dlopen. */
__attribute__((constructor)) static void mark_loaded(void) {
    const char *path = getenv("LIC_TEST_MARKER");
    FILE *file = path ? fopen(path, "w") : NULL;
    if (file) fclose(file);
}
#endif

static lic_status create(const lic_component_descriptor *c, const lic_host_services *h, const lic_param_set *p,
                         void **instance, lic_error *e) {
    (void)c; (void)h; (void)p; (void)e;
#ifdef FILL_THRICE
    (void)instance;
    /* breaks the rule: three reports for one failure */
    lic_error_set(e, LIC_ERROR_UNSUPPORTED, "first report");
    lic_error_set(e, LIC_ERROR_INTERNAL, "second report");
    return lic_error_set(e, LIC_ERROR_UNSUPPORTED, "third report");
#else
    static int token;
#ifdef FILL_ON_SUCCESS
    lic_error_set(e, LIC_ERROR_INTERNAL, "report on success"); /* breaks the rule: a success leaves the error untouched */
#endif
    *instance = &token;
    return LIC_OK;
#endif
}
static void destroy(void *instance) { (void)instance; }
static lic_status quantize(void *i, const float *v, const float *m, int32_t *s, size_t n, lic_error *e) {
    (void)i; (void)m;
#ifdef FAIL_SILENTLY
    (void)e; (void)v; (void)s; (void)n;
    return LIC_ERROR_INTERNAL; /* breaks the rule: no report */
#else
    for (size_t k = 0; k < n; k++) s[k] = (int32_t)lrintf(v[k] * 20.0f);
    (void)e;
    return LIC_OK;
#endif
}
static lic_status dequantize(void *i, const int32_t *s, const float *m, float *v, size_t n, lic_error *e) {
    (void)i; (void)m; (void)e;
    for (size_t k = 0; k < n; k++) v[k] = (float)s[k] / 20.0f;
    return LIC_OK;
}
static const lic_quantizer_v1 table = {sizeof(lic_quantizer_v1), create, destroy, quantize, dequantize};

static const lic_param_spec params[] = {
    {.struct_size = sizeof(lic_param_spec), .name = "level", .type = LIC_PARAM_INT, .description = "a level",
#ifdef BAD_DEFAULT
     .default_int = 99,
#else
     .default_int = 3,
#endif
     .has_min = 1, .min = 0, .has_max = 1, .max = 10},
};

static const lic_component_descriptor component = {
    .struct_size = sizeof(lic_component_descriptor), .version = 1,
#ifdef DUPLICATE_ID
    .id = "lic.quantizer.uniform",
#else
    .id = "org.test.quantizer.round",
#endif
    .kind = LIC_KIND_QUANTIZER, .interface_id = LIC_INTERFACE_QUANTIZER_1, .description = "test quantizer",
    .param_count = 1, .params = params, .interface = &table,
};
static const lic_component_descriptor *const components[] = {&component};

static const lic_plugin_library library = {
    .struct_size = sizeof(lic_plugin_library),
#ifdef ABI_MAJOR_2
    .abi_version = 0x00020000u,
#else
    .abi_version = LIC_ABI_VERSION,
#endif
    .library_name = "test plugins",
#ifdef SWIFT_MISMATCH
    .runtime = "swift-5.9",
#else
    .runtime = "c",
#endif
    .component_count = 1, .components = components,
};

#ifndef NO_ENTRY
__attribute__((visibility("default"))) const lic_plugin_library *lic_plugin_entry(uint32_t abi, const lic_host_services *host) {
    (void)host; (void)abi;
#ifdef DECLINE
    (void)library;
    return 0;
#else
    return &library;
#endif
}
#else
__attribute__((visibility("default"))) int not_the_entry(void) { return library.component_count; }
#endif
