// libltdl, plus dladdr (a glibc extension) to find the file holding our code.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <ltdl.h>

/// The path of the executable or shared library that contains `address`, or NULL.
static inline const char *lic_image_path_containing(const void *address) {
    Dl_info info;
    return dladdr(address, &info) != 0 ? info.dli_fname : 0;
}
