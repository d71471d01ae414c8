#include "cds/audit/postgres_store.hpp"
#include "audit/ids.hpp"
#include "audit/pg.hpp"
#include "audit/postgres_schema.hpp"
#include "cds/audit/json_list.hpp"
#include "cds/log.hpp"

#include "fhir/json.hpp"

#include <algorithm>
#include <map>

namespace cds {
namespace json = boost::json;
namespace {

// Each table's rows for one batch are one JSON array, unpacked by json_to_recordset: one
// prepared statement and one round trip per table, however many rows the batch holds.
constexpr const char* kStatements[][2] = {
    {"claim",
     "INSERT INTO token_use(iss, jti, expires_at) "
     "SELECT iss, jti, to_timestamp(exp) FROM json_to_recordset($1::json) AS t(iss text, jti text, exp bigint) "
     "ON CONFLICT DO NOTHING RETURNING iss, jti"},
    {"ids", "SELECT nextval('invocation_id_seq') FROM generate_series(1, $1::int)"},
    {"invocation",
     "INSERT INTO invocation(id, received_at, hook, service_id, hook_instance, tenant, jwt_iss, jwt_sub, user_id, "
     "encounter_id, patient_ref, rules_version, outcome, http_status, latency_us, patient_type, data_issues) "
     "SELECT id, received_at, hook, service_id, hook_instance, tenant, jwt_iss, jwt_sub, user_id, encounter_id, "
     "patient_ref, rules_version, outcome, http_status, latency_us, patient_type, data_issues "
     "FROM json_to_recordset($1::json) AS r(id bigint, received_at text, hook text, service_id text, "
     "hook_instance text, tenant text, jwt_iss text, jwt_sub text, user_id text, encounter_id text, "
     "patient_ref text, rules_version text, outcome text, http_status integer, latency_us bigint, "
     "patient_type text, data_issues text)"},
    {"card",
     "INSERT INTO card(id, invocation_id, uuid, rule_id, indicator, summary, triggered_by, override_reasons, "
     "suggestions) SELECT id, invocation_id, uuid, rule_id, indicator, summary, triggered_by, override_reasons, "
     "suggestions FROM json_to_recordset($1::json) AS r(id bigint, invocation_id bigint, uuid text, "
     "rule_id text, indicator text, summary text, triggered_by text, override_reasons text, suggestions text)"},
    {"order",
     "INSERT INTO evaluated_order(id, invocation_id, reference, codes, category) "
     "SELECT id, invocation_id, reference, codes, category FROM json_to_recordset($1::json) "
     "AS r(id bigint, invocation_id bigint, reference text, codes text, category text)"},
    {"feedback",
     "INSERT INTO feedback(received_at, card_uuid, service_id, outcome, accepted_suggestions, override_reason, "
     "has_user_comment, outcome_timestamp, jwt_iss, jwt_sub, tenant) "
     "SELECT received_at, card_uuid, service_id, outcome, accepted_suggestions, override_reason, has_user_comment, "
     "outcome_timestamp, jwt_iss, jwt_sub, tenant FROM json_to_recordset($1::json) AS r(received_at text, "
     "card_uuid text, service_id text, outcome text, accepted_suggestions text, override_reason text, "
     "has_user_comment integer, outcome_timestamp text, jwt_iss text, jwt_sub text, tenant text)"},
    {"probe",
     "INSERT INTO write_probe(id, written_at) "
     "VALUES (1, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')) "
     "ON CONFLICT (id) DO UPDATE SET written_at = EXCLUDED.written_at"},
};

constexpr const char* kFindCard =
    "SELECT i.service_id, c.override_reasons, c.suggestions FROM card c JOIN invocation i ON i.id = c.invocation_id "
    "WHERE c.uuid = $1";

std::string connect_error_without_secrets(std::string e) {
  // libpq's messages name host and port, never the password; keep them one line.
  std::replace(e.begin(), e.end(), '\n', ' ');
  return e;
}

const TokenUse* token_of(const AuditStore::Record& r) {
  if (auto* inv = std::get_if<InvocationRecord>(&r)) return inv->token.empty() ? nullptr : &inv->token;
  if (auto* fb = std::get_if<std::vector<FeedbackRecord>>(&r))
    return fb->empty() || fb->front().token.empty() ? nullptr : &fb->front().token;
  if (auto* t = std::get_if<TokenUse>(&r)) return t->empty() ? nullptr : t;
  return nullptr;
}

}  // namespace

bool is_postgres_uri(std::string_view db) noexcept {
  return db.starts_with("postgresql://") || db.starts_with("postgres://");
}

PostgresAuditStore::PostgresAuditStore(std::string uri) : uri_(std::move(uri)) {}

std::variant<std::unique_ptr<PostgresAuditStore>, std::string> PostgresAuditStore::open(const std::string& uri) {
  auto opened = pg::Connection::open(uri, "cds-service");
  if (auto* e = std::get_if<std::string>(&opened)) return connect_error_without_secrets(*e);
  auto& db = std::get<pg::Connection>(opened);
  if (auto err = pg::migrate(db); !err.empty()) return err;
  std::unique_ptr<PostgresAuditStore> store(new PostgresAuditStore(uri));
  store->reader_db_ = std::make_unique<pg::Connection>(std::move(db));
  if (!store->connect_writer(true)) return std::string("cannot prepare the PostgreSQL audit writer");
  store->writer_ = std::thread([s = store.get()] { s->run(); });
  store->purger_ = std::thread([s = store.get()] { s->purge_loop(); });
  return store;
}

PostgresAuditStore::~PostgresAuditStore() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (purger_.joinable()) purger_.join();
}

// (Re)connects the writer and prepares its statements. At most once a second unless forced:
// while the database is down, queued records fail at once instead of each waiting to connect.
bool PostgresAuditStore::connect_writer(bool force) {
  if (writer_db_ && writer_db_->ok()) return true;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_connect_ < std::chrono::seconds(1)) return false;
  last_connect_ = now;
  auto opened = pg::Connection::open(uri_, "cds-service writer");
  if (auto* e = std::get_if<std::string>(&opened)) {
    log(LogLevel::error, "audit: " + connect_error_without_secrets(*e));
    writer_db_.reset();
    return false;
  }
  auto db = std::make_unique<pg::Connection>(std::move(std::get<pg::Connection>(opened)));
  for (const auto& [name, sql] : kStatements) {
    std::string error;
    if (!db->prepare(name, sql, error)) {
      log(LogLevel::error, "audit: " + error);
      return false;
    }
  }
  writer_db_ = std::move(db);
  return true;
}

void PostgresAuditStore::submit(Record record, Done done) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({std::move(record), std::move(done)});
  }
  wake_.notify_all();
}

std::size_t PostgresAuditStore::queue_depth() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

CardLookup PostgresAuditStore::lookup_card(const std::string& uuid) {
  std::lock_guard lock(reader_mutex_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!reader_db_ || !reader_db_->ok()) {
      auto opened = pg::Connection::open(uri_, "cds-service reader");
      if (std::holds_alternative<std::string>(opened)) return StoreUnavailable{};
      reader_db_ = std::make_unique<pg::Connection>(std::move(std::get<pg::Connection>(opened)));
    }
    auto r = reader_db_->exec(kFindCard, {uuid});
    if (r.ok()) {
      if (r.rows() == 0) return std::optional<IssuedCard>();
      return std::optional<IssuedCard>(
          IssuedCard{r.text(0, 0), parse_json_list(r.text(0, 1)), parse_json_list(r.text(0, 2))});
    }
    if (reader_db_->ok()) return StoreUnavailable{};  // a live connection that failed: not a restart
  }
  return StoreUnavailable{};
}

std::optional<IssuedCard> PostgresAuditStore::find_card(const std::string& uuid) {
  auto found = lookup_card(uuid);
  if (auto* card = std::get_if<std::optional<IssuedCard>>(&found)) return *card;
  return std::nullopt;
}

void PostgresAuditStore::run() {
  constexpr std::size_t kMaxBatch = 512;
  std::vector<Item> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      // Everything that queued while the previous commit was under way goes into this one.
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    process(batch);
    batch.clear();
  }
}

void PostgresAuditStore::process(std::vector<Item>& batch) {
  std::vector<Committed> fate(batch.size(), Committed(false));
  std::vector<std::size_t> all(batch.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  bool begun = false;
  // libpq notices a connection the server closed only when it next uses it.
  const bool was_connected = writer_db_ && writer_db_->ok();
  Status status = connect_writer(false) ? write(batch, all, fate, begun) : Status::lost;
  // A connection that died while idle (a database restart) fails at BEGIN, before anything was
  // sent: reconnect and try once more. Never after BEGIN: a COMMIT lost in flight may have
  // committed, and a second try would find its own tokens taken. Nor when there was no
  // connection to begin with: then reconnecting waits for its once-a-second turn.
  if (status == Status::lost && !begun && was_connected && connect_writer(true)) status = write(batch, all, fate, begun);
  if (status == Status::refused && batch.size() > 1) {
    // The database refused one record (a constraint): commit each on its own, so it fails alone.
    for (std::size_t i = 0; i < batch.size(); ++i) {
      fate[i] = Committed(false);
      bool b = false;
      if (write(batch, {i}, fate, b) == Status::committed) status = Status::committed;
    }
  }
  // A record the database refused says nothing about the database: it still takes writes.
  writable_.store(status == Status::committed || status == Status::refused, std::memory_order_relaxed);
  if (status != Status::committed) fate.assign(batch.size(), Committed(false));
  std::uint64_t records = 0;
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (fate[i].durable && !std::holds_alternative<std::monostate>(batch[i].record) &&
        !std::holds_alternative<TokenUse>(batch[i].record))
      ++records;
  committed_.fetch_add(records, std::memory_order_relaxed);
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (batch[i].done) batch[i].done(fate[i]);
}

// One transaction for the records `which` of the batch. Their fates are set in `fate` (durable
// only if the COMMIT succeeds, which the caller checks by the status).
PostgresAuditStore::Status PostgresAuditStore::write(std::vector<Item>& batch, const std::vector<std::size_t>& which,
                                                     std::vector<Committed>& fate, bool& begun) {
  pg::Connection& db = *writer_db_;
  auto failed = [&](const pg::Result& r, const char* step) {
    const std::string state = r.sqlstate();
    if (db.ok()) {
      db.exec("ROLLBACK");
      log(LogLevel::error, std::string("audit: ") + step + " failed: " + r.primary() + " (SQLSTATE " + state + ")");
    } else {
      log(LogLevel::error, std::string("audit: connection to PostgreSQL lost at ") + step);
    }
    if (!db.ok()) return Status::lost;
    return state.starts_with("23") ? Status::refused : Status::failed;
  };
  const auto started = std::chrono::steady_clock::now();
  if (auto r = db.exec("BEGIN"); !r.ok()) return failed(r, "BEGIN");
  begun = true;

  // Tokens first: a record whose token another transaction already holds is not written.
  std::vector<bool> writes(batch.size(), false);
  json::array tokens;
  for (std::size_t i : which) {
    writes[i] = true;
    if (const TokenUse* t = token_of(batch[i].record))
      tokens.push_back(json::object{{"iss", t->iss}, {"jti", t->jti}, {"exp", t->expires_unix}});
  }
  if (!tokens.empty()) {
    auto r = db.run("claim", {json::serialize(tokens)});
    if (!r.ok()) return failed(r, "token claim");
    std::multimap<std::pair<std::string, std::string>, int> claimed;
    for (int row = 0; row < r.rows(); ++row) claimed.emplace(std::pair{r.text(row, 0), r.text(row, 1)}, 0);
    for (std::size_t i : which) {
      const TokenUse* t = token_of(batch[i].record);
      if (t == nullptr) continue;
      auto it = claimed.find({t->iss, t->jti});
      if (it != claimed.end()) {
        claimed.erase(it);  // the first record with this token has it; a second in the batch is a replay
      } else {
        writes[i] = false;
        fate[i] = Committed::replayed();
      }
    }
  }

  std::size_t invocations = 0;
  for (std::size_t i : which)
    if (writes[i] && std::holds_alternative<InvocationRecord>(batch[i].record)) {
      const auto& inv = std::get<InvocationRecord>(batch[i].record);
      // More places than an id leaves room for: refused alone, as the SQLite store does.
      if (inv.cards.size() >= detail::kMaxPlaces || inv.orders.size() >= detail::kMaxPlaces) writes[i] = false;
      else ++invocations;
    }
  std::vector<std::int64_t> ids;
  if (invocations > 0) {
    auto r = db.run("ids", {std::to_string(invocations)});
    if (!r.ok()) return failed(r, "id allocation");
    for (int row = 0; row < r.rows(); ++row) ids.push_back(r.integer(row, 0));
    std::sort(ids.begin(), ids.end());  // rows stored in the order they arrived
  }

  json::array inv_rows, card_rows, order_rows, feedback_rows;
  bool probe = false;
  std::size_t next_id = 0;
  for (std::size_t i : which) {
    if (!writes[i]) continue;
    if (auto* r = std::get_if<InvocationRecord>(&batch[i].record)) {
      const std::int64_t id = ids.at(next_id++);
      inv_rows.push_back(json::object{{"id", id}, {"received_at", r->received_at}, {"hook", r->hook},
                                      {"service_id", r->service_id}, {"hook_instance", r->hook_instance},
                                      {"tenant", r->tenant}, {"jwt_iss", r->jwt_iss}, {"jwt_sub", r->jwt_sub},
                                      {"user_id", r->user_id}, {"encounter_id", r->encounter_id},
                                      {"patient_ref", r->patient_ref}, {"rules_version", r->rules_version},
                                      {"outcome", r->outcome}, {"http_status", r->http_status},
                                      {"latency_us", r->latency_us}, {"patient_type", r->patient_type},
                                      {"data_issues", to_json_list(r->data_issues)}});
      std::int64_t place = id << detail::kPlaceBits;
      for (const auto& c : r->cards)
        card_rows.push_back(json::object{{"id", place++}, {"invocation_id", id}, {"uuid", c.uuid},
                                         {"rule_id", c.rule_id}, {"indicator", c.indicator}, {"summary", c.summary},
                                         {"triggered_by", to_json_list(c.triggered_by)},
                                         {"override_reasons", to_json_list(c.override_reason_codes)},
                                         {"suggestions", to_json_list(c.suggestion_uuids)}});
      place = id << detail::kPlaceBits;
      for (const auto& o : r->orders)
        order_rows.push_back(json::object{{"id", place++}, {"invocation_id", id}, {"reference", o.reference},
                                          {"codes", to_json_list(o.codes)}, {"category", o.category}});
    } else if (auto* items = std::get_if<std::vector<FeedbackRecord>>(&batch[i].record)) {
      for (const auto& f : *items)
        feedback_rows.push_back(json::object{
            {"received_at", f.received_at}, {"card_uuid", f.card_uuid}, {"service_id", f.service_id},
            {"outcome", f.outcome}, {"accepted_suggestions", to_json_list(f.accepted_suggestions)},
            {"override_reason", f.override_reason}, {"has_user_comment", f.has_user_comment ? 1 : 0},
            {"outcome_timestamp", f.outcome_timestamp}, {"jwt_iss", f.jwt_iss}, {"jwt_sub", f.jwt_sub},
            {"tenant", f.tenant}});
    } else if (std::holds_alternative<std::monostate>(batch[i].record)) {
      probe = true;
    }
  }
  // Parents before children: cards and orders refer to invocations, feedback to cards.
  for (auto& [name, rows] : {std::pair<const char*, json::array*>{"invocation", &inv_rows}, {"card", &card_rows},
                             {"order", &order_rows}, {"feedback", &feedback_rows}}) {
    if (rows->empty()) continue;
    auto r = db.run(name, {json::serialize(*rows)});
    if (!r.ok()) return failed(r, name);
  }
  if (probe) {
    auto r = db.run("probe", {});
    if (!r.ok()) return failed(r, "probe");
  }
  if (auto r = db.exec("COMMIT"); !r.ok()) return failed(r, "COMMIT");
  commits_.fetch_add(1, std::memory_order_relaxed);
  record_commit_latency(std::chrono::steady_clock::now() - started);
  for (std::size_t i : which)
    if (writes[i]) fate[i] = Committed(true);
  return Status::committed;
}

bool PostgresAuditStore::purge_expired_tokens() {
  auto opened = pg::Connection::open(uri_, "cds-service purger");
  if (std::holds_alternative<std::string>(opened)) return false;
  auto r = std::get<pg::Connection>(opened).exec(
      "DELETE FROM token_use WHERE expires_at < now() - make_interval(secs => $1::int)",
      {std::to_string(kPurgeGrace.count())});
  if (!r.ok()) return false;
  purged_.fetch_add(r.affected(), std::memory_order_relaxed);
  return true;
}

void PostgresAuditStore::purge_loop() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, kPurgeInterval, [&] { return stopping_; })) {
    lock.unlock();
    purge_expired_tokens();
    lock.lock();
  }
}

}  // namespace cds
