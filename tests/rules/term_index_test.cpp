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

// candidate_lists() lets scan() be skipped for a list it leaves out: it may leave a list out
// only when scan() finds no term of it.
TEST(TermIndex, CandidateListsHoldEveryListTheScanFinds) {
  const auto& rs = rules_test::real_rules();
  const auto& index = rs.term_index;
  auto bit = [](Role r) { return TermIndex::list_bit(static_cast<std::size_t>(r)); };
  EXPECT_EQ(index.candidate_lists("Essential (primary) hypertension"), 0u);
  EXPECT_EQ(index.candidate_lists(""), 0u);
  EXPECT_NE(index.candidate_lists("AMNIOTIC membrane") & bit(Role::donor_derived), 0u);
  EXPECT_NE(index.candidate_lists("AmnioFix injection") & bit(Role::donor_derived), 0u);  // "amnio*"
  EXPECT_EQ(index.candidate_lists("Right knee") & bit(Role::kellgren_lawrence), 0u);
  EXPECT_NE(index.candidate_lists("Right knee") & bit(Role::knee_site), 0u);
  // A term of several words counts only where its second word follows, joined as matching wants.
  EXPECT_EQ(index.candidate_lists("Right knee pain") & bit(Role::knee_oa), 0u);
  EXPECT_EQ(index.candidate_lists("knee, osteoarthritis") & bit(Role::knee_oa), 0u);
  EXPECT_EQ(index.candidate_lists("knee  osteoarthritis") & bit(Role::knee_oa), 0u);
  EXPECT_NE(index.candidate_lists("Right knee osteoarthritis") & bit(Role::knee_oa), 0u);
  EXPECT_NE(index.candidate_lists("knee-OA") & bit(Role::knee_oa), 0u);
  EXPECT_NE(index.candidate_lists("KNEE\tOsteoarthritis") & bit(Role::knee_oa), 0u);
  // Non-ASCII text and apostrophes are left to the scan: every list.
  EXPECT_EQ(index.candidate_lists("Wharton\xE2\x80\x99s jelly"), TermIndex::kAllLists);
  EXPECT_EQ(index.candidate_lists("Wharton's jelly"), TermIndex::kAllLists);
  // Wherever the byte or the word falls: in the first 16 bytes, across 16- and 64-byte steps, in
  // the last, partly overlapping 16.
  for (std::size_t pad = 0; pad < 80; ++pad) {
    const std::string lead(pad, 'x');
    EXPECT_EQ(index.candidate_lists(lead + " Wharton's"), TermIndex::kAllLists) << pad;
    EXPECT_EQ(index.candidate_lists(lead + " caf\xC3\xA9 note"), TermIndex::kAllLists) << pad;
    EXPECT_NE(index.candidate_lists(lead + " amniotic") & bit(Role::donor_derived), 0u) << pad;
    EXPECT_NE(index.candidate_lists(lead + " amniotic, hypertension") & bit(Role::donor_derived), 0u) << pad;
    EXPECT_EQ(index.candidate_lists(lead + " xamniotic") & bit(Role::donor_derived), 0u) << pad;
    EXPECT_EQ(index.candidate_lists(lead + " essential hypertension"), 0u) << pad;
  }

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
      texts.push_back("no " + t.text + ", not " + t.text + "s");
      texts.push_back(t.text.substr(0, t.text.size() - 1));  // one letter short: no term, mostly
      texts.push_back(t.text + std::string(70, 'x'));         // a word longer than any key
      std::string spaced = t.text, hyphened = t.text;          // other gaps between its words
      for (char& c : spaced) c = c == ' ' ? '\t' : c;
      for (char& c : hyphened) c = c == ' ' ? '-' : c;
      texts.push_back(spaced);
      texts.push_back("x " + hyphened + "s");
    }
  std::size_t none = 0, some = 0, found = 0;
  std::vector<std::uint16_t> first(rules::detail::kRoleCount);
  for (const std::string& text : texts) {
    TokenizedText tokens(text);
    rs.term_index.scan(tokens.tokens(), rs.matcher, first);
    const TermIndex::ListMask lists = index.candidate_lists(text);
    none += lists == 0;
    some += lists != 0 && lists != TermIndex::kAllLists;
    for (std::size_t r = 0; r < rules::detail::kRoleCount; ++r) {
      if (first[r] == TermIndex::kNone) continue;
      ++found;
      EXPECT_NE(lists & TermIndex::list_bit(r), 0u) << text << " role " << rules::detail::kRoleNames[r];
    }
  }
  // The check is worth having: it rules every list out for many texts, and some lists for more.
  EXPECT_GT(none, texts.size() / 10);
  EXPECT_GT(some, texts.size() / 4);
  EXPECT_GT(found, texts.size() / 4);
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
