// JsonText, the writer the engine's cards are written with: its bytes must be exactly what
// Boost.JSON's serializer writes for the same value (the response is compared byte for byte by
// the golden tests, and EHRs parse it with whatever JSON library they have).
#include "rules/detail/json_text.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <memory_resource>
#include <random>
#include <string>

namespace {

namespace json = boost::json;
using rules::detail::JsonText;
using rules::detail::unescaped_prefix;

std::string written(std::string_view s) {
  std::string out;
  JsonText<std::string>(out).string(s);
  return out;
}

TEST(JsonText, EveryByteValueIsWrittenAsBoostJsonWritesIt) {
  for (int c = 0; c < 256; ++c) {
    const std::string one(1, static_cast<char>(c));
    EXPECT_EQ(written(one), json::serialize(json::string_view(one))) << "byte " << c;
    // Also inside a run long enough for the 16-byte scan, at every offset of a block.
    for (std::size_t at = 0; at < 20; ++at) {
      std::string s(37, 'a');
      s[at] = static_cast<char>(c);
      ASSERT_EQ(written(s), json::serialize(json::string_view(s))) << "byte " << c << " at " << at;
    }
  }
}

TEST(JsonText, RandomTextWithEscapesMatchesBoostJson) {
  std::mt19937 rng(20261203);
  using namespace std::string_literals;
  const std::string alphabet = "abc xyz\n\t\r\"\\/{}\x01\x1f\x7f\0"s + "\xC3\xA9\xE2\x80\xA6";
  for (int round = 0; round < 2000; ++round) {
    std::string s(rng() % 200, ' ');
    for (char& ch : s) ch = alphabet[rng() % alphabet.size()];
    ASSERT_EQ(written(s), json::serialize(json::string_view(s))) << round;
  }
}

TEST(JsonText, UnescapedPrefixStopsAtTheFirstByteToEscape) {
  EXPECT_EQ(unescaped_prefix(""), 0u);
  EXPECT_EQ(unescaped_prefix("plain text, no escapes at all here"), 34u);
  EXPECT_EQ(unescaped_prefix(std::string(40, 'x') + "\n"), 40u);
  EXPECT_EQ(unescaped_prefix("\"quoted\""), 0u);
  EXPECT_EQ(unescaped_prefix(std::string(17, 'x') + "\\"), 17u);
  EXPECT_EQ(unescaped_prefix("caf\xC3\xA9 \x7f"), 7u);  // UTF-8 and DEL are written as they are
}

TEST(JsonText, NestedValuesMatchTheSerializedTree) {
  std::string out;
  JsonText<std::string> w(out);
  w.begin_array();
  w.begin_object().key("uuid").string("u-1").key("n").number(-42).key("yes").boolean(true);
  w.key("empty").begin_array().end_array();
  w.key("list").begin_array().string("a").number(7).boolean(false).begin_object().end_object().end_array();
  w.members(R"("pre":{"x":1},"post":[2])").members("");
  w.key("raw").raw(R"({"k":"v"})");
  w.key("note").string("line\nbreak \"quoted\"");
  w.end_object();
  w.begin_object().end_object();
  w.raw("3");
  w.end_array();

  const json::value tree = json::array{
      json::object{{"uuid", "u-1"},
                   {"n", -42},
                   {"yes", true},
                   {"empty", json::array()},
                   {"list", json::array{"a", 7, false, json::object()}},
                   {"pre", json::object{{"x", 1}}},
                   {"post", json::array{2}},
                   {"raw", json::object{{"k", "v"}}},
                   {"note", "line\nbreak \"quoted\""}},
      json::object(), 3};
  EXPECT_EQ(out, json::serialize(tree));
}

// Member names are written in one piece up to a length and in parts beyond it: both the same.
TEST(JsonText, MemberNamesOfEveryLengthMatchTheSerializedTree) {
  for (std::size_t n = 0; n <= 70; ++n) {
    const std::string name(n, 'k');
    std::string out;
    JsonText<std::string> w(out);
    w.begin_object().key(name).number(1).key("b" + name).begin_object().key(name).string("v").end_object().end_object();
    const json::value tree = json::object{{name, 1}, {"b" + name, json::object{{name, "v"}}}};
    EXPECT_EQ(out, json::serialize(tree)) << n;
  }
}

TEST(JsonText, HasItemsTellsWhetherTheOpenContainerHasAMember) {
  std::pmr::string out;
  JsonText<std::pmr::string> w(out);
  w.begin_object();
  EXPECT_FALSE(w.has_items());
  w.key("a").begin_array();
  EXPECT_FALSE(w.has_items());
  w.end_array();
  EXPECT_TRUE(w.has_items());
  w.end_object();
  EXPECT_EQ(out, R"({"a":[]})");
}

}  // namespace
