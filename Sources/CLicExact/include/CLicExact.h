#ifndef CLIC_EXACT_H
#define CLIC_EXACT_H

#include <stddef.h>
#include <stdint.h>

/// One tap of an exact-mode convolution: its weights start at
/// weights[weight * 16] (sixteen output channels), its input at
/// input[base + offset] for a column whose base is `base`.
typedef struct lic_exact_tap {
    intptr_t weight;
    intptr_t offset;
} lic_exact_tap;

/// Four output columns times sixteen output channels: out[c * 16 + k] =
/// bias[k], then + w * x for each tap in order, every step a single-precision
/// multiply and a separate add (never fused), so every implementation gives
/// the same bits. Picks AVX2 or SSE on x86-64 at the first call, portable C
/// elsewhere (or everywhere with LIC_EXACT_KERNEL=portable, for tests).
void lic_exact_tile(const lic_exact_tap *taps, size_t count, const float *weights, const float *input,
                    const intptr_t bases[4], const float bias[16], float out[64]);

/// Packs convolution weights for lic_exact_tile: per group and block of 16
/// output channels, [input channel][kernel position][16 channels], zeros past
/// the last channel. Weight (g, o, i, k) is at
/// source[g * group_stride + o * out_stride + i * in_stride + k]; `packed`
/// holds groups * ceil(out_per_group / 16) * in_per_group * kernel_area * 16
/// floats, zeroed by the caller.
void lic_exact_pack_weights(const float *source, float *packed, size_t groups, size_t out_per_group, size_t in_per_group,
                            size_t kernel_area, size_t group_stride, size_t out_stride, size_t in_stride);

/// `count` IEEE 754 halves, little-endian bytes at `source` (any alignment),
/// as floats: exact (every half is a float), with F16C where the CPU has it.
void lic_halves_to_floats(const void *source, float *destination, size_t count);

/// The implementation lic_exact_tile uses: "avx2", "sse2" or "portable".
const char *lic_exact_kernel_name(void);

#endif
