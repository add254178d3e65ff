// oneDNN 2.x C API (Debian 12: libdnnl-dev 2.6.3). All oneDNN calls live in
// Sources/LICTensor/DNNL so a move to the 3.x API is one folder's work.
#include <oneapi/dnnl/dnnl.h>

// Debian's libdnnl is built with the OpenMP CPU runtime (it links libgomp.so.1),
// so its thread count is OpenMP's. Declared here rather than through <omp.h>,
// which lives in GCC's private include directory; the modulemap links gomp
// (libgomp.so comes with libgcc-12-dev, which the Swift toolchain needs anyway).
extern void omp_set_num_threads(int num_threads);
extern int omp_get_max_threads(void);
extern int omp_get_num_procs(void);

// libgomp's entry for a parallel region (the ABI GCC-compiled code calls):
// runs fn(data) on num_threads threads of the same pool oneDNN uses, so our
// own kernels never compete with oneDNN's spinning workers for the cores.
extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned int flags);
extern int omp_get_thread_num(void);
extern int omp_get_num_threads(void);
