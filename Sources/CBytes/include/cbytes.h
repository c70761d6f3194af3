#ifndef ODFLASH_CBYTES_H
#define ODFLASH_CBYTES_H
#include <stddef.h>
#include <stdint.h>

// The byte loops that visit every byte of an image up to 64 MiB (the heuristic media-table scanner, the byte diff),
// in C so that debug builds stay within seconds: Swift at -Onone spent about 4 s of a 64 MiB `fw diff` here.
// Each function returns what the Swift loop it replaces computed, nothing more; Swift builds the results.

// The next run of fixed-stride records from `start` that decode as ATIP lead-in (96/97:SS:FF) and lead-out
// (60-89:SS:FF) times: strides 8, 6, 7, 10, 12, 16 in that order, the longest run kept (the first on a tie), at least
// `min_run` records. Returns its offset (and *stride, *run), or n when there is none.
size_t odflash_next_atip_run(const uint8_t *p, size_t n, size_t start, size_t min_run, size_t *stride, size_t *run);

// Length of the media-ID-like code at i (3-12 characters A-Z, 0-9, '-', ' ', at least two letters, not followed by a
// lowercase letter; 16-bit big-endian characters when utf16), 0 when there is none.
size_t odflash_id_token(const uint8_t *p, size_t n, size_t i, int utf16);

// The next run of records from `start` that begin with such codes: strides from max(code length in bytes, 8) to 64,
// the longest run kept (the first on a tie), at least `min_run` records; a code at i whose best run is shorter is
// stepped over whole. Returns its offset (and *stride, *run, *len of the first code), or n when there is none.
size_t odflash_next_id_run(const uint8_t *p, size_t n, size_t start, int utf16, size_t min_run,
                           size_t *stride, size_t *run, size_t *len);

// The next changed range of two buffers from `start`: its first differing byte, and its end after the last differing
// byte that is followed by `gap` or more equal bytes (or the end): runs fewer than `gap` bytes apart are merged. *changed counts its differing bytes. Returns the range's
// start (and *end), or n when the rest is equal.
size_t odflash_next_diff(const uint8_t *a, const uint8_t *b, size_t n, size_t start, size_t gap, size_t *end, size_t *changed);

// Whether any of `count` literals occurs in p[0..<n]: literal k is lits[offsets[k] ..< offsets[k] + lens[k]], looked
// for at each occurrence of its byte at anchors[k] and then compared whole. One pass over the buffer whatever the
// number of literals (media search's case and width variants), 32 bytes at a time when the anchor bytes are at most
// four distinct values. Returns 1 or 0.
int odflash_contains_any(const uint8_t *p, size_t n, const uint8_t *lits, const size_t *offsets, const size_t *lens,
                         const size_t *anchors, size_t count);

// The sums of the bytes at even and at odd offsets of p[0..<n] (byte sums and 16-bit word sums of either byte order
// follow from the two), 32 bytes a step.
void odflash_even_odd_sums(const uint8_t *p, size_t n, uint64_t *even, uint64_t *odd);

// The file system a descriptor is on, as fstatfs(2)'s f_type (its magic number), 0 when it cannot be asked; not a
// byte loop, but the one statfs call SCSI's input reader makes (Swift's Glibc module does not export sys/vfs.h).
uint64_t odflash_fs_magic(int fd);

#endif
