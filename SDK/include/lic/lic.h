/*
 * lic.h - embedding API of the LIC Toolkit (liblicembed.so; pkg-config "lic").
 *
 *     lic_context *ctx = lic_context_create();
 *     lic_codec *codec = NULL;
 *     if (lic_codec_open(ctx, "model/model.toml", "model/weights.safetensors", &codec) != LIC_EMBED_OK)
 *         fprintf(stderr, "%s\n", lic_context_error(ctx));
 *     uint8_t *bytes; size_t size;
 *     lic_encode(codec, pixels, width, height, channels, &bytes, &size);
 *     ...
 *     lic_free(bytes); lic_codec_close(codec); lic_context_destroy(ctx);
 *
 * Threading: a context and the codecs opened in it must be used by one
 * thread at a time (the context holds the last error). Different contexts
 * may be used concurrently from different threads. Plugins are loaded once
 * per process and shared by all contexts.
 *
 * Errors: functions return LIC_EMBED_OK (0) or a non-zero code; the
 * one-line reason is then available from lic_context_error until the next
 * call on that context. No function aborts on bad input.
 */
#ifndef LIC_H
#define LIC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lic_context lic_context;
typedef struct lic_codec lic_codec;

enum {
    LIC_EMBED_OK = 0,
    LIC_EMBED_ERROR_ARGUMENT = 1,  /* NULL pointer, bad geometry, ... */
    LIC_EMBED_ERROR_PIPELINE = 2,  /* descriptor or plugin problem */
    LIC_EMBED_ERROR_DATA = 3,      /* corrupt, truncated or foreign .lic data */
    LIC_EMBED_ERROR_INTERNAL = 4
};

/* "0.1.0". Static string. Thread-safe. */
const char *lic_version(void);

/* A new context, owned by the caller (lic_context_destroy); NULL if out of memory. */
lic_context *lic_context_create(void);
/* Destroys a context. Its codecs must be closed first. NULL is ignored. */
void lic_context_destroy(lic_context *context);
/* The last error's message ("" if none). Owned by the context; valid until
 * the next call on it. */
const char *lic_context_error(const lic_context *context);

/* Opens a codec: a pipeline descriptor (TOML file; NULL for the built-in
 * classical pipeline, classical-dct) and, for a learned model, its weights - a model
 * directory's model.toml and weights.safetensors (NULL for a weightless
 * pipeline; a learned descriptor without weights is refused). Plugins are
 * found as by the lic command (the descriptor's `plugins`, LIC_PLUGIN_PATH,
 * beside liblicembed.so). On success *codec is owned by the caller
 * (lic_codec_close). */
int lic_codec_open(lic_context *context, const char *descriptor_path, const char *weights_path, lic_codec **codec);
void lic_codec_close(lic_codec *codec);

/* Sets the quality of later lic_encode calls on a variable-rate model:
 * 1 (smallest files) to 8 (best quality), fractions allowed; 0 restores the
 * model's default (5). The file records it; lic_decode needs nothing.
 * LIC_EMBED_ERROR_ARGUMENT (the codec keeps its quality) when out of range
 * or when the model codes at one rate (then only 0 is accepted). Not to be
 * called while another thread encodes with the same codec. */
int lic_codec_set_quality(lic_codec *codec, double quality);

/* Encodes 8-bit interleaved pixels (channels 1, 3 or 4; rows tightly packed,
 * width * channels bytes each). On success *bytes (allocated by the library,
 * free with lic_free) holds *size bytes of .lic data. */
int lic_encode(lic_codec *codec, const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
               uint8_t **bytes, size_t *size);

/* Decodes .lic data coded by this codec's model (LIC_EMBED_ERROR_DATA
 * otherwise). On success *pixels (free with lic_free) holds width * height *
 * channels bytes, rows tightly packed. */
int lic_decode(lic_codec *codec, const uint8_t *bytes, size_t size, uint8_t **pixels, uint32_t *width,
               uint32_t *height, uint32_t *channels);

/* Frees memory returned by lic_encode or lic_decode. NULL is ignored. */
void lic_free(void *memory);

#ifdef __cplusplus
}
#endif
#endif /* LIC_H */
