#include "rules_test_support.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace {

namespace json = boost::json;

std::vector<rules::RuleFile> with_edit(std::string_view file, const std::function<void(json::object&)>& edit) {
  auto files = rules_test::rule_files();
  for (auto& f : files)
    if (f.name == file) {
      json::value v = json::parse(f.content);
      edit(v.as_object());
      f.content = json::serialize(v);
      return files;
    }
  throw std::runtime_error("no rule file " + std::string(file));
}

rules::LoadError expect_error(const std::vector<rules::RuleFile>& files) {
  auto loaded = rules::load_rule_set(files);
  if (auto* err = std::get_if<rules::LoadError>(&loaded)) return *err;
  ADD_FAILURE() << "expected a LoadError";
  return {};
}

std::string version(const std::vector<rules::RuleFile>& files) {
  auto loaded = rules::load_rule_set(files);
  if (auto* err = std::get_if<rules::LoadError>(&loaded)) {
    ADD_FAILURE() << err->file << ": " << err->message;
    return {};
  }
  return std::string(rules::version_of(*std::get<std::shared_ptr<const rules::RuleSet>>(loaded)));
}

using ::testing::HasSubstr;

TEST(RuleSetLoader, RealRulesLoad) {
  const auto& rs = rules_test::real_rules();
  EXPECT_EQ(rs.version.rfind("sha256:", 0), 0u);
  EXPECT_EQ(rs.version.size(), 7u + 64u);
  EXPECT_GE(rs.value_sets.size(), 16u);
}

TEST(RuleSetLoader, AliasesFoldOntoTheCanonicalSystem) {
  const auto& rs = rules_test::real_rules();
  EXPECT_EQ(rs.systems.find("http://hl7.org/fhir/sid/icd-10"), rs.systems.find("http://hl7.org/fhir/sid/icd-10-cm"));
  EXPECT_EQ(rs.systems.find("urn:oid:2.16.840.1.113883.6.285"),
            rs.systems.find("https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"));
  EXPECT_NE(rs.systems.find("http://loinc.org"), rules::detail::SystemTable::unknown);
  EXPECT_EQ(rs.systems.find("http://example.org/unknown"), rules::detail::SystemTable::unknown);
  const auto& oa = rs.vs(rules::detail::Role::knee_oa).codes;
  EXPECT_TRUE(oa.contains(rs.systems.find("http://hl7.org/fhir/sid/icd-10"), "M17.11"));
  EXPECT_TRUE(oa.contains(rs.systems.find("http://hl7.org/fhir/sid/icd-10-cm"), "m17.9"));
  EXPECT_FALSE(oa.contains(rs.systems.find("http://hl7.org/fhir/sid/icd-10-cm"), "M16.1"));
  const auto& donor = rs.vs(rules::detail::Role::donor_derived).codes;
  EXPECT_TRUE(donor.contains(rs.systems.find("urn:oid:2.16.840.1.113883.6.285"), "Q4206"));
  EXPECT_FALSE(donor.contains(rs.systems.find("urn:oid:2.16.840.1.113883.6.285"), "Q420"));  // exact, not prefix
}

TEST(RuleSetLoader, MissingValueSetReferencedByKneeOa) {
  auto files = rules_test::rule_files();
  std::erase_if(files, [](const auto& f) { return f.name == "valuesets/prp.json"; });
  auto err = expect_error(files);
  EXPECT_EQ(err.file, "knee-oa.json");
  EXPECT_THAT(err.message, HasSubstr("valueSets.prp"));
  EXPECT_THAT(err.message, HasSubstr("\"prp\" not found"));
}

TEST(RuleSetLoader, BadMatchValue) {
  auto err = expect_error(with_edit("valuesets/prp.json", [](json::object& o) {
    o["codes"].as_array()[0].as_object()["match"] = "fuzzy";
  }));
  EXPECT_EQ(err.file, "valuesets/prp.json");
  EXPECT_THAT(err.message, HasSubstr("codes[0].match"));
  EXPECT_THAT(err.message, HasSubstr("fuzzy"));
}

TEST(RuleSetLoader, NonStringTerm) {
  auto err = expect_error(with_edit("valuesets/prp.json", [](json::object& o) {
    o["terms"].as_array()[1].as_object()["text"] = 42;
  }));
  EXPECT_EQ(err.file, "valuesets/prp.json");
  EXPECT_THAT(err.message, HasSubstr("terms[1].text"));
  EXPECT_THAT(err.message, HasSubstr("expected a string"));
}

TEST(RuleSetLoader, BareStringTermIsRejected) {
  auto err = expect_error(with_edit("valuesets/prp.json", [](json::object& o) { o["terms"].as_array()[0] = "prp"; }));
  EXPECT_EQ(err.file, "valuesets/prp.json");
  EXPECT_THAT(err.message, HasSubstr("terms[0]"));
}

TEST(RuleSetLoader, NonStringRequiresAny) {
  auto err = expect_error(with_edit("valuesets/donor-derived-product.json", [](json::object& o) {
    for (auto& t : o["terms"].as_array())
      if (t.as_object().contains("requires_any")) t.as_object()["requires_any"].as_array()[0] = true;
  }));
  EXPECT_EQ(err.file, "valuesets/donor-derived-product.json");
  EXPECT_THAT(err.message, HasSubstr(".requires_any[0]"));
}

TEST(RuleSetLoader, TermThatCannotBeCompiled) {
  auto err = expect_error(with_edit("valuesets/prp.json", [](json::object& o) {
    o["terms"].as_array()[0].as_object()["text"] = "platelet, rich";
  }));
  EXPECT_THAT(err.message, HasSubstr("terms[0].text"));
}

TEST(RuleSetLoader, MissingCodeField) {
  auto err = expect_error(with_edit("valuesets/knee-site.json", [](json::object& o) {
    o["codes"].as_array()[1].as_object().erase("system");
  }));
  EXPECT_EQ(err.file, "valuesets/knee-site.json");
  EXPECT_THAT(err.message, HasSubstr("codes[1].system: missing"));
}

TEST(RuleSetLoader, UnknownFieldIsATypo) {
  auto err = expect_error(with_edit("valuesets/prp.json", [](json::object& o) {
    o["terms"].as_array()[0].as_object()["requries_any"] = json::array{"x"};
  }));
  EXPECT_THAT(err.message, HasSubstr("terms[0].requries_any: unknown field"));
}

TEST(RuleSetLoader, IdMustMatchTheFileName) {
  auto err = expect_error(with_edit("valuesets/prp.json", [](json::object& o) { o["id"] = "platelets"; }));
  EXPECT_EQ(err.file, "valuesets/prp.json");
  EXPECT_THAT(err.message, HasSubstr("field id"));
}

TEST(RuleSetLoader, InvalidJson) {
  auto files = rules_test::rule_files();
  for (auto& f : files)
    if (f.name == "valuesets/nsaid.json") f.content = "{\"id\": ";
  auto err = expect_error(files);
  EXPECT_EQ(err.file, "valuesets/nsaid.json");
  EXPECT_THAT(err.message, HasSubstr("invalid JSON"));
}

TEST(RuleSetLoader, MissingThreshold) {
  auto err = expect_error(with_edit("knee-oa.json", [](json::object& o) {
    o["thresholds"].as_object()["type1"].as_object().erase("ageBelowYears");
  }));
  EXPECT_EQ(err.file, "knee-oa.json");
  EXPECT_THAT(err.message, HasSubstr("thresholds.type1.ageBelowYears: missing"));
}

TEST(RuleSetLoader, ThresholdOutOfRange) {
  auto err = expect_error(with_edit("knee-oa.json", [](json::object& o) {
    o["thresholds"].as_object()["persistingPain"].as_object()["relativeDropBelow"] = 30;
  }));
  EXPECT_THAT(err.message, HasSubstr("thresholds.persistingPain.relativeDropBelow: out of range"));
}

TEST(RuleSetLoader, UnknownPlaceholderInCardText) {
  auto err = expect_error(with_edit("knee-oa.json", [](json::object& o) {
    o["text"].as_object()["cards"].as_object()["donor-derived-product"].as_object()["summary"] = "Donor {{product}}";
  }));
  EXPECT_EQ(err.file, "knee-oa.json");
  EXPECT_THAT(err.message, HasSubstr("text.cards.donor-derived-product.summary"));
  EXPECT_THAT(err.message, HasSubstr("{{product}}"));
}

TEST(RuleSetLoader, MissingCardText) {
  auto err = expect_error(with_edit("knee-oa.json", [](json::object& o) {
    o["text"].as_object()["why"].as_object().erase("heading");
  }));
  EXPECT_THAT(err.message, HasSubstr("text.why.heading: missing"));
}

TEST(RuleSetLoader, UnknownEvidenceKeyInAPlan) {
  auto err = expect_error(with_edit("knee-oa.json", [](json::object& o) {
    o["plans"].as_object()["3"].as_object()["evidence"].as_array().push_back("smith-2099");
  }));
  EXPECT_THAT(err.message, HasSubstr("plans.3.evidence[3]"));
}

TEST(RuleSetLoader, BadIndicator) {
  auto err = expect_error(with_edit("knee-oa.json", [](json::object& o) {
    o["cards"].as_object()["whole-joint-plan"].as_object()["indicator"] = "hard-stop";
  }));
  EXPECT_THAT(err.message, HasSubstr("cards.whole-joint-plan.indicator"));
}

TEST(RuleSetLoader, UnknownRoleInKinds) {
  auto err = expect_error(with_edit("knee-oa.json", [](json::object& o) {
    o["thresholds"].as_object()["type2"].as_object()["conservativeKinds"].as_array().push_back("yoga");
  }));
  EXPECT_THAT(err.message, HasSubstr("thresholds.type2.conservativeKinds[4]"));
}

TEST(RuleSetLoader, UnexpectedAndMissingFiles) {
  auto files = rules_test::rule_files();
  files.push_back({"notes/readme.json", "{}"});
  EXPECT_EQ(expect_error(files).file, "notes/readme.json");

  files = rules_test::rule_files();
  std::erase_if(files, [](const auto& f) { return f.name == "knee-oa.json"; });
  EXPECT_EQ(expect_error(files).file, "knee-oa.json");
}

TEST(RuleSetLoader, VersionIsAContentHashIndependentOfFileOrder) {
  auto files = rules_test::rule_files();
  const std::string v1 = version(files);
  std::reverse(files.begin(), files.end());
  EXPECT_EQ(version(files), v1);

  auto changed = with_edit("valuesets/donor-derived-product.json", [](json::object& o) {
    o["terms"].as_array().push_back(json::object{{"text", "newbrandflow"}});
  });
  const std::string v2 = version(changed);
  EXPECT_NE(v2, v1);
  EXPECT_EQ(v2.rfind("sha256:", 0), 0u);

  // Whitespace is content too: the hash is over bytes, not meaning.
  files = rules_test::rule_files();
  files.front().content += "\n";
  EXPECT_NE(version(files), v1);
}

TEST(RuleSetLoader, ARuleAuthorCanAddATextPatternWithoutRecompiling) {
  auto files = with_edit("valuesets/donor-derived-product.json", [](json::object& o) {
    o["terms"].as_array().push_back(json::object{{"text", "zyxoflow"}, {"verified", false}});
  });
  auto loaded = rules::load_rule_set(files);
  ASSERT_TRUE(std::holds_alternative<std::shared_ptr<const rules::RuleSet>>(loaded));
  const auto& rs = *std::get<std::shared_ptr<const rules::RuleSet>>(loaded);
  rules::detail::TokenizedText t("ZyxoFlow injection, right knee");
  rs.context.mark(t, {});
  EXPECT_NE(rules::detail::TermMatcher::find(t, rs.vs(rules::detail::Role::donor_derived).terms), nullptr);
}

// A rule author adds a ConText trigger term in knee-oa.json, without C++.
TEST(RuleSetLoader, ARuleAuthorCanAddAContextTriggerWithoutRecompiling) {
  const auto donor_current = [](const rules::RuleSet& rs, std::string_view text) {
    rules::detail::TokenizedText t(text);
    rs.context.mark(t, {});
    return rules::detail::TermMatcher::find(t, rs.vs(rules::detail::Role::donor_derived).terms) != nullptr;
  };
  EXPECT_TRUE(donor_current(rules_test::real_rules(), "pt opts out of amniotic injection"));
  auto files = with_edit("knee-oa.json", [](json::object& o) {
    o["context"].as_object()["modifiers"].as_object()["negated"].as_object()["triggers"].as_array().push_back(
        json::object{{"text", "opts out of"}, {"direction", "forward"}, {"scope", 4}});
  });
  auto loaded = rules::load_rule_set(files);
  ASSERT_TRUE(std::holds_alternative<std::shared_ptr<const rules::RuleSet>>(loaded));
  EXPECT_FALSE(donor_current(*std::get<std::shared_ptr<const rules::RuleSet>>(loaded), "pt opts out of amniotic injection"));
}

TEST(RuleSetLoader, ABadContextTriggerNamesItsField) {
  auto err = expect_error(with_edit("knee-oa.json", [](json::object& o) {
    o["context"].as_object()["modifiers"].as_object()["historical"].as_object()["triggers"].as_array().push_back(
        json::object{{"text", "prior"}, {"direction", "sideways"}});
  }));
  EXPECT_EQ(err.file, "knee-oa.json");
  EXPECT_NE(err.message.find("context.modifiers.historical.triggers"), std::string::npos) << err.message;
  err = expect_error(with_edit("knee-oa.json", [](json::object& o) {
    o["context"].as_object()["modifiers"].as_object()["rumoured"] = json::object{};
  }));
  EXPECT_NE(err.message.find("rumoured"), std::string::npos) << err.message;
}

}  // namespace
