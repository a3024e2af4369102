// PCRE2 selects its code-unit width by macro; Swift cannot see function-like
// macros, so this shim fixes the width at 8 bits and callers use the `_8` names.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

// glibc declares memmem only under _GNU_SOURCE, which Swift's Glibc module does not set;
// Grep's literal search uses it (SIMD-accelerated in glibc), so declare it here.
#include <stddef.h>
void *memmem(const void *haystack, size_t haystacklen, const void *needle, size_t needlelen);
