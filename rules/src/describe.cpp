// describe(): the loaded rules as data a reviewer can read (served as the rules' documentation
// page, which every card's source.url points to).
#include "rules/detail/rule_set.hpp"

namespace rules {

json::value describe(const RuleSet& rs) {
  json::array value_sets;
  for (const auto& v : rs.value_sets) {
    json::array codes, terms;
    for (const auto& c : v.codes.entries())
      codes.push_back(json::object{{"system", c.system == detail::SystemTable::unknown ? std::string_view("?")
                                                                                     : rs.systems.canonical(c.system)},
                                   {"code", c.code},
                                   {"match", c.prefix ? "prefix" : "exact"},
                                   {"verified", c.verified}});
    for (const auto& t : v.terms) terms.push_back(json::object{{"text", t.text}, {"verified", t.verified}});
    value_sets.push_back(json::object{{"id", v.id}, {"title", v.title}, {"codes", std::move(codes)}, {"terms", std::move(terms)}});
  }
  json::object plans;
  for (std::size_t i = 0; i < rs.plans.size(); ++i) {
    json::array components;
    for (const auto& c : rs.plans[i].components)
      components.push_back(json::object{{"route", c.route}, {"text", c.text}, {"sessions", c.sessions}, {"everyWeeks", c.every_weeks}});
    plans[std::to_string(i + 1)] = json::object{{"title", rs.plans[i].title}, {"components", std::move(components)}};
  }
  json::array evidence;
  for (const auto& e : rs.evidence)
    evidence.push_back(json::object{{"key", e.key}, {"label", e.label}, {"url", e.url}, {"summary", e.summary}, {"verified", e.verified}});
  json::array reasons;
  for (const auto& r : rs.override_reasons) reasons.push_back(json::object{{"code", r.code}, {"display", r.display}});
  return json::object{{"version", rs.version},
                      {"source", rs.source_label},
                      {"valueSets", std::move(value_sets)},
                      {"plans", std::move(plans)},
                      {"evidence", std::move(evidence)},
                      {"overrideReasons", std::move(reasons)}};
}

}  // namespace rules
