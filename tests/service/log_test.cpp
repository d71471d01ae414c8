// Log lines that a fault can repeat thousands of times a second are rate-limited per kind,
// and the line after a quiet window says how many there were.
#include "cds/log.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace cdstest {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(Log, RepeatedLinesAreWrittenOncePerWindowWithTheirCount) {
  cds::set_log_level(cds::LogLevel::info);
  cds::set_log_repeat_window(300ms);
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 5000; ++i) cds::log_repeated(cds::LogLevel::error, "test flood", "accept: Too many open files");
  cds::log_repeated(cds::LogLevel::warning, "test other", "another kind is not held back");
  std::this_thread::sleep_for(350ms);
  cds::log_repeated(cds::LogLevel::error, "test flood", "accept: Too many open files");
  const auto lines = lines_of(::testing::internal::GetCapturedStderr());
  cds::set_log_repeat_window(10s);
  cds::set_log_level(cds::LogLevel::error);

  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find(" error accept: Too many open files"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find("\u00d7"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(" warning another kind is not held back"), std::string::npos) << lines[1];
  // 4,999 held back after the first line, and this one.
  EXPECT_NE(lines[2].find("accept: Too many open files (\u00d75,000 in the last 3"), std::string::npos) << lines[2];
}

TEST(Log, ThousandsAreSeparated) {
  EXPECT_EQ(cds::with_thousands(0), "0");
  EXPECT_EQ(cds::with_thousands(999), "999");
  EXPECT_EQ(cds::with_thousands(1000), "1,000");
  EXPECT_EQ(cds::with_thousands(3'912'345), "3,912,345");
}

}  // namespace
}  // namespace cdstest
