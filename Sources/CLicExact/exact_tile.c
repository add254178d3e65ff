// The inner loop of exact-mode convolutions (see LICTensor's ExactArithmetic).
// Exactness needs every multiply and add rounded on its own: contraction into
// fused multiply-adds is switched off for this file, and the SIMD paths use
// separate mul and add instructions, so AVX2, SSE2 and the portable loop give
// identical results - they only differ in how many lanes run at once.
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

#include "CLicExact.h"
#include <stdlib.h>
#include <string.h>

static void tile_portable(const lic_exact_tap *taps, size_t count, const float *weights, const float *input,
                          const intptr_t bases[4], const float bias[16], float out[64]) {
    float acc[4][16];
    for (int c = 0; c < 4; c++) memcpy(acc[c], bias, sizeof(float) * 16);
    for (size_t t = 0; t < count; t++) {
        const float *w = weights + taps[t].weight * 16;
        const float *p = input + taps[t].offset;
        for (int c = 0; c < 4; c++) {
            float x = p[bases[c]];
            for (int k = 0; k < 16; k++) {
                float product = w[k] * x;
                acc[c][k] = acc[c][k] + product;
            }
        }
    }
    memcpy(out, acc, sizeof(acc));
}

#if defined(__x86_64__)
#include <immintrin.h>

// Baseline x86-64: four SSE registers of four lanes per column.
static void tile_sse2(const lic_exact_tap *taps, size_t count, const float *weights, const float *input,
                      const intptr_t bases[4], const float bias[16], float out[64]) {
    __m128 acc[4][4];
    for (int c = 0; c < 4; c++)
        for (int v = 0; v < 4; v++) acc[c][v] = _mm_loadu_ps(bias + 4 * v);
    for (size_t t = 0; t < count; t++) {
        const float *w = weights + taps[t].weight * 16;
        const float *p = input + taps[t].offset;
        __m128 w0 = _mm_loadu_ps(w), w1 = _mm_loadu_ps(w + 4), w2 = _mm_loadu_ps(w + 8), w3 = _mm_loadu_ps(w + 12);
        for (int c = 0; c < 4; c++) {
            __m128 x = _mm_set1_ps(p[bases[c]]);
            acc[c][0] = _mm_add_ps(acc[c][0], _mm_mul_ps(w0, x));
            acc[c][1] = _mm_add_ps(acc[c][1], _mm_mul_ps(w1, x));
            acc[c][2] = _mm_add_ps(acc[c][2], _mm_mul_ps(w2, x));
            acc[c][3] = _mm_add_ps(acc[c][3], _mm_mul_ps(w3, x));
        }
    }
    for (int c = 0; c < 4; c++)
        for (int v = 0; v < 4; v++) _mm_storeu_ps(out + 16 * c + 4 * v, acc[c][v]);
}

// AVX2 machines: two registers of eight lanes per column, eight accumulators.
__attribute__((target("avx2")))
static void tile_avx2(const lic_exact_tap *taps, size_t count, const float *weights, const float *input,
                      const intptr_t bases[4], const float bias[16], float out[64]) {
    __m256 b0 = _mm256_loadu_ps(bias), b1 = _mm256_loadu_ps(bias + 8);
    __m256 a0 = b0, a1 = b1, c0 = b0, c1 = b1, d0 = b0, d1 = b1, e0 = b0, e1 = b1;
    const intptr_t ba = bases[0], bb = bases[1], bc = bases[2], bd = bases[3];
    for (size_t t = 0; t < count; t++) {
        const float *w = weights + taps[t].weight * 16;
        const float *p = input + taps[t].offset;
        __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
        __m256 x = _mm256_broadcast_ss(p + ba);
        a0 = _mm256_add_ps(a0, _mm256_mul_ps(w0, x));
        a1 = _mm256_add_ps(a1, _mm256_mul_ps(w1, x));
        x = _mm256_broadcast_ss(p + bb);
        c0 = _mm256_add_ps(c0, _mm256_mul_ps(w0, x));
        c1 = _mm256_add_ps(c1, _mm256_mul_ps(w1, x));
        x = _mm256_broadcast_ss(p + bc);
        d0 = _mm256_add_ps(d0, _mm256_mul_ps(w0, x));
        d1 = _mm256_add_ps(d1, _mm256_mul_ps(w1, x));
        x = _mm256_broadcast_ss(p + bd);
        e0 = _mm256_add_ps(e0, _mm256_mul_ps(w0, x));
        e1 = _mm256_add_ps(e1, _mm256_mul_ps(w1, x));
    }
    _mm256_storeu_ps(out, a0); _mm256_storeu_ps(out + 8, a1);
    _mm256_storeu_ps(out + 16, c0); _mm256_storeu_ps(out + 24, c1);
    _mm256_storeu_ps(out + 32, d0); _mm256_storeu_ps(out + 40, d1);
    _mm256_storeu_ps(out + 48, e0); _mm256_storeu_ps(out + 56, e1);
}
#endif

typedef void (*tile_fn)(const lic_exact_tap *, size_t, const float *, const float *, const intptr_t *, const float *, float *);

static tile_fn chosen;
static const char *chosen_name;

static void choose(void) {
    const char *forced = getenv("LIC_EXACT_KERNEL");
    tile_fn fn = tile_portable;
    const char *name = "portable";
#if defined(__x86_64__)
    if (!(forced && strcmp(forced, "portable") == 0)) {
        fn = tile_sse2;
        name = "sse2";
        __builtin_cpu_init();
        if (!(forced && strcmp(forced, "sse2") == 0) && __builtin_cpu_supports("avx2")) {
            fn = tile_avx2;
            name = "avx2";
        }
    }
#else
    (void)forced;
#endif
    // Racing first calls store the same values.
    __atomic_store_n(&chosen_name, name, __ATOMIC_RELAXED);
    __atomic_store_n(&chosen, fn, __ATOMIC_RELEASE);
}

void lic_exact_tile(const lic_exact_tap *taps, size_t count, const float *weights, const float *input,
                    const intptr_t bases[4], const float bias[16], float out[64]) {
    tile_fn fn = __atomic_load_n(&chosen, __ATOMIC_ACQUIRE);
    if (!fn) {
        choose();
        fn = __atomic_load_n(&chosen, __ATOMIC_ACQUIRE);
    }
    fn(taps, count, weights, input, bases, bias, out);
}

const char *lic_exact_kernel_name(void) {
    if (!__atomic_load_n(&chosen, __ATOMIC_ACQUIRE)) choose();
    return __atomic_load_n(&chosen_name, __ATOMIC_RELAXED);
}

void lic_exact_pack_weights(const float *source, float *packed, size_t groups, size_t out_per_group, size_t in_per_group,
                            size_t kernel_area, size_t group_stride, size_t out_stride, size_t in_stride) {
    size_t blocks = (out_per_group + 15) / 16, per_block = in_per_group * kernel_area;
    for (size_t g = 0; g < groups; g++)
        for (size_t o = 0; o < out_per_group; o++) {
            float *block = packed + ((g * blocks + o / 16) * per_block) * 16 + o % 16;
            const float *w = source + g * group_stride + o * out_stride;
            for (size_t i = 0; i < in_per_group; i++)
                for (size_t k = 0; k < kernel_area; k++) block[(i * kernel_area + k) * 16] = w[i * in_stride + k];
        }
}
