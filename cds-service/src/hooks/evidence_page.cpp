#include "cds/hooks/evidence_page.hpp"

#include "cds/hooks/rules_page.hpp"

namespace cds {
namespace json = boost::json;

namespace {

std::string text(const json::value& v) { return html_escape(v.is_string() ? std::string_view(v.get_string()) : json::serialize(v)); }

std::string link(const json::value& l) {
  return "<a href=\"" + text(l.at("url")) + "\">" + text(l.at("label")) + "</a>";
}

// Readable on a phone: one column, body text at the device's size, long URLs wrapped.
constexpr std::string_view kHead =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>"
    "<title>Knee OA regenerative injections: evidence and regulatory facts</title>"
    "<style>body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:42em;margin:0 auto;"
    "padding:1em;line-height:1.5;color:#1a1a1a;background:#fff}h1{font-size:1.4em;line-height:1.25}"
    "h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ccc;padding-bottom:.2em}h3{font-size:1em;margin-bottom:.3em}"
    "section{background:#f5f7fa;border-radius:6px;padding:.6em .9em;margin:.8em 0}a{color:#0645ad;overflow-wrap:anywhere}"
    "ul{padding-left:1.2em}li{margin:.3em 0}.cite{font-size:.9em;color:#444}footer{margin-top:2em;font-size:.85em;color:#555}"
    "</style></head><body>\n";

}  // namespace

std::string render_evidence_page(const json::value& d) {
  const json::object& o = d.as_object();
  std::string h(kHead);
  h += "<h1>Knee osteoarthritis: regenerative injections</h1>\n<p>The evidence and regulatory facts behind the advice "
       "cards. The supporting studies are small, and the whole-joint approach is one clinic's published view: small "
       "studies suggest benefit; none proves that an injection stops joint erosion. The service advises; the clinician "
       "decides.</p>\n";

  const json::object& reg = o.at("regulatory").as_object();
  h += "<h2>Donor-derived \"stem cell\" products: " + text(reg.at("title")) + "</h2>\n<ul>";
  for (const auto& f : reg.at("facts").as_array()) h += "<li>" + text(f) + "</li>";
  h += "</ul>\n<p>";
  for (const auto& l : reg.at("links").as_array()) h += link(l) + " ";
  h += "</p>\n";

  h += "<h2>Whole-joint plans by patient type</h2>\n<p>Treat the whole joint, inside it (intra-articular) and around it "
       "(periarticular: ligament and tendon attachments), as a series of sessions, reassessing pain (0-10 NRS) and "
       "function (WOMAC or KOOS) at each. Session counts and intervals are typical values, not mandates.</p>\n";
  for (const auto& p : o.at("plans").as_array()) {
    h += "<section><h3>Type " + text(p.at("type")) + ": " + text(p.at("who")) + "</h3><p><b>" + text(p.at("title")) +
         "</b></p><ul>";
    for (const auto& c : p.at("components").as_array()) h += "<li>" + text(c) + "</li>";
    h += "</ul><p>" + text(p.at("note")) + "</p><p class=\"cite\">Key studies: ";
    bool first = true;
    for (const auto& s : p.at("studies").as_array()) {
      h += std::string(first ? "" : "; ") + link(s);
      first = false;
    }
    h += "</p></section>\n";
  }

  h += "<h2>Studies and sources</h2>\n";
  for (const auto& e : o.at("evidence").as_array())
    h += "<section><h3>" + text(e.at("label")) + "</h3><p>" + text(e.at("summary")) + "</p><p class=\"cite\">" +
         text(e.at("citation")) + " <a href=\"" + text(e.at("url")) + "\">" + text(e.at("url")) + "</a></p></section>\n";

  h += "<footer><p>" + text(o.at("source")) + ". Rules version <code>" + text(o.at("version")) +
       "</code>. For rule authors: <a href=\"" + text(o.at("rulesPath")) + "\">the rules in force</a>.</p></footer>\n";
  h += "</body></html>\n";
  return h;
}

}  // namespace cds
