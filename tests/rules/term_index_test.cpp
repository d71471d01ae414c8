// TermIndex must give exactly the answer of TermMatcher::find (the straightforward reference:
// every term at every word) for every list: checked on hand-picked cases and on the real rule
// data against many texts.
#include "rules/detail/term_index.hpp"

#include "rules/detail/context.hpp"
#include "rules_test_support.hpp"

#include <gtest/gtest.h>

namespace {

using namespace rules::detail;
using rules_test::pat;
using rules_test::term;

// Negation and history triggers, enough to tell "current" from "ever" apart.
ContextRules matcher() {
  ContextRules c;
  for (auto cue : {"no", "not", "without", "free of"})
    c.triggers.push_back(ContextTrigger{cue, pat(cue), Modifier::negated, Direction::forward, 4});
  c.triggers.push_back(ContextTrigger{"non", pat("non"), Modifier::negated, Direction::forward, 1});
  c.triggers.push_back(ContextTrigger{"prior", pat("prior"), Modifier::historical, Direction::forward, 5});
  c.terminations.push_back(ContextTermination{"but", pat("but")});
  c.freeze();
  return c;
}

constexpr ModifierMask kHistorical = modifier_bit(Modifier::historical);

struct Lists {
  std::vector<std::string> current, ever;
  bool operator==(const Lists&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Lists& l) {
  for (const auto& s : l.current) os << "[" << s << "]";
  os << " / ";
  for (const auto& s : l.ever) os << "[" << s << "]";
  return os;
}

// The first term (by text) the index finds in `text` for each list, "" for none.
Lists indexed(const std::vector<std::vector<Term>>& lists, std::string_view text, const ContextRules& m) {
  TermIndex index;
  for (const auto& l : lists) index.add_list(l);
  index.freeze();
  TokenizedText t(text);
  m.mark(t, {});
  std::vector<std::uint16_t> current(lists.size()), ever(lists.size());
  std::vector<std::uint8_t> clause(lists.size());
  index.scan(t.tokens(), TermIndex::Found{current, ever, clause});
  Lists out;
  for (std::size_t l = 0; l < lists.size(); ++l) {
    out.current.push_back(current[l] == TermIndex::kNone ? "" : lists[l][current[l]].text);
    out.ever.push_back(ever[l] == TermIndex::kNone ? "" : lists[l][ever[l]].text);
  }
  return out;
}

Lists reference(const std::vector<std::vector<Term>>& lists, std::string_view text, const ContextRules& m) {
  TokenizedText t(text);
  m.mark(t, {});
  Lists out;
  for (const auto& l : lists) {
    const Term* hit = TermMatcher::find(t, l);
    out.current.push_back(hit ? hit->text : "");
    hit = TermMatcher::find(t, l, kHistorical);
    out.ever.push_back(hit ? hit->text : "");
  }
  return out;
}

TEST(TermIndex, FirstTermInListOrderPerList) {
  const std::vector<std::vector<Term>> lists{{term("umbilical"), term("msc")}, {term("msc"), term("umbilical")}, {}};
  EXPECT_EQ(indexed(lists, "umbilical cord MSC", matcher()).current, (std::vector<std::string>{"umbilical", "msc", ""}));
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
  EXPECT_EQ(indexed(lists, "bone marrow aspirate", m).current[0], "bone marrow aspirate");
  EXPECT_EQ(indexed(lists, "marrow, bone", m).current[0], "bone");
  EXPECT_EQ(indexed(lists, "AmnioFix", m).current[1], "amnio*");
  EXPECT_EQ(indexed(lists, "stem-cells", m).current[2], "stem cell*");
}

TEST(TermIndex, NegationAndRequiresAny) {
  const std::vector<std::vector<Term>> lists{{term("allograft", {"cell", "stem", "flow*"}), term("tissue")}};
  const auto m = matcher();
  for (std::string_view text : {"hamstring allograft", "allograft flowable", "allograft, no stem", "allograft tissue",
                                "no allograft stem cells", "not tissue", "not tissue; tissue", "prior allograft stem cells",
                                "allograft, prior stem cells", "prior tissue; allograft flow", "tissue, prior allograft cell"}) {
    EXPECT_EQ(indexed(lists, text, m), reference(lists, text, m)) << text;
  }
  EXPECT_EQ(indexed(lists, "hamstring allograft tissue", m).current[0], "tissue");
  EXPECT_EQ(indexed(lists, "prior tissue", m).current[0], "");
  EXPECT_EQ(indexed(lists, "prior tissue", m).ever[0], "tissue");
}

// The clause of the earliest current mention, per list: what an order's text is for.
TEST(TermIndex, ClauseOfTheFirstCurrentMention) {
  const std::vector<std::vector<Term>> lists{{term("amniotic")}, {term("hyaluronic acid")}};
  TermIndex index;
  for (const auto& l : lists) index.add_list(l);
  index.freeze();
  auto clauses = [&](std::string_view text) {
    TokenizedText t(text);
    matcher().mark(t, {});
    std::vector<std::uint16_t> current(2), ever(2);
    std::vector<std::uint8_t> clause(2);
    index.scan(t.tokens(), TermIndex::Found{current, ever, clause});
    return std::vector<int>{clause[0], clause[1]};
  };
  EXPECT_EQ(clauses("Hyaluronic acid inj; amniotic"), (std::vector<int>{1, 0}));
  EXPECT_EQ(clauses("not amniotic; hyaluronic acid. amniotic"), (std::vector<int>{2, 1}));
  EXPECT_EQ(clauses("prior amniotic"), (std::vector<int>{TermIndex::kNoClause, TermIndex::kNoClause}));
}

// Every term of every real value set, in every text the real terms and a few EHR phrasings make.
TEST(TermIndex, AgreesWithTheReferenceOnRealRuleData) {
  const auto& rs = rules_test::real_rules();
  std::vector<std::string> texts{"Amniotic membrane allograft flowable injection (\"stem cell\" injection), right knee",
                                 "Patient asks for a stem cell injection; not amniotic, autologous BMAC instead",
                                 "no PRP but hyaluronic acid", "KL grade 4, bone-on-bone", "Right knee pain NRS 7/10",
                                 "Hyaluronic acid inj R knee - prior amniotic injection 2023 failed",
                                 "s/p exosome injection at outside clinic; triamcinolone 40 mg R knee"};
  for (const auto& v : rs.value_sets)
    for (const auto& t : v.terms) {
      texts.push_back(t.text);
      texts.push_back("no " + t.text);
      texts.push_back("history of " + t.text + ", " + t.text + " now");
      texts.push_back("Left KNEE: " + t.text + " injection, series x3");
    }
  std::vector<std::uint16_t> current(rules::detail::kRoleCount), ever(rules::detail::kRoleCount);
  std::vector<std::uint8_t> clause(rules::detail::kRoleCount);
  for (const std::string& text : texts) {
    TokenizedText tokens(text);
    rs.context.mark(tokens, {2026, 11});
    rs.term_index.scan(tokens.tokens(), TermIndex::Found{current, ever, clause});
    for (std::size_t r = 0; r < rules::detail::kRoleCount; ++r) {
      const auto& terms = rs.vs(static_cast<Role>(r)).terms;
      const Term* want = TermMatcher::find(tokens, terms);
      const Term* got = current[r] == TermIndex::kNone ? nullptr : &terms[current[r]];
      EXPECT_EQ(got, want) << text << " role " << rules::detail::kRoleNames[r];
      want = TermMatcher::find(tokens, terms, kHistorical);
      got = ever[r] == TermIndex::kNone ? nullptr : &terms[ever[r]];
      EXPECT_EQ(got, want) << text << " role " << rules::detail::kRoleNames[r] << " (ever)";
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
  std::vector<std::uint16_t> first(rules::detail::kRoleCount), ever(rules::detail::kRoleCount);
  std::vector<std::uint8_t> clause(rules::detail::kRoleCount);
  for (const std::string& text : texts) {
    TokenizedText tokens(text);
    rs.context.mark(tokens, {});
    rs.term_index.scan(tokens.tokens(), TermIndex::Found{first, ever, clause});
    const TermIndex::ListMask lists = index.candidate_lists(text);
    none += lists == 0;
    some += lists != 0 && lists != TermIndex::kAllLists;
    for (std::size_t r = 0; r < rules::detail::kRoleCount; ++r) {
      if (first[r] == TermIndex::kNone && ever[r] == TermIndex::kNone) continue;
      ++found;
      EXPECT_NE(lists & TermIndex::list_bit(r), 0u) << text << " role " << rules::detail::kRoleNames[r];
    }
  }
  // The check is worth having: it rules every list out for many texts, and some lists for more.
  EXPECT_GT(none, texts.size() / 10);
  EXPECT_GT(some, texts.size() / 5);
  EXPECT_GT(found, texts.size() / 4);
}

TEST(TokenizedText, LongTextsSpillToTheHeapAndStillMatch) {
  std::string text;
  for (int i = 0; i < 400; ++i) text += "word ";
  text += "amniotic";
  TokenizedText t(text);
  ASSERT_EQ(t.tokens().size(), 401u);
  EXPECT_EQ(t.tokens().back().word, "amniotic");
  EXPECT_EQ(indexed({{term("amniotic")}}, text, matcher()).current[0], "amniotic");
}

}  // namespace
