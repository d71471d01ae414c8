#include "cds/hooks/rules_page.hpp"

#include <string>

namespace cds {
namespace json = boost::json;

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

std::string text(const json::value& v) {
  return v.is_string() ? html_escape(v.get_string()) : html_escape(json::serialize(v));
}

const char* mark(const json::value& verified) { return verified.is_bool() && !verified.get_bool() ? " <b>(unverified)</b>" : ""; }

// ConText: what makes a mention in an order's text not an order, and how to add a trigger.
std::string context_section(const json::value& c, const json::value& orderable) {
  std::string h = "<h2>What an order is for: ConText modifiers</h2>\n<p>" + text(c.at("method")) + "</p>\n";
  h += "<p>A draft order is for the product its code names, else the one named in the first clause of its text that "
       "names a product (value sets";
  for (const auto& v : orderable.as_array()) h += " <code>" + text(v) + "</code>";
  h += ") without a modifier; its notes count only when the orderable names no product. A mention with a modifier "
       "never flags the order; a historical mention of a donor-derived product is context for the plan card.</p>\n";
  for (const auto& [name, m] : c.at("modifiers").as_object()) {
    h += "<h3>" + html_escape(name) + "</h3><p>" + text(m.at("description")) +
         "</p><table><tr><th>trigger</th><th>direction</th><th>scope (words)</th></tr>";
    for (const auto& t : m.at("triggers").as_array())
      h += "<tr><td>" + text(t.at("text")) + "</td><td>" + text(t.at("direction")) + "</td><td>" + text(t.at("scope")) +
           "</td></tr>";
    h += "</table>\n";
  }
  h += "<h3>Pseudo-triggers (start no scope)</h3><p>";
  bool first = true;
  for (const auto& p : c.at("pseudoTriggers").as_array()) {
    h += std::string(first ? "" : ", ") + "\"" + text(p) + "\"";
    first = false;
  }
  h += "</p><h3>Termination terms (end a scope)</h3><p>";
  first = true;
  for (const auto& t : c.at("terminations").as_array()) {
    h += std::string(first ? "" : ", ") + "\"" + text(t.at("text")) + "\"";
    if (t.at("ends").as_array().size() < c.at("modifiers").as_object().size()) {
      h += " (ends";
      for (const auto& e : t.at("ends").as_array()) h += " " + text(e);
      h += ")";
    }
    first = false;
  }
  h += "</p>";
  if (const auto* d = c.as_object().if_contains("pastDates"))
    h += "<p>A date before today in a clause makes the mentions within " + text(d->at("scope")) + " words of it " +
         text(d->at("modifier")) + ".</p>";
  h += "<p>To add a trigger term, add <code>{\"text\": \"...\", \"direction\": \"forward\", \"scope\": 5}</code> to "
       "<code>context.modifiers.&lt;modifier&gt;.triggers</code> in <code>rules/data/knee-oa.json</code> and send "
       "<code>SIGHUP</code>: no rebuild.</p>\n";
  return h;
}

}  // namespace

std::string render_rules_page(const json::value& d) {
  const json::object& o = d.as_object();
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>Knee OA rules</title>"
      "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
      "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .5em;text-align:left}</style>"
      "</head><body>\n<h1>Knee osteoarthritis regenerative-injection rules</h1>\n";
  h += "<p>" + text(o.at("source")) + "</p><p>Rules version <code>" + text(o.at("version")) + "</code>. Entries marked "
       "<b>(unverified)</b> have not yet been checked against the current release of their code system.</p>\n";
  h += "<h2>Whole-joint plans by patient type</h2>\n";
  for (const auto& [type, plan] : o.at("plans").as_object()) {
    h += "<h3>Type " + html_escape(type) + ": " + text(plan.at("title")) + "</h3><ul>";
    for (const auto& c : plan.at("components").as_array())
      h += "<li>" + text(c.at("text")) + " (" + text(c.at("route")) + "): " + text(c.at("sessions")) +
           " sessions, every " + text(c.at("everyWeeks")) + " weeks</li>";
    h += "</ul>\n";
  }
  h += "<h2>Evidence</h2><ul>";
  for (const auto& e : o.at("evidence").as_array())
    h += "<li><a href=\"" + text(e.at("url")) + "\">" + text(e.at("label")) + "</a>" + mark(e.at("verified")) + ": " +
         text(e.at("summary")) + "</li>";
  h += "</ul>\n";
  h += context_section(o.at("context"), o.at("orderableRoles"));
  h += "<h2>Override reasons</h2><ul>";
  for (const auto& r : o.at("overrideReasons").as_array())
    h += "<li><code>" + text(r.at("code")) + "</code>: " + text(r.at("display")) + "</li>";
  h += "</ul>\n<h2>Value sets</h2>\n";
  for (const auto& v : o.at("valueSets").as_array()) {
    h += "<h3>" + text(v.at("title")) + " <small>(" + text(v.at("id")) + ")</small></h3>";
    if (!v.at("codes").as_array().empty()) {
      h += "<table><tr><th>system</th><th>code</th><th>match</th></tr>";
      for (const auto& c : v.at("codes").as_array())
        h += "<tr><td>" + text(c.at("system")) + "</td><td>" + text(c.at("code")) + mark(c.at("verified")) + "</td><td>" +
             text(c.at("match")) + "</td></tr>";
      h += "</table>";
    }
    if (!v.at("terms").as_array().empty()) {
      h += "<p>Text patterns: ";
      bool first = true;
      for (const auto& t : v.at("terms").as_array()) {
        h += std::string(first ? "" : ", ") + "\"" + text(t.at("text")) + "\"" + mark(t.at("verified"));
        first = false;
      }
      h += "</p>";
    }
    h += "\n";
  }
  h += "<p>The service advises; the clinician decides.</p></body></html>\n";
  return h;
}

}  // namespace cds
