#pragma once
// Audit schema 3: a card's or an evaluated order's id is its invocation's id shifted left by
// kPlaceBits, plus its place there, so an invocation's rows are one range of the table's key.
// The writer (audit/sqlite_store.cpp) computes ids with it; the SQL of the migration and of the reports
// (reports/query.cpp) spells the shift out as `<< 20`, checked against it where it is used.
#include <cstddef>

namespace cds::detail {

inline constexpr int kPlaceBits = 20;
inline constexpr std::size_t kMaxPlaces = std::size_t{1} << kPlaceBits;

}  // namespace cds::detail
