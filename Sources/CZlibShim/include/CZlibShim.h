// zlib, loaded when a .gz or .zip container is first opened (dlopen) rather than by the dynamic loader at every
// start. Each odflash_X has zlib's X signature and calls it; when zlib cannot be loaded, the inflate functions answer
// Z_VERSION_ERROR and odflash_zlib_failure() says why, and odflash_crc32 computes CRC-32 itself (a stored zip member
// still opens).
#ifndef ODFLASH_CZLIBSHIM_H
#define ODFLASH_CZLIBSHIM_H
#include <zlib.h>

/// 1 when zlib is loaded with every function odflash calls (the first call loads it), else 0.
int odflash_zlib_available(void);
/// Why it is not (the loader's message, or the function it lacks); NULL when it is.
const char *odflash_zlib_failure(void);

int odflash_inflateInit2_(z_streamp strm, int windowBits, const char *version, int stream_size);
int odflash_inflate(z_streamp strm, int flush);
int odflash_inflateReset(z_streamp strm);
int odflash_inflateEnd(z_streamp strm);
uLong odflash_crc32(uLong crc, const Bytef *buf, uInt len);
/// The CRC-32 odflash_crc32 falls back on (exposed so that tests hold it to zlib's).
uLong odflash_crc32_portable(uLong crc, const Bytef *buf, uInt len);
#endif
