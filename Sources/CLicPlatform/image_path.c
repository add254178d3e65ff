#define _GNU_SOURCE
#include <dlfcn.h>
#include "CLicPlatform.h"

const char *lic_image_path_containing(const void *address) {
    Dl_info info;
    return dladdr(address, &info) != 0 ? info.dli_fname : 0;
}
