// Every tests/fixtures/requests/*.json with a matching expected/*.json is evaluated against the
// real rule data and checked against its expectation, and every card any fixture produces is
// checked for CDS Hooks 2.0 structure.
#include "rules_test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr std::string_view kBaseUrl = "https://cds.example.org";

struct Fixture {
  std::string name;  // file stem, e.g. "01-amniotic-fluid-order-sign-type3"
};

std::vector<Fixture> fixtures() {
  std::vector<Fixture> out;
  const fs::path dir = fs::path(CDS_FIXTURES_DIR) / "requests";
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".json" && fs::exists(fs::path(CDS_FIXTURES_DIR) / "expected" / e.path().filename()))
      out.push_back({e.path().stem().string()});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

struct Outcome {
  std::unique_ptr<rules_test::Request> request;
  json::object expected;
  rules::Evaluation ev;
  json::array cards;  // ev.cards_json, parsed
};

Outcome run(const std::string& name, std::string_view seed = {}) {
  Outcome r;
  r.expected = json::parse(rules_test::read_file(fs::path(CDS_FIXTURES_DIR) / "expected" / (name + ".json"))).as_object();
  const std::string service(r.expected.at("service").as_string());
  r.request = rules_test::request_from_json(rules_test::read_file(fs::path(CDS_FIXTURES_DIR) / "requests" / (name + ".json")), service);
  auto opts = rules_test::options(rules_test::instant(r.expected.at("now").as_string()), seed.empty() ? std::string_view(name) : seed);
  r.ev = rules::evaluate(r.request->input, rules_test::real_rules(), opts);
  r.cards = rules_test::cards_of(r.ev);
  return r;
}

const json::object& provenance(const json::object& card) {
  return card.at("extension").as_object().at(rules::kProvenanceExtensionKey).as_object();
}

std::string rule_of(const json::object& card) { return std::string(provenance(card).at("ruleId").as_string()); }

std::vector<const json::object*> actions_of(const json::object& card, std::string_view type) {
  std::vector<const json::object*> out;
  if (const auto* s = card.if_contains("suggestions"))
    for (const auto& sug : s->as_array())
      if (const auto* acts = sug.as_object().if_contains("actions"))
        for (const auto& a : acts->as_array())
          if (a.as_object().at("type").as_string() == type) out.push_back(&a.as_object());
  return out;
}

std::set<std::string> delete_ids(const json::object& card) {
  std::set<std::string> out;
  for (const auto* a : actions_of(card, "delete")) out.insert(std::string(a->at("resourceId").as_string()));
  return out;
}

std::set<std::string> string_set(const json::value& v) {
  std::set<std::string> out;
  for (const auto& s : v.as_array()) out.insert(std::string(s.as_string()));
  return out;
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// CDS Hooks: no element is null or empty ("", [], {}); the path says where one was found.
void expect_no_empty(const json::value& v, const std::string& path) {
  switch (v.kind()) {
    case json::kind::null: ADD_FAILURE() << path << " is null"; break;
    case json::kind::string: EXPECT_FALSE(v.as_string().empty()) << path << " is an empty string"; break;
    case json::kind::array:
      EXPECT_FALSE(v.as_array().empty()) << path << " is an empty array";
      for (std::size_t i = 0; i < v.as_array().size(); ++i) expect_no_empty(v.as_array()[i], path + "[" + std::to_string(i) + "]");
      break;
    case json::kind::object:
      EXPECT_FALSE(v.as_object().empty()) << path << " is an empty object";
      for (const auto& kv : v.as_object()) expect_no_empty(kv.value(), path + "." + std::string(kv.key()));
      break;
    default: break;
  }
}

std::string str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

void check_structure(const json::object& card, const Outcome& r, std::set<std::string>& uuids) {
  const auto& rs = rules_test::real_rules();
  const std::string rule = rule_of(card);
  SCOPED_TRACE("card " + rule);
  expect_no_empty(card, "card");

  EXPECT_TRUE(uuids.insert(str(card, "uuid")).second) << "duplicate uuid";
  EXPECT_EQ(str(card, "uuid").size(), 36u);
  const std::string summary = str(card, "summary");
  EXPECT_LT(code_points(summary), 140u) << summary;
  EXPECT_THAT(str(card, "indicator"), ::testing::AnyOf("info", "warning", "critical"));

  const auto& source = card.at("source").as_object();
  EXPECT_FALSE(str(source, "label").empty());
  EXPECT_EQ(str(source, "url").rfind(std::string(kBaseUrl) + "/", 0), 0u);
  const auto& topic = source.at("topic").as_object();
  for (auto k : {"system", "code", "display"}) EXPECT_FALSE(str(topic, k).empty()) << "topic." << k;

  const std::string detail = str(card, "detail");
  const auto why = detail.rfind(std::string(rs.text("why.heading")));
  ASSERT_NE(why, std::string::npos) << "detail lacks the Why section";
  EXPECT_NE(detail.find("\n- ", why), std::string::npos) << "Why section lists nothing";
  EXPECT_EQ(detail.find("proven"), std::string::npos);
  // A card a clinician reads in seconds: what was found, why it matters, what to do.
  EXPECT_LE(code_points(detail), 800u) << detail;
  // No internal wording anywhere a clinician sees.
  std::string all = json::serialize(card);
  for (char& ch : all) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  EXPECT_EQ(all.find("verif"), std::string::npos) << "verify / unverified wording";
  EXPECT_EQ(all.find("\"https://www.fda.gov\""), std::string::npos) << "link to the FDA home page";
  // The plan is stated once per response: on the plan card, never on a flag card.
  if (rule != "whole-joint-plan")
    for (const auto& plan : rs.plans)
      for (const auto& c : plan.components) EXPECT_EQ(detail.find(c.line), std::string::npos) << c.line;

  const bool has_suggestions = card.contains("suggestions");
  EXPECT_EQ(card.contains("selectionBehavior"), has_suggestions);
  if (has_suggestions) {
    EXPECT_THAT(str(card, "selectionBehavior"), ::testing::AnyOf("at-most-one", "any"));
    for (const auto& s : card.at("suggestions").as_array()) {
      const auto& sug = s.as_object();
      EXPECT_FALSE(str(sug, "label").empty());
      EXPECT_TRUE(uuids.insert(str(sug, "uuid")).second) << "duplicate suggestion uuid";
      for (const auto& a : sug.at("actions").as_array()) {
        const auto& act = a.as_object();
        EXPECT_THAT(str(act, "type"), ::testing::AnyOf("create", "update", "delete"));
        EXPECT_FALSE(str(act, "description").empty());
      }
    }
  }

  // Delete actions name orders that are really in draftOrders.
  std::set<std::string> draft_refs;
  for (const auto& o : r.ev.orders) draft_refs.insert(o.reference);
  if (const auto* drafts = r.request->input.context->if_contains("draftOrders"))
    for (const auto& e : drafts->as_object().at("entry").as_array()) {
      const auto& res = e.as_object().at("resource").as_object();
      draft_refs.insert(str(res, "resourceType") + "/" + str(res, "id"));
    }
  for (const auto& id : delete_ids(card)) EXPECT_TRUE(draft_refs.contains(id)) << id << " is not a draft order";

  const std::string patient_ref = "Patient/" + str(*r.request->input.context, "patientId");
  for (const auto* a : actions_of(card, "create")) {
    const auto& res = a->at("resource").as_object();
    EXPECT_EQ(str(res, "resourceType"), "ServiceRequest");
    EXPECT_EQ(str(res, "status"), "draft");
    EXPECT_THAT(str(res, "intent"), ::testing::AnyOf("proposal", "plan"));
    EXPECT_EQ(str(res.at("subject").as_object(), "reference"), patient_ref);
    EXPECT_FALSE(str(res.at("code").as_object(), "text").empty());
    ASSERT_TRUE(res.contains("bodySite"));
    const auto& repeat = res.at("occurrenceTiming").as_object().at("repeat").as_object();
    EXPECT_GE(repeat.at("count").as_int64(), 2);
    EXPECT_EQ(str(repeat, "periodUnit"), "wk");
    if (const auto* rep = res.if_contains("replaces")) {
      for (const auto& ref : rep->as_array()) {
        EXPECT_TRUE(draft_refs.contains(str(ref.as_object(), "reference")));
        // FHIR R4: ServiceRequest.replaces is Reference(ServiceRequest).
        EXPECT_EQ(str(ref.as_object(), "reference").rfind("ServiceRequest/", 0), 0u);
      }
    }
  }

  if (const auto* links = card.if_contains("links")) {
    EXPECT_LE(links->as_array().size(), 4u) << "only the links that matter";
    EXPECT_EQ(str(links->as_array().back().as_object(), "url"), std::string(kBaseUrl) + "/docs/evidence/knee-oa");
  }
  if (const auto* links = card.if_contains("links"))
    for (const auto& l : links->as_array()) {
      const auto& link = l.as_object();
      EXPECT_FALSE(str(link, "label").empty());
      EXPECT_EQ(str(link, "url").rfind("https://", 0), 0u);
      EXPECT_EQ(str(link, "type"), "absolute");
    }

  bool fda_reason = false;
  for (const auto& o : card.at("overrideReasons").as_array()) {
    const auto& c = o.as_object();
    EXPECT_FALSE(str(c, "code").empty());
    EXPECT_EQ(str(c, "system"), std::string(kBaseUrl) + "/fhir/CodeSystem/override-reason");
    EXPECT_FALSE(str(c, "display").empty());
    fda_reason = fda_reason || str(c, "code") == "fda-approved-use";
  }
  EXPECT_EQ(fda_reason, rule == "donor-derived-product");

  const auto& prov = provenance(card);
  EXPECT_EQ(str(prov, "rulesVersion"), rs.version);
  EXPECT_FALSE(prov.at("triggeredBy").as_array().empty());
  EXPECT_EQ(prov.contains("patientType"), rule == "whole-joint-plan");
}

class FixtureTest : public ::testing::TestWithParam<Fixture> {};

TEST_P(FixtureTest, MatchesExpectation) {
  const Outcome r = run(GetParam().name);
  const auto& want = r.expected.at("cards").as_array();
  ASSERT_EQ(r.cards.size(), want.size()) << json::serialize(r.cards);
  ASSERT_EQ(r.ev.card_records.size(), r.cards.size());

  std::vector<bool> used(r.cards.size(), false);
  for (const auto& w : want) {
    const auto& exp = w.as_object();
    const std::string rule(exp.at("rule").as_string());
    SCOPED_TRACE("expected card " + rule);
    const json::object* got = nullptr;
    for (std::size_t i = 0; i < r.cards.size() && got == nullptr; ++i) {
      const auto& c = r.cards[i].as_object();
      if (used[i] || rule_of(c) != rule) continue;
      const auto triggered = string_set(provenance(c).at("triggeredBy"));
      bool subset = true;
      for (const auto& t : string_set(exp.at("triggered_by"))) subset = subset && triggered.contains(t);
      if (!subset) continue;
      used[i] = true;
      got = &c;
    }
    ASSERT_NE(got, nullptr) << "no card with this rule and triggered_by; got " << json::serialize(r.cards);
    EXPECT_EQ(str(*got, "indicator"), exp.at("indicator").as_string());
    EXPECT_EQ(delete_ids(*got), string_set(exp.at("delete")));
    const auto creates = actions_of(*got, "create").size();
    EXPECT_GE(static_cast<std::int64_t>(creates), exp.at("creates_min").as_int64());
    if (const auto* pt = exp.if_contains("patient_type")) {
      EXPECT_EQ(str(provenance(*got), "patientType"), pt->as_string());
      EXPECT_EQ(r.ev.patient_type, pt->as_string());
    }
    if (r.ev.patient_type == "unknown") {
      EXPECT_EQ(creates, 0u) << "no creates without a patient type";
    }
  }
  if (want.empty()) {
    EXPECT_EQ(r.ev.patient_type, "");
  }

  // Audit records mirror the cards.
  for (std::size_t i = 0; i < r.cards.size(); ++i) {
    const auto& c = r.cards[i].as_object();
    EXPECT_EQ(r.ev.card_records[i].uuid, str(c, "uuid"));
    EXPECT_EQ(r.ev.card_records[i].rule_id, rule_of(c));
    EXPECT_EQ(r.ev.card_records[i].indicator, str(c, "indicator"));
    EXPECT_EQ(r.ev.card_records[i].summary, str(c, "summary"));
    std::vector<std::string> reasons, suggestions;
    for (const auto& o : c.at("overrideReasons").as_array())
      reasons.push_back(str(o.as_object(), "system") + "|" + str(o.as_object(), "code"));
    if (const auto* s = c.if_contains("suggestions"))
      for (const auto& sg : s->as_array()) suggestions.push_back(str(sg.as_object(), "uuid"));
    EXPECT_EQ(r.ev.card_records[i].override_reason_codes, reasons);
    EXPECT_FALSE(reasons.empty());
    EXPECT_EQ(r.ev.card_records[i].suggestion_uuids, suggestions);
    std::vector<std::string> refs;
    for (const auto& t : provenance(c).at("triggeredBy").as_array()) refs.emplace_back(t.as_string());
    EXPECT_EQ(r.ev.card_records[i].triggered_by, refs);
  }
  // One order record per evaluated draft order.
  const auto& ctx = *r.request->input.context;
  if (const auto* sel = ctx.if_contains("selections")) {
    EXPECT_EQ(r.ev.orders.size(), sel->as_array().size());
  } else if (const auto* drafts = ctx.if_contains("draftOrders")) {
    EXPECT_EQ(r.ev.orders.size(), drafts->as_object().at("entry").as_array().size());
  } else {
    EXPECT_TRUE(r.ev.orders.empty());
  }
}

TEST_P(FixtureTest, CardsAreWellFormed) {
  const Outcome r = run(GetParam().name);
  std::set<std::string> uuids;
  std::size_t plan_cards = 0;
  for (const auto& c : r.cards) {
    check_structure(c.as_object(), r, uuids);
    plan_cards += rule_of(c.as_object()) == "whole-joint-plan";
  }
  if (!r.cards.empty()) {
    EXPECT_EQ(plan_cards, 1u) << "exactly one whole-joint-plan card per invocation";
  }
}

TEST_P(FixtureTest, DeterministicOutput) {
  const Outcome a = run(GetParam().name);
  const Outcome b = run(GetParam().name);
  EXPECT_EQ(json::serialize(a.cards), json::serialize(b.cards));
  if (a.cards.empty()) return;
  const Outcome c = run(GetParam().name, "another-seed");
  EXPECT_NE(str(a.cards[0].as_object(), "uuid"), str(c.cards[0].as_object(), "uuid"));
}

std::string test_name(const ::testing::TestParamInfo<Fixture>& info) {
  std::string n = info.param.name;
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return "f" + n;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureTest, ::testing::ValuesIn(fixtures()), test_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(FixtureTest);

TEST(Fixtures, AtLeastFifteenArePresent) { EXPECT_GE(fixtures().size(), 15u); }

}  // namespace
