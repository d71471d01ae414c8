// TermIndex must give exactly the answer of TermMatcher::find (the straightforward reference:
// every term at every word) for every list: checked on hand-picked cases and on the real rule
// data against many texts.
#include "rules/detail/term_index.hpp"

#include "rules_test_support.hpp"

#include <gtest/gtest.h>

namespace {

using namespace rules::detail;
using rules_test::pat;
using rules_test::term;

TermMatcher matcher() {
  NegationRules n;
  for (auto cue : {"no", "not", "without", "free of"}) n.cues.push_back(NegationCue{pat(cue), 3});
  n.cues.push_back(NegationCue{pat("non"), 0});
  n.clause_breaks.push_back(pat("but"));
  return TermMatcher(std::move(n));
}

// The first term (by text) the index finds in `text` for each list, "" for none.
std::vector<std::string> indexed(const std::vector<std::vector<Term>>& lists, std::string_view text,
                                 const TermMatcher& m) {
  TermIndex index;
  for (const auto& l : lists) index.add_list(l);
  index.freeze();
  TokenizedText t(text);
  std::vector<std::uint16_t> first(lists.size());
  index.scan(t.tokens(), m, first);
  std::vector<std::string> out;
  for (std::size_t l = 0; l < lists.size(); ++l) out.push_back(first[l] == TermIndex::kNone ? "" : lists[l][first[l]].text);
  return out;
}

std::vector<std::string> reference(const std::vector<std::vector<Term>>& lists, std::string_view text,
                                   const TermMatcher& m) {
  TokenizedText t(text);
  std::vector<std::string> out;
  for (const auto& l : lists) {
    const Term* hit = m.find(t, l);
    out.push_back(hit ? hit->text : "");
  }
  return out;
}

TEST(TermIndex, FirstTermInListOrderPerList) {
  const std::vector<std::vector<Term>> lists{{term("umbilical"), term("msc")}, {term("msc"), term("umbilical")}, {}};
  EXPECT_EQ(indexed(lists, "umbilical cord MSC", matcher()), (std::vector<std::string>{"umbilical", "msc", ""}));
}

TEST(TermIndex, MultiWordOverlappingAndPrefixTerms) {
  const std::vector<std::vector<Term>> lists{
      {term("bone marrow aspirate"), term("bone marrow"), term("bone")},
      {term("amnio*"), term("amniotic fluid")},
      {term("stem cell*"), term("cell")},
      {term("platelet-rich plasma"), term("prp")},
  };
  const auto m = matcher();
  for (std::string_view text : {"Bone marrow aspirate concentrate", "bone-marrow", "bone, marrow aspirate",
                                "AMNIOTIC fluid", "preamnio fluid", "amnio", "Stem-Cells injection", "stem  cell",
                                "platelet rich plasma (PRP)", "non-amniotic; amniotic", "not bone marrow but bone",
                                "", "   ...   ", "Wharton\xE2\x80\x99s stem cell"}) {
    EXPECT_EQ(indexed(lists, text, m), reference(lists, text, m)) << text;
  }
  EXPECT_EQ(indexed(lists, "bone marrow aspirate", m)[0], "bone marrow aspirate");
  EXPECT_EQ(indexed(lists, "marrow, bone", m)[0], "bone");
  EXPECT_EQ(indexed(lists, "AmnioFix", m)[1], "amnio*");
  EXPECT_EQ(indexed(lists, "stem-cells", m)[2], "stem cell*");
}

TEST(TermIndex, NegationAndRequiresAny) {
  const std::vector<std::vector<Term>> lists{{term("allograft", {"cell", "stem", "flow*"}), term("tissue")}};
  const auto m = matcher();
  for (std::string_view text : {"hamstring allograft", "allograft flowable", "allograft, no stem", "allograft tissue",
                                "no allograft stem cells", "not tissue", "not tissue; tissue"}) {
    EXPECT_EQ(indexed(lists, text, m), reference(lists, text, m)) << text;
  }
  EXPECT_EQ(indexed(lists, "hamstring allograft tissue", m)[0], "tissue");
}

// Every term of every real value set, in every text the real terms and a few EHR phrasings make.
TEST(TermIndex, AgreesWithTheReferenceOnRealRuleData) {
  const auto& rs = rules_test::real_rules();
  std::vector<std::string> texts{"Amniotic membrane allograft flowable injection (\"stem cell\" injection), right knee",
                                 "Patient asks for a stem cell injection; not amniotic, autologous BMAC instead",
                                 "no PRP but hyaluronic acid", "KL grade 4, bone-on-bone", "Right knee pain NRS 7/10"};
  for (const auto& v : rs.value_sets)
    for (const auto& t : v.terms) {
      texts.push_back(t.text);
      texts.push_back("no " + t.text);
      texts.push_back("Left KNEE: " + t.text + " injection, series x3");
    }
  std::vector<std::uint16_t> first(rules::detail::kRoleCount);
  for (const std::string& text : texts) {
    TokenizedText tokens(text);
    rs.term_index.scan(tokens.tokens(), rs.matcher, first);
    for (std::size_t r = 0; r < rules::detail::kRoleCount; ++r) {
      const auto& terms = rs.vs(static_cast<Role>(r)).terms;
      const Term* want = rs.matcher.find(tokens, terms);
      const Term* got = first[r] == TermIndex::kNone ? nullptr : &terms[first[r]];
      EXPECT_EQ(got, want) << text << " role " << rules::detail::kRoleNames[r];
    }
  }
}

// Every string of a JSON document (the fixture requests' EHR texts).
void strings_of(const boost::json::value& v, std::vector<std::string>& out) {
  if (const auto* s = v.if_string()) out.emplace_back(*s);
  if (const auto* a = v.if_array())
    for (const auto& x : *a) strings_of(x, out);
  if (const auto* o = v.if_object())
    for (const auto& kv : *o) strings_of(kv.value(), out);
}

// may_occur() lets scan() be skipped: it may say "no term" only when scan() finds none.
TEST(TermIndex, MayOccurIsFalseOnlyWhenTheScanFindsNothing) {
  const auto& rs = rules_test::real_rules();
  const auto& index = rs.term_index;
  EXPECT_FALSE(index.may_occur("Essential (primary) hypertension"));
  EXPECT_FALSE(index.may_occur(""));
  EXPECT_TRUE(index.may_occur("AMNIOTIC membrane"));
  EXPECT_TRUE(index.may_occur("AmnioFix injection"));            // a word-prefix term ("amnio*")
  EXPECT_TRUE(index.may_occur("Wharton\xE2\x80\x99s jelly"));  // non-ASCII: left to the scan
  EXPECT_TRUE(index.may_occur("Wharton's jelly"));

  std::vector<std::string> texts;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(CDS_FIXTURES_DIR) / "requests"))
    strings_of(boost::json::parse(rules_test::read_file(e.path())), texts);
  strings_of(boost::json::parse(rules_test::read_file(std::filesystem::path(CDS_RULES_DIR).parent_path().parent_path() /
                                                      "bench" / "data" / "order-sign-60.json")),
             texts);
  for (const auto& v : rs.value_sets)
    for (const auto& t : v.terms) {
      texts.push_back(t.text);
      texts.push_back("Left KNEE: " + t.text + " injection");
      texts.push_back(t.text.substr(0, t.text.size() - 1));  // one letter short: no term, mostly
    }
  std::size_t skipped = 0, scanned = 0;
  std::vector<std::uint16_t> first(rules::detail::kRoleCount);
  for (const std::string& text : texts) {
    TokenizedText tokens(text);
    rs.term_index.scan(tokens.tokens(), rs.matcher, first);
    const bool found = std::any_of(first.begin(), first.end(), [](std::uint16_t t) { return t != TermIndex::kNone; });
    if (index.may_occur(text)) {
      ++scanned;
    } else {
      ++skipped;
      EXPECT_FALSE(found) << text;
    }
  }
  EXPECT_GT(skipped, texts.size() / 4);  // the check is worth having: it skips many texts
  EXPECT_GT(scanned, 0u);
}

TEST(TokenizedText, LongTextsSpillToTheHeapAndStillMatch) {
  std::string text;
  for (int i = 0; i < 400; ++i) text += "word ";
  text += "amniotic";
  TokenizedText t(text);
  ASSERT_EQ(t.tokens().size(), 401u);
  EXPECT_EQ(t.tokens().back().word, "amniotic");
  EXPECT_EQ(indexed({{term("amniotic")}}, text, matcher())[0], "amniotic");
}

}  // namespace
