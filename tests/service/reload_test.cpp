// SIGHUP reloads: rules are swapped atomically and a broken file keeps the rules in force; the
// TLS certificate is replaced for new connections.
#include "cds/hooks/rules_store.hpp"
#include "test_server.hpp"

#include <boost/asio/ssl/stream.hpp>

namespace cdstest {
namespace {

TEST(RulesReload, NewContentChangesTheVersionAndABrokenFileKeepsTheRulesInForce) {
  fs::path dir = make_temp_dir("cds-rules-reload");
  fs::copy(CDS_RULES_DIR, dir, fs::copy_options::recursive);
  auto opened = cds::RulesStore::open(dir);
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<cds::RulesStore>>(opened));
  auto& store = *std::get<std::unique_ptr<cds::RulesStore>>(opened);
  const std::string v1(rules::version_of(*store.current()));
  EXPECT_EQ(v1.rfind("sha256:", 0), 0u);

  // A rule author adds a new amniotic brand name: no rebuild, a new version.
  const fs::path donor = dir / "valuesets" / "donor-derived-product.json";
  json::value vs = json::parse(read_file(donor));
  vs.at("terms").as_array().push_back(json::object{{"text", "amniofresh"}});
  std::ofstream(donor, std::ios::trunc) << json::serialize(vs);
  EXPECT_EQ(store.reload(), "");
  const std::string v2(rules::version_of(*store.current()));
  EXPECT_NE(v2, v1);

  // A broken edit is refused, named, and the rules in force stay.
  std::ofstream(donor, std::ios::trunc) << "{ \"id\": ";
  const std::string err = store.reload();
  EXPECT_NE(err.find("donor-derived-product.json"), std::string::npos) << err;
  EXPECT_EQ(std::string(rules::version_of(*store.current())), v2);
  fs::remove_all(dir);
}

// Handshake with `ca` as the only trust anchor; true when the server's certificate verifies.
bool handshake_ok(unsigned short port, const fs::path& ca) {
  net::io_context ioc;
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_verify_mode(ssl::verify_peer);
  ctx.load_verify_file(ca.string());
  ssl::stream<beast::tcp_stream> stream(ioc, ctx);
  beast::get_lowest_layer(stream).expires_after(5s);
  bool ok = false;
  beast::get_lowest_layer(stream).async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                                                [&](beast::error_code ec) {
                                                  if (ec) return;
                                                  stream.async_handshake(ssl::stream_base::client,
                                                                         [&](beast::error_code e) { ok = !e; });
                                                });
  ioc.run_for(8s);
  return ok;
}

TEST(TlsReload, ANewCertificateServesNewConnections) {
  fs::path live = make_temp_dir("cds-tls-live");
  fs::path other = make_temp_dir("cds-tls-other");
  ASSERT_EQ(std::system(("bash '" CDS_CERTS_SCRIPT "' '" + other.string() + "' >/dev/null 2>&1").c_str()), 0);
  fs::copy_file(certs_dir() / "server.crt", live / "server.crt");
  fs::copy_file(certs_dir() / "server.key", live / "server.key");
  TestServer server([&](cds::Config& c) {
    c.tls_cert = live / "server.crt";
    c.tls_key = live / "server.key";
  });
  EXPECT_TRUE(handshake_ok(server.port(), certs_dir() / "ca.crt"));
  fs::copy_file(other / "server.crt", live / "server.crt", fs::copy_options::overwrite_existing);
  fs::copy_file(other / "server.key", live / "server.key", fs::copy_options::overwrite_existing);
  EXPECT_EQ(server.reload(), "");
  EXPECT_FALSE(handshake_ok(server.port(), certs_dir() / "ca.crt"));
  EXPECT_TRUE(handshake_ok(server.port(), other / "ca.crt"));
  // A broken key is refused and the certificate in force stays.
  std::ofstream(live / "server.key", std::ios::trunc) << "not a key";
  EXPECT_NE(server.reload().find("tls"), std::string::npos);
  EXPECT_TRUE(handshake_ok(server.port(), other / "ca.crt"));
  server.stop();
  fs::remove_all(live);
  fs::remove_all(other);
}

TEST(AuditPseudonyms, PatientReferencesAreKeyedHashesAndTheKeyFileIsPrivate) {
  TestServer server;
  Client client(server);
  ASSERT_EQ(client.post(kSignService, fixture_request(kFixture01)).result_int(), 200);
  ASSERT_EQ(client.post(kSignService, fixture_request(kFixture01)).result_int(), 200);
  AuditDb db(server.audit_db());
  auto rows = db.rows("SELECT patient_ref FROM invocation");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0].rfind("hmac-sha256:", 0), 0u);
  EXPECT_EQ(rows[0][0].size(), 12u + 64u);
  EXPECT_EQ(rows[0][0], rows[1][0]);  // the same patient, the same pseudonym
  const std::string patient(json::parse(fixture_request(kFixture01)).at("context").at("patientId").as_string());
  EXPECT_EQ(rows[0][0].find(patient), std::string::npos);
  const fs::path key = server.audit_db().string() + ".key";
  ASSERT_TRUE(fs::exists(key));
  EXPECT_EQ(fs::status(key).permissions() & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
}

}  // namespace
}  // namespace cdstest
