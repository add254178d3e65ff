/*
 * CLicPNG - a small, longjmp-free C facade over libpng for the LIC toolkit.
 *
 * libpng reports errors by longjmp'ing out of the failing call. Unwinding
 * through Swift frames that way is undefined behaviour, so every libpng call
 * lives behind these functions: they catch the longjmp themselves, release
 * everything they allocated, and report failure as a return code plus a
 * one-line message.
 *
 * Pixel layout everywhere: 8 bits per sample, interleaved channels,
 * rows tightly packed (stride = width * channels), top row first.
 */
#ifndef CLICPNG_H
#define CLICPNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest accepted width or height, and largest accepted width*height:
 * the toolkit-wide image limits (Image.maxSide / maxPixels, the container). */
#define LIC_PNG_MAX_SIDE   65535u
#define LIC_PNG_MAX_PIXELS (1ull << 26)

/*
 * Reads an 8-bit PNG file. On success returns 0 and sets *width, *height,
 * *channels (1 = gray, 3 = RGB, 4 = RGBA) and *pixels, which is malloc'ed and
 * must be released with lic_png_free.
 *
 * Conversions: palette -> RGB (RGBA if it has tRNS); gray below 8 bits ->
 * 8-bit gray; gray+alpha -> RGBA; tRNS on gray/RGB -> RGBA. Interlaced files
 * are de-interlaced. 16-bit PNGs are refused.
 *
 * On failure returns non-zero, leaves *pixels NULL, and writes a one-line,
 * NUL-terminated reason into errbuf (truncated to errlen bytes).
 */
int lic_png_read_file(const char *path,
                      uint32_t *width, uint32_t *height, uint32_t *channels,
                      uint8_t **pixels, char *errbuf, size_t errlen);

/* Same as lic_png_read_file, decoding a PNG held in memory. */
int lic_png_read_memory(const uint8_t *data, size_t size,
                        uint32_t *width, uint32_t *height, uint32_t *channels,
                        uint8_t **pixels, char *errbuf, size_t errlen);

/*
 * Writes an 8-bit gray (1), RGB (3) or RGBA (4) PNG. Returns 0 on success;
 * on failure returns non-zero, writes a reason into errbuf and removes the
 * partially written file.
 */
int lic_png_write_file(const char *path,
                       uint32_t width, uint32_t height, uint32_t channels,
                       const uint8_t *pixels, char *errbuf, size_t errlen);

/* Releases a buffer returned by the read functions. NULL is fine. */
void lic_png_free(void *p);

#ifdef __cplusplus
}
#endif

#endif /* CLICPNG_H */
