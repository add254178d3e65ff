#ifndef CLIC_PLATFORM_H
#define CLIC_PLATFORM_H

/// The path of the executable or shared library that contains `address`,
/// or NULL. (dladdr is a glibc extension, kept out of Swift-visible headers.)
const char *lic_image_path_containing(const void *address);

#endif
