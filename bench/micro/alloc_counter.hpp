#pragma once
// A counting global operator new/delete for the benchmark binary only (alloc_counter.cpp
// replaces the global allocation functions). Counts C++ heap allocations: Boost.JSON's default
// resource, std containers and strings. OpenSSL and SQLite call malloc directly and are not
// counted here.
#include <cstdint>

namespace bench {

struct AllocCount {
  std::uint64_t allocations = 0;
  std::uint64_t bytes = 0;
};

// Totals since the process started, over all threads.
AllocCount alloc_count() noexcept;

}  // namespace bench
