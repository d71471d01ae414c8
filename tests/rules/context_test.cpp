// ConText on the real rule data: each modifier, the scope rules, and every family of order text
// that only mentions a product (which must not make the order that product), next to the terse
// real orders that must still be taken for it.
#include "rules/detail/context.hpp"

#include "rules_test_support.hpp"

#include <gtest/gtest.h>

namespace {

using namespace rules::detail;

constexpr Today kToday{2026, 11};

// The modifiers on the first word of `word` in `text`, as names joined by '+' ("" for none).
std::string modifiers_of(std::string_view text, std::string_view word, Today today = kToday) {
  TokenizedText t(text);
  rules_test::real_rules().context.mark(t, today);
  for (const Token& tok : t.tokens())
    if (tok.word == word) {
      std::string out;
      for (std::size_t m = 0; m < kModifierCount; ++m)
        if (tok.modifiers & modifier_bit(static_cast<Modifier>(m))) out += (out.empty() ? "" : "+") + std::string(kModifierNames[m]);
      return out;
    }
  ADD_FAILURE() << "no word " << word << " in " << text;
  return "?";
}

// The first donor-derived (or autologous) term asserted currently in the text, or "".
std::string current(std::string_view text, Role role = Role::donor_derived) {
  TokenizedText t(text);
  const auto& rs = rules_test::real_rules();
  rs.context.mark(t, kToday);
  const Term* hit = TermMatcher::find(t, rs.vs(role).terms);
  return hit ? hit->text : "";
}

TEST(ConText, Negated) {
  EXPECT_EQ(modifiers_of("patient declined amniotic injection", "amniotic"), "negated");
  EXPECT_EQ(modifiers_of("patient refused stem cell injection", "stem"), "negated");
  EXPECT_EQ(modifiers_of("not interested in exosome therapy", "exosome"), "negated+hypothetical");
  EXPECT_EQ(modifiers_of("avoid donor stem cell products per patient", "donor"), "negated");
  EXPECT_EQ(modifiers_of("amniotic injection denied by insurance", "amniotic"), "negated");
  EXPECT_EQ(modifiers_of("non-amniotic", "amniotic"), "negated");
}

TEST(ConText, Historical) {
  EXPECT_EQ(modifiers_of("prior amniotic injection failed", "amniotic"), "historical");
  EXPECT_EQ(modifiers_of("history of Wharton's jelly injection", "wharton's"), "historical");
  EXPECT_EQ(modifiers_of("s/p exosome injection", "exosome"), "historical");
  EXPECT_EQ(modifiers_of("status post placental injection", "placental"), "historical");
  EXPECT_EQ(modifiers_of("had amniotic injection last year", "amniotic"), "historical");
  EXPECT_EQ(modifiers_of("umbilical cord MSC injection elsewhere", "umbilical"), "historical");
  EXPECT_EQ(modifiers_of("amniotic injection 2 years ago", "amniotic"), "historical");
}

TEST(ConText, Hypothetical) {
  EXPECT_EQ(modifiers_of("discussed amniotic injection", "amniotic"), "hypothetical");
  EXPECT_EQ(modifiers_of("patient asks about umbilical cord stem cells", "umbilical"), "hypothetical");
  EXPECT_EQ(modifiers_of("counselled on placental products", "placental"), "hypothetical");
  EXPECT_EQ(modifiers_of("second opinion on exosome therapy", "exosome"), "hypothetical");
  EXPECT_EQ(modifiers_of("amniotic injection offered elsewhere", "amniotic"), "historical+hypothetical");
  EXPECT_EQ(modifiers_of("r/o infection", "infection"), "hypothetical");
  EXPECT_EQ(modifiers_of("rule out infection", "infection"), "hypothetical");
  EXPECT_EQ(modifiers_of("evaluate after amniotic injection", "amniotic"), "hypothetical");
}

TEST(ConText, Experiencer) {
  EXPECT_EQ(modifiers_of("wife had amniotic injection", "amniotic"), "historical+experiencer");
  EXPECT_EQ(modifiers_of("mother received umbilical cord cells", "umbilical"), "historical+experiencer");
  EXPECT_EQ(modifiers_of("friend recommends exosome injection", "exosome"), "experiencer");
  // "patient" ends someone else's scope: what follows is about the patient again.
  EXPECT_EQ(modifiers_of("friend recommends patient amniotic injection", "amniotic"), "");
}

TEST(ConText, ScopeEndsAtAClauseBoundaryOrATermination) {
  EXPECT_EQ(modifiers_of("declined steroid; amniotic injection", "amniotic"), "");
  EXPECT_EQ(modifiers_of("declined steroid. Amniotic injection", "amniotic"), "");
  EXPECT_EQ(modifiers_of("declined steroid, amniotic injection", "amniotic"), "");
  EXPECT_EQ(modifiers_of("declined steroid but amniotic injection", "amniotic"), "");
  EXPECT_EQ(modifiers_of("prior steroid now amniotic injection", "amniotic"), "");
  // The scope is counted in words: the 4-word negation scope ends before the sixth word.
  EXPECT_EQ(modifiers_of("no prior right knee amniotic", "amniotic"), "negated+historical");
  EXPECT_EQ(modifiers_of("no one two three four amniotic", "amniotic"), "");
  // Before the trigger is outside a forward scope.
  EXPECT_EQ(modifiers_of("hyaluronic acid injection; prior amniotic", "hyaluronic"), "");
  EXPECT_EQ(modifiers_of("hyaluronic acid - prior amniotic", "hyaluronic"), "");
}

TEST(ConText, PseudoTriggersStartNoScope) {
  EXPECT_EQ(modifiers_of("prior to amniotic injection aspirate the effusion", "amniotic"), "");
  EXPECT_EQ(modifiers_of("prior authorization for amniotic injection", "amniotic"), "");
  EXPECT_EQ(modifiers_of("history and physical, amniotic injection", "amniotic"), "");
}

TEST(ConText, PastDatesAreHistorical) {
  EXPECT_EQ(modifiers_of("amniotic injection 2023", "amniotic"), "historical");
  EXPECT_EQ(modifiers_of("amniotic injection 3/2026", "amniotic"), "historical");
  EXPECT_EQ(modifiers_of("amniotic injection 3/15/2026", "amniotic"), "historical");
  EXPECT_EQ(modifiers_of("amniotic injection 2026-03", "amniotic"), "historical");
  EXPECT_EQ(modifiers_of("amniotic injection 12/2026", "amniotic"), "");  // later this year
  EXPECT_EQ(modifiers_of("amniotic injection 2027", "amniotic"), "");
  EXPECT_EQ(modifiers_of("amniotic injection 2023", "amniotic", Today{}), "");  // no clock: no past
  // A date's scope is 4 words: a real order that names an old procedure after it stays an order.
  EXPECT_EQ(modifiers_of("Amniotic inj R knee, s/p scope 2019", "amniotic"), "");
  EXPECT_EQ(modifiers_of("Amniotic R knee s/p scope 2019", "amniotic"), "");
}

// The families of order text that only mention a donor-derived or cell product.
TEST(ConText, MentionsAreNotOrders) {
  for (std::string_view text : {
           "Hyaluronic acid injection R knee - prior amniotic injection 2023 failed",
           "patient declined amniotic injection; hyaluronic acid injection",
           "history of Wharton's jelly injection",
           "r/o AVN after umbilical cord MSC injection elsewhere",
           "s/p exosome injection at outside clinic",
           "avoid donor stem cell products per patient",
           "Triamcinolone 40 mg R knee, patient refused stem cell injection",
           "Discussed amniotic and placental injections; not offered",
           "Patient asks about umbilical cord stem cells",
           "amniotic injection denied by insurance",
           "Wife had Wharton's jelly injection at another clinic",
           "second opinion on exosome therapy offered elsewhere",
           "counselled on placental tissue products, declined",
       }) {
    EXPECT_EQ(current(text), "") << text;
    EXPECT_EQ(current(text, Role::autologous_cell), "") << text;
  }
}

TEST(ConText, TerseRealOrdersStayOrders) {
  EXPECT_EQ(current("AMNIOTIC FLUID INJ 2CC R KNEE"), "amniotic");
  EXPECT_EQ(current("Inj amniotic membrane allograft L knee"), "amniotic");
  EXPECT_NE(current("umbilical cord derived MSC inj - R knee"), "");
  EXPECT_NE(current("Wharton's jelly 1 mL intra-articular, right knee"), "");
  EXPECT_EQ(current("BMAC inj R knee", Role::autologous_cell), "bmac");
  EXPECT_NE(current("Bone marrow aspirate concentrate injection, left knee, after ultrasound guidance", Role::autologous_cell), "");
}

}  // namespace
