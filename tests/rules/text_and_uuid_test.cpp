#include "rules/detail/text_template.hpp"
#include "rules/detail/uuid.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

namespace {

using namespace rules::detail;

TEST(Uuid, Version5KnownVector) {
  // Python: uuid.uuid5(uuid.NAMESPACE_URL, "https://cds.example.org/x")
  EXPECT_EQ(uuid_v5("https://cds.example.org/x"), "a25322ca-7fc8-5521-9bb3-caca55c0d029");
}

// The SHA-1 behind the ids is our own: check names that fill a block to the padding edge (55
// bytes) and names longer than one 64-byte block, and that parts join with '/'.
TEST(Uuid, Version5KnownVectorsAcrossSha1Blocks) {
  EXPECT_EQ(uuid_v5(std::string(55, 'x')), "d7c769b2-da3b-59fa-bdd6-2f3e8c5ed303");
  EXPECT_EQ(uuid_v5(std::string(39, 'y')), "ab563a2f-14fe-5c07-839a-ef104ca79a62");  // 55 bytes hashed
  EXPECT_EQ(uuid_v5(std::string(40, 'y')), "f7eec5b5-5301-5fa6-8ce1-67e3c4d8922f");  // 56 bytes hashed
  EXPECT_EQ(uuid_v5(std::string(47, 'y')), "aa3009c2-ed42-5a51-b6a6-9e34586a8a02");  // 63 bytes hashed
  EXPECT_EQ(uuid_v5(std::string(48, 'y')), "05ab2543-07ee-52ef-b4b9-79e2a8372323");  // 64 bytes hashed
  EXPECT_EQ(uuid_v5(std::string(103, 'y')), "8aef36eb-014e-505f-841c-04cd5f20719b");  // 119 bytes hashed
  EXPECT_EQ(uuid_v5(std::string(104, 'y')), "f9083eab-8acd-5fe5-9568-a9e3d51c4934");  // 120 bytes hashed
  Sha1 sha(fetch_sha1().get());
  const UuidText u = sha.uuid_v5_of_parts({"seed-1", "whole-joint-plan",
                                       "ServiceRequest/sr-amnio-1,MedicationRequest/mr-bmac-2,ServiceRequest/"
                                       "a-very-long-identifier-to-cross-the-sixty-four-byte-block",
                                       "order"});
  EXPECT_EQ(std::string_view(u.data(), u.size()), "0607baad-df74-5bda-88de-d80eda60801a");
  const UuidText ab = sha.uuid_v5_of_parts({"a", "b"});
  EXPECT_EQ(std::string_view(ab.data(), ab.size()), uuid_v5("a/b"));
}

TEST(Uuid, DeterministicAndDistinct) {
  EXPECT_EQ(uuid_v5("a/b"), uuid_v5("a/b"));
  EXPECT_NE(uuid_v5("a/b"), uuid_v5("a/c"));
  const std::string u = uuid_v5("seed/rule/ServiceRequest/x");
  ASSERT_EQ(u.size(), 36u);
  EXPECT_EQ(u[14], '5');
  EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b');
}

TEST(Uuid, Version7CarriesTheMillisecondsThenTheNamesHash) {
  Sha1 sha(fetch_sha1().get());
  // 2026-11-25T12:00:00.123Z = 1 795 608 000 123 ms = 0x01a2 1293 b67b.
  constexpr std::uint64_t ms = 1795608000123ULL;
  const UuidText u7 = sha.uuid_v7_of_parts(ms, {"seed-1", "whole-joint-plan", "ServiceRequest/sr-1"});
  const std::string s7(u7.data(), u7.size());
  EXPECT_EQ(s7.substr(0, 13), "01a21293-b67b");  // unix_ts_ms, big-endian (RFC 9562 §5.7)
  EXPECT_EQ(s7[14], '7');                        // version
  EXPECT_TRUE(s7[19] == '8' || s7[19] == '9' || s7[19] == 'a' || s7[19] == 'b') << s7;  // variant
  // The rest is the name's SHA-1, as in the version 5 id of the same name.
  const UuidText u5 = sha.uuid_v5_of_parts({"seed-1", "whole-joint-plan", "ServiceRequest/sr-1"});
  const std::string s5(u5.data(), u5.size());
  EXPECT_EQ(s7.substr(15), s5.substr(15));
  // Deterministic for the same time and name; another name or time, another id.
  EXPECT_EQ(sha.uuid_v7_of_parts(ms, {"seed-1", "whole-joint-plan", "ServiceRequest/sr-1"}), u7);
  EXPECT_NE(sha.uuid_v7_of_parts(ms, {"seed-2", "whole-joint-plan", "ServiceRequest/sr-1"}), u7);
  EXPECT_NE(sha.uuid_v7_of_parts(ms + 1, {"seed-1", "whole-joint-plan", "ServiceRequest/sr-1"}), u7);
}

TEST(Uuid, Version7IdsSortByTheirTimeWhateverTheirNames) {
  Sha1 sha(fetch_sha1().get());
  std::string previous;
  for (std::uint64_t ms = 1795608000000ULL; ms < 1795608000000ULL + 2000; ms += 7) {
    const std::string name = "seed-" + std::to_string(ms * 2654435761u % 1000);  // names in no order
    const UuidText u = sha.uuid_v7_of_parts(ms, {name, "donor-derived-product"});
    const std::string s(u.data(), u.size());
    EXPECT_LT(previous, s) << "at " << ms;
    previous = s;
  }
}

TEST(TextTemplate, SubstitutesOnceAndLeavesValuesAlone) {
  EXPECT_EQ(render("Order {{ref}}: {{text}}.", {{"ref", "ServiceRequest/1"}, {"text", "{{ref}}"}}),
            "Order ServiceRequest/1: {{ref}}.");
  EXPECT_EQ(render("{{a}}{{a}}", {{"a", "x"}}), "xx");
  EXPECT_EQ(render("no placeholders", {}), "no placeholders");
}

// A compiled template writes exactly the JSON escape of what render() writes, whatever is in
// the template's own text and in the values: quotes, backslashes, line breaks, controls,
// UTF-8, braces that are not placeholders, and an unclosed "{{".
std::string escaped(std::string_view s) {
  std::string out;
  escape_to(out, s);
  return out;
}

TEST(JsonTemplate, RendersTheEscapeOfWhatRenderWrites) {
  const std::string_view templates[] = {
      "",
      "plain",
      "Order {{ref}}: {{text}}.",
      "line \"one\"\n- {{a}}\t{{b}}\\end\x01",
      "{{a}}{{a}}{{missing}}",
      "caf\xC3\xA9 {{a}} \xE2\x80\xA6 { } }} {x}",
      "unclosed {{a}} then {{b and the rest\n",
      "{{}} empty name, {{a}}",
  };
  const std::string_view values[] = {"", "x", "ServiceRequest/1", "\"quoted\"\n\\", "{{a}}", "\x1f\x7f caf\xC3\xA9"};
  for (std::string_view t : templates)
    for (std::string_view a : values)
      for (std::string_view b : values) {
        const JsonTemplate compiled(t);
        std::string out = "kept ";  // rendering appends
        compiled.render_to(out, {{"a", a}, {"b", b}});
        EXPECT_EQ(out, "kept " + escaped(render(t, {{"a", a}, {"b", b}}))) << t << " / " << a << " / " << b;
        // Filling one placeholder at load and the other later writes the same.
        std::string later;
        compiled.with({{"a", a}}).render_to(later, {{"b", b}, {"a", "not used: a is filled in"}});
        EXPECT_EQ(later, escaped(render(t, {{"a", a}, {"b", b}}))) << t << " / " << a << " / " << b;
      }
}

TEST(JsonTemplate, EscapedValuesGoInAsTheyAre) {
  const JsonTemplate t("Plan:\n{{plan}}\n{{note}}");
  std::string out;
  t.render_to(out, {{"plan", "- one\\n- \\\"two\\\"", true}, {"note", "a \"b\""}});
  EXPECT_EQ(out, "Plan:\\n- one\\n- \\\"two\\\"\\na \\\"b\\\"");
  EXPECT_EQ(t.literal_size(), escaped("Plan:\n\n").size());
  std::string filled;
  t.with({{"plan", "- one\\n- \\\"two\\\"", true}}).render_to(filled, {{"note", "a \"b\""}});
  EXPECT_EQ(filled, out);
}

TEST(TextTemplate, PlaceholderNames) {
  std::vector<std::string_view> names;
  EXPECT_TRUE(placeholder_names("{{a}} and {{bc}}", names));
  EXPECT_EQ(names, (std::vector<std::string_view>{"a", "bc"}));
  EXPECT_FALSE(placeholder_names("{{open", names));
}

TEST(TextTemplate, MarkdownTextEscapesLinksAndHtml) {
  EXPECT_EQ(markdown_text("[click](http://evil)"), "\\[click\\]\\(http://evil\\)");
  EXPECT_EQ(markdown_text("<script>"), "\\<script\\>");
  EXPECT_EQ(markdown_text("line1\nline2"), "line1 line2");
}

// Escaping appends plain runs whole: the control-character and escape rules still apply at
// run boundaries, at the start, and after text already in the output.
TEST(TextTemplate, MarkdownTextRunsAndControlCharacters) {
  EXPECT_EQ(markdown_text("a \r\nb"), "a b");
  EXPECT_EQ(markdown_text("\t\tx"), " x");
  EXPECT_EQ(markdown_text("x\n"), "x ");
  EXPECT_EQ(markdown_text("**bold**_"), "\\*\\*bold\\*\\*\\_");
  EXPECT_EQ(markdown_text(""), "");
  std::string out = "prefix ";
  markdown_text_to(out, "\nnext|");
  EXPECT_EQ(out, "prefix  next\\|");  // a control character at the start of a part is a space
}

TEST(TextTemplate, ShortenStaysUnderTheLimitInCodePoints) {
  const std::string long_text(200, 'x');
  const std::string s = shorten(long_text, 140);
  std::size_t cps = 0;
  for (char c : s) cps += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  EXPECT_LT(cps, 140u);
  EXPECT_EQ(shorten("short", 140), "short");
}

TEST(TextTemplate, FormatNumberAndDate) {
  EXPECT_EQ(format_number(7), "7");
  EXPECT_EQ(format_number(4.14), "4.1");
  // As printf("%.1f") and printf("%lld") had it: the exact binary value rounded, signs kept.
  EXPECT_EQ(format_number(0.25), "0.2");  // 0.25 is exact: to even
  EXPECT_EQ(format_number(0.35), "0.3");  // 0.35 is 0.34999...
  EXPECT_EQ(format_number(-2.75), "-2.8");
  EXPECT_EQ(format_number(-0.04), "-0.0");
  EXPECT_EQ(format_number(12.0000000001), "12");
  EXPECT_EQ(format_number(1e15), "1000000000000000");
  EXPECT_EQ(format_number(123456.78), "123456.8");
  auto printf_reference = [](double v) {
    char buf[64];
    if (std::fabs(v - std::round(v)) < 1e-9) std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(std::llround(v)));
    else std::snprintf(buf, sizeof buf, "%.1f", v);
    return std::string(buf);
  };
  for (int i = -3000; i <= 3000; ++i)
    for (double v : {i * 0.05, i * 0.01, i / 3.0, i * 1.25 + 0.049999, i * 7.5})
      EXPECT_EQ(format_number(v), printf_reference(v)) << v;
  EXPECT_EQ(format_date(0), "1970-01-01");
}

}  // namespace
