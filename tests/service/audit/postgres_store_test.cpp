// The PostgreSQL audit store against a real PostgreSQL (tests/pg/pg_cluster.sh): the SQLite
// schema's tables and columns, migration once under concurrent starts, group commit, token
// claims shared by every store on one database, purging, and reconnection after the server
// drops its connections.
#include "audit_support.hpp"
#include "pg_support.hpp"
#include "temp_dir.hpp"
#include "audit/postgres_schema.hpp"
#include "cds/audit/postgres_store.hpp"

#include <sqlite3.h>

#include <map>
#include <set>
#include <thread>

namespace cdstest {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<cds::PostgresAuditStore> open_pg(const std::string& uri) {
  auto opened = cds::PostgresAuditStore::open(uri);
  if (auto* e = std::get_if<std::string>(&opened)) {
    ADD_FAILURE() << "cannot open the PostgreSQL audit store: " << *e;
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<cds::PostgresAuditStore>>(opened));
}

cds::InvocationRecord invocation(const std::string& instance, int cards = 2) {
  cds::InvocationRecord r;
  r.received_at = "2026-11-24T10:00:00.000Z";
  r.hook = "order-sign";
  r.service_id = "knee-oa-order-sign";
  r.hook_instance = instance;
  r.user_id = "Practitioner/dr-1";
  r.patient_ref = "hmac-sha256:abc";
  r.outcome = "ok";
  r.latency_us = 1234;
  r.rules_version = "knee-oa@1";
  r.patient_type = "3";
  for (int i = 0; i < cards; ++i) {
    rules::CardRecord c;
    c.uuid = instance + "-card-" + std::to_string(i);
    c.rule_id = "donor-derived-product";
    c.indicator = "critical";
    c.summary = "Summary \"quoted\" \\ and ünïcode";
    c.triggered_by = {"ServiceRequest/sr-1"};
    c.override_reason_codes = {"http://example.org|patient-declined"};
    c.suggestion_uuids = {instance + "-sugg-" + std::to_string(i)};
    r.cards.push_back(c);
  }
  r.orders.push_back({"ServiceRequest/sr-1", {"http://snomed.info/sct|1"}, "donor-derived"});
  return r;
}

cds::TokenUse token(const std::string& jti, std::int64_t expires_unix = 4102444800) {
  return {"https://ehr.example.org", jti, expires_unix};
}

// Column names per table, in order, of a SQLite audit written by this build.
std::map<std::string, std::vector<std::string>> sqlite_columns(const fs::path& file) {
  std::map<std::string, std::vector<std::string>> out;
  sqlite3* db = nullptr;
  sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  for (const char* table : {"invocation", "card", "evaluated_order", "feedback", "write_probe"}) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, (std::string("PRAGMA table_info(") + table + ")").c_str(), -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) out[table].emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

TEST(PostgresAuditStore, HasTheSqliteTablesAndColumns) {
  PgDatabase db;
  ASSERT_TRUE(db.ok());
  auto store = open_pg(db.uri());
  ASSERT_NE(store, nullptr);
  const fs::path dir = make_temp_dir("cds-pg-schema");
  { auto sqlite = cdstest::open_audit_store(dir / "audit.db"); }
  for (const auto& [table, columns] : sqlite_columns(dir / "audit.db")) {
    std::string joined;
    for (const auto& c : columns) joined += (joined.empty() ? "" : ",") + c;
    EXPECT_EQ(db.query("SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns "
                       "WHERE table_name = '" + table + "'"),
              joined)
        << table;
  }
  fs::remove_all(dir);
}

TEST(PostgresAuditStore, ReplicasStartingTogetherMigrateOnce) {
  PgDatabase db;
  ASSERT_TRUE(db.ok());
  std::vector<std::thread> starts;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i)
    starts.emplace_back([&] {
      auto s = cds::PostgresAuditStore::open(db.uri());
      if (std::holds_alternative<std::unique_ptr<cds::PostgresAuditStore>>(s)) ++opened;
      else ADD_FAILURE() << std::get<std::string>(s);
    });
  for (auto& t : starts) t.join();
  EXPECT_EQ(opened.load(), 4);
  EXPECT_EQ(db.query("SELECT count(*) FROM audit_schema"), "1");
  EXPECT_EQ(db.query("SELECT version FROM audit_schema"), std::to_string(cds::pg::latest_schema_version()));
  EXPECT_EQ(cds::pg::latest_schema_version(), 2);  // 2: invocation.data_issues
  // A database newer than this build is refused, not written.
  db.query("UPDATE audit_schema SET version = 99");
  auto newer = cds::PostgresAuditStore::open(db.uri());
  ASSERT_TRUE(std::holds_alternative<std::string>(newer));
  EXPECT_NE(std::get<std::string>(newer).find("newer than this build"), std::string::npos);
}

TEST(PostgresAuditStore, InvocationCardsAndOrdersAreCommittedBeforeTheCallback) {
  PgDatabase db;
  ASSERT_TRUE(db.ok());
  auto store = open_pg(db.uri());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(submit_and_wait_fate(*store, invocation("hi-1")).durable);
  const std::string id = db.query("SELECT id FROM invocation WHERE hook_instance = 'hi-1'");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(db.query("SELECT count(*) FROM card WHERE invocation_id = " + id), "2");
  // The SQLite id layout: an invocation's cards and orders are the ids from id << 20 on.
  EXPECT_EQ(db.query("SELECT string_agg((id - (invocation_id << 20))::text, ',' ORDER BY id) FROM card"), "0,1");
  EXPECT_EQ(db.query("SELECT id - (invocation_id << 20) FROM evaluated_order"), "0");
  EXPECT_EQ(db.query("SELECT summary FROM card WHERE uuid = 'hi-1-card-0'"), "Summary \"quoted\" \\ and ünïcode");
  EXPECT_EQ(db.query("SELECT triggered_by FROM card WHERE uuid = 'hi-1-card-0'"), R"(["ServiceRequest/sr-1"])");
  EXPECT_EQ(db.query("SELECT latency_us || '/' || http_status || '/' || patient_type FROM invocation"), "1234/200/3");

  auto found = store->lookup_card("hi-1-card-1");
  ASSERT_TRUE(std::holds_alternative<std::optional<cds::IssuedCard>>(found));
  const auto& card = std::get<std::optional<cds::IssuedCard>>(found);
  ASSERT_TRUE(card.has_value());
  EXPECT_EQ(card->service_id, "knee-oa-order-sign");
  EXPECT_EQ(card->suggestion_uuids, std::vector<std::string>{"hi-1-sugg-1"});
  EXPECT_EQ(card->override_reason_codes, std::vector<std::string>{"http://example.org|patient-declined"});
  EXPECT_FALSE(store->find_card("no-such-card").has_value());

  cds::FeedbackRecord f;
  f.received_at = "2026-11-24T10:01:00.000Z";
  f.card_uuid = "hi-1-card-1";
  f.service_id = "knee-oa-order-sign";
  f.outcome = "accepted";
  f.accepted_suggestions = {"hi-1-sugg-1"};
  f.outcome_timestamp = "2026-11-24T10:01:00Z";
  ASSERT_TRUE(submit_and_wait_fate(*store, std::vector<cds::FeedbackRecord>{f}).durable);
  EXPECT_EQ(db.query("SELECT outcome || ' ' || accepted_suggestions FROM feedback"), R"(accepted ["hi-1-sugg-1"])");
  EXPECT_EQ(store->committed(), 2u);
}

TEST(PostgresAuditStore, GroupCommitCarriesManyRecordsPerTransaction) {
  PgDatabase db;
  ASSERT_TRUE(db.ok());
  auto store = open_pg(db.uri());
  ASSERT_NE(store, nullptr);
  constexpr int kRecords = 300;
  std::vector<std::future<cds::Committed>> fates;
  for (int i = 0; i < kRecords; ++i) {
    auto p = std::make_shared<std::promise<cds::Committed>>();
    fates.push_back(p->get_future());
    store->submit(invocation("burst-" + std::to_string(i), 1), [p](cds::Committed c) { p->set_value(c); });
  }
  int durable = 0;
  for (auto& f : fates) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    durable += f.get().durable;
  }
  EXPECT_EQ(durable, kRecords);
  EXPECT_EQ(db.query("SELECT count(*) FROM invocation"), std::to_string(kRecords));
  EXPECT_EQ(db.query("SELECT count(*) FROM card"), std::to_string(kRecords));
  // Submitted faster than one commit each: the writer batched them.
  EXPECT_LT(store->commits(), static_cast<std::uint64_t>(kRecords));
  EXPECT_EQ(store->committed(), static_cast<std::uint64_t>(kRecords));
  std::uint64_t histogram = 0;
  for (std::size_t b = 0; b <= cds::AuditStore::kCommitBuckets.size(); ++b) histogram += store->commit_latency_count(b);
  EXPECT_EQ(histogram, store->commits());
}

TEST(PostgresAuditStore, ATokenIsClaimedOnceAcrossStoresOnOneDatabase) {
  PgDatabase db;
  ASSERT_TRUE(db.ok());
  auto a = open_pg(db.uri());
  auto b = open_pg(db.uri());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(a->shared());

  auto first = invocation("hi-a");
  first.token = token("jti-1");
  ASSERT_TRUE(submit_and_wait_fate(*a, first).durable);
  auto again = invocation("hi-b");
  again.token = token("jti-1");
  const cds::Committed replay = submit_and_wait_fate(*b, again);
  EXPECT_FALSE(replay.durable);
  EXPECT_TRUE(replay.replay);
  EXPECT_EQ(db.query("SELECT count(*) FROM invocation WHERE hook_instance = 'hi-b'"), "0");

  // A token alone (discovery), and the same token on feedback, are refused the same way.
  EXPECT_TRUE(submit_and_wait_fate(*b, token("jti-2")).durable);
  EXPECT_TRUE(submit_and_wait_fate(*a, token("jti-2")).replay);
  // Another issuer's token with the same jti is another token.
  EXPECT_TRUE(submit_and_wait_fate(*a, cds::TokenUse{"https://other.example", "jti-2", 4102444800}).durable);

  // Two records with one token in the same batch: exactly one is written.
  auto x = invocation("hi-x"), y = invocation("hi-y");
  x.token = y.token = token("jti-3");
  auto px = std::make_shared<std::promise<cds::Committed>>(), py = std::make_shared<std::promise<cds::Committed>>();
  auto fx = px->get_future(), fy = py->get_future();
  a->submit(x, [px](cds::Committed c) { px->set_value(c); });
  a->submit(y, [py](cds::Committed c) { py->set_value(c); });
  ASSERT_EQ(fx.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  ASSERT_EQ(fy.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const auto cx = fx.get(), cy = fy.get();
  EXPECT_EQ(cx.durable + cy.durable, 1);
  EXPECT_EQ(cx.replay + cy.replay, 1);
  EXPECT_EQ(db.query("SELECT count(*) FROM invocation WHERE hook_instance IN ('hi-x', 'hi-y')"), "1");

  // Concurrent claims of one token from both stores: one wins, whatever the interleaving.
  for (int round = 0; round < 20; ++round) {
    const std::string jti = "race-" + std::to_string(round);
    auto pa = std::make_shared<std::promise<cds::Committed>>(), pb = std::make_shared<std::promise<cds::Committed>>();
    auto fa = pa->get_future(), fb = pb->get_future();
    a->submit(token(jti), [pa](cds::Committed c) { pa->set_value(c); });
    b->submit(token(jti), [pb](cds::Committed c) { pb->set_value(c); });
    ASSERT_EQ(fa.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    ASSERT_EQ(fb.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    EXPECT_EQ(fa.get().durable + fb.get().durable, 1) << jti;
  }
}

TEST(PostgresAuditStore, ExpiredTokensArePurged) {
  PgDatabase db;
  ASSERT_TRUE(db.ok());
  auto store = open_pg(db.uri());
  ASSERT_NE(store, nullptr);
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto grace = cds::PostgresAuditStore::kPurgeGrace.count();
  ASSERT_TRUE(submit_and_wait_fate(*store, token("old", now - grace - 60)).durable);
  ASSERT_TRUE(submit_and_wait_fate(*store, token("live", now + 300)).durable);
  ASSERT_TRUE(store->purge_expired_tokens());
  EXPECT_EQ(store->tokens_purged(), 1u);
  EXPECT_EQ(db.query("SELECT string_agg(jti, ',') FROM token_use"), "live");
}

TEST(PostgresAuditStore, ARecordTheDatabaseRefusesFailsAlone) {
  PgDatabase db;
  ASSERT_TRUE(db.ok());
  auto store = open_pg(db.uri());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(submit_and_wait_fate(*store, invocation("hi-1")).durable);
  // Two invocations issuing one card uuid: the second breaks the unique key, in the same batch
  // as a record that is fine.
  auto p1 = std::make_shared<std::promise<cds::Committed>>(), p2 = std::make_shared<std::promise<cds::Committed>>();
  auto f1 = p1->get_future(), f2 = p2->get_future();
  store->submit(invocation("hi-1"), [p1](cds::Committed c) { p1->set_value(c); });
  store->submit(invocation("hi-2"), [p2](cds::Committed c) { p2->set_value(c); });
  ASSERT_EQ(f1.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  ASSERT_EQ(f2.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_FALSE(f1.get().durable);
  EXPECT_TRUE(f2.get().durable);
  EXPECT_EQ(db.query("SELECT count(*) FROM invocation"), "2");
  EXPECT_TRUE(store->writable());
}

TEST(PostgresAuditStore, ReconnectsAfterTheServerDropsItsConnections) {
  PgDatabase db;
  ASSERT_TRUE(db.ok());
  auto store = open_pg(db.uri());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(submit_and_wait_fate(*store, invocation("before")).durable);
  // What a database restart does to every open connection.
  db.query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
           "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  EXPECT_TRUE(submit_and_wait_fate(*store, invocation("after")).durable);
  EXPECT_TRUE(store->writable());
  auto found = store->lookup_card("after-card-0");
  ASSERT_TRUE(std::holds_alternative<std::optional<cds::IssuedCard>>(found));
  EXPECT_TRUE(std::get<std::optional<cds::IssuedCard>>(found).has_value());
  EXPECT_EQ(db.query("SELECT count(*) FROM invocation"), "2");
}

TEST(PostgresAuditStore, AnUnreachableDatabaseIsAnErrorAtOpen) {
  // A loopback port nobody listens on (bound, then closed).
  auto opened = cds::PostgresAuditStore::open("postgresql://cds@127.0.0.1:1/none?connect_timeout=2");
  ASSERT_TRUE(std::holds_alternative<std::string>(opened));
  EXPECT_NE(std::get<std::string>(opened).find("cannot connect"), std::string::npos);
}

}  // namespace
}  // namespace cdstest
