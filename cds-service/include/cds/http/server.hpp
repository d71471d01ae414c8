#pragma once
// The HTTP(S) server: owns the I/O threads and their io_contexts, the listener, the TLS context, the
// rules and the audit log. main() and the integration tests use it the same way.
#include "cds/config.hpp"

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
  // SIGHUP: re-reads rules, JWKS files and the TLS certificate; each part that fails keeps
  // what is in force. Empty on success, else what was refused.
  std::string reload();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cds
