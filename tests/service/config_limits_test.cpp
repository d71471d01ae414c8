// The connection and shutdown limits: read from the file, defaults derived from the open-file
// limit, bad values refused with the key named.
#include "cds/config.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace cdstest {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::variant<cds::Config, std::string> load(const std::string& text) {
  const fs::path dir = make_temp_dir("cds-config-limits");
  {
    std::ofstream(dir / "config.json") << text;
  }
  auto loaded = cds::load_config_file(dir / "config.json");
  std::error_code ec;
  fs::remove_all(dir, ec);
  return loaded;
}

TEST(ConfigLimits, ConnectionCapsAndTheDrainDeadlineAreRead) {
  auto loaded = load(R"({"limits": {"max_connections": 500, "max_connections_per_ip": 20, "drain_timeout_ms": 2500}})");
  ASSERT_TRUE(std::holds_alternative<cds::Config>(loaded)) << std::get<std::string>(loaded);
  const auto& limits = std::get<cds::Config>(loaded).limits;
  EXPECT_EQ(limits.max_connections, 500u);
  EXPECT_EQ(limits.max_connections_per_ip, 20u);
  EXPECT_EQ(limits.drain_timeout, 2500ms);

  const cds::Limits defaults;
  EXPECT_EQ(defaults.max_connections, 0u);  // derived at start from the open-file limit
  EXPECT_EQ(defaults.max_connections_per_ip, 0u);
  EXPECT_EQ(defaults.drain_timeout, 10000ms);
}

TEST(ConfigLimits, BadValuesAreRefusedWithTheKeyNamed) {
  auto error = [](const std::string& text) {
    auto loaded = load(text);
    return std::holds_alternative<std::string>(loaded) ? std::get<std::string>(loaded) : std::string("accepted");
  };
  EXPECT_NE(error(R"({"limits": {"max_connections": -1}})").find("'limits.max_connections'"), std::string::npos);
  EXPECT_NE(error(R"({"limits": {"max_connections_per_ip": "ten"}})").find("'limits.max_connections_per_ip'"),
            std::string::npos);
  EXPECT_NE(error(R"({"limits": {"drain_timeout_ms": 1.5}})").find("'limits.drain_timeout_ms'"), std::string::npos);
}

// The default cap leaves an eighth of the descriptors (at least 128) for everything else.
TEST(ConfigLimits, TheDefaultCapLeavesRoomBelowTheOpenFileLimit) {
  EXPECT_EQ(cds::connections_for_file_limit(1024), 896u);
  EXPECT_EQ(cds::connections_for_file_limit(256), 128u);
  EXPECT_EQ(cds::connections_for_file_limit(65536), 57344u);
  EXPECT_EQ(cds::connections_for_file_limit(100), 16u);  // never none
}

}  // namespace
}  // namespace cdstest
