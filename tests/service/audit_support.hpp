#pragma once
// The audit log used directly, without a server: open one, and commit a record and wait.
#include "cds/audit/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>

namespace cdstest {

// Opens (creating) the audit log at `file`; a failure fails the test and returns null.
inline std::unique_ptr<cds::SqliteAuditStore> open_audit_store(const std::filesystem::path& file) {
  auto opened = cds::SqliteAuditStore::open(file);
  if (auto* error = std::get_if<std::string>(&opened)) {
    ADD_FAILURE() << "cannot open the audit log: " << *error;
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<cds::SqliteAuditStore>>(opened));
}

// Submits `record` and waits (at most 10 s) for its commit; whether it is durable.
inline bool submit_and_wait(cds::SqliteAuditStore& log, cds::AuditStore::Record record) {
  auto done = std::make_shared<std::promise<bool>>();
  auto result = done->get_future();
  log.submit(std::move(record), [done](bool durable) { done->set_value(durable); });
  if (result.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    ADD_FAILURE() << "the audit commit did not finish within 10 s";
    return false;
  }
  return result.get();
}

}  // namespace cdstest
