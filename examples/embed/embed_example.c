/*
 * Embedding the LIC Toolkit in a C program through lic.h.
 *
 * Encodes a synthetic image with a codec - a pipeline descriptor, a learned
 * model directory (from `lic train` or tools/compressai_to_lic.py: its
 * model.toml and weights.safetensors), or the built-in default - decodes it,
 * checks the geometry and the PSNR, then shows that a damaged stream is
 * refused with a message instead of a crash.
 *
 * Build:  cc embed_example.c $(pkg-config --cflags --libs lic) -lm -o embed_example
 * Run:    ./embed_example [pipeline.toml | MODEL_DIR] [MIN_PSNR (default 25)]
 */
#include <lic/lic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int main(int argc, char **argv) {
    const uint32_t width = 97, height = 61, channels = 3;
    uint8_t *pixels = malloc(width * height * channels);
    if (!pixels) return 1;
    for (uint32_t y = 0; y < height; y++)
        for (uint32_t x = 0; x < width; x++)
            for (uint32_t c = 0; c < channels; c++)
                pixels[(y * width + x) * channels + c] = (uint8_t)((x * 2 + y * 3 + c * 50 + ((x / 8 + y / 8) % 2) * 30) % 256);

    printf("liblicembed %s\n", lic_version());
    lic_context *context = lic_context_create();
    lic_codec *codec = NULL;
    const char *descriptor = argc > 1 ? argv[1] : NULL, *weights = NULL;
    char model_toml[4096], weights_file[4096];
    struct stat info;
    if (descriptor != NULL && stat(descriptor, &info) == 0 && S_ISDIR(info.st_mode)) {
        /* A model directory: the canonical descriptor and the weights beside it. */
        snprintf(model_toml, sizeof model_toml, "%s/model.toml", descriptor);
        snprintf(weights_file, sizeof weights_file, "%s/weights.safetensors", descriptor);
        descriptor = model_toml;
        weights = weights_file;
    }
    double min_psnr = argc > 2 ? atof(argv[2]) : 25;
    if (lic_codec_open(context, descriptor, weights, &codec) != LIC_EMBED_OK) {
        fprintf(stderr, "open failed: %s\n", lic_context_error(context));
        return 1;
    }

    uint8_t *bytes = NULL;
    size_t size = 0;
    if (lic_encode(codec, pixels, width, height, channels, &bytes, &size) != LIC_EMBED_OK) {
        fprintf(stderr, "encode failed: %s\n", lic_context_error(context));
        return 1;
    }

    uint8_t *decoded = NULL;
    uint32_t w = 0, h = 0, c = 0;
    if (lic_decode(codec, bytes, size, &decoded, &w, &h, &c) != LIC_EMBED_OK) {
        fprintf(stderr, "decode failed: %s\n", lic_context_error(context));
        return 1;
    }
    if (w != width || h != height || c != channels) {
        fprintf(stderr, "geometry mismatch: %ux%ux%u\n", w, h, c);
        return 1;
    }
    double squared = 0;
    for (size_t i = 0; i < (size_t)width * height * channels; i++) {
        double d = (double)pixels[i] - decoded[i];
        squared += d * d;
    }
    double mse = squared / ((double)width * height * channels);
    double psnr = mse == 0 ? INFINITY : 10 * log10(255.0 * 255.0 / mse);
    printf("encoded %ux%ux%u into %zu bytes (%.3f bpp), PSNR %.2f dB\n", width, height, channels, size,
           8.0 * size / (width * height), psnr);

    /* A flipped byte in the middle must be refused, not crash. */
    bytes[size / 2] ^= 0x40;
    uint8_t *garbage = NULL;
    int status = lic_decode(codec, bytes, size, &garbage, &w, &h, &c);
    printf("damaged stream: status %d: %s\n", status, lic_context_error(context));

    lic_free(garbage);
    lic_free(decoded);
    lic_free(bytes);
    lic_codec_close(codec);
    lic_context_destroy(context);
    free(pixels);
    return (psnr > min_psnr && status == LIC_EMBED_ERROR_DATA) ? 0 : 2;
}
