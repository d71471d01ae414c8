// Micro-benchmarks of the invocation hot path on bench/data/order-sign-60.json (60-resource
// prefetch, 3 draft orders, one flagged): parse + validate, FHIR views, rule evaluation, card
// serialization, and the three together. Each reports C++ heap allocations per operation.
#include "bench_common.hpp"

#include "fhir/fhir.hpp"
#include "rules/engine.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/static_resource.hpp>

#include <cstdlib>
#include <iostream>

namespace {
namespace json = boost::json;
using bench::AllocScope;

rules::EvalOptions eval_options(const cds::HookRequest& r) {
  return {bench::bench_now(), r.input.hook_instance, "https://cds.bench.local"};
}

// (a) Request parse + validation: JSON parse into a DOM, CDS Hooks checks, FHIR type checks of
// the draft orders and every prefetch resource.
void BM_ParseHookRequest(benchmark::State& state) {
  const std::string& body = bench::request_body();
  const auto& service = bench::order_sign_service();
  {
    AllocScope allocs(state);
    for (auto _ : state) {
      auto parsed = cds::parse_hook_request(service, body);
      benchmark::DoNotOptimize(parsed);
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ParseHookRequest);

// Parse only (no validation), with Boost.JSON's default resource: the share of (a) that is JSON.
void BM_JsonParse_Default(benchmark::State& state) {
  const std::string& body = bench::request_body();
  {
    AllocScope allocs(state);
    for (auto _ : state) {
      json::value v = json::parse(body);
      benchmark::DoNotOptimize(v);
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_JsonParse_Default);

// The same parse into a per-request arena (json::monotonic_resource with a 64 KiB initial
// block): what the service could do instead of one malloc per JSON node.
void BM_JsonParse_Monotonic(benchmark::State& state) {
  const std::string& body = bench::request_body();
  {
    AllocScope allocs(state);
    for (auto _ : state) {
      json::monotonic_resource mr(64 * 1024);
      json::value v = json::parse(body, &mr);
      benchmark::DoNotOptimize(v);
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_JsonParse_Monotonic);

// The FHIR type checks alone (fhir::validate_resource on the 4 prefetch values + draftOrders).
void BM_ValidateResources(benchmark::State& state) {
  const cds::HookRequest& r = bench::parsed_request();
  AllocScope allocs(state);
  for (auto _ : state) {
    std::size_t issues = fhir::validate_resource(r.input.context->at("draftOrders")).size();
    for (const auto& kv : *r.input.prefetch)
      if (!kv.value().is_null()) issues += fhir::validate_resource(kv.value()).size();
    benchmark::DoNotOptimize(issues);
  }
}
BENCHMARK(BM_ValidateResources);

// (b) FHIR view construction: walk the 60-resource prefetch and the draft orders with
// for_each_resource and typed views, read what the rules read (codes, texts, statuses, dates,
// body sites, values), and build + query a ReferenceIndex over prefetch and draftOrders.
void BM_FhirViews(benchmark::State& state) {
  const cds::HookRequest& r = bench::parsed_request();
  const json::object& prefetch = *r.input.prefetch;
  const json::value& drafts = r.input.context->at("draftOrders");
  std::size_t resources = 0;
  AllocScope allocs(state);
  for (auto _ : state) {
    std::size_t sum = 0;
    resources = 0;
    fhir::ReferenceIndex index;
    auto codes = [&](fhir::CodeableConcept c) {
      sum += c.text().size();
      for (fhir::Coding k : c.codings()) sum += k.system().size() + k.code().size() + k.display().size();
    };
    for (const auto& kv : prefetch) {
      index.add(kv.value());
      fhir::for_each_resource(kv.value(), [&](const json::object& o) {
        ++resources;
        const fhir::Resource res(&o);
        sum += res.id().size();
        if (res.is("Patient")) {
          const fhir::Patient p(&o);
          if (auto b = p.birth_date()) sum += static_cast<std::size_t>(fhir::age_in_years(*b, bench::bench_now()));
        } else if (res.is("Condition")) {
          const fhir::Condition c(&o);
          codes(c.code());
          for (auto site : c.body_sites()) codes(site);
          sum += c.is_active() ? 1 : 0;
          if (auto s = c.onset().start) sum += static_cast<std::size_t>(s->time_since_epoch().count() & 1);
        } else if (res.is("Procedure")) {
          const fhir::Procedure p(&o);
          codes(p.code());
          for (auto site : p.body_sites()) codes(site);
          for (auto used : p.used_codes()) codes(used);
          sum += p.status().size();
          if (auto s = p.performed().start) sum += static_cast<std::size_t>(s->time_since_epoch().count() & 1);
        } else if (res.is("Observation")) {
          const fhir::Observation ob(&o);
          codes(ob.code());
          codes(ob.body_site());
          if (auto v = ob.value().number()) sum += static_cast<std::size_t>(*v);
          sum += ob.value().string().size() + (ob.is_usable() ? 1 : 0);
          if (auto s = ob.effective().start) sum += static_cast<std::size_t>(s->time_since_epoch().count() & 1);
        }
      });
    }
    index.add(drafts);
    fhir::for_each_resource(drafts, [&](const json::object& o) {
      ++resources;
      const fhir::Order order(&o);
      codes(order.code());
      order.for_each_body_site([&](fhir::CodeableConcept c) { codes(c); });
      for (auto rc : order.reason_codes()) codes(rc);
      if (auto n = order.repeat_count()) sum += static_cast<std::size_t>(*n);
      for (fhir::Annotation a : order.notes()) sum += a.text().size();
    });
    // Resolve every Procedure's reasonReference and a reference per draft order.
    for (std::string_view ref : {"Condition/cond-koa", "ServiceRequest/sr-amnio-1", "MedicationRequest/mr-ha-1",
                                 "Observation/obs-kl", "Procedure/proc-ha-1", "Condition/does-not-exist"})
      sum += index.resolve(ref) != nullptr ? 1 : 0;
    benchmark::DoNotOptimize(sum);
  }
  state.counters["resources"] = static_cast<double>(resources);
}
BENCHMARK(BM_FhirViews);

// (c) Rule evaluation on the benchmark request (rules loaded once via cds::RulesStore::open).
void BM_RuleEvaluate(benchmark::State& state) {
  const cds::HookRequest& r = bench::parsed_request();
  auto rules = bench::rule_set();
  const auto options = eval_options(r);
  {
    auto check = rules::evaluate(r.input, *rules, options);
    if (check.card_records.size() != 2) state.SkipWithError("expected 2 cards (critical + whole-joint plan)");
  }
  std::size_t cards = 0;
  {
    AllocScope allocs(state);
    for (auto _ : state) {
      rules::Evaluation ev = rules::evaluate(r.input, *rules, options);
      cards = ev.card_records.size();
      benchmark::DoNotOptimize(ev);
    }
  }
  state.counters["cards"] = static_cast<double>(cards);
}
BENCHMARK(BM_RuleEvaluate);

// The same request without the flagged (amniotic) order: the analysis alone, no card built.
void BM_RuleEvaluate_NoCards(benchmark::State& state) {
  static const std::unique_ptr<cds::HookRequest> request = [] {
    json::value doc = json::parse(bench::request_body());
    json::array& entries = doc.at("context").at("draftOrders").at("entry").as_array();
    entries.erase(entries.end() - 1);  // the amniotic order is last
    auto parsed = cds::parse_hook_request(bench::order_sign_service(), json::serialize(doc));
    return std::get<std::unique_ptr<cds::HookRequest>>(std::move(parsed));
  }();
  auto rules = bench::rule_set();
  const auto options = eval_options(*request);
  std::size_t cards = 0;
  {
    AllocScope allocs(state);
    for (auto _ : state) {
      rules::Evaluation ev = rules::evaluate(request->input, *rules, options);
      cards = ev.card_records.size();
      benchmark::DoNotOptimize(ev);
    }
  }
  state.counters["cards"] = static_cast<double>(cards);
}
BENCHMARK(BM_RuleEvaluate_NoCards);

// (d) Card serialization. The engine writes the cards as JSON text while it builds them (inside
// (c)); what the service adds is the response body around them, {"cards": <cards_json>}.
void BM_CardSerialize(benchmark::State& state) {
  const cds::HookRequest& r = bench::parsed_request();
  const auto ev = rules::evaluate(r.input, *bench::rule_set(), eval_options(r));
  std::size_t bytes = 0;
  {
    AllocScope allocs(state);
    for (auto _ : state) {
      std::string out = cds::hook_response_body(ev.cards_json);
      bytes = out.size();
      benchmark::DoNotOptimize(out);
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["body_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_CardSerialize);

// (a)+(c)+(d): parse + validate + evaluate + serialize, i.e. the service's CPU work per call
// without HTTP, TLS, JWT and the audit write.
void BM_Pipeline(benchmark::State& state) {
  const std::string& body = bench::request_body();
  const auto& service = bench::order_sign_service();
  auto rules = bench::rule_set();
  AllocScope allocs(state);
  for (auto _ : state) {
    auto parsed = cds::parse_hook_request(service, body);
    const auto& r = *std::get<std::unique_ptr<cds::HookRequest>>(parsed);
    auto ev = rules::evaluate(r.input, *rules, eval_options(r));
    std::string out = cds::hook_response_body(ev.cards_json);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_Pipeline);

}  // namespace
