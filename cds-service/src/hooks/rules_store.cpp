#include "cds/hooks/rules_store.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace cds {

std::variant<std::vector<rules::RuleFile>, std::string> read_rule_files(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return "rules directory " + dir.string() + " does not exist";
  std::vector<rules::RuleFile> files;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); !ec && it != std::filesystem::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file() || it->path().extension() != ".json") continue;
    std::ifstream in(it->path(), std::ios::binary);
    if (!in) return "cannot read rule file " + it->path().string();
    std::ostringstream buf;
    buf << in.rdbuf();
    files.push_back({it->path().lexically_relative(dir).generic_string(), buf.str()});
  }
  if (ec) return "cannot list rules directory " + dir.string() + ": " + ec.message();
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return files;
}

std::variant<std::unique_ptr<RulesStore>, std::string> RulesStore::open(std::filesystem::path dir) {
  std::unique_ptr<RulesStore> store(new RulesStore(std::move(dir)));
  if (auto err = store->reload(); !err.empty()) return err;
  return store;
}

std::string RulesStore::reload() {
  auto files = read_rule_files(dir_);
  if (auto* err = std::get_if<std::string>(&files)) return *err;
  auto loaded = rules::load_rule_set(std::get<std::vector<rules::RuleFile>>(files));
  if (auto* err = std::get_if<rules::LoadError>(&loaded)) return "rule file " + err->file + ": " + err->message;
  current_.store(std::get<std::shared_ptr<const rules::RuleSet>>(std::move(loaded)));
  return {};
}

}  // namespace cds
