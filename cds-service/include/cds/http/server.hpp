#pragma once
// The HTTP(S) server: owns the I/O threads and their io_contexts, the listener, the TLS context, the
// rules and the audit log. main() and the integration tests use it the same way.
#include "cds/config.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <variant>

namespace cds {

class Server {
 public:
  // Loads rules, opens the audit store, builds the TLS context and binds the port.
  static std::variant<std::unique_ptr<Server>, std::string> create(Config config);
  ~Server();

  unsigned short port() const noexcept;  // the bound port (useful with port 0)
  void start();                          // runs the I/O threads in the background
  void run();                            // start() and wait until stop() or a signal
  void stop();                           // stops accepting, ends I/O threads, flushes the audit
  // run() on SIGTERM/SIGINT: stops accepting, closes idle connections, waits for calls in
  // progress up to limits.drain_timeout_ms, then returns (a second signal: at once).
  // SIGHUP: re-reads rules, JWKS files and the TLS certificate; each part that fails keeps
  // what is in force. Empty on success, else what was refused.
  std::string reload();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The soft open-file limit now in force (RLIMIT_NOFILE).
std::size_t open_file_limit();
// Raises the soft open-file limit to the hard limit (systemd's default soft limit, 1024, is
// far below what a busy service needs). What was done, for the log.
std::string raise_open_file_limit();

}  // namespace cds
