#ifndef ODFLASH_CAES_H
#define ODFLASH_CAES_H
#include <stddef.h>
#include <stdint.h>

// AES-128 encryption (FIPS-197) and AES-CMAC (NIST SP 800-38B / RFC 4493) in C, so that verifying a 2 MiB MediaTek
// integrity table costs milliseconds in debug builds too (Swift at -Onone spent about 2 s on it).
// round_keys: 176 bytes (11 round keys) from odflash_aes128_expand.

void odflash_aes128_expand(const uint8_t key[16], uint8_t round_keys[176]);
void odflash_aes128_encrypt(const uint8_t round_keys[176], const uint8_t in[16], uint8_t out[16]);
void odflash_aes128_cmac(const uint8_t round_keys[176], const uint8_t *message, size_t length, uint8_t tag[16]);

#endif
