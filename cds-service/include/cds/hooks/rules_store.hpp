#pragma once
// Holds the live rule set and swaps it atomically on reload (SIGHUP). A reload that fails
// keeps the rules already in force.
#include "rules/engine.hpp"

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace cds {

// Reads knee-oa.json and valuesets/*.json (every *.json below `dir`) as rule files.
std::variant<std::vector<rules::RuleFile>, std::string> read_rule_files(const std::filesystem::path& dir);

class RulesStore {
 public:
  static std::variant<std::unique_ptr<RulesStore>, std::string> open(std::filesystem::path dir);
  // Empty on success; otherwise why the new files were refused (old rules stay).
  std::string reload();
  std::shared_ptr<const rules::RuleSet> current() const { return current_.load(); }

 private:
  explicit RulesStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
  std::atomic<std::shared_ptr<const rules::RuleSet>> current_;
};

}  // namespace cds
