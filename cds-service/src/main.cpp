// cds-service: parse the command line, build the server, run until SIGINT/SIGTERM.
#include "cds/config.hpp"
#include "cds/log.hpp"
#include "cds/http/server.hpp"

#include <iostream>

int main(int argc, char** argv) {
  auto cli = cds::parse_command_line(argc, argv);
  if (auto* err = std::get_if<std::string>(&cli)) {
    std::cerr << *err << "\n";
    return 2;
  }
  auto& parsed = std::get<cds::CommandLine>(cli);
  if (parsed.help) {
    std::cout << parsed.message;
    return 0;
  }
  const cds::Config& config = parsed.config;
  if (!config.tls_enabled)
    cds::log(cds::LogLevel::warning,
             "TLS IS OFF (--no-tls): plain HTTP is for local development only; CDS Hooks requires HTTPS");
  if (!config.auth.enabled)
    cds::log(cds::LogLevel::warning,
             "AUTHENTICATION IS OFF (auth.enabled=false): any caller is accepted; local development only");
  auto server = cds::Server::create(config);
  if (auto* err = std::get_if<std::string>(&server)) {
    cds::log(cds::LogLevel::error, "cannot start: " + *err);
    return 1;
  }
  auto& s = std::get<std::unique_ptr<cds::Server>>(server);
  cds::log(cds::LogLevel::info, "listening on " + config.listen_host + ":" + std::to_string(s->port()) + " (" +
                                    (config.tls_enabled ? "https" : "http") + "), base URL " + config.base_url());
  s->run();
  return 0;
}
