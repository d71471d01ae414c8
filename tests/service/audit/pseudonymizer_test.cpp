// The audit's patient pseudonyms: HMAC-SHA256 under the key file, stable, the same from every
// thread, and never the reference itself.
#include "cds/audit/pseudonymizer.hpp"

#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("cds-pseudonym-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A key file with these bytes, read as the service reads it.
std::variant<cds::Pseudonymizer, std::string> with_key_file(const fs::path& file, std::string_view bytes) {
  std::ofstream(file, std::ios::binary) << bytes;
  return cds::Pseudonymizer::from_key_file(file);
}

// HMAC-SHA256 by OpenSSL's one-shot call: an independent computation of what the audit stores.
std::string expected_pseudonym(const std::string& key, std::string_view reference) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(reference.data()),
       reference.size(), mac, &len);
  std::string out = "hmac-sha256:";
  static constexpr char hex[] = "0123456789abcdef";
  for (unsigned i = 0; i < len; ++i) out += hex[mac[i] >> 4], out += hex[mac[i] & 15];
  return out;
}

TEST(Pseudonymizer, CreatesAPrivateKeyAndStoresHmacSha256UnderIt) {
  const fs::path dir = fresh_dir("create");
  const fs::path key_file = dir / "keys" / "pseudonym.key";
  auto made = cds::Pseudonymizer::from_key_file(key_file);
  ASSERT_TRUE(std::holds_alternative<cds::Pseudonymizer>(made)) << std::get<std::string>(made);
  const auto& p = std::get<cds::Pseudonymizer>(made);
  EXPECT_EQ(fs::status(key_file).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  const std::string key = read_all(key_file);
  ASSERT_EQ(key.size(), 32u);

  const std::string a = p("Patient/p-1");
  EXPECT_EQ(a, expected_pseudonym(key, "Patient/p-1"));
  EXPECT_EQ(a.size(), std::string("hmac-sha256:").size() + 64);
  EXPECT_EQ(p("Patient/p-1"), a);  // stable
  EXPECT_NE(p("Patient/p-2"), a);
  EXPECT_EQ(a.find("p-1"), std::string::npos);

  // A restart reads the same key: the same pseudonyms, so reports still count patients.
  auto again = cds::Pseudonymizer::from_key_file(key_file);
  ASSERT_TRUE(std::holds_alternative<cds::Pseudonymizer>(again));
  EXPECT_EQ(std::get<cds::Pseudonymizer>(again)("Patient/p-1"), a);
  fs::remove_all(dir);
}

TEST(Pseudonymizer, ThreadsShareTheKeyedContextAndAgree) {
  const fs::path dir = fresh_dir("threads");
  const std::string key = "0123456789abcdef-an-operator-supplied-key";
  auto made = with_key_file(dir / "k", key);
  ASSERT_TRUE(std::holds_alternative<cds::Pseudonymizer>(made));
  const auto& p = std::get<cds::Pseudonymizer>(made);
  std::vector<std::string> got(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < got.size(); ++t)
    threads.emplace_back([&, t] {
      std::string last;
      for (int i = 0; i < 2000; ++i) last = p("Patient/p-" + std::to_string(i % 7));
      got[t] = last;  // i = 1999: p-4
    });
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, expected_pseudonym(key, "Patient/p-4"));
  fs::remove_all(dir);
}

TEST(Pseudonymizer, ShortKeyFileIsRefusedAndDisabledKeepsReferences) {
  const fs::path dir = fresh_dir("short");
  auto made = with_key_file(dir / "k", "too-short");
  ASSERT_TRUE(std::holds_alternative<std::string>(made));
  EXPECT_NE(std::get<std::string>(made).find("fewer than 16 bytes"), std::string::npos);
  EXPECT_EQ(cds::Pseudonymizer::disabled()("Patient/p-1"), "Patient/p-1");
  fs::remove_all(dir);
}

}  // namespace
