// The audit write (cds::SqliteAuditStore, SQLite WAL, synchronous=FULL, group commit) for a record like
// the benchmark request's (2 cards, 3 orders), on disk (/var/tmp, or $CDS_BENCH_AUDIT_DISK) and
// on tmpfs (/dev/shm: fsync costs nothing, i.e. "audit without durability").
// Arg: records in flight, as with that many concurrent requests: each iteration submits them
// and waits until every one is committed. Wall-clock time per record (UseRealTime).
#include "bench_common.hpp"

#include "cds/audit/sqlite_store.hpp"

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <unistd.h>

namespace {
namespace fs = std::filesystem;

cds::InvocationRecord make_record(std::uint64_t n, const rules::Evaluation& ev) {
  cds::InvocationRecord r;
  r.received_at = "2026-11-25T12:00:00.000Z";
  r.hook = "order-sign";
  r.service_id = "knee-oa-order-sign";
  r.hook_instance = "6f1c3b0e-8d2a-4c61-9b7e-4f2a60c0be60";
  r.user_id = "Practitioner/dr-bench";
  r.encounter_id = "enc-bench-60";
  r.patient_ref = "hmac-sha256:0c1f6d9a3b2e4f5061728394a5b6c7d8e9f00112233445566778899aabbccdd";
  r.jwt_iss = "https://ehr.example.org";
  r.jwt_sub = "bench-ehr";
  r.rules_version = "sha256:49cace8b9e9ceb0e05f1afcf16352d13dd333f7c6480c6f8b878ec360143a2ce";
  r.outcome = "ok";
  r.http_status = 200;
  r.latency_us = 1500;
  r.patient_type = ev.patient_type;
  for (const auto& c : ev.card_records) {
    rules::CardRecord a = c;
    a.uuid += "-" + std::to_string(n);  // card uuids are UNIQUE in the schema
    a.override_reason_codes = {"https://cds.bench.local/override|patient-preference", "https://cds.bench.local/override|other"};
    a.suggestion_uuids = {"s1-" + std::to_string(n), "s2-" + std::to_string(n)};
    r.cards.push_back(std::move(a));
  }
  r.orders = ev.orders;
  return r;
}

void BM_AuditCommit(benchmark::State& state, bool tmpfs) {
  const char* disk = std::getenv("CDS_BENCH_AUDIT_DISK");
  const fs::path base = tmpfs ? fs::path("/dev/shm") : fs::path(disk && *disk ? disk : "/var/tmp");
  const fs::path dir = base / ("cds-bench-audit-" + std::to_string(::getpid()) + (tmpfs ? "-shm" : "-disk"));
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    auto opened = cds::SqliteAuditStore::open(dir / "audit.db");
    if (auto* err = std::get_if<std::string>(&opened)) {
      state.SkipWithError(err->c_str());
      return;
    }
    auto& audit = *std::get<std::unique_ptr<cds::SqliteAuditStore>>(opened);
    const cds::HookRequest& req = bench::parsed_request();
    const auto ev = rules::evaluate(req.input, *bench::rule_set(), {bench::bench_now(), req.input.hook_instance, "https://cds.bench.local"});
    const auto in_flight = static_cast<std::size_t>(state.range(0));
    std::mutex m;
    std::condition_variable cv;
    std::size_t pending = 0;
    std::uint64_t n = 0, failed = 0;
    for (auto _ : state) {
      state.PauseTiming();
      std::vector<cds::InvocationRecord> records;
      for (std::size_t i = 0; i < in_flight; ++i) records.push_back(make_record(n++, ev));
      pending = in_flight;
      state.ResumeTiming();
      for (auto& r : records)
        audit.submit(std::move(r), [&](bool durable) {
          std::lock_guard lock(m);
          failed += durable ? 0 : 1;
          if (--pending == 0) cv.notify_one();
        });
      std::unique_lock lock(m);
      cv.wait(lock, [&] { return pending == 0; });
    }
    if (failed) state.SkipWithError("audit commits failed");
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * in_flight));
  }
  fs::remove_all(dir);
}
BENCHMARK_CAPTURE(BM_AuditCommit, disk, false)->Arg(1)->Arg(32)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_AuditCommit, tmpfs, true)->Arg(1)->Arg(32)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
