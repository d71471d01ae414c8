// describe(): the loaded rules as data a reviewer can read (served as the rules' documentation
// page, which every card's source.url points to).
#include "rules/detail/rule_set.hpp"

namespace rules {
namespace {

json::object describe_context(const detail::ContextRules& c) {
  json::object modifiers;
  for (std::size_t m = 0; m < detail::kModifierCount; ++m) {
    json::array triggers;
    for (const auto& t : c.triggers)
      if (static_cast<std::size_t>(t.modifier) == m)
        triggers.push_back(json::object{{"text", t.text},
                                        {"direction", detail::kDirectionNames[static_cast<std::size_t>(t.direction)]},
                                        {"scope", t.scope}});
    modifiers[detail::kModifierNames[m]] = json::object{{"description", c.descriptions[m]}, {"triggers", std::move(triggers)}};
  }
  json::array pseudo, terminations;
  for (const auto& p : c.pseudo_trigger_texts) pseudo.emplace_back(p);
  for (const auto& t : c.terminations) {
    json::array ends;
    for (std::size_t m = 0; m < detail::kModifierCount; ++m)
      if (t.ends & detail::modifier_bit(static_cast<detail::Modifier>(m))) ends.emplace_back(detail::kModifierNames[m]);
    terminations.push_back(json::object{{"text", t.text}, {"ends", std::move(ends)}});
  }
  json::object out{{"method", c.method}, {"modifiers", std::move(modifiers)}, {"pseudoTriggers", std::move(pseudo)},
                   {"terminations", std::move(terminations)}};
  if (c.past_dates.enabled)
    out["pastDates"] = json::object{{"modifier", detail::kModifierNames[static_cast<std::size_t>(c.past_dates.modifier)]},
                                    {"scope", c.past_dates.scope}};
  return out;
}

}  // namespace

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
  json::object context = describe_context(rs.context);
  json::array orderable;
  for (auto r : rs.orderable_roles) orderable.emplace_back(rs.vs(r).id);
  json::array reasons;
  for (const auto& r : rs.override_reasons) reasons.push_back(json::object{{"code", r.code}, {"display", r.display}});
  return json::object{{"version", rs.version},
                      {"source", rs.source_label},
                      {"valueSets", std::move(value_sets)},
                      {"plans", std::move(plans)},
                      {"evidence", std::move(evidence)},
                      {"context", std::move(context)},
                      {"orderableRoles", std::move(orderable)},
                      {"overrideReasons", std::move(reasons)}};
}

json::value describe_evidence(const RuleSet& rs) {
  auto link = [&](const std::string& key) {
    const detail::Evidence& e = *rs.find_evidence(key);
    return json::object{{"label", e.label}, {"url", e.url}};
  };
  json::array facts, reg_links, evidence;
  for (const auto& f : rs.regulatory_facts) facts.emplace_back(f);
  for (const auto& k : rs.regulatory_links) reg_links.push_back(link(k));
  for (const auto& e : rs.evidence)
    evidence.push_back(json::object{{"key", e.key}, {"label", e.label}, {"citation", e.citation}, {"url", e.url}, {"summary", e.summary}});
  json::array plans;
  for (std::size_t i = 0; i < rs.plans.size(); ++i) {
    const std::string type = std::to_string(i + 1);
    json::array components, studies;
    for (const auto& c : rs.plans[i].components) components.emplace_back(c.line);
    for (const auto& k : rs.plans[i].evidence) studies.push_back(link(k));
    plans.push_back(json::object{{"type", type},
                                 {"who", rs.text("typeLabel." + type)},
                                 {"title", rs.plans[i].title},
                                 {"components", std::move(components)},
                                 {"note", rs.plans[i].note},
                                 {"studies", std::move(studies)}});
  }
  return json::object{{"version", rs.version},
                      {"source", rs.source_label},
                      {"rulesPath", rs.rules_page_path},
                      {"regulatory", json::object{{"title", rs.regulatory_title}, {"facts", std::move(facts)}, {"links", std::move(reg_links)}}},
                      {"evidence", std::move(evidence)},
                      {"plans", std::move(plans)}};
}

}  // namespace rules
