// cds-eval: evaluate a CDS Hooks request offline and print the response, for rule authors.
//   cds-eval REQUEST.json [--now 2026-11-25T12:00:00Z] [--rules rules/data] [--service ID]
#include "cds/hooks/hook_request.hpp"
#include "cds/hooks/rules_store.hpp"
#include "cds/hooks/services.hpp"

#include <boost/program_options.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

namespace po = boost::program_options;

int main(int argc, char** argv) {
  std::string request_file, now_text, rules_dir = "rules/data", service_id, base_url = "https://127.0.0.1:8443";
  po::options_description desc("cds-eval: evaluate a CDS Hooks request offline and print the response JSON");
  desc.add_options()("help,h", "print this help")("request", po::value(&request_file), "request JSON file")(
      "now", po::value(&now_text), "evaluation time, FHIR dateTime (default: the current time)")(
      "rules", po::value(&rules_dir), "rules data directory (default rules/data)")(
      "service", po::value(&service_id), "service id (default: the service for the request's hook)")(
      "base-url", po::value(&base_url), "public base URL used in cards");
  po::positional_options_description pos;
  pos.add("request", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "cds-eval: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help") || request_file.empty()) {
    std::cout << desc;
    return request_file.empty() && !vm.count("help") ? 2 : 0;
  }
  std::ifstream in(request_file, std::ios::binary);
  if (!in) {
    std::cerr << "cds-eval: cannot read " << request_file << "\n";
    return 2;
  }
  std::stringstream body;
  body << in.rdbuf();

  fhir::Instant now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  if (!now_text.empty()) {
    auto parsed = fhir::parse_date_time(now_text);
    if (!parsed) {
      std::cerr << "cds-eval: --now is not a FHIR date or dateTime\n";
      return 2;
    }
    now = parsed->start;
  }
  if (service_id.empty()) {
    boost::system::error_code ec;
    auto doc = boost::json::parse(body.str(), ec);
    std::string_view hook = ec ? std::string_view{} : fhir::string_field(doc.if_object(), "hook");
    for (const auto& s : cds::services())
      if (s.hook == hook) service_id = s.id;
  }
  const cds::ServiceDefinition* service = cds::find_service(service_id);
  if (service == nullptr) {
    std::cerr << "cds-eval: no service for this request (give --service)\n";
    return 2;
  }
  auto store = cds::RulesStore::open(rules_dir);
  if (auto* err = std::get_if<std::string>(&store)) {
    std::cerr << "cds-eval: " << *err << "\n";
    return 1;
  }
  auto parsed = cds::parse_hook_request(*service, body.str());
  if (auto* e = std::get_if<cds::ApiError>(&parsed)) {
    std::cout << cds::error_body(*e) << "\n";
    return 1;
  }
  auto& request = *std::get<std::unique_ptr<cds::HookRequest>>(parsed);
  // Offline there is no FHIR server: missing keys are unavailable, as in the service.
  request.fhir_server = {};
  if (auto e = cds::check_data_available(request)) {
    std::cout << cds::error_body(*e) << "\n";
    return 1;
  }
  cds::settle_unfetchable(request);
  request.input.unavailable = request.unavailable;
  for (const auto& d : request.data_issues) std::cerr << "cds-eval: data-quality issue dropped: " << d.path << "\n";
  auto rules = std::get<std::unique_ptr<cds::RulesStore>>(store)->current();
  // The seed is the hookInstance, so the same request prints the same card uuids every time.
  auto eval = rules::evaluate(request.input, *rules, {now, request.input.hook_instance, base_url});
  std::cout << cds::hook_response_body(eval.cards_json) << "\n";
  return 0;
}
