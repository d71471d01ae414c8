#pragma once
// The fallback FHIR client: when a client's prefetch is missing, fetches the data from its FHIR
// server with the bearer token it gave us. HTTPS only, certificates verified, connections kept
// alive and reused per origin, every query of an invocation in flight at once, searchset pages
// followed (same origin only, up to caps on resources, pages and bytes), and one deadline for
// the whole lot.
#include "fhir/json.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cds {

struct FhirClientOptions {
  std::string ca_file;                   // empty: the system trust store
  std::size_t max_resources = 1000;      // per query, across pages
  std::size_t max_pages = 100;           // per query: ends a chain of pages that add nothing
  std::size_t max_idle_per_origin = 8;   // kept-alive connections
  std::size_t max_response_bytes = 16 * 1024 * 1024;  // per query, across pages
  std::string accept = "application/fhir+json";
};

struct FhirQuery {
  std::string key;  // the prefetch key it satisfies
  std::string url;  // absolute: {fhirServer}/{rendered template}
};

struct FhirResult {
  std::string key;
  std::optional<boost::json::value> value;  // a resource, or a searchset Bundle of every page
  std::string failure;                      // when no value: "timeout", "HTTP 401", "invalid JSON", ...
  // With a value: empty when it holds every page; else why paging stopped early ("the resource
  // cap", "the page cap", "the size cap", "a next link to another origin").
  std::string truncated;
};

class FhirClient {
 public:
  FhirClient(boost::asio::any_io_executor executor, FhirClientOptions options);
  ~FhirClient();

  using Done = std::function<void(std::vector<FhirResult>)>;
  // Runs every query concurrently and calls `done` exactly once, when all have finished or at
  // `deadline`, whichever is first (queries still running then are reported as "timeout").
  // `done` runs on the client's executor. The bearer token is sent, never logged.
  void fetch(std::vector<FhirQuery> queries, std::string bearer_token, std::chrono::steady_clock::time_point deadline,
             Done done);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace cds
