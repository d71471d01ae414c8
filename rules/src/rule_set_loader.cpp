// load_rule_set(): parses and checks knee-oa.json and valuesets/*.json, precompiles terms and
// code tables, and hashes everything into the rules version. All-or-nothing: the first problem
// is returned as a LoadError naming the file and the field, and no RuleSet is built.
#include "json_checks.hpp"
#include "rules/detail/rule_set.hpp"
#include "rules/detail/text_template.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <map>
#include <set>

namespace rules {
namespace {

using namespace rules::detail;

constexpr std::string_view kMainFile = "knee-oa.json";
constexpr std::string_view kValueSetDir = "valuesets/";
constexpr std::string_view kRuleIds[] = {"donor-derived-product", "single-shot-cell-injection", "whole-joint-plan"};

// A failure inside one file; carries the file name out of the per-file parsers.
struct FileFailure {
  std::string file;
  std::string message;
};

std::string sha256_version(const std::vector<const RuleFile*>& sorted) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    throw FileFailure{"", "OpenSSL SHA-256 unavailable"};
  }
  // Name and length prefix each file, so moving bytes between files changes the hash.
  for (const RuleFile* f : sorted) {
    const std::string header = f->name + '\n' + std::to_string(f->content.size()) + '\n';
    EVP_DigestUpdate(ctx, header.data(), header.size());
    EVP_DigestUpdate(ctx, f->content.data(), f->content.size());
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(hex[md[i] >> 4]);
    out.push_back(hex[md[i] & 0xF]);
  }
  return out;
}

json::value parse_json(const RuleFile& f) {
  boost::system::error_code ec;
  json::value v = json::parse(f.content, ec);
  if (ec) throw FileFailure{f.name, "invalid JSON: " + ec.message()};
  if (!v.is_object()) throw FileFailure{f.name, "expected a JSON object at the top level"};
  return v;
}

std::vector<std::string> string_list(const json::array& a, std::string_view path) {
  std::vector<std::string> out;
  out.reserve(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) out.push_back(element_string(a[i], index_path(path, i)));
  return out;
}

WordPattern pattern_or_fail(std::string_view text, std::string_view path) {
  std::string error;
  auto p = compile_pattern(text, error);
  if (!p) fail(path, error);
  return std::move(*p);
}

// ---- value sets -----------------------------------------------------------------------------

using AliasMap = std::map<std::string, std::string, std::less<>>;

std::string_view canonical_system(const AliasMap& aliases, std::string_view s) {
  auto it = aliases.find(s);
  return it == aliases.end() ? s : std::string_view(it->second);
}

void check_system_url(std::string_view s, std::string_view path) {
  if (s.find(':') == std::string_view::npos || s.back() == '/' || s.find(' ') != std::string_view::npos)
    fail(path, "expected an absolute code-system URI without a trailing '/'");
}

ValueSet parse_value_set(const json::value& doc, std::string_view expected_id, const AliasMap& aliases,
                         SystemTable& systems) {
  Checked root = Checked::of(doc, "");
  root.only_keys({"id", "title", "version", "source", "note", "codes", "terms"});
  ValueSet vs;
  vs.id = root.string("id");
  if (vs.id != expected_id) fail("id", "\"" + vs.id + "\" does not match the file name (expected \"" + std::string(expected_id) + "\")");
  vs.title = root.string("title");
  root.string("version");
  root.string("source");
  root.opt_string("note");

  const json::array& codes = root.array("codes");
  for (std::size_t i = 0; i < codes.size(); ++i) {
    Checked c = Checked::of(codes[i], index_path("codes", i));
    c.only_keys({"system", "code", "display", "match", "verified", "note"});
    const std::string system = c.string("system");
    check_system_url(system, c.path_of("system"));
    CodeEntry e;
    e.system = systems.add_canonical(canonical_system(aliases, system));
    e.code = c.string("code");
    c.string("display");
    const std::string match = c.string("match");
    if (match != "exact" && match != "prefix") fail(c.path_of("match"), "expected \"exact\" or \"prefix\", got \"" + match + "\"");
    e.prefix = match == "prefix";
    e.verified = c.boolean("verified");
    c.opt_string("note");
    vs.codes.add(std::move(e));
  }
  vs.codes.freeze();

  const json::array& terms = root.array("terms");
  for (std::size_t i = 0; i < terms.size(); ++i) {
    const std::string path = index_path("terms", i);
    if (terms[i].is_string()) fail(path, "expected an object {\"text\": ...}, not a bare string");
    Checked t = Checked::of(terms[i], path);
    t.only_keys({"text", "requires_any", "verified", "note"});
    Term term;
    term.text = t.string("text");
    term.pattern = pattern_or_fail(term.text, t.path_of("text"));
    if (auto req = t.opt_array("requires_any")) {
      if (req->get().empty()) fail(t.path_of("requires_any"), "must not be empty (omit it instead)");
      for (std::size_t k = 0; k < req->get().size(); ++k) {
        const std::string rpath = index_path(t.path_of("requires_any"), k);
        term.requires_any.push_back(pattern_or_fail(element_string(req->get()[k], rpath), rpath));
      }
    }
    term.verified = t.opt_boolean("verified").value_or(true);
    t.opt_string("note");
    vs.terms.push_back(std::move(term));
  }
  if (vs.codes.empty() && vs.terms.empty()) fail("", "a value set needs at least one code or term");
  return vs;
}

// ---- knee-oa.json ---------------------------------------------------------------------------

Role role_or_fail(std::string_view name, std::string_view path) {
  for (std::size_t i = 0; i < kRoleCount; ++i)
    if (kRoleNames[i] == name) return static_cast<Role>(i);
  fail(path, "unknown value-set role \"" + std::string(name) + "\"");
}

std::vector<Role> role_list(const json::array& a, std::string_view path) {
  std::vector<Role> out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string p = index_path(path, i);
    out.push_back(role_or_fail(element_string(a[i], p), p));
  }
  return out;
}

WordPattern trigger_or_fail(std::string_view text, std::string_view path) {
  std::string error;
  auto p = compile_pattern(text, error, /*loose=*/true);
  if (!p) fail(path, error);
  return std::move(*p);
}

Modifier modifier_or_fail(std::string_view name, std::string_view path) {
  for (std::size_t i = 0; i < kModifierCount; ++i)
    if (kModifierNames[i] == name) return static_cast<Modifier>(i);
  fail(path, "unknown modifier \"" + std::string(name) + "\" (expected negated, historical, hypothetical or experiencer)");
}

// The ConText section: per modifier, trigger terms with a direction and a scope in words;
// pseudo-triggers; termination terms; past dates.
void read_context(const Checked& c, RuleSet& rs) {
  c.only_keys({"method", "note", "defaultScope", "modifiers", "pseudoTriggers", "terminations", "pastDates"});
  ContextRules ctx;
  ctx.method = c.string("method");
  c.opt_string("note");
  const auto default_scope = static_cast<std::size_t>(c.integer("defaultScope", 1, 30));
  Checked mods = c.object("modifiers");
  for (const auto& kv : mods.raw()) modifier_or_fail(kv.key(), mods.path_of(kv.key()));
  for (std::size_t m = 0; m < kModifierCount; ++m) {
    Checked mod = mods.object(kModifierNames[m]);
    mod.only_keys({"description", "triggers"});
    ctx.descriptions[m] = mod.string("description");
    const json::array& triggers = mod.array("triggers");
    if (triggers.empty()) fail(mod.path_of("triggers"), "must not be empty");
    for (std::size_t i = 0; i < triggers.size(); ++i) {
      Checked t = Checked::of(triggers[i], index_path(mod.path_of("triggers"), i));
      t.only_keys({"text", "direction", "scope", "note"});
      ContextTrigger trig;
      trig.text = t.string("text");
      trig.pattern = trigger_or_fail(trig.text, t.path_of("text"));
      trig.modifier = static_cast<Modifier>(m);
      if (auto dir = t.opt_string("direction")) {
        auto it = std::find(kDirectionNames.begin(), kDirectionNames.end(), *dir);
        if (it == kDirectionNames.end()) fail(t.path_of("direction"), "expected forward, backward or bidirectional");
        trig.direction = static_cast<Direction>(it - kDirectionNames.begin());
      }
      trig.scope = t.has("scope") ? static_cast<std::size_t>(t.integer("scope", 1, 30)) : default_scope;
      t.opt_string("note");
      ctx.triggers.push_back(std::move(trig));
    }
  }
  for (const std::string& p : string_list(c.array("pseudoTriggers"), c.path_of("pseudoTriggers"))) {
    ctx.pseudo_triggers.push_back(trigger_or_fail(p, c.path_of("pseudoTriggers")));
    ctx.pseudo_trigger_texts.push_back(p);
  }
  const json::array& terms = c.array("terminations");
  for (std::size_t i = 0; i < terms.size(); ++i) {
    Checked t = Checked::of(terms[i], index_path(c.path_of("terminations"), i));
    t.only_keys({"text", "ends"});
    ContextTermination term;
    term.text = t.string("text");
    term.pattern = trigger_or_fail(term.text, t.path_of("text"));
    if (auto ends = t.opt_array("ends")) {
      term.ends = 0;
      for (std::size_t k = 0; k < ends->get().size(); ++k) {
        const std::string path = index_path(t.path_of("ends"), k);
        term.ends |= modifier_bit(modifier_or_fail(element_string(ends->get()[k], path), path));
      }
    }
    ctx.terminations.push_back(std::move(term));
  }
  if (c.has("pastDates")) {
    Checked pd = c.object("pastDates");
    pd.only_keys({"modifier", "scope"});
    ctx.past_dates.enabled = true;
    ctx.past_dates.modifier = modifier_or_fail(pd.string("modifier"), pd.path_of("modifier"));
    ctx.past_dates.scope = static_cast<std::size_t>(pd.integer("scope", 1, 30));
  }
  ctx.freeze();
  rs.context = std::move(ctx);
}

void read_statuses(const Checked& s, Statuses& out) {
  s.only_keys({"historyProcedure", "historyMedicationRequest", "planCarePlan", "planServiceRequest", "planProcedure",
               "replacementServiceRequest", "priorCellProcedure"});
  auto list = [&](std::string_view key) { return string_list(s.array(key), s.path_of(key)); };
  out.history_procedure = list("historyProcedure");
  out.history_medication_request = list("historyMedicationRequest");
  out.plan_care_plan = list("planCarePlan");
  out.plan_service_request = list("planServiceRequest");
  out.plan_procedure = list("planProcedure");
  out.replacement_service_request = list("replacementServiceRequest");
  out.prior_cell_procedure = list("priorCellProcedure");
}

void read_thresholds(const Checked& t, Thresholds& out) {
  t.only_keys({"type1", "type2", "type3", "singleShot", "existingPlan", "persistingPain"});
  Checked t1 = t.object("type1");
  t1.only_keys({"ageBelowYears", "injuryWithinMonths"});
  out.type1_age_below_years = t1.integer("ageBelowYears", 1, 130);
  out.type1_injury_within_months = t1.number("injuryWithinMonths", 0, 240);

  Checked t2 = t.object("type2");
  t2.only_keys({"injuryOlderThanMonths", "oaAtLeastYears", "conservativeKindsAtLeast", "conservativeKinds"});
  out.type2_injury_older_than_months = t2.number("injuryOlderThanMonths", 0, 600);
  out.type2_oa_at_least_years = t2.number("oaAtLeastYears", 0, 100);
  out.type2_conservative_kinds = role_list(t2.array("conservativeKinds"), t2.path_of("conservativeKinds"));
  out.type2_conservative_kinds_at_least =
      t2.integer("conservativeKindsAtLeast", 1, static_cast<int>(std::max<std::size_t>(1, out.type2_conservative_kinds.size())));

  Checked t3 = t.object("type3");
  t3.only_keys({"klGradeAtLeast", "oaAtLeastYears", "priorInjectionKindsAtLeast", "priorInjectionKinds"});
  out.type3_kl_grade_at_least = t3.integer("klGradeAtLeast", 0, kKlGradeMax);
  out.type3_oa_at_least_years = t3.number("oaAtLeastYears", 0, 100);
  out.type3_prior_injection_kinds = role_list(t3.array("priorInjectionKinds"), t3.path_of("priorInjectionKinds"));
  out.type3_prior_injection_kinds_at_least = t3.integer(
      "priorInjectionKindsAtLeast", 1, static_cast<int>(std::max<std::size_t>(1, out.type3_prior_injection_kinds.size())));

  Checked ss = t.object("singleShot");
  ss.only_keys({"seriesRepeatCountAtLeast", "quantityAtMost"});
  out.single_shot_series_repeat_count_at_least = ss.integer("seriesRepeatCountAtLeast", 2, 100);
  out.single_shot_quantity_at_most = ss.number("quantityAtMost", 0, 100);

  Checked ep = t.object("existingPlan");
  ep.only_keys({"seriesRepeatCountAtLeast", "procedureWithinMonths"});
  out.plan_series_repeat_count_at_least = ep.integer("seriesRepeatCountAtLeast", 2, 100);
  out.plan_procedure_within_months = ep.number("procedureWithinMonths", 0, 120);

  Checked pp = t.object("persistingPain");
  pp.only_keys({"nrsAtLeast", "monthsAfterAtLeast", "relativeDropBelow"});
  out.pain_nrs_at_least = pp.number("nrsAtLeast", 0, kPainNrsMax);
  out.pain_months_after_at_least = pp.number("monthsAfterAtLeast", 0, 60);
  out.pain_relative_drop_below = pp.number("relativeDropBelow", 0, 1);
}

json::object coding_object(const Checked& c) {
  c.only_keys({"system", "code", "display"});
  const std::string system = c.string("system");
  check_system_url(system, c.path_of("system"));
  return json::object{{"system", system}, {"code", c.string("code")}, {"display", c.string("display")}};
}

void read_products(const Checked& p, RuleSet& rs) {
  for (const auto& kv : p.raw()) {
    Checked c = Checked::of(kv.value(), p.path_of(kv.key()));
    c.only_keys({"text", "coding", "note"});
    Product prod;
    prod.text = c.string("text");
    if (c.has("coding")) prod.coding = coding_object(c.object("coding"));
    c.opt_string("note");
    rs.products.emplace(std::string(kv.key()), std::move(prod));
  }
}

void read_evidence(const Checked& e, RuleSet& rs) {
  for (const auto& kv : e.raw()) {
    Checked c = Checked::of(kv.value(), e.path_of(kv.key()));
    c.only_keys({"label", "citation", "doi", "url", "verified", "note", "summary"});
    Evidence ev;
    ev.key = std::string(kv.key());
    ev.label = c.string("label");
    ev.citation = c.string("citation");
    if (c.has("doi") == c.has("url")) fail(c.path(), "needs exactly one of \"doi\" and \"url\"");
    if (c.has("doi")) {
      const std::string doi = c.string("doi");
      if (!doi.starts_with("10.") || doi.find(' ') != std::string::npos) fail(c.path_of("doi"), "expected a DOI such as 10.1234/abc");
      ev.url = "https://doi.org/" + doi;
    } else {
      ev.url = c.string("url");
      if (!ev.url.starts_with("https://")) fail(c.path_of("url"), "expected an absolute https:// URL");
    }
    ev.verified = c.boolean("verified");
    c.opt_string("note");
    ev.summary = c.string("summary");
    rs.evidence.push_back(std::move(ev));
  }
}

std::vector<std::string> evidence_keys(const json::array& a, std::string_view path, const RuleSet& rs) {
  std::vector<std::string> keys = string_list(a, path);
  for (std::size_t i = 0; i < keys.size(); ++i)
    if (rs.find_evidence(keys[i]) == nullptr) fail(index_path(path, i), "unknown evidence key \"" + keys[i] + "\"");
  return keys;
}

void read_plans(const Checked& p, RuleSet& rs) {
  p.only_keys({"1", "2", "3"});
  static constexpr std::string_view kTypes[] = {"1", "2", "3"};
  for (std::size_t t = 0; t < 3; ++t) {
    Checked c = p.object(kTypes[t]);
    c.only_keys({"title", "components", "note", "evidence"});
    Plan& plan = rs.plans[t];
    plan.title = c.string("title");
    plan.note = c.string("note");
    plan.evidence = evidence_keys(c.array("evidence"), c.path_of("evidence"), rs);
    const json::array& comps = c.array("components");
    if (comps.empty()) fail(c.path_of("components"), "a plan needs at least one component");
    for (std::size_t i = 0; i < comps.size(); ++i) {
      Checked k = Checked::of(comps[i], index_path(c.path_of("components"), i));
      k.only_keys({"route", "product", "sessions", "everyWeeks", "text", "note", "omitWhenKeepingCellOrder"});
      PlanComponent pc;
      pc.route = k.string("route");
      if (pc.route != "intra-articular" && pc.route != "periarticular")
        fail(k.path_of("route"), "expected \"intra-articular\" or \"periarticular\"");
      pc.product = k.string("product");
      if (!rs.products.contains(pc.product)) fail(k.path_of("product"), "unknown product \"" + pc.product + "\"");
      pc.sessions = k.integer("sessions", 1, 52);
      pc.every_weeks = k.integer("everyWeeks", 1, 52);
      pc.text = k.string("text");
      pc.note = k.string("note");
      pc.omit_when_keeping_cell_order = k.opt_boolean("omitWhenKeepingCellOrder").value_or(false);
      plan.components.push_back(std::move(pc));
    }
  }
}

void read_override_reasons(const json::array& a, std::string_view path, RuleSet& rs) {
  if (a.empty()) fail(path, "must not be empty");
  for (std::size_t i = 0; i < a.size(); ++i) {
    Checked c = Checked::of(a[i], index_path(path, i));
    c.only_keys({"code", "display", "onlyFor"});
    OverrideReason r{c.string("code"), c.string("display"), {}};
    if (auto only = c.opt_array("onlyFor")) {
      r.only_for = string_list(*only, c.path_of("onlyFor"));
      for (const std::string& id : r.only_for)
        if (std::find(std::begin(kRuleIds), std::end(kRuleIds), id) == std::end(kRuleIds))
          fail(c.path_of("onlyFor"), "unknown rule id \"" + id + "\"");
    }
    rs.override_reasons.push_back(std::move(r));
  }
}

std::string relative_path(const Checked& c, std::string_view key) {
  std::string p = c.string(key);
  if (!p.starts_with('/') || p.find("//") != std::string::npos) fail(c.path_of(key), "expected a path starting with '/'");
  return p;
}

void read_regulatory(const Checked& r, RuleSet& rs) {
  r.only_keys({"title", "facts", "links"});
  rs.regulatory_title = r.string("title");
  rs.regulatory_facts = string_list(r.array("facts"), r.path_of("facts"));
  if (rs.regulatory_facts.empty()) fail(r.path_of("facts"), "must not be empty");
  rs.regulatory_links = evidence_keys(r.array("links"), r.path_of("links"), rs);
}

void read_cards(const Checked& c, RuleSet& rs) {
  c.only_keys({"source", "rulesPagePath", "evidencePageLabel", "topicSystemPath", "overrideReasonSystemPath",
               "donor-derived-product", "single-shot-cell-injection", "whole-joint-plan"});
  rs.rules_page_path = relative_path(c, "rulesPagePath");
  rs.evidence_page_label = c.string("evidencePageLabel");
  Checked src = c.object("source");
  src.only_keys({"label", "path"});
  rs.source_label = src.string("label");
  rs.source_path = relative_path(src, "path");
  rs.topic_system_path = relative_path(c, "topicSystemPath");
  rs.override_reason_system_path = relative_path(c, "overrideReasonSystemPath");
  for (std::string_view id : kRuleIds) {
    Checked k = c.object(id);
    k.only_keys({"indicator", "topic", "links"});
    CardStyle style;
    style.indicator = k.string("indicator");
    if (style.indicator != "info" && style.indicator != "warning" && style.indicator != "critical")
      fail(k.path_of("indicator"), "expected info, warning or critical");
    Checked topic = k.object("topic");
    topic.only_keys({"code", "display"});
    style.topic_code = topic.string("code");
    style.topic_display = topic.string("display");
    style.links = evidence_keys(k.array("links"), k.path_of("links"), rs);
    rs.card_styles.emplace(std::string(id), std::move(style));
  }
}

void flatten_texts(const json::object& o, const std::string& prefix, TextMap& out) {
  for (const auto& kv : o) {
    const std::string key = prefix.empty() ? std::string(kv.key()) : prefix + "." + std::string(kv.key());
    if (const auto* child = kv.value().if_object()) flatten_texts(*child, key, out);
    else out.emplace(key, element_string(kv.value(), join_path("text", key)));
  }
}

void read_texts(const Checked& t, RuleSet& rs) {
  flatten_texts(t.raw(), "", rs.texts);
  for (const auto& [key, text] : rs.texts) rs.json_texts.emplace(key, JsonTemplate(text));
  std::set<std::string_view> known;
  for (const TextKey& k : required_text_keys()) {
    known.insert(k.key);
    auto it = rs.texts.find(k.key);
    if (it == rs.texts.end()) fail(join_path("text", k.key), "missing");
    std::vector<std::string_view> names;
    if (!placeholder_names(it->second, names)) fail(join_path("text", k.key), "unclosed {{ in template");
    for (std::string_view n : names) {
      bool allowed = false;
      std::string_view list = k.placeholders;
      while (!list.empty() && !allowed) {
        const std::size_t comma = list.find(',');
        allowed = list.substr(0, comma) == n;
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
      }
      if (!allowed) fail(join_path("text", k.key), "unknown placeholder {{" + std::string(n) + "}}");
    }
  }
  // Kind names are needed for every kind a threshold counts; other kinds may be named too.
  std::vector<std::string_view> keys;  // in order, so the first bad key reported does not depend on hashing
  for (const auto& kv : rs.texts) keys.push_back(kv.first);
  std::sort(keys.begin(), keys.end());
  for (std::string_view key : keys) {
    if (known.contains(key)) continue;
    if (key.starts_with("kind.")) {
      role_or_fail(key.substr(5), join_path("text", key));
      continue;
    }
    fail(join_path("text", key), "unknown text key (the engine never uses it)");
  }
  auto need_kind = [&](const std::vector<Role>& kinds, std::string_view path) {
    for (Role r : kinds) {
      const std::string key = "kind." + std::string(kRoleNames[static_cast<std::size_t>(r)]);
      if (!rs.texts.contains(key)) fail(join_path("text", key), "missing (named in " + std::string(path) + ")");
    }
  };
  need_kind(rs.thresholds.type2_conservative_kinds, "thresholds.type2.conservativeKinds");
  need_kind(rs.thresholds.type3_prior_injection_kinds, "thresholds.type3.priorInjectionKinds");
}

AliasMap read_aliases(const Checked& root) {
  AliasMap aliases;
  Checked a = root.object("codeSystemAliases");
  for (const auto& kv : a.raw()) {
    const std::string path = a.path_of(kv.key());
    check_system_url(kv.key(), path);
    const std::string target = element_string(kv.value(), path);
    check_system_url(target, path);
    aliases.emplace(std::string(kv.key()), target);
  }
  // An alias of an alias would silently depend on map order: refuse it.
  for (const auto& kv : aliases)
    if (aliases.contains(kv.second)) fail(a.path_of(kv.first), "the target is itself an alias");
  return aliases;
}

std::shared_ptr<const RuleSet> build(std::span<const RuleFile> files) {
  std::vector<const RuleFile*> sorted;
  for (const RuleFile& f : files) sorted.push_back(&f);
  std::sort(sorted.begin(), sorted.end(), [](const RuleFile* a, const RuleFile* b) { return a->name < b->name; });

  const RuleFile* main = nullptr;
  std::vector<const RuleFile*> vs_files;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const RuleFile* f = sorted[i];
    if (i > 0 && sorted[i - 1]->name == f->name) throw FileFailure{f->name, "file given twice"};
    if (f->name == kMainFile) {
      main = f;
    } else if (f->name.starts_with(kValueSetDir) && f->name.ends_with(".json") &&
               f->name.size() > kValueSetDir.size() + 5 && f->name.find('/', kValueSetDir.size()) == std::string::npos) {
      vs_files.push_back(f);
    } else {
      throw FileFailure{f->name, "unexpected rule file: expected knee-oa.json or valuesets/<id>.json"};
    }
  }
  if (main == nullptr) throw FileFailure{std::string(kMainFile), "missing"};

  auto rs = std::make_shared<RuleSet>();
  rs->version = sha256_version(sorted);
  rs->sha1 = detail::fetch_sha1();
  if (!rs->sha1) throw FileFailure{"", "OpenSSL SHA-1 unavailable"};

  const json::value main_doc = parse_json(*main);
  AliasMap aliases;
  try {
    aliases = read_aliases(Checked::of(main_doc, ""));
    for (const auto& kv : aliases) rs->systems.add_alias(kv.first, kv.second);
  } catch (CheckFailure& e) {
    throw FileFailure{main->name, std::move(e.message)};
  }

  for (const RuleFile* f : vs_files) {
    const json::value doc = parse_json(*f);
    const std::string_view stem =
        std::string_view(f->name).substr(kValueSetDir.size(), f->name.size() - kValueSetDir.size() - 5);
    try {
      rs->value_sets.push_back(parse_value_set(doc, stem, aliases, rs->systems));
    } catch (CheckFailure& e) {
      throw FileFailure{f->name, std::move(e.message)};
    }
  }
  rs->systems.freeze();

  try {
    Checked root = Checked::of(main_doc, "");
    root.only_keys({"id", "title", "version", "source", "codeSystemAliases", "valueSets", "context", "orderableRoles", "statuses",
                    "thresholds", "products", "defaultBodySite", "plans", "evidence", "regulatory", "overrideReasons", "cards",
                    "text"});
    root.string("id");
    root.string("title");
    root.string("version");
    root.string("source");

    Checked roles = root.object("valueSets");
    for (const auto& kv : roles.raw()) role_or_fail(kv.key(), roles.path_of(kv.key()));
    for (std::size_t r = 0; r < kRoleCount; ++r) {
      const std::string id = roles.string(kRoleNames[r]);
      auto it = std::find_if(rs->value_sets.begin(), rs->value_sets.end(), [&](const ValueSet& v) { return v.id == id; });
      if (it == rs->value_sets.end())
        fail(roles.path_of(kRoleNames[r]), "value set \"" + id + "\" not found (expected valuesets/" + id + ".json)");
      rs->role_index[r] = static_cast<std::size_t>(it - rs->value_sets.begin());
    }

    for (std::size_t r = 0; r < kRoleCount; ++r) rs->term_index.add_list(rs->value_sets[rs->role_index[r]].terms);
    rs->term_index.freeze();
    for (std::size_t r = 0; r < kRoleCount; ++r) rs->code_index.add(r, rs->value_sets[rs->role_index[r]].codes);
    rs->code_index.freeze();

    read_context(root.object("context"), *rs);
    rs->orderable_roles = role_list(root.array("orderableRoles"), "orderableRoles");
    if (rs->orderable_roles.empty()) fail("orderableRoles", "must not be empty");
    read_statuses(root.object("statuses"), rs->statuses);
    read_thresholds(root.object("thresholds"), rs->thresholds);
    read_products(root.object("products"), *rs);
    Checked site = root.object("defaultBodySite");
    site.only_keys({"coding", "text"});
    const json::array& site_codings = site.array("coding");
    if (site_codings.empty()) fail(site.path_of("coding"), "must not be empty");
    json::array codings;
    for (std::size_t i = 0; i < site_codings.size(); ++i)
      codings.push_back(coding_object(Checked::of(site_codings[i], index_path(site.path_of("coding"), i))));
    rs->default_body_site = json::serialize(json::object{{"coding", std::move(codings)}, {"text", site.string("text")}});
    read_evidence(root.object("evidence"), *rs);
    read_regulatory(root.object("regulatory"), *rs);
    read_plans(root.object("plans"), *rs);
    read_override_reasons(root.array("overrideReasons"), "overrideReasons", *rs);
    read_cards(root.object("cards"), *rs);
    read_texts(root.object("text"), *rs);
    compile_plans(*rs);
    compile_cards(*rs);
  } catch (CheckFailure& e) {
    throw FileFailure{main->name, std::move(e.message)};
  }
  return rs;
}

}  // namespace

std::variant<std::shared_ptr<const RuleSet>, LoadError> load_rule_set(std::span<const RuleFile> files) {
  try {
    return build(files);
  } catch (FileFailure& e) {
    return LoadError{std::move(e.file), std::move(e.message)};
  } catch (const std::exception& e) {  // allocation failure and the like: still a clean refusal
    return LoadError{"", std::string("cannot load rules: ") + e.what()};
  }
}

std::string_view version_of(const RuleSet& rules) noexcept { return rules.version; }

}  // namespace rules
