#pragma once
// HTTP/1.1 sessions, plain and TLS, sharing one template (after Beast's advanced server).
// Each request goes: wait for bytes (idle time-out) -> header (header time-out, size limit)
// -> early 413 on a declared over-limit body -> body (body time-out) -> App -> write.
// Requests on one connection are answered in order, one at a time; pipelined requests wait
// in the read buffer, which keeps responses ordered without a queue. Each session holds its
// ConnectionTable ticket and tells it when it waits for a request (idle: it may be closed to
// make room for a new connection, or at shutdown) and when it is busy with one (never closed).
// Each step that waits on the client has a deadline, which its thread's Deadlines enforces
// (http/deadlines.hpp): no timer is armed per request.
#include "cds/app.hpp"
#include "cds/http/helpers.hpp"
#include "http/connections.hpp"
#include "http/deadlines.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <algorithm>
#include <memory>
#include <optional>

namespace cds::detail {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

// The one place that decides which connection errors are worth a log line: clients that go
// away, time out or drop TLS without close_notify are ordinary life, not errors.
bool is_routine(const beast::error_code& ec) noexcept;
void log_connection_error(std::string_view where, const beast::error_code& ec);

template <class Derived>
class HttpSession : public Timed {
 public:
  HttpSession(std::shared_ptr<App> app, std::shared_ptr<ConnectionTable::Ticket> ticket)
      : app_(std::move(app)), limits_(app_->config().limits), ticket_(std::move(ticket)) {}

  // How the ConnectionTable closes this connection from another thread: on its own executor,
  // by closing the socket, which ends whatever it waits for with operation_aborted.
  void register_closer() {
    ticket_->set_closer([weak = std::weak_ptr<Derived>(self()), ex = derived().stream().get_executor()] {
      net::post(ex, [weak] {
        if (auto s = weak.lock()) s->close_socket();
      });
    });
  }

  // On the connection's own thread, before its first step: its deadlines are enforced from now.
  void watch_deadlines(Deadlines& deadlines) { deadlines.watch(std::weak_ptr<Timed>(self())); }

  // A time-out ends the connection as the ConnectionTable's closer does.
  void time_out() override { close_socket(); }

  // Ends whatever the connection waits for with operation_aborted. On its own executor.
  void close_socket() {
    beast::error_code ignored;
    lowest().socket().close(ignored);
  }

  void do_wait_request() {
    if (buffer_.size() > 0) {  // a pipelined request is already here
      if (!ticket_->busy()) return derived().do_eof();
      return do_read_header();
    }
    // Answered during a drain (shutting down), or chosen to make room: close, don't wait.
    if (!ticket_->idle()) return derived().do_eof();
    // An idle keep-alive connection keeps only a small buffer, whatever its last body took.
    if (buffer_.capacity() > kFirstRead) buffer_.shrink_to_fit();
    deadline_in(limits_.idle_timeout);
    derived().stream().async_read_some(buffer_.prepare(kFirstRead), [self = self()](beast::error_code ec, std::size_t n) {
      self->on_first_bytes(ec, n);
    });
  }

  void on_first_bytes(beast::error_code ec, std::size_t n) {
    if (ec) return on_stream_error("idle read", ec);
    if (!ticket_->busy()) return;  // closed to make room just now: the closer ends it
    buffer_.commit(n);
    do_read_header();
  }

  void do_read_header() {
    read_started_ = Timed::Clock::now();  // the request's first bytes are here
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser_->body_limit(limits_.max_body_bytes);
    deadline_in(limits_.header_timeout);
    http::async_read_header(derived().stream(), buffer_, *parser_,
                            [self = self()](beast::error_code ec, std::size_t) { self->on_read_header(ec); });
  }

  void on_read_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    const auto& req = parser_->get();
    if (auto problem = host_header_problem(req.version(), req.count(http::field::host), req[http::field::host]))
      return send_error({400, std::move(*problem)});
    // A declared over-limit body never gets here: the parser refuses its Content-Length while
    // reading the header (http::error::body_limit -> 413 in on_read_error), before any body byte.
    if (boost::beast::iequals(req[http::field::expect], "100-continue") && !parser_->is_done()) {
      continue_.emplace(http::status::continue_, req.version());
      deadline_in(limits_.body_timeout);
      return http::async_write(derived().stream(), *continue_,
                               [self = self()](beast::error_code e, std::size_t) {
                                 self->continue_.reset();
                                 if (e) return self->on_stream_error("100-continue", e);
                                 self->do_read_body();
                               });
    }
    do_read_body();
  }

  void do_read_body() {
    // Beast reads into what the buffer has room for, and the buffer keeps the size of the first
    // read: without room made here a 43 KB body takes eleven 4 KiB receives, each with its own
    // timer re-arm and reactor wake-up. One allocation of up to kBodyReadChunk instead.
    if (auto remaining = parser_->content_length_remaining())
      buffer_.reserve(buffer_.size() + static_cast<std::size_t>(std::min<std::uint64_t>(*remaining, kBodyReadChunk)));
    deadline_in(limits_.body_timeout);
    http::async_read(derived().stream(), buffer_, *parser_,
                     [self = self()](beast::error_code ec, std::size_t) { self->on_read_body(ec); });
  }

  void on_read_body(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    no_deadline();  // answering is the service's time, not the client's
    read_done_ = Timed::Clock::now();
    app_->handle(parser_->release(), [self = self()](HttpResponse&& res) {
      // The App may answer from the audit writer thread: come back to this connection's strand.
      net::post(self->derived().stream().get_executor(), [self, res = std::move(res), ready = Timed::Clock::now()]() mutable {
        self->answer_ready_ = ready;
        self->do_write(std::move(res));
      });
    });
  }

  void do_write(HttpResponse&& res) {
    write_started_ = Timed::Clock::now();
    response_ = std::move(res);
    close_after_write_ = !response_->keep_alive();
    deadline_in(limits_.body_timeout);  // a client that never reads must not pin us
    http::async_write(derived().stream(), *response_,
                      [self = self()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    response_.reset();
    if (ec) return on_stream_error("write", ec);
    if (answer_ready_ != Timed::Clock::time_point{}) {  // answered by the App (not a session error)
      PhaseTimes& phases = app_->connection_counters().phases;
      phases.observe(PhaseTimes::read, read_done_ - read_started_);
      phases.observe(PhaseTimes::service, answer_ready_ - read_done_);
      phases.observe(PhaseTimes::handback, write_started_ - answer_ready_);
      phases.observe(PhaseTimes::write, Timed::Clock::now() - write_started_);
      answer_ready_ = {};
    }
    if (close_after_write_) {
      ticket_->idle();  // answered: a shutdown no longer waits for this connection's TLS close
      return derived().do_eof();
    }
    do_wait_request();
  }

 private:
  static constexpr std::size_t kFirstRead = 4096;
  static constexpr std::size_t kBodyReadChunk = 64 * 1024;  // Beast reads at most 64 KiB at a time

  Derived& derived() { return static_cast<Derived&>(*this); }
  std::shared_ptr<Derived> self() { return derived().shared_from_this(); }
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(derived().stream()); }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::body_limit)
      return send_error({413, "request body exceeds the limit of " + std::to_string(limits_.max_body_bytes) + " bytes"});
    if (ec == http::error::header_limit) return send_error({431, "request headers are too large"});
    if (ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
        ec != http::error::end_of_stream &&
        ec != http::error::partial_message)
      return send_error({400, "malformed HTTP request: " + ec.message()});
    on_stream_error("read", ec);
  }

  void on_stream_error(std::string_view where, beast::error_code ec) {
    log_connection_error(where, ec);
    if (ec == http::error::end_of_stream) return derived().do_eof();
    // Time-outs and resets: beast already closed the socket, nothing left to say to the peer.
  }

  // Errors found by the session itself end the connection: the stream may be mid-message.
  void send_error(const ApiError& e) {
    const auto& req = parser_->get();
    do_write(app_->error_response(e, req.version() ? req.version() : 11, req[http::field::origin]));
  }

  std::shared_ptr<App> app_;
  const Limits& limits_;
  std::shared_ptr<ConnectionTable::Ticket> ticket_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<RequestBody>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  std::optional<HttpResponse> response_;
  bool close_after_write_ = false;
  Timed::Clock::time_point read_started_, read_done_, answer_ready_, write_started_;  // cds_http_phase_seconds
};

class PlainSession : public HttpSession<PlainSession>, public std::enable_shared_from_this<PlainSession> {
 public:
  PlainSession(tcp::socket&& socket, std::shared_ptr<App> app, std::shared_ptr<ConnectionTable::Ticket> ticket)
      : HttpSession(std::move(app), std::move(ticket)), stream_(std::move(socket)) {}
  void run(std::shared_ptr<Deadlines> deadlines) {
    register_closer();
    net::dispatch(stream_.get_executor(), [self = shared_from_this(), deadlines = std::move(deadlines)] {
      self->watch_deadlines(*deadlines);
      self->do_wait_request();
    });
  }
  beast::tcp_stream& stream() { return stream_; }
  void do_eof() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

 private:
  beast::tcp_stream stream_;
};

class SslSession : public HttpSession<SslSession>, public std::enable_shared_from_this<SslSession> {
 public:
  // The session shares ownership of its TLS context: a certificate reload (SIGHUP) swaps in a
  // new context for new connections while this one finishes with the old.
  SslSession(tcp::socket&& socket, std::shared_ptr<ssl::context> ctx, std::shared_ptr<App> app,
             std::shared_ptr<ConnectionTable::Ticket> ticket)
      : HttpSession(app, std::move(ticket)),
        ctx_(std::move(ctx)),
        stream_(std::move(socket), *ctx_),
        handshake_timeout_(app->config().limits.header_timeout) {}
  void run(std::shared_ptr<Deadlines> deadlines) {
    register_closer();
    net::dispatch(stream_.get_executor(), [self = shared_from_this(), deadlines = std::move(deadlines)] {
      self->watch_deadlines(*deadlines);
      self->do_handshake();
    });
  }
  ssl::stream<beast::tcp_stream>& stream() { return stream_; }

  void do_handshake() {
    deadline_in(handshake_timeout_);
    stream_.async_handshake(ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return log_connection_error("tls handshake", ec);
      self->do_wait_request();
    });
  }
  void do_eof() {
    deadline_in(std::chrono::seconds(5));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code ec) {
      if (ec) log_connection_error("tls shutdown", ec);
    });
  }

 private:
  std::shared_ptr<ssl::context> ctx_;
  ssl::stream<beast::tcp_stream> stream_;
  std::chrono::milliseconds handshake_timeout_;
};

}  // namespace cds::detail
