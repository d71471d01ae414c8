// The audit's list columns (triggeredBy, override reasons, suggestion ids, codes): JSON arrays
// of strings, written without a tree and read back as they were.
#include "cds/audit/json_list.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace {

TEST(JsonList, WritesWhatBoostJsonWritesAndReadsItBack) {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"ServiceRequest/sr-1"},
      {"https://cds.example.org/override|patient-declined", "urn:oid:1.2|x"},
      {"quote \" backslash \\ newline \n tab \t", std::string("nul \0 byte", 10), "caf\xC3\xA9 \xE2\x80\xA6"},
      {std::string(1000, 'x'), ""},
  };
  for (const auto& items : cases) {
    boost::json::array a;
    for (const auto& s : items) a.emplace_back(s);
    const std::string text = cds::to_json_list(items);
    EXPECT_EQ(text, boost::json::serialize(a));
    EXPECT_EQ(cds::parse_json_list(text), items);
  }
}

TEST(JsonList, ReadsOnlyTheStringsOfAnArray) {
  EXPECT_TRUE(cds::parse_json_list("not json").empty());
  EXPECT_TRUE(cds::parse_json_list(R"({"a":"b"})").empty());
  EXPECT_EQ(cds::parse_json_list(R"(["a", 1, null, "b"])"), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
