// parse_hook_request and check_data_available: what a CDS Hooks 2.0 request must carry, the
// views a valid one yields, and the 400 (or 412) each defect gets, naming the field.
#include "cds/hooks/hook_request.hpp"
#include "cds/hooks/services.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace request_validation_test {
namespace {

namespace json = boost::json;
using cds::ApiError;
using cds::HookRequest;

constexpr std::string_view kOrderSign = "knee-oa-order-sign";
constexpr std::string_view kOrderSelect = "knee-oa-order-select";
constexpr std::string_view kPatientView = "knee-oa-patient-view";

// The first three fixtures of each hook.
constexpr std::string_view kSignFixture = "01-amniotic-fluid-order-sign-type3";
constexpr std::string_view kSelectFixture = "07-order-select-stem-cell-type1";
constexpr std::string_view kViewFixture = "20-patient-view-pain-persisted";

std::filesystem::path requests_dir() { return std::filesystem::path(CDS_FIXTURES_DIR) / "requests"; }

json::object load(std::string_view name) {
  std::ifstream in(requests_dir() / (std::string(name) + ".json"), std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  EXPECT_TRUE(in.good() || in.eof()) << name;
  return json::parse(s.str()).as_object();
}

const cds::ServiceDefinition& service(std::string_view id) {
  const cds::ServiceDefinition* s = cds::find_service(id);
  EXPECT_NE(s, nullptr) << id;
  return *s;
}

using Result = std::variant<std::unique_ptr<HookRequest>, ApiError>;

Result parse(std::string_view service_id, std::string_view body) { return cds::parse_hook_request(service(service_id), body); }
Result parse(std::string_view service_id, const json::value& body) { return parse(service_id, json::serialize(body)); }

std::unique_ptr<HookRequest> expect_ok(Result r) {
  if (auto* e = std::get_if<ApiError>(&r)) {
    ADD_FAILURE() << "unexpected error " << e->status << ": " << e->message;
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<HookRequest>>(r));
}

// A 400 whose message contains every one of `fragments` (the field it names, at least).
void expect_400(const Result& r, std::initializer_list<std::string_view> fragments) {
  const ApiError* e = std::get_if<ApiError>(&r);
  ASSERT_NE(e, nullptr) << "expected a 400, got success";
  EXPECT_EQ(e->status, 400u) << e->message;
  for (std::string_view f : fragments) EXPECT_NE(e->message.find(f), std::string::npos) << "'" << f << "' not in: " << e->message;
}

json::object& context_of(json::object& body) { return body.at("context").as_object(); }
json::object& prefetch_of(json::object& body) { return body.at("prefetch").as_object(); }

json::object valid_authorization() {
  return json::object{{"access_token", "abc.def.ghi"}, {"token_type", "Bearer"}, {"expires_in", 300},
                      {"scope", "patient/*.read"}, {"subject", "cds-service"}};
}

std::vector<std::string> missing(const HookRequest& r) { return {r.missing_prefetch.begin(), r.missing_prefetch.end()}; }

// ------------------------------------------------------------------------------ valid requests

TEST(RequestValidation, ValidOrderSign) {
  json::object body = load(kSignFixture);
  auto r = expect_ok(parse(kOrderSign, body));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->service, cds::find_service(kOrderSign));
  EXPECT_EQ(r->input.hook, "order-sign");
  EXPECT_EQ(r->input.service_id, "knee-oa-order-sign");
  EXPECT_EQ(r->input.hook_instance, std::string_view(body.at("hookInstance").as_string()));
  ASSERT_NE(r->input.context, nullptr);
  EXPECT_EQ(r->input.context, &r->document.at("context").as_object());
  ASSERT_NE(r->input.prefetch, nullptr);
  EXPECT_EQ(r->input.prefetch, &r->document.at("prefetch").as_object());
  EXPECT_EQ(r->input.prefetch->size(), 4u);
  EXPECT_EQ(r->user_id, "Practitioner/dr-1");
  EXPECT_EQ(r->patient_id, "pat-01");
  EXPECT_EQ(r->encounter_id, "enc-01");
  EXPECT_TRUE(r->missing_prefetch.empty());
  EXPECT_EQ(r->fhir_server, "");
  EXPECT_EQ(r->fhir_authorization, nullptr);
  {
    auto e = cds::check_data_available(*r);
    EXPECT_FALSE(e.has_value()) << (e ? e->message : "");
  }
  // The views point into the request's own document, not into the caller's.
  EXPECT_EQ(r->input.context->at("draftOrders").at("entry").at(0).at("resource").at("id").as_string(), "sr-amnio-1");
}

TEST(RequestValidation, ValidOrderSelect) {
  json::object body = load(kSelectFixture);
  auto r = expect_ok(parse(kOrderSelect, body));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->service, cds::find_service(kOrderSelect));
  EXPECT_EQ(r->input.hook, "order-select");
  EXPECT_EQ(r->input.service_id, "knee-oa-order-select");
  EXPECT_EQ(r->input.hook_instance, "76c9e0d4-ee4a-5d92-82f1-81ddbb24a1a3");
  EXPECT_EQ(r->input.context, &r->document.at("context").as_object());
  EXPECT_EQ(r->input.prefetch, &r->document.at("prefetch").as_object());
  EXPECT_EQ(r->user_id, "Practitioner/dr-1");
  EXPECT_EQ(r->patient_id, "pat-07");
  EXPECT_EQ(r->encounter_id, "enc-07");
  EXPECT_TRUE(r->missing_prefetch.empty());  // "procedures" is null: satisfied with no data
  EXPECT_TRUE(r->input.prefetch->at("procedures").is_null());
}

TEST(RequestValidation, ValidPatientView) {
  json::object body = load(kViewFixture);
  auto r = expect_ok(parse(kPatientView, body));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->service, cds::find_service(kPatientView));
  EXPECT_EQ(r->input.hook, "patient-view");
  EXPECT_EQ(r->input.service_id, "knee-oa-patient-view");
  EXPECT_EQ(r->input.hook_instance, std::string_view(body.at("hookInstance").as_string()));
  EXPECT_EQ(r->input.context, &r->document.at("context").as_object());
  EXPECT_EQ(r->input.prefetch, &r->document.at("prefetch").as_object());
  EXPECT_EQ(r->user_id, "Practitioner/dr-1");
  EXPECT_EQ(r->patient_id, "pat-20");
  EXPECT_EQ(r->encounter_id, "enc-20");
  EXPECT_TRUE(r->missing_prefetch.empty());
}

TEST(RequestValidation, EncounterIdIsOptional) {
  json::object body = load(kViewFixture);
  context_of(body).erase("encounterId");
  auto r = expect_ok(parse(kPatientView, body));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->encounter_id, "");
  EXPECT_EQ(r->patient_id, "pat-20");
}

TEST(RequestValidation, PatientViewNeedsNoDraftOrders) {
  json::object body = load(kViewFixture);
  ASSERT_FALSE(context_of(body).contains("draftOrders"));
  EXPECT_NE(expect_ok(parse(kPatientView, body)), nullptr);
}

TEST(RequestValidation, EveryFixtureIsValidForItsHook) {
  int n = 0;
  for (const auto& f : std::filesystem::directory_iterator(requests_dir())) {
    if (f.path().extension() != ".json") continue;
    json::object body = load(f.path().stem().string());
    std::string hook(body.at("hook").as_string());
    std::string id = "knee-oa-" + hook;
    SCOPED_TRACE(f.path().filename().string());
    auto r = expect_ok(parse(id, body));
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->input.hook, hook);
    EXPECT_TRUE(r->missing_prefetch.empty());
    ++n;
  }
  // Every fixture request was looked at: one per expectation file.
  int expected = 0;
  for (const auto& f : std::filesystem::directory_iterator(std::filesystem::path(CDS_FIXTURES_DIR) / "expected"))
    expected += f.path().extension() == ".json";
  EXPECT_GE(expected, 57);
  EXPECT_EQ(n, expected);
}

TEST(RequestValidation, FhirServerWithAuthorization) {
  json::object body = load(kSignFixture);
  body["fhirServer"] = "https://ehr.example.org/fhir/r4";
  body["fhirAuthorization"] = valid_authorization();
  auto r = expect_ok(parse(kOrderSign, body));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->fhir_server, "https://ehr.example.org/fhir/r4");
  ASSERT_NE(r->fhir_authorization, nullptr);
  EXPECT_EQ(r->fhir_authorization, &r->document.at("fhirAuthorization").as_object());
  EXPECT_EQ(r->fhir_authorization->at("access_token").as_string(), "abc.def.ghi");
}

TEST(RequestValidation, FhirServerAloneAndPlainHttp) {
  json::object body = load(kSignFixture);
  body["fhirServer"] = "http://localhost:8080/fhir";
  auto r = expect_ok(parse(kOrderSign, body));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->fhir_server, "http://localhost:8080/fhir");
  EXPECT_EQ(r->fhir_authorization, nullptr);
}

TEST(RequestValidation, AuthorizationMayCarryPatientAndUint64Expiry) {
  json::object body = load(kSignFixture);
  body["fhirServer"] = "https://ehr.example.org/fhir";
  auto auth = valid_authorization();
  auth["patient"] = "pat-01";
  auth["expires_in"] = std::uint64_t{18446744073709551615ULL};
  body["fhirAuthorization"] = auth;
  EXPECT_NE(expect_ok(parse(kOrderSign, body)), nullptr);
}

// ------------------------------------------------------------------------------ 400: the body

TEST(RequestValidation, BodyNotJson) {
  expect_400(parse(kOrderSign, std::string_view("{\"hook\": \"order-sign\",")), {"not valid JSON"});
  expect_400(parse(kOrderSign, std::string_view("")), {"not valid JSON"});
  expect_400(parse(kOrderSign, std::string_view("hook=order-sign")), {"not valid JSON"});
}

TEST(RequestValidation, BodyNotAnObject) {
  expect_400(parse(kOrderSign, std::string_view("[]")), {"must be a JSON object"});
  expect_400(parse(kOrderSign, std::string_view(R"([{"hook": "order-sign"}])")), {"must be a JSON object"});
  expect_400(parse(kOrderSign, std::string_view("null")), {"must be a JSON object"});
  expect_400(parse(kOrderSign, std::string_view(R"("order-sign")")), {"must be a JSON object"});
}

// ------------------------------------------------------------------------------ 400: hook, hookInstance

TEST(RequestValidation, MissingHook) {
  json::object body = load(kSignFixture);
  body.erase("hook");
  expect_400(parse(kOrderSign, body), {"missing required field 'hook'"});
}

TEST(RequestValidation, HookNotAString) {
  json::object body = load(kSignFixture);
  body["hook"] = 1;
  expect_400(parse(kOrderSign, body), {"'hook' must be a non-empty string"});
}

TEST(RequestValidation, HookMismatch) {
  expect_400(parse(kOrderSelect, load(kSignFixture)),
             {"'hook'", "\"order-sign\"", "knee-oa-order-select", "\"order-select\""});
  expect_400(parse(kOrderSign, load(kViewFixture)), {"'hook'", "\"patient-view\"", "knee-oa-order-sign"});
  json::object body = load(kSignFixture);
  body["hook"] = "Order-Sign";  // hook names are exact
  expect_400(parse(kOrderSign, body), {"'hook'", "\"Order-Sign\""});
}

TEST(RequestValidation, MissingHookInstance) {
  json::object body = load(kSignFixture);
  body.erase("hookInstance");
  expect_400(parse(kOrderSign, body), {"missing required field 'hookInstance'"});
}

TEST(RequestValidation, EmptyOrNonStringHookInstance) {
  json::object body = load(kSignFixture);
  body["hookInstance"] = "";
  expect_400(parse(kOrderSign, body), {"'hookInstance' must be a non-empty string"});
  body["hookInstance"] = json::array{"x"};
  expect_400(parse(kOrderSign, body), {"'hookInstance' must be a non-empty string"});
}

// ------------------------------------------------------------------------------ 400: context

TEST(RequestValidation, MissingContext) {
  json::object body = load(kViewFixture);
  body.erase("context");
  expect_400(parse(kPatientView, body), {"missing required field 'context'"});
}

TEST(RequestValidation, ContextNotAnObject) {
  json::object body = load(kViewFixture);
  body["context"] = json::array{};
  expect_400(parse(kPatientView, body), {"'context' must be an object"});
  body["context"] = nullptr;
  expect_400(parse(kPatientView, body), {"'context' must be an object"});
}

TEST(RequestValidation, MissingUserId) {
  for (auto [id, fixture] : {std::pair{kOrderSign, kSignFixture}, std::pair{kOrderSelect, kSelectFixture},
                             std::pair{kPatientView, kViewFixture}}) {
    json::object body = load(fixture);
    context_of(body).erase("userId");
    expect_400(parse(id, body), {"missing required field 'context.userId'"});
  }
}

TEST(RequestValidation, MissingPatientId) {
  for (auto [id, fixture] : {std::pair{kOrderSign, kSignFixture}, std::pair{kOrderSelect, kSelectFixture},
                             std::pair{kPatientView, kViewFixture}}) {
    json::object body = load(fixture);
    context_of(body).erase("patientId");
    expect_400(parse(id, body), {"missing required field 'context.patientId'"});
  }
}

TEST(RequestValidation, WrongTypedIds) {
  json::object body = load(kViewFixture);
  context_of(body)["patientId"] = 20;
  expect_400(parse(kPatientView, body), {"'context.patientId' must be a non-empty string"});
  body = load(kViewFixture);
  context_of(body)["userId"] = "";
  expect_400(parse(kPatientView, body), {"'context.userId' must be a non-empty string"});
  body = load(kViewFixture);
  context_of(body)["encounterId"] = json::object{};
  expect_400(parse(kPatientView, body), {"'context.encounterId' must be a non-empty string"});
}

// ------------------------------------------------------------------------------ 400: draftOrders

TEST(RequestValidation, OrderSignWithoutDraftOrders) {
  json::object body = load(kSignFixture);
  context_of(body).erase("draftOrders");
  expect_400(parse(kOrderSign, body), {"missing required field 'context.draftOrders'", "order-sign"});
}

TEST(RequestValidation, OrderSelectWithoutDraftOrders) {
  json::object body = load(kSelectFixture);
  context_of(body).erase("draftOrders");
  expect_400(parse(kOrderSelect, body), {"missing required field 'context.draftOrders'", "order-select"});
}

TEST(RequestValidation, DraftOrdersNotABundle) {
  json::object body = load(kSignFixture);
  json::value entry0 = context_of(body).at("draftOrders").at("entry").at(0).at("resource");
  context_of(body)["draftOrders"] = entry0;  // a bare ServiceRequest
  expect_400(parse(kOrderSign, body), {"'context.draftOrders' must be a FHIR Bundle"});
  context_of(body)["draftOrders"] = json::array{entry0};
  expect_400(parse(kOrderSign, body), {"'context.draftOrders' must be a FHIR Bundle"});
  context_of(body)["draftOrders"] = "Bundle";
  expect_400(parse(kOrderSign, body), {"'context.draftOrders' must be a FHIR Bundle"});
}

std::vector<std::string> issue_paths(const HookRequest& r) {
  std::vector<std::string> out;
  for (const auto& d : r.data_issues) out.push_back(d.path);
  return out;
}

// A wrong-shaped element is dropped (the rules never read it) and recorded by where it was; the
// rest of the resource is used.
TEST(RequestValidation, DraftOrdersWithWrongTypedResourceFieldDropIt) {
  json::object body = load(kSignFixture);
  context_of(body).at("draftOrders").at("entry").at(0).at("resource").as_object()["code"] = "0232T";
  auto r = expect_ok(parse(kOrderSign, body));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(issue_paths(*r),
            (std::vector<std::string>{"context.draftOrders: Bundle.entry[0].resource.ServiceRequest.code"}));
  EXPECT_TRUE(r->data_issues[0].read_by_rules);
  const json::object& order = r->input.context->at("draftOrders").at("entry").at(0).at("resource").as_object();
  EXPECT_EQ(order.if_contains("code"), nullptr);
  EXPECT_EQ(order.at("id").as_string(), "sr-amnio-1");  // the order itself is still there
}

TEST(RequestValidation, DraftOrdersSecondEntryWrongTypedBodySite) {
  json::object body = load(kSelectFixture);
  context_of(body).at("draftOrders").at("entry").at(1).at("resource").as_object()["bodySite"] =
      json::object{{"text", "Right knee"}};
  auto r = expect_ok(parse(kOrderSelect, body));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(issue_paths(*r),
            (std::vector<std::string>{"context.draftOrders: Bundle.entry[1].resource.ServiceRequest.bodySite"}));
}

// The CDS Hooks Sandbox's Rx View: one reasonCode object, not an array; with a wrong-typed note,
// occurrenceDateTime and subject besides. Each is dropped; the subject is read by no rule.
TEST(RequestValidation, SandboxStyleReasonCodeNoteAndOccurrenceAreDropped) {
  json::object body = load(kSignFixture);
  json::object& order = context_of(body).at("draftOrders").at("entry").at(0).at("resource").as_object();
  order["reasonCode"] = json::object{{"coding", json::array{json::object{{"code", "M17.11"}}}}};
  order["note"] = "free text";
  order["occurrenceDateTime"] = 20261125;
  order["subject"] = "Patient/pat-01";
  auto r = expect_ok(parse(kOrderSign, body));
  ASSERT_NE(r, nullptr);
  auto paths = issue_paths(*r);
  std::sort(paths.begin(), paths.end());
  const std::string at = "context.draftOrders: Bundle.entry[0].resource.ServiceRequest.";
  EXPECT_EQ(paths, (std::vector<std::string>{at + "note", at + "occurrenceDateTime", at + "reasonCode", at + "subject"}));
  for (const auto& d : r->data_issues) EXPECT_EQ(d.read_by_rules, !d.path.ends_with("subject")) << d.path;
  const json::object& kept = r->input.context->at("draftOrders").at("entry").at(0).at("resource").as_object();
  for (const char* k : {"reasonCode", "note", "occurrenceDateTime", "subject"}) EXPECT_EQ(kept.if_contains(k), nullptr) << k;
  EXPECT_NE(kept.if_contains("code"), nullptr);
}

TEST(RequestValidation, DraftOrdersEntryResourceNotAnObjectIsDropped) {
  json::object body = load(kSignFixture);
  json::array& entries = context_of(body).at("draftOrders").at("entry").as_array();
  const std::size_t n = entries.size();
  entries.push_back(json::object{{"resource", "ServiceRequest/x"}});
  auto r = expect_ok(parse(kOrderSign, body));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(issue_paths(*r), (std::vector<std::string>{"context.draftOrders: Bundle.entry[" + std::to_string(n) + "].resource"}));
  EXPECT_EQ(r->input.context->at("draftOrders").at("entry").as_array().size(), n);
}

// Ids stay strict: cards hand them back to the EHR.
TEST(RequestValidation, DraftOrderWithAnInvalidIdIs400) {
  json::object body = load(kSignFixture);
  context_of(body).at("draftOrders").at("entry").at(0).at("resource").as_object()["id"] = "ServiceRequest/x";
  expect_400(parse(kOrderSign, body), {"'context.draftOrders' is not valid FHIR R4",
                                        "Bundle.entry[0].resource.ServiceRequest.id"});
}

// Cards and suggestions name draft orders as Type/id: each needs an id, and one name, one order.
TEST(RequestValidation, DraftOrderWithoutAnId) {
  json::object body = load(kSignFixture);
  context_of(body).at("draftOrders").at("entry").at(0).at("resource").as_object().erase("id");
  expect_400(parse(kOrderSign, body), {"missing required field 'context.draftOrders.entry[0].resource.id'",
                                        "refer to a draft order by its id"});
}

TEST(RequestValidation, DraftOrderRepeated) {
  json::object body = load(kSelectFixture);
  json::array& entries = context_of(body).at("draftOrders").at("entry").as_array();
  const std::size_t n = entries.size();
  entries.push_back(json::value(entries.at(0)));  // the same order again, after the others
  expect_400(parse(kOrderSelect, body),
             {"'context.draftOrders.entry[" + std::to_string(n) + "]' repeats entry[0] (ServiceRequest/sr-stemcell-1)",
              "each draft order must appear once"});
}

// More draft orders than the check keeps on the stack: the same answers past that room.
TEST(RequestValidation, ManyDraftOrdersAreCheckedPastTheStackRoom) {
  json::object body = load(kSignFixture);
  json::array& entries = context_of(body).at("draftOrders").at("entry").as_array();
  const json::value first = entries.at(0);
  for (int i = 0; i < 40; ++i) {
    json::value copy = first;
    copy.at("resource").as_object()["id"] = "sr-many-" + std::to_string(i);
    entries.push_back(std::move(copy));
  }
  expect_ok(parse(kOrderSign, body));
  const std::size_t n = entries.size();
  json::value again = entries.at(n - 7);  // an order from past the first 32, again at the end
  entries.push_back(std::move(again));
  expect_400(parse(kOrderSign, body), {"'context.draftOrders.entry[" + std::to_string(n) + "]' repeats entry[" +
                                           std::to_string(n - 7) + "] (ServiceRequest/sr-many-33)",
                                       "each draft order must appear once"});
}

TEST(RequestValidation, DraftOrdersOfDifferentTypesMayShareAnId) {
  json::object body = load(kSignFixture);
  json::array& entries = context_of(body).at("draftOrders").at("entry").as_array();
  json::object other{{"resourceType", "MedicationRequest"},
                     {"id", entries.at(0).at("resource").at("id")},
                     {"status", "draft"},
                     {"intent", "order"},
                     {"subject", json::object{{"reference", "Patient/pat-01"}}},
                     {"medicationCodeableConcept", json::object{{"text", "Naproxen 500 mg tablet"}}}};
  entries.push_back(json::object{{"resource", std::move(other)}});
  expect_ok(parse(kOrderSign, body));
}

// ------------------------------------------------------------------------------ 400: selections

TEST(RequestValidation, OrderSelectWithoutSelections) {
  json::object body = load(kSelectFixture);
  context_of(body).erase("selections");
  expect_400(parse(kOrderSelect, body), {"missing required field 'context.selections'"});
}

TEST(RequestValidation, SelectionsNotANonEmptyArray) {
  json::object body = load(kSelectFixture);
  context_of(body)["selections"] = "ServiceRequest/sr-stemcell-1";
  expect_400(parse(kOrderSelect, body), {"'context.selections' must be a non-empty array"});
  context_of(body)["selections"] = json::array{};
  expect_400(parse(kOrderSelect, body), {"'context.selections' must be a non-empty array"});
}

TEST(RequestValidation, SelectionNamingNoDraftOrder) {
  json::object body = load(kSelectFixture);
  context_of(body)["selections"] = json::array{"ServiceRequest/sr-stemcell-1", "ServiceRequest/sr-nowhere"};
  expect_400(parse(kOrderSelect, body), {"'context.selections[1]'", "names no entry of context.draftOrders"});
  context_of(body)["selections"] = json::array{"MedicationRequest/sr-stemcell-1"};
  expect_400(parse(kOrderSelect, body), {"'context.selections[0]'", "names no entry"});
}

TEST(RequestValidation, SelectionNotAReference) {
  json::object body = load(kSelectFixture);
  for (json::value bad : {json::value("sr-stemcell-1"), json::value(7), json::value("#sr-stemcell-1"),
                          json::value(json::object{{"reference", "ServiceRequest/sr-stemcell-1"}}),
                          json::value("")}) {
    context_of(body)["selections"] = json::array{bad};
    expect_400(parse(kOrderSelect, body), {"'context.selections[0]' must be a reference"});
  }
}

TEST(RequestValidation, SelectionsMayUseVersionedOrAbsoluteReferences) {
  json::object body = load(kSelectFixture);
  context_of(body)["selections"] = json::array{"ServiceRequest/sr-stemcell-1/_history/1",
                                               "https://ehr.example.org/fhir/ServiceRequest/sr-xray-1"};
  EXPECT_NE(expect_ok(parse(kOrderSelect, body)), nullptr);
}

TEST(RequestValidation, OrderSignIgnoresSelections) {
  json::object body = load(kSignFixture);
  context_of(body)["selections"] = json::array{"ServiceRequest/elsewhere"};
  EXPECT_NE(expect_ok(parse(kOrderSign, body)), nullptr);
}

// ------------------------------------------------------------------------------ 400: fhirServer, fhirAuthorization

TEST(RequestValidation, FhirAuthorizationWithoutFhirServer) {
  json::object body = load(kSignFixture);
  body["fhirAuthorization"] = valid_authorization();
  expect_400(parse(kOrderSign, body), {"'fhirAuthorization'", "'fhirServer'"});
}

TEST(RequestValidation, FhirAuthorizationNotAnObject) {
  json::object body = load(kSignFixture);
  body["fhirServer"] = "https://ehr.example.org/fhir";
  body["fhirAuthorization"] = "Bearer abc";
  expect_400(parse(kOrderSign, body), {"'fhirAuthorization' must be an object"});
}

TEST(RequestValidation, FhirAuthorizationRequiredFields) {
  for (std::string_view key : {"access_token", "token_type", "scope", "subject", "expires_in"}) {
    json::object body = load(kSignFixture);
    body["fhirServer"] = "https://ehr.example.org/fhir";
    auto auth = valid_authorization();
    auth.erase(key);
    body["fhirAuthorization"] = auth;
    expect_400(parse(kOrderSign, body), {"missing required field 'fhirAuthorization." + std::string(key) + "'"});
  }
}

TEST(RequestValidation, FhirAuthorizationWrongTypes) {
  json::object body = load(kSignFixture);
  body["fhirServer"] = "https://ehr.example.org/fhir";
  auto auth = valid_authorization();
  auth["access_token"] = "";
  body["fhirAuthorization"] = auth;
  expect_400(parse(kOrderSign, body), {"'fhirAuthorization.access_token' must be a non-empty string"});

  auth = valid_authorization();
  auth["token_type"] = "MAC";
  body["fhirAuthorization"] = auth;
  expect_400(parse(kOrderSign, body), {"'fhirAuthorization.token_type' must be \"Bearer\""});

  for (json::value exp : {json::value("3600"), json::value(3600.5), json::value(true), json::value(nullptr)}) {
    auth = valid_authorization();
    auth["expires_in"] = exp;
    body["fhirAuthorization"] = auth;
    expect_400(parse(kOrderSign, body), {"'fhirAuthorization.expires_in' must be an integer"});
  }
}

TEST(RequestValidation, FhirServerNotAnAbsoluteHttpUrl) {
  for (std::string_view url : {"ehr.example.org/fhir", "/fhir", "ftp://ehr.example.org/fhir", "urn:uuid:1234",
                               "https:", "https:/fhir", "https://", "not a url"}) {
    json::object body = load(kSignFixture);
    body["fhirServer"] = url;
    expect_400(parse(kOrderSign, body), {"'fhirServer' must be an absolute http(s) URL"});
  }
}

TEST(RequestValidation, FhirServerNotAString) {
  json::object body = load(kSignFixture);
  body["fhirServer"] = 443;
  expect_400(parse(kOrderSign, body), {"'fhirServer' must be a non-empty string"});
  body["fhirServer"] = "";
  expect_400(parse(kOrderSign, body), {"'fhirServer' must be a non-empty string"});
}

// ------------------------------------------------------------------------------ 400: prefetch

TEST(RequestValidation, PrefetchNotAnObject) {
  json::object body = load(kSignFixture);
  body["prefetch"] = json::array{};
  expect_400(parse(kOrderSign, body), {"'prefetch' must be an object"});
  body["prefetch"] = "patient";
  expect_400(parse(kOrderSign, body), {"'prefetch' must be an object"});
}

// A prefetch value that is not a resource at all is as good as missing: recorded, then fetched
// or unavailable.
TEST(RequestValidation, PrefetchValueNotAResourceIsMissing) {
  json::object body = load(kSignFixture);
  prefetch_of(body)["patient"] = "Patient/pat-01";
  auto r = expect_ok(parse(kOrderSign, body));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(missing(*r), (std::vector<std::string>{"patient"}));
  EXPECT_EQ(issue_paths(*r), (std::vector<std::string>{"prefetch.patient"}));
  body = load(kSignFixture);
  prefetch_of(body)["observations"] = json::array{};
  r = expect_ok(parse(kOrderSign, body));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(missing(*r), (std::vector<std::string>{"observations"}));
}

TEST(RequestValidation, PrefetchResourceWithWrongTypedFieldDropsIt) {
  json::object body = load(kSignFixture);
  prefetch_of(body).at("patient").as_object()["birthDate"] = 19800101;
  auto r = expect_ok(parse(kOrderSign, body));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(issue_paths(*r), (std::vector<std::string>{"prefetch.patient: Patient.birthDate"}));
  EXPECT_EQ(r->input.prefetch->at("patient").as_object().if_contains("birthDate"), nullptr);

  body = load(kSignFixture);
  prefetch_of(body).at("conditions").at("entry").at(0).at("resource").as_object()["code"] = "M17.11";
  r = expect_ok(parse(kOrderSign, body));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(issue_paths(*r), (std::vector<std::string>{"prefetch.conditions: Bundle.entry[0].resource.Condition.code"}));
  EXPECT_TRUE(r->missing_prefetch.empty());

  body = load(kSignFixture);
  prefetch_of(body).at("conditions").at("entry").at(0).at("resource").as_object().erase("resourceType");
  expect_400(parse(kOrderSign, body), {"'prefetch.conditions' is not valid FHIR R4", "Bundle.entry[0].resource.resourceType"});
}

TEST(RequestValidation, UnrequestedPrefetchKeysAreStillChecked) {
  json::object body = load(kSignFixture);
  prefetch_of(body)["extra"] = 5;
  EXPECT_EQ(issue_paths(*expect_ok(parse(kOrderSign, body))), (std::vector<std::string>{"prefetch.extra"}));
  prefetch_of(body)["extra"] = json::object{{"resourceType", "Encounter"}, {"id", "enc-01"}};
  auto r = expect_ok(parse(kOrderSign, body));
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->missing_prefetch.empty());
}

// ------------------------------------------------------------------------------ missing prefetch, 412

TEST(MissingPrefetch, AbsentKeyIsMissing) {
  json::object body = load(kSignFixture);
  prefetch_of(body).erase("procedures");
  auto r = expect_ok(parse(kOrderSign, body));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(missing(*r), (std::vector<std::string>{"procedures"}));
}

TEST(MissingPrefetch, NullIsSatisfiedWithNoData) {
  json::object body = load(kSignFixture);
  prefetch_of(body)["conditions"] = nullptr;
  prefetch_of(body)["observations"] = nullptr;
  auto r = expect_ok(parse(kOrderSign, body));
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->missing_prefetch.empty());
  {
    auto e = cds::check_data_available(*r);
    EXPECT_FALSE(e.has_value()) << (e ? e->message : "");
  }
}

TEST(MissingPrefetch, OperationOutcomeIsMissing) {
  json::object body = load(kSignFixture);
  prefetch_of(body)["conditions"] = json::object{
      {"resourceType", "OperationOutcome"},
      {"issue", json::array{json::object{{"severity", "error"}, {"code", "timeout"}}}}};
  auto r = expect_ok(parse(kOrderSign, body));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(missing(*r), (std::vector<std::string>{"conditions"}));
}

TEST(MissingPrefetch, NoPrefetchAtAllMissesEveryKeyInTemplateOrder) {
  json::object body = load(kViewFixture);
  body.erase("prefetch");
  auto r = expect_ok(parse(kPatientView, body));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->input.prefetch, nullptr);
  EXPECT_EQ(missing(*r), (std::vector<std::string>{"patient", "conditions", "procedures", "observations"}));
}

TEST(MissingPrefetch, NullPrefetchMissesEveryKey) {
  json::object body = load(kViewFixture);
  body["prefetch"] = nullptr;
  auto r = expect_ok(parse(kPatientView, body));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->input.prefetch, nullptr);
  EXPECT_EQ(missing(*r).size(), 4u);
}

TEST(MissingPrefetch, EmptyPrefetchObjectMissesEveryKey) {
  json::object body = load(kSelectFixture);
  body["prefetch"] = json::object{};
  auto r = expect_ok(parse(kOrderSelect, body));
  ASSERT_NE(r, nullptr);
  ASSERT_NE(r->input.prefetch, nullptr);
  EXPECT_EQ(missing(*r), (std::vector<std::string>{"patient", "conditions", "procedures", "observations"}));
}

// Some keys missing and nothing to fetch them from: they are unavailable, not a 412.
TEST(CheckDataAvailable, SomeMissingWithoutFhirServerAreUnavailable) {
  json::object body = load(kSignFixture);
  prefetch_of(body).erase("patient");
  prefetch_of(body)["observations"] = json::object{{"resourceType", "OperationOutcome"}};
  auto r = expect_ok(parse(kOrderSign, body));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(missing(*r), (std::vector<std::string>{"patient", "observations"}));
  auto e = cds::check_data_available(*r);
  EXPECT_FALSE(e.has_value()) << (e ? e->message : "");
  cds::settle_unfetchable(*r);
  EXPECT_TRUE(r->missing_prefetch.empty());
  EXPECT_EQ(std::vector<std::string>(r->unavailable.begin(), r->unavailable.end()),
            (std::vector<std::string>{"patient", "observations"}));
}

// No patient data at all can be had: every key missing and no fhirServer. Then 412.
TEST(CheckDataAvailable, EveryKeyMissingWithoutFhirServerIs412NamingTheKeys) {
  json::object body = load(kSignFixture);
  body["prefetch"] = json::object{{"conditions", json::object{{"resourceType", "OperationOutcome"}}}};
  auto r = expect_ok(parse(kOrderSign, body));
  ASSERT_NE(r, nullptr);
  auto e = cds::check_data_available(*r);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->status, 412u);
  EXPECT_NE(e->message.find("patient, conditions, procedures, observations"), std::string::npos) << e->message;
  EXPECT_NE(e->message.find("fhirServer"), std::string::npos) << e->message;
  // One key sent as null ("found nothing") is patient data: no 412.
  body["prefetch"].as_object()["procedures"] = nullptr;
  r = expect_ok(parse(kOrderSign, body));
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(cds::check_data_available(*r).has_value());
}

TEST(CheckDataAvailable, MissingWithFhirServerIsNotAnError) {
  json::object body = load(kSignFixture);
  prefetch_of(body).erase("patient");
  body["fhirServer"] = "https://ehr.example.org/fhir";
  body["fhirAuthorization"] = valid_authorization();
  auto r = expect_ok(parse(kOrderSign, body));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(missing(*r), (std::vector<std::string>{"patient"}));
  {
    auto e = cds::check_data_available(*r);
    EXPECT_FALSE(e.has_value()) << (e ? e->message : "");
  }
}

TEST(CheckDataAvailable, NothingMissingIsNotAnError) {
  auto r = expect_ok(parse(kPatientView, load(kViewFixture)));
  ASSERT_NE(r, nullptr);
  {
    auto e = cds::check_data_available(*r);
    EXPECT_FALSE(e.has_value()) << (e ? e->message : "");
  }
}

}  // namespace
}  // namespace request_validation_test
