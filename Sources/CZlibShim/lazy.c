// zlib through dlopen: see include/CZlibShim.h.
#include "CZlibShim.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __APPLE__
static const char *const names[] = {"libz.1.dylib", "libz.dylib"};
#else
static const char *const names[] = {"libz.so.1", "libz.so"};
#endif

#define ODFLASH_ZLIB_FUNCTIONS(X) X(inflateInit2_) X(inflate) X(inflateReset) X(inflateEnd) X(crc32)
#define DECLARE(f) static __typeof__(f) *p_##f;
ODFLASH_ZLIB_FUNCTIONS(DECLARE)

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int loaded;
static char failure[512];

static void load(void) {
    void *h = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !h; i++) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(failure, sizeof failure, "%s", e ? e : "zlib was not found");
        return;
    }
#define RESOLVE(f) \
    if (!(p_##f = (__typeof__(f) *)dlsym(h, #f))) { \
        snprintf(failure, sizeof failure, "the loaded zlib has no " #f); \
        return; \
    }
    ODFLASH_ZLIB_FUNCTIONS(RESOLVE)
    loaded = 1;
}

int odflash_zlib_available(void) {
    pthread_once(&once, load);
    return loaded;
}

const char *odflash_zlib_failure(void) { return odflash_zlib_available() ? NULL : failure; }

int odflash_inflateInit2_(z_streamp strm, int windowBits, const char *version, int stream_size) {
    return odflash_zlib_available() ? p_inflateInit2_(strm, windowBits, version, stream_size) : Z_VERSION_ERROR;
}
int odflash_inflate(z_streamp strm, int flush) { return odflash_zlib_available() ? p_inflate(strm, flush) : Z_VERSION_ERROR; }
int odflash_inflateReset(z_streamp strm) { return odflash_zlib_available() ? p_inflateReset(strm) : Z_VERSION_ERROR; }
int odflash_inflateEnd(z_streamp strm) { return odflash_zlib_available() ? p_inflateEnd(strm) : Z_VERSION_ERROR; }

// CRC-32 (ISO-HDLC: reflected polynomial EDB88320h, initial and final XOR FFFFFFFFh), continuing from `crc` as
// zlib's crc32 does; used only when zlib is absent.
static uint32_t crc_table[256];
static pthread_once_t crc_table_once = PTHREAD_ONCE_INIT;

static void fill_crc_table(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

uLong odflash_crc32_portable(uLong crc, const Bytef *buf, uInt len) {
    if (buf == NULL) return 0;
    pthread_once(&crc_table_once, fill_crc_table);
    uint32_t c = (uint32_t)crc ^ 0xFFFFFFFFu;
    for (uInt i = 0; i < len; i++) c = crc_table[(c ^ buf[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

uLong odflash_crc32(uLong crc, const Bytef *buf, uInt len) {
    if (buf == NULL) return 0;
    return odflash_zlib_available() ? p_crc32(crc, buf, len) : odflash_crc32_portable(crc, buf, len);
}
