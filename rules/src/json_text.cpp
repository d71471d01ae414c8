#include "rules/detail/json_text.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace rules::detail {

namespace {
constexpr auto kNeedsEscape = [] {
  std::array<bool, 256> t{};
  for (std::size_t c = 0; c < 256; ++c) t[c] = c < 0x20 || c == '"' || c == '\\';
  return t;
}();
}  // namespace

std::size_t unescaped_prefix(std::string_view s) noexcept {
  const char* const begin = s.data();
  const char* p = begin;
  const char* const end = begin + s.size();
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i below_space = _mm_set1_epi8(0x1F);
  for (; end - p >= 16; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // A byte is a control when min(v, 0x1F) == v, unsigned.
    const __m128i hits = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                      _mm_cmpeq_epi8(_mm_min_epu8(v, below_space), v));
    if (const int mask = _mm_movemask_epi8(hits); mask != 0)
      return static_cast<std::size_t>(p - begin) + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  while (p != end && !kNeedsEscape[static_cast<unsigned char>(*p)]) ++p;
  return static_cast<std::size_t>(p - begin);
}

}  // namespace rules::detail
