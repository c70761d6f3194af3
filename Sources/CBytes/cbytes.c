#include "cbytes.h"
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static int lead_in(const uint8_t *p, size_t i) { return (p[i] == 97 || p[i] == 96) && p[i + 1] < 60 && p[i + 2] < 75; }
static int lead_out(const uint8_t *p, size_t i) { return p[i] >= 60 && p[i] <= 89 && p[i + 1] < 60 && p[i + 2] < 75; }

size_t odflash_next_atip_run(const uint8_t *p, size_t n, size_t start, size_t min_run, size_t *stride, size_t *run) {
    static const size_t strides[] = {8, 6, 7, 10, 12, 16};
    if (n < 6) return n;
    // Most bytes are neither 96 nor 97: memchr finds the next of each (kept until passed), the nearer one is tried.
    size_t lim = n - 5, next97 = 0, next96 = 0;
    int have97 = 0, have96 = 0;
    for (size_t i = start; i < lim; i++) {
        if (!have97 || next97 < i) { const uint8_t *q = memchr(p + i, 97, lim - i); next97 = q ? (size_t)(q - p) : lim; have97 = 1; }
        if (!have96 || next96 < i) { const uint8_t *q = memchr(p + i, 96, lim - i); next96 = q ? (size_t)(q - p) : lim; have96 = 1; }
        i = next97 < next96 ? next97 : next96;
        if (i >= lim) return n;
        if (!(lead_in(p, i) && lead_out(p, i + 3))) continue;
        size_t best_stride = 0, best_run = 0;
        for (size_t k = 0; k < 6; k++) {
            size_t s = strides[k], r = 1;
            while (i + r * s + 6 <= n && lead_in(p, i + r * s) && lead_out(p, i + r * s + 3)) r++;
            if (r > best_run) { best_run = r; best_stride = s; }
        }
        if (best_run < min_run) continue;
        *stride = best_stride;
        *run = best_run;
        return i;
    }
    return n;
}

// 1: a code character (A-Z, 0-9, '-', ' '); 2 added for a capital letter. A table, so debug builds (-O0) call nothing.
static const uint8_t id_class[256] = {
    [0x20] = 1, [0x2D] = 1,
    [0x30] = 1, [0x31] = 1, [0x32] = 1, [0x33] = 1, [0x34] = 1, [0x35] = 1, [0x36] = 1, [0x37] = 1, [0x38] = 1, [0x39] = 1,
    [0x41] = 3, [0x42] = 3, [0x43] = 3, [0x44] = 3, [0x45] = 3, [0x46] = 3, [0x47] = 3, [0x48] = 3, [0x49] = 3, [0x4A] = 3,
    [0x4B] = 3, [0x4C] = 3, [0x4D] = 3, [0x4E] = 3, [0x4F] = 3, [0x50] = 3, [0x51] = 3, [0x52] = 3, [0x53] = 3, [0x54] = 3,
    [0x55] = 3, [0x56] = 3, [0x57] = 3, [0x58] = 3, [0x59] = 3, [0x5A] = 3,
};
#define id_char(c) (id_class[(uint8_t)(c)] & 1)

size_t odflash_id_token(const uint8_t *p, size_t n, size_t i, int utf16) {
    size_t w = utf16 ? 2 : 1, cp = utf16 ? 1 : 0;
    if (i + w * 3 > n || p[i + cp] < 0x41 || p[i + cp] > 0x5A) return 0;
    if (utf16 && p[i] != 0) return 0;
    size_t len = 0, letters = 0;
    while (len < 12 && i + (len + 1) * w <= n) {
        if (utf16 && p[i + len * 2] != 0) break;
        uint8_t c = p[i + len * w + cp];
        if (!id_char(c)) break;
        if (c >= 0x41 && c <= 0x5A) letters++;
        len++;
    }
    // The code must end with padding or a binary byte, not run on as text.
    if (i + (len + 1) * w <= n) {
        uint8_t next = p[i + len * w + cp];
        if (next >= 0x61 && next <= 0x7A) return 0;
    }
    return len >= 3 && letters >= 2 ? len : 0;
}

#if defined(__SSE2__)
// Per byte of x: 0xFF where lo <= byte <= hi (unsigned).
static inline __m128i in_range(__m128i x, uint8_t lo, uint8_t hi) {
    __m128i d = _mm_sub_epi8(x, _mm_set1_epi8((char)lo));
    return _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8((char)(hi - lo))), d);
}
// Per byte: 0xFF for a code character (A-Z, 0-9, '-', ' ').
static inline __m128i id_chars(__m128i x) {
    return _mm_or_si128(_mm_or_si128(in_range(x, 0x41, 0x5A), in_range(x, 0x30, 0x39)),
                        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(0x2D)), _mm_cmpeq_epi8(x, _mm_set1_epi8(0x20))));
}
#endif

size_t odflash_next_id_run(const uint8_t *p, size_t n, size_t start, int utf16, size_t min_run,
                           size_t *stride, size_t *run, size_t *len) {
    size_t cp = utf16 ? 1 : 0, w = utf16 ? 2 : 1;
    size_t i = start;
    while (i + cp < n) {
#if defined(__SSE2__)
        // Sixteen positions at a time through the same two tests as below (a capital letter, preceded by 00h in
        // 16-bit text, then two code characters); none passes: all sixteen are stepped over.
        if (i + 2 * w + cp + 16 <= n) {
            __m128i m = _mm_and_si128(in_range(_mm_loadu_si128((const __m128i *)(p + i + cp)), 0x41, 0x5A),
                                      _mm_and_si128(id_chars(_mm_loadu_si128((const __m128i *)(p + i + w + cp))),
                                                    id_chars(_mm_loadu_si128((const __m128i *)(p + i + 2 * w + cp)))));
            if (utf16) m = _mm_and_si128(m, _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + i)), _mm_setzero_si128()));
            unsigned mask = (unsigned)_mm_movemask_epi8(m);
            if (mask == 0) { i += 16; continue; }
            i += (size_t)__builtin_ctz(mask);
        }
#endif
        // A code starts with a capital letter and has at least three characters: most bytes fail here, inline.
        if (!(id_class[p[i + cp]] & 2) || (utf16 && p[i] != 0)) { i++; continue; }
        if (i + 3 * w <= n && !(id_class[p[i + w + cp]] & id_class[p[i + 2 * w + cp]] & 1)) { i++; continue; }
        size_t l = odflash_id_token(p, n, i, utf16);
        if (l == 0) { i++; continue; }
        size_t best_stride = 0, best_run = 0;
        size_t s = l * w > 8 ? l * w : 8;
        for (; s <= 64; s++) {
            size_t r = 1;
            while (i + r * s + cp < n && (uint8_t)(p[i + r * s + cp] - 0x41) <= 0x19 && odflash_id_token(p, n, i + r * s, utf16) > 0) r++;
            if (r > best_run) { best_run = r; best_stride = s; }
        }
        if (best_run < min_run) { i += l * w; continue; }
        *stride = best_stride;
        *run = best_run;
        *len = l;
        return i;
    }
    return n;
}

size_t odflash_next_diff(const uint8_t *a, const uint8_t *b, size_t n, size_t start, size_t gap, size_t *end, size_t *changed) {
    size_t i = start;
    // Equal stretches a block at a time (libc's memcmp), then the byte that differs.
    while (i + 4096 <= n && memcmp(a + i, b + i, 4096) == 0) i += 4096;
    while (i < n && a[i] == b[i]) i++;
    if (i >= n) return n;
    size_t first = i, last = i, count = 0;
    if (gap < 1) gap = 1;
    // The range goes on while fewer than `gap` equal bytes follow its last difference (gap 1: exact runs).
    while (i < n && i - last <= gap) {
        if (a[i] != b[i]) { last = i; count++; }
        i++;
    }
    *end = last + 1;
    *changed = count;
    return first;
}

// ---- Literal search (media search's pre-scan) ----

// Whether a literal whose anchor byte is at `pos` occurs there.
static int odflash_literal_at(const uint8_t *p, size_t n, size_t pos, const uint8_t *lits, const size_t *offsets,
                              const size_t *lens, const size_t *anchors, size_t count) {
    uint8_t v = p[pos];
    for (size_t k = 0; k < count; k++) {
        const uint8_t *l = lits + offsets[k];
        if (l[anchors[k]] != v || pos < anchors[k]) continue;
        size_t s = pos - anchors[k];
        if (lens[k] > n - s) continue;
        if (memcmp(p + s, l, lens[k]) == 0) return 1;
    }
    return 0;
}

int odflash_contains_any(const uint8_t *p, size_t n, const uint8_t *lits, const size_t *offsets, const size_t *lens,
                         const size_t *anchors, size_t count) {
    uint8_t is_anchor[256] = {0};
    uint8_t set[4] = {0, 0, 0, 0};
    size_t distinct = 0;
    for (size_t k = 0; k < count; k++) {
        if (lens[k] == 0 || anchors[k] >= lens[k]) continue;
        uint8_t v = lits[offsets[k] + anchors[k]];
        if (!is_anchor[v]) {
            is_anchor[v] = 1;
            if (distinct < 4) set[distinct] = v;
            distinct++;
        }
    }
    if (distinct == 0) return 0;
    size_t i = 0;
#if defined(__SSE2__)
    if (distinct <= 4) {
        for (size_t k = distinct; k < 4; k++) set[k] = set[0];
        const __m128i s0 = _mm_set1_epi8((char)set[0]), s1 = _mm_set1_epi8((char)set[1]);
        const __m128i s2 = _mm_set1_epi8((char)set[2]), s3 = _mm_set1_epi8((char)set[3]);
        for (; i + 32 <= n; i += 32) {
            __m128i a = _mm_loadu_si128((const __m128i *)(p + i));
            __m128i b = _mm_loadu_si128((const __m128i *)(p + i + 16));
            __m128i ma = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(a, s0), _mm_cmpeq_epi8(a, s1)),
                                      _mm_or_si128(_mm_cmpeq_epi8(a, s2), _mm_cmpeq_epi8(a, s3)));
            __m128i mb = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(b, s0), _mm_cmpeq_epi8(b, s1)),
                                      _mm_or_si128(_mm_cmpeq_epi8(b, s2), _mm_cmpeq_epi8(b, s3)));
            uint32_t mask = (uint32_t)_mm_movemask_epi8(ma) | ((uint32_t)_mm_movemask_epi8(mb) << 16);
            while (mask) {
                size_t at = i + (size_t)__builtin_ctz(mask);
                mask &= mask - 1;
                if (odflash_literal_at(p, n, at, lits, offsets, lens, anchors, count)) return 1;
            }
        }
    }
#endif
    for (; i < n; i++) {
        if (is_anchor[p[i]] && odflash_literal_at(p, n, i, lits, offsets, lens, anchors, count)) return 1;
    }
    return 0;
}

// ---- Even and odd byte sums (byte and 16-bit checksums of whole images) ----

void odflash_even_odd_sums(const uint8_t *p, size_t n, uint64_t *even, uint64_t *odd) {
    uint64_t e = 0, o = 0;
    size_t i = 0;
#if defined(__SSE2__)
    // Little-endian 16-bit lanes: the low byte of each is at an even offset. _mm_sad_epu8 against zero adds eight
    // bytes into a 64-bit lane, which no image of this size can overflow.
    const __m128i low = _mm_set1_epi16(0x00FF), zero = _mm_setzero_si128();
    __m128i se = zero, so = zero, se2 = zero, so2 = zero;
    for (; i + 32 <= n; i += 32) {
        __m128i x = _mm_loadu_si128((const __m128i *)(p + i));
        __m128i y = _mm_loadu_si128((const __m128i *)(p + i + 16));
        se = _mm_add_epi64(se, _mm_sad_epu8(_mm_and_si128(x, low), zero));
        so = _mm_add_epi64(so, _mm_sad_epu8(_mm_srli_epi16(x, 8), zero));
        se2 = _mm_add_epi64(se2, _mm_sad_epu8(_mm_and_si128(y, low), zero));
        so2 = _mm_add_epi64(so2, _mm_sad_epu8(_mm_srli_epi16(y, 8), zero));
    }
    uint64_t t[2];
    _mm_storeu_si128((__m128i *)t, _mm_add_epi64(se, se2));
    e = t[0] + t[1];
    _mm_storeu_si128((__m128i *)t, _mm_add_epi64(so, so2));
    o = t[0] + t[1];
#endif
    // i is even here: the parity of the rest is its own offset's.
    for (; i < n; i++) {
        if (i & 1) o += p[i]; else e += p[i];
    }
    *even = e;
    *odd = o;
}

#ifdef __linux__
#include <sys/vfs.h>
uint64_t odflash_fs_magic(int fd) {
    struct statfs fs;
    return fstatfs(fd, &fs) == 0 ? (uint64_t)(uint32_t)fs.f_type : 0;
}
#else
uint64_t odflash_fs_magic(int fd) { (void)fd; return 0; }
#endif
