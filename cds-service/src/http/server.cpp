#include "cds/http/server.hpp"

#include "cds/app.hpp"
#include "cds/http/https_get.hpp"
#include "cds/hooks/prefetch.hpp"
#include "cds/hooks/services.hpp"
#include "cds/log.hpp"
#include "http/session.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/error.hpp>
#include <openssl/ssl.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

namespace cds {
namespace detail {

bool is_routine(const beast::error_code& ec) noexcept {
  // bad_descriptor: a step started just after its connection was timed out or evicted.
  return ec == net::error::operation_aborted || ec == beast::error::timeout || ec == net::error::eof ||
         ec == net::error::bad_descriptor ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe || ec == ssl::error::stream_truncated ||
         ec == http::error::end_of_stream || ec == http::error::partial_message;
}

void log_connection_error(std::string_view where, const beast::error_code& ec) {
  if (is_routine(ec)) return log(LogLevel::debug, "connection " + std::string(where) + ": " + ec.message());
  log_repeated(LogLevel::warning, "connection " + std::string(where),
               "connection " + std::string(where) + ": " + ec.message());
}

// Accepts connections and hands each to the next I/O thread's io_context, round-robin. A
// connection lives on one thread from accept to close: its handlers never hop threads, so a
// request costs no cross-thread wake-ups in the reactor (one io_context shared by N threads
// woke a second thread for nearly every completion: ~13 futex and epoll_ctl calls a request).
// Each connection must first be admitted by the ConnectionTable (a cap on open connections,
// and on those of one address). When accept() fails for want of file descriptors, accepting
// pauses (10 ms, doubling to 1 s) instead of retrying at once: the pending connection stays
// in the kernel's queue, and a retry at once would fail again at once, in a loop that fills the log.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  using TlsSource = std::function<std::shared_ptr<ssl::context>()>;  // null function: plain HTTP
  // deadlines[i] enforces the time-outs of the connections on contexts[i].
  Listener(std::span<const std::unique_ptr<net::io_context>> contexts, std::span<const std::shared_ptr<Deadlines>> deadlines,
           tcp::acceptor acceptor, TlsSource tls, std::shared_ptr<App> app, std::shared_ptr<ConnectionTable> table)
      : contexts_(contexts),
        deadlines_(deadlines),
        acceptor_(std::move(acceptor)),
        pause_timer_(acceptor_.get_executor()),
        tls_(std::move(tls)),
        app_(std::move(app)),
        table_(std::move(table)) {}

  void run() { do_accept(); }
  void close() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
      self->pause_timer_.cancel();
    });
  }

 private:
  static constexpr std::chrono::milliseconds kFirstPause{10}, kMaxPause{1000};

  void do_accept() {
    if (!acceptor_.is_open()) return;
    const std::size_t i = next_++ % contexts_.size();  // only the acceptor's thread counts
    acceptor_.async_accept(*contexts_[i], [self = shared_from_this(), i](beast::error_code ec, tcp::socket s) {
      self->on_accept(ec, std::move(s), i);
    });
  }
  static bool out_of_descriptors(const beast::error_code& ec) {
    return ec == net::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system ||
           ec == net::error::no_buffer_space || ec == net::error::no_memory;
  }
  void on_accept(beast::error_code ec, tcp::socket socket, std::size_t context) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;  // closed: shutting down
    if (ec && out_of_descriptors(ec)) {
      if (pause_.count() == 0) {
        paused_since_ = std::chrono::steady_clock::now();
        pauses_ = 0;
      }
      ++pauses_;
      pause_ = pause_.count() == 0 ? kFirstPause : std::min(pause_ * 2, kMaxPause);
      app_->connection_counters().accept_pauses.fetch_add(1, std::memory_order_relaxed);
      log_repeated(LogLevel::error, "accept paused",
                   "accept: " + ec.message() + " (errno " + std::to_string(ec.value()) + "), " +
                       std::to_string(table_->open()) + " connections open (limits.max_connections " +
                       std::to_string(table_->max_connections()) + "); accepting again in " +
                       std::to_string(pause_.count()) + " ms");
      pause_timer_.expires_after(pause_);
      pause_timer_.async_wait([self = shared_from_this()](beast::error_code e) {
        if (!e) self->do_accept();
      });
      return;
    }
    if (pause_.count() != 0 && !ec) {  // the end of a shortage, whatever the rate limit held back
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - paused_since_);
      log(LogLevel::info, "accepting again after " + with_thousands(pauses_) + " pauses over " +
                              with_thousands(static_cast<std::uint64_t>(ms.count())) + " ms without file descriptors");
    }
    if (!ec) pause_ = {};
    if (ec) {
      log_repeated(is_routine(ec) ? LogLevel::debug : LogLevel::warning, "accept", "connection accept: " + ec.message());
    } else {
      beast::error_code ignored;
      const auto peer = socket.remote_endpoint(ignored);
      if (auto ticket = table_->admit(peer.address().to_string())) {
        socket.set_option(tcp::no_delay(true), ignored);  // small JSON answers: don't wait for Nagle
        if (tls_) std::make_shared<SslSession>(std::move(socket), tls_(), app_, std::move(ticket))->run(deadlines_[context]);
        else std::make_shared<PlainSession>(std::move(socket), app_, std::move(ticket))->run(deadlines_[context]);
      } else {
        socket.close(ignored);
        log_repeated(LogLevel::warning, "connection refused",
                     "connection refused: " + std::to_string(table_->open()) + " open, limits.max_connections " +
                         std::to_string(table_->max_connections()) + " and none idle, or over " +
                         "limits.max_connections_per_ip, or shutting down");
      }
    }
    do_accept();
  }

  std::span<const std::unique_ptr<net::io_context>> contexts_;
  std::span<const std::shared_ptr<Deadlines>> deadlines_;
  std::size_t next_ = 0;
  tcp::acceptor acceptor_;
  net::steady_timer pause_timer_;
  std::chrono::milliseconds pause_{};  // non-zero: accepting has paused since paused_since_
  std::chrono::steady_clock::time_point paused_since_{};
  std::uint64_t pauses_ = 0;
  TlsSource tls_;
  std::shared_ptr<App> app_;
  std::shared_ptr<ConnectionTable> table_;
};

std::variant<std::shared_ptr<ssl::context>, std::string> make_tls_context(const Config& c) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression |
                   ssl::context::single_dh_use);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  // TLS 1.2: forward-secret AEAD suites only. TLS 1.3 suites are all of that kind already.
  SSL_CTX_set_cipher_list(native, "ECDHE+AESGCM:ECDHE+CHACHA20");
  beast::error_code ec;
  ctx->use_certificate_chain_file(c.tls_cert.string(), ec);
  if (ec) return "cannot load TLS certificate " + c.tls_cert.string() + ": " + ec.message();
  ctx->use_private_key_file(c.tls_key.string(), ssl::context::pem, ec);
  if (ec) return "cannot load TLS key " + c.tls_key.string() + ": " + ec.message();
  if (SSL_CTX_check_private_key(native) != 1) return "TLS key does not match the certificate";
  if (!c.tls_client_ca.empty()) {
    // Mutual TLS: a client without a certificate from this CA fails the handshake.
    ctx->load_verify_file(c.tls_client_ca.string(), ec);
    if (ec) return "cannot load TLS client CA " + c.tls_client_ca.string() + ": " + ec.message();
    SSL_CTX_set_client_CA_list(native, SSL_load_client_CA_file(c.tls_client_ca.c_str()));
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return std::shared_ptr<ssl::context>(std::move(ctx));
}

}  // namespace detail

using namespace detail;

struct Server::Impl {
  Config config;
  // One io_context per I/O thread, each run by that thread alone (concurrency hint 1). The
  // first also runs the acceptor, signals and the FHIR client.
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::vector<std::shared_ptr<Deadlines>> deadlines;  // one per context: its connections' time-outs
  std::shared_ptr<ssl::context> tls;  // guarded by tls_mutex: swapped on reload
  std::mutex tls_mutex;
  std::unique_ptr<RulesStore> rules;
  std::unique_ptr<AuditStore> audit;
  std::unique_ptr<Authenticator> auth;
  std::unique_ptr<FhirClient> fhir;
  std::shared_ptr<App> app;
  std::shared_ptr<ConnectionTable> connections;
  std::shared_ptr<Listener> listener;
  unsigned short port = 0;
  std::vector<std::thread> workers;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work;

  explicit Impl(Config c, unsigned n) : config(std::move(c)) {
    for (unsigned i = 0; i < n; ++i) contexts.push_back(std::make_unique<net::io_context>(1));
  }
  ~Impl() {
    stop();
    // The audit writer flushes what is queued; its callbacks post into the contexts, still alive here.
    audit.reset();
  }
  net::io_context& main() { return *contexts.front(); }
  void stop_contexts() {
    work.clear();
    for (auto& c : contexts) c->stop();
  }
  void stop() {
    if (listener) listener->close();
    stop_contexts();
    for (auto& t : workers)
      if (t.joinable()) t.join();
    workers.clear();
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

std::variant<std::unique_ptr<Server>, std::string> Server::create(Config config) {
  if (auto err = check_config(config); !err.empty()) return err;
  for (const auto& service : services())
    for (const auto& t : service.prefetch)
      if (auto err = check_prefetch_template(t.query); !err.empty()) return "service " + std::string(service.id) + ": " + err;
  unsigned n = config.threads ? config.threads : std::max(1u, std::thread::hardware_concurrency());
  auto impl = std::make_unique<Impl>(std::move(config), n);
  const Config& c = impl->config;

  auto rules = RulesStore::open(c.rules_dir);
  if (auto* err = std::get_if<std::string>(&rules)) return "rules: " + *err;
  impl->rules = std::get<std::unique_ptr<RulesStore>>(std::move(rules));
  auto audit = open_audit_store(c.audit_db.string());
  if (auto* err = std::get_if<std::string>(&audit)) return "audit: " + *err;
  impl->audit = std::get<std::unique_ptr<AuditStore>>(std::move(audit));
  if (c.tls_enabled) {
    auto tls = make_tls_context(c);
    if (auto* err = std::get_if<std::string>(&tls)) return "tls: " + *err;
    impl->tls = std::get<std::shared_ptr<ssl::context>>(std::move(tls));
  }
  if (c.auth.enabled) {
    HttpsGetOptions fetch_options;
    fetch_options.ca_file = c.outbound_ca_file;
    impl->auth = std::make_unique<Authenticator>(
        c.auth, std::make_shared<MemoryReplayCache>(c.auth.replay_cache_entries),
        [fetch_options](const std::string& url) {
          std::string failure;
          auto body = https_get(url, fetch_options, &failure);
          return FetchResult(std::move(body), std::move(failure));
        });
    if (auto err = impl->auth->load_keys(); !err.empty()) return "auth: " + err;
  }
  beast::error_code ec;
  auto address = net::ip::make_address(c.listen_host, ec);
  if (ec) return "listen: '" + c.listen_host + "' is not an IP address";
  tcp::endpoint endpoint{address, c.listen_port};
  tcp::acceptor acceptor(impl->main());
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return "listen on " + c.listen_host + ":" + std::to_string(c.listen_port) + ": " + ec.message();
  impl->port = acceptor.local_endpoint().port();
  impl->config.listen_port = impl->port;  // with port 0, base URLs name the port actually bound
  FhirClientOptions fhir_options;
  fhir_options.ca_file = c.outbound_ca_file;
  fhir_options.max_resources = c.fhir.max_resources;
  fhir_options.max_pages = c.fhir.max_pages;
  impl->fhir = std::make_unique<FhirClient>(impl->main().get_executor(), fhir_options);
  auto pseudonymizer = Pseudonymizer::disabled();
  if (c.audit_pseudonymize) {
    auto key_file = c.audit_pseudonym_key.empty() ? std::filesystem::path(c.audit_db.string() + ".key") : c.audit_pseudonym_key;
    auto p = Pseudonymizer::from_key_file(key_file);
    if (auto* err = std::get_if<std::string>(&p)) return "audit: " + *err;
    pseudonymizer = std::get<Pseudonymizer>(std::move(p));
  }
  impl->app = std::make_shared<App>(impl->config, *impl->rules, *impl->audit, impl->auth.get(), impl->fhir.get(),
                                    std::move(pseudonymizer));
  Listener::TlsSource tls_source;
  if (impl->tls)
    tls_source = [p = impl.get()] {
      std::lock_guard lock(p->tls_mutex);
      return p->tls;
    };
  std::size_t max_connections = c.limits.max_connections;
  const std::size_t file_limit = open_file_limit();
  if (max_connections == 0) max_connections = connections_for_file_limit(file_limit);
  else if (max_connections > connections_for_file_limit(file_limit))
    log(LogLevel::warning, "limits.max_connections " + std::to_string(max_connections) + " leaves too few of the " +
                               std::to_string(file_limit) + " file descriptors allowed for the audit and outbound " +
                               "fetches; a flood may make accept() fail (it then pauses)");
  impl->connections = std::make_shared<ConnectionTable>(max_connections, c.limits.max_connections_per_ip,
                                                        impl->app->connection_counters());
  const auto sweep = Deadlines::interval_for(std::min({c.limits.header_timeout, c.limits.body_timeout, c.limits.idle_timeout}));
  for (auto& context : impl->contexts)
    impl->deadlines.push_back(std::make_shared<Deadlines>(*context, sweep, impl->app->connection_counters()));
  impl->listener = std::make_shared<Listener>(impl->contexts, impl->deadlines, std::move(acceptor), std::move(tls_source),
                                              impl->app, impl->connections);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

unsigned short Server::port() const noexcept { return impl_->port; }

std::size_t open_file_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 1u << 20;
  return static_cast<std::size_t>(rl.rlim_cur);
}

std::string raise_open_file_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return std::string("cannot read the open-file limit: ") + std::strerror(errno);
  if (rl.rlim_cur == rl.rlim_max) return "open-file limit " + std::to_string(rl.rlim_cur) + " (the hard limit)";
  const auto soft = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
    return "open-file limit " + std::to_string(soft) + ", not raised to " + std::to_string(rl.rlim_max) + ": " +
           std::strerror(errno);
  return "open-file limit raised from " + std::to_string(soft) + " to the hard limit " + std::to_string(rl.rlim_max);
}

void Server::start() {
  for (auto& c : impl_->contexts) impl_->work.emplace_back(c->get_executor());
  for (auto& d : impl_->deadlines) d->start();
  impl_->listener->run();
  for (auto& c : impl_->contexts) impl_->workers.emplace_back([ioc = c.get()] { ioc->run(); });
}

void Server::run() {
  net::signal_set signals(impl_->main(), SIGINT, SIGTERM, SIGHUP);
  net::steady_timer drain_timer(impl_->main());
  bool draining = false;
  std::chrono::steady_clock::time_point drain_deadline;
  std::function<void()> check_drained;
  std::function<void(beast::error_code, int)> on_signal = [&](beast::error_code ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      if (auto err = reload(); !err.empty()) log(LogLevel::error, "reload: kept what was in force for: " + err);
      else log(LogLevel::info, "reloaded rules, keys and TLS certificate");
      return signals.async_wait(on_signal);
    }
    if (draining) {  // a second SIGTERM: stop now
      log(LogLevel::warning, "stopping without waiting for " + std::to_string(impl_->connections->busy()) +
                                 " calls in progress");
      return impl_->stop_contexts();
    }
    // Stop accepting, close idle connections, let calls in progress finish (each connection
    // closes once its answer is written) up to limits.drain_timeout_ms; the audit writer then
    // commits what is queued as the server is destroyed.
    draining = true;
    const auto timeout = impl_->config.limits.drain_timeout;
    log(LogLevel::info, "shutting down: " + std::to_string(impl_->connections->busy()) +
                            " calls in progress get up to " + std::to_string(timeout.count()) + " ms to finish");
    impl_->listener->close();
    impl_->connections->drain();
    drain_deadline = std::chrono::steady_clock::now() + timeout;
    check_drained();
    signals.async_wait(on_signal);
  };
  check_drained = [&] {
    const std::size_t busy = impl_->connections->busy();
    if (busy == 0 || std::chrono::steady_clock::now() >= drain_deadline) {
      if (busy == 0) log(LogLevel::info, "drained: every call in progress was answered");
      else log(LogLevel::warning, "drain deadline passed with " + std::to_string(busy) + " calls in progress");
      return impl_->stop_contexts();
    }
    drain_timer.expires_after(std::chrono::milliseconds(10));
    drain_timer.async_wait([&](beast::error_code ec) {
      if (!ec) check_drained();
    });
  };
  signals.async_wait(on_signal);
  start();
  for (auto& t : impl_->workers) t.join();
  impl_->workers.clear();
}

void Server::stop() { impl_->stop(); }

std::string Server::reload() {
  std::string errors;
  if (auto err = impl_->rules->reload(); !err.empty()) errors += "rules: " + err + "; ";
  if (impl_->auth)
    if (auto err = impl_->auth->load_keys(); !err.empty()) errors += "auth keys: " + err + "; ";
  if (impl_->tls) {
    auto tls = make_tls_context(impl_->config);
    if (auto* err = std::get_if<std::string>(&tls)) {
      errors += "tls: " + *err + "; ";
    } else {
      std::lock_guard lock(impl_->tls_mutex);
      impl_->tls = std::get<std::shared_ptr<ssl::context>>(std::move(tls));
    }
  }
  return errors;
}

}  // namespace cds
