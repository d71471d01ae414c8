// CodeIndex must say, for any coding, exactly which of its tables CodeTable::contains would
// accept: exact and prefix codes, ASCII case ignored, per code system.
#include "rules/detail/code_table.hpp"

#include "rules_test_support.hpp"

#include <gtest/gtest.h>

namespace {

using namespace rules::detail;

TEST(CodeIndex, ExactPrefixCaseAndSystemPerTable) {
  SystemTable systems;
  const int icd = systems.add_canonical("http://hl7.org/fhir/sid/icd-10-cm");
  const int cpt = systems.add_canonical("http://www.ama-assn.org/go/cpt");
  systems.freeze();
  CodeTable a, b;
  a.add({icd, "M17", true, true});     // prefix
  a.add({cpt, "0232T", false, true});  // exact
  b.add({icd, "M17.11", false, true});
  b.add({cpt, "0232t", false, true});
  a.freeze();
  b.freeze();
  CodeIndex index;
  index.add(0, a);
  index.add(3, b);
  index.freeze();
  EXPECT_EQ(index.find(icd, "M17.11"), (1u << 0) | (1u << 3));
  EXPECT_EQ(index.find(icd, "m17.0"), 1u << 0);
  EXPECT_EQ(index.find(icd, "M1"), 0u);
  EXPECT_EQ(index.find(cpt, "0232T"), (1u << 0) | (1u << 3));
  EXPECT_EQ(index.find(cpt, "0232TX"), 0u);
  EXPECT_EQ(index.find(cpt, "M17.11"), 0u);  // the code of another system
  EXPECT_EQ(index.find(SystemTable::unknown, "M17"), 0u);
  EXPECT_EQ(index.find(icd, ""), 0u);
  EXPECT_EQ(index.find(icd, std::string(300, 'M')), 0u);  // longer than any code: no exact match, prefix ok
  EXPECT_EQ(index.find(icd, "M17" + std::string(40, '9')), 1u << 0);  // a prefix code, whatever the length
}

// Keys of 16 characters and more share the longest length class of the shape filter.
TEST(CodeIndex, LongCodes) {
  SystemTable systems;
  const int sct = systems.add_canonical("http://snomed.info/sct");
  systems.freeze();
  CodeTable a;
  a.add({sct, "1234567890123456789", false, true});
  a.add({sct, "9876543210987654", false, true});
  a.freeze();
  CodeIndex index;
  index.add(1, a);
  index.freeze();
  EXPECT_EQ(index.find(sct, "1234567890123456789"), 1u << 1);
  EXPECT_EQ(index.find(sct, "9876543210987654"), 1u << 1);
  EXPECT_EQ(index.find(sct, "12345678901234567"), 0u);
}

// Every code of every real value set, in several spellings, against CodeTable::contains.
TEST(CodeIndex, AgreesWithCodeTablesOnRealRuleData) {
  const auto& rs = rules_test::real_rules();
  std::vector<std::pair<int, std::string>> codings;
  for (const auto& v : rs.value_sets)
    for (const auto& e : v.codes.entries()) {
      std::string lower = e.code;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      for (const std::string& code : {e.code, lower, e.code + ".1", e.code.substr(0, e.code.size() - 1)})
        for (int system = SystemTable::unknown; system < 12; ++system) codings.emplace_back(system, code);
    }
  for (const auto& [system, code] : codings) {
    const CodeIndex::Mask mask = rs.code_index.find(system, code);
    for (std::size_t r = 0; r < rules::detail::kRoleCount; ++r)
      EXPECT_EQ((mask >> r) & 1u, rs.vs(static_cast<Role>(r)).codes.contains(system, code) ? 1u : 0u)
          << code << " system " << system << " role " << rules::detail::kRoleNames[r];
  }
}

}  // namespace
