#include "rules/detail/term_matcher.hpp"

#include "rules/detail/context.hpp"
#include "rules_test_support.hpp"

#include <gtest/gtest.h>

namespace {

using namespace rules::detail;
using rules_test::pat;
using rules_test::term;

// NegEx's classic cues as ConText negation triggers: a scope of 4 words after the cue.
ContextRules negation() {
  ContextRules c;
  for (auto cue : {"no", "not", "without", "denies", "free of"})
    c.triggers.push_back(ContextTrigger{cue, pat(cue), Modifier::negated, Direction::forward, 4});
  c.triggers.push_back(ContextTrigger{"non", pat("non"), Modifier::negated, Direction::forward, 1});
  c.terminations.push_back(ContextTermination{"but", pat("but")});
  c.freeze();
  return c;
}

// The term text of the first match of `terms` in `text`, or "" when none matches.
std::string first_match(std::string_view text, std::vector<Term> terms) {
  TokenizedText t(text);
  negation().mark(t, {});
  const Term* hit = TermMatcher::find(t, terms);
  return hit ? hit->text : "";
}

bool matches(std::string_view text, std::string_view term_text) { return !first_match(text, {term(term_text)}).empty(); }

TEST(TermMatcher, WholeWordsOnly) {
  EXPECT_TRUE(matches("PRP injection", "prp"));
  EXPECT_FALSE(matches("uprprp", "prp"));
  EXPECT_FALSE(matches("prps", "prp"));
  EXPECT_FALSE(matches("pre-prp2", "prp"));
  EXPECT_TRUE(matches("(PRP)", "prp"));
  EXPECT_FALSE(matches("patient", "pt"));
  EXPECT_TRUE(matches("PT twice weekly", "pt"));
}

TEST(TermMatcher, CaseInsensitive) {
  EXPECT_TRUE(matches("AMNIOTIC Fluid", "amniotic"));
  EXPECT_TRUE(matches("Bone Marrow Aspirate", "bone marrow aspirate"));
}

TEST(TermMatcher, TrailingStarIsAWordPrefix) {
  EXPECT_TRUE(matches("AmnioFix injection", "amnio*"));
  EXPECT_TRUE(matches("amnio-derived", "amnio*"));
  EXPECT_FALSE(matches("preamnio", "amnio*"));
  EXPECT_TRUE(matches("exosomes", "exosome*"));
}

TEST(TermMatcher, MultiWordTermsMatchAcrossOneSpaceOrHyphen) {
  EXPECT_TRUE(matches("platelet-rich plasma", "platelet rich plasma"));
  EXPECT_TRUE(matches("platelet rich plasma", "platelet-rich plasma"));
  EXPECT_TRUE(matches("bone-on-bone", "bone on bone"));
  EXPECT_FALSE(matches("stem, cell", "stem cell"));
  EXPECT_FALSE(matches("stem  cell", "stem cell"));  // two spaces: not "one space"
  EXPECT_FALSE(matches("stem cells", "stem cell"));  // whole words: plurals are separate terms
}

// Decision: a hyphen is a word boundary, so "msc" matches "MSC-derived"; the donor value set
// lists "msc-derived" and donor wins over autologous in the same order.
TEST(TermMatcher, HyphenIsAWordBoundarySoMscMatchesMscDerived) {
  EXPECT_TRUE(matches("MSC-derived exosomes", "msc"));
  EXPECT_TRUE(matches("MSC-derived exosomes", "msc-derived"));
  EXPECT_TRUE(matches("msc derived", "msc-derived"));
}

TEST(TermMatcher, CurlyApostrophesAreNormalised) {
  EXPECT_TRUE(matches("Wharton\xE2\x80\x99s jelly", "wharton's jelly"));
  EXPECT_TRUE(matches("Wharton's jelly", "wharton\xE2\x80\x99s jelly"));
  EXPECT_TRUE(matches("WHARTON\xCA\xBCS JELLY", "wharton's jelly"));
  EXPECT_FALSE(matches("Whartons jelly", "wharton's jelly"));
}

TEST(TermMatcher, NegationCueWithinThreeWordsInTheSameClause) {
  EXPECT_FALSE(matches("not amniotic", "amniotic"));
  EXPECT_FALSE(matches("no stem cells", "stem cells"));
  EXPECT_FALSE(matches("PRP injection - no stem cells", "stem cells"));
  EXPECT_FALSE(matches("without any donor tissue", "donor"));
  EXPECT_FALSE(matches("patient is free of amniotic products", "amniotic"));
  EXPECT_FALSE(matches("no prior right knee amniotic", "amniotic"));      // three words between
  EXPECT_TRUE(matches("no prior right left knee amniotic", "amniotic"));  // four: out of scope
}

TEST(TermMatcher, NegationStopsAtPunctuationAndClauseBreakWords) {
  EXPECT_TRUE(matches("not amniotic; autologous bone marrow", "autologous"));
  EXPECT_TRUE(matches("no steroid. Amniotic injection", "amniotic"));
  EXPECT_TRUE(matches("no steroid, amniotic injection", "amniotic"));
  EXPECT_TRUE(matches("no steroid but amniotic", "amniotic"));
  EXPECT_TRUE(matches("no steroid\namniotic", "amniotic"));
}

TEST(TermMatcher, NonNegatesOnlyTheWordItIsAttachedTo) {
  EXPECT_FALSE(matches("non-amniotic", "amniotic"));
  EXPECT_TRUE(matches("non surgical amniotic injection", "amniotic"));
}

TEST(TermMatcher, ANegatedOccurrenceDoesNotHideALaterOne) {
  EXPECT_TRUE(matches("not amniotic fluid; amniotic membrane", "amniotic"));
}

TEST(TermMatcher, RequiresAnyNeedsACompanionWordInTheSameText) {
  const std::vector<Term> t{term("allograft", {"cell", "stem", "tissue", "flow*"})};
  EXPECT_EQ(first_match("ACL reconstruction with hamstring allograft", t), "");
  EXPECT_EQ(first_match("Amniotic membrane allograft flowable injection", t), "allograft");
  EXPECT_EQ(first_match("allograft stem cell product", t), "allograft");
  EXPECT_EQ(first_match("allograft, no stem", t), "");  // the companion is negated
}

TEST(TermMatcher, FindReturnsTheFirstTermInListOrder) {
  EXPECT_EQ(first_match("umbilical cord MSC", {term("umbilical"), term("msc")}), "umbilical");
  EXPECT_EQ(first_match("umbilical cord MSC", {term("msc"), term("umbilical")}), "msc");
}

TEST(TermMatcher, CompilePatternRejectsBadTerms) {
  std::string error;
  EXPECT_FALSE(compile_pattern("", error));
  EXPECT_FALSE(compile_pattern("   ", error));
  EXPECT_FALSE(compile_pattern("am*nio", error));
  EXPECT_FALSE(compile_pattern("stem, cell", error));
  EXPECT_FALSE(compile_pattern("stem *", error));
  EXPECT_TRUE(compile_pattern("wharton's jelly", error));
  EXPECT_TRUE(compile_pattern("0232T", error));
}

TEST(TermMatcher, NonAsciiLettersArePartOfWords) {
  EXPECT_FALSE(matches("pr\xC3\xA9prp", "prp"));
  EXPECT_TRUE(matches("caf\xC3\xA9 PRP", "prp"));
}

TEST(TermMatcher, RealRuleDataNegationTriggers) {
  const auto& rs = rules_test::real_rules();
  const auto& donor = rs.vs(rules::detail::Role::donor_derived).terms;
  TokenizedText a("Knee injection - not amniotic; autologous bone marrow aspirate concentrate");
  rs.context.mark(a, {});
  EXPECT_EQ(TermMatcher::find(a, donor), nullptr);
  TokenizedText b("Umbilical cord MSC injection, right knee");
  rs.context.mark(b, {});
  ASSERT_NE(TermMatcher::find(b, donor), nullptr);
}

}  // namespace
